"""Venue-neutral views of an order book, as feeds hand them to services.

Both venue feeds (Kalshi, Polymarket) turn their own wire books into :class:`BookView`
values, so the shard's arbitrage logic never needs to know where a book came from.
Prices and sizes are exact micro-units (see :mod:`arbees.money`).

For a Kalshi market the view is the YES side: ``bids`` are YES bids and ``asks`` are the
YES asks derived from NO bids (``1 - no_bid`` with that level's size). For a Polymarket
token the view is that token's own book.

:class:`LevelBook` is the mutable two-sided book the Polymarket and Polymarket US protocols
keep (one token, one market), each side sorted price and size arrays; each venue's book
class adds its own fields.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Sequence
from typing import Final, NamedTuple

import attrs

from arbees.money import ONE, Fixed

__all__ = ["MAX_BOOK_SIZE", "BookView", "Level", "LevelBook", "Top", "mirror_levels", "top_of"]

MAX_BOOK_SIZE: Final = 10**12 * ONE
"""The largest size a :class:`LevelBook` level takes: a trillion contracts (micro-units,
within the book's 64-bit arrays). The venues' deepest levels hold under a million; the
protocols refuse a larger size as a bad value, as they refuse a negative one."""


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


_TUPLE_NEW: Final = tuple.__new__


def _levels(prices: Sequence[Fixed], sizes: Sequence[Fixed]) -> tuple[Level, ...]:
    """Levels of paired prices and sizes, in their order (``tuple.__new__``: a third of
    ``Level(p, s)``'s cost, which runs Python per level)."""
    return tuple([_TUPLE_NEW(Level, pair) for pair in zip(prices, sizes, strict=True)])


def _set_level(prices: array[int], sizes: array[int], price: Fixed, size: Fixed) -> bool:
    """Set one side's total at ``price`` (0 deletes the level); True when a level came or
    went (the side's best may have moved), False when only a size changed or nothing did.
    A value the arrays cannot hold raises before the side changes."""
    i = bisect_left(prices, price)
    if i < len(prices) and prices[i] == price:
        if size:
            sizes[i] = size
            return False
        del prices[i]
        del sizes[i]
        return True
    if not size:
        return False
    prices.insert(i, price)
    try:
        sizes.insert(i, size)
    except (OverflowError, TypeError):
        del prices[i]  # the two arrays stay paired
        raise
    return True


class LevelBook:
    """A mutable L2 book: each side as two parallel ``array('q')`` of prices and sizes
    (micro-units) in ascending price order, kept exact and compact.

    Why arrays, not ``dict[price, size]``: a monitor holds every level of every token it
    streams. A dict costs about 37 bytes a level plus a 32-byte int object for each size
    (sizes are rarely shared), where the arrays hold 16 bytes: 10,000 books of 16 levels a
    side hold 10.5 MB against 34.6 MB (``tests/test_level_book.py``). An update of a level
    to a new total is a binary search and, when the level comes or goes, a ``memmove`` of
    at most the side's length (C, well under a microsecond at real depths); the best bid is
    the last bid and the best ask the first ask, so the top of book costs nothing to keep,
    and depth is a slice (no sort). A book starts stale ("no snapshot yet"); only a snapshot
    (:meth:`replace`) makes it fresh.

    Public attributes (read them freely; mutate only through the methods): ``best_bid`` /
    ``best_ask`` (price or ``None``), ``stale`` and ``stale_reason``, ``venue_ts_ms``,
    ``received_ns``; ``bids`` / ``asks`` are read-only ``price -> size`` copies (built per
    read: for inspection, not the hot path).
    """

    __slots__ = (
        "_ask_prices",
        "_ask_sizes",
        "_bid_prices",
        "_bid_sizes",
        "best_ask",
        "best_bid",
        "received_ns",
        "stale",
        "stale_reason",
        "venue_ts_ms",
    )

    def __init__(self) -> None:
        self._bid_prices = array("q")
        self._bid_sizes = array("q")
        self._ask_prices = array("q")
        self._ask_sizes = array("q")
        self.best_bid: Fixed | None = None
        self.best_ask: Fixed | None = None
        self.stale = True
        self.stale_reason = "no snapshot yet"
        self.venue_ts_ms: int | None = None
        self.received_ns = 0

    @property
    def bids(self) -> dict[Fixed, Fixed]:
        """Every bid level, ``price -> size`` (a copy)."""
        return dict(zip(self._bid_prices, self._bid_sizes, strict=True))

    @property
    def asks(self) -> dict[Fixed, Fixed]:
        """Every ask level, ``price -> size`` (a copy)."""
        return dict(zip(self._ask_prices, self._ask_sizes, strict=True))

    def replace(self, bids: dict[Fixed, Fixed], asks: dict[Fixed, Fixed]) -> None:
        """A snapshot (zero sizes already removed): every level replaced; marks fresh.

        Prices and sizes are micro-unit ints that fit 64 bits (the protocols' parsers bound
        them far below: :data:`MAX_BOOK_SIZE`); anything else raises ``OverflowError`` or
        ``TypeError`` before the book changes."""
        bid_prices = sorted(bids)
        ask_prices = sorted(asks)
        new = (
            array("q", bid_prices),
            array("q", [bids[p] for p in bid_prices]),
            array("q", ask_prices),
            array("q", [asks[p] for p in ask_prices]),
        )
        self._bid_prices, self._bid_sizes, self._ask_prices, self._ask_sizes = new
        self.best_bid = bid_prices[-1] if bid_prices else None
        self.best_ask = ask_prices[0] if ask_prices else None
        self.stale = False
        self.stale_reason = ""

    def set_bid(self, price: Fixed, size: Fixed) -> None:
        """Set the total size at a bid level (0 deletes it)."""
        prices = self._bid_prices
        if _set_level(prices, self._bid_sizes, price, size):
            self.best_bid = prices[-1] if prices else None

    def set_ask(self, price: Fixed, size: Fixed) -> None:
        """Set the total size at an ask level (0 deletes it)."""
        prices = self._ask_prices
        if _set_level(prices, self._ask_sizes, price, size):
            self.best_ask = prices[0] if prices else None

    def clear_levels(self) -> None:
        """Drop every level (the caller marks the book stale)."""
        self._bid_prices, self._bid_sizes = array("q"), array("q")
        self._ask_prices, self._ask_sizes = array("q"), array("q")
        self.best_bid = None
        self.best_ask = None

    def level_counts(self) -> tuple[int, int]:
        """How many bid and ask levels the book holds."""
        return len(self._bid_prices), len(self._ask_prices)

    def mark_stale(self, reason: str) -> None:
        """Distrust the book until the next snapshot (the first reason is kept)."""
        if not self.stale:
            self.stale = True
            self.stale_reason = reason

    def best_levels(self) -> Top:
        """The :data:`Top` of this book."""
        bid_sizes, ask_sizes = self._bid_sizes, self._ask_sizes
        return (
            self.best_bid,
            bid_sizes[-1] if bid_sizes else 0,
            self.best_ask,
            ask_sizes[0] if ask_sizes else 0,
        )

    @property
    def crossed(self) -> bool:
        """True when the best bid is at or above the best ask (an impossible live state)."""
        bb, ba = self.best_bid, self.best_ask
        return bb is not None and ba is not None and bb >= ba

    def depth(self, n: int = 10) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
        """Up to ``n`` levels per side, best first: ``(bids, asks)``."""
        count = len(self._bid_prices)
        start = count - n if count > n else 0
        return (
            _levels(self._bid_prices[start:][::-1], self._bid_sizes[start:][::-1]),
            _levels(self._ask_prices[:n], self._ask_sizes[:n]),
        )
