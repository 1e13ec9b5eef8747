"""Kalshi as a :class:`~arbees.venues.base.Venue`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from arbees.fees import KalshiFeeModel, MarketFees
from arbees.identifiers import is_kalshi_ticker
from arbees.kalshi.auth import KalshiSigner
from arbees.kalshi.feed import PROD_WS_URL, KalshiBookUpdate, KalshiFeed
from arbees.kalshi.models import Series
from arbees.money import format_fixed
from arbees.services.quotes import Quote
from arbees.venues.base import Venue

__all__ = ["KALSHI", "kalshi_fee_model", "kalshi_feed", "kalshi_quote"]


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


KALSHI = Venue(
    "kalshi",
    feed=kalshi_feed,
    quote=kalshi_quote,
    accepts=is_kalshi_ticker,
    fee_model=kalshi_fee_model,
)
