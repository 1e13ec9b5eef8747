"""Turning what ``arbees bench e2e`` recorded into figures.

Definitions (the report's contract):

* **tick-to-signal** of a toggle: the signal's ``published_ns`` (the shard's wall clock at
  publication) minus the toggle frame's send time (the fake venue's ``on_send``), for the
  signal whose ``venue_ts_ms`` is the frame's timestamp and whose event is the toggle's.
* **monitor lag** of a toggle: the monitor's ``PolymarketPriceUpdate.published_ns`` for that
  frame minus the send time (venue socket -> feed -> book -> publish); its first part,
  **venue -> monitor read**, ends at the update's ``monitor_recv_ns``.
* **bus hop (shard)**: the signal's ``bus_recv_ns`` (when the shard received the update that
  triggered it) minus that update's ``published_ns`` — the real monitor -> shard hop, for
  toggle updates; **bus hop (tap)**: the same hop into the bench's own subscriber, for every
  update (a proxy: another process on the same machine).
* a toggle is **lost** when no matching signal arrived; a signal matching no toggle is
  **unexpected**.
* **driver CPU**: the bench process's own CPU spent offering the load — its load loop
  (the main task while :meth:`~arbees.bench._e2e_load.LoadDriver.run` runs) and the fake
  venues' writer tasks — by :class:`TaskClock`, over the same window as the services'
  CPU, as a share of one core. Everything else the bench process does (its subscribers
  decoding every update, the fake venues' readers) is reported beside it, not in it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import trio

from arbees.bench._e2e_load import Toggle
from arbees.bench._e2e_procs import ProcSample
from arbees.bench._e2e_stack import PriceStamp, ReceivedSignal
from arbees.messages import ArbSignal, PolymarketPriceUpdate
from arbees.sim.score import percentiles

Stamped = PolymarketPriceUpdate | PriceStamp
"""What the bench's price subscriber hands on: a full update, or its :class:`PriceStamp`."""

__all__ = [
    "DRIVER_TASKS",
    "PriceLog",
    "TaskClock",
    "ToggleResult",
    "cpu_figures",
    "growing",
    "match_toggles",
    "percentiles",
    "task_cpu",
]

DRIVER_TASKS = (
    "arbees.bench.e2e._main",  # the load loop runs in the bench's main task
    "arbees.bench._e2e_load.LoadPolymarket._writer",
    "arbees.testing.fake_kalshi.FakeKalshi._writer",
)
"""The tasks that offer the load (see **driver CPU** above)."""


class TaskClock(trio.abc.Instrument):
    """A Trio instrument: the thread CPU time of every task step, summed per task name.

    ``time.thread_time_ns`` around each step (the bench's tasks all run on Trio's thread),
    so a task's figure is its own CPU, system calls included, and never another task's or
    the idle wait in ``epoll``. :meth:`snapshot` copies the sums; two snapshots' difference
    is what each task cost in between.

    Attributes:
        cpu_ns: CPU nanoseconds per task name (``trio.lowlevel.Task.name``).
    """

    def __init__(self) -> None:
        self.cpu_ns: dict[str, int] = {}
        self._start = 0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        self._start = time.thread_time_ns()

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        spent = time.thread_time_ns() - self._start
        self.cpu_ns[task.name] = self.cpu_ns.get(task.name, 0) + spent

    def snapshot(self) -> dict[str, int]:
        return dict(self.cpu_ns)


def task_cpu(
    before: dict[str, int], after: dict[str, int], seconds: float, top: int = 8
) -> dict[str, Any]:
    """The bench process's CPU between two :meth:`TaskClock.snapshot`s, as shares of one
    core over ``seconds``: ``driver_pct`` (the :data:`DRIVER_TASKS`), ``other_pct`` (every
    other task) and the ``top`` costliest tasks by name."""
    spent = {name: ns - before.get(name, 0) for name, ns in after.items()}
    spent = {name: ns for name, ns in spent.items() if ns > 0}
    wall_ns = max(seconds, 1e-9) * 1e9

    def pct(ns: float) -> float:
        return round(100 * ns / wall_ns, 1)

    driver = sum(ns for name, ns in spent.items() if name in DRIVER_TASKS)
    costliest = sorted(spent.items(), key=lambda kv: kv[1], reverse=True)[:top]
    return {
        "driver_pct": pct(driver),
        "other_pct": pct(sum(spent.values()) - driver),
        "tasks_pct": {name: pct(ns) for name, ns in costliest},
    }


@attrs.define
class PriceLog:
    """What the bench's price subscriber keeps: every hop, and the toggle updates.

    Attributes:
        toggles: the load driver's toggles by frame timestamp.
        hop_us: tap receive - monitor publish, every update.
        updates: ``venue_ts_ms -> update`` for toggle frames.
    """

    toggles: dict[int, Toggle]
    hop_us: list[float] = attrs.Factory(list)
    updates: dict[int, Stamped] = attrs.Factory(dict)

    def __call__(self, update: Stamped, received_ns: int) -> None:
        if update.published_ns:
            self.hop_us.append((received_ns - update.published_ns) / 1000)
        ts = update.venue_ts_ms
        if ts is not None and ts in self.toggles:
            self.updates[ts] = update


