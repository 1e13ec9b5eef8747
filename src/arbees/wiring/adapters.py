"""Venue feeds adapted to the services' interfaces.

The services (L3) only know :class:`~arbees.services.interfaces.InstrumentFeed` and
:class:`~arbees.services.quotes.Quote`; this module is where Kalshi and Polymarket objects
meet them. The builders of :mod:`arbees.wiring` use them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import trio

from arbees.book import BookView
from arbees.kalshi.auth import KalshiSigner
from arbees.kalshi.feed import KalshiBookUpdate, KalshiFeed
from arbees.polymarket.audit import AuditConfig, AuditStats, BookAuditor
from arbees.polymarket.feed import BookUpdate, FeedConfig, PolymarketFeed
from arbees.polymarket.rest import PolymarketRest
from arbees.services.quotes import Quote, quote_from_view
from arbees.services.sources import FeedQuoteSource

__all__ = [
    "KalshiFeedAdapter",
    "PolymarketFeedAdapter",
    "kalshi_quote",
    "kalshi_source",
    "polymarket_direct_source",
    "polymarket_quote",
]


class PolymarketFeedAdapter:
    """A :class:`PolymarketFeed` as an ``InstrumentFeed``, optionally audited over REST.

    With ``rest`` (a CLOB client on the same ``httpx`` client as the egress check), a
    :class:`~arbees.polymarket.audit.BookAuditor` runs inside :meth:`run`, so the monitor —
    which runs the whole feed only while egress is verified — stops it with the feed.
    ``allowed`` is checked before every audit request as well; ``audit_stats`` lets the
    auditors of successive feeds (one per verified period) add to the same counters.
    """

    def __init__(
        self,
        tokens: Iterable[str],
        config: FeedConfig,
        *,
        rest: PolymarketRest | None = None,
        audit: AuditConfig | None = None,
        allowed: Callable[[], bool] | None = None,
        audit_stats: AuditStats | None = None,
    ) -> None:
        self.feed = PolymarketFeed(tokens, config)
        self.updates = self.feed.updates
        self.auditor: BookAuditor | None = None
        if rest is not None and (audit is None or audit.enabled):
            self.auditor = BookAuditor(self.feed, rest, audit, allowed=allowed, stats=audit_stats)

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        auditor = self.auditor
        if auditor is None:
            await self.feed.run(task_status=task_status)
            return
        async with trio.open_nursery() as nursery:
            await nursery.start(self.feed.run)
            await nursery.start(auditor.run)
            task_status.started()

    def current_view(self, instrument: str) -> BookView | None:
        """The token's current book (for a full republish), ``None`` when not tracked."""
        try:
            return self.feed.view(instrument)
        except KeyError:
            return None

    def confirmed_ns(self, instrument: str) -> int:
        """When the token's book was last confirmed current (0 while stale)."""
        return self.feed.confirmed_ns(instrument)

    async def add(self, instruments: Iterable[str]) -> None:
        await self.feed.add_tokens(instruments)

    async def remove(self, instruments: Iterable[str]) -> None:
        await self.feed.remove_tokens(instruments)


class KalshiFeedAdapter:
    """A :class:`KalshiFeed` as an ``InstrumentFeed``."""

    def __init__(self, feed: KalshiFeed) -> None:
        self.feed = feed
        self.updates = feed.updates

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        await self.feed.run(task_status=task_status)

    async def add(self, instruments: Iterable[str]) -> None:
        await self.feed.add_tickers(instruments)

    async def remove(self, instruments: Iterable[str]) -> None:
        await self.feed.remove_tickers(instruments)


def kalshi_quote(update: KalshiBookUpdate) -> Quote:
    return Quote(
        venue="kalshi",
        instrument=update.ticker,
        yes_asks=update.yes.asks,
        no_asks=update.no.asks,
        stale=update.stale,
        received_ns=update.received_ns,
        venue_ts_ms=update.venue_ts_ms,
    )


def polymarket_quote(update: BookUpdate) -> Quote:
    return quote_from_view(update.view)


def kalshi_source(url: str, signer: KalshiSigner | None, **feed_kwargs: Any) -> FeedQuoteSource:
    feed = KalshiFeed((), signer=signer, url=url, **feed_kwargs)
    adapter = KalshiFeedAdapter(feed)
    return FeedQuoteSource(
        "kalshi", adapter, kalshi_quote, alive=lambda: feed.driver.stats.last_message_ns
    )


def polymarket_direct_source(config: FeedConfig) -> FeedQuoteSource:
    adapter = PolymarketFeedAdapter((), config)

    def alive() -> int:
        feed = adapter.feed
        times = [d.stats.last_message_ns for d in feed.drivers if d.connected]
        return min(times) if times else 0

    return FeedQuoteSource("polymarket", adapter, polymarket_quote, alive=alive)
