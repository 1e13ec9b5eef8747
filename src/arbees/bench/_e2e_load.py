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
import random
import time
from collections.abc import Sequence
from typing import Any, Final

import attrs
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection
from wsproto.events import TextMessage
from wsproto.utilities import LocalProtocolError

from arbees.bench._e2e_stack import BenchGame
from arbees.messages import TeamLeg
from arbees.money import CENT, format_fixed, parse_fixed
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.fake_polymarket import FakePolymarket

__all__ = [
    "GAME_LEVELS",
    "MAX_BOOK_LEVELS",
    "VARIED_SIZES",
    "LoadDriver",
    "LoadPolymarket",
    "Toggle",
    "deep_book",
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
GAME_LEVELS: Final = len(_POLY_ASKS)
"""Levels a side of the games' Polymarket books."""
MAX_BOOK_LEVELS: Final = 40
"""The most levels a side :func:`deep_book` builds (``bench e2e --big-levels``)."""
VARIED_SIZES = tuple(parse_fixed(f"{100 + k * 37 % 9_000}.{k % 100:02d}") for k in range(4096))
"""Background sizes of a varied market (``LoadDriver(sizes=...)``): 4,096 distinct ones, so
the monitor's conversion caches fill as a real market fills them."""
Levels = list[tuple[str, str]]


class LoadPolymarket(FakePolymarket):
    """The fake Polymarket as a load source that costs little per update.

    :meth:`push_level` does what :meth:`FakePolymarket.set_level` does (update the book,
    broadcast a ``price_change`` with ``best_bid``/``best_ask``) from PRE-RENDERED frame
    parts (one per token, side, price, size and best prices, rendered on first use: only
    the timestamp is joined in per update), and returns the frame and its timestamp so the
    load driver can recognise it in ``on_send``. The bench measures the services, so the
    driver must stay a small share of a core (the issue's budget: 15 % at 2,000/s).

    Its writer sends every frame queued for a connection in ONE socket write (each still
    its own WebSocket message), stamping the send time *before* the write (on a busy machine
    the writer may resume only after the monitor and the shard have acted on a frame; the
    time the venue starts writing is the honest start of tick-to-signal). A connection the
    monitor closes (a reconnect, a fail-closed egress period) ends its writer quietly and is
    counted in ``closed_while_sending``: a reported event, never a crash of the bench.

    Attributes:
        closed_while_sending: connections whose writer found them closed.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.closed_while_sending = 0
        self._parts: dict[tuple[str, str, int, int, str, str], tuple[str, str]] = {}
        self._subscribed: dict[int, tuple[int, int, frozenset[str]]] = {}

    async def _writer(self, conn: Any) -> None:
        ws = conn.ws
        receive = conn.receive_channel
        try:
            async for frame in receive:
                batch = [frame]
                while True:
                    try:
                        batch.append(receive.receive_nowait())
                    except (trio.WouldBlock, trio.EndOfChannel):
                        break
                if self.on_send is not None:
                    now = time.time_ns()
                    for f in batch:
                        if f != "PONG":
                            self.on_send(f, now)
                await _send_batch(ws, batch)
        except (
            ConnectionClosed,
            LocalProtocolError,
            trio.BrokenResourceError,
            trio.ClosedResourceError,
        ):
            self.closed_while_sending += 1

    def _broadcast(self, token: str, frame: str) -> None:
        if self.stalled:
            return
        for conn in self.connections:
            if conn.stalled:
                continue
            key = (id(conn.assets), len(conn.assets))
            cached = self._subscribed.get(id(conn))
            if cached is None or cached[:2] != key:
                cached = (*key, frozenset(conn.assets[: self.max_assets]))
                self._subscribed[id(conn)] = cached
            if token in cached[2]:
                self._send(conn, frame)

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
        key = (token, side, price, size, best_bid, best_ask)
        parts = self._parts.get(key)
        if parts is None:
            parts = self._parts[key] = (
                f'{{"market": "{book.market}", "price_changes": [{{"asset_id": "{token}", '
                f'"price": "{format_fixed(price)}", "size": "{format_fixed(size)}", '
                f'"side": "{side}", "hash": "',
                f'", "best_bid": "{best_bid}", "best_ask": "{best_ask}"}}], "timestamp": "',
            )
        frame = f'{parts[0]}{ts:x}{parts[1]}{ts}", "event_type": "price_change"}}'
        self._broadcast(token, frame)
        return frame, ts


async def _send_batch(ws: WebSocketConnection, frames: list[str]) -> None:
    """Send ``frames`` as WebSocket messages in one socket write.

    trio-websocket has no batch send; its connection frames each message with its
    ``wsproto`` connection and writes under its stream lock, which is what this does for
    the whole batch (the private names are checked, with one ``send_message`` per frame as
    the fallback if a trio-websocket release renames them).
    """
    proto = getattr(ws, "_wsproto", None)
    stream = getattr(ws, "_stream", None)
    lock = getattr(ws, "_stream_lock", None)
    if proto is None or stream is None or lock is None or ws.closed is not None:
        for frame in frames:
            await ws.send_message(frame)
        return
    data = b"".join(proto.send(TextMessage(data=frame)) for frame in frames)
    async with lock:
        await stream.send_all(data)


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


def install_token_books(
    tokens: Sequence[str], poly: FakePolymarket, levels: int = GAME_LEVELS
) -> tuple[int, ...]:
    """Quiet books for monitor-only tokens: the games' :data:`GAME_LEVELS` levels a side, or
    ``levels`` a side shaped like real books (:func:`deep_book`). Returns the sizes a load
    of them cycles through (``LoadDriver(sizes=...)``): the games' two, or
    :data:`VARIED_SIZES` for real-shaped books."""
    game_books = levels == GAME_LEVELS
    for i, token in enumerate(tokens):
        bids, asks = (_POLY_BIDS, _POLY_ASKS) if game_books else deep_book(i, levels)
        poly.set_book(token, bids, asks, market="0x" + f"{10**6 + i:064x}", broadcast=False)
    return _BG_SIZES if game_books else VARIED_SIZES


def deep_book(index: int, levels: int) -> tuple[Levels, Levels]:
    """Bids from 0.40 and asks from 0.60, ``levels`` a side a cent apart, each of its own
    size (two decimals, 10 to 50,000 shares; seeded by ``index``, so every run installs the
    same books).

    Why: Polymarket's NBA moneyline books carry 13 to 19 levels a side of sizes from 10 to
    over 400,000 shares with cents (public ``GET /book`` answers of October 2025); three
    levels of one size per token, as the games' books have, understate what a monitor of
    many tokens holds.
    """
    if not 1 <= levels <= MAX_BOOK_LEVELS:
        raise ValueError(f"levels must be in 1..{MAX_BOOK_LEVELS}: {levels}")
    rng = random.Random(index)

    def size() -> str:
        return f"{rng.randint(1_000, 5_000_000) / 100:.2f}"

    bids = [(format_fixed(parse_fixed("0.40") - k * CENT), size()) for k in range(levels)]
    asks = [(format_fixed(parse_fixed("0.60") + k * CENT), size()) for k in range(levels)]
    return bids, asks


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
        sizes: the sizes background updates cycle through (default: two, the same for
            every token).
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
        sizes: Sequence[int] = _BG_SIZES,
    ) -> None:
        self.poly = poly
        self.sizes = tuple(sizes)
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
        count = len(self.tokens)  # each pass over the tokens moves every one to its next size
        size = self.sizes[(n // count + n % count) % len(self.sizes)]
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
