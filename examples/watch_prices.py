"""Both venues' top of book for one matched game, side by side, refreshed in place.

The game's instruments come from the orchestrator's assignment (stored on the bus), so the
two columns are the same outcome on each venue: Kalshi market "TEAM wins" and the
Polymarket token that pays if TEAM wins. Kalshi is read directly (it needs no VPN; the real
venue wants ``KALSHI_API_KEY`` + ``KALSHI_PRIVATE_KEY_PATH``); Polymarket comes from the
monitor over the bus, so this script never talks to Polymarket itself.

    python examples/watch_prices.py --redis-url redis://localhost:6379/0 \\
        --game KXNBAGAME-26NOV26OKCSAS

Output (redrawn every ``--refresh`` seconds; on a terminal the screen is cleared first)::

    KXNBAGAME-26NOV26OKCSAS (NBA)                     10:15:02 UTC
    team       | Kalshi bid    ask   size | Polymarket bid   ask   size
    NBA:OKC    |     0.38   0.40    100 |            0.38  0.45    100
    NBA:SAS    |     0.50   0.60    100 |            0.55  0.62    100
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import sys
from collections.abc import Callable, Sequence

import trio

import arbees
from arbees.api import KALSHI_WS_URL
from arbees.kalshi.feed import KalshiFeed, open_kalshi_feed
from arbees.messages import GAME_ASSIGNMENTS_HASH, LATEST_PRICES_HASH

__all__ = ["Board", "build_parser", "find_game", "main", "watch"]

Printer = Callable[[str], None]
CLEAR = "\x1b[H\x1b[J"


def _px(value: int | None) -> str:
    return "-" if value is None else arbees.format_fixed(value)


class Board:
    """The latest top of book per team on both venues, and its text rendering."""

    def __init__(self, assignment: arbees.MarketAssignment) -> None:
        self.assignment = assignment
        self.kalshi: dict[str, arbees.BookView] = {}
        self.poly: dict[str, arbees.PolymarketPriceUpdate] = {}

    def render(self, now: dt.datetime) -> str:
        a = self.assignment
        title = f"{a.game_id} ({a.sport})"
        lines = [
            f"{title:<48} {now:%H:%M:%S} UTC",
            "team       | Kalshi bid    ask   size | Polymarket bid   ask   size",
        ]
        for leg in a.teams:
            view = self.kalshi.get(leg.kalshi_ticker)
            bid = view.best_bid if view is not None else None
            ask = view.best_ask if view is not None else None
            k_stale = " stale" if view is not None and view.stale else ""
            update = self.poly.get(leg.poly_token)
            p_size = update.yes_ask_size if update is not None else None
            p_stale = " stale" if update is not None and update.stale else ""
            lines.append(
                f"{leg.team:<10} | {_px(bid.price if bid else None):>10} "
                f"{_px(ask.price if ask else None):>6} {_px(ask.size if ask else None):>6}"
                f"{k_stale} | {_px(update.yes_bid if update else None):>14} "
                f"{_px(update.yes_ask if update else None):>5} {_px(p_size):>6}{p_stale}"
            )
        return "\n".join(lines)


async def find_game(bus: arbees.Bus, game_id: str | None) -> arbees.MarketAssignment:
    """The stored shard assignment of ``game_id`` (or of the first game when ``None``)."""
    stored = await bus.hgetall(GAME_ASSIGNMENTS_HASH)
    games = {k: m for k, m in stored.items() if isinstance(m, arbees.MarketAssignment)}
    if game_id is None and games:
        game_id = sorted(games)[0]
    if game_id is None or game_id not in games:
        known = ", ".join(sorted(games)) or "none yet (is the orchestrator running?)"
        raise arbees.ConfigError(f"game {game_id!r} is not assigned; known games: {known}")
    return games[game_id]


async def _kalshi(feed: KalshiFeed, board: Board) -> None:
    async for update in feed.updates:
        board.kalshi[update.ticker] = update.yes


async def _polymarket(
    stream: arbees.MessageStream[arbees.PolymarketPriceUpdate], board: Board
) -> None:
    async for update in stream:
        board.poly[update.token_id] = update


async def watch(
    bus: arbees.Bus,
    game_id: str | None,
    *,
    kalshi_ws_url: str = KALSHI_WS_URL,
    kalshi_signer: arbees.KalshiSigner | None = None,
    refresh: float = 0.5,
    out: Printer = print,
    clear: bool = False,
) -> None:
    """Draw the board every ``refresh`` seconds until cancelled."""
    assignment = await find_game(bus, game_id)
    board = Board(assignment)
    tokens = {leg.poly_token for leg in assignment.teams}
    tickers = [leg.kalshi_ticker for leg in assignment.teams]
    async with (
        arbees.price_updates(bus, tokens=tokens) as stream,
        open_kalshi_feed(tickers, signer=kalshi_signer, url=kalshi_ws_url) as feed,
        trio.open_nursery() as nursery,
    ):
        for token in tokens:  # the latest price, for a quiet market
            latest = await bus.hget(LATEST_PRICES_HASH, token)
            if isinstance(latest, arbees.PolymarketPriceUpdate):
                board.poly[token] = latest
        for ticker in tickers:
            board.kalshi[ticker] = feed.view(ticker)
        nursery.start_soon(_kalshi, feed, board)
        nursery.start_soon(_polymarket, stream, board)
        while True:
            text = board.render(dt.datetime.now(dt.UTC))
            out(CLEAR + text if clear else text + "\n")
            await trio.sleep(refresh)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Show both venues' top of book for one matched game, refreshed in place."
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", "redis://localhost:6379/0"),
        help="the stack's bus (env REDIS_URL)",
    )
    parser.add_argument("--game", default=None, help="game id (default: the first assigned)")
    parser.add_argument(
        "--kalshi-ws-url",
        default=os.environ.get("KALSHI_WS_URL", KALSHI_WS_URL),
        help="Kalshi WebSocket (env KALSHI_WS_URL)",
    )
    parser.add_argument("--refresh", type=float, default=0.5, help="seconds between redraws")
    parser.add_argument("--duration", type=float, default=0.0, help="stop after N s (0: Ctrl-C)")
    return parser


async def _main(args: argparse.Namespace, out: Printer) -> None:
    signer = arbees.KalshiSigner.from_env(os.environ)
    with trio.move_on_after(args.duration if args.duration > 0 else math.inf):
        async with arbees.open_bus(args.redis_url) as bus:
            await watch(
                bus,
                args.game,
                kalshi_ws_url=args.kalshi_ws_url,
                kalshi_signer=signer,
                refresh=args.refresh,
                out=out,
                clear=sys.stdout.isatty(),
            )


def main(argv: Sequence[str] | None = None, *, out: Printer = print) -> int:
    """Exit code 0 on a clean stop, 1 on an arbees error (e.g. unknown game)."""
    args = build_parser().parse_args(argv)
    try:
        trio.run(_main, args, out)
    except KeyboardInterrupt:
        pass
    except arbees.ArbeesError as exc:
        print(f"watch_prices: {exc}", file=sys.stderr)
        return 1
    except ExceptionGroup as group:
        errors, _ = group.split(arbees.ArbeesError)
        if errors is None:
            raise
        print(f"watch_prices: {errors.exceptions[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(out=lambda text: print(text, end="", flush=True)))
