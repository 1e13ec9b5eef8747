"""The whole of arbees in one process: orchestrator, monitor, shard and a bot, one nursery.

What a solo user runs on a laptop: no Redis, no containers — the services talk over the
in-memory bus, and the paper-trading bot of ``custom_bot.py`` prints what it takes.

    python examples/single_process.py --demo --duration 20     # offline, local fake venues
    python examples/single_process.py --duration 600           # the real venues

``--demo`` starts local stand-ins for Kalshi, Polymarket and the VPN's control server
(``demo_venues.py``) with one NBA game, and moves the Polymarket price so an opportunity
opens and closes every few seconds. Without it the real venues are used: Kalshi needs an
API key (``KALSHI_API_KEY`` and ``KALSHI_PRIVATE_KEY_PATH``), and the monitor checks where
its traffic leaves (``--egress-url``, ipinfo-style) and refuses Polymarket from a forbidden
country (``--forbidden-countries``, default US) — that is an alert, not a crash.

Output::

    stack ready: orchestrator, monitor, shard local, bot (demo venues)
    demo: Polymarket's Spurs ask drops to 0.50
    BUY   KXNBAGAME-26NOV26OKCSAS NBA:OKC KalshiYes+PolyNo size 100 cost $93.1 ...
    demo: prices back to normal
    CLOSE KXNBAGAME-26NOV26OKCSAS NBA:OKC KalshiYes+PolyNo (opportunity gone; ...)
    summary: 2 signals seen, 0 skipped by the filter, 1 positions, cost $93.1, P&L $+6.9
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from functools import partial

import trio
from custom_bot import PaperBook, Printer, filter_from_args, run_bot
from demo_venues import EGRESS_API_KEY, DemoVenues, open_demo_venues

import arbees
from arbees.api import CLOB_URL, GAMMA_URL, KALSHI_REST_URL, KALSHI_WS_URL, POLYMARKET_WS_URL
from arbees.wsdriver import Backoff

__all__ = ["build_parser", "main", "play_demo", "run_stack"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Run orchestrator, Polymarket monitor, one shard and a paper-trading bot "
        "in one process over the in-memory bus (places no orders)."
    )
    parser.add_argument("--demo", action="store_true", help="use local fake venues (works offline)")
    parser.add_argument(
        "--duration", type=float, default=0.0, help="stop after this many seconds (0: Ctrl-C)"
    )
    parser.add_argument("--min-profit", default="0", help="bot filter: minimum profit ($)")
    parser.add_argument("--sports", default="", help="bot filter: leagues, e.g. NBA,NHL")
    parser.add_argument("--shard-id", default="local", help="the shard's id (default local)")
    parser.add_argument(
        "--series",
        default="KXNBAGAME,KXNHLGAME",
        help="Kalshi game series to watch (default KXNBAGAME,KXNHLGAME)",
    )
    parser.add_argument(
        "--egress-url",
        default=os.environ.get("EGRESS_CHECK_URL", "https://ipinfo.io/json"),
        help="where the monitor checks its exit country (env EGRESS_CHECK_URL)",
    )
    parser.add_argument(
        "--forbidden-countries",
        default=os.environ.get("EGRESS_FORBIDDEN_COUNTRIES", "US"),
        help="exit countries that pause Polymarket (env EGRESS_FORBIDDEN_COUNTRIES)",
    )
    return parser


async def play_demo(venues: DemoVenues, shard: arbees.GameShard, out: Printer) -> None:
    """Open and close an opportunity on the demo venues, forever, once the shard has the game."""
    while venues.event_ticker not in shard.engine.games:  # noqa: ASYNC110 (no event to wait on)
        await trio.sleep(0.05)
    await trio.sleep(1.0)  # let both venues' books reach the shard
    while True:
        out("demo: Polymarket's Spurs ask drops to 0.50")
        venues.open_arb()
        await trio.sleep(2.0)
        out("demo: prices back to normal")
        venues.quiet()
        await trio.sleep(2.0)


async def print_alerts(bus: arbees.Bus, out: Printer) -> None:
    async for alert in arbees.alerts(bus, min_severity="warning"):
        out(f"ALERT {alert.severity} {alert.type}: {alert.error}")


async def run_stack(
    args: argparse.Namespace, book: PaperBook, out: Printer, venues: DemoVenues | None
) -> None:
    """Every service and the bot over one memory bus, until cancelled."""
    series = [s.strip() for s in args.series.split(",") if s.strip()]
    fast = Backoff(base=0.1, cap=2.0)
    if venues is not None:
        signer = None
        kalshi_ws, kalshi_rest = venues.kalshi_ws_url, venues.kalshi_rest_url
        poly_ws, clob, gamma, egress, egress_key = (
            venues.polymarket_ws_url,
            venues.clob_url,
            venues.gamma_url,
            venues.egress_url,
            EGRESS_API_KEY,
        )
    else:
        signer = arbees.KalshiSigner.from_env(os.environ)
        if signer is None:
            out("warning: no KALSHI_API_KEY set; the real Kalshi feed refuses unsigned clients")
        kalshi_ws, kalshi_rest = KALSHI_WS_URL, KALSHI_REST_URL
        poly_ws, clob, gamma = POLYMARKET_WS_URL, CLOB_URL, GAMMA_URL
        egress, egress_key = args.egress_url, None
    config = arbees.OrchestratorConfig(settle_delay=0.5, republish_interval=2.0)
    async with arbees.open_bus("memory://") as bus, trio.open_nursery() as nursery:
        await nursery.start(partial(run_bot, bus, book, out=out))
        nursery.start_soon(print_alerts, bus, out)
        await nursery.start(
            partial(
                arbees.run_monitor,
                bus,
                egress_url=egress,
                egress_api_key=egress_key,
                forbidden_countries=args.forbidden_countries,
                ws_url=poly_ws,
                clob_url=clob,
                reconnect=fast,
            )
        )
        shard = await nursery.start(
            partial(
                arbees.run_shard,
                bus,
                shard_id=args.shard_id,
                kalshi_ws_url=kalshi_ws,
                kalshi_signer=signer,
                reconnect=fast,
            )
        )
        await nursery.start(
            partial(
                arbees.run_orchestrator,
                bus,
                kalshi_rest_url=kalshi_rest,
                gamma_url=gamma,
                series=series,
                kalshi_signer=signer,
                config=config,
                egress_url=egress,
                egress_api_key=egress_key,
                forbidden_countries=args.forbidden_countries,
            )
        )
        where = "demo venues" if venues is not None else "real venues"
        out(f"stack ready: orchestrator, monitor, shard {args.shard_id}, bot ({where})")
        if venues is not None:
            nursery.start_soon(play_demo, venues, shard, out)


async def _main(args: argparse.Namespace, book: PaperBook, out: Printer) -> None:
    with trio.move_on_after(args.duration if args.duration > 0 else math.inf):
        if args.demo:
            async with open_demo_venues() as venues:
                await run_stack(args, book, out, venues)
        else:
            await run_stack(args, book, out, None)


def main(argv: Sequence[str] | None = None, *, out: Printer = print) -> int:
    """Exit code 0 on a clean stop, 2 on bad options, 1 when a service fails."""
    args = build_parser().parse_args(argv)
    try:
        book = PaperBook(filter_from_args(args))
    except arbees.ConfigError as exc:
        print(f"single_process: {exc}", file=sys.stderr)
        return 2
    try:
        trio.run(_main, args, book, out)
    except KeyboardInterrupt:
        pass
    except (arbees.ArbeesError, ExceptionGroup) as exc:
        print(f"single_process: stopped: {exc!r}", file=sys.stderr)
        return 1
    finally:
        out(book.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main(out=lambda line: print(line, flush=True)))
