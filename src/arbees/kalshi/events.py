"""Typed events the Kalshi protocol hands out, and its counters.

The sans-io :class:`~arbees.kalshi.protocol.KalshiProtocol` turns text frames into these
values; the feed turns :class:`BookChanged` / :class:`BooksStale` into
:class:`~arbees.book.BookView` updates. Every rejection, drop and mismatch is counted in
:class:`KalshiStats` so operators (and tests) can see what was thrown away and why.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs
import msgspec

from arbees.money import Fixed

__all__ = [
    "BookChanged",
    "BooksStale",
    "CommandOk",
    "KalshiEvent",
    "KalshiStats",
    "MarketLifecycle",
    "SubscriptionEnded",
    "SubscriptionStarted",
    "TickerUpdate",
    "Trade",
    "VenueErrorReply",
]


class BookChanged(msgspec.Struct, frozen=True, gc=False):
    """A book changed (snapshot applied or one delta applied).

    A frozen ``msgspec.Struct`` rather than an attrs class: one is built per delta on the
    hot path and construction is ~10x cheaper (0.1 µs vs 1.2 µs measured here).

    Attributes:
        ticker: market ticker; read the book from ``protocol.books[ticker]``.
        sid: subscription id the frame came on.
        seq: its sequence number on that sid.
        kind: ``"snapshot"`` or ``"delta"``.
        venue_ts_ms: venue timestamp when sent.
        received_ns: wall-clock receive time of the frame.
    """

    ticker: str
    sid: int
    seq: int
    kind: Literal["snapshot", "delta"]
    venue_ts_ms: int | None
    received_ns: int


@attrs.frozen(slots=True)
class BooksStale:
    """Books that can no longer be trusted until their next snapshot.

    Attributes:
        sid: the subscription (0 when the whole connection is affected).
        tickers: the affected market tickers.
        reason: ``"seq gap"``, ``"corrupt"``, ``"reconnect"``, ``"ticker mismatch"``, ...
        received_ns: receive time of the frame that revealed it (0 if none).
    """

    sid: int
    tickers: tuple[str, ...]
    reason: str
    received_ns: int = 0


@attrs.frozen(slots=True)
class SubscriptionStarted:
    """``subscribed``: a channel got a sid.

    Attributes:
        channel: e.g. ``"orderbook_delta"``.
        sid: the new subscription id.
        cmd_id: the id of our ``subscribe`` command.
    """

    channel: str
    sid: int
    cmd_id: int | None


@attrs.frozen(slots=True)
class SubscriptionEnded:
    """``unsubscribed`` for a sid.

    Attributes:
        sid: the subscription id.
        cmd_id: the id of our ``unsubscribe`` command.
    """

    sid: int
    cmd_id: int | None


@attrs.frozen(slots=True)
class CommandOk:
    """``ok`` answer to a command.

    Attributes:
        cmd_id: the command id.
        sid: the sid it concerned, when given.
        tickers: ``msg.market_tickers`` when given.
    """

    cmd_id: int | None
    sid: int | None
    tickers: tuple[str, ...]


@attrs.frozen(slots=True)
class VenueErrorReply:
    """``error`` answer.

    Attributes:
        cmd_id: the command id it answers.
        code: Kalshi error code (10 and 25 are terminal for the subscription).
        message: the venue's text.
        terminal: the subscription is dead; the protocol already queued a resubscribe.
    """

    cmd_id: int | None
    code: int
    message: str
    terminal: bool


@attrs.frozen(slots=True)
class TickerUpdate:
    """A ``ticker`` frame (fields the venue omitted are ``None``).

    Attributes:
        ticker: market ticker.
        yes_bid: best YES bid price.
        yes_ask: best YES ask price.
        yes_bid_size: size at the YES bid.
        yes_ask_size: size at the YES ask.
        last_price: last trade price.
        venue_ts_ms: venue timestamp.
        received_ns: receive time.
    """

    ticker: str
    yes_bid: Fixed | None
    yes_ask: Fixed | None
    yes_bid_size: Fixed | None
    yes_ask_size: Fixed | None
    last_price: Fixed | None
    venue_ts_ms: int | None
    received_ns: int


@attrs.frozen(slots=True)
class Trade:
    """A public ``trade``.

    Attributes:
        ticker: market ticker.
        yes_price: YES price of the trade.
        no_price: NO price of the trade.
        count: contracts (may be fractional).
        taker_outcome_side: ``"yes"``/``"no"`` (legacy ``taker_side``).
        taker_book_side: ``"bid"``/``"ask"`` when sent.
        venue_ts_ms: venue timestamp.
        received_ns: receive time.
    """

    ticker: str
    yes_price: Fixed | None
    no_price: Fixed | None
    count: Fixed | None
    taker_outcome_side: str | None
    taker_book_side: str | None
    venue_ts_ms: int | None
    received_ns: int


@attrs.frozen(slots=True)
class MarketLifecycle:
    """``market_lifecycle_v2`` / ``event_lifecycle`` / ``event_fee_update``.

    Attributes:
        kind: the frame type.
        ticker: market ticker (or event ticker for event frames).
        event_type: ``msg.event_type`` when present (``created``, ...).
        msg: the raw ``msg`` object.
    """

    kind: str
    ticker: str
    event_type: str
    msg: dict[str, Any]


KalshiEvent = (
    BookChanged
    | BooksStale
    | SubscriptionStarted
    | SubscriptionEnded
    | CommandOk
    | VenueErrorReply
    | TickerUpdate
    | Trade
    | MarketLifecycle
)


@attrs.define(slots=True)
class KalshiStats:
    """Counters of one protocol instance (cumulative across reconnects).

    Attributes:
        frames: text frames received.
        snapshots: snapshots applied.
        deltas: deltas applied.
        unknown_types: frames of an unknown ``type`` (ignored).
        rejected: malformed frames (bad JSON, wrong types, out-of-range prices).
        gaps: seq gaps detected.
        old_seq: frames with a seq at or below the last one seen on their sid (dropped).
        superseded: frames from an unsubscribed/replaced sid (dropped).
        unknown_sid: data frames on a sid we never subscribed (dropped).
        unknown_ticker: book frames for tickers we do not track (dropped).
        skipped_awaiting_snapshot: deltas for a book waiting for its resync snapshot.
        corrupt: deltas that drove a level negative.
        ticker_mismatches: ``ticker`` frames disagreeing with our book.
        resyncs: resync commands sent (get_snapshot or resubscribe).
        errors: ``error`` frames received.
        terminal_errors: errors 10/25 that forced a resubscribe.
    """

    frames: int = 0
    snapshots: int = 0
    deltas: int = 0
    unknown_types: int = 0
    rejected: int = 0
    gaps: int = 0
    old_seq: int = 0
    superseded: int = 0
    unknown_sid: int = 0
    unknown_ticker: int = 0
    skipped_awaiting_snapshot: int = 0
    corrupt: int = 0
    ticker_mismatches: int = 0
    resyncs: int = 0
    errors: int = 0
    terminal_errors: int = 0
