"""A batch of price writes (``publish_and_hset_many``, or the monitor's encoded
``publish_and_hset_raw_nowait``) leaves as one pipelined write."""

from __future__ import annotations

import pytest
import redis
import trio
from bus_samples import price_update

from arbees import codec
from arbees.bus._redis_aio import Outbox, Outgoing
from arbees.bus.memory import MemoryBus
from arbees.bus.redis import open_redis_bus
from arbees.errors import BusClosedError
from arbees.testing.redis_server import RedisServer


def item(i: int) -> Outgoing:
    return Outgoing("c", b"%d" % i, "h", str(i))


def test_put_many_wakes_the_writer_once_for_the_whole_batch() -> None:
    outbox = Outbox(10)
    wakes: list[int] = []
    outbox.waker = lambda: wakes.append(len(outbox))
    assert outbox.put_many([item(i) for i in range(4)]) == 0
    assert wakes == [4]  # woken once, with the whole batch already queued


def test_put_many_drops_the_oldest_when_full() -> None:
    outbox = Outbox(5)
    outbox.put_many([item(i) for i in range(3)])
    assert outbox.put_many([item(i) for i in range(3, 6)]) == 1
    assert [o.field for o in outbox.items] == ["1", "2", "3", "4", "5"]
    assert outbox.put_many([item(i) for i in range(6, 13)]) == 7
    assert [o.field for o in outbox.items] == ["8", "9", "10", "11", "12"]
    assert outbox.dropped == 8


async def test_redis_batch_arrives_in_order_and_fills_the_hash(redis_server: RedisServer) -> None:
    channel, key = "batch:prices", "batch:latest"
    with redis.Redis.from_url(redis_server.url) as admin:
        admin.delete(key)
    items = [(str(i), price_update(i)) for i in range(50)]
    async with open_redis_bus(redis_server.url) as bus, bus.subscribe(channel) as sub:
        await bus.publish_and_hset_many(channel, key, items)
        with trio.fail_after(5):
            got = [(await sub.receive()).message for _ in items]
        assert got == [m for _, m in items]
        assert await bus.hget(key, "49") == price_update(49)
    assert bus.stats.published == len(items)
    assert bus.stats.publish_failed == 0


async def test_memory_batch_publishes_and_stores_each_item() -> None:
    bus = MemoryBus()
    async with bus.subscribe("m") as sub:
        await bus.publish_and_hset_many("m", "h", [("a", price_update(1)), ("b", price_update(2))])
        assert (await sub.receive()).message == price_update(1)
        assert (await sub.receive()).message == price_update(2)
    assert await bus.hget("h", "b") == price_update(2)


async def test_redis_raw_batch_from_a_sync_caller_is_one_ordered_write(
    redis_server: RedisServer,
) -> None:
    """The monitor's path: encoded payloads queued with no await (on a feed's reader task)."""
    channel, key = "raw:batch:prices", "raw:batch:latest"
    with redis.Redis.from_url(redis_server.url) as admin:
        admin.delete(key)
    items = [(str(i), codec.encode(price_update(i))) for i in range(40)]
    async with open_redis_bus(redis_server.url) as bus, bus.subscribe(channel) as sub:
        bus.publish_and_hset_raw_nowait(channel, key, items)
        with trio.fail_after(5):
            got = [(await sub.receive()).message for _ in items]
        assert got == [price_update(i) for i in range(40)]
        assert await bus.hget(key, "39") == price_update(39)
    assert (bus.stats.published, bus.stats.publish_failed) == (40, 0)
    with pytest.raises(BusClosedError):
        bus.publish_and_hset_raw_nowait(channel, key, items)


async def test_memory_raw_batch_decodes_each_payload_and_refuses_a_bad_one_alone() -> None:
    bus = MemoryBus()
    good = codec.encode(price_update(1))
    bad = good.replace(b'"yes_bid_exact":"', b'"yes_bid_exact":"9')  # out of range
    async with bus.subscribe("m") as sub:
        bus.publish_and_hset_raw_nowait("m", "h", [("a", bad), ("b", good), ("c", b"{")])
        assert (await sub.receive()).message == price_update(1)
        with pytest.raises(trio.WouldBlock):
            sub._queue.get_nowait()
        assert sub.decode_errors == 2
    assert await bus.hget("h", "b") == price_update(1)
    assert await bus.hget("h", "a") is None  # a refused payload is never stored
    assert bus.stats.decode_errors == 2
    bus.publish_and_hset_raw_nowait("m", "h", [("d", b"[]")])  # nobody listening: still counted
    assert bus.stats.decode_errors == 3
    assert await bus.hget("h", "d") is None
