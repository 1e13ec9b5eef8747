"""EgressGuard: verdicts refreshed on demand, re-checks after seconds (backoff with jitter).

Scripted sources and Trio's MockClock: no socket's timeout is involved, so virtual time is
exact and the assertions are about the guard's decisions, not about wall-clock speed.
"""

from __future__ import annotations

import random

import pytest
import trio
import trio.testing

from arbees.egress import EgressGuard, EgressPolicy, EgressState
from arbees.egress.verdict import failed_state
from arbees.errors import ConfigError

GB = EgressState(verified=True, country="GB", ip="203.0.113.7", reason="ok", checked_at_ms=1)


class Source:
    """Answers verified or not as the test says; records the (virtual) time of each check."""

    def __init__(self, ok: bool = True, *, timeout: float = 5.0, delay: float = 0.0) -> None:
        self.ok = ok
        self.timeout = timeout
        self.delay = delay
        self.times: list[float] = []

    async def check(self, policy: EgressPolicy) -> EgressState:
        self.times.append(trio.current_time())
        await trio.sleep(self.delay)
        if self.ok:
            return GB
        return failed_state("forbidden_country", "exit is US")


@pytest.fixture
def clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


def test_max_age_defaults_to_twice_the_check_timeout() -> None:
    assert EgressGuard(Source(timeout=5.0)).max_age == 10.0
    assert EgressGuard(Source(timeout=2.0)).max_age == 4.0
    assert EgressGuard(Source(), max_age=3.0).max_age == 3.0
    with pytest.raises(ConfigError, match="max_age"):
        EgressGuard(Source(), max_age=0)
    with pytest.raises(ConfigError, match="retry_cap"):
        EgressGuard(Source(), retry_cap=-1)


async def test_fresh_state_checks_on_demand_only_when_older_than_max_age(
    clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    source = Source()
    guard = EgressGuard(source, interval=60.0, max_age=10.0)
    await nursery.start(guard.run)
    assert len(source.times) == 1
    await trio.sleep(9.0)
    assert (await guard.fresh_state()).verified
    assert len(source.times) == 1  # 9 s old: fresh enough, no new check
    await trio.sleep(2.0)
    assert (await guard.fresh_state()).verified
    assert len(source.times) == 2  # 11 s old: checked now, not at the 60 s interval
    assert source.times[1] == pytest.approx(11.0, abs=0.01)
    assert guard.stats.on_demand == 1


async def test_a_connect_sees_a_lost_egress_before_the_interval_would(
    clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """The bug: a verdict stayed good for interval + timeout; now a connect re-asks."""
    source = Source()
    guard = EgressGuard(source, interval=60.0)
    await nursery.start(guard.run)
    await trio.sleep(30.0)
    source.ok = False  # the exit moved 30 s after the last check
    assert guard.verified  # the periodic loop has not noticed (next check at 60 s)
    state = await guard.fresh_state()
    assert (state.verified, state.kind) == (False, "forbidden_country")
    assert not guard.verified


async def test_concurrent_callers_share_one_on_demand_check(
    clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    source = Source(delay=1.0)
    guard = EgressGuard(source, interval=600.0, max_age=10.0)
    await nursery.start(guard.run)
    await trio.sleep(20.0)
    results: list[EgressState] = []

    async def connect() -> None:
        results.append(await guard.fresh_state())

    async with trio.open_nursery() as inner:
        for _ in range(50):
            inner.start_soon(connect)
    assert len(results) == 50
    assert all(r.verified for r in results)
    assert len(source.times) == 2  # the first check plus ONE on-demand check for all 50


async def test_a_stopped_guard_answers_closed_without_checking(
    clock: trio.testing.MockClock,
) -> None:
    source = Source()
    guard = EgressGuard(source, max_age=1.0)
    state = await guard.fresh_state()  # never started: nobody would revisit a verdict
    assert (state.verified, state.kind) == (False, "not_checked")
    assert source.times == []


async def test_after_a_failed_check_rechecks_follow_a_jittered_doubling_backoff(
    clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    source = Source(ok=False)
    guard = EgressGuard(
        source, interval=60.0, retry_interval=1.0, retry_cap=8.0, rng=random.Random(7)
    )
    await nursery.start(guard.run)
    await trio.sleep(40.0)
    gaps = [b - a for a, b in zip(source.times, source.times[1:], strict=False)]
    ceilings = [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert len(gaps) >= len(ceilings)
    for gap, ceiling in zip(gaps, ceilings, strict=False):
        assert ceiling / 2 <= gap <= ceiling  # 50-100 % of the ceiling: never 0, never lock-step
    assert len(set(gaps)) > 1  # jittered
    # recovery resets the backoff and goes back to the interval
    source.ok = True
    await guard.wait_verified()
    n, recovered_at = len(source.times), source.times[-1]
    await trio.sleep_until(recovered_at + 59.9)
    assert len(source.times) == n
    await trio.sleep_until(recovered_at + 60.1)
    assert len(source.times) == n + 1


async def test_a_lost_egress_is_rechecked_after_seconds_not_the_interval(
    clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    source = Source()
    guard = EgressGuard(source, interval=60.0)  # default retry_interval: 1 s
    await nursery.start(guard.run)
    source.ok = False
    async for state in guard.changes():  # the periodic check at 60 s sees the loss
        assert not state.verified
        break
    lost_at = source.times[-1]
    assert lost_at == pytest.approx(60.0, abs=0.01)
    source.ok = True  # the tunnel is back at once
    await guard.wait_verified()
    assert source.times[-1] - lost_at <= 1.0  # noticed after <= retry_interval, not 60 s


async def test_request_check_runs_a_check_now(
    clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    source = Source()
    guard = EgressGuard(source, interval=60.0)
    await nursery.start(guard.run)
    await trio.sleep(5.0)
    source.ok = False
    guard.request_check("venue answered HTTP 451")
    async for state in guard.changes():  # the transition the re-check causes
        assert not state.verified
        break
    assert len(source.times) == 2
    assert source.times[1] == pytest.approx(5.0, abs=0.01)
    assert not guard.verified
    assert guard.stats.requested == 1
    # the next periodic check is scheduled from that check, not from the previous one
    assert guard.age() < 1.0
