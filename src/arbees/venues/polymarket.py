"""Polymarket as a :class:`~arbees.venues.base.Venue`."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Final

import attrs
import httpx
import trio

from arbees.errors import (
    ConfigError,
    DecodeError,
    DecodeRejection,
    EgressError,
    RateLimitedError,
    VenueError,
)
from arbees.fees import POLYMARKET_SPORTS_RATE, MarketFees, PolymarketFeeModel
from arbees.gate import ConnectGate
from arbees.httpcap import DEFAULT_MAX_BODY, request_capped
from arbees.identifiers import is_token_id
from arbees.matching.leagues import gamma_league, gamma_leagues
from arbees.matching.leagues import league as league_of_key
from arbees.money import Fixed, parse_fixed
from arbees.polymarket.audit import AuditConfig, AuditedFeed, AuditStats
from arbees.polymarket.feed import BookUpdate, FeedConfig, PolymarketFeed
from arbees.polymarket.models import (
    UNMAPPED_FIELD,
    GammaEvent,
    GammaMarket,
    GammaSport,
    GammaTeam,
    parse_gamma_events,
    parse_gamma_sports,
    parse_gamma_teams,
)
from arbees.polymarket.rest import PolymarketRest
from arbees.services.quotes import Quote, quote_from_view
from arbees.venues.base import Listing, Venue

__all__ = [
    "POLYMARKET",
    "GammaListings",
    "GammaStats",
    "gamma_listing",
    "polymarket_fee_model",
    "polymarket_feed",
    "polymarket_quote",
    "unmapped_sports",
]

log = logging.getLogger(__name__)

_MAX_GAMMA_PAGES: Final = 50


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
    most 6 decimals, whole exponent 0-4) -> its rate and exponent. No schedule ->
    :data:`~arbees.fees.POLYMARKET_SPORTS_RATE`, marked ``defaulted``.

    Raises :class:`~arbees.errors.ConfigError` for a schedule the fee model does not take
    (a rate with more decimals than the fixed point holds, out of range; an exponent that is
    not a whole number 0-4): such a market is refused (:func:`gamma_listing`), never priced
    on a guess — the sports rate could be below its real one.
    """
    size = _min_order_size(market)
    if market.fees_enabled is False:
        return MarketFees(PolymarketFeeModel(Decimal(0), enabled=False, min_order_size=size))
    schedule = market.fee_schedule
    if schedule is None:
        return MarketFees(
            PolymarketFeeModel(POLYMARKET_SPORTS_RATE, min_order_size=size), defaulted=True
        )
    exponent = schedule.exponent
    if not exponent.is_finite() or exponent != exponent.to_integral_value():
        raise ConfigError(f"fee exponent is not a whole number: {exponent}")
    try:
        model = PolymarketFeeModel(schedule.rate, int(exponent), min_order_size=size)
    except (ArithmeticError, ValueError) as exc:  # a rate Decimal cannot scale
        raise ConfigError(f"unusable fee rate: {schedule.rate}") from exc
    return MarketFees(model)


def _min_order_size(market: GammaMarket) -> Fixed | None:
    """``orderMinSize`` in micro-shares; ``None`` when absent or unusable."""
    if market.min_order_size is None:
        return None
    try:
        size = parse_fixed(format(market.min_order_size, "f"), field="orderMinSize")
    except DecodeError:
        return None
    return size if size >= 0 else None


def gamma_listing(
    events: Sequence[GammaEvent], rejected: Iterable[DecodeRejection] = ()
) -> Listing:
    """Decoded Gamma events as a :class:`Listing`: each market's fee model by condition id.

    A market whose fee schedule the fee model refuses (:func:`polymarket_fee_model`) is
    taken out of its event and refused (logged, and counted in the match report), so it is
    never matched and priced on a default.
    """
    fees: dict[str, MarketFees] = {}
    refused = list(rejected)
    kept: list[GammaEvent] = []
    for event in events:
        markets = []
        for m in event.markets:
            try:
                model = polymarket_fee_model(m)
            except ConfigError as exc:
                item = m.condition_id or m.id
                log.warning("polymarket market %.80s refused: unusable fee (%s)", item, exc)
                refused.append(DecodeRejection(item, f"unusable fee: {exc}", "feeSchedule"))
                continue
            markets.append(m)
            if m.condition_id:
                fees[m.condition_id] = model
        kept.append(event if len(markets) == len(event.markets) else _with(event, markets))
    return Listing(tuple(kept), tuple(refused), fees)


def _with(event: GammaEvent, markets: list[GammaMarket]) -> GammaEvent:
    return attrs.evolve(event, markets=tuple(markets))


@attrs.define
class GammaStats:
    """What Gamma discovery saw, over every round (see :class:`GammaListings`).

    Attributes:
        rounds: discovery rounds fetched.
        sports: ``/sports`` entries decoded in the last round.
        unmapped: ``/sports`` entries of the last round whose sport code the league table
            does not map (reported as ``unmapped`` rejections).
        failed_leagues: leagues whose events could not be fetched, over every round.
        rate_limited: HTTP 429 answers waited out, over every round.
    """

    rounds: int = 0
    sports: int = 0
    unmapped: int = 0
    failed_leagues: int = 0
    rate_limited: int = 0


