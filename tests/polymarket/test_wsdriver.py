"""The shared WebSocket driver against a real trio-websocket server on 127.0.0.1."""

from __future__ import annotations

import base64
import contextlib
import gc
import random
import types
from collections.abc import Awaitable, Callable
from functools import partial

import pytest
import trio
import trio.lowlevel
from trio_websocket import ConnectionClosed, WebSocketConnection, WebSocketRequest, serve_websocket

from arbees.errors import AuthError, ConfigError
from arbees.kalshi.feed import KalshiFeed
from arbees.polymarket.feed import FeedConfig, PolymarketFeed
from arbees.wsdriver import (
    Backoff,
    Reconnect,
    WsAuthError,
    WsConfig,
    WsDriver,
    open_ws_driver,
    redact_url,
)

FAST = Backoff(base=0.01, cap=0.05, healthy_after=5.0)
Handler = Callable[[WebSocketRequest], Awaitable[None]]


async def _serve(nursery: trio.Nursery, handler: Handler) -> str:
    server = await nursery.start(
        partial(serve_websocket, handler, "127.0.0.1", 0, ssl_context=None)
    )
    return f"ws://127.0.0.1:{server.port}/ws"


async def _wait_for(pred: Callable[[], bool], limit: float = 5.0) -> None:
    with trio.fail_after(limit):
        while True:
            if pred():
                return
            await trio.sleep(0.01)


async def test_reconnects_after_server_close() -> None:
    received: list[str] = []

    async def handler(request: WebSocketRequest) -> None:
        ws = await request.accept()
        await ws.send_message("hello")
        await ws.aclose()

    async with trio.open_nursery() as nursery:
        url = await _serve(nursery, handler)
        disconnects: list[str] = []
        cfg = WsConfig(url, backoff=FAST, name="t")
        driver = WsDriver(
            cfg,
            on_message=lambda m, ns: received.append(str(m)),
            on_disconnect=disconnects.append,
        )
        nursery.start_soon(driver.run)
        await _wait_for(lambda: driver.stats.connects >= 3)
        nursery.cancel_scope.cancel()
    assert driver.stats.reconnects >= 2
    assert driver.stats.disconnects >= 2
    assert received.count("hello") >= 2
    assert any("closed" in r for r in disconnects)
    assert driver.stats.last_delay <= FAST.cap


async def test_watchdog_fires_on_silence_but_pong_does_not_count() -> None:
    pings = 0

    async def handler(request: WebSocketRequest) -> None:
        nonlocal pings
        ws = await request.accept()
        try:
            while True:
                if await ws.get_message() == "PING":
                    pings += 1
                    await ws.send_message("PONG")
        except ConnectionClosed:
            pass

    async with trio.open_nursery() as nursery:
        url = await _serve(nursery, handler)
        cfg = WsConfig(
            url,
            backoff=FAST,
            heartbeat_text="PING",
            heartbeat_interval=0.05,
            silence_timeout=0.4,
            is_data=lambda m: m != "PONG",
        )
        driver = WsDriver(cfg, on_message=lambda m, ns: None)
        await nursery.start(driver.run)
        await _wait_for(lambda: driver.stats.watchdog_fires >= 1)
        await _wait_for(lambda: driver.stats.connects >= 2)
        nursery.cancel_scope.cancel()
    assert pings >= 3
    assert driver.stats.heartbeats >= 3
    assert driver.stats.data_messages == 0
    assert driver.stats.messages >= 3  # the PONGs were read
    assert "silence" in driver.stats.last_reason


async def _silence_reconnects(send_first: bool) -> WsDriver:
    """A venue that accepts, optionally sends one data message, then stays open and
    silent: the driver's watchdog ends every session; returns after four of them."""

    async def handler(request: WebSocketRequest) -> None:
        ws = await request.accept()
        if send_first:
            await ws.send_message("snapshot")
        with contextlib.suppress(ConnectionClosed):
            await ws.get_message()  # never comes: silent until the client leaves

    slow_to_forgive = Backoff(base=0.005, cap=0.04, healthy_after=60.0)
    async with trio.open_nursery() as nursery:
        url = await _serve(nursery, handler)
        cfg = WsConfig(url, backoff=slow_to_forgive, silence_timeout=0.1, name="t")
        driver = WsDriver(cfg, on_message=lambda m, ns: None)
        nursery.start_soon(driver.run)
        # the fifth connect: four sessions ended and four delays drawn
        await _wait_for(lambda: driver.stats.connects >= 5)
        nursery.cancel_scope.cancel()
    assert driver.stats.watchdog_fires >= 4
    return driver


