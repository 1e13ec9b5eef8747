"""The monitor with the REST book audit wired in (as ``arbees monitor`` does).

Fake Polymarket (WS + REST) on loopback, memory bus, an egress guard on a scripted source.
A socket that keeps answering PONG but silently drops data while the venue moves is caught by
the audit; the monitor publishes the stale book (``stale=True``), then the fresh one after
the resync. The audit's REST traffic stops while egress is unverified.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import attrs
import httpx
import trio

from arbees import codec
from arbees.bus import Bus, open_bus
from arbees.egress import EgressGuard, EgressPolicy, EgressState
from arbees.egress.verdict import failed_state
from arbees.messages import (
    TOKEN_ASSIGNMENTS_HASH,
    Channel,
    MarketAssignment,
    PolymarketPriceUpdate,
)
from arbees.money import parse_fixed
from arbees.polymarket.audit import AuditConfig, AuditStats
from arbees.polymarket.feed import FeedConfig, PolymarketFeed
from arbees.polymarket.rest import PolymarketRest, RestConfig
from arbees.services.monitor import PolymarketMonitor
from arbees.testing.fake_polymarket import FakePolymarket
from arbees.venues.polymarket import polymarket_feed
from arbees.wsdriver import Backoff

A = str(10**70 + 1)
B = str(10**70 + 2)
CONDITION = "0x" + "cd" * 32
GB = EgressState(verified=True, country="GB", ip="203.0.113.7", reason="ok", checked_at_ms=1)


class Switch:
    """An egress source the test turns on and off."""

    def __init__(self) -> None:
        self.ok = True

    async def check(self, policy: EgressPolicy) -> EgressState:
        await trio.lowlevel.checkpoint()
        return GB if self.ok else failed_state("forbidden_country", "exit is US")


async def wait_for(pred: Callable[[], bool], limit: float = 6.0) -> None:
    """Poll over real sockets (no event exists for "the bus saw a fresh price")."""
    with trio.fail_after(limit):
        while not pred():  # noqa: ASYNC110
            await trio.sleep(0.01)


@attrs.define
class Prices:
    seen: list[PolymarketPriceUpdate] = attrs.Factory(list)

    async def run(self, bus: Bus, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        async with bus.subscribe(Channel.POLYMARKET_PRICES) as sub:
            task_status.started()
            async for envelope in sub:
                if isinstance(envelope.message, PolymarketPriceUpdate):
                    self.seen.append(envelope.message)

    def latest(self, token: str) -> PolymarketPriceUpdate | None:
        for message in reversed(self.seen):
            if message.token_id == token:
                return message
        return None

    def fresh_bid(self, token: str, price: str) -> bool:
        m = self.latest(token)
        return m is not None and not m.stale and m.yes_bid == parse_fixed(price)


@attrs.define
class Rig:
    fake: FakePolymarket
    switch: Switch
    guard: EgressGuard
    monitor: PolymarketMonitor
    prices: Prices
    stats: AuditStats

    def books_requests(self) -> int:
        return sum(1 for method, path in self.fake.requests if path == "/books")


@asynccontextmanager
async def monitor_rig() -> AsyncIterator[Rig]:
    fake = FakePolymarket()
    fake.set_book(A, [("0.38", "100")], [("0.45", "100")], market=CONDITION)
    fake.set_book(B, [("0.55", "100")], [("0.62", "100")], market=CONDITION)
    switch = Switch()
    stats = AuditStats()
    async with (
        open_bus("memory://") as bus,  # outlives every task that uses it
        trio.open_nursery() as nursery,
        httpx.AsyncClient() as client,
    ):
        urls = await nursery.start(fake.run)
        for token in (A, B):
            assignment = MarketAssignment(
                platform="polymarket",
                market_id=CONDITION,
                token_id=token,
                shard_id="s1",
                sport="NBA",
                game_id="g1",
                epoch=1,
            )
            await bus.hset(TOKEN_ASSIGNMENTS_HASH, token, assignment)
        feed_config = FeedConfig(
            url=urls.ws_url,
            backoff=Backoff(base=0.02, cap=0.1),
            ping_interval=0.1,
            silence_timeout=60.0,  # a quiet market: the watchdog cannot tell
            resync_interval=0.2,
        )
        audit = AuditConfig(interval=0.15, tokens_per_10s=1000)
        # One client for the egress check and the audit, as in ``arbees monitor``.
        rest = PolymarketRest(client, RestConfig(clob_url=urls.clob_url, retries=0))
        guard = EgressGuard(switch, interval=0.05, name="test")

        def factory(tokens: list[str]) -> PolymarketFeed:
            return polymarket_feed(
                tokens,
                config=feed_config,
                rest=rest,
                audit=audit,
                allowed=lambda: guard.verified,
                audit_stats=stats,
            )

        monitor = PolymarketMonitor(bus, factory, guard, heartbeat_interval=0.1)
        prices = Prices()
        await nursery.start(prices.run, bus)
        await nursery.start(monitor.run)
        rig = Rig(fake, switch, guard, monitor, prices, stats)
        await wait_for(lambda: prices.fresh_bid(A, "0.38") and prices.fresh_bid(B, "0.55"))
        yield rig
        nursery.cancel_scope.cancel()


async def test_monitor_publishes_the_stale_book_a_rest_audit_caught() -> None:
    async with monitor_rig() as r:
        await wait_for(lambda: r.stats.matches >= 2)
        r.fake.stall_connection(0)  # PONG still answered, data silently dropped
        r.fake.set_level(A, "BUY", "0.42", "3")  # the venue moved; REST shows it
        n = len(r.prices.seen)
        await wait_for(lambda: any(m.token_id == A and m.stale for m in r.prices.seen[n:]))
        assert r.stats.invalidated >= 1
        assert r.monitor.stats.stale_published >= 1
        # After the resync the venue's truth is published, fresh.
        await wait_for(lambda: r.prices.fresh_bid(A, "0.42") and r.prices.fresh_bid(B, "0.55"))
        assert r.fake.total_connections == 2
        assert r.monitor.status().details["stale_published"] != "0"


async def test_audit_traffic_stops_while_egress_is_unverified() -> None:
    async with monitor_rig() as r:
        await wait_for(lambda: r.books_requests() >= 2)
        r.switch.ok = False
        await wait_for(lambda: not r.guard.verified)
        await trio.sleep(0.05)  # let the cancelled feed scope unwind
        before = r.books_requests()
        await trio.sleep(0.6)  # four audit intervals
        assert r.books_requests() == before
        r.switch.ok = True
        await wait_for(lambda: r.guard.verified)
        await wait_for(lambda: r.books_requests() > before)
        await wait_for(lambda: r.prices.fresh_bid(A, "0.38"))


async def test_the_heartbeat_never_counts_an_update_the_bus_has_not_taken() -> None:
    # The shard reads a heartbeat whose stream_seq is ahead of the updates it received as
    # "updates were lost" and reloads everything. The heartbeat must report only what the
    # bus took: while the bus is being handed an update, it still reports less.
    async with monitor_rig() as r:
        claims: list[tuple[int, int]] = []
        original = r.monitor.bus.publish_and_hset_raw_nowait

        def spy(channel: str, key: str, items: Sequence[tuple[str, bytes]]) -> None:
            for _, payload in items:
                message = codec.decode(payload)
                if isinstance(message, PolymarketPriceUpdate):
                    reported = int(r.monitor.status().details["stream_seq"])
                    claims.append((reported, message.stream_seq))
            original(channel, key, items)

        r.monitor.bus.publish_and_hset_raw_nowait = spy  # type: ignore[method-assign]
        r.fake.set_level(A, "BUY", "0.40", "5")
        r.fake.set_level(B, "BUY", "0.56", "5")
        await wait_for(lambda: len(claims) >= 2)
    assert all(reported < seq for reported, seq in claims), claims