LEAGUE_FAILED_FIELD: Final = "series"
"""The field a league whose events could not be fetched this round is refused under."""
PROGRESS_AFTER: Final = 3.0
"""Seconds into a round after which each league fetched is logged (progress)."""
_RATE_LIMIT_RETRIES: Final = 3
_MAX_RETRY_AFTER: Final = 10.0


def unmapped_sports(sports: Iterable[GammaSport]) -> list[DecodeRejection]:
    """One rejection per ``/sports`` entry whose sport code the league table does not map:
    reported (counted, logged, ``unmapped`` in ``arbees match``), never silently ignored."""
    return [
        DecodeRejection(
            f"sport:{s.sport}",
            f"unmapped: Gamma sport {s.sport!r} (series {s.series}) is no league of the table",
            UNMAPPED_FIELD,
        )
        for s in sports
        if gamma_league(s.sport) is None
    ]


class GammaListings:
    """Open Polymarket games from Gamma: ``/sports`` says which sports exist and each one's
    series id; each wanted league's events are then read by ``/events?series_id=`` (every
    page decoded once by :func:`~arbees.polymarket.models.parse_gamma_events` as it
    arrives).

    The league table (:mod:`arbees.matching.leagues`) maps each sport code to our league;
    a ``/sports`` entry it does not map is reported (:func:`unmapped_sports`), as is a
    wanted league no entry names. A league whose pages fail (HTTP error, a body that is not
    a list of events) is refused for this round under ``series`` and the others go on;
    ``/sports`` itself failing fails the round. A 429 is waited out (``Retry-After``,
    capped) a few times before the request fails. The events are kept as Gamma sent them
    (``arbees match`` on the saved bodies sees the same typed events): an event's league is
    still checked from its own slug, ``seriesSlug``, tags and ``sport``. After
    :data:`PROGRESS_AFTER` seconds each league fetched is logged.

    Gamma is Polymarket: with a ``gate`` (the egress gate of
    :func:`arbees.egress.open_polymarket_route`) no request leaves without a fresh verified
    egress, a round is cancelled the moment egress is lost, and a 403/451 asks for a
    re-check. Every body is read with a byte cap.

    Args:
        client: an ``httpx.AsyncClient`` for Gamma (owned by the caller).
        url: Gamma base URL.
        leagues: our league keys to discover (``NBA``...); none: every league of the table.
        page_size: Gamma ``limit`` per page.
        gate: asked before every request (``None``: none, tests only).
        max_body: bytes per answer.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        url: str,
        leagues: Sequence[str] = (),
        page_size: int = 100,
        gate: ConnectGate | None = None,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.client = client
        self.url = url.rstrip("/")
        self.leagues = tuple(leagues)
        self.page_size = page_size
        self.gate = gate
        self.max_body = max_body
        self.stats = GammaStats()

    def __repr__(self) -> str:
        return f"<GammaListings {self.url} leagues={','.join(self.leagues) or 'all'}>"

    async def fetch(self) -> Listing:
        gate = self.gate
        if gate is None:
            return await self._round()
        await gate.ensure()  # fail this round now rather than wait for egress
        async with gate.connection():
            return await self._round()
        # only reached when the gate cancelled the block: egress was lost mid-round
        raise EgressError("Gamma discovery stopped: egress was lost during the round")

    async def teams(self) -> tuple[list[GammaTeam], list[DecodeRejection]]:
        """Gamma's team catalogue (``/teams``, every page), each page decoded once by
        :func:`~arbees.polymarket.models.parse_gamma_teams`, under the same gate."""
        gate = self.gate
        if gate is None:
            return await self._team_pages()
        await gate.ensure()
        async with gate.connection():
            return await self._team_pages()
        raise EgressError("Gamma /teams stopped: egress was lost during the request")

    async def _team_pages(self) -> tuple[list[GammaTeam], list[DecodeRejection]]:
        teams: list[GammaTeam] = []
        rejected: list[DecodeRejection] = []
        for page in range(_MAX_GAMMA_PAGES):
            params = {"limit": str(self.page_size), "offset": str(page * self.page_size)}
            body = await self._get("/teams", params, field="teams")
            found, refused = parse_gamma_teams(body)
            teams.extend(found)
            rejected.extend(refused)
            if len(body) < self.page_size:
                break
        return teams, rejected

    async def _round(self) -> Listing:
        self.stats.rounds += 1
        sports, rejected_sports = parse_gamma_sports(await self._get("/sports", {}, field="sports"))
        unmapped = unmapped_sports(sports)
        self.stats.sports, self.stats.unmapped = len(sports), len(unmapped)
        if unmapped:
            log.info(
                "gamma: %d /sports entries map to no league: %s",
                len(unmapped),
                ", ".join(s.sport for s in sports if gamma_league(s.sport) is None)[:500],
            )
        rejected: dict[DecodeRejection, None] = dict.fromkeys([*rejected_sports, *unmapped])
        wanted = [key for key in gamma_leagues(self.leagues) if league_of_key(key) is not None]
        todo: list[tuple[str, GammaSport]] = []
        for key in wanted:
            entries = [s for s in sports if (lg := gamma_league(s.sport)) and lg.key == key]
            if not entries:
                reason = f"no Gamma /sports entry for league {key}"
                rejected[DecodeRejection(f"league:{key}", reason, UNMAPPED_FIELD)] = None
            todo.extend((key, entry) for entry in entries)
        seen: dict[str, GammaEvent] = {}
        began = trio.current_time()
        failed = 0
        for done, (key, sport) in enumerate(todo, 1):
            try:
                await self._series(sport, seen, rejected)
            except (VenueError, DecodeError) as exc:  # this league only; EgressError ends it
                failed += 1
                self.stats.failed_leagues += 1
                log.warning("gamma: league %s (series %s) failed: %s", key, sport.series, exc)
                reason = f"league {key} (series {sport.series}) not fetched: {exc}"[:300]
                rejected[DecodeRejection(f"sport:{sport.sport}", reason, LEAGUE_FAILED_FIELD)] = (
                    None
                )
            if trio.current_time() - began > PROGRESS_AFTER:
                log.info(
                    "gamma discovery: %d/%d sports fetched (%s), %d events so far, %.0f s",
                    done,
                    len(todo),
                    sport.sport,
                    len(seen),
                    trio.current_time() - began,
                )
        log.info(
            "gamma: round %d: %d sports (%d unmapped), %d fetched (%d failed), %d events; "
            "%d rate limits waited out so far",
            self.stats.rounds,
            len(sports),
            len(unmapped),
            len(todo),
            failed,
            len(seen),
            self.stats.rate_limited,
        )
        return gamma_listing(list(seen.values()), rejected)

    async def _series(
        self,
        sport: GammaSport,
        seen: dict[str, GammaEvent],
        rejected: dict[DecodeRejection, None],
    ) -> None:
        found: dict[str, GammaEvent] = {}
        refusals: list[DecodeRejection] = []
        for page in range(_MAX_GAMMA_PAGES):
            params = {
                "series_id": sport.series,
                "closed": "false",
                "limit": str(self.page_size),
                "offset": str(page * self.page_size),
            }
            body = await self._get("/events", params)
            events, refused = parse_gamma_events(body, first_index=page * self.page_size)
            for event in events:
                found.setdefault(event.id or f"slug:{event.slug}", event)
            refusals.extend(refused)
            if len(body) < self.page_size:
                break
        else:
            log.warning(
                "gamma: stopped after %d pages of series %s", _MAX_GAMMA_PAGES, sport.series
            )
        # a league that failed half-way keeps nothing of this round: all or none
        for ident, event in found.items():
            seen.setdefault(ident, event)
        rejected.update(dict.fromkeys(refusals))

    async def _get(
        self, path: str, params: dict[str, str], *, field: str = "events"
    ) -> list[object]:
        for attempt in range(_RATE_LIMIT_RETRIES + 1):
            if self.gate is not None:
                await self.gate.ensure()
            try:
                resp = await request_capped(
                    self.client, "GET", self.url + path, max_bytes=self.max_body, params=params
                )
            except httpx.HTTPError as exc:
                raise VenueError(f"Gamma GET {path} failed: {type(exc).__name__}") from exc
            if resp.status_code != 429:
                break
            self.stats.rate_limited += 1
            if attempt == _RATE_LIMIT_RETRIES:
                raise RateLimitedError(f"Gamma GET {path}: HTTP 429 after {attempt} retries")
            await trio.sleep(_retry_after(resp.headers.get("retry-after"), attempt))
        if resp.status_code != 200 and self.gate is not None:
            self.gate.refused(resp.status_code, f"Gamma GET {path}")
        if resp.status_code != 200:
            raise VenueError(f"Gamma GET {path}: HTTP {resp.status_code}")
        try:
            body = json.loads(resp.content, parse_float=Decimal)
        except (ValueError, RecursionError):
            raise DecodeError(f"Gamma GET {path}: body is not JSON") from None
        if not isinstance(body, list):
            raise DecodeError(f"Gamma GET {path}: expected an array", field=field)
        return body


def _retry_after(header: str | None, attempt: int) -> float:
    """Seconds to wait after a 429: a numeric ``Retry-After`` (capped), else 1, 2, 4 s."""
    try:
        value = float(header) if header is not None else None
    except ValueError:
        value = None
    if value is None or not value >= 0:
        value = float(2**attempt)
    return min(value, _MAX_RETRY_AFTER)


POLYMARKET = Venue(
    "polymarket",
    feed=polymarket_feed,
    quote=polymarket_quote,
    accepts=is_token_id,
    fee_model=polymarket_fee_model,
    listings=GammaListings,
)
