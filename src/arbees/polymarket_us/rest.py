"""Polymarket US REST market data, over an injected ``httpx.AsyncClient``.

Market data (``/v1/events``, ``/v1/markets``, a market's book and best bid/offer) needs no
key; the venue allows about 20 requests a second per IP, so every request waits for its
slot (:attr:`RestConfig.rate_per_s`, configurable). Every body is read with a byte cap
(:mod:`arbees.httpcap`) and decoded once by :mod:`arbees.polymarket_us.models` (JSON
numbers as ``Decimal``, never a binary float).

Every call goes through :func:`arbees.restjson.request_json`, the one boundary from HTTP to
the project's exceptions: 404 -> :class:`NotFoundError`, 401/403 -> :class:`AuthError`;
429, 5xx and transport errors are retried with full-jitter backoff (honouring a numeric
``Retry-After``, capped) and end in :class:`RateLimitedError` / :class:`VenueError`.

Polymarket US is reached directly: no egress check, no VPN route, no proxy.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from urllib.parse import quote

import attrs
import httpx
import trio

from arbees.errors import ConfigError, DecodeError, DecodeRejection
from arbees.httpcap import DEFAULT_MAX_BODY
from arbees.identifiers import is_market_slug
from arbees.polymarket_us.models import (
    Bbo,
    RestBook,
    UsEvent,
    UsMarket,
    parse_bbo,
    parse_book,
    parse_events,
    parse_markets,
)
from arbees.restjson import JSON_HEADERS, request_json
from arbees.wsdriver import Backoff

__all__ = [
    "DEFAULT_REST_URL",
    "PolymarketUsRest",
    "RateLimiter",
    "RestConfig",
    "RestStats",
    "open_polymarket_us_http",
]

log = logging.getLogger(__name__)

DEFAULT_REST_URL = "https://gateway.polymarket.us"


@attrs.frozen
class RestConfig:
    """REST settings.

    Attributes:
        base_url: the public gateway.
        rate_per_s: requests per second at most (the venue's ~20/s per IP).
        retries: retries after the first attempt on 429/5xx/transport errors.
        backoff: retry delays (full jitter).
        max_retry_after: cap on a server-sent ``Retry-After`` (seconds).
        page_size: ``limit`` per page of ``/v1/events`` and ``/v1/markets``.
        max_pages: pages fetched at most per listing.
        max_body: bytes; a longer answer is a :class:`~arbees.httpcap.BodyTooLargeError`.
    """

    base_url: str = DEFAULT_REST_URL
    rate_per_s: float = 20.0
    retries: int = 4
    backoff: Backoff = attrs.field(factory=lambda: Backoff(base=0.25, cap=5.0))
    max_retry_after: float = 10.0
    page_size: int = 100
    max_pages: int = 50
    max_body: int = DEFAULT_MAX_BODY

    def __attrs_post_init__(self) -> None:
        if not self.rate_per_s > 0:
            raise ConfigError(f"Polymarket US REST rate must be > 0 per second: {self.rate_per_s}")
        if self.page_size < 1 or self.max_pages < 1 or self.retries < 0:
            raise ConfigError("page_size and max_pages must be >= 1, retries >= 0")


@attrs.define
class RestStats:
    """REST counters.

    Attributes:
        requests: HTTP requests sent.
        retries: retried attempts.
        waited: requests that had to wait for their rate-limit slot.
    """

    requests: int = 0
    retries: int = 0
    waited: int = 0


class RateLimiter:
    """At most ``rate_per_s`` starts a second: each caller takes the next free slot.

    ``clock`` defaults to Trio's (so a test's autojump clock drives it).
    """

    def __init__(
        self,
        rate_per_s: float,
        *,
        clock: Callable[[], float] = trio.current_time,
    ) -> None:
        self.interval = 1.0 / rate_per_s
        self._clock = clock
        self._next = float("-inf")

    async def wait(self) -> bool:
        """Wait for this request's slot; True when it had to wait."""
        now = self._clock()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await trio.sleep(slot - now)
            return True
        return False


@asynccontextmanager
async def open_polymarket_us_http(
    request_timeout: float = 10.0,
) -> AsyncIterator[httpx.AsyncClient]:
    """An ``httpx.AsyncClient`` with a real User-Agent, direct (no proxy, ``trust_env`` off
    so an ambient ``HTTPS_PROXY`` cannot route it through the VPN)."""
    async with httpx.AsyncClient(
        headers=JSON_HEADERS,
        timeout=request_timeout,
        trust_env=False,
    ) as client:
        yield client


class PolymarketUsRest:
    """Polymarket US public market data (see the module docstring)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        config: RestConfig | None = None,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.config = config or RestConfig()
        self.stats = RestStats()
        self.limiter = RateLimiter(self.config.rate_per_s)
        self._rng = rng or random.Random()

    async def book(self, slug: str) -> RestBook:
        """``GET /v1/markets/{slug}/book``: the full book, levels best first."""
        return parse_book(await self._request(f"/v1/markets/{_path_slug(slug)}/book", None))

    async def bbo(self, slug: str) -> Bbo:
        """``GET /v1/markets/{slug}/bbo``: best prices and the level COUNTS of each side."""
        return parse_bbo(await self._request(f"/v1/markets/{_path_slug(slug)}/bbo", None))

    async def iter_event_pages(
        self, **params: str
    ) -> AsyncIterator[tuple[list[UsEvent], list[DecodeRejection]]]:
        """``GET /v1/events`` page by page (limit/offset): each page's events and refusals."""
        async for body in self._pages("/v1/events", params):
            yield parse_events(body)

    async def markets(self, **params: str) -> tuple[list[UsMarket], list[DecodeRejection]]:
        """Every market of ``GET /v1/markets`` matching ``params``, and the refusals."""
        markets: list[UsMarket] = []
        refused: list[DecodeRejection] = []
        async for body in self._pages("/v1/markets", params):
            page, bad = parse_markets(body)
            markets += page
            refused += bad
        return markets, refused

    # -- internals ------------------------------------------------------------------------

    async def _pages(self, path: str, params: dict[str, str]) -> AsyncIterator[object]:
        limit = self.config.page_size
        for page in range(self.config.max_pages):
            query = {**params, "limit": str(limit), "offset": str(page * limit)}
            body = await self._request(path, query)
            yield body
            items = body.get(path.rsplit("/", 1)[1]) if isinstance(body, dict) else body
            if not isinstance(items, list) or len(items) < limit:
                return
        log.warning("polymarket-us REST: %s stopped at max_pages=%d", path, self.config.max_pages)

    async def _request(self, path: str, params: dict[str, str] | None) -> object:
        return await request_json(
            self.client,
            "GET",
            f"{self.config.base_url}{path}",
            config=self.config,
            stats=self.stats,
            rng=self._rng,
            where=path,
            params=params,
            before_attempt=self._wait_for_slot,
        )

    async def _wait_for_slot(self) -> None:
        if await self.limiter.wait():
            self.stats.waited += 1


def _path_slug(slug: str) -> str:
    if not is_market_slug(slug):
        raise DecodeError(f"not a market slug: {slug[:90]!r}", field="slug")
    return quote(slug, safe="")
