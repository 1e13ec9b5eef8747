"""Kalshi as a :class:`~arbees.venues.base.Venue`."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from arbees.errors import ConfigError, DecodeRejection
from arbees.fees import KalshiFeeModel, MarketFees
from arbees.identifiers import is_kalshi_ticker
from arbees.kalshi.auth import KalshiSigner
from arbees.kalshi.feed import PROD_WS_URL, KalshiBookUpdate, KalshiFeed
from arbees.kalshi.models import Event, Series
from arbees.kalshi.rest import KalshiRest
from arbees.money import format_fixed
from arbees.services.quotes import Quote
from arbees.venues.base import Listing, Venue

__all__ = ["KALSHI", "KalshiListings", "kalshi_fee_model", "kalshi_feed", "kalshi_quote"]

log = logging.getLogger(__name__)


def kalshi_feed(
    tickers: Iterable[str] = (),
    *,
    url: str = PROD_WS_URL,
    signer: KalshiSigner | None = None,
    **options: Any,
) -> KalshiFeed:
    """A Kalshi feed for ``tickers`` (``options``: :class:`KalshiFeed`'s keywords)."""
    return KalshiFeed(tickers, signer=signer, url=url, **options)


def kalshi_quote(update: KalshiBookUpdate) -> Quote:
    """Both outcomes' asks of one Kalshi market (its NO asks are the NO book's own)."""
    return Quote(
        venue="kalshi",
        instrument=update.ticker,
        yes_asks=update.yes.asks,
        no_asks=update.no.asks,
        stale=update.stale,
        received_ns=update.received_ns,
        venue_ts_ms=update.venue_ts_ms,
    )


def kalshi_fee_model(series: Series) -> MarketFees:
    """The taker fee model of a series' markets, from the series' ``fee_multiplier``.

    Raises :class:`~arbees.errors.ConfigError` for a multiplier the fee model does not take
    (negative, over 10): such a series is refused, never priced on a guess.
    """
    return MarketFees(KalshiFeeModel(multiplier=format_fixed(series.fee_multiplier)))


class KalshiListings:
    """The open events of Kalshi series, over :class:`~arbees.kalshi.rest.KalshiRest`
    (cursor pagination, signing, rate limit, 429 backoff; each page decoded once by
    :func:`~arbees.kalshi.models.parse_events`), each event priced by its series' fee model.

    Args:
        rest: the Kalshi REST client.
        series: series tickers (``KXNBAGAME``...).
    """

    def __init__(self, rest: KalshiRest, *, series: Sequence[str]) -> None:
        self.rest = rest
        self.series = tuple(series)

    def __repr__(self) -> str:
        return f"<KalshiListings series={','.join(self.series)}>"

    async def fetch(self) -> Listing:
        """Every open event of every series; a series whose fee fields the fee model
        refuses has its events refused (one rejection naming the series)."""
        events: list[Event] = []
        rejected: list[DecodeRejection] = []
        fees: dict[str, MarketFees] = {}
        for series in self.series:
            info = await self.rest.get_series(series)
            try:
                series_fees = kalshi_fee_model(info)
            except ConfigError as exc:
                log.warning("kalshi series %s refused: unusable fee (%s)", series, exc)
                rejected.append(DecodeRejection(series, f"unusable fee: {exc}", "fee_multiplier"))
                continue
            async for page, refused in self.rest.iter_event_pages(
                series_ticker=series, status="open", with_nested_markets=True
            ):
                events.extend(page)
                rejected.extend(refused)
                fees.update(dict.fromkeys((e.event_ticker for e in page), series_fees))
        return Listing(tuple(events), tuple(rejected), fees)


KALSHI = Venue(
    "kalshi",
    feed=kalshi_feed,
    quote=kalshi_quote,
    accepts=is_kalshi_ticker,
    fee_model=kalshi_fee_model,
    listings=KalshiListings,
)
