"""Kalshi WebSocket v2 wire schemas (msgspec), separate from the book/protocol logic.

Decoding straight into typed structs with :mod:`msgspec` is what keeps the
``orderbook_delta`` hot path near the cost of a bare ``json.loads`` (the parse benchmark
measures it). The structs are deliberately tolerant:

- every number may arrive as a string or a JSON number (``Num``), converted exactly later;
- ``ticker`` fields the spec calls required are optional here (they go missing in practice);
- the integer-cent fields removed on 2026-03-12 (``price``, ``delta``, ``yes``/``no``,
  ``yes_dollars``) are accepted only so old recordings still fold into books.

Anything the tagged union cannot decode falls back to a generic decode in the protocol,
which tells an unknown ``type`` (ignored, counted) from a malformed known one (rejected,
counted, and treated as a gap on its sid).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

__all__ = [
    "FRAME_DECODER",
    "DeltaFrame",
    "DeltaMsg",
    "ErrorFrame",
    "ErrorMsg",
    "EventFeeUpdateFrame",
    "EventLifecycleFrame",
    "LifecycleFrame",
    "Num",
    "OkFrame",
    "SnapshotFrame",
    "SnapshotMsg",
    "SubscribedFrame",
    "SubscribedMsg",
    "TickerFrame",
    "TickerMsg",
    "TradeFrame",
    "TradeMsg",
    "TsMs",
    "UnsubscribedFrame",
]

Num = str | int | float
"""A price or count as the venue sends it: decimal string or JSON number."""
RawLevels = list[tuple[Num, Num]]
TsMs = Annotated[int, msgspec.Meta(ge=0, lt=10**16)]
"""Epoch milliseconds; at most 16 digits like Polymarket's (a larger one fails the decode)."""


class DeltaMsg(msgspec.Struct, gc=False):
    market_ticker: str
    side: Literal["yes", "no"]
    price_dollars: Num | None = None
    delta_fp: Num | None = None
    ts_ms: TsMs | None = None
    market_id: str = ""
    price: int | None = None  # legacy cents (removed 2026-03)
    delta: int | None = None  # legacy integer count (removed 2026-03)


class DeltaFrame(msgspec.Struct, tag_field="type", tag="orderbook_delta", gc=False):
    sid: int
    seq: int
    msg: DeltaMsg


class SnapshotMsg(msgspec.Struct, gc=False):
    market_ticker: str
    market_id: str = ""
    yes_dollars_fp: RawLevels | None = None
    no_dollars_fp: RawLevels | None = None
    yes_dollars: RawLevels | None = None  # legacy
    no_dollars: RawLevels | None = None  # legacy
    yes: RawLevels | None = None  # legacy cents
    no: RawLevels | None = None  # legacy cents
    ts_ms: TsMs | None = None


class SnapshotFrame(msgspec.Struct, tag_field="type", tag="orderbook_snapshot", gc=False):
    sid: int
    seq: int
    msg: SnapshotMsg


class TickerMsg(msgspec.Struct, gc=False):
    market_ticker: str
    market_id: str = ""
    price_dollars: Num | None = None
    yes_bid_dollars: Num | None = None
    yes_ask_dollars: Num | None = None
    yes_bid_size_fp: Num | None = None
    yes_ask_size_fp: Num | None = None
    volume_fp: Num | None = None
    open_interest_fp: Num | None = None
    ts_ms: TsMs | None = None
    ts: int | str | None = None
    yes_bid: int | None = None  # legacy cents
    yes_ask: int | None = None  # legacy cents


class TickerFrame(msgspec.Struct, tag_field="type", tag="ticker", gc=False):
    sid: int
    msg: TickerMsg
    seq: int | None = None


class TradeMsg(msgspec.Struct, gc=False):
    market_ticker: str
    trade_id: str = ""
    yes_price_dollars: Num | None = None
    no_price_dollars: Num | None = None
    count_fp: Num | None = None
    taker_outcome_side: str | None = None
    taker_book_side: str | None = None
    taker_side: str | None = None  # legacy
    ts_ms: TsMs | None = None
    ts: int | str | None = None
    yes_price: int | None = None  # legacy cents
    count: int | None = None  # legacy


class TradeFrame(msgspec.Struct, tag_field="type", tag="trade", gc=False):
    sid: int
    msg: TradeMsg
    seq: int | None = None


class LifecycleFrame(msgspec.Struct, tag_field="type", tag="market_lifecycle_v2"):
    sid: int
    msg: dict[str, Any]
    seq: int | None = None


class EventLifecycleFrame(msgspec.Struct, tag_field="type", tag="event_lifecycle"):
    sid: int
    msg: dict[str, Any]
    seq: int | None = None


class EventFeeUpdateFrame(msgspec.Struct, tag_field="type", tag="event_fee_update"):
    sid: int
    msg: dict[str, Any]
    seq: int | None = None


class SubscribedMsg(msgspec.Struct):
    channel: str
    sid: int


class SubscribedFrame(msgspec.Struct, tag_field="type", tag="subscribed"):
    msg: SubscribedMsg
    id: int | None = None


class OkFrame(msgspec.Struct, tag_field="type", tag="ok"):
    id: int | None = None
    sid: int | None = None
    seq: int | None = None
    msg: dict[str, Any] | list[Any] | None = None


class UnsubscribedFrame(msgspec.Struct, tag_field="type", tag="unsubscribed"):
    sid: int
    id: int | None = None
    seq: int | None = None


class ErrorMsg(msgspec.Struct):
    code: int
    msg: str = ""
    sid: int | None = None


class ErrorFrame(msgspec.Struct, tag_field="type", tag="error"):
    msg: ErrorMsg
    id: int | None = None
    sid: int | None = None


Frame = (
    DeltaFrame
    | SnapshotFrame
    | TickerFrame
    | TradeFrame
    | LifecycleFrame
    | EventLifecycleFrame
    | EventFeeUpdateFrame
    | SubscribedFrame
    | OkFrame
    | UnsubscribedFrame
    | ErrorFrame
)

FRAME_DECODER: msgspec.json.Decoder[Frame] = msgspec.json.Decoder(Frame)
"""Decodes one text frame into its typed struct (raises ``msgspec.ValidationError``)."""
