"""The egress gate: every Polymarket connect asks it; a refusal from the venue re-checks.

Real sockets on 127.0.0.1 (a trio-websocket server, the fake Polymarket) and a scripted
egress source the test flips; assertions are on counters and events, never on timing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import httpx
import pytest
import trio
from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket

from arbees.egress import EgressGate, EgressGuard, EgressPolicy, EgressState
from arbees.egress.gate import check_enabled, open_polymarket_route
from arbees.egress.verdict import failed_state
from arbees.errors import ConfigError, EgressError
from arbees.gate import UncheckedGate
from arbees.polymarket.feed import FeedConfig, PolymarketFeed
from arbees.polymarket.rest import PolymarketRest, RestConfig
from arbees.testing.fake_polymarket import FakePolymarket
from arbees.wsdriver import Backoff, WsConfig, WsDriver

FAST = Backoff(base=0.01, cap=0.05, healthy_after=5.0)
GB = EgressState(verified=True, country="GB", ip="203.0.113.7", reason="ok", checked_at_ms=1)
TOKEN = "1" * 20


class Switch:
    """An egress source whose verdict the test flips; counts checks and wakes waiters."""

    def __init__(self, ok: bool = True) -> None:
        self.ok = ok
        self.timeout = 1.0
        self.checks = 0
        self._changed = trio.Event()

    async def check(self, policy: EgressPolicy) -> EgressState:
        await trio.lowlevel.checkpoint()
        self.checks += 1
        self._changed.set()
        self._changed = trio.Event()
        return GB if self.ok else failed_state("forbidden_country", "exit is US")

    async def until(self, predicate: Callable[[], bool]) -> None:
        while not predicate():
            await self._changed.wait()


async def _guard(nursery: trio.Nursery, source: Switch, **kwargs: float) -> EgressGuard:
    guard = EgressGuard(source, interval=kwargs.pop("interval", 1000.0), **kwargs)
    await nursery.start(guard.run)
    return guard


@pytest.mark.parametrize("status", [403, 451])
async def test_a_refused_handshake_rechecks_egress_now_and_reconnects(
    nursery: trio.Nursery, status: int
) -> None:
    """Before: 403 was fatal (the monitor exited) and nothing asked for a re-check."""
    attempts = 0

    async def handler(request: WebSocketRequest) -> None:
        nonlocal attempts
        attempts += 1
        if attempts <= 2:
            await request.reject(status, body=b"blocked in your region")
            return
        ws = await request.accept()
        await ws.send_message("hi")
        await trio.sleep_forever()

    server = await nursery.start(
        partial(serve_websocket, handler, "127.0.0.1", 0, ssl_context=None)
    )
    source = Switch()
    guard = await _guard(nursery, source)
    gate = EgressGate(guard)
    driver = WsDriver(
        WsConfig(
            f"ws://127.0.0.1:{server.port}/", backoff=FAST, gate=gate, fatal_statuses=frozenset()
        ),
        on_message=lambda m, ns: None,
    )
    with trio.fail_after(20):  # hang guard only
        await nursery.start(driver.run)
        await source.until(lambda: source.checks >= 3)
    assert gate.stats.refusals == 2
    assert guard.stats.requested == 2  # each refusal asked for a check at once
    assert driver.stats.connects == 1


async def test_the_polymarket_feed_treats_403_as_a_recheck_not_a_crash(
    nursery: trio.Nursery,
) -> None:
    async def handler(request: WebSocketRequest) -> None:
        await request.reject(403)

    server = await nursery.start(
        partial(serve_websocket, handler, "127.0.0.1", 0, ssl_context=None)
    )
    source = Switch()
    guard = await _guard(nursery, source)
    gate = EgressGate(guard)
    config = FeedConfig(url=f"ws://127.0.0.1:{server.port}/", backoff=FAST, gate=gate)
    feed = PolymarketFeed([TOKEN], config)
    nursery.start_soon(feed.run)  # would raise WsAuthError out of the nursery before
    with trio.fail_after(20):
        await source.until(lambda: gate.stats.refusals >= 3)
    assert guard.stats.requested >= 3


async def test_no_connect_while_unverified_then_one_after_recovery(nursery: trio.Nursery) -> None:
    accepted = 0

    async def handler(request: WebSocketRequest) -> None:
        nonlocal accepted
        accepted += 1
        await request.accept()
        await trio.sleep_forever()

    server = await nursery.start(
        partial(serve_websocket, handler, "127.0.0.1", 0, ssl_context=None)
    )
    source = Switch(ok=False)
    guard = await _guard(nursery, source, retry_interval=0.01, retry_cap=0.02)
    gate = EgressGate(guard)
    driver = WsDriver(
        WsConfig(f"ws://127.0.0.1:{server.port}/", backoff=FAST, gate=gate),
        on_message=lambda m, ns: None,
    )
    with trio.fail_after(20):  # hang guard only
        async with trio.open_nursery() as inner:
            inner.start_soon(partial(nursery.start, driver.run))  # started once connected
            await source.until(lambda: source.checks >= 20)  # many re-checks, all refused
            assert accepted == 0
            assert driver.stats.failures == 0  # it waited at the gate; it never tried
            source.ok = True
    assert driver.connected
    assert accepted == 1


async def test_losing_egress_closes_the_socket_and_the_next_connect_waits(
    nursery: trio.Nursery,
) -> None:
    closed = trio.Event()
    accepted = 0

    async def handler(request: WebSocketRequest) -> None:
        nonlocal accepted
        accepted += 1
        ws = await request.accept()
        try:
            while True:
                await ws.get_message()
        except ConnectionClosed:
            closed.set()

    server = await nursery.start(
        partial(serve_websocket, handler, "127.0.0.1", 0, ssl_context=None)
    )
    source = Switch()
    guard = await _guard(nursery, source)
    gate = EgressGate(guard)
    disconnected = trio.Event()
    driver = WsDriver(
        WsConfig(f"ws://127.0.0.1:{server.port}/", backoff=FAST, gate=gate),
        on_message=lambda m, ns: None,
        on_disconnect=lambda reason: disconnected.set(),
    )
    with trio.fail_after(20):  # hang guard only
        await nursery.start(driver.run)
        source.ok = False
        await guard.check_now()  # the next periodic check finds the exit moved
        await closed.wait()  # the server saw the socket close
        await disconnected.wait()
    assert not driver.connected
    assert gate.stats.egress_closed == 1
    assert "connect gate" in driver.stats.last_reason
    assert accepted == 1


async def test_ensure_refuses_requests_without_a_fresh_verified_egress(
    nursery: trio.Nursery,
) -> None:
    fake = FakePolymarket()
    urls = await nursery.start(fake.run)
    source = Switch(ok=False)
    guard = await _guard(nursery, source)
    gate = EgressGate(guard)
    async with httpx.AsyncClient(trust_env=False) as client:
        rest = PolymarketRest(client, RestConfig(clob_url=urls.clob_url, retries=0), gate=gate)
        with pytest.raises(EgressError, match="exit is US"):
            await rest.book(TOKEN)
        assert fake.requests == []  # nothing left the process
        assert gate.stats.denied == 1
        source.ok = True
        await guard.check_now()
        fake.set_book(TOKEN, bids=[("0.40", "10")], asks=[("0.60", "5")])
        assert (await rest.book(TOKEN)).bids
        fake.fail_next(451, path="/book")
        with pytest.raises(Exception, match="451"):
            await rest.book(TOKEN)
    assert gate.stats.refusals == 1
    assert guard.stats.requested == 1


async def test_the_route_requires_an_egress_source_or_the_explicit_opt_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(ConfigError, match="EGRESS_CHECK_URL"):
        async with open_polymarket_route(name="t", user_agent="t", env={}):
            pass
    with pytest.raises(ConfigError, match="POLYMARKET_EGRESS_CHECK"):
        check_enabled({"POLYMARKET_EGRESS_CHECK": "maybe"})
    async with open_polymarket_route(
        name="t", user_agent="t", env={"POLYMARKET_EGRESS_CHECK": "off"}
    ) as route:
        assert route.guard is None
        assert isinstance(route.gate, UncheckedGate)
    loud = [r for r in caplog.records if "IS NOT CHECKED" in r.getMessage()]
    assert len(loud) == 1
    assert loud[0].levelname == "WARNING"
    assert "POLYMARKET_EGRESS_CHECK=off" in loud[0].getMessage()
