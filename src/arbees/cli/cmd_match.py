"""``arbees match``: run the game matcher on saved REST responses, to audit it on real data.

Feed it a Kalshi ``/events?with_nested_markets=true`` body and a Gamma ``/events`` body
saved to files; it prints the pairs it would trade and every rejection with its reason. The
bodies go through the same decoders and converters as discovery (each venue's ``models``
decoder, then :func:`arbees.matching.match_events`), so what it reports is what the
orchestrator would see, including every item a decoder refused.
Exit 0 when it ran (rejections are normal), 2 when an input cannot be read or has the
wrong shape.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from decimal import Decimal
from typing import Any

from arbees.errors import DecodeError
from arbees.kalshi.models import parse_events
from arbees.matching import DEFAULT_START_WINDOW, Venue, report_to_json, report_to_text
from arbees.matching.venues import decode_rejections, match_events
from arbees.polymarket.models import parse_gamma_events

__all__ = ["register"]


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "match",
        help="match Kalshi game events to Polymarket moneylines from saved REST bodies",
        description="Run the game matcher on a saved Kalshi /events?with_nested_markets=true "
        "body and a saved Polymarket Gamma /events body; print matches and rejections.",
    )
    parser.add_argument("--kalshi", required=True, metavar="FILE", help="Kalshi /events JSON")
    parser.add_argument(
        "--polymarket", required=True, metavar="FILE", help="Polymarket Gamma /events JSON"
    )
    parser.add_argument(
        "--start-window-minutes",
        type=float,
        default=DEFAULT_START_WINDOW.total_seconds() / 60,
        metavar="MIN",
        help="max start-time difference when both venues give one (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=_run)


class _Unreadable(Exception):
    pass


def _load(path: str, what: str) -> object:
    try:
        with open(path, encoding="utf-8") as fh:
            data: object = json.load(fh, parse_float=Decimal)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"arbees match: cannot read {what} file {path!r}: {exc}", file=sys.stderr)
        raise _Unreadable from exc
    return data


def _run(args: argparse.Namespace) -> int:
    if not args.start_window_minutes >= 0:
        print("arbees match: --start-window-minutes must be >= 0", file=sys.stderr)
        return 2
    try:
        kalshi = _load(args.kalshi, "Kalshi")
        poly = _load(args.polymarket, "Polymarket")
    except _Unreadable:
        return 2
    try:
        kalshi_events, kalshi_rejected = parse_events(kalshi)
        gamma_events, gamma_rejected = parse_gamma_events(poly)
        report = match_events(
            kalshi_events,
            gamma_events,
            rejected=(
                *decode_rejections(Venue.KALSHI, kalshi_rejected),
                *decode_rejections(Venue.POLYMARKET, gamma_rejected),
            ),
            start_window=timedelta(minutes=args.start_window_minutes),
        )
    except DecodeError as exc:
        print(f"arbees match: unexpected input shape: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report_to_json(report), indent=2))
    else:
        print(report_to_text(report))
    return 0