async def test_a_session_that_served_data_then_fell_silent_does_not_stack_the_backoff() -> None:
    # A quiet market: each connection gets its snapshot, then nothing. Those reconnects
    # are the watchdog's, spaced by its own timeout; counted as failures they stacked the
    # delay to the cap, and the next real drop waited that long.
    driver = await _silence_reconnects(send_first=True)
    assert driver.stats.data_messages >= 4
    assert driver.stats.backoff_step == 0
    assert driver.stats.last_delay <= 0.005


async def test_a_session_silent_from_the_start_still_backs_off() -> None:
    # Accepted but never served: that is a failing venue, and the delay still grows.
    driver = await _silence_reconnects(send_first=False)
    assert driver.stats.data_messages == 0
    assert driver.stats.backoff_step >= 3


async def test_headers_reevaluated_on_every_connect() -> None:
    seen: list[str] = []

    async def handler(request: WebSocketRequest) -> None:
        headers = dict(request.headers)
        seen.append(headers.get(b"x-sig", b"").decode())
        ws = await request.accept()
        await ws.aclose()

    counter = iter(range(1000))
    async with trio.open_nursery() as nursery:
        url = await _serve(nursery, handler)
        cfg = WsConfig(url, backoff=FAST, headers=lambda: [("X-Sig", f"s{next(counter)}")])
        driver = WsDriver(cfg, on_message=lambda m, ns: None)
        nursery.start_soon(driver.run)
        await _wait_for(lambda: len(seen) >= 3)
        nursery.cancel_scope.cancel()
    assert seen[:3] == ["s0", "s1", "s2"]


def test_backoff_is_full_jitter_and_bounded() -> None:
    rng = random.Random(7)
    b = Backoff(base=0.5, cap=8.0)
    delays = [b.delay(n, rng) for n in range(200)]
    assert all(0.0 <= d <= 8.0 for d in delays)
    assert all(d <= 0.5 * 2**n for n, d in enumerate(delays[:4]))
    assert max(delays) > 4.0  # the ceiling really grows to the cap
    assert b.delay(10_000, rng) <= 8.0  # no overflow on huge attempt counts


async def test_connect_failures_back_off_within_cap() -> None:
    # A port nobody listens on: every attempt fails and is counted; delays stay <= cap.
    sock = trio.socket.socket()
    await sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    cfg = WsConfig(f"ws://127.0.0.1:{port}/", backoff=FAST)
    driver = WsDriver(cfg, on_message=lambda m, ns: None)
    with trio.move_on_after(0.6):
        await driver.run()
    assert driver.stats.failures >= 3
    assert driver.stats.connects == 0
    assert 0.0 <= driver.stats.last_delay <= FAST.cap


async def test_fatal_status_raises_auth_error_at_start() -> None:
    async def handler(request: WebSocketRequest) -> None:
        await request.reject(401, body=b"bad signature")

    async with trio.open_nursery() as nursery:
        url = await _serve(nursery, handler)
        driver = WsDriver(WsConfig(url, backoff=FAST), on_message=lambda m, ns: None)
        with pytest.raises(WsAuthError) as info:
            await nursery.start(driver.run)
        assert info.value.status_code == 401
        assert isinstance(info.value, AuthError)
        nursery.cancel_scope.cancel()


async def test_non_fatal_rejection_is_retried() -> None:
    attempts = 0

    async def handler(request: WebSocketRequest) -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            await request.reject(503)
            return
        ws = await request.accept()
        await ws.send_message("ok")
        await trio.sleep_forever()

    got: list[str] = []
    async with trio.open_nursery() as nursery:
        url = await _serve(nursery, handler)
        driver = WsDriver(WsConfig(url, backoff=FAST), on_message=lambda m, ns: got.append(str(m)))
        await nursery.start(driver.run)
        await _wait_for(lambda: got == ["ok"])
        nursery.cancel_scope.cancel()
    assert driver.stats.failures == 2
    assert driver.stats.connects == 1


