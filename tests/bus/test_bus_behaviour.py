"""One behavioural suite, run against every transport (MemoryBus and RedisBus).

Both must behave the same from a service's point of view: round trips of every message
type, the latest-price hash, TTL expiry, fan-out, garbage skipped and counted,
drop-oldest buffers, and subscriptions that end cleanly.
"""

from __future__ import annotations

import gc
import inspect

import pytest
import redis
import trio
from bus_samples import TOKEN, every_message, price_update

from arbees.bus import Bus, Subscription, open_bus
from arbees.errors import BusClosedError
from arbees.messages import LATEST_PRICES_HASH, SystemAlert

# Long enough for a loaded CI box, short enough that a hang fails fast.
WAIT = 5.0


def raw_publish(url: str, channel: str, payload: bytes) -> int:
    """What ``redis-cli PUBLISH`` does: a plain client outside the bus."""
    with redis.Redis.from_url(url) as client:
        return int(client.publish(channel, payload))


async def until(predicate: object, what: str) -> None:
    assert callable(predicate)
    with trio.fail_after(WAIT):
        while not predicate():  # noqa: ASYNC110 - polls counters the bus updates
            await trio.sleep(0.005)


async def receive(sub: Subscription) -> object:
    with trio.fail_after(WAIT):
        return (await sub.receive()).message


async def test_round_trip_of_every_message_type(bus: Bus, uniq: str) -> None:
    channel = f"{uniq}:all"
    messages = every_message()
    async with bus.subscribe(channel) as sub:
        for message in messages:
            await bus.publish(channel, message)
        got = []
        for _ in messages:
            with trio.fail_after(WAIT):
                envelope = await sub.receive()
            assert envelope.channel == channel
            assert envelope.received_ns > 0
            got.append(envelope.message)
    assert got == messages
    assert bus.stats.received >= len(messages)


async def test_latest_price_hash(bus: Bus, uniq: str) -> None:
    key = f"{uniq}:{LATEST_PRICES_HASH}"
    first, second = price_update(1, token="111"), price_update(2, token="222")
    assert await bus.hget(key, "111") is None
    assert await bus.hgetall(key) == {}
    await bus.hset(key, "111", first)
    await bus.hset(key, "222", second)
    assert await bus.hget(key, "111") == first
    assert await bus.hgetall(key) == {"111": first, "222": second}
    newer = price_update(3, token="111")
    await bus.hset(key, "111", newer)
    assert await bus.hget(key, "111") == newer
    await bus.hdel(key, "111", "nope")
    assert await bus.hget(key, "111") is None
    assert await bus.hgetall(key) == {"222": second}


async def test_publish_and_hset_does_both(bus: Bus, uniq: str) -> None:
    channel, key = f"{uniq}:prices", f"{uniq}:latest"
    update = price_update(7)
    async with bus.subscribe(channel) as sub:
        await bus.publish_and_hset(channel, update, key, TOKEN)
        assert await receive(sub) == update
    # the hash write was queued before the publish, so it is visible by now
    assert await bus.hget(key, TOKEN) == update


async def test_set_with_ttl_expires(bus: Bus, uniq: str) -> None:
    alert = every_message()[2]
    await bus.set(f"{uniq}:short", alert, ttl_s=0.15)
    await bus.set(f"{uniq}:forever", alert)
    assert await bus.get(f"{uniq}:short") == alert
    assert await bus.get(f"{uniq}:missing") is None
    await trio.sleep(0.3)
    assert await bus.get(f"{uniq}:short") is None
    assert await bus.get(f"{uniq}:forever") == alert


async def test_three_subscribers_fan_out(bus: Bus, uniq: str) -> None:
    channel, other = f"{uniq}:fan", f"{uniq}:other"
    updates = [price_update(i) for i in range(5)]
    async with (
        bus.subscribe(channel) as a,
        bus.subscribe(channel, other) as b,
        bus.subscribe(channel) as c,
    ):
        for update in updates:
            await bus.publish(channel, update)
        for sub in (a, b, c):
            assert [await receive(sub) for _ in updates] == updates
        await bus.publish(other, updates[0])
        assert await receive(b) == updates[0]
    for sub in (a, b, c):
        assert sub.dropped == 0
        assert sub.decode_errors == 0


