"""One Polymarket US market's L2 book, exact, in either of the venue's two book shapes.

A Polymarket US market is one two-sided instrument keyed by its slug: bids and offers on
its "long" (YES) side; the other side is the mirror (a bid at p is an offer of the other
side at 1 - p).

Levels live in :class:`~arbees.book.LevelBook`'s sorted arrays in micro-units, so sub-cent
ticks (0.5¢ = ``5_000``, 0.25¢ = ``2_500``) and partial-contract sizes (0.01 = ``10_000``)
are exact, and the order levels arrive in does not matter.

A book starts stale ("no snapshot yet") and goes stale on reconnect, on a rejected update
or a crossed book; only a snapshot (every message in the full-replacement shape, the first
message after a subscribe in the delta shape) makes it fresh again.
"""

from __future__ import annotations

from typing import Final

from arbees.book import BookView, LevelBook
from arbees.money import Fixed

__all__ = ["VENUE", "MarketBook"]

VENUE: Final = "polymarket-us"


class MarketBook(LevelBook):
    """Mutable L2 book of one market (prices and sizes are micro-unit ints).

    Public attributes (read freely, mutate through the methods): ``slug``, ``bids`` /
    ``asks`` (price -> size copies), ``best_bid`` / ``best_ask``, ``stale`` and
    ``stale_reason``, ``awaiting_snapshot`` (the next message is a snapshot, delta shape),
    ``venue_ts_ms``, ``received_ns``; the level logic is :class:`~arbees.book.LevelBook`'s.
    """

    __slots__ = ("awaiting_snapshot", "slug")

    def __init__(self, slug: str) -> None:
        super().__init__()
        self.slug = slug
        self.awaiting_snapshot = True

    def __repr__(self) -> str:
        state = f"stale: {self.stale_reason}" if self.stale else "fresh"
        bids, asks = self.level_counts()
        return (
            f"<MarketBook {self.slug[:40]} bids={bids} asks={asks} "
            f"top={self.best_bid}/{self.best_ask} {state}>"
        )

    def replace(self, bids: dict[Fixed, Fixed], asks: dict[Fixed, Fixed]) -> None:
        """A snapshot (no zero sizes): every level replaced; marks the book fresh."""
        super().replace(bids, asks)
        self.awaiting_snapshot = False

    def mark_stale(self, reason: str, *, resnapshot: bool = False) -> None:
        """Distrust the book (the first reason is kept); ``resnapshot``: levels are void
        until the next snapshot (reconnect, resubscribe)."""
        super().mark_stale(reason)
        if resnapshot:
            self.awaiting_snapshot = True

    def view(self, depth: int = 10) -> BookView:
        """The venue-neutral immutable view of this market's long (YES) side."""
        bids, asks = self.depth(depth)
        return BookView(
            VENUE, self.slug, bids, asks, self.stale, self.venue_ts_ms, self.received_ns
        )
