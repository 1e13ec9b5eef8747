"""The venue-backed :class:`~arbees.services.discovery.GameSource`.

The orchestrator (L3) must not know the venues; this is where they meet it. Each venue
body is decoded once, into typed events, by the venue's own decoder: Kalshi pages by
:func:`~arbees.kalshi.models.parse_events` inside :class:`~arbees.kalshi.rest.KalshiRest`
(cursor pagination, signing, rate limit, 429 backoff), Gamma pages by
:func:`~arbees.polymarket.models.parse_gamma_events` as they arrive. The typed events go
to :mod:`arbees.matching.venues` (the same functions ``arbees match`` uses), and every item
a decoder refused lands in the match report. Each market's fee model is its venue's
``Venue.fee_model`` of the venue's own metadata (a Kalshi series, a Gamma market); a series
whose fee fields the model refuses has its events refused, with a rejection in the report.
Every failure becomes an :class:`~arbees.errors.ArbeesError`, which the orchestrator logs
and survives.

Gamma is Polymarket: with a ``gamma_gate`` (the egress gate of
:func:`arbees.egress.open_polymarket_route`) no Gamma request leaves without a fresh
verified egress, a Gamma round is cancelled the moment egress is lost, and a 403/451 asks
for a re-check. Every body is read with a byte cap, and a whole discovery runs under
``deadline`` seconds: a venue that answers slowly (or never) costs one failed round
(:class:`~arbees.errors.VenueError`), never a hung orchestrator.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Final

import httpx
import trio

from arbees.errors import ConfigError, DecodeError, DecodeRejection, EgressError, VenueError
from arbees.fees import MarketFees
from arbees.gate import ConnectGate
from arbees.httpcap import DEFAULT_MAX_BODY, request_capped
from arbees.kalshi.models import Event
from arbees.kalshi.rest import KalshiRest
from arbees.matching import Venue
from arbees.matching.venues import (
    KALSHI_GAME_SERIES,
    decode_rejections,
    kalshi_games,
    polymarket_games,
)
from arbees.polymarket.models import GammaEvent, parse_gamma_events
from arbees.services.discovery import MatchInputs
from arbees.venues import get_venue

__all__ = [
    "DEFAULT_DISCOVERY_DEADLINE",
    "DEFAULT_SERIES",
    "VenueGameSource",
    "gamma_tags_for",
    "match_inputs",
]

log = logging.getLogger(__name__)

DEFAULT_SERIES: Final = ("KXNBAGAME", "KXNHLGAME")
_MAX_GAMMA_PAGES: Final = 50
DEFAULT_DISCOVERY_DEADLINE: Final = 120.0


def match_inputs(
    kalshi: Sequence[Event],
    gamma: Sequence[GammaEvent],
    *,
    kalshi_rejected: Iterable[DecodeRejection] = (),
    gamma_rejected: Iterable[DecodeRejection] = (),
    kalshi_series_fees: Mapping[str, MarketFees] | None = None,
) -> MatchInputs:
    """:class:`MatchInputs` from both venues' typed events and their decoders' refusals.

    Fees: each Kalshi event gets its series' model (``kalshi_series_fees``, by series
    ticker; none when the series was not fetched), each Gamma market the Polymarket venue's
    model of its fee fields.
    """
    series_fees = kalshi_series_fees or {}
    k_games, k_rej = kalshi_games(kalshi)
    p_games, p_rej = polymarket_games(gamma)
    rejections = (
        *decode_rejections(Venue.KALSHI, kalshi_rejected),
        *decode_rejections(Venue.POLYMARKET, gamma_rejected),
        *k_rej,
        *p_rej,
    )
    return MatchInputs(
        kalshi=tuple(k_games),
        polymarket=tuple(p_games),
        rejections=tuple(sorted(rejections)),
        fees={
            "kalshi": {
                e.event_ticker: series_fees[e.series_ticker]
                for e in kalshi
                if e.series_ticker in series_fees
            },
            "polymarket": {
                m.condition_id: get_venue("polymarket").fee_model(m)
                for e in gamma
                for m in e.markets
                if m.condition_id
            },
        },
    )


def gamma_tags_for(series: Sequence[str]) -> tuple[str, ...]:
    """Gamma tag slugs of the leagues of the Kalshi series (``KXNBAGAME`` -> ``nba``)."""
    return tuple(sorted({KALSHI_GAME_SERIES[s].lower() for s in series if s in KALSHI_GAME_SERIES}))


class VenueGameSource:
    """Discover open games on Kalshi (per series) and Polymarket Gamma (per league tag).

    Args:
        kalshi: the Kalshi REST client.
        gamma_client: an ``httpx.AsyncClient`` for Gamma (owned by the caller).
        gamma_url: Gamma base URL.
        series: Kalshi series tickers.
        page_size: Gamma ``limit`` per page.
        gamma_gate: asked before every Gamma request (``None``: none, tests only).
        deadline: seconds for one whole discovery (Kalshi and Gamma).
        max_body: bytes per Gamma answer.
    """

    def __init__(
        self,
        kalshi: KalshiRest,
        gamma_client: httpx.AsyncClient,
        *,
        gamma_url: str,
        series: Sequence[str] = DEFAULT_SERIES,
        page_size: int = 100,
        gamma_gate: ConnectGate | None = None,
        deadline: float = DEFAULT_DISCOVERY_DEADLINE,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        if not deadline > 0:
            raise ConfigError(f"discovery deadline must be > 0 s, got {deadline!r}")
        self.gamma_gate = gamma_gate
        self.deadline = float(deadline)
        self.max_body = max_body
        self.kalshi = kalshi
        self.gamma_client = gamma_client
        self.gamma_url = gamma_url.rstrip("/")
        self.series = tuple(series)
        self.tags = gamma_tags_for(self.series)
        self.page_size = page_size

    def __repr__(self) -> str:
        return f"<VenueGameSource series={','.join(self.series)} gamma={self.gamma_url}>"

    async def discover(self) -> MatchInputs:
        with trio.move_on_after(self.deadline) as scope:
            return await self._discover()
        assert scope.cancelled_caught
        raise VenueError(
            f"discovery did not finish within {self.deadline:g} s (DISCOVERY_DEADLINE); "
            "a venue is answering too slowly"
        )

    async def _discover(self) -> MatchInputs:
        events: list[Event] = []
        rejected: list[DecodeRejection] = []
        series_fees: dict[str, MarketFees] = {}
        for series in self.series:
            info = await self.kalshi.get_series(series)
            try:
                series_fees[series] = get_venue("kalshi").fee_model(info)
            except ConfigError as exc:
                log.warning("kalshi series %s refused: unusable fee (%s)", series, exc)
                rejected.append(DecodeRejection(series, f"unusable fee: {exc}", "fee_multiplier"))
                continue
            async for page, refused in self.kalshi.iter_event_pages(
                series_ticker=series, status="open", with_nested_markets=True
            ):
                events.extend(page)
                rejected.extend(refused)
        gamma, gamma_rejected = await self._gamma_events()
        log.info(
            "discovery: %d kalshi events (%d refused), %d gamma events (%d items refused)",
            len(events),
            len(rejected),
            len(gamma),
            len(gamma_rejected),
        )
        return match_inputs(
            events,
            gamma,
            kalshi_rejected=rejected,
            gamma_rejected=gamma_rejected,
            kalshi_series_fees=series_fees,
        )

    async def _gamma_events(self) -> tuple[list[GammaEvent], list[DecodeRejection]]:
        gate = self.gamma_gate
        if gate is None:
            return await self._gamma_pages()
        await gate.ensure()  # fail this round now rather than wait for egress
        async with gate.connection():
            return await self._gamma_pages()
        # only reached when the gate cancelled the block: egress was lost mid-round
        raise EgressError("Gamma discovery stopped: egress was lost during the round")

    async def _gamma_pages(self) -> tuple[list[GammaEvent], list[DecodeRejection]]:
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
                body = await self._gamma_get("/events", params)
                events, refused = parse_gamma_events(body, first_index=page * self.page_size)
                for event in events:
                    seen.setdefault(event.id or f"slug:{event.slug}", event)
                rejected.update(dict.fromkeys(refused))
                if len(body) < self.page_size:
                    break
            else:
                log.warning("gamma: stopped after %d pages of tag %r", _MAX_GAMMA_PAGES, tag)
        return list(seen.values()), list(rejected)

    async def _gamma_get(self, path: str, params: dict[str, str]) -> list[object]:
        if self.gamma_gate is not None:
            await self.gamma_gate.ensure()
        try:
            resp = await request_capped(
                self.gamma_client,
                "GET",
                self.gamma_url + path,
                max_bytes=self.max_body,
                params=params,
            )
        except httpx.HTTPError as exc:
            raise VenueError(f"Gamma GET {path} failed: {type(exc).__name__}") from exc
        if resp.status_code != 200 and self.gamma_gate is not None:
            self.gamma_gate.refused(resp.status_code, f"Gamma GET {path}")
        if resp.status_code != 200:
            raise VenueError(f"Gamma GET {path}: HTTP {resp.status_code}")
        try:
            body = json.loads(resp.content, parse_float=Decimal)
        except (ValueError, RecursionError):
            raise DecodeError(f"Gamma GET {path}: body is not JSON") from None
        if not isinstance(body, list):
            raise DecodeError(f"Gamma GET {path}: expected an array", field="events")
        return body
