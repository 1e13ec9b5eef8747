"""Polymarket as a :class:`~arbees.venues.base.Venue`."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from arbees.identifiers import is_token_id
from arbees.polymarket.audit import AuditConfig, AuditedFeed, AuditStats
from arbees.polymarket.feed import BookUpdate, FeedConfig, PolymarketFeed
from arbees.polymarket.rest import PolymarketRest
from arbees.services.quotes import Quote, quote_from_view
from arbees.venues.base import Venue

__all__ = ["POLYMARKET", "polymarket_feed", "polymarket_quote"]


def polymarket_feed(
    tokens: Iterable[str] = (),
    *,
    config: FeedConfig | None = None,
    rest: PolymarketRest | None = None,
    audit: AuditConfig | None = None,
    allowed: Callable[[], bool] | None = None,
    audit_stats: AuditStats | None = None,
) -> PolymarketFeed:
    """A Polymarket feed for ``tokens``; with ``rest`` (and an enabled ``audit``) its books
    are audited over REST inside its ``run`` (:class:`~arbees.polymarket.audit.AuditedFeed`)."""
    config = config or FeedConfig()
    if rest is None or (audit is not None and not audit.enabled):
        return PolymarketFeed(tokens, config)
    return AuditedFeed(tokens, config, rest, audit=audit, allowed=allowed, audit_stats=audit_stats)


def polymarket_quote(update: BookUpdate) -> Quote:
    """A token's asks and, mirrored from its bids, the complementary outcome's."""
    return quote_from_view(update.view)


POLYMARKET = Venue("polymarket", feed=polymarket_feed, quote=polymarket_quote, accepts=is_token_id)
