"""How far behind a price really is: the venue's clock, and the process's own lag.

A shard stamps a frame when it reads it. When the process falls behind (load, a long
batch), frames wait in the kernel's socket buffer and in queues, then are read and stamped
"now": a price 1-2 s old would pass ``MAX_PRICE_AGE_MS``. Two measures catch it:

* :class:`VenueClock`: where a venue stamps its messages with its send time, a quote is
  as old as the venue says, once the venue's clock is put on ours. The offset between the
  clocks is measured, not assumed: the smallest ``receive - venue time`` seen over a
  sliding window (:data:`SKEW_WINDOW_NS`, in buckets of :data:`SKEW_BUCKET_NS`) is clock
  offset plus the fastest transit, so a machine whose clock is off by seconds keeps its
  books fresh, and a frame that waited in a buffer shows as late by what it waited. The
  window is bounded (a fixed number of buckets); a lag lasting longer than the window
  becomes the new offset, which :class:`LagGuard` covers.
* :class:`LagGuard`: a Trio task that sleeps ``interval`` seconds again and again and
  measures how late each wake-up is. While it is later than ``threshold``, the scheduler
  is behind: what the process reads now may have waited unseen, so the shard opens no new
  signal (see :meth:`arbees.services.shard_engine.ShardEngine.set_lagging`).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Final

import attrs
import trio

__all__ = ["SKEW_BUCKET_NS", "SKEW_WINDOW_NS", "LagGuard", "LagStats", "VenueClock"]

log = logging.getLogger(__name__)

SKEW_BUCKET_NS: Final = 10_000_000_000
"""The skew estimate keeps one minimum per 10 s of receive time ..."""
SKEW_WINDOW_NS: Final = 300_000_000_000
"""... over the last 5 minutes: a clock step is followed within this, a lag shorter than
this never passes for clock offset."""


class VenueClock:
    """A running estimate of one venue's clock against ours (see the module doc).

    ``observe(received_ns, venue_ns)`` feeds it one message; :attr:`offset_ns` is the
    smallest ``received_ns - venue_ns`` over the window (``None`` before the first), and
    :meth:`delay_ns` how much later than that a message arrived: the time it spent in
    transit and in buffers beyond the fastest seen.
    """

    __slots__ = ("_buckets", "bucket_ns", "offset_ns", "window")

    def __init__(self, *, bucket_ns: int = SKEW_BUCKET_NS, window_ns: int = SKEW_WINDOW_NS):
        self.bucket_ns = bucket_ns
        self.window = max(1, window_ns // bucket_ns)
        self._buckets: deque[list[int]] = deque()  # [bucket index, smallest offset]
        self.offset_ns: int | None = None

    def observe(self, received_ns: int, venue_ns: int) -> int:
        """Take one message's times; return its delay (see :meth:`delay_ns`)."""
        offset = received_ns - venue_ns
        bucket = received_ns // self.bucket_ns
        buckets = self._buckets
        if buckets and buckets[-1][0] >= bucket:  # this bucket (or a clock stepped back)
            last = buckets[-1]
            if offset < last[1]:
                last[1] = offset
            if self.offset_ns is None or offset < self.offset_ns:
                self.offset_ns = offset
        else:
            buckets.append([bucket, offset])
            expired = False
            while buckets[0][0] <= bucket - self.window:
                buckets.popleft()
                expired = True
            if expired or self.offset_ns is None or offset < self.offset_ns:
                self.offset_ns = min(b[1] for b in buckets)
        return offset - self.offset_ns

    def delay_ns(self, received_ns: int, venue_ns: int) -> int:
        """How much longer than the fastest message seen this one took (0 when it was the
        fastest, or before any estimate)."""
        if self.offset_ns is None:
            return 0
        return max(0, received_ns - venue_ns - self.offset_ns)


@attrs.define
class LagStats:
    """Counters of a :class:`LagGuard`.

    Attributes:
        wakeups: wake-ups measured.
        episodes: lag episodes (a wake-up later than the threshold after an on-time one).
        lagging: whether an episode is going on now.
        last_lag_s: how late the latest wake-up was, in seconds.
        worst_lag_s: the largest lag seen since the start, in seconds.
    """

    wakeups: int = 0
    episodes: int = 0
    lagging: bool = False
    last_lag_s: float = 0.0
    worst_lag_s: float = 0.0


class LagGuard:
    """Measures the scheduler's lag; tells ``on_change`` when an episode starts and ends.

    Args:
        on_change: called with ``(True, lag_s)`` when a wake-up comes more than
            ``threshold`` seconds late, and with ``(False, lag_s)`` at the first wake-up on
            time again (``lag_s``: how late that wake-up was); awaited before the next
            wake-up is measured.
        interval: seconds between wake-ups.
        threshold: a wake-up later than this many seconds starts an episode.

    One warning is logged per episode, and one line when it ends (with how long it lasted).
    Run with ``await nursery.start(guard.run)``.
    """

    def __init__(
        self,
        on_change: Callable[[bool, float], Awaitable[object]],
        *,
        interval: float = 0.05,
        threshold: float = 0.25,
    ) -> None:
        if interval <= 0 or threshold <= 0:
            raise ValueError(f"interval and threshold must be > 0: {interval}, {threshold}")
        self.on_change = on_change
        self.interval = interval
        self.threshold = threshold
        self.stats = LagStats()
        self._since = 0.0

    def __repr__(self) -> str:
        return f"LagGuard(interval={self.interval}, threshold={self.threshold})"

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        due = trio.current_time() + self.interval
        while True:
            await trio.sleep_until(due)
            now = trio.current_time()
            change = self.observe(now - due, now)
            if change is not None:
                await self.on_change(change, now - due)
            due = trio.current_time() + self.interval

    def observe(self, lag_s: float, now: float) -> bool | None:
        """Take one wake-up that came ``lag_s`` seconds late at ``now`` (trio time): the
        episode's new state when it changed (``True``: lagging now), else ``None``."""
        stats = self.stats
        stats.wakeups += 1
        stats.last_lag_s = lag_s
        stats.worst_lag_s = max(stats.worst_lag_s, lag_s)
        late = lag_s > self.threshold
        if late == stats.lagging:
            return None
        stats.lagging = late
        if late:
            stats.episodes += 1
            self._since = now - lag_s
            log.warning(
                "process lag: woke %.0f ms late (threshold %.0f ms): no new signal until "
                "it catches up and its books are confirmed fresh (episode %d)",
                lag_s * 1000,
                self.threshold * 1000,
                stats.episodes,
            )
        else:
            log.info("process lag over after %.2f s", now - self._since)
        return late
