"""Polymarket REST: CLOB books and Gamma discovery, over an injected ``httpx.AsyncClient``.

Every call goes through :func:`arbees.restjson.request_json`, the one boundary from HTTP
to the project's exceptions: 404 -> :class:`NotFoundError`,
401/403 -> :class:`AuthError`, 429 and 5xx (and transport errors) are retried with
full-jitter backoff (honouring a numeric ``Retry-After``, capped) and end in
:class:`RateLimitedError` / :class:`VenueError` when retries run out. Bodies are decoded
with ``parse_float=Decimal`` so no number passes through a binary float.

Use :func:`open_polymarket_http` for a client with a real User-Agent and an optional HTTP
proxy (the proxy URL comes from the caller — the CLI reads ``POLYMARKET_PROXY_URL``).

Every request first asks the optional ``gate`` (:mod:`arbees.gate`; the services pass the
egress gate, so no request leaves without a fresh verified egress) and reports a 403/451
to it; every body is read with a byte cap (``max_body``, :mod:`arbees.httpcap`).
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import attrs
import httpx

from arbees.config import redact_url
from arbees.errors import DecodeError
from arbees.gate import ConnectGate
from arbees.httpcap import DEFAULT_MAX_BODY
from arbees.polymarket.models import (
    GammaEvent,
    GammaMarket,
    RestBook,
    parse_gamma_event,
    parse_gamma_market,
    parse_rest_book,
)
from arbees.restjson import JSON_HEADERS, USER_AGENT, request_json
from arbees.wsdriver import Backoff

__all__ = [
    "DEFAULT_CLOB_URL",
    "DEFAULT_GAMMA_URL",
    "USER_AGENT",
    "PolymarketRest",
    "RestConfig",
    "RestStats",
    "open_polymarket_http",
]

log = logging.getLogger(__name__)

DEFAULT_CLOB_URL = "https://clob.polymarket.com"
DEFAULT_GAMMA_URL = "https://gamma-api.polymarket.com"


@attrs.frozen
class RestConfig:
    """REST settings.

    Attributes:
        clob_url: CLOB base URL.
        gamma_url: Gamma base URL.
        retries: retries after the first attempt on 429/5xx/transport errors.
        backoff: retry delays (full jitter).
        max_retry_after: cap on a server-sent ``Retry-After`` (seconds).
        page_size: Gamma ``limit`` per page.
        books_chunk: token ids per ``POST /books`` request.
        max_body: bytes; a longer answer is a :class:`~arbees.httpcap.BodyTooLargeError`.
    """

    clob_url: str = DEFAULT_CLOB_URL
    gamma_url: str = DEFAULT_GAMMA_URL
    retries: int = 4
    backoff: Backoff = attrs.field(factory=lambda: Backoff(base=0.25, cap=5.0))
    max_retry_after: float = 10.0
    page_size: int = 100
    books_chunk: int = 100
    max_body: int = DEFAULT_MAX_BODY


@attrs.define
class RestStats:
    """REST counters.

    Attributes:
        requests: HTTP requests sent.
        retries: retried attempts.
        skipped: Gamma objects that could not be decoded (logged and skipped).
    """

    requests: int = 0
    retries: int = 0
    skipped: int = 0


@asynccontextmanager
async def open_polymarket_http(
    proxy: str | None = None, request_timeout: float = 10.0
) -> AsyncIterator[httpx.AsyncClient]:
    """An ``httpx.AsyncClient`` with a real User-Agent and an optional proxy."""
    async with httpx.AsyncClient(
        headers=JSON_HEADERS,
        proxy=proxy,
        timeout=request_timeout,
    ) as client:
        yield client


class PolymarketRest:
    """CLOB + Gamma client (see the module docstring)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        config: RestConfig | None = None,
        *,
        rng: random.Random | None = None,
        gate: ConnectGate | None = None,
    ) -> None:
        self.client = client
        self.gate = gate
        self.config = config or RestConfig()
        self.stats = RestStats()
        self._rng = rng or random.Random()

    async def book(self, token_id: str) -> RestBook:
        """``GET /book``; an unknown/closed token raises :class:`NotFoundError`."""
        body = await self._request("GET", f"{self.config.clob_url}/book", {"token_id": token_id})
        return parse_rest_book(body)

    async def books(self, token_ids: Iterable[str]) -> list[RestBook]:
        """``POST /books`` in chunks; unknown tokens are simply absent from the answer."""
        ids = list(token_ids)
        out: list[RestBook] = []
        step = self.config.books_chunk
        for i in range(0, len(ids), step):
            payload = [{"token_id": t} for t in ids[i : i + step]]
            body = await self._request("POST", f"{self.config.clob_url}/books", None, payload)
            if not isinstance(body, list):
                raise DecodeError("expected an array", field="books")
            out.extend(parse_rest_book(b) for b in body)
        return out

    async def markets(
        self, *, closed: bool = False, max_pages: int | None = None, **params: str
    ) -> list[GammaMarket]:
        """Every Gamma market matching ``params`` (paginated with limit/offset)."""
        out: list[GammaMarket] = []
        async for obj in self._pages("/markets", closed, max_pages, params):
            try:
                out.append(parse_gamma_market(obj))
            except DecodeError as exc:
                self._skip("market", obj, exc)
        return out

    async def events(
        self, *, closed: bool = False, max_pages: int | None = None, **params: str
    ) -> list[GammaEvent]:
        """Every Gamma event (with nested markets) matching ``params``."""
        out: list[GammaEvent] = []
        async for obj in self._pages("/events", closed, max_pages, params):
            try:
                out.append(parse_gamma_event(obj))
            except DecodeError as exc:
                self._skip("event", obj, exc)
        return out

    # -- internals ------------------------------------------------------------------------

    def _skip(self, what: str, obj: object, exc: DecodeError) -> None:
        self.stats.skipped += 1
        ident = obj.get("id") if isinstance(obj, dict) else None
        log.warning("polymarket gamma: skipping %s %r: %s", what, ident, exc)

    async def _pages(
        self, path: str, closed: bool, max_pages: int | None, params: dict[str, str]
    ) -> AsyncIterator[object]:
        limit = self.config.page_size
        offset = 0
        pages = 0
        while max_pages is None or pages < max_pages:
            query = {**params, "limit": str(limit), "offset": str(offset)}
            query["closed"] = "true" if closed else "false"
            body = await self._request("GET", f"{self.config.gamma_url}{path}", query)
            if not isinstance(body, list):
                raise DecodeError("expected an array", field=path)
            for obj in body:
                yield obj
            pages += 1
            if len(body) < limit:
                return
            offset += limit

    async def _request(
        self,
        method: str,
        url: str,
        params: dict[str, str] | None,
        payload: object = None,
    ) -> object:
        gate = self.gate
        where = redact_url(url)
        return await request_json(
            self.client,
            method,
            url,
            config=self.config,
            stats=self.stats,
            rng=self._rng,
            where=where,
            params=params,
            payload=payload,
            # EgressError: no verified egress, no request
            before_attempt=None if gate is None else gate.ensure,
            refused=(
                None
                if gate is None
                else lambda status: gate.refused(status, f"polymarket REST {method} {where}")
            ),
            detail=True,
        )
