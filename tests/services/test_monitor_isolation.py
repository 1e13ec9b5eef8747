"""One bad assignment never stops the Polymarket monitor; a cap bounds its tokens.

A stored ``MarketAssignment`` whose token id the feed rejects used to make the monitor exit
at its first verified check (the feed factory raised), which under Docker is a crash loop
that survives Redis restarts. Each assignment is now judged on its own: a bad one is
skipped, counted, logged once and alerted; every valid one keeps streaming.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
import pytest
import trio

from arbees.bus import Bus, open_bus
from arbees.egress import EgressGuard, EgressPolicy, EgressState
from arbees.messages import (
    TOKEN_ASSIGNMENTS_HASH,
    Channel,
    MarketAssignment,
    PolymarketPriceUpdate,
    SystemAlert,
)
from arbees.obs.metrics import Registry
from arbees.polymarket.audit import AuditStats
from arbees.polymarket.feed import FeedConfig
from arbees.services.monitor import PolymarketMonitor
from arbees.testing.fake_polymarket import FakePolymarket
from arbees.testing.redis_server import RedisServer
from arbees.venues.polymarket import polymarket_feed
from arbees.wiring.metrics import monitor_gauges
from arbees.wsdriver import Backoff

GOOD = str(10**70 + 1)
GOOD_2 = str(10**70 + 2)
BAD = "9" * 100  # digits, but longer than any uint256: the feed refuses it
CONDITION = "0x" + "cd" * 32
GB = EgressState(verified=True, country="GB", ip="203.0.113.7", reason="ok", checked_at_ms=1)


class Verified:
    async def check(self, policy: EgressPolicy) -> EgressState:
        await trio.lowlevel.checkpoint()
        return GB


def assignment(token: str, epoch: int = 1, action: str = "assign") -> MarketAssignment:
    return MarketAssignment(
        platform="polymarket",
        market_id=CONDITION,
        token_id=token,
        shard_id="s1",
        sport="NBA",
        game_id="g1",
        action=action,
        epoch=epoch,
    )


async def wait_for(pred: Callable[[], bool], limit: float = 6.0) -> None:
    """Poll over real sockets (no event exists for "the bus saw a fresh price")."""
    with trio.fail_after(limit):
        while not pred():  # noqa: ASYNC110
            await trio.sleep(0.01)


@attrs.define
class Seen:
    prices: list[PolymarketPriceUpdate] = attrs.Factory(list)
    alerts: list[SystemAlert] = attrs.Factory(list)

    async def run(self, bus: Bus, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        async with bus.subscribe(Channel.POLYMARKET_PRICES, Channel.SYSTEM_ALERTS) as sub:
            task_status.started()
            async for envelope in sub:
                m = envelope.message
                if isinstance(m, PolymarketPriceUpdate):
                    self.prices.append(m)
                elif isinstance(m, SystemAlert):
                    self.alerts.append(m)

    def streamed(self, token: str) -> bool:
        return any(p.token_id == token and not p.stale for p in self.prices)

    def kinds(self) -> list[str]:
        return [a.type for a in self.alerts]


@attrs.define
class Rig:
    bus: Bus
    fake: FakePolymarket
    monitor: PolymarketMonitor
    seen: Seen


@asynccontextmanager
async def monitor_rig(
    bus_url: str, stored: list[MarketAssignment], **kwargs: Any
) -> AsyncIterator[Rig]:
    fake = FakePolymarket()
    for token in (GOOD, GOOD_2):
        fake.set_book(token, [("0.38", "100")], [("0.45", "100")], market=CONDITION)
    async with trio.open_nursery() as nursery, open_bus(bus_url) as bus:
        urls = await nursery.start(fake.run)
        old = await bus.hgetall(TOKEN_ASSIGNMENTS_HASH)  # a shared redis-server
        if old:
            await bus.hdel(TOKEN_ASSIGNMENTS_HASH, *old)
        for a in stored:
            await bus.hset(TOKEN_ASSIGNMENTS_HASH, a.token_id, a)
        config = FeedConfig(url=urls.ws_url, backoff=Backoff(base=0.02, cap=0.1))
        guard = EgressGuard(Verified(), interval=0.05, name="test")
        monitor = PolymarketMonitor(
            bus,
            lambda tokens: polymarket_feed(tokens, config=config),
            guard,
            heartbeat_interval=0.1,
            **kwargs,
        )
        seen = Seen()
        await nursery.start(seen.run, bus)
        await nursery.start(monitor.run)
        yield Rig(bus, fake, monitor, seen)
        nursery.cancel_scope.cancel()


@pytest.fixture(params=["memory", "redis"])
def bus_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    server: RedisServer = request.getfixturevalue("redis_server")
    return server.url


async def test_poisoned_stored_assignment_next_to_a_valid_one(bus_url: str) -> None:
    """The monitor starts, stays up, streams the valid token, alerts about the bad one."""
    async with monitor_rig(bus_url, [assignment(GOOD), assignment(BAD)]) as r:
        await wait_for(lambda: r.seen.streamed(GOOD))
        await wait_for(lambda: "ASSIGNMENT_REJECTED" in r.seen.kinds())
        assert r.monitor.healthy
        assert set(r.monitor.tokens) == {GOOD}
        assert r.monitor.stats.rejected_assignments == 1
        alert = next(a for a in r.seen.alerts if a.type == "ASSIGNMENT_REJECTED")
        assert BAD[:20] in alert.error
        # The same poisoned record arriving again is counted, not alerted again: by the
        # monitor on the memory bus (objects, never encoded), by the bus codec on Redis.
        refused_by_codec = r.bus.stats.decode_errors
        await r.bus.publish(Channel.MARKET_ASSIGNMENTS, assignment(BAD, epoch=2))
        await r.bus.publish(Channel.MARKET_ASSIGNMENTS, assignment(GOOD_2))
        await wait_for(lambda: r.seen.streamed(GOOD_2))
        refused_by_codec = r.bus.stats.decode_errors - refused_by_codec
        assert r.monitor.stats.rejected_assignments + refused_by_codec == 2
        assert r.seen.kinds().count("ASSIGNMENT_REJECTED") == 1
        assert r.monitor.status().details["rejected"] == str(r.monitor.stats.rejected_assignments)


async def test_without_a_token_check_the_feed_judges_each_token_at_start() -> None:
    """``accepts=None``: the feed's refusal of one stored token drops only that token."""
    async with monitor_rig("memory://", [assignment(GOOD), assignment(BAD)], accepts=None) as r:
        await wait_for(lambda: r.seen.streamed(GOOD))
        await wait_for(lambda: "ASSIGNMENT_REJECTED" in r.seen.kinds())
        assert set(r.monitor.tokens) == {GOOD}
        assert r.monitor.stats.rejected_assignments == 1
        assert r.monitor.healthy


