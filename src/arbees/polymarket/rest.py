"""Polymarket REST: CLOB books and Gamma discovery, over an injected ``httpx.AsyncClient``.

One boundary maps HTTP to the project's exceptions: 404 -> :class:`NotFoundError`,
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

import json
import logging
import random
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from decimal import Decimal

import attrs
import httpx
import trio

from arbees import __version__
from arbees.config import redact_url
from arbees.errors import (
    HOSTILE_INPUT_ERRORS,
    AuthError,
    DecodeError,
    NotFoundError,
    RateLimitedError,
    VenueError,
)
from arbees.gate import ConnectGate
from arbees.httpcap import DEFAULT_MAX_BODY, request_capped
from arbees.polymarket.models import (
    GammaEvent,
    GammaMarket,
    RestBook,
    parse_gamma_event,
    parse_gamma_market,
    parse_rest_book,
)
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
USER_AGENT = f"arbees/{__version__} (market-data reader; +https://github.com/arbees)"


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
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
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
        cfg = self.config
        last = ""
        rate_limited = False
        for attempt in range(cfg.retries + 1):
            if attempt:
                self.stats.retries += 1
            self.stats.requests += 1
            if self.gate is not None:
                await self.gate.ensure()  # EgressError: no verified egress, no request
            try:
                resp = await request_capped(
                    self.client,
                    method,
                    url,
                    max_bytes=cfg.max_body,
                    params=params,
                    json=payload,
                )
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                await trio.sleep(cfg.backoff.delay(attempt, self._rng))
                continue
            status = resp.status_code
            if status == 429 or status >= 500:
                rate_limited = status == 429
                last = f"HTTP {status}"
                await trio.sleep(self._retry_delay(resp, attempt))
                continue
            if status == 404:
                raise NotFoundError(f"{method} {redact_url(url)}: not found ({_error_text(resp)})")
            if self.gate is not None:
                self.gate.refused(status, f"polymarket REST {method} {redact_url(url)}")
            if status in (401, 403):
                raise AuthError(f"{method} {redact_url(url)}: HTTP {status}")
            if status >= 400:
                raise VenueError(f"{method} {redact_url(url)}: HTTP {status} ({_error_text(resp)})")
            try:
                return json.loads(resp.content, parse_float=Decimal)
            except HOSTILE_INPUT_ERRORS as exc:  # not JSON, nested too deep, huge integer
                raise DecodeError(
                    f"{redact_url(url)}: body is not JSON ({type(exc).__name__})"
                ) from None
        message = f"{method} {redact_url(url)}: gave up after {cfg.retries + 1} attempts ({last})"
        if rate_limited:
            raise RateLimitedError(message)
        raise VenueError(message)

    def _retry_delay(self, resp: httpx.Response, attempt: int) -> float:
        header = resp.headers.get("retry-after", "")
        if header.isdigit():
            return min(float(header), self.config.max_retry_after)
        return self.config.backoff.delay(attempt, self._rng)


def _error_text(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except HOSTILE_INPUT_ERRORS:
        return resp.text[:100]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        return error[:100]
    return str(body)[:100]
