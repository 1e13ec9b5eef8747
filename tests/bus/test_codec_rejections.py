"""Refused payloads on a bus: counted in total and by field, logged a few times — not once
per payload — and never in the way of the valid ones."""

from __future__ import annotations

import json
import logging

import pytest
import trio
from bus_samples import price_update

from arbees import codec
from arbees.bus import Bus
from arbees.bus.memory import MemoryBus
from arbees.bus.redis import RedisBus
from arbees.messages import now_ms
from arbees.obs.metrics import Registry
from arbees.wiring.metrics import bus_gauges

WAIT = 5.0
GARBAGE = 500


def future_update() -> bytes:
    obj = json.loads(codec.encode(price_update(1)))
    obj["timestamp_ms"] = now_ms() + 3_600_000
    return json.dumps(obj).encode()


async def test_a_flood_of_garbage_is_counted_by_field_and_logged_a_few_times(
    bus: Bus, uniq: str, caplog: pytest.LogCaptureFixture
) -> None:
    channel = f"{uniq}:prices"
    valid = price_update(7)
    before = dict(bus.stats.decode_errors_by_field)
    with caplog.at_level(logging.WARNING, logger="arbees.bus.base"):
        async with bus.subscribe(channel, buffer=16) as sub:
            for _ in range(GARBAGE):
                await bus.publish_raw(channel, b"{not json")
                await bus.publish_raw(channel, future_update())
            await bus.publish(channel, valid)
            with trio.fail_after(WAIT):
                envelope = await sub.receive()
        assert envelope.message == valid
        assert sub.decode_errors == 2 * GARBAGE
    by_field = bus.stats.decode_errors_by_field
    assert by_field["payload"] - before.get("payload", 0) == GARBAGE
    assert by_field["timestamp_ms"] - before.get("timestamp_ms", 0) == GARBAGE
    logged = [r for r in caplog.records if "undecodable" in r.getMessage()]
    # the 1st, 10th and 100th of each field (the counters are per bus, so at most that)
    assert 2 <= len(logged) <= 6
    assert any("timestamp_ms" in r.getMessage() for r in logged)


async def test_poisoned_hash_entries_are_skipped_counted_and_the_valid_one_kept(
    bus: Bus, uniq: str
) -> None:
    key = f"{uniq}:latest"
    good = price_update(3)
    await bus.hset(key, "good", good)
    if isinstance(bus, RedisBus):  # a memory bus stores objects, never bytes
        client = bus._client_or_fail()
        hset = bus._aio(client.hset)
        for i in range(20):
            await hset(key, f"bad{i}", future_update())
        await hset(key, "huge", b'{"a":"' + b"x" * (codec.MAX_PAYLOAD_BYTES + 1) + b'"}')
    assert await bus.hgetall(key) == {"good": good}
    if isinstance(bus, RedisBus):
        assert bus.stats.decode_errors == 21
        assert bus.stats.decode_errors_by_field == {"timestamp_ms": 20, "payload": 1}


async def test_every_service_exports_the_refusals() -> None:
    registry = Registry()
    bus = MemoryBus()
    bus_gauges(registry, bus)
    async with bus.subscribe("c"):
        await bus.publish_raw("c", b"garbage")
    assert "arbees_bus_decode_errors 1.0" in registry.render().splitlines()
