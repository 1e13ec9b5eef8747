"""The monitor publishes what a wake-up finds queued as ONE bus batch, newest per token.

Issue 18: one bus write per batch of socket reads, not one per update; under light load a
single update still goes out at once, alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
import trio

from arbees.book import BookView, Level
from arbees.bus.memory import MemoryBus
from arbees.egress import EgressGuard, EgressPolicy, EgressState
from arbees.messages import (
    LATEST_PRICES_HASH,
    TOKEN_ASSIGNMENTS_HASH,
    Channel,
    MarketAssignment,
    PolymarketPriceUpdate,
)
from arbees.services.monitor import PolymarketMonitor

A = str(10**70 + 1)
B = str(10**70 + 2)
C = str(10**70 + 3)
CONDITION = "0x" + "cd" * 32
GB = EgressState(verified=True, country="GB", ip="203.0.113.7", reason="ok", checked_at_ms=1)


class Verified:
    async def check(self, policy: EgressPolicy) -> EgressState:
        await trio.lowlevel.checkpoint()
        return GB


class RecordingBus(MemoryBus):
    """A memory bus that remembers each batch the monitor handed it."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def publish_and_hset_raw_nowait(
        self, channel: str, key: str, items: Sequence[tuple[str, bytes]]
    ) -> None:
        self.batches.append([field for field, _ in items])
        super().publish_and_hset_raw_nowait(channel, key, items)


@attrs.frozen
class Update:
    view: BookView
    venue_ts_ms: int | None
    received_ns: int


def update(token: str, bid: float, ts: int) -> Update:
    price = round(bid * 1_000_000)
    view = BookView(
        "polymarket",
        token,
        bids=(Level(price, 100_000_000),),
        asks=(Level(price + 50_000, 100_000_000),),
        stale=False,
        venue_ts_ms=ts,
        received_ns=ts,
        market=CONDITION,
    )
    return Update(view, ts, ts)


class ScriptedFeed:
    """The feed surface, with ``queued`` already waiting when the monitor starts reading."""

    def __init__(self, queued: list[Update]) -> None:
        self._send, self.updates = trio.open_memory_channel[Any](100)
        self.queued = queued
        self.sink: Callable[[list[Any]], None] | None = None

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        for u in self.queued:
            self._send.send_nowait(u)
        task_status.started()
        await trio.sleep_forever()

    def push(self, u: Update) -> None:
        """One socket read's update: to the sink when one is set, as a real feed does."""
        if self.sink is not None:
            self.sink([u])
        else:
            self._send.send_nowait(u)

    def set_sink(self, sink: Callable[[list[Any]], None] | None) -> None:
        self.sink = sink

    async def add(self, instruments: Iterable[str]) -> None:
        await trio.lowlevel.checkpoint()

    async def remove(self, instruments: Iterable[str]) -> None:
        await trio.lowlevel.checkpoint()

    def current_view(self, instrument: str) -> BookView | None:
        return None

    def last_message_ns(self) -> int:
        return 0

    def counters(self) -> dict[str, int]:
        return {"reconnects": 0, "rejected": 0, "mismatches": 0, "coalesced": 0, "updates": 0}


def assignment(token: str) -> MarketAssignment:
    return MarketAssignment("polymarket", CONDITION, token, "s1", "NBA", game_id="g1", epoch=1)


async def run_monitor(queued: list[Update], after: list[Update]) -> tuple[RecordingBus, list[Any]]:
    bus = RecordingBus()
    for token in (A, B, C):
        await bus.hset(TOKEN_ASSIGNMENTS_HASH, token, assignment(token))
    feed = ScriptedFeed(queued)
    seen: list[PolymarketPriceUpdate] = []
    async with trio.open_nursery() as nursery:
        async with bus.subscribe(Channel.POLYMARKET_PRICES) as sub:
            monitor = PolymarketMonitor(
                bus, lambda tokens: feed, EgressGuard(Verified(), interval=60, name="t")
            )
            await nursery.start(monitor.run)
            want = len({u.view.instrument for u in queued}) + len(after)
            for u in after:
                await trio.testing.wait_all_tasks_blocked()
                feed.push(u)
            with trio.fail_after(5):
                while len(seen) < want:
                    seen.append((await sub.receive()).message)
        nursery.cancel_scope.cancel()
    return bus, seen


