"""The load of ``arbees bench e2e``: quiet books, background updates and arbitrage toggles.

Why this shape: tick-to-signal latency must be measured from the moment the *venue* wrote
the frame that caused a signal to the moment the shard published it. Every Polymarket
``price_change`` frame carries a unique ``timestamp`` (the fake's frame counter), which the
feed keeps as ``venue_ts_ms``, the monitor forwards in its price update and the shard copies
into the signal it triggers. So each **toggle** frame (an arbitrage opening or closing on
one game) is remembered by that counter, the fake's ``on_send`` hook records when it was
written to the socket, and each signal is matched back by its ``venue_ts_ms``.

Per game (team A / team B), every book quiet after fees (checked in the tests):

* Kalshi A: YES bids 0.38/0.37/0.36, NO bids 0.58/0.57/0.56 (YES ask 0.42, NO ask 0.62);
* Kalshi B: YES bids 0.56/0.55/0.54, NO bids 0.40/0.39/0.38 (YES ask 0.60, NO ask 0.44);
* Polymarket A and B: bids 0.40/0.39/0.38, asks 0.60/0.61/0.62 (each the other's mirror).

A **toggle** adds (or removes) a 100-share bid at 0.55 on token A: team A's Polymarket NO
costs 0.45, and Kalshi YES A at 0.42 + 0.45 is an opportunity after fees (``open``), then
gone again (``close``). **Background** updates change the size of a token's 0.62 ask (a
level no profitable combination reaches), so the monitor publishes and the shard evaluates
without any signal. **Kalshi** background updates change the size of a 0.36/0.54 YES bid.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from typing import Any

import attrs
import trio

from arbees.bench._e2e_stack import BenchGame
from arbees.messages import TeamLeg
from arbees.money import format_fixed, parse_fixed
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.fake_polymarket import FakePolymarket

__all__ = [
    "LoadDriver",
    "LoadPolymarket",
    "Toggle",
    "install_books",
    "install_token_books",
    "make_games",
    "make_tokens",
]

TOGGLE_PRICE = parse_fixed("0.55")
TOGGLE_SIZE = parse_fixed("100")
_BG_PRICE = parse_fixed("0.62")
_BG_SIZES = (parse_fixed("100"), parse_fixed("150"))
_POLY_BIDS = [("0.40", "100"), ("0.39", "100"), ("0.38", "100")]
_POLY_ASKS = [("0.60", "100"), ("0.61", "100"), ("0.62", "100")]


class LoadPolymarket(FakePolymarket):
    """The fake Polymarket with a cheap way to send one ``price_change``, and send times
    taken *before* each write.

    :meth:`push_level` does what :meth:`FakePolymarket.set_level` does (update the book,
    broadcast a ``price_change`` with ``best_bid``/``best_ask``) with a preformatted frame,
    and returns the frame and its timestamp so the load driver can recognise it in
    ``on_send``; at tens of thousands of updates a second the fake must not be the limit.

    The base fake calls ``on_send`` after ``send_message`` returns; on a busy machine the
    writer task may resume only after the monitor and the shard have already acted on the
    frame (a signal "published before it was sent"). The time the venue starts writing is
    the honest start of tick-to-signal, so this writer stamps it first.
    """

    async def _writer(self, conn: Any) -> None:
        async for frame in conn.receive_channel:
            if frame != "PONG" and self.on_send is not None:
                self.on_send(frame, time.time_ns())
            await conn.ws.send_message(frame)

    def push_level(self, token: str, side: str, price: int, size: int) -> tuple[str, int]:
        book = self.books[token]
        levels = book.bids if side == "BUY" else book.asks
        if size:
            levels[price] = size
        else:
            levels.pop(price, None)
        ts = next(self._ts)
        best_bid = format_fixed(max(book.bids)) if book.bids else "0"
        best_ask = format_fixed(min(book.asks)) if book.asks else "1"
        frame = (
            f'{{"market": "{book.market}", "price_changes": [{{"asset_id": "{token}", '
            f'"price": "{format_fixed(price)}", "size": "{format_fixed(size)}", '
            f'"side": "{side}", "hash": "{ts:x}", "best_bid": "{best_bid}", '
            f'"best_ask": "{best_ask}"}}], "timestamp": "{ts}", "event_type": "price_change"}}'
        )
        self._broadcast(token, frame)
        return frame, ts


def make_games(count: int, *, prefix: str = "BENCH") -> list[BenchGame]:
    """``count`` synthetic NBA games with distinct tickers and tokens."""
    games = []
    for i in range(count):
        event = f"KX{prefix}-26NOV26G{i:05d}"
        base = 10**40 + 2 * i
        teams = (
            TeamLeg(f"NBA:A{i}", f"{event}-A", str(base)),
            TeamLeg(f"NBA:B{i}", f"{event}-B", str(base + 1)),
        )
        games.append(BenchGame(event, "NBA", teams, "0x" + f"{i + 1:064x}"))
    return games


def make_tokens(start: int, count: int) -> list[str]:
    """Extra token ids (monitor-only load), disjoint from :func:`make_games`' tokens."""
    return [str(10**41 + i) for i in range(start, start + count)]


def install_books(games: Sequence[BenchGame], kalshi: FakeKalshi, poly: FakePolymarket) -> None:
    """The quiet books of the module docstring on both fakes (before clients connect)."""
    for game in games:
        a, b = game.teams
        kalshi.add_market(a.kalshi_ticker, event_ticker=game.game_id, status="active")
        kalshi.add_market(b.kalshi_ticker, event_ticker=game.game_id, status="active")
        kalshi.set_book(
            a.kalshi_ticker,
            yes=[("0.38", 100), ("0.37", 100), ("0.36", 100)],
            no=[("0.58", 100), ("0.57", 100), ("0.56", 100)],
        )
        kalshi.set_book(
            b.kalshi_ticker,
            yes=[("0.56", 100), ("0.55", 100), ("0.54", 100)],
            no=[("0.40", 100), ("0.39", 100), ("0.38", 100)],
        )
        for team in game.teams:
            poly.set_book(
                team.poly_token, _POLY_BIDS, _POLY_ASKS, market=game.condition_id, broadcast=False
            )


