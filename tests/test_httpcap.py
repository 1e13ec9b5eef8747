"""HTTP bodies are read with a byte cap at the httpx edge, by every client that reads one."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import trio

from arbees.egress import EgressChecker, EgressPolicy
from arbees.errors import DecodeError
from arbees.httpcap import BodyTooLargeError, request_capped
from arbees.kalshi.rest import KalshiRest
from arbees.polymarket.rest import PolymarketRest, RestConfig
from arbees.wiring.discovery import venue_game_source

Handler = Callable[[httpx.Request], httpx.Response]


class Endless(httpx.AsyncByteStream):
    """A body that never ends (no Content-Length) until the client closes the response,
    like a socket; counts the chunks it was asked for."""

    def __init__(self, chunk: bytes = b"[" * 4096) -> None:
        self.chunk = chunk
        self.sent = 0
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while not self.closed:
            self.sent += 1
            yield self.chunk

    async def aclose(self) -> None:
        self.closed = True


def _client(handler: Handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_a_body_within_the_cap_is_returned_whole() -> None:
    payload = json.dumps({"a": "x" * 1000}).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept-encoding"] == "identity"
        return httpx.Response(200, content=payload)

    async with _client(handler) as client:
        resp = await request_capped(client, "GET", "http://venue/x", max_bytes=len(payload))
    assert resp.json() == {"a": "x" * 1000}


async def test_a_compressed_body_is_capped_on_the_wire_not_inflated() -> None:
    """A compression bomb: a few KB on the wire, gigabytes once inflated."""
    payload = b"[" * 1_000_000
    packed = gzip.compress(payload)
    assert len(packed) < 5000

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Encoding": "gzip"}  # a stream, like a socket: nothing read yet
        return httpx.Response(200, stream=httpx.ByteStream(packed), headers=headers)

    async with _client(handler) as client:
        resp = await request_capped(client, "GET", "http://venue/x", max_bytes=5000)
    assert resp.status_code == 200
    assert resp.content == packed  # the cap is on wire bytes: never inflated here
    assert "content-encoding" not in resp.headers


async def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    stream = Endless()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": "999999999"}, stream=stream)

    async with _client(handler) as client:
        with pytest.raises(BodyTooLargeError, match="declares 999999999"):
            await request_capped(client, "GET", "http://venue/x", max_bytes=1000)
    assert stream.sent == 0


async def test_an_endless_body_stops_at_the_cap() -> None:
    stream = Endless()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=stream)

    async with _client(handler) as client:
        with pytest.raises(BodyTooLargeError) as info:
            await request_capped(client, "GET", "http://venue/x", max_bytes=64 * 1024)
    assert isinstance(info.value, DecodeError)  # a counted decode failure for the callers
    assert stream.sent == 17  # 16 chunks fill the cap, the 17th crosses it: no more read
    assert stream.closed


def _endless(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, stream=Endless())


async def test_kalshi_rest_caps_bodies() -> None:
    async with _client(_endless) as client:
        rest = KalshiRest(client, base_url="http://kalshi/trade-api/v2", max_body=10_000)
        with pytest.raises(BodyTooLargeError):
            await rest.get_series("KXNBAGAME")


async def test_polymarket_rest_caps_bodies() -> None:
    async with _client(_endless) as client:
        rest = PolymarketRest(client, RestConfig(clob_url="http://clob", max_body=10_000))
        with pytest.raises(BodyTooLargeError):
            await rest.book("123")


async def test_gamma_discovery_caps_bodies() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "kalshi":  # no Kalshi series: only Gamma's bodies are endless
            return httpx.Response(200, json={"series": []})
        return _endless(request)

    async with _client(handler) as client:
        kalshi = KalshiRest(client, base_url="http://kalshi/trade-api/v2")
        source = venue_game_source(
            kalshi, client, gamma_url="http://gamma", series=(), max_body=10_000
        )
        with pytest.raises(BodyTooLargeError):
            await source.discover()


async def test_the_egress_checker_caps_bodies() -> None:
    stream = Endless()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=stream)

    async with _client(handler) as client:
        checker = EgressChecker(client, "http://127.0.0.1:8000/v1/publicip/ip", max_body=8192)
        state = await checker.check(EgressPolicy())
    assert (state.verified, state.kind) == (False, "bad_answer")
    assert "more than 8192 bytes" in state.reason
    assert stream.sent == 3


async def test_an_endless_body_from_a_real_socket_is_cut_and_the_socket_closed(
    nursery: trio.Nursery,
) -> None:
    """The same over TCP: the cap closes the connection; nothing leaks (warnings are errors)."""
    closed = trio.Event()
    sent = [0]

    async def endless(stream: trio.SocketStream) -> None:
        await stream.receive_some(65536)
        await stream.send_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            while True:
                await stream.send_all(b"1000\r\n" + b"x" * 4096 + b"\r\n")
                sent[0] += 4096
        except trio.BrokenResourceError:
            closed.set()

    listeners = await nursery.start(trio.serve_tcp, endless, 0)
    port = listeners[0].socket.getsockname()[1]
    async with httpx.AsyncClient(trust_env=False) as client:
        with pytest.raises(BodyTooLargeError):
            await request_capped(client, "GET", f"http://127.0.0.1:{port}/", max_bytes=100_000)
    with trio.fail_after(10):  # hang guard only
        await closed.wait()
    assert sent[0] < 100_000 + 8 * 1024 * 1024  # the server was stopped, not read forever
