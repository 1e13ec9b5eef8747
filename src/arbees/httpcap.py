"""HTTP bodies read with a byte cap: the one place an ``httpx`` answer body is read.

``client.get(...)`` reads a whole body into memory, however large; a hostile or broken
server (or a proxy in between) can send gigabytes, or a few KB that inflate to gigabytes.
:func:`request_capped` streams the answer as sent and stops at ``max_bytes`` (a declared
``Content-Length`` above the cap is refused before reading anything), raising
:class:`BodyTooLargeError` (a counted :class:`~arbees.errors.DecodeError` for the callers).
The result is an ordinary ``httpx.Response`` whose ``content`` is already read, so callers
keep using ``status_code``, ``headers``, ``content`` and ``json()``. A body abandoned
half-way is closed without leaking httpx's body generators.

Used by the Kalshi REST client, :mod:`arbees.restjson` (the Polymarket and Polymarket US REST
clients), the Gamma discovery and the egress checker.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, Final

import httpx
import trio

from arbees.errors import DecodeError

__all__ = ["DEFAULT_MAX_BODY", "BodyTooLargeError", "request_capped"]

DEFAULT_MAX_BODY: Final = 8 * 1024 * 1024
"""Bytes: far above any answer the venues send (a Gamma page of 100 events is ~1 MB)."""

# The body handed back is complete and un-chunked, so these no longer describe it.
_DROPPED_HEADERS: Final = ("content-encoding", "content-length", "transfer-encoding")


class BodyTooLargeError(DecodeError):
    """An HTTP answer's body was larger than the cap (nothing beyond the cap was kept)."""


async def _read_raw(response: httpx.Response, max_bytes: int) -> bytes:
    """The body as sent (no content decoding: the cap is on what crosses the wire, so a
    compression bomb cannot inflate past it), stopping once it is longer than the cap."""
    body = bytearray()
    chunks = response.aiter_raw()
    async for chunk in chunks:
        body += chunk
        if len(body) > max_bytes:
            await _abandon(response, chunks)
            break
    return bytes(body)


async def _abandon(response: httpx.Response, chunks: AsyncIterator[bytes]) -> None:
    """Stop reading a body half-way without leaking httpx's nested body generators.

    Closing only the outer generator leaves the ones inside it suspended (Python does not
    close an async generator an ``async for`` was interrupted in). Closing the response
    first makes the next read fail or end inside the innermost one, which unwinds them all.
    """
    await response.aclose()
    with contextlib.suppress(
        httpx.HTTPError, trio.ClosedResourceError, trio.BrokenResourceError, OSError
    ):
        async for _ in chunks:
            pass


async def request_capped(
    client: httpx.AsyncClient,
    method: str,
    url: httpx.URL | str,
    *,
    max_bytes: int = DEFAULT_MAX_BODY,
    **kwargs: Any,
) -> httpx.Response:
    """``client.request(method, url, **kwargs)`` reading at most ``max_bytes`` of body.

    Asks for ``Accept-Encoding: identity`` and returns the body as sent (a server that
    compresses anyway gets its bytes back undecoded: a decode error for the caller, never
    an inflated body). Raises :class:`BodyTooLargeError` when the body is longer than
    ``max_bytes``, and whatever ``httpx`` raises for transport errors and timeouts.
    """
    headers = httpx.Headers(kwargs.pop("headers", None))
    headers["Accept-Encoding"] = "identity"
    async with client.stream(method, url, headers=headers, **kwargs) as response:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise BodyTooLargeError(
                f"{method} answer declares {declared} bytes, more than the cap of {max_bytes}"
            )
        if response.is_stream_consumed:  # a transport that hands over a read body (mocks)
            body = response.content
        else:
            body = await _read_raw(response, max_bytes)
        if len(body) > max_bytes:
            raise BodyTooLargeError(f"{method} answer is longer than the cap of {max_bytes} bytes")
    kept = [(k, v) for k, v in response.headers.multi_items() if k not in _DROPPED_HEADERS]
    return httpx.Response(
        response.status_code,
        headers=kept,
        content=body,
        request=response.request,
        extensions=response.extensions,
    )
