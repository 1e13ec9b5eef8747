"""The venue clock estimate and the process-lag guard (:mod:`arbees.lag`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import trio
import trio.testing

from arbees.bus import open_bus
from arbees.errors import ConfigError
from arbees.lag import SKEW_BUCKET_NS, SKEW_WINDOW_NS, LagGuard, VenueClock
from arbees.wiring import ShardSettings, build_shard

SEC = 1_000_000_000
MS = 1_000_000


def test_venue_clock_takes_a_constant_offset_for_skew_and_extra_wait_for_delay() -> None:
    clock = VenueClock()
    assert clock.offset_ns is None
    assert clock.delay_ns(5 * SEC, 0) == 0  # nothing measured: no venue age
    t = 1_000 * SEC
    offset = -4 * SEC  # the venue's clock 4 s ahead of ours
    for i, transit in enumerate((30, 10, 25, 40)):
        recv = t + i * SEC
        clock.observe(recv, recv - offset - transit * MS)
    assert clock.offset_ns == offset + 10 * MS  # clock offset + the fastest transit
    recv = t + 10 * SEC
    assert clock.observe(recv, recv - offset - 10 * MS) == 0
    assert clock.delay_ns(recv, recv - offset - 1_510 * MS) == 1_500 * MS
    assert clock.observe(recv, recv - offset - 1_510 * MS) == 1_500 * MS


def test_venue_clock_follows_a_clock_step_within_its_window_and_stays_bounded() -> None:
    clock = VenueClock()
    t = 1_000 * SEC
    for i in range(40):
        recv = t + i * SEC
        clock.observe(recv, recv - 50 * MS)
    assert clock.offset_ns == 50 * MS
    # Our clock steps 2 s ahead: every frame now looks 2 s late until the window passes.
    step = 2 * SEC
    recv = t + 40 * SEC + step
    assert clock.observe(recv, recv - step - 50 * MS) == step
    end = recv + SKEW_WINDOW_NS + SKEW_BUCKET_NS
    while recv < end:
        recv += SEC
        delay = clock.observe(recv, recv - step - 50 * MS)
    assert delay == 0
    assert clock.offset_ns == step + 50 * MS
    assert len(clock._buckets) <= SKEW_WINDOW_NS // SKEW_BUCKET_NS


def record(changes: list[tuple[bool, float]]) -> Callable[[bool, float], Awaitable[None]]:
    async def on_change(lagging: bool, lag: float) -> None:
        changes.append((lagging, lag))

    return on_change


def test_lag_guard_observes_episodes_once_each() -> None:
    guard = LagGuard(record([]), threshold=0.25)
    seen = [guard.observe(lag, now) for now, lag in enumerate((0.01, 0.3, 0.9, 0.02, 0.5))]
    assert seen == [None, True, None, False, True]  # 0.9: the same episode
    assert guard.stats.episodes == 2
    assert guard.stats.lagging
    assert guard.stats.worst_lag_s == 0.9
    with pytest.raises(ValueError, match="must be > 0"):
        LagGuard(record([]), threshold=0)


async def test_lag_guard_sees_a_late_wake_up(autojump_clock: trio.testing.MockClock) -> None:
    changes: list[tuple[bool, float]] = []
    guard = LagGuard(record(changes), interval=0.05)
    async with trio.open_nursery() as nursery:
        await nursery.start(guard.run)
        await trio.sleep(1.0)
        assert changes == []  # on time
        assert guard.stats.wakeups >= 19
        autojump_clock.jump(0.6)  # the process stalls: nothing runs for 0.6 s
        await trio.sleep(0.001)
        assert len(changes) == 1
        assert changes[0][0] is True
        assert changes[0][1] == pytest.approx(0.6, abs=0.05)
        await trio.sleep(0.2)
        assert [c[0] for c in changes] == [True, False]
        nursery.cancel_scope.cancel()


async def test_the_shard_settings_build_its_lag_guard_and_venue_clocks() -> None:
    settings = ShardSettings.from_env(
        {"SHARD_LAG_THRESHOLD_MS": "400", "SHARD_VENUE_SEND_TIMES": "Kalshi"}, shard_id="s1"
    )
    async with open_bus("memory://") as bus, build_shard(settings, bus) as shard:
        assert shard.lag_guard is not None
        assert shard.lag_guard.threshold == 0.4
        assert set(shard.engine._clocks) == {"kalshi"}
    defaults = ShardSettings.from_env({}, shard_id="s1")
    assert (defaults.lag_threshold_ms, defaults.send_time_venues) == (
        250,
        ("kalshi", "polymarket"),
    )
    off = ShardSettings.from_env(
        {"SHARD_LAG_THRESHOLD_MS": "0", "SHARD_VENUE_SEND_TIMES": "off"}, shard_id="s1"
    )
    async with open_bus("memory://") as bus, build_shard(off, bus) as shard:
        assert shard.lag_guard is None
        assert shard.engine._clocks == {}
    with pytest.raises(ConfigError, match="no send times known of 'polymarket-us'"):
        ShardSettings(send_time_venues=("kalshi", "polymarket-us"))
    with pytest.raises(ConfigError, match="lag_threshold_ms must be >= 0"):
        ShardSettings(lag_threshold_ms=-1)
