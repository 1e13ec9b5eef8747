"""Venue-neutral views of an order book, as feeds hand them to services.

Both venue feeds (Kalshi, Polymarket) turn their own wire books into :class:`BookView`
values, so the shard's arbitrage logic never needs to know where a book came from.
Prices and sizes are exact micro-units (see :mod:`arbees.money`).

For a Kalshi market the view is the YES side: ``bids`` are YES bids and ``asks`` are the
YES asks derived from NO bids (``1 - no_bid`` with that level's size). For a Polymarket
token the view is that token's own book.

:class:`LevelBook` is the mutable two-sided price -> size book the Polymarket and Polymarket
US protocols keep (one token, one market); each venue's book class adds its own fields.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Final, NamedTuple

import attrs

from arbees.money import ONE, Fixed

__all__ = ["BookView", "Level", "LevelBook", "Top", "mirror_levels", "top_of"]


class Level(NamedTuple):
    """One price level: ``price`` and ``size`` in micro-units."""

    price: Fixed
    size: Fixed


Top = tuple[Fixed | None, Fixed, Fixed | None, Fixed]
"""Top of book: best bid price, its size, best ask price, its size (``None``/0: no level)."""


def top_of(bids: Sequence[Level], asks: Sequence[Level]) -> Top:
    """The :data:`Top` of levels given best first (a REST book's)."""
    bid = bids[0] if bids else None
    ask = asks[0] if asks else None
    return (
        bid.price if bid else None,
        bid.size if bid else 0,
        ask.price if ask else None,
        ask.size if ask else 0,
    )


def mirror_levels(levels: tuple[Level, ...]) -> tuple[Level, ...]:
    """Bids of one outcome as asks of the other (``p -> 1 - p``), order preserved."""
    return tuple(Level(ONE - lvl.price, lvl.size) for lvl in levels)


@attrs.frozen(slots=True)
class BookView:
    """An immutable snapshot of one instrument's book.

    Attributes:
        venue: ``"kalshi"`` or ``"polymarket"``.
        instrument: Kalshi market ticker or Polymarket token id.
        bids: levels best (highest) first.
        asks: levels best (lowest) first.
        stale: True while the book cannot be trusted (gap, reconnect, tick-size change,
            cross-check mismatch, ...). A stale view must never produce a signal.
        venue_ts_ms: the venue's own timestamp of the last change, when it sent one.
        received_ns: wall-clock ``time.time_ns()`` when the frame that produced this view
            was received (comparable across processes on one machine).
        market: the venue's market grouping (Polymarket condition id, Kalshi event ticker)
            when known, else ``""``.

    Example::

        view = BookView("polymarket", "123", bids=(Level(480000, 10_000000),),
                        asks=(Level(520000, 5_000000),), stale=False,
                        venue_ts_ms=None, received_ns=0)
        view.best_ask  # Level(price=520000, size=5000000)
    """

    venue: str
    instrument: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    stale: bool
    venue_ts_ms: int | None
    received_ns: int
    market: str = ""

    @property
    def best_bid(self) -> Level | None:
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> Level | None:
        return self.asks[0] if self.asks else None


_SORT_BELOW: Final = 128
"""Sides shallower than this are sorted whole to take their best levels (see ``depth``)."""


class LevelBook:
    """A mutable L2 book: bids and asks as ``dict[price, size]`` (micro-units), kept exact
    and cheap to update.

    Maps make a snapshot in any order and an update of a level to a new total O(1) per
    level. The best bid/ask are kept incrementally (a full rescan only when the best level
    itself is deleted), so the top of book after an update costs a couple of comparisons,
    not a sort; depth is built only on request. A book starts stale ("no snapshot yet");
    only a snapshot (:meth:`replace`) makes it fresh.

    Public attributes (read them freely; mutate only through the methods): ``bids`` /
    ``asks`` (price -> size), ``best_bid`` / ``best_ask`` (price or ``None``), ``stale``
    and ``stale_reason``, ``venue_ts_ms``, ``received_ns``.
    """

    __slots__ = (
        "asks",
        "best_ask",
        "best_bid",
        "bids",
        "received_ns",
        "stale",
        "stale_reason",
        "venue_ts_ms",
    )

    def __init__(self) -> None:
        self.bids: dict[Fixed, Fixed] = {}
        self.asks: dict[Fixed, Fixed] = {}
        self.best_bid: Fixed | None = None
        self.best_ask: Fixed | None = None
        self.stale = True
        self.stale_reason = "no snapshot yet"
        self.venue_ts_ms: int | None = None
        self.received_ns = 0

    def replace(self, bids: dict[Fixed, Fixed], asks: dict[Fixed, Fixed]) -> None:
        """A snapshot (zero sizes already removed): every level replaced; marks fresh."""
        self.bids = bids
        self.asks = asks
        self.best_bid = max(bids) if bids else None
        self.best_ask = min(asks) if asks else None
        self.stale = False
        self.stale_reason = ""

    def set_bid(self, price: Fixed, size: Fixed) -> None:
        """Set the total size at a bid level (0 deletes it)."""
        bids = self.bids
        if size:
            bids[price] = size
            best = self.best_bid
            if best is None or price > best:
                self.best_bid = price
        elif bids.pop(price, None) is not None and price == self.best_bid:
            self.best_bid = max(bids) if bids else None

    def set_ask(self, price: Fixed, size: Fixed) -> None:
        """Set the total size at an ask level (0 deletes it)."""
        asks = self.asks
        if size:
            asks[price] = size
            best = self.best_ask
            if best is None or price < best:
                self.best_ask = price
        elif asks.pop(price, None) is not None and price == self.best_ask:
            self.best_ask = min(asks) if asks else None

    def mark_stale(self, reason: str) -> None:
        """Distrust the book until the next snapshot (the first reason is kept)."""
        if not self.stale:
            self.stale = True
            self.stale_reason = reason

    def best_levels(self) -> Top:
        """The :data:`Top` of this book."""
        bb, ba = self.best_bid, self.best_ask
        return (
            bb,
            self.bids[bb] if bb is not None else 0,
            ba,
            self.asks[ba] if ba is not None else 0,
        )

    @property
    def crossed(self) -> bool:
        """True when the best bid is at or above the best ask (an impossible live state)."""
        bb, ba = self.best_bid, self.best_ask
        return bb is not None and ba is not None and bb >= ba

    def depth(self, n: int = 10) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
        """Up to ``n`` levels per side, best first: ``(bids, asks)``.

        A side of up to ``_SORT_BELOW`` levels is sorted whole (C ``sorted`` beats
        ``heapq``'s selection there: 1.0 vs 3.7 µs at 30 levels, the monitor builds one
        view per changed book); a deeper one is selected with ``heapq``."""
        bids, asks = self.bids, self.asks
        top_bids = (
            sorted(bids, reverse=True)[:n] if len(bids) < _SORT_BELOW else heapq.nlargest(n, bids)
        )
        top_asks = sorted(asks)[:n] if len(asks) < _SORT_BELOW else heapq.nsmallest(n, asks)
        return (
            tuple([Level(p, bids[p]) for p in top_bids]),
            tuple([Level(p, asks[p]) for p in top_asks]),
        )
