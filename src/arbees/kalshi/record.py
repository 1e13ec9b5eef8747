"""``arbees record kalshi --tickers ... --out FILE``: the CLI side of Kalshi recording.

Discovered by ``arbees.cli.cmd_record`` (``register_record``). The only place in the
package that reads the environment: the key comes from ``KALSHI_API_KEY`` plus
``KALSHI_PRIVATE_KEY_PATH`` (a chmod-600 PEM file) or ``KALSHI_PRIVATE_KEY`` (PEM text).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

import trio

__all__ = ["register_record"]


def register_record(venues: Any) -> None:
    from arbees.kalshi.feed import DEMO_WS_URL, PROD_WS_URL

    p: argparse.ArgumentParser = venues.add_parser(
        "kalshi", help="record the Kalshi orderbook_delta + ticker channels for some markets"
    )
    p.add_argument(
        "--tickers", required=True, action="append", help="market tickers, comma-separated"
    )
    p.add_argument("--out", required=True, help="output file (.jsonl or .jsonl.gz)")
    p.add_argument("--url", default=PROD_WS_URL, help=f"WebSocket URL (demo: {DEMO_WS_URL})")
    p.add_argument("--duration", type=float, default=None, help="seconds (default: until Ctrl-C)")
    p.set_defaults(handler=_record)


def _record(args: argparse.Namespace) -> int:
    from arbees.errors import ArbeesError
    from arbees.kalshi.auth import ENV_KEY_ID, ENV_PRIVATE_KEY_PATH, KalshiSigner
    from arbees.kalshi.replay import record

    tickers = sorted({t.strip() for group in args.tickers for t in group.split(",") if t.strip()})
    if not tickers:
        print("no tickers given", file=sys.stderr)
        return 2
    try:
        signer = KalshiSigner.from_env(os.environ)
    except ArbeesError as exc:
        print(f"bad Kalshi credentials: {exc}", file=sys.stderr)
        return 2
    if signer is None:
        print(
            f"Kalshi requires an API key: set {ENV_KEY_ID} and {ENV_PRIVATE_KEY_PATH}",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        n = trio.run(
            lambda: record(tickers, args.out, signer=signer, url=args.url, duration=args.duration)
        )
    except ArbeesError as exc:
        print(f"record failed: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {n} frames to {args.out}")
    return 0