@attrs.frozen
class ToggleResult:
    """Toggles matched against signals.

    Attributes:
        expected: toggles sent.
        received: toggles with their signal.
        latency_us: tick-to-signal of each matched toggle, in send order (not the
            end-of-phase burst of closes).
        monitor_lag_us: venue send -> monitor publish (toggles whose update was seen).
        shard_hop_us: monitor publish -> shard receive (same).
        unexpected: signals of the phase that match no toggle.
        monitor_recv_us: venue send -> monitor socket read (``monitor_recv_ns``), the
            first part of ``monitor_lag_us``; the rest is inside the monitor (feed, book,
            queue to the publisher).
    """

    expected: int
    received: int
    latency_us: list[float]
    monitor_lag_us: list[float]
    shard_hop_us: list[float]
    unexpected: int
    monitor_recv_us: list[float] = attrs.Factory(list)

    @property
    def lost(self) -> int:
        return self.expected - self.received


def match_toggles(
    toggles: Sequence[Toggle],
    game_ids: Sequence[str],
    signals: Iterable[ReceivedSignal],
    updates: dict[int, Stamped] | None = None,
) -> ToggleResult:
    """Match ``toggles`` (one phase) with ``signals`` (that phase's).

    Each game's toggles alternate open/close, and so must its signals: the n-th toggle of a
    game is matched with the next signal of that game with the same event published after
    the toggle was sent. (Matching by ``venue_ts_ms`` alone would call a signal lost when
    the monitor coalesced the toggle with a later change of the same token: the signal
    then carries the later frame's timestamp; it is still the toggle's signal, and its
    latency still counts from the toggle's send.)
    """
    by_game: dict[str, list[ArbSignal]] = {}
    for received in signals:
        sig = received.signal
        if sig.event in ("open", "close"):
            by_game.setdefault(sig.game_id, []).append(sig)
    for sigs in by_game.values():
        sigs.sort(key=lambda s: s.published_ns)
    cursor: dict[str, int] = {}
    latency: list[float] = []
    lag: list[float] = []
    hop: list[float] = []
    recv: list[float] = []
    got = 0
    for toggle in sorted(toggles, key=lambda t: t.ts):
        game_id = game_ids[toggle.game]
        sigs = by_game.get(game_id, [])
        i = cursor.get(game_id, 0)
        while i < len(sigs) and (
            sigs[i].event != toggle.event or sigs[i].published_ns < toggle.sent_ns
        ):
            i += 1
        if i >= len(sigs) or not toggle.sent_ns:
            continue
        hit = sigs[i]
        cursor[game_id] = i + 1
        got += 1
        if toggle.burst:
            continue  # matched (not lost), but its latency is the burst's own queue
        latency.append((hit.published_ns - toggle.sent_ns) / 1000)
        update = (updates or {}).get(toggle.ts)
        if update is not None and update.published_ns:
            lag.append((update.published_ns - toggle.sent_ns) / 1000)
            if update.monitor_recv_ns:
                recv.append((update.monitor_recv_ns - toggle.sent_ns) / 1000)
            if hit.bus_recv_ns and hit.venue_ts_ms == toggle.ts:
                hop.append((hit.bus_recv_ns - update.published_ns) / 1000)
    total = sum(len(s) for s in by_game.values())
    return ToggleResult(len(toggles), got, latency, lag, hop, total - got, recv)


def cpu_figures(
    before: dict[str, ProcSample | None], after: dict[str, ProcSample | None]
) -> dict[str, dict[str, Any]]:
    """Per process: CPU seconds (user+sys) and share of one core over the interval, RSS."""
    out: dict[str, dict[str, Any]] = {}
    for name, b in before.items():
        a = after.get(name)
        if a is None or b is None:
            out[name] = {"cpu_s": None, "cpu_pct": None, "rss_mb": None, "peak_rss_mb": None}
            continue
        wall = max(a.at - b.at, 1e-9)
        cpu = a.cpu_s - b.cpu_s
        out[name] = {
            "cpu_s": round(cpu, 4),
            "cpu_pct": round(100 * cpu / wall, 1),
            "rss_mb": round(a.rss_kb / 1024, 1),
            "peak_rss_mb": round(a.hwm_kb / 1024, 1),
        }
    return out


def growing(values: Sequence[float]) -> bool:
    """Lag grows: the median of the last third is over twice the first third's + 10 ms
    (a backlog that builds up over a step; scheduling noise on a busy box does not)."""
    if len(values) < 9:
        return False
    third = len(values) // 3
    first = sorted(values[:third])[third // 2]
    last = sorted(values[-third:])[third // 2]
    return last > 2 * first + 10_000
