"""Typed events the Polymarket protocol hands out (venue wire -> arbees vocabulary).

:class:`BookChanged` is the hot one: it names a token whose book changed (or went stale)
and why; the book itself stays in the protocol and a :class:`~arbees.book.BookView` is
built only when a consumer asks for it. The other events carry information that is not a
book change (trades, tick sizes, lifecycle) for consumers who care.
"""

from __future__ import annotations

import attrs

from arbees.money import Fixed

__all__ = [
    "BestBidAsk",
    "BookChanged",
    "Event",
    "LastTrade",
    "MarketResolved",
    "NewMarket",
    "TickSizeChanged",
]


@attrs.frozen(slots=True)
class BookChanged:
    """A token's book changed (levels and/or staleness).

    Attributes:
        token: the token (asset) id.
        kind: the wire event that caused it: ``"book"``, ``"price_change"``,
            ``"tick_size_change"``, ``"market_resolved"``, ``"rejected"`` (an update for
            this token was invalid, so it is now stale) or ``"reconnect"`` (feed only).
        venue_ts_ms: the venue timestamp of the event, when it had one.
        received_ns: ``time.time_ns()`` when the frame was received.
    """

    token: str
    kind: str
    venue_ts_ms: int | None
    received_ns: int


@attrs.frozen(slots=True)
class LastTrade:
    """A trade printed on the venue.

    Attributes:
        token: token id.
        market: condition id.
        price: trade price (micro-units).
        size: trade size (micro-units).
        side: taker side, ``"BUY"`` or ``"SELL"``.
        fee_rate_bps: fee rate in basis points when sent, else ``None``.
        venue_ts_ms: venue timestamp.
    """

    token: str
    market: str
    price: Fixed
    size: Fixed
    side: str
    fee_rate_bps: int | None
    venue_ts_ms: int | None


@attrs.frozen(slots=True)
class TickSizeChanged:
    """The tick size of a token changed; its book is stale until the next snapshot.

    Attributes:
        token: token id.
        market: condition id.
        old_tick_size: previous tick (micro-units).
        new_tick_size: new tick (micro-units).
        venue_ts_ms: venue timestamp.
    """

    token: str
    market: str
    old_tick_size: Fixed
    new_tick_size: Fixed
    venue_ts_ms: int | None


@attrs.frozen(slots=True)
class BestBidAsk:
    """The venue's own top of book (custom feature ``best_bid_ask``).

    Attributes:
        token: token id.
        market: condition id.
        best_bid: best bid or ``None`` (wire ``"0"``).
        best_ask: best ask or ``None`` (wire ``"1"``).
        venue_ts_ms: venue timestamp.
    """

    token: str
    market: str
    best_bid: Fixed | None
    best_ask: Fixed | None
    venue_ts_ms: int | None


@attrs.frozen(slots=True)
class NewMarket:
    """A market was created (custom feature ``new_market``).

    Attributes:
        market: condition id.
        market_id: Gamma market id.
        question: the market's question.
        slug: URL slug.
        tokens: token ids, in outcome order.
        outcomes: outcome labels, same order as ``tokens``.
        venue_ts_ms: venue timestamp.
    """

    market: str
    market_id: str
    question: str
    slug: str
    tokens: tuple[str, ...]
    outcomes: tuple[str, ...]
    venue_ts_ms: int | None


@attrs.frozen(slots=True)
class MarketResolved:
    """A market resolved (custom feature ``market_resolved``); its books are cleared.

    Attributes:
        market: condition id.
        market_id: Gamma market id.
        tokens: the market's token ids.
        winning_token: the winning token id.
        winning_outcome: the winning outcome label.
        venue_ts_ms: venue timestamp.
    """

    market: str
    market_id: str
    tokens: tuple[str, ...]
    winning_token: str
    winning_outcome: str
    venue_ts_ms: int | None


Event = BookChanged | LastTrade | TickSizeChanged | BestBidAsk | NewMarket | MarketResolved