async def test_a_token_check_refuses_bad_tokens_on_arrival() -> None:
    """With the venue's own token check (the default), a bad token never reaches a feed."""
    async with monitor_rig("memory://", [assignment(GOOD)]) as r:
        await wait_for(lambda: r.seen.streamed(GOOD))
        for bad in (BAD, "", "12ab", "1" * 10_000):
            await r.bus.publish(Channel.MARKET_ASSIGNMENTS, assignment(bad))
        await wait_for(lambda: r.monitor.stats.rejected_assignments == 4)
        assert set(r.monitor.tokens) == {GOOD}
        assert r.monitor.healthy
        assert r.fake.total_connections == 1  # no feed restart for a refused token


async def test_token_cap_refuses_further_tokens_and_keeps_the_held_ones() -> None:
    async with monitor_rig("memory://", [assignment(GOOD)], max_tokens=1) as r:
        await wait_for(lambda: r.seen.streamed(GOOD))
        for i in range(5):
            await r.bus.publish(Channel.MARKET_ASSIGNMENTS, assignment(str(10**60 + i)))
        await wait_for(lambda: r.monitor.stats.refused_cap == 5)
        await wait_for(lambda: "MONITOR_TOKEN_CAP" in r.seen.kinds())
        assert set(r.monitor.tokens) == {GOOD}
        assert r.seen.kinds().count("MONITOR_TOKEN_CAP") == 1
        # Room again after an unassign: the next token is taken.
        await r.bus.publish(Channel.MARKET_ASSIGNMENTS, assignment(GOOD, 2, "unassign"))
        await r.bus.publish(Channel.MARKET_ASSIGNMENTS, assignment(GOOD_2))
        await wait_for(lambda: r.seen.streamed(GOOD_2))
        assert set(r.monitor.tokens) == {GOOD_2}


def _gauge(registry: Registry, name: str) -> float:
    for line in registry.render().splitlines():
        if line.startswith(f"arbees_{name} "):
            return float(line.split()[1])
    raise AssertionError(f"no gauge {name}")


async def test_the_feed_gauges_read_the_current_feed_through_its_surface() -> None:
    registry = Registry()
    async with monitor_rig("memory://", [assignment(GOOD)]) as r:
        monitor_gauges(registry, r.bus, r.monitor, AuditStats())
        await wait_for(lambda: r.seen.streamed(GOOD))
        feed = r.monitor.current_feed
        assert feed is not None
        assert _gauge(registry, "feed_reconnects") == feed.counters()["reconnects"] == 0
        r.fake.disconnect_all()
        await wait_for(lambda: _gauge(registry, "feed_reconnects") >= 1)
        assert _gauge(registry, "feed_reconnects") == feed.counters()["reconnects"]
