"""A subscription's sink: each transport read offered inline, on the transport's own task.

On both transports (a real redis-server and the memory bus): the sink gets a read's
envelopes in order on the reader's task, what it does not take is queued in order, nothing
is offered while anything is queued, and a sink that raises is counted and logged without
stopping the bus.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
import trio
import trio.testing
from bus_samples import price_update

from arbees import codec
from arbees.bus import Bus
from arbees.bus.base import Envelope
from arbees.messages import PolymarketPriceUpdate


def payloads(count: int, first: int = 1) -> list[tuple[str, bytes]]:
    return [
        (str(n), codec.encode(price_update(n, token=f"{n}"))) for n in range(first, first + count)
    ]


def seqs(envelopes: list[Envelope]) -> list[int]:
    out = []
    for envelope in envelopes:
        assert isinstance(envelope.message, PolymarketPriceUpdate)
        out.append(envelope.message.timestamp_ms - 1_700_000_000_000)  # the sample's n
    return out


async def wait_for(predicate: Callable[[], bool]) -> None:
    """Poll a condition over a real socket (a server answers on its own time)."""
    with trio.fail_after(5):
        while not predicate():  # noqa: ASYNC110
            await trio.sleep(0.005)


async def test_the_sink_takes_each_read_on_the_readers_task_in_order(bus: Bus, uniq: str) -> None:
    me = trio.lowlevel.current_task()
    seen: list[int] = []
    tasks: set[object] = set()

    def sink(envelopes: list[Envelope]) -> int:
        tasks.add(trio.lowlevel.current_task())
        seen.extend(seqs(envelopes))
        return len(envelopes)

    async with bus.subscribe(f"{uniq}:c") as sub:
        sub.set_sink(sink)
        bus.publish_and_hset_raw_nowait(f"{uniq}:c", f"{uniq}:h", payloads(5))
        await wait_for(lambda: len(seen) >= 5)
        assert seen == [1, 2, 3, 4, 5]
        with pytest.raises(trio.TooSlowError), trio.fail_after(0.05):
            await sub.receive()  # everything was taken: nothing queued
    if type(bus).__name__ == "RedisBus":
        assert me not in tasks  # the pub/sub reader's task, not the publisher's
    assert len(tasks) == 1


async def test_what_the_sink_leaves_is_queued_in_order_and_nothing_overtakes_it(
    bus: Bus, uniq: str
) -> None:
    offered: list[list[int]] = []

    def sink(envelopes: list[Envelope]) -> int:
        offered.append(seqs(envelopes))
        return 1 if len(offered) == 1 else 0  # takes the very first envelope, leaves the rest

    async with bus.subscribe(f"{uniq}:c") as sub:
        sub.set_sink(sink)
        bus.publish_and_hset_raw_nowait(f"{uniq}:c", f"{uniq}:h", payloads(3))
        with trio.fail_after(5):
            first = await sub.receive_batch()
            while len(first) < 2:
                first += await sub.receive_batch()
        assert offered[0][0] == 1
        assert seqs(first) == [2, 3]  # left by the sink: queued, in order
        # A read that arrives while an earlier one still waits in the queue is queued
        # behind it without being offered to the sink.
        bus.publish_and_hset_raw_nowait(f"{uniq}:c", f"{uniq}:h", payloads(1, first=4))
        await wait_for(lambda: len(sub._queue) > 0)
        offered_before = len(offered)
        bus.publish_and_hset_raw_nowait(f"{uniq}:c", f"{uniq}:h", payloads(1, first=5))
        await wait_for(lambda: len(sub._queue) == 2 or len(offered) > offered_before)
        with trio.fail_after(5):
            rest = await sub.receive_batch()
            while len(rest) < 2:
                rest += await sub.receive_batch()
        assert seqs(rest) == [4, 5]
        assert len(offered) == offered_before, offered  # 5 came while 4 was queued: never offered


async def test_a_sink_that_raises_is_counted_and_logged_and_the_bus_goes_on(
    bus: Bus, uniq: str, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[int] = []

    def sink(envelopes: list[Envelope]) -> int:
        got = seqs(envelopes)
        if 1 in got:
            raise RuntimeError("a bug downstream")
        seen.extend(got)
        return len(envelopes)

    async with bus.subscribe(f"{uniq}:c") as sub:
        sub.set_sink(sink)
        with caplog.at_level(logging.ERROR, logger="arbees.bus.base"):
            bus.publish_and_hset_raw_nowait(f"{uniq}:c", f"{uniq}:h", payloads(1))
            await wait_for(lambda: sub.sink_errors > 0)
        assert sub.sink_errors == 1
        assert "sink failed" in caplog.text
        bus.publish_and_hset_raw_nowait(f"{uniq}:c", f"{uniq}:h", payloads(2, first=2))
        await wait_for(lambda: len(seen) >= 2)
        assert seen == [2, 3]