async def test_on_connect_subscribes_and_can_force_reconnect() -> None:
    subs: list[str] = []

    async def handler(request: WebSocketRequest) -> None:
        ws = await request.accept()
        try:
            while True:
                msg = await ws.get_message()
                subs.append(str(msg))
                await ws.send_message(f"ack {msg}")
        except ConnectionClosed:
            pass

    calls = 0

    async def on_connect(ws: WebSocketConnection) -> None:
        nonlocal calls
        calls += 1
        await ws.send_message(f"sub{calls}")
        if calls == 1:
            raise Reconnect("first attempt is refused on purpose")

    async with trio.open_nursery() as nursery:
        url = await _serve(nursery, handler)
        got: list[str] = []
        driver = WsDriver(
            WsConfig(url, backoff=FAST),
            on_message=lambda m, ns: got.append(str(m)),
            on_connect=on_connect,
        )
        await nursery.start(driver.run)
        assert driver.connected
        await _wait_for(lambda: "ack sub2" in got)
        await driver.send("extra")
        await _wait_for(lambda: "ack extra" in got)
        driver.request_reconnect("want a fresh snapshot")
        await _wait_for(lambda: calls == 3)
        nursery.cancel_scope.cancel()
    assert subs[:2] == ["sub1", "sub2"]
    assert "fresh snapshot" in driver.stats.last_reason


async def test_async_on_message_and_clean_cancel() -> None:
    closed = trio.Event()

    async def handler(request: WebSocketRequest) -> None:
        ws = await request.accept()
        try:
            for i in range(5):
                await ws.send_message(f"m{i}")
            await ws.get_message()
        except ConnectionClosed:
            closed.set()

    got: list[str] = []

    async def on_message(m: str | bytes, recv_ns: int) -> None:
        await trio.lowlevel.checkpoint()
        assert recv_ns > 0
        got.append(str(m))

    async with trio.open_nursery() as nursery:
        url = await _serve(nursery, handler)
        async with open_ws_driver(WsConfig(url, backoff=FAST), on_message=on_message) as driver:
            await _wait_for(lambda: len(got) == 5)
            assert driver.connected
        assert not driver.connected
        with trio.fail_after(3):
            await closed.wait()  # the server saw a proper close
        nursery.cancel_scope.cancel()
    assert got == [f"m{i}" for i in range(5)]


