"""``arbees demo``: run the whole system in one process against simulated markets.

No network, no Redis needed: fake Kalshi and Polymarket on loopback driven by the market
simulator, a fake Gluetun, the real orchestrator, monitor and shards on the in-memory bus
(``--redis-url`` to use Redis). ``--venues kalshi,polymarket-us``: fake Kalshi and
Polymarket US, both read directly by the shards, with no fake Gluetun and no monitor
(the games assigned from the simulator's plan until matching pairs Polymarket US). Ends
after ``--duration`` seconds of market (or Ctrl-C) with a summary; ``--json`` prints only
the summary, as JSON, on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from functools import partial
from typing import Any

import trio

from arbees.demo.run import DemoOptions, print_summary, run_demo
from arbees.demo.system import DEMO_VENUES
from arbees.errors import ArbeesError
from arbees.obs.logs import setup_logging

__all__ = ["register"]

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="run the whole system in one process against simulated markets",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--duration", type=float, default=30.0, help="seconds of market (default 30)")
    p.add_argument("--seed", type=int, default=1, help="market seed (default 1)")
    p.add_argument("--games", type=int, default=12, help="games in the slate (default 12)")
    p.add_argument("--shards", type=int, default=2, help="game shards (default 2)")
    p.add_argument(
        "--redis-url", default="memory://", help="bus URL (default memory://; e.g. redis://...)"
    )
    p.add_argument(
        "--budget-ms", type=float, default=300.0, help="detection budget (default 300 ms)"
    )
    p.add_argument(
        "--paper",
        action="store_true",
        help="fill the signals on paper and settle each game by its simulated fate "
        "(one postponed, one cancelled)",
    )
    p.add_argument(
        "--record",
        default="",
        metavar="FILE",
        help="record everything the monitor and shards see (replay it: arbees replay FILE)",
    )
    p.add_argument(
        "--record-rotate-mb", type=float, default=0.0, help="rotate the recording (0: never)"
    )
    p.add_argument(
        "--venues",
        default="kalshi,polymarket",
        help="the venues the shards read: kalshi,polymarket (default: the monitor behind a "
        "fake Gluetun, the orchestrator) or kalshi,polymarket-us (both read directly by the "
        "shards: no VPN stand-in, no monitor)",
    )
    p.add_argument("--json", action="store_true", help="print only the summary, as JSON")
    p.add_argument("--log-level", default="WARNING", help="log level on stderr (default WARNING)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.duration <= 0 or args.games < 1 or args.shards < 1:
        print("arbees demo: --duration, --games and --shards must be positive", file=sys.stderr)
        return 2
    venues = tuple(v.strip().lower() for v in args.venues.split(",") if v.strip())
    if venues not in DEMO_VENUES:
        choices = " or ".join(",".join(v) for v in DEMO_VENUES)
        print(f"arbees demo: --venues must be {choices}", file=sys.stderr)
        return 2
    setup_logging(args.log_level, "human")
    options = DemoOptions(
        venues=venues,
        seed=args.seed,
        games=args.games,
        duration_s=args.duration,
        shards=args.shards,
        bus_url=args.redis_url,
        budget_ms=args.budget_ms,
        paper=args.paper,
        refresh_s=0.0 if args.json else 0.5,
        record=args.record,
        record_max_bytes=round(args.record_rotate_mb * 1_000_000),
    )
    tty = sys.stdout.isatty()
    try:
        summary, score = trio.run(
            partial(run_demo, options, out=None if args.json else sys.stdout, tty=tty)
        )
    except (ArbeesError, trio.TooSlowError) as exc:
        print(f"arbees demo failed: {exc!r}", file=sys.stderr)
        return 1
    except ExceptionGroup as group:
        known, _ = group.split((ArbeesError, trio.TooSlowError))
        if known is None:
            raise
        print(f"arbees demo failed: {known.exceptions[0]!r}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(summary))
    else:
        print_summary(summary, score)
    return 0
