"""The shared REST boundary (``arbees.restjson``): statuses to exceptions, retries, and the
hooks each venue's client gives it (Polymarket's gate, Polymarket US's rate limiter)."""

from __future__ import annotations

import random
from decimal import Decimal

import attrs
import httpx
import pytest

from arbees.errors import AuthError, DecodeError, NotFoundError, RateLimitedError, VenueError
from arbees.gate import UncheckedGate
from arbees.polymarket.rest import PolymarketRest
from arbees.polymarket.rest import RestConfig as PolyRestConfig
from arbees.restjson import request_json
from arbees.wsdriver import Backoff


@attrs.frozen
class _Settings:
    retries: int = 2
    backoff: Backoff = attrs.field(factory=lambda: Backoff(base=0.01, cap=0.01))
    max_retry_after: float = 1.0
    max_body: int = 1024


@attrs.define
class _Stats:
    requests: int = 0
    retries: int = 0


def _client(*answers: httpx.Response) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return httpx.AsyncClient(transport=httpx.MockTransport(handle)), seen


async def _call(client: httpx.AsyncClient, stats: _Stats, **kwargs: object) -> object:
    return await request_json(
        client,
        "GET",
        "https://venue.example/v1/x",
        config=_Settings(),
        stats=stats,
        rng=random.Random(1),
        where="/v1/x",
        **kwargs,  # type: ignore[arg-type]
    )


async def test_json_numbers_are_decimals_and_retries_are_counted() -> None:
    client, seen = _client(httpx.Response(503), httpx.Response(200, content=b'{"p": 0.55}'))
    stats = _Stats()
    waits: list[int] = []

    async def before() -> None:
        waits.append(stats.requests)

    async with client:
        body = await _call(client, stats, before_attempt=before)
    assert body == {"p": Decimal("0.55")}
    assert (stats.requests, stats.retries, len(seen)) == (2, 1, 2)
    assert waits == [1, 2]  # the hook runs before every attempt, after it is counted


@pytest.mark.parametrize(
    ("status", "error", "text"),
    [
        (404, NotFoundError, "GET /v1/x: not found"),
        (403, AuthError, "GET /v1/x: HTTP 403"),
        (400, VenueError, "GET /v1/x: HTTP 400"),
        (429, RateLimitedError, "GET /v1/x: gave up after 3 attempts (HTTP 429)"),
        (500, VenueError, "GET /v1/x: gave up after 3 attempts (HTTP 500)"),
    ],
)
async def test_statuses_map_to_exceptions(status: int, error: type[Exception], text: str) -> None:
    client, _ = _client(httpx.Response(status, json={"error": "no such market"}))
    async with client:
        with pytest.raises(error) as caught:
            await _call(client, _Stats())
    assert str(caught.value) == text  # no server text unless asked for


async def test_detail_adds_the_server_error_text() -> None:
    client, _ = _client(httpx.Response(404, json={"error": "No orderbook exists"}))
    async with client:
        with pytest.raises(NotFoundError, match=r"^GET /v1/x: not found \(No orderbook exists\)$"):
            await _call(client, _Stats(), detail=True)


async def test_a_body_that_is_not_json_is_a_decode_error() -> None:
    client, _ = _client(httpx.Response(200, content=b"<html>"))
    async with client:
        with pytest.raises(DecodeError, match="body is not JSON"):
            await _call(client, _Stats())


async def test_refused_hears_only_refusals() -> None:
    client, _ = _client(httpx.Response(200, json=[]), httpx.Response(451))
    heard: list[int] = []
    async with client:
        await _call(client, _Stats(), refused=heard.append)
        with pytest.raises(VenueError):
            await _call(client, _Stats(), refused=heard.append)
    assert heard == [451]


async def test_an_unchecked_gate_counts_no_refusal_for_an_answered_request() -> None:
    client, _ = _client(httpx.Response(200, json=[]), httpx.Response(403))
    gate = UncheckedGate("Polymarket egress", "test")
    rest = PolymarketRest(client, PolyRestConfig(retries=0), gate=gate)
    async with client:
        assert await rest.markets(max_pages=1) == []
        assert gate.refusals == 0
        with pytest.raises(AuthError):
            await rest.markets(max_pages=1)
    assert gate.refusals == 1
