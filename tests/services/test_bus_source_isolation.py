"""Forged monitor heartbeats on the bus: bounded work, and no freshness from the future."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest

from arbees.book import Level
from arbees.bus import MemoryBus
from arbees.errors import DecodeError
from arbees.messages import (
    LATEST_PRICES_HASH,
    Message,
    PolymarketPriceUpdate,
    ServiceStatus,
    now_ms,
)
from arbees.money import ONE
from arbees.services.quotes import MAX_QUOTE_LEVELS
from arbees.services.sources import Alive, BusPolymarketSource
from tests.services.test_bus_source import Harness, running, status, update

MANY = tuple(str(1000 + i) for i in range(50))


class CountingBus(MemoryBus):
    """A memory bus that counts the hash reads a consumer makes."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = {"hget": 0, "hgetall": 0}

    async def hget(self, key: str, field: str) -> Message | None:
        self.reads["hget"] += 1
        return await super().hget(key, field)

    async def hgetall(
        self, key: str, *, refused: dict[str, DecodeError] | None = None
    ) -> dict[str, Message]:
        self.reads["hgetall"] += 1
        return await super().hgetall(key, refused=refused)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    bus = CountingBus()
    # A reload interval no test can reach: exactly the reloads the first message allows.
    source = BusPolymarketSource(bus, reload_interval=3600.0)
    await source.add(MANY)
    async with running(bus, source) as h:
        yield h


def reads(h: Harness) -> dict[str, int]:
    bus: Any = h.bus
    return dict(bus.reads)


async def test_forged_stream_ids_cost_one_reload_not_one_read_per_token(harness: Harness) -> None:
    for token in MANY:
        await harness.bus.hset(LATEST_PRICES_HASH, token, update(token, 0))
    before = reads(harness)
    assert before == {"hget": 0, "hgetall": 1}  # the start-up seed: one round trip
    for i in range(200):  # a hostile client flipping the stream id on every message
        await harness.publish(status(f"forged-{i}", 0))
    after = reads(harness)
    assert harness.source.gaps == 199
    # Every gap marks the quotes stale at once (no bus traffic); one reload ran.
    assert after["hget"] == 0
    assert after["hgetall"] - before["hgetall"] == 1
    assert harness.source.reloads == 1


async def test_a_heartbeat_from_the_future_is_refused(harness: Harness) -> None:
    hour_ahead = now_ms() + 3_600_000
    await harness.publish(
        ServiceStatus("monitor", "m", True, hour_ahead, details={"stream_id": "m-1"})
    )
    assert harness.source.future_heartbeats == 1
    assert not any(isinstance(i, Alive) for i in harness.items)
    # A heartbeat of now is taken (the small skew allowed between two clocks included).
    await harness.publish(
        ServiceStatus("monitor", "m", True, now_ms() + 1000, details={"stream_id": "m-1"})
    )
    assert [i for i in harness.items if isinstance(i, Alive)]
    assert harness.source.future_heartbeats == 1


async def test_a_hash_entry_under_another_tokens_name_is_not_used(harness: Harness) -> None:
    harness.clear()
    await harness.bus.hset(LATEST_PRICES_HASH, "77", update("1000", 0))  # poisoned entry
    await harness.source.add(["77"])
    assert harness.quotes() == []


def _with_asks(yes: tuple[Level, ...], no: tuple[Level, ...] = ()) -> PolymarketPriceUpdate:
    return attrs.evolve(update("1000", 0), yes_asks=yes, no_asks=no or update("1000", 0).no_asks)


@pytest.mark.parametrize(
    ("yes", "why"),
    [
        ((Level(500_000, ONE), Level(400_000, ONE)), "unsorted"),
        ((Level(500_000, ONE), Level(500_000, ONE)), "duplicated"),
        ((Level(500_000, 0),), "empty level"),
        ((Level(0, ONE),), "price 0"),
        ((Level(ONE, ONE),), "price 1"),
        ((Level(-5, ONE),), "negative price"),
    ],
)
async def test_a_malformed_ladder_makes_the_token_stale_never_a_wrong_book(
    harness: Harness, yes: tuple[Level, ...], why: str
) -> None:
    harness.clear()
    await harness.publish(_with_asks(yes))
    (quote,) = harness.quotes()
    assert quote.stale, why
    assert quote.yes_asks == quote.no_asks == ()
    assert harness.source.rejected_updates == 1


async def test_a_huge_ladder_is_cut_to_the_depth_a_decision_uses(harness: Harness) -> None:
    harness.clear()
    ladder = tuple(Level(1 + i, ONE) for i in range(200_000))
    await harness.publish(_with_asks(ladder))
    (quote,) = harness.quotes()
    assert not quote.stale
    assert quote.yes_asks == ladder[:MAX_QUOTE_LEVELS]
