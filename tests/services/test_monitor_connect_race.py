"""Assignments that arrive while the monitor's feed is still connecting are not lost.

Found by running three ``arbees demo`` at once on a loaded machine: the monitor built its
feed from the assignments stored at that moment, the rest arrived live while the socket
was connecting, found no feed to tell (``_feed_call`` skips while there is none) and
stayed unsubscribed until the next reconnect; the demo waited 30 s for books that never
came.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import trio
import trio.testing

from arbees.book import BookView
from arbees.bus.memory import MemoryBus
from arbees.egress import EgressGuard
from arbees.messages import TOKEN_ASSIGNMENTS_HASH, Channel, MarketAssignment
from arbees.services.monitor import PolymarketMonitor
from tests.services.test_monitor_batch import CONDITION, A, B, C, Verified


class SlowHandshakeFeed:
    """A feed whose connect waits for ``connected``; it records what it was told."""

    def __init__(self, tokens: list[str]) -> None:
        self.subscribed = set(tokens)
        self.connected = trio.Event()
        self._send, self.updates = trio.open_memory_channel[Any](10)
        self.sink: Callable[[list[Any]], None] | None = None

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        await self.connected.wait()
        task_status.started()
        await trio.sleep_forever()

    async def add(self, instruments: Iterable[str]) -> None:
        await trio.lowlevel.checkpoint()
        self.subscribed.update(instruments)

    async def remove(self, instruments: Iterable[str]) -> None:
        await trio.lowlevel.checkpoint()
        self.subscribed.difference_update(instruments)

    def set_sink(self, sink: Callable[[list[Any]], None] | None) -> None:
        self.sink = sink

    def current_view(self, instrument: str) -> BookView | None:
        return None

    def last_message_ns(self) -> int:
        return 0

    def counters(self) -> dict[str, int]:
        return {"reconnects": 0, "rejected": 0, "mismatches": 0, "coalesced": 0, "updates": 0}


def assignment(token: str, action: str = "assign", epoch: int = 1) -> MarketAssignment:
    return MarketAssignment(
        "polymarket", CONDITION, token, "s1", "NBA", game_id="g1", action=action, epoch=epoch
    )


async def test_assignments_applied_during_the_handshake_reach_the_feed() -> None:
    bus = MemoryBus()
    await bus.hset(TOKEN_ASSIGNMENTS_HASH, A, assignment(A))
    await bus.hset(TOKEN_ASSIGNMENTS_HASH, C, assignment(C))
    feeds: list[SlowHandshakeFeed] = []

    def factory(tokens: list[str]) -> SlowHandshakeFeed:
        feeds.append(SlowHandshakeFeed(tokens))
        return feeds[-1]

    monitor = PolymarketMonitor(bus, factory, EgressGuard(Verified(), interval=60, name="t"))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(monitor.run)
        await trio.testing.wait_all_tasks_blocked()
        feed = feeds[0]
        assert feed.subscribed == {A, C}  # built from the stored assignments
        # while the feed connects: B assigned, C unassigned
        await bus.publish(Channel.MARKET_ASSIGNMENTS, assignment(B))
        await bus.publish(Channel.MARKET_ASSIGNMENTS, assignment(C, "unassign", epoch=2))
        await trio.testing.wait_all_tasks_blocked()
        assert set(monitor.tokens) == {A, B}
        assert feed.subscribed == {A, C}  # nobody could tell the connecting feed
        feed.connected.set()
        await trio.testing.wait_all_tasks_blocked()
        assert feed.subscribed == {A, B}
        assert monitor.stats.caught_up == 1
        assert len(feeds) == 1  # no reconnect was needed
        nursery.cancel_scope.cancel()
