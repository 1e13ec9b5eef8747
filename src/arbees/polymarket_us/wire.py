"""Wire schemas of the Polymarket US market-data WebSocket (``/v1/ws/markets``), and the
frames we send.

Source: the Polymarket US "WebSocket API" and "Markets WebSocket" documentation pages
(docs.polymarket.us); JSON, snake_case keys. A market-data message::

    {"request_id": "md-0-1", "subscription_type": 1,
     "market_data": {"market_slug": "...",
                     "bids":   [{"px": {"value": "0.54", "currency": "USD"}, "qty": "1000"}],
                     "offers": [{"px": {"value": "0.56", "currency": "USD"}, "qty": "800"}],
                     "state": 1, "transact_time": "2024-01-15T10:30:00Z"}}

Prices arrive as strings in the WebSocket examples and as JSON numbers in the REST
reference, so ``value`` and ``qty`` accept both; the protocol turns either into exact
fixed point (a JSON number through its shortest round-trip text, i.e. the text sent).
Frames other than market data (heartbeats, acknowledgements, errors) decode into the same
wide :class:`WsFrame` with ``market_data`` unset. Unknown keys are ignored.

What we send: ``{"subscribe": {"request_id", "subscription_type": 1, "market_slugs": [...]}}``
(at most 100 slugs, :data:`MAX_MARKETS_PER_SUBSCRIPTION`), with ``"debounce": true`` when
asked for; and ``{"unsubscribe": {"request_id": ...}}`` naming the subscription to end
(the documentation shows no unsubscribe example; this is the conservative reading: end a
subscription by the id that opened it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

import msgspec

__all__ = [
    "DECODER",
    "MARKET_DATA",
    "MAX_MARKETS_PER_SUBSCRIPTION",
    "WsError",
    "WsFrame",
    "WsLevel",
    "WsMarketData",
    "WsPx",
    "subscribe_frame",
    "unsubscribe_frame",
]

MARKET_DATA: Final = 1
"""``subscription_type`` of the full book with market stats."""
MAX_MARKETS_PER_SUBSCRIPTION: Final = 100


class WsPx(msgspec.Struct, gc=False):
    """A price: ``{"value": "0.54", "currency": "USD"}``."""

    value: str | int | float
    currency: str = "USD"


class WsLevel(msgspec.Struct, gc=False):
    """One level: a price and a quantity (contracts; partial contracts allowed)."""

    px: WsPx
    qty: str | int | float


class WsMarketData(msgspec.Struct, kw_only=True, gc=False):
    """The ``market_data`` body: one market's book (levels best first)."""

    market_slug: str
    bids: list[WsLevel] | None = None
    offers: list[WsLevel] | None = None
    state: int | str | None = None
    transact_time: str = ""


class WsError(msgspec.Struct, kw_only=True, gc=False):
    """An error body (``{"error": {"code", "message"}}``), or a bare string message."""

    code: int | str | None = None
    message: str = ""


class WsFrame(msgspec.Struct, kw_only=True, gc=False):
    """Any frame of the markets socket; which fields are set depends on its kind."""

    request_id: str = ""
    subscription_type: int = 0
    market_data: WsMarketData | None = None
    error: WsError | str | None = None


DECODER: Final = msgspec.json.Decoder(WsFrame)


def subscribe_frame(request_id: str, slugs: Sequence[str], *, debounce: bool = False) -> str:
    """Subscribe ``slugs`` (1..100) to full market data under ``request_id``."""
    if not 0 < len(slugs) <= MAX_MARKETS_PER_SUBSCRIPTION:
        raise ValueError(f"a subscription holds 1..100 markets, not {len(slugs)}")
    body: dict[str, object] = {
        "request_id": request_id,
        "subscription_type": MARKET_DATA,
        "market_slugs": list(slugs),
    }
    if debounce:
        body["debounce"] = True
    return json.dumps({"subscribe": body}, separators=(",", ":"))


def unsubscribe_frame(request_id: str) -> str:
    """End the subscription opened under ``request_id``."""
    return json.dumps({"unsubscribe": {"request_id": request_id}}, separators=(",", ":"))