async def test_garbage_is_skipped_and_counted(bus: Bus, bus_url: str, uniq: str) -> None:
    channel = f"{uniq}:garbage"
    garbage = [
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"schema": 1, "kind": "Nope"}',
        b'{"schema": 99, "kind": "SystemAlert"}',
        b'{"schema":1,"kind":"PolymarketPriceUpdate","yes_bid":NaN}',
    ]
    before = bus.stats.decode_errors
    async with bus.subscribe(channel) as sub:
        for payload in garbage:
            await bus.publish_raw(channel, payload)
        await bus.publish(channel, price_update(1))
        assert await receive(sub) == price_update(1)
        expected = len(garbage)
        if bus_url.startswith("redis"):
            # ... and from a plain client, like `redis-cli PUBLISH`
            assert await trio.to_thread.run_sync(raw_publish, bus_url, channel, b"{oops") == 1
            await bus.publish(channel, price_update(2))
            assert await receive(sub) == price_update(2)
            expected += 1
        assert sub.decode_errors == expected
        assert bus.stats.decode_errors - before == expected
        # still alive afterwards
        await bus.publish(channel, price_update(3))
        assert await receive(sub) == price_update(3)


async def test_full_buffer_drops_oldest(bus: Bus, uniq: str) -> None:
    channel = f"{uniq}:slow"
    async with bus.subscribe(channel, buffer=3) as sub:
        for i in range(10):
            await bus.publish(channel, price_update(i))
        await until(lambda: sub.dropped == 7, "7 drops")
        got = [await receive(sub) for _ in range(3)]
        assert got == [price_update(7), price_update(8), price_update(9)]
        assert bus.stats.dropped >= 7
        # the subscription keeps working after dropping
        await bus.publish(channel, price_update(10))
        assert await receive(sub) == price_update(10)


async def test_subscription_ends_cleanly_when_its_context_exits(bus: Bus, uniq: str) -> None:
    channel = f"{uniq}:end"
    seen: list[object] = []

    async def consume(sub: Subscription) -> None:
        async for envelope in sub:
            seen.append(envelope.message)
        seen.append("ended")

    with trio.fail_after(WAIT):
        async with trio.open_nursery() as nursery, bus.subscribe(channel) as sub:
            nursery.start_soon(consume, sub)
            await bus.publish(channel, price_update(1))
            await until(lambda: len(seen) == 1, "one message")
        # the consumer's `async for` ended by itself: no cancellation was needed
    assert seen == [price_update(1), "ended"]
    with trio.fail_after(WAIT), pytest.raises(BusClosedError):
        await sub.receive()
    # publishing to a channel nobody listens to is fine
    await bus.publish(channel, price_update(2))
    async with bus.subscribe(channel) as again:
        await bus.publish(channel, price_update(3))
        # Publishing is asynchronous on Redis: update 2 may still have been in flight
        # when the new subscription went live. Whatever arrives is in order.
        got = [await receive(again)]
        if got[0] != price_update(3):
            got.append(await receive(again))
        assert got in ([price_update(3)], [price_update(2), price_update(3)])


async def test_closing_the_bus_ends_live_subscriptions(bus_url: str, uniq: str) -> None:
    ended = trio.Event()

    async def consume(sub: Subscription) -> None:
        async for _ in sub:
            pass
        ended.set()

    with trio.fail_after(WAIT):
        async with (
            open_bus(bus_url) as bus,
            trio.open_nursery() as nursery,
            bus.subscribe(f"{uniq}:x") as sub,
        ):
            nursery.start_soon(consume, sub)
            await bus.aclose()
            await ended.wait()
    with pytest.raises(BusClosedError):
        await bus.publish(f"{uniq}:x", SystemAlert(type="T", service="s", error="", timestamp=0))


async def test_leaving_an_async_for_early_leaves_nothing_to_finalise(bus: Bus, uniq: str) -> None:
    # A consumer that breaks out of `async for envelope in sub` must not leave an unfinished
    # async generator for the garbage collector: Python then warns at a moment the collector
    # picks, which made an end-to-end test fail now and then under load.
    channel = f"{uniq}:early"
    async with bus.subscribe(channel) as sub:
        for i in range(3):
            await bus.publish(channel, price_update(i))
        for _ in range(3):
            async for envelope in sub:
                assert envelope.message is not None
                break
        iterator = aiter(sub)
        assert not inspect.isasyncgen(iterator)
        del iterator
        gc.collect()
        await trio.lowlevel.checkpoint()