def install_token_books(tokens: Sequence[str], poly: FakePolymarket) -> None:
    """Quiet books for monitor-only tokens."""
    for i, token in enumerate(tokens):
        poly.set_book(token, _POLY_BIDS, _POLY_ASKS, market="0x" + f"{10**6 + i:064x}",
                      broadcast=False)  # fmt: skip


@attrs.define
class Toggle:
    """One arbitrage toggle frame.

    Attributes:
        ts: the frame's venue timestamp (``venue_ts_ms`` of the signal it triggers).
        game: index of the game.
        event: the signal it must trigger (``"open"`` or ``"close"``).
        phase: label of the run phase that sent it.
        sent_ns: when the fake started writing it to the socket (0 until then).
        burst: sent by :meth:`LoadDriver.close_all` with every other open game at once
            (checked for loss, kept out of latency figures: it measures its own queue).
    """

    ts: int
    game: int
    event: str
    phase: str
    sent_ns: int = 0
    burst: bool = False


class LoadDriver:
    """Offers Polymarket (and Kalshi) updates at a fixed rate; remembers toggle frames.

    Args:
        poly, kalshi: the fakes (the driver takes ``poly.on_send``).
        games: the games whose token A carries toggles.
        tokens: tokens for background updates (default: every game's tokens).
        toggle_every: one update in this many is a toggle (0: none).
        kalshi_ratio: Kalshi updates per Polymarket update.
    """

    def __init__(
        self,
        poly: LoadPolymarket,
        kalshi: FakeKalshi,
        games: Sequence[BenchGame],
        *,
        tokens: Sequence[str] | None = None,
        toggle_every: int = 20,
        kalshi_ratio: float = 0.1,
    ) -> None:
        self.poly = poly
        self.kalshi = kalshi
        self.games = list(games)
        self.tokens = (
            list(tokens)
            if tokens is not None
            else [t.poly_token for g in self.games for t in g.teams]
        )
        self.toggle_every = toggle_every
        self.kalshi_ratio = kalshi_ratio
        self.toggles: dict[int, Toggle] = {}
        self.open_games: set[int] = set()
        self.sent = 0
        self.kalshi_sent = 0
        self._pending: dict[str, Toggle] = {}
        self._bg = itertools.count()
        self._kbg = itertools.count()
        self._next_game = itertools.count()
        poly.on_send = self._on_send

    def _on_send(self, frame: str, when_ns: int) -> None:
        toggle = self._pending.pop(frame, None)
        if toggle is not None:
            toggle.sent_ns = when_ns

    def toggle(self, game: int, phase: str, *, burst: bool = False) -> Toggle:
        """Open the game's arbitrage if closed, else close it."""
        token = self.games[game].teams[0].poly_token
        opening = game not in self.open_games
        size = TOGGLE_SIZE if opening else 0
        frame, ts = self.poly.push_level(token, "BUY", TOGGLE_PRICE, size)
        if opening:
            self.open_games.add(game)
        else:
            self.open_games.discard(game)
        toggle = Toggle(ts, game, "open" if opening else "close", phase, burst=burst)
        self.toggles[ts] = toggle
        self._pending[frame] = toggle
        self.sent += 1
        return toggle

    def background(self) -> None:
        n = next(self._bg)
        token = self.tokens[n % len(self.tokens)]
        size = _BG_SIZES[(n // len(self.tokens)) % 2]
        self.poly.push_level(token, "SELL", _BG_PRICE, size)
        self.sent += 1

    def kalshi_update(self) -> None:
        if not self.games:
            return
        n = next(self._kbg)
        game = self.games[(n // 2) % len(self.games)]
        team = game.teams[n % 2]
        price = "0.36" if n % 2 == 0 else "0.54"
        delta = 1 if (n // (2 * len(self.games))) % 2 == 0 else -1
        self.kalshi.apply_delta(team.kalshi_ticker, "yes", price, delta)
        self.kalshi_sent += 1

    def close_all(self, phase: str) -> None:
        """Close every open arbitrage at once (end of a phase)."""
        for game in sorted(self.open_games):
            self.toggle(game, phase, burst=True)

    async def run(self, rate: float, duration: float, phase: str) -> float:
        """Offer ``rate`` Polymarket updates/s for ``duration`` s; returns the achieved rate.

        Updates go out in small bursts every ~2 ms (the count due so far); a driver that
        falls behind catches up at once, so the achieved rate shows when the bench process
        itself is the limit.
        """
        start = trio.current_time()
        done = kdone = 0
        toggles = len(self.games) > 0 and self.toggle_every > 0
        while True:
            elapsed = trio.current_time() - start
            if elapsed >= duration:
                break
            due = int(elapsed * rate)
            while done < due:
                done += 1
                if toggles and done % self.toggle_every == 0:
                    self.toggle(next(self._next_game) % len(self.games), phase)
                else:
                    self.background()
            kdue = int(elapsed * rate * self.kalshi_ratio)
            while kdone < kdue:
                kdone += 1
                self.kalshi_update()
            await trio.sleep(0.002)
        return done / max(trio.current_time() - start, 1e-9)

    def phase_toggles(self, phase: str) -> list[Toggle]:
        return [t for t in self.toggles.values() if t.phase == phase]
