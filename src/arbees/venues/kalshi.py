"""Kalshi as a :class:`~arbees.venues.base.Venue`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from arbees.errors import (
    ArbeesError,
    ConfigError,
    DecodeRejection,
    NotFoundError,
    RateLimitedError,
)
from arbees.fees import KalshiFeeModel, MarketFees
from arbees.identifiers import is_kalshi_ticker
from arbees.kalshi.auth import KalshiSigner
from arbees.kalshi.feed import PROD_WS_URL, KalshiBookUpdate, KalshiFeed
from arbees.kalshi.models import Event, Series
from arbees.kalshi.rest import KalshiRest
from arbees.kalshi.targets import TargetCache
from arbees.matching.kalshi_structure import KalshiStructure
from arbees.matching.leagues import select_series
from arbees.money import format_fixed
from arbees.services.quotes import Quote
from arbees.venues.base import Listing, Venue

__all__ = ["KALSHI", "KalshiListings", "kalshi_fee_model", "kalshi_feed", "kalshi_quote"]

log = logging.getLogger(__name__)

_PROGRESS_AFTER: Final = 5.0
"""Seconds of discovery after which progress is logged."""
MILESTONES_LOOKBACK: Final = timedelta(hours=12)
"""The slate's milestones are those starting after now minus this (a game under way, or
listed under a start a few hours past, still has its milestone)."""
MAX_MILESTONE_PAGES: Final = 20
"""Pages of 500 sports milestones one discovery round reads at most."""


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

    With ``series`` empty the series come from the venue itself: ``GET /series`` of
    ``category``, narrowed by :func:`arbees.matching.leagues.select_series` (every game /
    total / spread series of a league in the league table, or ``leagues`` minus
    ``exclude_leagues``, of ``market_types``). A series that fails (HTTP error, bad body,
    unusable fee) is logged and refused alone; the others are still fetched. Only a rate
    limit that outlasts the client's retries stops the whole round (the venue asks us to
    slow down; the orchestrator keeps its games and retries next round).

    Once per round it also reads the slate's sports milestones (``GET /milestones``,
    category ``Sports``, starting after now minus :data:`MILESTONES_LOOKBACK`) and the
    structured targets (teams) those naming a fetched event name, through ``targets``
    (cached on disk with an expiry): :attr:`Listing.structure`, which matching reads before
    the ticker codes and names. A failing milestone or target call (any error, a rate
    limit included) costs only that: the round's events are matched by ticker and name
    (counted in :attr:`structure_failures`, logged).

    Args:
        rest: the Kalshi REST client.
        series: series tickers (``KXNBAGAME``...); empty: discovered by category.
        category: the series category to discover (``"Sports"``).
        leagues: league keys to keep (empty: all).
        exclude_leagues: league keys to leave out.
        market_types: ``moneyline`` / ``total`` / ``spread`` to keep (empty: all).
        targets_cache: the file caching Kalshi's structured targets (``None``: memory).
        clock: wall-clock time (tests).
    """

    def __init__(
        self,
        rest: KalshiRest,
        *,
        series: Sequence[str] = (),
        category: str = "Sports",
        leagues: Sequence[str] = (),
        exclude_leagues: Sequence[str] = (),
        market_types: Sequence[str] = (),
        targets_cache: Path | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.rest = rest
        self.series = tuple(series)
        self.category = category
        self.leagues = tuple(leagues)
        self.exclude_leagues = tuple(exclude_leagues)
        self.market_types = tuple(market_types)
        self.targets = TargetCache(rest.get_structured_targets, path=targets_cache)
        self.clock = clock
        self.structure_failures = 0
        """Rounds whose milestones or targets could not be read (matched by names)."""

    def __repr__(self) -> str:
        shown = ",".join(self.series) or f"category={self.category}"
        return f"<KalshiListings series={shown}>"

    async def _series(self, rejected: list[DecodeRejection]) -> dict[str, Series | None]:
        if self.series:
            return dict.fromkeys(self.series)
        listed, refused = await self.rest.list_series(category=self.category)
        rejected.extend(refused)
        by_ticker = {s.ticker: s for s in listed}
        chosen = select_series(
            by_ticker,
            leagues=self.leagues,
            exclude_leagues=self.exclude_leagues,
            market_types=self.market_types,
        )
        log.info("kalshi: %d of %d %s series chosen", len(chosen), len(listed), self.category)
        return {ticker: by_ticker[ticker] for ticker in chosen}

    async def fetch(self) -> Listing:
        """Every open event of every series; a series that fails or whose fee fields the
        fee model refuses has its events refused (one rejection naming the series)."""
        events: list[Event] = []
        rejected: list[DecodeRejection] = []
        fees: dict[str, MarketFees] = {}
        chosen = await self._series(rejected)
        started = time.monotonic()
        for done, (series, known) in enumerate(chosen.items(), 1):
            try:
                info = known if known is not None else await self.rest.get_series(series)
                try:
                    series_fees = kalshi_fee_model(info)
                except ConfigError as exc:
                    log.warning("kalshi series %s refused: unusable fee (%s)", series, exc)
                    rejected.append(
                        DecodeRejection(series, f"unusable fee: {exc}", "fee_multiplier")
                    )
                    continue
                found: list[Event] = []
                async for page, refused in self.rest.iter_event_pages(
                    series_ticker=series, status="open", with_nested_markets=True
                ):
                    found.extend(page)
                    rejected.extend(refused)
            except RateLimitedError:
                raise  # the venue is throttling: this round stops, the next one retries
            except ArbeesError as exc:
                log.warning("kalshi series %s refused: %s", series, exc)
                rejected.append(DecodeRejection(series, f"series refused: {exc}", "series"))
                continue
            events.extend(found)
            fees.update(dict.fromkeys((e.event_ticker for e in found), series_fees))
            if time.monotonic() - started > _PROGRESS_AFTER and done % 10 == 0:
                log.info(
                    "kalshi discovery: %d of %d series, %d events", done, len(chosen), len(events)
                )
        structure = await self._structure(events, rejected)
        return Listing(tuple(events), tuple(rejected), fees, structure)

    async def _structure(
        self, events: list[Event], rejected: list[DecodeRejection]
    ) -> KalshiStructure | None:
        """The milestones naming ``events`` and their teams' targets; ``None`` when a call
        fails (counted, logged: the ticker/name path matches this round)."""
        if not events:
            return None
        tickers = {e.event_ticker for e in events}
        try:
            found, refused = await self.rest.get_milestones(
                category="Sports",
                minimum_start_date=self.clock() - MILESTONES_LOOKBACK,
                limit=500,
                max_pages=MAX_MILESTONE_PAGES,
            )
            mine = [
                m
                for m in found
                if tickers.intersection(m.primary_event_tickers)
                or tickers.intersection(m.related_event_tickers)
            ]
            structure = KalshiStructure.of(mine)
            targets, bad_targets = await self.targets.get(structure.team_ids(tickers))
        except NotFoundError:
            log.info("kalshi: no milestones or targets here (HTTP 404): ticker codes and names")
            return None  # a venue (or fake) without them, as the live-data poller reads it
        except ArbeesError as exc:
            self.structure_failures += 1
            log.warning(
                "kalshi milestones/targets unavailable (%s): this round matches by ticker "
                "codes and names (%d rounds so far)",
                exc,
                self.structure_failures,
            )
            return None
        rejected.extend((*refused, *bad_targets))
        log.info(
            "kalshi: %d of %d sports milestones name a listed event, %d team targets",
            len(mine),
            len(found),
            len(targets),
        )
        return KalshiStructure.of(mine, targets)


KALSHI = Venue(
    "kalshi",
    feed=kalshi_feed,
    quote=kalshi_quote,
    accepts=is_kalshi_ticker,
    fee_model=kalshi_fee_model,
    listings=KalshiListings,
)
