"""Kalshi venue: RSA-PSS auth, the sans-io v2 protocol, exact books, the feed and REST.

Layers inside the package: ``wire``/``levels``/``book``/``events``/``protocol`` are pure
(no I/O, tested from sample frames); ``auth`` signs; ``feed`` and ``rest`` do the I/O;
``replay`` folds recordings; ``bench`` measures the parse path.
"""

from __future__ import annotations

from arbees.kalshi.auth import KalshiSigner, load_private_key
from arbees.kalshi.book import KalshiBook
from arbees.kalshi.events import KalshiStats
from arbees.kalshi.feed import (
    DEMO_WS_URL,
    PROD_WS_URL,
    KalshiBookUpdate,
    KalshiFeed,
    open_kalshi_feed,
)
from arbees.kalshi.models import Event, KalshiOrderbook, Market, Series
from arbees.kalshi.protocol import KalshiProtocol
from arbees.kalshi.rest import DEMO_REST_URL, PROD_REST_URL, KalshiRest, TokenBucket

__all__ = [
    "DEMO_REST_URL",
    "DEMO_WS_URL",
    "PROD_REST_URL",
    "PROD_WS_URL",
    "Event",
    "KalshiBook",
    "KalshiBookUpdate",
    "KalshiFeed",
    "KalshiOrderbook",
    "KalshiProtocol",
    "KalshiRest",
    "KalshiSigner",
    "KalshiStats",
    "Market",
    "Series",
    "TokenBucket",
    "load_private_key",
    "open_kalshi_feed",
]
