"""Kalshi REST client: market discovery, series fee models, order books, milestones, their
live game data and the structured targets (teams) they name.

The client takes an injected ``httpx.AsyncClient`` (tests pass a ``MockTransport`` or point
it at the fake venue), signs requests when a :class:`~arbees.kalshi.auth.KalshiSigner` is
configured (``timestamp + METHOD + /trade-api/v2/...`` WITHOUT the query string), spends
tokens from a per-tier token bucket before every request (Basic ≈ 20 reads/s), and backs
off exponentially (full jitter) on 429, whose body carries no Retry-After. All HTTP and
JSON failures are mapped to the project's exceptions here and nowhere else.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import trio

from arbees.errors import (
    HOSTILE_INPUT_ERRORS,
    AuthError,
    DecodeError,
    DecodeRejection,
    NotFoundError,
    RateLimitedError,
    VenueError,
)
from arbees.httpcap import DEFAULT_MAX_BODY, request_capped
from arbees.kalshi.auth import KalshiSigner
from arbees.kalshi.models import (
    MAX_LIVE_DATAS,
    MAX_TARGETS_PER_PAGE,
    Event,
    KalshiOrderbook,
    LiveData,
    Market,
    Milestone,
    Series,
    StructuredTarget,
    parse_events,
    parse_live_datas,
    parse_milestones,
    parse_orderbook,
    parse_series_list,
    parse_structured_targets,
)

__all__ = [
    "DEMO_REST_URL",
    "PROD_REST_URL",
    "TIER_READS_PER_SECOND",
    "KalshiRest",
    "TokenBucket",
    "parse_orderbook",
]

log = logging.getLogger(__name__)

PROD_REST_URL: Final = "https://external-api.kalshi.com/trade-api/v2"
DEMO_REST_URL: Final = "https://external-api.demo.kalshi.co/trade-api/v2"
TIER_READS_PER_SECOND: Final = {"basic": 20.0, "advanced": 30.0, "premier": 100.0, "prime": 400.0}
MAX_PAGES: Final = 1_000
"""Pages one cursor-paged listing follows at most (events at 200 a page: 200,000)."""
TARGET_IDS_PER_REQUEST: Final = 100
"""Structured target ids asked for in one ``GET /structured_targets`` (each repeated as
``ids=``: 100 UUIDs keep the URL near 4 kB)."""


class TokenBucket:
    """A token bucket on Trio's clock: ``rate`` tokens/s, at most ``capacity`` saved up."""

    def __init__(self, rate: float, capacity: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = capacity if capacity is not None else rate
        self._tokens = self.capacity
        self._stamp: float | None = None
        self._lock = trio.Lock()

    @classmethod
    def for_tier(cls, tier: str) -> TokenBucket:
        try:
            return cls(TIER_READS_PER_SECOND[tier.lower()])
        except KeyError:
            raise ValueError(f"unknown Kalshi tier {tier!r}") from None

    async def acquire(self) -> None:
        """Take one token, sleeping until one is available."""
        async with self._lock:
            now = trio.current_time()
            if self._stamp is not None:
                self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens < 1:
                wait = (1 - self._tokens) / self.rate
                await trio.sleep(wait)
                self._stamp = trio.current_time()
                self._tokens = 1.0
            self._tokens -= 1


class KalshiRest:
    """Read-only Kalshi REST API.

    Args:
        client: the ``httpx.AsyncClient`` to use (owned by the caller).
        base_url: API root, e.g. :data:`PROD_REST_URL` or a fake's ``rest_url``.
        signer: sign every request when given.
        limiter: token bucket (default: the Basic tier).
        max_retries: 429 retries before :class:`RateLimitedError`.
        backoff_base: first backoff ceiling in seconds (doubling, capped at ``backoff_cap``).
        max_body: bytes; a longer answer raises :class:`~arbees.httpcap.BodyTooLargeError`.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str = PROD_REST_URL,
        signer: KalshiSigner | None = None,
        limiter: TokenBucket | None = None,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        rng: random.Random | None = None,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self._client = client
        self.max_body = max_body
        self._base = base_url.rstrip("/")
        self._root_path = urlsplit(self._base).path
        self._signer = signer
        self._limiter = limiter or TokenBucket.for_tier("basic")
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._rng = rng or random.Random()
        self.retries = 0

    def __repr__(self) -> str:
        return f"<KalshiRest {self._base} signed={self._signer is not None}>"

    async def _get(self, route: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        url = self._base + route
        for attempt in range(self.max_retries + 1):
            await self._limiter.acquire()
            headers = self._signer.headers("GET", self._root_path + route) if self._signer else {}
            try:
                resp = await request_capped(
                    self._client,
                    "GET",
                    url,
                    max_bytes=self.max_body,
                    params=clean,
                    headers=headers,
                )
            except httpx.HTTPError as exc:
                raise VenueError(f"Kalshi GET {route} failed: {type(exc).__name__}") from exc
            if resp.status_code == 429:
                if attempt == self.max_retries:
                    break
                delay = self._rng.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))
                self.retries += 1
                log.info("kalshi: 429 on %s, backing off %.2fs", route, delay)
                await trio.sleep(delay)
                continue
            if resp.status_code in (401, 403):
                raise AuthError(f"Kalshi refused GET {route} (HTTP {resp.status_code})")
            if resp.status_code == 404:
                raise NotFoundError(f"Kalshi: {route} not found")
            if resp.status_code >= 400:
                raise VenueError(f"Kalshi GET {route}: HTTP {resp.status_code}")
            try:
                body = resp.json()
            except HOSTILE_INPUT_ERRORS as exc:  # not JSON, nested too deep, huge integer
                raise DecodeError(
                    f"GET {route}: response is not JSON ({type(exc).__name__})"
                ) from None
            if not isinstance(body, dict):
                raise DecodeError(f"GET {route}: expected a JSON object")
            return body
        raise RateLimitedError(
            f"Kalshi GET {route}: still HTTP 429 after {self.max_retries} retries"
        )

    async def _pages(
        self, route: str, params: dict[str, Any], *, max_pages: int | None = None
    ) -> AsyncGenerator[dict[str, Any]]:
        """Each page's body of the cursor-paged ``route``: follows ``cursor`` until it comes
        back empty, for at most ``max_pages`` (default :data:`MAX_PAGES`) pages. A cursor
        that is not a string or repeats one already followed (a venue bug would otherwise
        page forever) ends the listing, logged, as does the page bound."""
        followed: set[str] = set()
        cursor: str | None = None
        max_pages = MAX_PAGES if max_pages is None else max_pages
        for _ in range(max_pages):
            body = await self._get(route, {**params, "cursor": cursor})
            yield body
            next_cursor = body.get("cursor") or None
            if next_cursor is None:
                return
            if not isinstance(next_cursor, str) or next_cursor in followed:
                log.warning("kalshi: GET %s sent a bad or repeated cursor; listing ends", route)
                return
            followed.add(next_cursor)
            cursor = next_cursor
        log.warning("kalshi: GET %s still paging after %d pages; listing ends", route, max_pages)

    async def get_series(self, ticker: str) -> Series:
        body = await self._get(f"/series/{ticker}")
        series = body.get("series")
        if not isinstance(series, dict):
            raise DecodeError("missing", field="series")
        return Series.from_json(series)

    async def list_series(
        self, *, category: str | None = None
    ) -> tuple[list[Series], list[DecodeRejection]]:
        """``GET /series`` (of one ``category``, e.g. ``"Sports"``), each series decoded once
        by :func:`~arbees.kalshi.models.parse_series_list` (with its fee fields)."""
        return parse_series_list(await self._get("/series", {"category": category}))

    async def iter_events(
        self,
        *,
        series_ticker: str | None = None,
        status: str | None = None,
        with_nested_markets: bool = True,
        limit: int = 200,
    ) -> AsyncIterator[Event]:
        """All matching events, following ``cursor`` until it comes back empty.

        Events that cannot be decoded are logged and left out; use
        :meth:`iter_event_pages` to see them.
        """
        async for events, _rejected in self.iter_event_pages(
            series_ticker=series_ticker,
            status=status,
            with_nested_markets=with_nested_markets,
            limit=limit,
        ):
            for event in events:
                yield event

    async def iter_event_pages(
        self,
        *,
        series_ticker: str | None = None,
        status: str | None = None,
        with_nested_markets: bool = True,
        limit: int = 200,
    ) -> AsyncIterator[tuple[list[Event], list[DecodeRejection]]]:
        """Each page of events, decoded once by :func:`~arbees.kalshi.models.parse_events`:
        ``(events, rejected)``, following ``cursor`` until it comes back empty."""
        seen = 0
        params = {
            "series_ticker": series_ticker,
            "status": status,
            "with_nested_markets": "true" if with_nested_markets else None,
            "limit": min(limit, 200),
        }
        async with aclosing(self._pages("/events", params)) as pages:
            async for body in pages:
                if body.get("events") is not None:
                    events, rejected = parse_events(body, first_index=seen)
                    seen += len(body["events"])
                    yield events, rejected

    async def get_events(self, **filters: Any) -> list[Event]:
        return [e async for e in self.iter_events(**filters)]

    async def iter_markets(
        self,
        *,
        series_ticker: str | None = None,
        event_ticker: str | None = None,
        status: str | None = None,
        tickers: list[str] | None = None,
        limit: int = 1000,
    ) -> AsyncIterator[Market]:
        """All matching markets (``status`` takes the FILTER values: open, closed, ...)."""
        params = {
            "series_ticker": series_ticker,
            "event_ticker": event_ticker,
            "status": status,
            "tickers": ",".join(tickers) if tickers else None,
            "limit": min(limit, 1000),
        }
        async with aclosing(self._pages("/markets", params)) as pages:
            async for body in pages:
                for raw in _list(body, "markets"):
                    yield Market.from_json(raw)

    async def get_markets(self, **filters: Any) -> list[Market]:
        return [m async for m in self.iter_markets(**filters)]

    async def get_market(self, ticker: str) -> Market:
        body = await self._get(f"/markets/{ticker}")
        market = body.get("market")
        if not isinstance(market, dict):
            raise DecodeError("missing", field="market")
        return Market.from_json(market)

    async def get_orderbook(self, ticker: str, *, depth: int | None = None) -> KalshiOrderbook:
        return parse_orderbook(await self._get(f"/markets/{ticker}/orderbook", {"depth": depth}))

    async def get_milestones(
        self,
        *,
        related_event_ticker: str | None = None,
        category: str | None = None,
        minimum_start_date: datetime | None = None,
        limit: int = 100,
        max_pages: int = 10,
    ) -> tuple[list[Milestone], list[DecodeRejection]]:
        """``GET /milestones`` (e.g. those tied to one event: ``related_event_ticker``, or a
        slate: ``category="Sports"`` starting from ``minimum_start_date``, sent as RFC 3339
        UTC), each decoded once by :func:`~arbees.kalshi.models.parse_milestones`,
        following ``cursor`` for at most ``max_pages`` pages."""
        if minimum_start_date is not None and minimum_start_date.utcoffset() is None:
            raise ValueError("minimum_start_date must be timezone-aware")
        since = (
            None
            if minimum_start_date is None
            else minimum_start_date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        found: list[Milestone] = []
        rejected: list[DecodeRejection] = []
        params = {
            "related_event_ticker": related_event_ticker,
            "category": category,
            "minimum_start_date": since,
            "limit": max(1, min(limit, 500)),
        }
        async with aclosing(self._pages("/milestones", params, max_pages=max_pages)) as pages:
            async for body in pages:
                page, refused = parse_milestones(body)
                found += page
                rejected += refused
        return found, rejected

    async def get_structured_targets(
        self,
        ids: Sequence[str],
        *,
        page_size: int = 500,
        max_pages: int = 10,
    ) -> tuple[list[StructuredTarget], list[DecodeRejection]]:
        """The structured targets ``ids`` name (``GET /structured_targets?ids=..``, at most
        :data:`TARGET_IDS_PER_REQUEST` ids per request, each answer decoded once by
        :func:`~arbees.kalshi.models.parse_structured_targets`, following ``cursor`` for at
        most ``max_pages`` pages per request). An id Kalshi does not know is simply
        absent from the answer."""
        wanted = sorted(set(ids))
        found: list[StructuredTarget] = []
        rejected: list[DecodeRejection] = []
        for start in range(0, len(wanted), TARGET_IDS_PER_REQUEST):
            chunk = wanted[start : start + TARGET_IDS_PER_REQUEST]
            params = {
                "ids": chunk,
                "page_size": max(1, min(page_size, MAX_TARGETS_PER_PAGE)),
            }
            async with aclosing(
                self._pages("/structured_targets", params, max_pages=max_pages)
            ) as pages:
                async for body in pages:
                    page, refused = parse_structured_targets(body)
                    found += page
                    rejected += refused
        return found, rejected

    async def get_live_datas(
        self, milestone_ids: list[str]
    ) -> tuple[list[LiveData], list[DecodeRejection]]:
        """``GET /live_data/batch`` for up to :data:`~arbees.kalshi.models.MAX_LIVE_DATAS`
        milestones (``milestone_ids`` repeated in the query)."""
        if not 0 < len(milestone_ids) <= MAX_LIVE_DATAS:
            raise ValueError(f"1..{MAX_LIVE_DATAS} milestone ids, got {len(milestone_ids)}")
        return parse_live_datas(
            await self._get("/live_data/batch", {"milestone_ids": list(milestone_ids)})
        )


def _list(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = body.get(key)
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise DecodeError("expected a list of objects", field=key)
    return items
