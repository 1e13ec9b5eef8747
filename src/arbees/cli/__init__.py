"""The ``arbees`` command line.

Each sub-command lives in its own module ``arbees.cli.cmd_<name>`` exposing
``register(subparsers)``; they are discovered at start-up, so adding a command never
touches this file. Run ``arbees --help`` for the list.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Callable, Sequence

from arbees.cli._run import run_trio

__all__ = ["build_parser", "main", "run_trio"]

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arbees",
        description=(
            "Real-time cross-venue arbitrage detection between Kalshi and Polymarket. "
            "Reads public market data, publishes signals and keeps a paper ledger; "
            "places no orders."
        ),
    )
    parser.add_argument("--version", action="version", version=f"arbees {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    package = importlib.import_module(__name__)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            module.register(sub)
    return parser


def _version() -> str:
    from arbees import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
