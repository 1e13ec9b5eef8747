"""The egress guard: keep checking where traffic leaves, and close the door when unsure.

A Polymarket monitor must not open a socket until its egress is verified, and must stop
(close its sockets, publish nothing) the moment a later check fails — then resume by itself
when a check passes again. :class:`EgressGuard` owns that state machine:

* ``await nursery.start(guard.run)`` runs the first check and returns its
  :class:`~arbees.egress.verdict.EgressState` (verified or not — the caller decides), then
  re-checks every ``interval`` seconds while verified; after a failed (or lost) check it
  re-checks after seconds, not a whole interval: ``retry_interval`` doubled per consecutive
  failure, capped at ``min(interval, retry_cap)``, each delay jittered to 50-100 % so many
  processes behind one VPN do not ask in lock-step;
* ``request_check()`` wakes the loop for a check now (a feed saw HTTP 403/451 from the
  venue: maybe the exit moved);
* ``await guard.fresh_state()`` returns a verdict at most ``max_age`` seconds old (default
  2 x the check timeout), checking on demand when the last one is older: every connect
  asks for it, so no socket is opened on the strength of a minute-old answer;
* ``guard.state`` / ``guard.verified``, ``await guard.wait_verified()``,
  ``async for state in guard.changes()`` (every verified<->unverified transition);
* ``async with guard.verified_scope():`` — a cancel scope that is cancelled the moment egress
  becomes unverified (or the guard stops): work inside it is torn down, sockets closed;
* :func:`run_while_verified` — the monitor's loop: wait until verified, run the feed inside a
  verified scope, and when it is cancelled by a failed check, wait and run it again.

Fail closed everywhere: the initial state is unverified, a source that raises counts as a
failed check, and a stopped guard leaves the state unverified and cancels every scope.
Counters live in :class:`EgressStats`; every transition is logged as one structured line.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import NoReturn, TypeVar

import attrs
import trio

from arbees.egress.checker import EgressSource
from arbees.egress.countries import country_label
from arbees.egress.verdict import EgressPolicy, EgressState, failed_state
from arbees.errors import ConfigError, EgressError

__all__ = ["EgressGuard", "EgressStats", "open_egress_guard", "run_while_verified"]

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_INTERVAL = 60.0
DEFAULT_RETRY_INTERVAL = 1.0
DEFAULT_RETRY_CAP = 30.0
_DEFAULT_CHECK_TIMEOUT = 5.0


@attrs.define
class EgressStats:
    """Counters of one guard (read them; the guard updates them).

    Attributes:
        checks: checks completed.
        failures: checks that ended unverified.
        transitions: verified<->unverified flips (the first verified check counts as one).
        scopes_cancelled: verified scopes cancelled because egress became unverified.
        on_demand: checks run because a connect needed a fresher verdict than the last.
        requested: re-checks asked for with :meth:`EgressGuard.request_check`.
        by_kind: checks per outcome kind (``"verified"``, ``"timeout"``, ``"auth"``, ...).
    """

    checks: int = 0
    failures: int = 0
    transitions: int = 0
    scopes_cancelled: int = 0
    on_demand: int = 0
    requested: int = 0
    by_kind: dict[str, int] = attrs.Factory(dict)


def _describe(state: EgressState) -> str:
    return (
        f"verified={str(state.verified).lower()} kind={state.kind} "
        f"country={country_label(state.country) if state.country else '-'} "
        f"ip={state.ip or '-'}"
    )


class EgressGuard:
    """Periodically verifies egress and exposes the verdict to the code it protects.

    Args:
        checker: the egress source (usually an :class:`~arbees.egress.EgressChecker`).
        policy: allowed/forbidden exit countries.
        interval: seconds between checks while verified (``EGRESS_CHECK_INTERVAL``).
        retry_interval: first re-check delay after a failed check (default 1 s), doubled
            per consecutive failure (``EGRESS_RETRY_INTERVAL``).
        retry_cap: largest re-check delay (default 30 s; never more than ``interval``).
        max_age: a connect needs a verdict at most this old (default 2 x the checker's
            ``timeout``, or 10 s); see :meth:`fresh_state`.
        name: label used in log lines (e.g. ``"polymarket-monitor"``).
        rng: jitter source (tests pass a seeded one).
    """

    def __init__(
        self,
        checker: EgressSource,
        policy: EgressPolicy | None = None,
        *,
        interval: float = DEFAULT_INTERVAL,
        retry_interval: float | None = None,
        retry_cap: float = DEFAULT_RETRY_CAP,
        max_age: float | None = None,
        name: str = "egress",
        rng: random.Random | None = None,
    ) -> None:
        if max_age is None:
            max_age = 2 * float(getattr(checker, "timeout", _DEFAULT_CHECK_TIMEOUT))
        for label, value in (
            ("interval", interval),
            ("retry_interval", retry_interval),
            ("retry_cap", retry_cap),
            ("max_age", max_age),
        ):
            if value is not None and not value > 0:
                raise ConfigError(f"egress check {label} must be > 0 s, got {value!r}")
        self._checker = checker
        self._policy = policy if policy is not None else EgressPolicy()
        self._interval = float(interval)
        self._retry_interval = float(
            retry_interval if retry_interval is not None else DEFAULT_RETRY_INTERVAL
        )
        self._retry_cap = min(float(retry_cap), self._interval)
        self.max_age = float(max_age)
        self._rng = rng or random.Random()
        self._failures_in_row = 0
        self._checked_at = -math.inf  # trio time of the last completed check
        self._name = name
        self.stats = EgressStats()
        self._state = failed_state("not_checked", "egress has not been checked yet")
        self._verified_event = trio.Event()  # set while verified; replaced when lost
        self._changed = trio.Event()  # set (then replaced) on every transition
        self._generation = 0  # number of transitions so far
        self._wake = trio.Event()
        self._lock = trio.Lock()
        self._scopes: set[trio.CancelScope] = set()
        self._running = False

    def __repr__(self) -> str:
        return (
            f"EgressGuard(name={self._name!r}, {_describe(self._state)}, checker={self._checker!r})"
        )

    @property
    def state(self) -> EgressState:
        """The latest verdict (unverified ``not_checked`` before the first check)."""
        return self._state

    @property
    def verified(self) -> bool:
        return self._state.verified

    @property
    def policy(self) -> EgressPolicy:
        return self._policy

    async def run(
        self, *, task_status: trio.TaskStatus[EgressState] = trio.TASK_STATUS_IGNORED
    ) -> NoReturn:
        """Check now, report the first verdict via ``started()``, then re-check forever.

        When this task ends (cancelled or crashed) the state becomes unverified and every
        verified scope is cancelled: nobody is watching egress any more.
        """
        if self._running:
            raise RuntimeError("EgressGuard.run is already running")
        self._running = True
        try:
            first = await self.check_now()
            task_status.started(first)
            while True:
                # measured from the last check, on demand ones included: no check is wasted
                with trio.move_on_at(self._checked_at + self.next_delay()):
                    await self._wake.wait()
                self._wake = trio.Event()
                await self.check_now()
        finally:
            self._running = False
            self._set_state(
                failed_state("not_checked", f"egress guard {self._name!r} stopped; failing closed")
            )

    def next_delay(self) -> float:
        """Seconds from the last check to the next periodic one.

        ``interval`` while verified; after ``n`` failed checks in a row, a jittered
        ``retry_interval * 2**(n-1)`` capped at ``retry_cap`` (50-100 % of the ceiling, so
        it is never zero and never in lock-step with other processes).
        """
        if self._failures_in_row == 0:
            return self._interval
        ceiling = min(
            self._retry_cap, self._retry_interval * 2.0 ** min(self._failures_in_row - 1, 62)
        )
        return ceiling * self._rng.uniform(0.5, 1.0)

    def request_check(self, reason: str = "requested") -> None:
        """Ask the running guard to check again now (e.g. after Polymarket sent a 403/451)."""
        self.stats.requested += 1
        log.info("egress %s: re-check requested (%s)", self._name, reason)
        self._wake.set()

    def age(self) -> float:
        """Seconds since the last completed check (``inf`` before the first)."""
        return trio.current_time() - self._checked_at

    async def fresh_state(self, max_age: float | None = None) -> EgressState:
        """A verdict no older than ``max_age`` (default :attr:`max_age`) seconds.

        Returns the current state when it is recent enough, else runs a check now
        (concurrent callers share one check). Verified or not: the caller decides. A guard
        that is not running answers its (unverified) state without checking: nobody would
        cancel a scope opened on a verdict it cannot revisit.
        """
        limit = self.max_age if max_age is None else max_age
        await trio.lowlevel.checkpoint()
        if not self._running or self.age() <= limit:  # a stopped guard stays closed
            return self._state
        async with self._lock:
            if self.age() <= limit:  # another caller checked while we waited for the lock
                return self._state
            self.stats.on_demand += 1
            return await self._check_locked()

    async def check_now(self) -> EgressState:
        """Run one check immediately, update the state (and scopes) and return it."""
        async with self._lock:
            return await self._check_locked()

    async def _check_locked(self) -> EgressState:
        try:
            state = await self._checker.check(self._policy)
        except Exception as exc:  # a buggy source must not fail open, nor kill the guard
            log.exception("egress check by %r raised", self._checker)
            state = failed_state(
                "error", f"egress check raised {type(exc).__name__}; failing closed"
            )
        self.stats.checks += 1
        self.stats.by_kind[state.kind] = self.stats.by_kind.get(state.kind, 0) + 1
        self._checked_at = trio.current_time()
        if state.verified:
            self._failures_in_row = 0
        else:
            self.stats.failures += 1
            self._failures_in_row += 1
        self._set_state(state)
        return state

    def _set_state(self, new: EgressState) -> None:
        old, self._state = self._state, new
        if new.verified == old.verified:
            if not new.verified and new.kind != old.kind and new.kind != "not_checked":
                log.warning(
                    "egress %s still unverified, now %s: %s",
                    self._name,
                    _describe(new),
                    new.reason,
                    extra={"egress": new.to_json(), "egress_guard": self._name},
                )
            return
        self.stats.transitions += 1
        self._generation += 1
        if new.verified:
            self._verified_event.set()
            log.info(
                "egress %s transition unverified->verified %s: %s",
                self._name,
                _describe(new),
                new.reason,
                extra={"egress": new.to_json(), "egress_guard": self._name},
            )
        else:
            self._verified_event = trio.Event()
            for scope in self._scopes:
                scope.cancel()
                self.stats.scopes_cancelled += 1
            log.warning(
                "egress %s transition verified->unverified %s: %s",
                self._name,
                _describe(new),
                new.reason,
                extra={"egress": new.to_json(), "egress_guard": self._name},
            )
        self._changed.set()
        self._changed = trio.Event()

    async def wait_verified(self) -> EgressState:
        """Return once egress is verified (at once, after a checkpoint, if it already is)."""
        await trio.lowlevel.checkpoint()
        while not self._state.verified:
            await self._verified_event.wait()
        return self._state

    def require_verified(self) -> EgressState:
        """Return the state if verified, else raise :class:`EgressError` with its reason."""
        if not self._state.verified:
            raise EgressError(f"egress not verified: {self._state.reason}")
        return self._state

    def changes(self) -> AsyncIterator[EgressState]:
        """``async for state in guard.changes()``: the state after each transition, forever.

        Transitions that happen while the consumer is busy are coalesced: each item is the
        state *now*, after at least one transition since the previous item. The iterator
        holds no resources (it is not an async generator), so breaking out is free.
        """
        return _Changes(self)

    @contextmanager
    def _scope_if_verified(self) -> Iterator[trio.CancelScope | None]:
        if not self._state.verified:
            yield None
            return
        with trio.CancelScope() as scope:
            self._scopes.add(scope)
            try:
                yield scope
            finally:
                self._scopes.discard(scope)

    @asynccontextmanager
    async def verified_scope(self) -> AsyncIterator[trio.CancelScope]:
        """A cancel scope that is cancelled as soon as egress becomes unverified.

        Raises :class:`EgressError` on entry when egress is not verified. After the block,
        ``scope.cancelled_caught`` tells whether it ended because egress was lost.
        """
        await trio.lowlevel.checkpoint()
        with self._scope_if_verified() as scope:
            if scope is None:
                raise EgressError(f"egress not verified: {self._state.reason}")
            yield scope


class _Changes:
    """The iterator behind :meth:`EgressGuard.changes` (a plain object: nothing to finalize)."""

    def __init__(self, guard: EgressGuard) -> None:
        self._guard = guard
        self._seen = guard._generation

    def __aiter__(self) -> _Changes:
        return self

    async def __anext__(self) -> EgressState:
        guard = self._guard
        await trio.lowlevel.checkpoint()
        while guard._generation == self._seen:
            await guard._changed.wait()
        self._seen = guard._generation
        return guard._state


async def run_while_verified(
    guard: EgressGuard, async_fn: Callable[..., Awaitable[T]], *args: object
) -> T:
    """Run ``async_fn(*args)`` only while egress is verified; restart it after recovery.

    Waits until verified, runs the function inside a scope that is cancelled on the next
    unverified transition, then waits for verification again and runs it anew — forever,
    until the function returns by itself (its result is returned) or raises (propagated).
    """
    while True:
        await guard.wait_verified()
        finished = False
        with guard._scope_if_verified() as scope:
            if scope is None:  # lost again between the wake-up and here
                continue
            result = await async_fn(*args)
            finished = True
        if finished:
            return result
        log.warning("egress lost: %s paused until egress is verified again", _fn_name(async_fn))


def _fn_name(fn: object) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


@asynccontextmanager
async def open_egress_guard(
    checker: EgressSource,
    policy: EgressPolicy | None = None,
    *,
    interval: float = DEFAULT_INTERVAL,
    retry_interval: float | None = None,
    name: str = "egress",
) -> AsyncIterator[EgressGuard]:
    """Run a guard for the duration of the block (its first check is done on entry)."""
    guard = EgressGuard(
        checker, policy, interval=interval, retry_interval=retry_interval, name=name
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(guard.run)
        try:
            yield guard
        finally:
            nursery.cancel_scope.cancel()
