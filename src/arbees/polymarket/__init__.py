"""The Polymarket venue: market-channel protocol and books (sans-io), feed, REST client.

Layers: :mod:`.wire` (schemas), :mod:`.book`, :mod:`.events` and :mod:`.protocol` are pure
(L1); :mod:`.feed` and :mod:`.rest` do I/O on Trio (L2). Nothing here imports another venue.
"""

from __future__ import annotations

from arbees.polymarket.book import TokenBook, TopOfBook, mirror_view
from arbees.polymarket.events import (
    BestBidAsk,
    BookChanged,
    Event,
    LastTrade,
    MarketResolved,
    NewMarket,
    TickSizeChanged,
)
from arbees.polymarket.protocol import PolymarketProtocol, ProtocolStats, is_token_id
from arbees.polymarket.wire import subscribe_frame, update_frame

__all__ = [
    "BestBidAsk",
    "BookChanged",
    "Event",
    "LastTrade",
    "MarketResolved",
    "NewMarket",
    "PolymarketProtocol",
    "ProtocolStats",
    "TickSizeChanged",
    "TokenBook",
    "TopOfBook",
    "is_token_id",
    "mirror_view",
    "subscribe_frame",
    "update_frame",
]
