"""``arbees bench ...``: benchmarks that report a ratio against a floor measured in the same run.

Each benchmark is a module ``arbees.bench.<name>`` exposing ``register(subparsers)``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "bench",
        help="run a benchmark (bus, kernel, parse, e2e, ...) and print figures vs a floor",
        description="Benchmarks. Each reports its figures and the ratio to a floor measured "
        "in the same run; use --json for machine-readable output.",
    )
    bench_sub = parser.add_subparsers(dest="bench", metavar="BENCH")
    bench_sub.required = True
    package = importlib.import_module("arbees.bench")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"arbees.bench.{info.name}").register(bench_sub)
