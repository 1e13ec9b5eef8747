"""The shard's bus source proves the monitor's stream complete, or reloads."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio

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


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    bus = MemoryBus()
    source = BusPolymarketSource(bus)
    await source.add(TOKENS)
    send, receive = trio.open_memory_channel[SourceItem](1000)
    h = Harness(bus, source)

    async def drain() -> None:
        async for item in receive:
            # a batch (one bus read's quotes) counts as its quotes, in order
            h.items.extend(item) if isinstance(item, tuple) else h.items.append(item)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(drain)
        await nursery.start(source.run, send)
        yield h
        nursery.cancel_scope.cancel()


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


async def burst_batches(count: int) -> list[int]:
    """Publish ``count`` quotes at once; the sizes of the batches a shard-like consumer
    (every queued item per wake-up, as the shard takes them) received."""
    bus = MemoryBus()
    source = BusPolymarketSource(bus)
    tokens = [str(100 + i) for i in range(count)]
    await source.add(tokens)
    send, receive = trio.open_memory_channel[SourceItem](1000)
    batches: list[int] = []

    async def shard() -> None:
        while True:
            batch = [await receive.receive()]
            while True:
                try:
                    batch.append(receive.receive_nowait())
                except trio.WouldBlock:
                    break
            batches.append(sum(len(i) if isinstance(i, tuple) else 1 for i in batch))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(shard)
        await nursery.start(source.run, send)
        await trio.testing.wait_all_tasks_blocked()
        for seq, token in enumerate(tokens, start=1):
            await bus.publish(Channel.POLYMARKET_PRICES, update(token, seq))
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    return batches


async def test_a_burst_reaches_the_shard_as_one_batch_not_one_wake_up_per_quote() -> None:
    # The shard takes every queued item per wake-up and runs the kernel once over them: a
    # source that yielded on every hand-over (``await send``) made each batch one quote long.
    batches = await burst_batches(100)
    assert sum(batches) == 100
    assert len(batches) <= 3, batches


async def test_a_long_backlog_still_lets_other_tasks_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from arbees.services import sources

    monkeypatch.setattr(sources, "HAND_OVER_RUN", 10)
    batches = await burst_batches(50)
    assert sum(batches) == 50
    # every 10 hand-overs the source yields, and the shard (runnable since the first) gets
    # its turn within the next scheduler round: it never waits for the whole backlog
    assert len(batches) >= 3, batches
    assert max(batches) <= 20, batches
