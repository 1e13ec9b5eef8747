"""One Polymarket token's L2 order book, kept exact and cheap to update.

Levels live in :class:`~arbees.book.LevelBook`'s sorted arrays (micro-units): the venue
sends ``book`` snapshots in an order we must not trust (live: bids ascending, asks
descending), which a snapshot sorts once, and ``price_change`` entries as *new totals per
level*, each a binary search. The best bid is the last bid and the best ask the first ask,
so the top of book after every update costs nothing more. Depth and
:class:`~arbees.book.BookView` are built only on request.

A book carries a ``stale`` flag with a reason: it starts stale (no snapshot yet), and goes
stale on reconnect, on ``tick_size_change``, on a failed best bid/ask cross-check, on a
crossed book, or when an update for it had to be rejected. Only a fresh ``book`` snapshot
makes it fresh again.
"""

from __future__ import annotations

import attrs

from arbees.book import BookView, LevelBook, mirror_levels
from arbees.money import Fixed

__all__ = ["TokenBook", "TopOfBook", "mirror_view"]

VENUE = "polymarket"


@attrs.frozen(slots=True)
class TopOfBook:
    """Best bid and ask of one token (``None`` when that side is empty).

    Attributes:
        bid: best bid price (micro-units) or ``None``.
        bid_size: size at the best bid (0 when no bid).
        ask: best ask price or ``None``.
        ask_size: size at the best ask (0 when no ask).
        stale: whether the book is currently untrusted.
    """

    bid: Fixed | None
    bid_size: Fixed
    ask: Fixed | None
    ask_size: Fixed
    stale: bool


class TokenBook(LevelBook):
    """Mutable L2 book of one token. Prices and sizes are micro-unit ints.

    Public attributes (read them freely; mutate only through the methods):
    ``token``, ``market``, ``bids``/``asks`` (price -> size copies), ``best_bid``/``best_ask``
    (price or ``None``), ``stale`` and ``stale_reason``, ``tick_size``, ``venue_ts_ms``,
    ``received_ns``, ``last_trade_price``; the level logic is
    :class:`~arbees.book.LevelBook`'s.
    """

    __slots__ = ("last_trade_price", "market", "tick_size", "token")

    def __init__(self, token: str, market: str = "") -> None:
        super().__init__()
        self.token = token
        self.market = market
        self.tick_size: Fixed | None = None
        self.last_trade_price: Fixed | None = None

    def __repr__(self) -> str:
        state = f"stale: {self.stale_reason}" if self.stale else "fresh"
        bids, asks = self.level_counts()
        return (
            f"<TokenBook {self.token[:12]}… bids={bids} asks={asks} "
            f"top={self.best_bid}/{self.best_ask} {state}>"
        )

    # -- mutation (replace, set_bid, set_ask, mark_stale: LevelBook's) --------------------

    def clear(self, reason: str) -> None:
        """Drop every level and mark stale (e.g. market resolved)."""
        self.clear_levels()
        self.mark_stale(reason)

    # -- queries --------------------------------------------------------------------------

    def top(self) -> TopOfBook:
        """Best bid/ask with their sizes."""
        return TopOfBook(*self.best_levels(), self.stale)

    def view(self, depth: int = 10) -> BookView:
        """A venue-neutral immutable :class:`~arbees.book.BookView` of this token."""
        bids, asks = self.depth(depth)
        return BookView(
            VENUE,
            self.token,
            bids,
            asks,
            self.stale,
            self.venue_ts_ms,
            self.received_ns,
            self.market,
        )


def mirror_view(book: TokenBook, other_token: str, depth: int = 10) -> BookView:
    """The book of the complementary token of a binary market, implied by ``book``.

    A bid at p on one outcome is an ask at 1 − p on the other (and vice versa), with the
    same size. Best-first order is preserved by the mirror.
    """
    bids, asks = book.depth(depth)
    return BookView(
        VENUE,
        other_token,
        mirror_levels(asks),
        mirror_levels(bids),
        book.stale,
        book.venue_ts_ms,
        book.received_ns,
        book.market,
    )
