"""``arbees record polymarket-us --slugs ... --out FILE``: the CLI side of recording.

Discovered by ``arbees.cli.cmd_record`` (``register_record``). The key comes from
``POLYMARKET_US_KEY_ID`` plus ``POLYMARKET_US_PRIVATE_KEY_PATH`` (a chmod-600 file): the
markets WebSocket needs a verified account's key. Reached directly: no proxy, no egress
check.
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
    from arbees.polymarket_us.feed import PROD_WS_URL

    p: argparse.ArgumentParser = venues.add_parser(
        "polymarket-us", help="record the Polymarket US markets WebSocket for some markets"
    )
    p.add_argument("--slugs", required=True, action="append", help="market slugs, comma-separated")
    p.add_argument("--out", required=True, help="output file (.jsonl or .jsonl.gz)")
    p.add_argument("--url", default=PROD_WS_URL, help="markets WebSocket URL")
    p.add_argument("--duration", type=float, default=None, help="seconds (default: until Ctrl-C)")
    p.add_argument(
        "--shape",
        choices=("full", "delta"),
        default="full",
        help="book messages: each a full book (default) or snapshot then deltas",
    )
    p.add_argument("--debounce", action="store_true", help="ask the venue for debounced updates")
    p.set_defaults(handler=_record)


def _record(args: argparse.Namespace) -> int:
    from arbees.errors import ArbeesError
    from arbees.identifiers import is_market_slug
    from arbees.polymarket_us.auth import ENV_KEY_ID, ENV_PRIVATE_KEY_PATH, PolymarketUsSigner
    from arbees.polymarket_us.replay import record

    slugs = sorted({s.strip() for group in args.slugs for s in group.split(",") if s.strip()})
    bad = [s for s in slugs if not is_market_slug(s)]
    if bad or not slugs:
        print(f"not Polymarket US market slugs: {bad[:3]}", file=sys.stderr)
        return 2
    try:
        signer = PolymarketUsSigner.from_env(os.environ)
    except ArbeesError as exc:
        print(f"bad Polymarket US credentials: {exc}", file=sys.stderr)
        return 2
    if signer is None:
        print(
            f"the Polymarket US markets WebSocket needs an API key: set {ENV_KEY_ID} and "
            f"{ENV_PRIVATE_KEY_PATH}",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    async def main() -> int:
        return await record(
            slugs,
            args.out,
            signer=signer,
            url=args.url,
            duration=args.duration,
            shape=args.shape,
            debounce=args.debounce,
        )

    try:
        n = trio.run(main)
    except ArbeesError as exc:
        print(f"record failed: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {n} frames to {args.out}")
    return 0
