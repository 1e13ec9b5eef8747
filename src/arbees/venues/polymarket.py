"""Polymarket as a :class:`~arbees.venues.base.Venue`."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Final

import attrs
import httpx

from arbees.errors import ConfigError, DecodeError, DecodeRejection, EgressError, VenueError
from arbees.fees import POLYMARKET_SPORTS_RATE, MarketFees, PolymarketFeeModel
from arbees.gate import ConnectGate
from arbees.httpcap import DEFAULT_MAX_BODY, request_capped
from arbees.identifiers import is_token_id
from arbees.money import Fixed, parse_fixed
from arbees.polymarket.audit import AuditConfig, AuditedFeed, AuditStats
from arbees.polymarket.feed import BookUpdate, FeedConfig, PolymarketFeed
from arbees.polymarket.models import (
    GammaEvent,
    GammaMarket,
    GammaTeam,
    parse_gamma_events,
    parse_gamma_teams,
)
from arbees.polymarket.rest import PolymarketRest
from arbees.services.quotes import Quote, quote_from_view
from arbees.venues.base import Listing, Venue

__all__ = [
    "POLYMARKET",
    "GammaListings",
    "gamma_listing",
    "polymarket_fee_model",
    "polymarket_feed",
    "polymarket_quote",
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


class GammaListings:
    """Open Polymarket events from Gamma ``/events``, per league tag, each page decoded once
    by :func:`~arbees.polymarket.models.parse_gamma_events` as it arrives.

    Gamma is Polymarket: with a ``gate`` (the egress gate of
    :func:`arbees.egress.open_polymarket_route`) no request leaves without a fresh verified
    egress, a round is cancelled the moment egress is lost, and a 403/451 asks for a
    re-check. Every body is read with a byte cap.

    Args:
        client: an ``httpx.AsyncClient`` for Gamma (owned by the caller).
        url: Gamma base URL.
        tags: Gamma tag slugs (``nba``...); none: every open event.
        page_size: Gamma ``limit`` per page.
        gate: asked before every request (``None``: none, tests only).
        max_body: bytes per answer.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        url: str,
        tags: Sequence[str] = (),
        page_size: int = 100,
        gate: ConnectGate | None = None,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.client = client
        self.url = url.rstrip("/")
        self.tags = tuple(tags)
        self.page_size = page_size
        self.gate = gate
        self.max_body = max_body

    def __repr__(self) -> str:
        return f"<GammaListings {self.url} tags={','.join(self.tags)}>"

    async def fetch(self) -> Listing:
        gate = self.gate
        if gate is None:
            return await self._pages()
        await gate.ensure()  # fail this round now rather than wait for egress
        async with gate.connection():
            return await self._pages()
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

    async def _pages(self) -> Listing:
        seen: dict[str, GammaEvent] = {}
        rejected: dict[DecodeRejection, None] = {}  # a page seen under two tags refuses twice
        for tag in self.tags or ("",):
            for page in range(_MAX_GAMMA_PAGES):
                params = {
                    "closed": "false",
                    "limit": str(self.page_size),
                    "offset": str(page * self.page_size),
                }
                if tag:
                    params["tag_slug"] = tag
                body = await self._get("/events", params)
                events, refused = parse_gamma_events(body, first_index=page * self.page_size)
                for event in events:
                    seen.setdefault(event.id or f"slug:{event.slug}", event)
                rejected.update(dict.fromkeys(refused))
                if len(body) < self.page_size:
                    break
            else:
                log.warning("gamma: stopped after %d pages of tag %r", _MAX_GAMMA_PAGES, tag)
        return gamma_listing(list(seen.values()), rejected)

    async def _get(
        self, path: str, params: dict[str, str], *, field: str = "events"
    ) -> list[object]:
        if self.gate is not None:
            await self.gate.ensure()
        try:
            resp = await request_capped(
                self.client, "GET", self.url + path, max_bytes=self.max_body, params=params
            )
        except httpx.HTTPError as exc:
            raise VenueError(f"Gamma GET {path} failed: {type(exc).__name__}") from exc
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


POLYMARKET = Venue(
    "polymarket",
    feed=polymarket_feed,
    quote=polymarket_quote,
    accepts=is_token_id,
    fee_model=polymarket_fee_model,
    listings=GammaListings,
)
