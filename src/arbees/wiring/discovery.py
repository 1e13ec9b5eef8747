"""The venue-backed :class:`~arbees.services.discovery.GameSource`.

The orchestrator (L3) must not know the venues; this is where they meet it. Kalshi events
come from :class:`~arbees.kalshi.rest.KalshiRest` (cursor pagination, signing, rate limit,
429 backoff) and are turned back into the ``/events`` body shape the matcher's converter
reads. Gamma events are fetched here with plain ``json`` rather than through
:class:`~arbees.polymarket.rest.PolymarketRest`: that client decodes numbers as
``Decimal`` and keeps only typed fields, while the matcher's converter wants the raw body
(tags, ``seriesSlug``, raw ``feeSchedule``). Every failure becomes an
:class:`~arbees.errors.ArbeesError`, which the orchestrator logs and survives.

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
from collections.abc import Sequence
from typing import Any, Final

import httpx
import trio

from arbees.errors import ConfigError, DecodeError, EgressError, VenueError
from arbees.gate import ConnectGate
from arbees.httpcap import DEFAULT_MAX_BODY, request_capped
from arbees.kalshi.models import Event
from arbees.kalshi.rest import KalshiRest
from arbees.matching.kalshi_inputs import KALSHI_GAME_SERIES
from arbees.money import format_fixed
from arbees.services.discovery import MatchInputs, match_inputs_from_json

__all__ = [
    "DEFAULT_DISCOVERY_DEADLINE",
    "DEFAULT_SERIES",
    "VenueGameSource",
    "event_json",
    "gamma_tags_for",
]

log = logging.getLogger(__name__)

DEFAULT_SERIES: Final = ("KXNBAGAME", "KXNHLGAME")
_MAX_GAMMA_PAGES: Final = 50
DEFAULT_DISCOVERY_DEADLINE: Final = 120.0


def event_json(event: Event) -> dict[str, Any]:
    """A Kalshi :class:`Event` back in the ``/events`` shape the matcher converts."""
    return {
        "event_ticker": event.event_ticker,
        "series_ticker": event.series_ticker,
        "title": event.title,
        "sub_title": event.sub_title,
        "markets": [
            {
                "ticker": m.ticker,
                "event_ticker": m.event_ticker,
                "yes_sub_title": m.yes_sub_title,
                "no_sub_title": m.no_sub_title,
                "status": m.status,
            }
            for m in event.markets
        ],
    }


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
        events: list[dict[str, Any]] = []
        multipliers: dict[str, str] = {}
        for series in self.series:
            info = await self.kalshi.get_series(series)
            multipliers[series] = format_fixed(info.fee_multiplier)
            async for event in self.kalshi.iter_events(
                series_ticker=series, status="open", with_nested_markets=True
            ):
                events.append(event_json(event))
        gamma = await self._gamma_events()
        log.info("discovery: %d kalshi events, %d gamma events", len(events), len(gamma))
        return match_inputs_from_json({"events": events}, gamma, kalshi_fee_multipliers=multipliers)

    async def _gamma_events(self) -> list[object]:
        gate = self.gamma_gate
        if gate is None:
            return await self._gamma_pages()
        await gate.ensure()  # fail this round now rather than wait for egress
        async with gate.connection():
            return await self._gamma_pages()
        # only reached when the gate cancelled the block: egress was lost mid-round
        raise EgressError("Gamma discovery stopped: egress was lost during the round")

    async def _gamma_pages(self) -> list[object]:
        seen: dict[str, object] = {}
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
                for obj in body:
                    key = obj.get("id") if isinstance(obj, dict) else None
                    seen.setdefault(str(key) if key is not None else f"#{len(seen)}", obj)
                if len(body) < self.page_size:
                    break
            else:
                log.warning("gamma: stopped after %d pages of tag %r", _MAX_GAMMA_PAGES, tag)
        return list(seen.values())

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
            body = json.loads(resp.content)
        except (ValueError, RecursionError):
            raise DecodeError(f"Gamma GET {path}: body is not JSON") from None
        if not isinstance(body, list):
            raise DecodeError(f"Gamma GET {path}: expected an array", field="events")
        return body
