"""``arbees record <venue> ...``: write a venue's raw WebSocket frames to a file.

Per-venue sub-commands: ``polymarket`` lives here; a venue package may contribute its
own by providing ``register_record(venue_subparsers)`` in ``arbees.<venue>.record``
(imported lazily, so a missing venue never breaks the CLI).

Output: JSON Lines ``{"recv_ns": ..., "frame": "<raw text>"}``, gzip when FILE ends in
``.gz``; replay it with ``arbees book FILE --venue <venue>`` or ``arbees replay``.

Record everything: ``arbees record shard --out FILE [shard options]`` and ``arbees record
monitor --out FILE [monitor options]`` run the service exactly as ``arbees shard`` /
``arbees monitor`` do and record every frame its feeds receive (venue, receive time,
service) and, for a shard, every shard assignment on the bus and every input of its engine
(each batch of quotes as it took them: its replay is exact); ``--rotate-mb`` starts a
new file (``FILE``, ``FILE.1``, ... before the suffix) after so many megabytes. Replay a
shard's recording (with its monitor's for Polymarket) with ``arbees replay``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import Any, Literal

import trio

from arbees.recording import Recorder

__all__ = ["open_recorder", "record_max_bytes", "register"]

_OTHER_VENUES = ("kalshi", "polymarket_us")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "record",
        help="record a venue's raw WebSocket frames to a file (JSON Lines, .gz ok)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    venues = parser.add_subparsers(dest="venue", metavar="VENUE")
    venues.required = True
    _register_polymarket(venues)
    _register_service(venues, "shard")
    _register_service(venues, "monitor")
    for venue in _OTHER_VENUES:
        name = f"arbees.{venue}.record"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name not in (name, f"arbees.{venue}"):
                raise
            _register_missing(venues, venue)
        else:
            module.register_record(venues)


def _register_service(venues: Any, name: str) -> None:
    module = importlib.import_module(f"arbees.cli.cmd_{name}")
    p: argparse.ArgumentParser = venues.add_parser(
        name,
        help=f"run a {name} as `arbees {name}` does and record everything it sees "
        "(for arbees replay)",
    )
    p.add_argument(
        "--out", required=True, dest="record_out", help="recording (.jsonl or .jsonl.gz)"
    )
    p.add_argument(
        "--rotate-mb",
        type=_megabytes,
        default=256.0,
        help="start a new file after this many megabytes (default 256; 0: never)",
    )
    module.add_options(p)
    p.set_defaults(handler=module.run)


def _megabytes(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also NaN
        raise argparse.ArgumentTypeError(f"not a size in megabytes: {text!r:.20}")
    return value


def record_max_bytes(args: argparse.Namespace) -> int:
    """``--rotate-mb`` in bytes (0: never rotate)."""
    return max(0, round(getattr(args, "rotate_mb", 0.0) * 1_000_000))


def open_recorder(args: argparse.Namespace, service: str) -> Recorder | Literal[False] | None:
    """The recorder of ``arbees record <service> --out FILE`` (None: not recording; False:
    FILE cannot be written, said on stderr)."""
    out = getattr(args, "record_out", None)
    if out is None:
        return None
    try:
        return Recorder(out, max_bytes=record_max_bytes(args))
    except OSError as exc:
        print(
            f"arbees record {service}: cannot write {out}: {exc.strerror or exc}", file=sys.stderr
        )
        return False


def _register_missing(venues: Any, venue: str) -> None:
    p = venues.add_parser(venue, help=f"record {venue} (not available in this build)")
    p.set_defaults(handler=lambda args: _missing(venue))


def _missing(venue: str) -> int:
    print(f"recording {venue} is not available (arbees.{venue}.record is missing)", file=sys.stderr)
    return 2


def _register_polymarket(venues: Any) -> None:
    from arbees.polymarket.feed import DEFAULT_WS_URL

    p: argparse.ArgumentParser = venues.add_parser(
        "polymarket", help="record the Polymarket market channel for some tokens"
    )
    p.add_argument(
        "--tokens",
        required=True,
        action="append",
        help="token ids, comma-separated (repeatable)",
    )
    p.add_argument("--out", required=True, help="output file (.jsonl or .jsonl.gz)")
    p.add_argument("--url", default=DEFAULT_WS_URL, help="market WebSocket URL")
    p.add_argument("--duration", type=float, default=None, help="seconds (default: until Ctrl-C)")
    p.add_argument(
        "--proxy",
        default=os.environ.get("POLYMARKET_PROXY_URL") or None,
        help="HTTP CONNECT proxy (env POLYMARKET_PROXY_URL); egress is checked over it "
        "(EGRESS_CHECK_URL; POLYMARKET_EGRESS_CHECK=off opts out, loudly)",
    )
    p.set_defaults(handler=_record_polymarket)


def _record_polymarket(args: argparse.Namespace) -> int:
    from arbees.cli._common import secret_environ
    from arbees.cli._run import secrets_from_env
    from arbees.egress import open_polymarket_route
    from arbees.egress.gate import check_route_settings
    from arbees.errors import ArbeesError
    from arbees.polymarket.protocol import is_token_id
    from arbees.polymarket.replay import record
    from arbees.polymarket.rest import USER_AGENT

    tokens = [t.strip() for group in args.tokens for t in group.split(",") if t.strip()]
    bad = [t for t in tokens if not is_token_id(t)]
    if bad or not tokens:
        print(f"not Polymarket token ids: {bad[:3]}", file=sys.stderr)
        return 2
    try:
        check_route_settings(secret_environ())
    except ArbeesError as exc:
        print(f"arbees record polymarket: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    secrets_from_env("EGRESS_CHECK_API_KEY")

    async def main() -> int:
        # the recorder's sockets open only on a fresh verified egress of this route
        async with open_polymarket_route(
            name="record-polymarket", user_agent=USER_AGENT, proxy=args.proxy, env=secret_environ()
        ) as route:
            return await record(
                tokens,
                args.out,
                url=args.url,
                duration=args.duration,
                proxy=args.proxy,
                gate=route.gate,
            )

    try:
        n = trio.run(main)
    except ArbeesError as exc:
        print(f"record failed: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {n} frames to {args.out}")
    return 0
