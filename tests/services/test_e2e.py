"""End to end: fake venues on loopback, monitor behind the egress guard, one shard."""

from __future__ import annotations

import time
from typing import Any

import pytest
import trio

from arbees.messages import ArbSignal, Channel, PolymarketPriceUpdate
from arbees.money import ONE, parse_fixed
from arbees.testing.redis_server import RedisServer
from tests.services.e2e_support import (
    K_OKC,
    K_SAS,
    P_OKC,
    P_SAS,
    open_arb,
    open_stack,
    wait_for,
)


@pytest.fixture(params=["memory", "redis"])
def bus_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    server: RedisServer = request.getfixturevalue("redis_server")
    return server.url


def books_fresh(stack: Any) -> bool:
    quotes = stack.shard.engine._quotes
    now = time.time_ns()
    keys = [("kalshi", K_OKC), ("kalshi", K_SAS), ("polymarket", P_OKC), ("polymarket", P_SAS)]
    return all(stack.shard.engine.usable(quotes.get(k), now) for k in keys)


async def collect(sub: Any, into: list[ArbSignal]) -> None:
    async for envelope in sub:
        if isinstance(envelope.message, ArbSignal):
            into.append(envelope.message)


async def test_polymarket_move_produces_exactly_one_correct_signal(bus_url: str) -> None:
    async with open_stack(bus_url) as stack, stack.bus.subscribe(Channel.SIGNALS) as sub:
        await wait_for(lambda: books_fresh(stack))
        got: list[ArbSignal] = []
        stack.nursery.start_soon(collect, sub, got)
        await trio.sleep(0.3)
        assert got == []  # quiet books: nothing after fees
        open_arb(stack.poly)
        await wait_for(lambda: len(got) >= 1)
        await trio.sleep(0.5)  # nothing more may follow
        assert len(got) == 1
        sig = got[0]
        assert sig.event == "open"
        assert sig.combo == "KalshiYes+PolyNo"
        assert sig.team == "NBA:OKC"
        assert sig.size == 100 * ONE
        legs = {(leg.venue, leg.instrument, leg.side): leg for leg in sig.legs}
        assert legs[("kalshi", K_OKC, "yes")].price == parse_fixed("0.40")
        assert legs[("polymarket", P_SAS, "yes")].price == parse_fixed("0.50")
        # 100 - 40 - 50 - Kalshi fee 1.68 - Polymarket fee 1.25
        assert sig.profit == parse_fixed("7.07")
        assert sig.monitor_recv_ns > 0
        assert sig.published_ns >= sig.detect_ns >= sig.bus_recv_ns > 0


async def test_kalshi_seq_gap_suppresses_until_resynced() -> None:
    async with open_stack() as stack, stack.bus.subscribe(Channel.SIGNALS) as sub:
        await wait_for(lambda: books_fresh(stack))
        got: list[ArbSignal] = []
        stack.nursery.start_soon(collect, sub, got)
        open_arb(stack.poly)
        await wait_for(lambda: len(got) == 1)
        stack.kalshi.drop_next_deltas(1)
        stack.kalshi.apply_delta(K_OKC, "no", "0.60", -1)  # dropped: a seq gap
        stack.kalshi.apply_delta(K_OKC, "no", "0.60", 1)  # reveals the gap
        await wait_for(lambda: any(s.event == "close" for s in got))
        # After the resync the (unchanged) opportunity opens again from fresh books.
        await wait_for(lambda: [s.event for s in got][-1] == "open")
        assert [s.event for s in got] == ["open", "close", "open"]


async def test_egress_loss_stops_prices_and_recovery_resumes() -> None:
    async with (
        open_stack(check_interval=0.05) as stack,
        stack.bus.subscribe(Channel.POLYMARKET_PRICES, Channel.SIGNALS) as sub,
    ):
        await wait_for(lambda: books_fresh(stack))
        seen: list[Any] = []

        async def record() -> None:
            async for envelope in sub:
                seen.append(envelope.message)

        stack.nursery.start_soon(record)
        assert stack.monitor is not None
        stack.gluetun.set_exit(country="United States", ip="203.0.113.9")
        await wait_for(lambda: not stack.monitor.guard.verified)  # type: ignore[union-attr]
        await trio.sleep(0.2)
        mark = len(seen)
        open_arb(stack.poly)
        await trio.sleep(0.5)
        assert not any(isinstance(m, PolymarketPriceUpdate) for m in seen[mark:])
        assert not any(isinstance(m, ArbSignal) and m.event == "open" for m in seen[mark:])
        stack.gluetun.set_exit(country="United Kingdom", ip="198.51.100.7")
        await wait_for(lambda: any(isinstance(m, PolymarketPriceUpdate) for m in seen[mark:]))
        await wait_for(
            lambda: any(isinstance(m, ArbSignal) and m.event == "open" for m in seen[mark:])
        )


