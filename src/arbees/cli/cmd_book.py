"""``arbees book FILE --venue polymarket|kalshi|polymarket-us [--json]``: fold, print tops.

Reads a recording made by ``arbees record`` (or a file with one raw frame per line), runs
every frame through the venue's protocol and prints the final top of book of every
instrument as exact decimal strings. Kalshi's folding lives in ``arbees.kalshi.replay``
(``fold_recording(frames) -> list[TopRow]``), imported lazily; Polymarket US's in
``arbees.polymarket_us.replay``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

__all__ = ["register"]


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "book",
        help="fold a recorded frame file and print the final top of book per instrument",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", help="recording (.jsonl / .jsonl.gz) or one raw frame per line")
    p.add_argument(
        "--venue", choices=("polymarket", "kalshi", "polymarket-us"), default="polymarket"
    )
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(handler=_main)


def _frames(path: str, venue: str = "") -> Iterator[str]:
    from arbees.recording import read_recording

    for _, frame in read_recording(path, venue):  # a frame tagged with another venue: skipped
        yield frame


def _as_dict(row: object) -> dict[str, object]:
    if attrs.has(type(row)):
        return attrs.asdict(row)  # type: ignore[arg-type]
    if hasattr(row, "_asdict"):
        return dict(row._asdict())
    return dict(vars(row))


def _main(args: argparse.Namespace) -> int:
    try:
        if args.venue == "polymarket":
            from arbees.polymarket.replay import fold_recording

            rows: Iterable[object] = fold_recording(_frames(args.file, args.venue))
        elif args.venue == "polymarket-us":
            from arbees.polymarket_us.replay import fold_recording as fold_us

            rows = fold_us(_frames(args.file, args.venue))
        else:
            try:
                replay = importlib.import_module("arbees.kalshi.replay")
            except ModuleNotFoundError as exc:
                if exc.name not in ("arbees.kalshi.replay", "arbees.kalshi"):
                    raise
                print("kalshi replay is not available (arbees.kalshi.replay)", file=sys.stderr)
                return 2
            rows = replay.fold_recording(_frames(args.file, args.venue))
    except OSError as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    table = [_as_dict(r) for r in rows]
    if args.json:
        print(json.dumps(table, indent=1))
        return 0
    if not table:
        print("(no instruments)")
        return 0
    columns = list(table[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in table)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in table:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in columns))
    return 0
