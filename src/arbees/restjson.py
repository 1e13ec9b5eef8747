"""One REST call: a JSON body over HTTP, read with a cap, retried, mapped to the project's
exceptions. The venues' REST clients (Polymarket, Polymarket US) all make their calls here.

:func:`request_json` is the one boundary from HTTP statuses to exceptions: 404 ->
:class:`NotFoundError`, 401/403 -> :class:`AuthError`, other 4xx -> :class:`VenueError`;
429, 5xx and transport errors are retried with full-jitter backoff (a numeric
``Retry-After`` is honoured, capped) and end in :class:`RateLimitedError` (the last failure
was a 429) or :class:`VenueError` when the retries run out. The body is read with a byte
cap (:mod:`arbees.httpcap`) and decoded with ``parse_float=Decimal``, so no number passes
through a binary float; a body that is not JSON is a :class:`DecodeError`.

What differs per venue comes in as arguments: what the messages call the request
(``where``: a path, or a redacted URL), a hook run before every attempt (Polymarket's
egress gate, Polymarket US's rate limiter), a hook told every refusing status (the gate),
and whether the messages carry the server's error text and the transport error's text.
"""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable
from decimal import Decimal
from types import MappingProxyType
from typing import Final, Protocol

import httpx
import trio

from arbees import __version__
from arbees.errors import (
    HOSTILE_INPUT_ERRORS,
    AuthError,
    DecodeError,
    NotFoundError,
    RateLimitedError,
    VenueError,
)
from arbees.httpcap import request_capped
from arbees.wsdriver import Backoff

__all__ = [
    "JSON_HEADERS",
    "USER_AGENT",
    "RetrySettings",
    "RetryStats",
    "error_text",
    "request_json",
]

USER_AGENT: Final = f"arbees/{__version__} (market-data reader; +https://github.com/arbees)"
"""What every venue's REST client says it is: a market-data reader, with its version."""
JSON_HEADERS: Final = MappingProxyType({"User-Agent": USER_AGENT, "Accept": "application/json"})
"""The headers of a venue's REST client (``httpx.AsyncClient(headers=...)``)."""


class RetrySettings(Protocol):
    """The retry part of a REST client's settings (each venue's ``RestConfig`` has it)."""

    @property
    def retries(self) -> int: ...
    @property
    def backoff(self) -> Backoff: ...
    @property
    def max_retry_after(self) -> float: ...
    @property
    def max_body(self) -> int: ...


class RetryStats(Protocol):
    """The counters :func:`request_json` keeps (each venue's ``RestStats`` has them)."""

    requests: int
    retries: int


async def request_json(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    config: RetrySettings,
    stats: RetryStats,
    rng: random.Random,
    where: str,
    params: dict[str, str] | None = None,
    payload: object = None,
    before_attempt: Callable[[], Awaitable[object]] | None = None,
    refused: Callable[[int], None] | None = None,
    detail: bool = False,
) -> object:
    """``method url`` answered with JSON (see the module docstring).

    Args:
        where: what the messages call the request (never a URL with a credential in it).
        payload: a JSON request body (``None``: no body).
        before_attempt: awaited before every attempt, after it is counted.
        refused: told every status of 400 and above that is not a 404 and not retried.
        detail: messages carry the server's error text and the transport error's text.
    """
    last = ""
    rate_limited = False
    for attempt in range(config.retries + 1):
        if attempt:
            stats.retries += 1
        stats.requests += 1
        if before_attempt is not None:
            await before_attempt()
        try:
            resp = await request_capped(
                client, method, url, max_bytes=config.max_body, params=params, json=payload
            )
        except httpx.TransportError as exc:
            last = f"{type(exc).__name__}: {exc}" if detail else type(exc).__name__
            await trio.sleep(config.backoff.delay(attempt, rng))
            continue
        status = resp.status_code
        if status == 429 or status >= 500:
            rate_limited = status == 429
            last = f"HTTP {status}"
            await trio.sleep(_retry_delay(resp, attempt, config, rng))
            continue
        more = f" ({error_text(resp)})" if detail else ""
        if status == 404:
            raise NotFoundError(f"{method} {where}: not found{more}")
        if refused is not None and status >= 400:
            refused(status)
        if status in (401, 403):
            raise AuthError(f"{method} {where}: HTTP {status}")
        if status >= 400:
            raise VenueError(f"{method} {where}: HTTP {status}{more}")
        try:
            return json.loads(resp.content, parse_float=Decimal)
        except HOSTILE_INPUT_ERRORS as exc:  # not JSON, nested too deep, huge integer
            raise DecodeError(f"{where}: body is not JSON ({type(exc).__name__})") from None
    message = f"{method} {where}: gave up after {config.retries + 1} attempts ({last})"
    if rate_limited:
        raise RateLimitedError(message)
    raise VenueError(message)


def _retry_delay(
    resp: httpx.Response, attempt: int, config: RetrySettings, rng: random.Random
) -> float:
    header = resp.headers.get("retry-after", "")
    if header.isdigit():
        return min(float(header), config.max_retry_after)
    return config.backoff.delay(attempt, rng)


def error_text(resp: httpx.Response) -> str:
    """The server's error text, short: a JSON body's ``error`` string, else the body."""
    try:
        body = resp.json()
    except HOSTILE_INPUT_ERRORS:
        return resp.text[:100]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        return error[:100]
    return str(body)[:100]
