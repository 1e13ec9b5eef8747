"""The Polymarket venue: market-channel protocol and books (sans-io), feed, REST client.

Layers: :mod:`.wire` (schemas), :mod:`.book`, :mod:`.events`, :mod:`.protocol` and
:mod:`.models` are pure (L1); :mod:`.feed`, :mod:`.rest` and :mod:`.replay` do I/O on Trio
(L2, on the shared :mod:`arbees.wsdriver`). Nothing here imports another venue.
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
from arbees.polymarket.feed import (
    BookUpdate,
    FeedConfig,
    FeedStats,
    PolymarketFeed,
    open_polymarket_feed,
)
from arbees.polymarket.models import FeeSchedule, GammaEvent, GammaMarket, Outcome, RestBook
from arbees.polymarket.protocol import PolymarketProtocol, ProtocolStats, is_token_id
from arbees.polymarket.replay import TopRow, fold_recording, read_recording, record
from arbees.polymarket.rest import PolymarketRest, RestConfig, open_polymarket_http
from arbees.polymarket.wire import subscribe_frame, update_frame

__all__ = [
    "BestBidAsk",
    "BookChanged",
    "BookUpdate",
    "Event",
    "FeeSchedule",
    "FeedConfig",
    "FeedStats",
    "GammaEvent",
    "GammaMarket",
    "LastTrade",
    "MarketResolved",
    "NewMarket",
    "Outcome",
    "PolymarketFeed",
    "PolymarketProtocol",
    "PolymarketRest",
    "ProtocolStats",
    "RestBook",
    "RestConfig",
    "TickSizeChanged",
    "TokenBook",
    "TopOfBook",
    "TopRow",
    "fold_recording",
    "is_token_id",
    "mirror_view",
    "open_polymarket_feed",
    "open_polymarket_http",
    "read_recording",
    "record",
    "subscribe_frame",
    "update_frame",
]
