"""Polymarket US as a :class:`~arbees.venues.base.Venue`.

Its instruments are market slugs (one two-sided market each: the feed's view is the long,
YES side; the NO asks are the mirror of its bids). It is reached directly: no egress
check, no VPN route.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from arbees.errors import ConfigError, DecodeRejection
from arbees.fees import MarketFees, PolymarketUsFeeModel
from arbees.identifiers import is_market_slug
from arbees.polymarket_us.auth import PolymarketUsSigner
from arbees.polymarket_us.feed import PROD_WS_URL, PolymarketUsFeed, PolymarketUsUpdate
from arbees.polymarket_us.maintenance import MaintenanceWindow
from arbees.polymarket_us.models import UsEvent, UsMarket
from arbees.polymarket_us.rest import PolymarketUsRest
from arbees.services.quotes import Quote, quote_from_view
from arbees.venues.base import Listing, Venue

__all__ = [
    "POLYMARKET_US",
    "PolymarketUsListings",
    "polymarket_us_fee_model",
    "polymarket_us_feed",
    "polymarket_us_quote",
]

log = logging.getLogger(__name__)

_DEFAULT_MAINTENANCE = MaintenanceWindow()


def polymarket_us_feed(
    slugs: Iterable[str] = (),
    *,
    url: str = PROD_WS_URL,
    signer: PolymarketUsSigner | None = None,
    maintenance: MaintenanceWindow | None = _DEFAULT_MAINTENANCE,
    **options: Any,
) -> PolymarketUsFeed:
    """A Polymarket US feed for market ``slugs`` (``options``: :class:`PolymarketUsFeed`'s
    keywords); the weekly maintenance window is sat out unless ``maintenance=None``."""
    return PolymarketUsFeed(slugs, signer=signer, url=url, maintenance=maintenance, **options)


def polymarket_us_quote(update: PolymarketUsUpdate) -> Quote:
    """The market's YES asks and its NO asks (the mirror of the YES bids)."""
    return quote_from_view(update.view)


def polymarket_us_fee_model(
    market: UsMarket, *, default: PolymarketUsFeeModel | None = None
) -> MarketFees:
    """The market's fee model from its own ``feeSchedule`` when it has one, otherwise
    ``default`` (the higher of the two published schedules), marked ``defaulted``."""
    schedule = market.fee_schedule
    if schedule is None:
        return MarketFees(default or PolymarketUsFeeModel(), defaulted=True)
    if schedule.kind == "notional" and schedule.taker_bps is not None:
        return MarketFees(PolymarketUsFeeModel(schedule="notional", taker_bps=schedule.taker_bps))
    if schedule.kind == "curve" and schedule.rate is not None:
        return MarketFees(PolymarketUsFeeModel(schedule="curve", rate=schedule.rate))
    raise ConfigError(f"unusable Polymarket US fee schedule: {schedule!r}")


class PolymarketUsListings:
    """Open Polymarket US events over :class:`~arbees.polymarket_us.rest.PolymarketUsRest`
    (each page decoded once by :func:`~arbees.polymarket_us.models.parse_events`), each
    market priced by :func:`polymarket_us_fee_model`; fees keyed by market slug.

    Args:
        rest: the REST client (public, rate limited, direct); ``None``: discovery of this
            venue is off (the default: ``POLYMARKET_US_REST_URL`` unset) and every
            fetch is an empty listing.
        params: extra ``/v1/events`` query parameters.
        default_fees: the fee model of a market without a schedule of its own.
    """

    def __init__(
        self,
        rest: PolymarketUsRest | None,
        *,
        params: Mapping[str, str] | None = None,
        default_fees: PolymarketUsFeeModel | None = None,
    ) -> None:
        self.rest = rest
        self.params = {"active": "true", "closed": "false", **(params or {})}
        self.default_fees = default_fees or PolymarketUsFeeModel()

    def __repr__(self) -> str:
        where = "off" if self.rest is None else self.rest.config.base_url
        return f"<PolymarketUsListings {where}>"

    async def fetch(self) -> Listing:
        """Every open event; a market whose fee schedule is unusable is refused alone."""
        if self.rest is None:
            return Listing(())
        events: list[UsEvent] = []
        rejected: list[DecodeRejection] = []
        fees: dict[str, MarketFees] = {}
        async for page, refused in self.rest.iter_event_pages(**self.params):
            events.extend(page)
            rejected.extend(refused)
            for market in (m for e in page for m in e.markets):
                try:
                    fees[market.slug] = polymarket_us_fee_model(market, default=self.default_fees)
                except ConfigError as exc:
                    rejected.append(DecodeRejection(market.slug, str(exc), "feeSchedule"))
        return Listing(tuple(events), tuple(rejected), fees)


POLYMARKET_US = Venue(
    "polymarket-us",
    feed=polymarket_us_feed,
    quote=polymarket_us_quote,
    accepts=is_market_slug,
    fee_model=polymarket_us_fee_model,
    listings=PolymarketUsListings,
)
