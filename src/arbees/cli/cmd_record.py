"""``arbees record <venue> ...``: write a venue's raw WebSocket frames to a file.

Per-venue sub-commands: ``polymarket`` (its sockets open only on a fresh verified egress of
the route), ``kalshi`` and ``polymarket-us`` (reached directly; each needs its venue's API
key from the environment). The recording itself is the venue package's ``replay.record``;
this module is only the command line: arguments, credentials, one run-and-report tail.

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
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

import trio

from arbees.recording import Recorder

__all__ = ["open_recorder", "record_max_bytes", "register"]

S = TypeVar("S")


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
    _register_kalshi(venues)
    _register_polymarket_us(venues)
    _register_service(venues, "shard")
    _register_service(venues, "monitor")


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

    return _run_recording(main, args.out)


def _register_kalshi(venues: Any) -> None:
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
    p.set_defaults(handler=_record_kalshi)


def _record_kalshi(args: argparse.Namespace) -> int:
    """The key comes from ``KALSHI_API_KEY`` plus ``KALSHI_PRIVATE_KEY_PATH`` (a chmod-600
    PEM file) or ``KALSHI_PRIVATE_KEY`` (PEM text)."""
    from arbees.kalshi.auth import ENV_KEY_ID, ENV_PRIVATE_KEY_PATH, KalshiSigner
    from arbees.kalshi.replay import record

    tickers = _split_ids(args.tickers)
    if not tickers:
        print("no tickers given", file=sys.stderr)
        return 2
    signer = _signer(
        KalshiSigner.from_env,
        venue="Kalshi",
        missing=f"Kalshi requires an API key: set {ENV_KEY_ID} and {ENV_PRIVATE_KEY_PATH}",
    )
    if signer is None:
        return 2

    async def main() -> int:
        return await record(tickers, args.out, signer=signer, url=args.url, duration=args.duration)

    return _run_recording(main, args.out)


def _register_polymarket_us(venues: Any) -> None:
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
    p.set_defaults(handler=_record_polymarket_us)


def _record_polymarket_us(args: argparse.Namespace) -> int:
    """The key comes from ``POLYMARKET_US_KEY_ID`` plus ``POLYMARKET_US_PRIVATE_KEY_PATH`` (a
    chmod-600 file): the markets WebSocket needs a verified account's key. Reached directly:
    no proxy, no egress check."""
    from arbees.identifiers import is_market_slug
    from arbees.polymarket_us.auth import ENV_KEY_ID, ENV_PRIVATE_KEY_PATH, PolymarketUsSigner
    from arbees.polymarket_us.replay import record

    slugs = _split_ids(args.slugs)
    bad = [s for s in slugs if not is_market_slug(s)]
    if bad or not slugs:
        print(f"not Polymarket US market slugs: {bad[:3]}", file=sys.stderr)
        return 2
    signer = _signer(
        PolymarketUsSigner.from_env,
        venue="Polymarket US",
        missing="the Polymarket US markets WebSocket needs an API key: set "
        f"{ENV_KEY_ID} and {ENV_PRIVATE_KEY_PATH}",
    )
    if signer is None:
        return 2

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

    return _run_recording(main, args.out)


def _split_ids(groups: list[str]) -> list[str]:
    """Repeatable comma-separated ids, stripped, each once, sorted."""
    return sorted({item.strip() for group in groups for item in group.split(",") if item.strip()})


def _signer(from_env: Callable[[Any], S | None], *, venue: str, missing: str) -> S | None:
    """A venue's signer from the environment; None (said on stderr) when absent or bad."""
    from arbees.errors import ArbeesError

    try:
        signer = from_env(os.environ)
    except ArbeesError as exc:
        print(f"bad {venue} credentials: {exc}", file=sys.stderr)
        return None
    if signer is None:
        print(missing, file=sys.stderr)
    return signer


def _run_recording(main: Callable[[], Awaitable[int]], out: str) -> int:
    """Run a recording to its end and report it: 0 with the frame count, 1 on a failure."""
    from arbees.errors import ArbeesError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        n = trio.run(main)
    except ArbeesError as exc:
        print(f"record failed: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {n} frames to {out}")
    return 0
