"""One Polymarket US market's L2 book, exact, in either of the venue's two book shapes.

A Polymarket US market is one two-sided instrument keyed by its slug: bids and offers on
its "long" (YES) side; the other side is the mirror (a bid at p is an offer of the other
side at 1 - p).

Levels live in ``dict[price, size]`` maps in micro-units, so sub-cent ticks (0.5¢ =
``5_000``, 0.25¢ = ``2_500``) and partial-contract sizes (0.01 = ``10_000``) are exact and
neither the order levels arrive in nor their count changes the cost of an update much.

A book starts stale ("no snapshot yet") and goes stale on reconnect, on a rejected update
or a crossed book; only a snapshot (every message in the full-replacement shape, the first
message after a subscribe in the delta shape) makes it fresh again.
"""

from __future__ import annotations

import heapq
from typing import Final

from arbees.book import BookView, Level
from arbees.money import Fixed

__all__ = ["VENUE", "MarketBook"]

VENUE: Final = "polymarket-us"


class MarketBook:
    """Mutable L2 book of one market (prices and sizes are micro-unit ints).

    Public attributes (read freely, mutate through the methods): ``slug``, ``bids`` /
    ``asks`` (price -> size), ``best_bid`` / ``best_ask``, ``stale`` and ``stale_reason``,
    ``awaiting_snapshot`` (the next message is a snapshot, delta shape), ``venue_ts_ms``,
    ``received_ns``.
    """

    __slots__ = (
        "asks",
        "awaiting_snapshot",
        "best_ask",
        "best_bid",
        "bids",
        "received_ns",
        "slug",
        "stale",
        "stale_reason",
        "venue_ts_ms",
    )

    def __init__(self, slug: str) -> None:
        self.slug = slug
        self.bids: dict[Fixed, Fixed] = {}
        self.asks: dict[Fixed, Fixed] = {}
        self.best_bid: Fixed | None = None
        self.best_ask: Fixed | None = None
        self.stale = True
        self.stale_reason = "no snapshot yet"
        self.awaiting_snapshot = True
        self.venue_ts_ms: int | None = None
        self.received_ns = 0

    def __repr__(self) -> str:
        state = f"stale: {self.stale_reason}" if self.stale else "fresh"
        return (
            f"<MarketBook {self.slug[:40]} bids={len(self.bids)} asks={len(self.asks)} "
            f"top={self.best_bid}/{self.best_ask} {state}>"
        )

    def replace(self, bids: dict[Fixed, Fixed], asks: dict[Fixed, Fixed]) -> None:
        """A snapshot (no zero sizes): every level replaced; marks the book fresh."""
        self.bids = bids
        self.asks = asks
        self.best_bid = max(bids) if bids else None
        self.best_ask = min(asks) if asks else None
        self.stale = False
        self.stale_reason = ""
        self.awaiting_snapshot = False

    def set_bid(self, price: Fixed, size: Fixed) -> None:
        """Set the total size at a bid level (0 deletes it)."""
        bids = self.bids
        if size:
            bids[price] = size
            if self.best_bid is None or price > self.best_bid:
                self.best_bid = price
        elif bids.pop(price, None) is not None and price == self.best_bid:
            self.best_bid = max(bids) if bids else None

    def set_ask(self, price: Fixed, size: Fixed) -> None:
        """Set the total size at an ask level (0 deletes it)."""
        asks = self.asks
        if size:
            asks[price] = size
            if self.best_ask is None or price < self.best_ask:
                self.best_ask = price
        elif asks.pop(price, None) is not None and price == self.best_ask:
            self.best_ask = min(asks) if asks else None

    def mark_stale(self, reason: str, *, resnapshot: bool = False) -> None:
        """Distrust the book (the first reason is kept); ``resnapshot``: levels are void
        until the next snapshot (reconnect, resubscribe)."""
        if not self.stale:
            self.stale = True
            self.stale_reason = reason
        if resnapshot:
            self.awaiting_snapshot = True

    @property
    def crossed(self) -> bool:
        """True when the best bid is at or above the best ask."""
        bb, ba = self.best_bid, self.best_ask
        return bb is not None and ba is not None and bb >= ba

    def depth(self, n: int = 10) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
        """Up to ``n`` levels per side, best first: ``(bids, asks)``."""
        bids, asks = self.bids, self.asks
        return (
            tuple(Level(p, bids[p]) for p in heapq.nlargest(n, bids)),
            tuple(Level(p, asks[p]) for p in heapq.nsmallest(n, asks)),
        )

    def view(self, depth: int = 10) -> BookView:
        """The venue-neutral immutable view of this market's long (YES) side."""
        bids, asks = self.depth(depth)
        return BookView(
            VENUE, self.slug, bids, asks, self.stale, self.venue_ts_ms, self.received_ns
        )
