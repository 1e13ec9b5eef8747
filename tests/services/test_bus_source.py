"""The shard's bus source proves the monitor's stream complete, or reloads."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio

from arbees import codec
from arbees.book import Level
from arbees.bus import MemoryBus
from arbees.messages import (
    LATEST_PRICES_HASH,
    Channel,
    PolymarketPriceUpdate,
    ServiceStatus,
)
from arbees.services.quotes import Quote
from arbees.services.sources import Alive, BusPolymarketSource, SourceItem

TOKENS = ("111", "222")


def update(token: str, stream_seq: int, ask: int = 450_000) -> PolymarketPriceUpdate:
    return PolymarketPriceUpdate(
        market_id="0xm",
        token_id=token,
        yes_bid=400_000,
        yes_ask=ask,
        no_bid=1_000_000 - ask,
        no_ask=600_000,
        liquidity=0,
        timestamp_ms=1,
        yes_ask_size=10_000_000,
        no_ask_size=10_000_000,
        yes_asks=(Level(ask, 10_000_000),),
        no_asks=(Level(600_000, 10_000_000),),
        monitor_recv_ns=1,
        stream_seq=stream_seq,
    )


def status(stream_id: str, seq: int) -> ServiceStatus:
    return ServiceStatus(
        "monitor", "m", True, 1, details={"stream_id": stream_id, "stream_seq": str(seq)}
    )


class Harness:
    def __init__(self, bus: MemoryBus, source: BusPolymarketSource) -> None:
        self.bus = bus
        self.source = source
        self.items: list[SourceItem] = []

    async def publish(self, message: PolymarketPriceUpdate | ServiceStatus) -> None:
        if isinstance(message, PolymarketPriceUpdate):
            await self.bus.publish_and_hset(
                Channel.POLYMARKET_PRICES, message, LATEST_PRICES_HASH, message.token_id
            )
        else:
            await self.bus.publish(Channel.SERVICE_STATUS, message)
        await trio.testing.wait_all_tasks_blocked()

    def quotes(self) -> list[Quote]:
        return [i for i in self.items if isinstance(i, Quote)]

    def clear(self) -> None:
        self.items.clear()


@asynccontextmanager
async def running(bus: MemoryBus, source: BusPolymarketSource) -> AsyncIterator[Harness]:
    """``source`` running on ``bus``, what it hands over collected in the harness."""
    send, receive = trio.open_memory_channel[SourceItem](100_000)
    h = Harness(bus, source)

    async def drain() -> None:
        async for item in receive:
            # a batch (one bus read's quotes) counts as its quotes, in order
            h.items.extend(item) if isinstance(item, tuple) else h.items.append(item)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(drain)
        await nursery.start(source.run, send.send_nowait)
        yield h
        nursery.cancel_scope.cancel()


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    bus = MemoryBus()
    source = BusPolymarketSource(bus)
    await source.add(TOKENS)
    async with running(bus, source) as h:
        yield h


async def test_a_complete_stream_passes_quotes_through(harness: Harness) -> None:
    for seq, token in enumerate(TOKENS * 2, start=1):
        await harness.publish(update(token, seq))
    await harness.publish(status("m-1", 4))
    assert [q.stale for q in harness.quotes()] == [False] * 4
    assert harness.source.gaps == 0
    assert isinstance(harness.items[-1], Alive)


async def test_a_missing_number_marks_everything_stale_then_reloads(harness: Harness) -> None:
    await harness.publish(update("111", 1))
    await harness.publish(update("222", 2, ask=470_000))
    # Update 3 (a new price for 222) is lost on the way; it only reaches the hash.
    lost = update("222", 3, ask=480_000)
    await harness.bus.hset(LATEST_PRICES_HASH, "222", lost)
    harness.clear()
    await harness.publish(update("111", 4))
    assert harness.source.gaps == 1
    stale = [q for q in harness.quotes() if q.stale]
    assert sorted(q.instrument for q in stale) == list(TOKENS)
    reloaded = {q.instrument: q for q in harness.quotes() if not q.stale}
    assert reloaded["222"].yes_asks[0].price == 480_000  # the lost price, from the hash


async def test_a_heartbeat_ahead_of_what_arrived_means_loss(harness: Harness) -> None:
    await harness.publish(update("111", 1))
    await harness.publish(status("m-1", 1))
    assert harness.source.gaps == 0
    await harness.publish(status("m-1", 3))  # updates 2 and 3 never arrived
    assert harness.source.gaps == 1


async def test_a_restarted_monitor_is_a_new_stream(harness: Harness) -> None:
    await harness.publish(update("111", 1))
    await harness.publish(status("m-1", 1))
    await harness.publish(status("m-2", 0))
    assert harness.source.gaps == 1


async def burst_batches(
    count: int, *, queued: bool = False, order: list[str] | None = None
) -> list[int]:
    """Publish ``count`` quotes in one transport read; the sizes of the batches a
    shard-like consumer (every item handed over per wake-up) received. ``queued``: the
    source's task is busy when they arrive, so they wait in the subscription and the task
    takes them (the path of a reload or a read that arrived meanwhile)."""
    bus = MemoryBus()
    source = BusPolymarketSource(bus)
    tokens = [str(100 + i) for i in range(count)]
    await source.add(tokens)
    send, receive = trio.open_memory_channel[SourceItem](1000)
    batches: list[int] = []
    handed: list[SourceItem] = []

    def out(item: SourceItem) -> None:
        handed.append(item)
        send.send_nowait(item)

    async def shard() -> None:
        while True:
            batch = [await receive.receive()]
            while True:
                try:
                    batch.append(receive.receive_nowait())
                except trio.WouldBlock:
                    break
            batches.append(sum(len(i) if isinstance(i, tuple) else 1 for i in batch))
            for item in batch:
                for quote in item if isinstance(item, tuple) else (item,):
                    if order is not None and isinstance(quote, Quote):
                        order.append(quote.instrument)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(shard)
        await nursery.start(source.run, out)
        await trio.testing.wait_all_tasks_blocked()
        if queued:
            source._busy = True  # as while its task waits for a reload
            for seq, token in enumerate(tokens, start=1):
                bus.publish_nowait(Channel.POLYMARKET_PRICES, update(token, seq))
        else:
            payloads = [(t, codec.encode(update(t, seq))) for seq, t in enumerate(tokens, 1)]
            bus.publish_and_hset_raw_nowait(Channel.POLYMARKET_PRICES, LATEST_PRICES_HASH, payloads)
            # taken inline, on the publisher's own call: already handed over, as one item
            assert len(handed) == 1
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    return batches


async def test_a_read_reaches_the_shard_inline_as_one_batch() -> None:
    # A source that handed each quote over on its own made each engine call one quote long;
    # one read's quotes are one item, handed over on the read's own task.
    assert await burst_batches(100) == [100]


async def test_a_read_that_arrives_while_the_source_is_busy_waits_in_order() -> None:
    order: list[str] = []
    batches = await burst_batches(100, queued=True, order=order)
    assert sum(batches) == 100
    assert order == [str(100 + i) for i in range(100)]


async def test_a_long_backlog_still_lets_other_tasks_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from arbees.services import sources

    monkeypatch.setattr(sources, "HAND_OVER_RUN", 10)
    batches = await burst_batches(50, queued=True)
    assert sum(batches) == 50
    # the task takes at most 10 per wake-up and yields after each, and the shard (runnable
    # since the first) gets its turn within the next scheduler round
    assert len(batches) >= 3, batches
    assert max(batches) <= 20, batches


async def test_a_read_the_inline_path_cannot_take_marks_every_quote_stale_then_reloads(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A failure on the bus reader's own task (here: converting one update raises) must
    # neither stop the reader nor leave a book looking current without its update.
    bus = MemoryBus()
    source = BusPolymarketSource(bus, reload_interval=0)
    await source.add(TOKENS)
    checked = source._checked
    failures = [1]

    def flaky(message: object, received_ns: int) -> tuple[Quote, str | None]:
        if getattr(message, "stream_seq", 0) == 2 and failures:
            failures.pop()
            raise RuntimeError("a bug on the way")
        return checked(message, received_ns)

    source._checked = flaky  # type: ignore[method-assign]
    async with running(bus, source) as h:
        await h.publish(update("111", 1))
        h.clear()
        with caplog.at_level(logging.ERROR, logger="arbees.services.sources"):
            await h.publish(update("222", 2, ask=470_000))
        assert source.read_errors == 1
        assert "could not take a read" in caplog.text
        assert sorted(q.instrument for q in h.quotes() if q.stale) == list(TOKENS)
        h.clear()
        await h.publish(update("111", 3))  # the next read: the reload runs first
        assert source.reloads == 1
        fresh = {q.instrument: q for q in h.quotes() if not q.stale}
        assert fresh["222"].yes_asks[0].price == 470_000  # the failed read's price, reloaded
        assert [q.instrument for q in h.quotes()][-1] == "111"  # then the read itself


async def test_the_shard_gauges_count_a_failed_read_and_the_bus_a_failed_sink() -> None:
    from arbees.obs.metrics import Registry
    from arbees.services.shard import GameShard
    from arbees.services.shard_engine import ShardEngine
    from arbees.wiring.metrics import shard_gauges
    from tests.cli.test_cli_shard_metrics import gauge
    from tests.services.test_shard_isolation import ScriptedSource

    bus = MemoryBus()
    source = BusPolymarketSource(bus)
    shard = GameShard(bus, ShardEngine("s1"), ScriptedSource("kalshi"), source)
    registry = Registry()
    shard_gauges(registry, bus, shard)
    source.read_errors = 2
    assert gauge(registry.render(), "shard_source_read_errors") == 2
    async with bus.subscribe("c") as sub:
        sub.set_sink(lambda envelopes: 1 // 0)
        bus.publish_nowait("c", status("m-1", 0))
    assert sub.sink_errors == 1
    assert gauge(registry.render(), "bus_sink_errors") == 1
