"""Play a :class:`~arbees.sim.plan.Plan` into the fake venues on trio time.

Why a separate player: the plan is pure and precomputed; the player only has to put each
step on the wire at its time and remember *when* it did so — the wall-clock time each step
was applied, and the time the venue actually wrote the first frame carrying a window's
opening change (the fakes' ``on_send`` hooks). Those are the "venue send times" that
tick-to-signal latency is measured from.

Polymarket changes go out as full ``book`` events for token A and then token B (its mirror);
Kalshi changes as ``orderbook_delta`` frames (the fake diffs the book).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import trio

from arbees.book import Level
from arbees.money import format_fixed
from arbees.sim.books import SUB_TICK, GameBooks, KalshiBook, TokenBook
from arbees.sim.events import EventBooks, EventStep, install_events
from arbees.sim.games import install_discovery
from arbees.sim.plan import Plan, Step
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.fake_polymarket import FakePolymarket
from arbees.testing.fake_polymarket_us import FakePolymarketUs

__all__ = ["MarketPlayer"]

log = logging.getLogger(__name__)


def _levels(levels: Iterable[Level]) -> list[tuple[str, str]]:
    return [(format_fixed(lvl.price), format_fixed(lvl.size)) for lvl in levels]


def _common(old: tuple[Level, ...], new: tuple[Level, ...]) -> list[Level]:
    """Levels present in both books, at the smaller size (only removals and decreases)."""
    sizes = {lvl.price: lvl.size for lvl in new}
    return [Level(lvl.price, min(lvl.size, sizes[lvl.price])) for lvl in old if lvl.price in sizes]


class MarketPlayer:
    """Drives both fakes from a plan.

    Args:
        plan: the timeline.
        kalshi: the fake Kalshi (its ``on_send`` hook is taken).
        poly: the fake Polymarket (its ``on_send`` hook is taken).
        us: a fake Polymarket US that lists each game as one market (its slug, its long
            side the away team: token A's book, whose bids mirror into the home team's
            asks), played alongside Polymarket (``arbees demo --venues
            kalshi,polymarket-us``).

    Attributes:
        applied_ns: wall clock at which each step was applied (0 = not yet).
        sent_ns: ``(step index, instrument) -> ns`` of the first frame written for the
            opening step of a window (or trap) that carried that instrument.
        books: every game's current true books.
        played: steps applied so far.
        event_applied_ns, event_sent_ns, event_books: the same for the event games'
            steps (:attr:`Plan.events`).
    """

    def __init__(
        self,
        plan: Plan,
        kalshi: FakeKalshi,
        poly: FakePolymarket,
        *,
        us: FakePolymarketUs | None = None,
    ) -> None:
        self.plan = plan
        self.kalshi = kalshi
        self.poly = poly
        self.us = us
        self.applied_ns = [0] * len(plan.steps)
        self.sent_ns: dict[tuple[int, str], int] = {}
        self.books: list[GameBooks] = list(plan.initial)
        self.played = 0
        self.started_ns = 0
        events = plan.events
        self.event_applied_ns = [0] * len(events.steps)
        self.event_sent_ns: dict[tuple[int, str], int] = {}
        self.event_books: list[EventBooks] = list(events.initial)
        self._watch: dict[str, list[tuple[bool, int]]] = {}
        self._watched_steps = {w.open_step for w in plan.windows} | {
            t.start_step for t in plan.traps
        }
        self._watched_event_steps = {w.open_step for w in events.windows} | {
            t.start_step for t in events.traps
        }
        kalshi.on_send = self._on_send
        poly.on_send = self._on_send

    # -- set-up ----------------------------------------------------------------------------

    def install(self) -> None:
        """Discovery data and starting books on both fakes (call before clients connect)."""
        install_discovery(list(self.plan.games), self.kalshi, self.poly)
        for game, books in zip(self.plan.games, self.plan.initial, strict=True):
            self._set_kalshi(game.kalshi_a, books.kalshi_a)
            self._set_kalshi(game.kalshi_b, books.kalshi_b)
            self._set_poly(game.index, books.poly_a)
            if game.lopsided:
                for token in (game.token_a, game.token_b):
                    self.poly.books[token].tick_size = format_fixed(SUB_TICK)
        events = self.plan.events
        install_events(events.events, self.kalshi, self.poly)
        for event, event_books in zip(events.events, events.initial, strict=True):
            for market, book in zip(event.markets, event_books, strict=True):
                if isinstance(book, KalshiBook):
                    self._set_kalshi(market.instrument, book)
                else:
                    self._set_token(market.instrument, market.mirror, market.condition_id, book)

    # -- playback --------------------------------------------------------------------------

    async def run(
        self,
        *,
        until_s: float | None = None,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Apply every step at its time (relative to this call), up to ``until_s``."""
        start = trio.current_time()
        self.started_ns = time.time_ns()
        task_status.started()
        limit = self.plan.config.duration_s if until_s is None else until_s
        timeline = sorted(
            [(step.at, 0, index) for index, step in enumerate(self.plan.steps)]
            + [(step.at, 1, index) for index, step in enumerate(self.plan.events.steps)]
        )
        for at, track, index in timeline:
            if at > limit:
                break
            await trio.sleep_until(start + at)
            if track:
                self.apply_event(index, self.plan.events.steps[index])
            else:
                self.apply(index, self.plan.steps[index])
        await trio.sleep_until(start + limit)

    def apply(self, index: int, step: Step) -> None:
        """Put one step on the wire now."""
        self.applied_ns[index] = time.time_ns()
        self.played = index + 1
        if step.action == "stall":
            self.kalshi.stall()
            return
        if step.action == "resume":
            self.kalshi.resume()
            return
        game = self.plan.games[step.game]
        current = self.books[step.game]
        if step.instrument == "poly" and step.poly is not None:
            if index in self._watched_steps:
                self._watch_for(False, index, game.token_a, game.token_b)
            self.books[step.game] = GameBooks(current.kalshi_a, current.kalshi_b, step.poly)
            self._set_poly(step.game, step.poly)
        elif step.kalshi is not None:
            ticker = game.kalshi_a if step.instrument == "kalshi_a" else game.kalshi_b
            if index in self._watched_steps:
                self._watch_for(False, index, ticker)
            if step.instrument == "kalshi_a":
                old = current.kalshi_a
                self.books[step.game] = GameBooks(step.kalshi, current.kalshi_b, current.poly_a)
            else:
                old = current.kalshi_b
                self.books[step.game] = GameBooks(current.kalshi_a, step.kalshi, current.poly_a)
            self._set_kalshi(ticker, step.kalshi, old)

    def apply_event(self, index: int, step: EventStep) -> None:
        """Put one event game's step on the wire now."""
        self.event_applied_ns[index] = time.time_ns()
        market = self.plan.events.events[step.event].markets[step.market]
        books = list(self.event_books[step.event])
        old = books[step.market]
        books[step.market] = step.book
        self.event_books[step.event] = tuple(books)
        if index in self._watched_event_steps:
            self._watch_for(True, index, *filter(None, (market.instrument, market.mirror)))
        if isinstance(step.book, KalshiBook):
            assert isinstance(old, KalshiBook)
            self._set_kalshi(market.instrument, step.book, old)
        else:
            self._set_token(market.instrument, market.mirror, market.condition_id, step.book)

    # -- wire ------------------------------------------------------------------------------

    def _set_kalshi(self, ticker: str, book: KalshiBook, old: KalshiBook | None = None) -> None:
        """Kalshi sends one delta per level: shrink first, then grow, so no intermediate
        book is crossed or cheaper than both the old and the new one."""
        if old is not None:
            self.kalshi.set_book(
                ticker,
                yes=_levels(_common(old.yes_bids, book.yes_bids)),
                no=_levels(_common(old.no_bids, book.no_bids)),
            )
        self.kalshi.set_book(ticker, yes=_levels(book.yes_bids), no=_levels(book.no_bids))

    def _set_poly(self, game_index: int, book: TokenBook) -> None:
        game = self.plan.games[game_index]
        self._set_token(game.token_a, game.token_b, game.condition_id, book)
        if self.us is not None:
            self.us.set_book(game.slug, bids=_levels(book.bids), offers=_levels(book.asks))

    def _set_token(self, token: str, mirror_token: str, market: str, book: TokenBook) -> None:
        """A Polymarket market's books: the first token's, then its mirror's."""
        for name, side in ((token, book), (mirror_token, book.mirror())):
            self.poly.set_book(name, _levels(side.bids), _levels(side.asks), market=market)

    def _watch_for(self, event: bool, index: int, *instruments: str) -> None:
        for instrument in instruments:
            self._watch.setdefault(instrument, []).append((event, index))

    def _on_send(self, frame: str, when_ns: int) -> None:
        if not self._watch:
            return
        for instrument in [i for i in self._watch if i in frame]:
            for event, index in self._watch.pop(instrument):
                sent = self.event_sent_ns if event else self.sent_ns
                sent.setdefault((index, instrument), when_ns)
