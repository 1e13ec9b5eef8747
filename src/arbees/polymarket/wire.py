"""Wire schemas of the Polymarket market WebSocket, and the frames we send.

The schemas are msgspec structs so the hot path decodes straight into typed objects
(faster than ``json.loads`` into dicts). They are deliberately *permissive in shape* and
*strict in type*: one wide :class:`WsEvent` covers every event type (``event_type`` is
often the last key, so no tagged union), unknown keys are ignored, and every value the
venue sends as a string is declared ``str`` — a number where a string belongs fails the
typed decode, and the protocol then falls back to a per-element slow path that rejects
only the offending event (see :mod:`arbees.polymarket.protocol`).

Semantic validation (price ranges, digits-only ids, epoch-ms timestamps) is not done here
but in the protocol, where a rejection can be attributed to one token.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Literal

import msgspec

__all__ = [
    "WsChange",
    "WsEvent",
    "WsLevel",
    "subscribe_frame",
    "update_frame",
]


class WsLevel(msgspec.Struct, gc=False):
    """One ``{price, size}`` level of a ``book`` event."""

    price: str
    size: str


class WsChange(msgspec.Struct, kw_only=True, gc=False):
    """One entry of ``price_change.price_changes`` (or of the legacy ``changes``)."""

    price: str
    size: str
    side: str
    asset_id: str = ""
    best_bid: str | None = None
    best_ask: str | None = None


class WsEvent(msgspec.Struct, kw_only=True, gc=False):
    """Any market-channel event; which fields are set depends on ``event_type``."""

    event_type: str = ""
    asset_id: str = ""
    market: str = ""
    timestamp: str = ""
    # book
    bids: list[WsLevel] | None = None
    asks: list[WsLevel] | None = None
    tick_size: str = ""
    last_trade_price: str = ""
    # price_change (current and legacy)
    price_changes: list[WsChange] | None = None
    changes: list[WsChange] | None = None
    # last_trade_price
    price: str = ""
    size: str = ""
    side: str = ""
    fee_rate_bps: str = ""
    # tick_size_change
    old_tick_size: str = ""
    new_tick_size: str = ""
    # best_bid_ask
    best_bid: str = ""
    best_ask: str = ""
    # new_market / market_resolved
    id: str = ""
    question: str = ""
    slug: str = ""
    assets_ids: list[str] | None = None
    outcomes: list[str] | None = None
    winning_asset_id: str = ""
    winning_outcome: str = ""


FrameType = WsEvent | list[WsEvent]

DECODER: msgspec.json.Decoder[WsEvent | list[WsEvent]] = msgspec.json.Decoder(FrameType)


def subscribe_frame(
    tokens: Iterable[str], *, initial_dump: bool = True, custom_features: bool = False
) -> str:
    """The first frame on a new connection: ``{"assets_ids": [...], "type": "market", ...}``."""
    body: dict[str, object] = {"assets_ids": list(tokens), "type": "market"}
    if initial_dump:
        body["initial_dump"] = True
    if custom_features:
        body["custom_feature_enabled"] = True
    return json.dumps(body, separators=(",", ":"))


def update_frame(
    operation: Literal["subscribe", "unsubscribe"],
    tokens: Iterable[str],
    *,
    custom_features: bool = False,
) -> str:
    """Add or remove tokens on a live connection (no ack is ever sent)."""
    body: dict[str, object] = {"operation": operation, "assets_ids": list(tokens)}
    if custom_features:
        body["custom_feature_enabled"] = True
    return json.dumps(body, separators=(",", ":"))
