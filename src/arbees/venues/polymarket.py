"""Polymarket as a :class:`~arbees.venues.base.Venue`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from arbees.errors import ConfigError, DecodeError
from arbees.fees import POLYMARKET_SPORTS_RATE, MarketFees, PolymarketFeeModel
from arbees.identifiers import is_token_id
from arbees.money import Fixed, parse_fixed
from arbees.polymarket.audit import AuditConfig, AuditedFeed, AuditStats
from arbees.polymarket.feed import BookUpdate, FeedConfig, PolymarketFeed
from arbees.polymarket.models import GammaMarket
from arbees.polymarket.rest import PolymarketRest
from arbees.services.quotes import Quote, quote_from_view
from arbees.venues.base import Venue

__all__ = ["POLYMARKET", "polymarket_fee_model", "polymarket_feed", "polymarket_quote"]


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


def polymarket_fee_model(market: GammaMarket) -> MarketFees:
    """A market's fee model from its Gamma fee fields and ``orderMinSize``.

    ``feesEnabled: false`` -> no fee. A schedule the fee model takes (rate in [0, 1) with at
    most 6 decimals, whole exponent 1-4) -> its rate and exponent. Anything else (no
    schedule, an unusable one) -> :data:`~arbees.fees.POLYMARKET_SPORTS_RATE`, marked
    ``defaulted``: a fee is never guessed low.
    """
    size = _min_order_size(market)
    if market.fees_enabled is False:
        return MarketFees(PolymarketFeeModel(Decimal(0), enabled=False, min_order_size=size))
    schedule = market.fee_schedule
    if schedule is not None:
        exponent = schedule.exponent
        if exponent.is_finite() and exponent == exponent.to_integral_value():
            try:
                return MarketFees(
                    PolymarketFeeModel(schedule.rate, int(exponent), min_order_size=size)
                )
            except ConfigError:
                pass
    return MarketFees(
        PolymarketFeeModel(POLYMARKET_SPORTS_RATE, min_order_size=size), defaulted=True
    )


def _min_order_size(market: GammaMarket) -> Fixed | None:
    """``orderMinSize`` in micro-shares; ``None`` when absent or unusable."""
    if market.min_order_size is None:
        return None
    try:
        size = parse_fixed(format(market.min_order_size, "f"), field="orderMinSize")
    except DecodeError:
        return None
    return size if size >= 0 else None


POLYMARKET = Venue(
    "polymarket",
    feed=polymarket_feed,
    quote=polymarket_quote,
    accepts=is_token_id,
    fee_model=polymarket_fee_model,
)