async def test_direct_polymarket_rollback_finds_the_same_arbitrage() -> None:
    async with open_stack(via_bus=False) as stack, stack.bus.subscribe(Channel.SIGNALS) as sub:
        await wait_for(lambda: books_fresh(stack))
        got: list[ArbSignal] = []
        stack.nursery.start_soon(collect, sub, got)
        open_arb(stack.poly)
        await wait_for(lambda: len(got) >= 1)
        await trio.sleep(0.3)
        assert [(s.event, s.combo, s.profit) for s in got] == [
            ("open", "KalshiYes+PolyNo", parse_fixed("7.07"))
        ]


async def test_polymarket_reconnect_suppresses_signals_until_fresh_books() -> None:
    async with open_stack() as stack, stack.bus.subscribe(Channel.SIGNALS) as sub:
        await wait_for(lambda: books_fresh(stack))
        got: list[ArbSignal] = []
        stack.nursery.start_soon(collect, sub, got)
        open_arb(stack.poly)
        await wait_for(lambda: len(got) == 1)
        # Reconnects are accepted only after a pause, so the stale views reach the shard
        # before any fresh snapshot can replace them (the feed coalesces newest-wins).
        stack.poly.accept_delay = 0.3
        stack.poly.disconnect_all()  # the books are stale until the fresh snapshots
        # Poll for "a close happened", never "the last event is a close": the fresh
        # snapshots can re-open it between two polls.
        await wait_for(lambda: any(s.event == "close" for s in got))
        # Fresh snapshots re-open it (a loaded machine may see one more reconnect cycle).
        await wait_for(lambda: len(got) >= 3 and got[-1].event == "open")
        assert [s.event for s in got[:2]] == ["open", "close"]
        assert {s.combo for s in got} == {"KalshiYes+PolyNo"}
        assert got[-1].signal_id != got[0].signal_id


async def test_redis_restart_mid_run_both_services_recover(private_redis: RedisServer) -> None:
    async with (
        open_stack(private_redis.url) as stack,
        stack.bus.subscribe(Channel.SIGNALS) as sub,
    ):
        await wait_for(lambda: books_fresh(stack))
        got: list[ArbSignal] = []
        stack.nursery.start_soon(collect, sub, got)
        private_redis.stop()  # SIGKILL: a crash, not a clean shutdown
        await trio.sleep(0.3)
        # The arbitrage opens DURING the outage: the monitor's updates are lost (counted, no
        # crash) and the restarted Redis has an empty latest-price hash.
        open_arb(stack.poly)
        await trio.sleep(0.5)
        private_redis.start()
        # No service restarts and no further price change: the monitor republishes every
        # book once the bus takes messages again, the shard notices the gap in the numbered
        # stream, and the arbitrage is signalled from the refreshed books.
        await wait_for(lambda: any(s.event == "open" for s in got), 10.0)
        assert stack.monitor is not None
        assert stack.monitor.stats.refreshes >= 1
        assert stack.bus.stats.publish_failed > 0
        opened = next(s for s in got if s.event == "open")
        assert opened.combo == "KalshiYes+PolyNo"
        assert opened.profit == parse_fixed("7.07")


async def test_garbage_on_the_bus_is_counted_and_nothing_crashes() -> None:
    async with open_stack() as stack, stack.bus.subscribe(Channel.SIGNALS) as sub:
        await wait_for(lambda: books_fresh(stack))
        got: list[ArbSignal] = []
        stack.nursery.start_soon(collect, sub, got)
        before = stack.bus.stats.decode_errors
        for payload in (b"not json", b"[1,2]", b'{"schema":1,"kind":"PolymarketPriceUpdate"}'):
            await stack.bus.publish_raw(Channel.POLYMARKET_PRICES, payload)
            await stack.bus.publish_raw(Channel.MARKET_ASSIGNMENTS, payload)
        await wait_for(lambda: stack.bus.stats.decode_errors >= before + 6)
        open_arb(stack.poly)
        await wait_for(lambda: len(got) == 1)
        assert got[0].combo == "KalshiYes+PolyNo"
