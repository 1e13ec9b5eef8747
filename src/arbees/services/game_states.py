"""The game-state relay: each venue's game reports from its feed onto ``arbees:game_states``.

A venue's live game data (Polymarket's sports WebSocket) reaches the shards as
:class:`~arbees.messages.GameState` messages on their own channel; each shard folds them
per game (:mod:`arbees.gamestate`). The relay runs in the monitor's process, inside the
same verified-egress scope as the market feed (the monitor runs it as a companion, see
:class:`~arbees.services.monitor.PolymarketMonitor`): no verified egress, no socket.

Bus delivery is at-most-once, so a shard that starts (or restarts) mid-game would not know
the game is live, or already over, until the venue's next report. The relay therefore
republishes the latest report of every game updated within ``refresh_horizon`` every
``refresh_interval`` seconds; a report is idempotent for a shard (same timestamp, same
state). A bus failure is logged and counted, never fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import attrs
import trio

from arbees.bus.base import Bus
from arbees.errors import BusError
from arbees.gamestate import GameStates
from arbees.messages import Channel, GameState, now_ms

__all__ = ["GameStateFeed", "GameStateRelay", "RelayStats"]

log = logging.getLogger(__name__)


class GameStateFeed(Protocol):
    """A venue's game-state source: ``run`` (ready through ``task_status``) and one
    ``updates`` stream of :class:`~arbees.messages.GameState`."""

    updates: trio.MemoryReceiveChannel[GameState]

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None: ...

    def counters(self) -> dict[str, int]: ...


@attrs.define
class RelayStats:
    """Counters.

    Attributes:
        published: reports published as they came.
        republished: reports published again by the refresh.
        publish_errors: publications the bus refused.
        feed_starts: feeds started (one per verified period).
    """

    published: int = 0
    republished: int = 0
    publish_errors: int = 0
    feed_starts: int = 0


class GameStateRelay:
    """Publishes a venue feed's game states on the bus (see the module docstring).

    Args:
        bus: where the reports go.
        feed_factory: a fresh feed for each run (each verified period of the monitor).
        refresh_interval: seconds between republications of the latest reports.
        refresh_horizon: only reports younger than this (seconds) are republished.
    """

    def __init__(
        self,
        bus: Bus,
        feed_factory: Callable[[], GameStateFeed],
        *,
        refresh_interval: float = 30.0,
        refresh_horizon: float = 12 * 3600.0,
    ) -> None:
        if not refresh_interval > 0 or not refresh_horizon > 0:
            raise ValueError("refresh_interval and refresh_horizon must be > 0")
        self.bus = bus
        self.feed_factory = feed_factory
        self.refresh_interval = refresh_interval
        self.refresh_horizon = refresh_horizon
        self.latest = GameStates()
        self.stats = RelayStats()
        self.feed: GameStateFeed | None = None

    def __repr__(self) -> str:
        return f"GameStateRelay(games={len(self.latest)}, published={self.stats.published})"

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run a fresh feed and relay it until cancelled; ready once the feed is."""
        feed = self.feed_factory()
        self.stats.feed_starts += 1
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(feed.run)
                self.feed = feed
                nursery.start_soon(self._refresh)
                task_status.started()
                async for state in feed.updates:
                    if self.latest.report(state) and await self._publish(state):
                        self.stats.published += 1
        finally:
            self.feed = None

    async def _refresh(self) -> None:
        while True:
            await trio.sleep(self.refresh_interval)
            since = now_ms() - round(self.refresh_horizon * 1000)
            for state in self.latest.reports():
                if state.timestamp_ms >= since and await self._publish(state):
                    self.stats.republished += 1

    async def _publish(self, state: GameState) -> bool:
        try:
            await self.bus.publish(Channel.GAME_STATES, state)
        except BusError as exc:
            self.stats.publish_errors += 1
            log.warning("game state %s %s not published: %s", state.venue, state.key, exc)
            return False
        return True