async def test_updates_queued_together_go_out_as_one_batch_newest_per_token() -> None:
    queued = [update(A, 0.40, 1), update(B, 0.41, 2), update(A, 0.45, 3), update(C, 0.42, 4)]
    bus, seen = await run_monitor(queued, [])
    # one batch, first-change order, A's newest book (ts 3) in A's first place
    assert bus.batches == [[A, B, C]]
    assert [(m.token_id, m.venue_ts_ms, m.yes_bid) for m in seen] == [
        (A, 3, 450_000),
        (B, 2, 410_000),
        (C, 4, 420_000),
    ]
    assert [m.stream_seq for m in seen] == [1, 2, 3]
    latest = await bus.hget(LATEST_PRICES_HASH, A)
    assert isinstance(latest, PolymarketPriceUpdate)
    assert latest.venue_ts_ms == 3


async def test_under_light_load_each_update_goes_out_alone_at_once() -> None:
    bus, seen = await run_monitor([], [update(A, 0.40, 1), update(B, 0.41, 2)])
    assert bus.batches == [[A], [B]]
    assert [m.venue_ts_ms for m in seen] == [1, 2]


async def test_the_wired_monitor_feed_builds_views_at_the_published_depth() -> None:
    """The view is built once, at the depth the monitor publishes (not 10, then cut)."""
    from arbees.messages import PUBLISHED_DEPTH
    from arbees.wiring.build import build_monitor
    from arbees.wiring.settings import EgressSettings, MonitorSettings

    settings = MonitorSettings(egress=EgressSettings(url="http://e"), instance="m")
    async with build_monitor(settings, MemoryBus()) as monitor:
        feed: Any = monitor.feed_factory([A])
        assert feed.config.depth == PUBLISHED_DEPTH == monitor.depth


class SwitchableEgress:
    """A checker whose answer the test sets."""

    def __init__(self) -> None:
        self.state = GB

    async def check(self, policy: EgressPolicy) -> EgressState:
        await trio.lowlevel.checkpoint()
        return self.state


class CoalescingFeed(ScriptedFeed):
    def __init__(self, coalesced: int) -> None:
        super().__init__([])
        self.coalesced = coalesced

    def counters(self) -> dict[str, int]:
        return {**super().counters(), "coalesced": self.coalesced}


async def test_the_heartbeat_counts_merged_changes_over_every_feed_of_the_monitors_life() -> None:
    """``published`` + ``coalesced`` account for every change the venue sent (the bench's
    ramp relies on it): a feed's own count ends with its egress period, the monitor's not."""
    bus = MemoryBus()
    await bus.hset(TOKEN_ASSIGNMENTS_HASH, A, assignment(A))
    egress = SwitchableEgress()
    guard = EgressGuard(egress, interval=60, name="t")
    feeds = [CoalescingFeed(3), CoalescingFeed(4)]
    monitor = PolymarketMonitor(bus, lambda tokens: feeds.pop(0), guard)
    async with trio.open_nursery() as nursery:
        await nursery.start(monitor.run)
        await trio.testing.wait_all_tasks_blocked()
        assert monitor.coalesced() == 3
        assert monitor.status().details["coalesced"] == "3"
        egress.state = attrs.evolve(GB, verified=False, kind="forbidden_country", reason="lost")
        await guard.check_now()
        await trio.testing.wait_all_tasks_blocked()
        assert monitor.current_feed is None
        assert monitor.coalesced() == 3  # the ended feed's merges are kept
        egress.state = GB
        await guard.check_now()
        await trio.testing.wait_all_tasks_blocked()
        assert not feeds  # a second feed started
        assert monitor.coalesced() == 7
        assert monitor.status().details["coalesced"] == "7"
        nursery.cancel_scope.cancel()