async def _proxy_handler(seen: list[bytes], stream: trio.SocketStream) -> None:
    """A minimal HTTP CONNECT proxy (loopback only) for the proxy test."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = await stream.receive_some(4096)
        if not chunk:
            return
        buf += chunk
    head = buf.split(b"\r\n\r\n", 1)[0]
    seen.append(head)
    target = head.split(b"\r\n")[0].split(b" ")[1].decode()
    host, port = target.rsplit(":", 1)
    upstream = await trio.open_tcp_stream(host, int(port))
    await stream.send_all(b"HTTP/1.1 200 Connection established\r\n\r\n")

    async def pump(src: trio.abc.Stream, dst: trio.abc.Stream) -> None:
        try:
            while data := await src.receive_some(65536):
                await dst.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await trio.aclose_forcefully(dst)

    async with trio.open_nursery() as n:
        n.start_soon(pump, stream, upstream)
        n.start_soon(pump, upstream, stream)


async def test_connects_through_http_connect_proxy_with_basic_auth(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")

    async def handler(request: WebSocketRequest) -> None:
        ws = await request.accept()
        await ws.send_message("via proxy")
        await trio.sleep_forever()

    seen: list[bytes] = []
    async with trio.open_nursery() as nursery:
        url = await _serve(nursery, handler)
        listeners = await nursery.start(partial(trio.serve_tcp, partial(_proxy_handler, seen), 0))
        proxy_port = listeners[0].socket.getsockname()[1]
        proxy = f"http://alice:s3cr3t@127.0.0.1:{proxy_port}"
        cfg = WsConfig(url, backoff=FAST, proxy=proxy)
        got: list[str] = []
        async with open_ws_driver(cfg, on_message=lambda m, ns: got.append(str(m))):
            await _wait_for(lambda: got == ["via proxy"])
        nursery.cancel_scope.cancel()
    assert seen[0].startswith(b"CONNECT 127.0.0.1:")
    assert b"Proxy-Authorization: Basic " + base64.b64encode(b"alice:s3cr3t") in seen[0]
    assert "s3cr3t" not in repr(cfg)
    assert "s3cr3t" not in caplog.text
    assert redact_url(proxy) == f"http://***@127.0.0.1:{proxy_port}"


def test_config_validates_urls() -> None:
    with pytest.raises(ConfigError):
        WsConfig("http://example/ws")
    with pytest.raises(ConfigError):
        WsConfig("ws://example/ws", proxy="socks5://x:1")


def test_message_limits_are_bounded_by_default_and_configurable() -> None:
    cfg = WsConfig("ws://127.0.0.1:1/ws")
    assert cfg.max_message_size <= 2 * 1024 * 1024
    # no message queue: what a server can make the client buffer is one read plus one
    # message under the cap (tests/polymarket/test_ws_frames.py refuses a larger one from
    # its header)
    with pytest.raises(ConfigError):
        WsConfig("ws://127.0.0.1:1/ws", max_message_size=0)
    feed = PolymarketFeed(["1"], FeedConfig(max_message_size=4096))
    (driver,) = feed.drivers  # built with the feed, connected by its run
    assert driver.config.max_message_size == 4096
    kalshi = KalshiFeed((), signer=None, max_message_size=8192)
    assert kalshi.driver.config.max_message_size == 8192


async def test_an_oversized_message_is_counted_logged_and_reconnected(
    caplog: pytest.LogCaptureFixture,
) -> None:
    received: list[str] = []
    connections = 0

    async def handler(request: WebSocketRequest) -> None:
        nonlocal connections
        connections += 1
        ws = await request.accept()
        try:
            if connections == 1:
                await ws.send_message("x" * 1001)  # one byte over the limit
            await ws.send_message(f"ok {connections}")
            with trio.move_on_after(5):
                await ws.get_message()
        except ConnectionClosed:
            pass  # the client closed it: code 1009 on the first connection

    async with trio.open_nursery() as nursery:
        url = await _serve(nursery, handler)
        cfg = WsConfig(url, backoff=FAST, max_message_size=1000, name="t")
        driver = WsDriver(cfg, on_message=lambda m, ns: received.append(str(m)))
        nursery.start_soon(driver.run)
        await _wait_for(lambda: "ok 2" in received)
        nursery.cancel_scope.cancel()
    assert driver.stats.oversized == 1
    assert driver.stats.reconnects == 1
    assert received == ["ok 2"]  # the big one never reached the parser
    assert "exceeded max_message_size (1000 bytes)" in caplog.text


def _reads_held(length: int) -> int:
    """Strings of ``length`` characters a suspended coroutine or a list still holds."""
    held = 0
    for obj in gc.get_objects():
        if isinstance(obj, types.CoroutineType) and obj.cr_frame is not None:
            values = list(obj.cr_frame.f_locals.values())
        elif isinstance(obj, list):
            values = obj
        else:
            continue
        for value in values:
            if isinstance(value, str) and len(value) == length:
                held += 1
            elif isinstance(value, list) and value is not values:
                held += sum(1 for v in value if isinstance(v, str) and len(v) == length)
    return held


_DUMP = 600_000


@pytest.mark.parametrize("batch", [False, True])
async def test_a_quiet_socket_does_not_keep_its_last_read(batch: bool) -> None:
    """A subscription's first read is the dump of every book it asked for; a socket whose
    markets then go quiet must not hold it while waiting (18 of 40 sockets held 6.5 MB in
    `bench e2e`'s 10,000-token monitor)."""
    seen: list[int] = []

    async def handler(request: WebSocketRequest) -> None:
        ws = await request.accept()
        await ws.send_message("x" * _DUMP)  # no reference kept on this side
        await trio.sleep_forever()

    def on_message(message: str | bytes, recv_ns: int) -> None:
        seen.append(len(message))

    def on_batch(messages: list[str | bytes], recv_ns: int) -> None:
        seen.extend(len(m) for m in messages)

    async with trio.open_nursery() as nursery:
        url = await _serve(nursery, handler)
        driver = (
            WsDriver(WsConfig(url, backoff=FAST), on_batch=on_batch)
            if batch
            else WsDriver(WsConfig(url, backoff=FAST), on_message=on_message)
        )
        nursery.start_soon(driver.run)
        await _wait_for(lambda: seen == [_DUMP])
        await trio.sleep(0.05)  # the reader is waiting for its next read
        assert driver.connected
        gc.collect()
        assert _reads_held(_DUMP) == 0
        nursery.cancel_scope.cancel()
