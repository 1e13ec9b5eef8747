"""Fake shards and an assignment-stream observer for orchestrator tests."""

from __future__ import annotations

import trio

from arbees.bus import Bus
from arbees.messages import Channel, MarketAssignment, ShardHeartbeat, now_ms
from arbees.services.orchestrator import OrchestratorConfig

__all__ = ["FAST", "FakeShard", "Observer", "wait_for"]

FAST = OrchestratorConfig(
    discovery_interval=0.5,
    shard_timeout=1.0,
    republish_interval=0.5,
    check_interval=0.05,
    settle_delay=0.4,
    health_interval=0.2,
    health_ttl=2.0,
    instance="test-orch",
)


class FakeShard:
    """Publishes heartbeats with the games it holds; records its assignments in order."""

    def __init__(self, bus: Bus, shard_id: str, *, interval: float = 0.1) -> None:
        self.bus = bus
        self.shard_id = shard_id
        self.interval = interval
        self.started_ms = now_ms()
        self.games: set[str] = set()
        self.seen: list[MarketAssignment] = []
        self.extra_games: tuple[str, ...] = ()
        self._beat_scope = trio.CancelScope()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with self.bus.subscribe(Channel.MARKET_ASSIGNMENTS) as sub, trio.open_nursery() as n:
            n.start_soon(self._beat)
            task_status.started()
            async for env in sub:
                msg = env.message
                if (
                    isinstance(msg, MarketAssignment)
                    and msg.platform == "kalshi"
                    and msg.shard_id == self.shard_id
                ):
                    self.seen.append(msg)
                    if msg.action == "assign":
                        self.games.add(msg.game_id)
                    else:
                        self.games.discard(msg.game_id)

    async def _beat(self) -> None:
        with self._beat_scope:
            while True:
                await self.bus.publish(
                    Channel.SHARD_HEARTBEATS,
                    ShardHeartbeat(
                        self.shard_id,
                        now_ms(),
                        tuple(sorted(self.games)) + self.extra_games,
                        started_ms=self.started_ms,
                    ),
                )
                await trio.sleep(self.interval)

    def stop_heartbeats(self) -> None:
        """Play a crash as the orchestrator sees it: heartbeats stop."""
        self._beat_scope.cancel()


class Observer:
    """Replays the assignment stream and records any game held by two shards at once."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.holder: dict[str, str] = {}
        self.violations: list[str] = []
        self.messages: list[MarketAssignment] = []

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with self.bus.subscribe(Channel.MARKET_ASSIGNMENTS) as sub:
            task_status.started()
            async for env in sub:
                msg = env.message
                assert isinstance(msg, MarketAssignment)
                self.messages.append(msg)
                if msg.platform != "kalshi":
                    continue
                current = self.holder.get(msg.game_id)
                if msg.action == "assign":
                    if current is not None and current != msg.shard_id:
                        self.violations.append(f"{msg.game_id}: {current} and {msg.shard_id}")
                    self.holder[msg.game_id] = msg.shard_id
                elif current == msg.shard_id:
                    del self.holder[msg.game_id]


async def wait_for(predicate: object, limit: float, step: float = 0.02) -> None:
    """Poll ``predicate()`` until true; fails the test after ``limit`` seconds.

    Polling (not an Event) because the state lives in other tasks' plain attributes.
    """
    assert callable(predicate)
    with trio.fail_after(limit):
        while not predicate():  # noqa: ASYNC110
            await trio.sleep(step)
