"""EgressGuard: first check before started(), transitions, fail-closed scopes, recovery.

The scripted-source tests drive checks by hand (``check_now``) so the ordering is exact; the
loopback tests run the real periodic loop (interval 0.05 s) against the fake control server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
import trio
import trio.testing

from arbees.egress import (
    EgressChecker,
    EgressGuard,
    EgressPolicy,
    EgressState,
    open_egress_guard,
    run_while_verified,
)
from arbees.egress.verdict import failed_state
from arbees.errors import ConfigError, EgressError
from arbees.testing.fake_gluetun import FakeGluetun

GB = EgressState(verified=True, country="GB", ip="203.0.113.7", reason="ok", checked_at_ms=1)


class ScriptedSource:
    """An egress source whose next answer the test sets (``ok``) or makes raise (``boom``)."""

    def __init__(self, ok: bool = True) -> None:
        self.ok = ok
        self.boom = False
        self.calls = 0

    async def check(self, policy: EgressPolicy) -> EgressState:
        await trio.lowlevel.checkpoint()
        self.calls += 1
        if self.boom:
            raise RuntimeError("source bug")
        if self.ok:
            return GB
        return failed_state("forbidden_country", "exit is US")


async def test_started_only_after_first_check_and_reports_it(nursery: trio.Nursery) -> None:
    source = ScriptedSource(ok=False)
    guard = EgressGuard(source, interval=1000)
    assert guard.state.kind == "not_checked"
    assert not guard.verified
    with trio.fail_after(5):
        first = await nursery.start(guard.run)
    assert source.calls == 1
    assert first is guard.state
    assert (first.verified, first.kind) == (False, "forbidden_country")
    assert guard.stats.checks == 1
    assert guard.stats.failures == 1
    assert guard.stats.transitions == 0
    with pytest.raises(EgressError, match="exit is US"):
        guard.require_verified()


async def test_inner_function_cancelled_promptly_on_unverified_transition(
    nursery: trio.Nursery,
) -> None:
    source = ScriptedSource(ok=True)
    guard = EgressGuard(source, interval=1000)  # checks only when the test asks
    events: list[str] = []

    async def feed() -> None:
        events.append("start")
        try:
            await trio.sleep_forever()
        finally:
            events.append("closed")

    with trio.fail_after(5):
        await nursery.start(guard.run)
        nursery.start_soon(run_while_verified, guard, feed)
        await trio.testing.wait_all_tasks_blocked()
        assert events == ["start"]
        source.ok = False
        state = await guard.check_now()
        assert not state.verified
        # cancelled at the feed's very next scheduling point: no further check needed
        await trio.testing.wait_all_tasks_blocked()
        assert events == ["start", "closed"]
        assert guard.stats.scopes_cancelled == 1
        calls = source.calls
        source.ok = True
        await guard.check_now()
        await trio.testing.wait_all_tasks_blocked()
        assert events == ["start", "closed", "start"]
        assert source.calls == calls + 1
        assert guard.stats.transitions == 3  # up, down, up


async def test_run_while_verified_returns_the_result_and_propagates_errors(
    nursery: trio.Nursery,
) -> None:
    guard = EgressGuard(ScriptedSource(ok=True), interval=1000)
    await nursery.start(guard.run)

    async def answer(x: int) -> int:
        await trio.lowlevel.checkpoint()
        return x * 2

    async def fail() -> None:
        await trio.lowlevel.checkpoint()
        raise EgressError("raised by the feed itself")

    with trio.fail_after(5):
        assert await run_while_verified(guard, answer, 21) == 42
        with pytest.raises(EgressError, match="by the feed itself"):
            await run_while_verified(guard, fail)


async def test_verified_scope(nursery: trio.Nursery) -> None:
    source = ScriptedSource(ok=False)
    guard = EgressGuard(source, interval=1000)
    await nursery.start(guard.run)
    with pytest.raises(EgressError, match="exit is US"):
        async with guard.verified_scope():
            pytest.fail("must not run while unverified")  # pragma: no cover
    source.ok = True
    await guard.check_now()
    with trio.fail_after(5):
        async with guard.verified_scope() as scope:
            source.ok = False
            nursery.start_soon(guard.check_now)
            await trio.sleep_forever()
    assert scope.cancelled_caught
    assert not guard.verified


async def test_wait_verified_and_changes(nursery: trio.Nursery) -> None:
    source = ScriptedSource(ok=False)
    guard = EgressGuard(source, interval=1000)
    await nursery.start(guard.run)
    seen: list[bool] = []

    async def watch() -> None:
        async for state in guard.changes():
            seen.append(state.verified)

    with trio.fail_after(5):
        nursery.start_soon(watch)
        await trio.testing.wait_all_tasks_blocked()
        async with trio.open_nursery() as waiters:
            waiters.start_soon(guard.wait_verified)
            await trio.testing.wait_all_tasks_blocked()
            source.ok = True
            await guard.check_now()
        assert (await guard.wait_verified()).verified  # already verified: returns at once
        await trio.testing.wait_all_tasks_blocked()
        source.ok = False
        await guard.check_now()
        await trio.testing.wait_all_tasks_blocked()
        await guard.check_now()  # still unverified: not a transition
        await trio.testing.wait_all_tasks_blocked()
    assert seen == [True, False]


async def test_a_raising_source_fails_closed_and_the_guard_survives(
    nursery: trio.Nursery, caplog: pytest.LogCaptureFixture
) -> None:
    source = ScriptedSource(ok=True)
    guard = EgressGuard(source, interval=1000)
    await nursery.start(guard.run)
    assert guard.verified
    source.boom = True
    state = await guard.check_now()
    assert (state.verified, state.kind) == (False, "error")
    assert "RuntimeError" in state.reason
    assert "raised" in caplog.text
    source.boom = False
    assert (await guard.check_now()).verified
    assert guard.stats.by_kind == {"verified": 2, "error": 1}


async def test_stopping_the_guard_fails_closed(nursery: trio.Nursery) -> None:
    guard = EgressGuard(ScriptedSource(ok=True), interval=1000)
    guard_scope = trio.CancelScope()

    async def run_guard(*, task_status: trio.TaskStatus[EgressState]) -> None:
        with guard_scope:
            await guard.run(task_status=task_status)

    await nursery.start(run_guard)
    with trio.fail_after(5):
        async with guard.verified_scope() as scope:
            guard_scope.cancel()  # nobody checks egress any more ...
            await trio.sleep_forever()
    assert scope.cancelled_caught  # ... so the protected work is torn down
    assert (guard.verified, guard.state.kind) == (False, "not_checked")
    assert "stopped" in guard.state.reason


async def test_open_egress_guard(nursery: trio.Nursery) -> None:
    with trio.fail_after(5):
        async with open_egress_guard(ScriptedSource(ok=True), interval=1000) as guard:
            assert guard.verified
            assert guard.stats.checks == 1
    assert not guard.verified


def test_bad_intervals() -> None:
    with pytest.raises(ConfigError):
        EgressGuard(ScriptedSource(), interval=0)
    with pytest.raises(ConfigError):
        EgressGuard(ScriptedSource(), interval=1, retry_interval=-1)


async def test_transition_log_lines_are_structured(
    nursery: trio.Nursery, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="arbees.egress")
    source = ScriptedSource(ok=True)
    guard = EgressGuard(source, interval=1000, name="pm-monitor")
    await nursery.start(guard.run)
    source.ok = False
    await guard.check_now()
    lines = [r for r in caplog.records if "transition" in r.getMessage()]
    assert [r.levelname for r in lines] == ["INFO", "WARNING"]
    up, down = lines
    assert "unverified->verified" in up.getMessage()
    assert "country=GB (United Kingdom) ip=203.0.113.7" in up.getMessage()
    assert (
        "transition verified->unverified verified=false kind=forbidden_country" in down.getMessage()
    )
    assert down.egress["kind"] == "forbidden_country"  # type: ignore[attr-defined]
    assert down.egress_guard == "pm-monitor"  # type: ignore[attr-defined]


class Tracker:
    """Counts feed starts/closes and lets the test wait for a count without polling."""

    def __init__(self) -> None:
        self.runs = 0
        self.closed = 0
        self._changed = trio.Event()

    def bump(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def until(self, predicate: Callable[[], bool]) -> None:
        while not predicate():
            await self._changed.wait()


async def test_recovery_against_the_fake_control_server(
    fake: FakeGluetun, client: httpx.AsyncClient, api_key: str
) -> None:
    """The periodic loop notices loss and recovery; the feed restarts by itself."""
    checker = EgressChecker(client, fake.publicip_url, api_key=api_key, timeout=0.5)
    feed_state = Tracker()

    async def feed() -> None:
        feed_state.runs += 1
        feed_state.bump()
        try:
            await trio.sleep_forever()
        finally:
            feed_state.closed += 1
            feed_state.bump()

    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            guard = EgressGuard(checker, EgressPolicy(), interval=0.05, name="rehearsal")
            first = await nursery.start(guard.run)
            assert first.verified
            nursery.start_soon(run_while_verified, guard, feed)
            await feed_state.until(lambda: feed_state.runs == 1)
            faults = [
                lambda: fake.set_exit(country="United States", ip="198.51.100.9"),
                fake.tunnel_down,
                fake.hang,
                lambda: fake.http_error(500),
                lambda: fake.set_exit(country="Freedonia"),
            ]
            for n, fault in enumerate(faults, start=1):
                fault()
                async for state in guard.changes():
                    assert not state.verified
                    break
                await feed_state.until(lambda n=n: feed_state.closed == n)
                fake.healthy()
                fake.set_exit(country="Netherlands", ip="203.0.113.50")
                await feed_state.until(lambda n=n: feed_state.runs == n + 1)
                assert (guard.state.verified, guard.state.country) == (True, "NL")
            nursery.cancel_scope.cancel()
    assert (feed_state.runs, feed_state.closed) == (6, 6)
    # up, 5 x (down, up), and down again when the guard stopped (fail closed)
    assert guard.stats.transitions == 12
    assert set(guard.stats.by_kind) == {
        "verified",
        "forbidden_country",
        "tunnel_down",
        "timeout",
        "http_status",
        "unknown_country",
    }


async def test_retry_interval_applies_while_unverified(nursery: trio.Nursery) -> None:
    source = ScriptedSource(ok=False)
    guard = EgressGuard(source, interval=1000, retry_interval=0.02)
    await nursery.start(guard.run)
    source.ok = True  # recovery is noticed at the short retry interval, not after 1000 s
    with trio.fail_after(5):
        await guard.wait_verified()
    calls = source.calls
    await trio.sleep(0.1)  # verified now: back on the long interval
    assert source.calls == calls
