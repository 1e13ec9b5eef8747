"""The egress gate and the guarded Polymarket route: one place every Polymarket byte passes.

:class:`EgressGate` is the :class:`~arbees.gate.ConnectGate` of an
:class:`~arbees.egress.guard.EgressGuard`:

* ``connection()`` (every WebSocket connect): waits until egress is verified by a check at
  most ``guard.max_age`` seconds old (running one on demand), then yields a scope that the
  guard cancels on the next failed check, which closes the socket;
* ``ensure()`` (every REST / Gamma request): the same freshness rule, but raises
  :class:`~arbees.errors.EgressError` instead of waiting, so a discovery round fails (and is
  counted) rather than hangs;
* ``refused(status, where)``: a 403 or 451 from Polymarket may mean the exit moved — ask the
  guard for an immediate re-check instead of waiting for the interval.

:func:`open_polymarket_route` builds the whole route once for every process that talks to
Polymarket (monitor, orchestrator's Gamma discovery, direct-mode shard, ``arbees record
polymarket``): ONE ``httpx.AsyncClient`` through ``POLYMARKET_PROXY_URL`` (when set) that
carries both the egress check and the Polymarket REST traffic, the guard running for the
duration of the block, and the gate. ``POLYMARKET_EGRESS_CHECK=off`` is the explicit opt-out
(no guard, an :class:`~arbees.gate.UncheckedGate`, a loud warning); anything else needs
``EGRESS_CHECK_URL``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Final

import attrs
import httpx
import trio

from arbees.config import env_bool
from arbees.egress.guard import EgressGuard
from arbees.egress.settings import EgressSettings
from arbees.errors import ConfigError, EgressError
from arbees.gate import REFUSAL_STATUSES, ConnectGate, UncheckedGate

__all__ = [
    "CHECK_SWITCH_ENV",
    "EgressGate",
    "PolymarketRoute",
    "open_polymarket_route",
    "polymarket_http_client",
]

log = logging.getLogger(__name__)

CHECK_SWITCH_ENV: Final = "POLYMARKET_EGRESS_CHECK"
_USER_AGENT_HEADERS: Final = {"Accept": "application/json"}


@attrs.define
class GateStats:
    """Counters of one gate.

    Attributes:
        connections: connections let through.
        denied: requests refused because egress was not (freshly) verified.
        refusals: 403/451 answers from the venue (each triggered a re-check).
        egress_closed: connections closed because egress stopped being verified.
    """

    connections: int = 0
    denied: int = 0
    refusals: int = 0
    egress_closed: int = 0


class EgressGate:
    """The connect gate of one :class:`EgressGuard` (see the module docstring).

    The guard must be running (its loop does the re-checks and cancels the scopes).
    """

    def __init__(self, guard: EgressGuard) -> None:
        self.guard = guard
        self.stats = GateStats()

    def __repr__(self) -> str:
        return f"EgressGate({self.guard!r})"

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[trio.CancelScope | None]:
        guard = self.guard
        while True:
            state = await guard.fresh_state()
            if not state.verified:
                # the guard's loop re-checks with backoff; wait for a pass, then re-ask
                await guard.wait_verified()
                continue
            with guard._scope_if_verified() as scope:
                if scope is None:  # lost again between the check and here
                    continue
                self.stats.connections += 1
                try:
                    yield scope
                finally:
                    if scope.cancel_called:
                        self.stats.egress_closed += 1
            return  # also after the scope swallowed its own cancellation: yield only once

    async def ensure(self) -> None:
        state = await self.guard.fresh_state()
        if not state.verified:
            self.stats.denied += 1
            raise EgressError(f"egress not verified: {state.reason}")
        self.stats.connections += 1

    def refused(self, status: int, where: str) -> None:
        if status not in REFUSAL_STATUSES:
            return
        self.stats.refusals += 1
        log.warning("%s: Polymarket refused with HTTP %d; re-checking egress now", where, status)
        self.guard.request_check(f"{where} got HTTP {status}")


@attrs.frozen
class PolymarketRoute:
    """Everything a process needs to reach Polymarket, all on one route.

    Attributes:
        client: the HTTP client for Polymarket REST/Gamma (and the egress check).
        gate: pass it to every Polymarket WebSocket config and REST client.
        guard: the running guard, or ``None`` under the explicit opt-out.
        proxy: the CONNECT proxy WebSockets must use too (``None``: direct).
    """

    client: httpx.AsyncClient
    gate: ConnectGate
    guard: EgressGuard | None
    proxy: str | None = attrs.field(default=None, repr=lambda p: "None" if p is None else "***")


def polymarket_http_client(
    proxy: str | None, *, user_agent: str, timeout: float = 20.0
) -> httpx.AsyncClient:
    """The one way a Polymarket HTTP client is built (proxy, headers, timeout).

    ``trust_env=False``: the route is exactly ``proxy`` (or none), never an ``HTTP_PROXY``
    variable the egress check would not know about. No keep-alive: each request opens
    its own connection after the gate allowed it, and none outlives its request (so none
    survives a lost egress in a pool).
    """
    return httpx.AsyncClient(
        proxy=proxy,
        limits=httpx.Limits(max_keepalive_connections=0),
        headers={"User-Agent": user_agent, **_USER_AGENT_HEADERS},
        timeout=timeout,
        trust_env=False,
    )


def check_enabled(env: Mapping[str, str]) -> bool:
    """``POLYMARKET_EGRESS_CHECK`` (default on); a value that is not a boolean is an error."""
    raw = env.get(CHECK_SWITCH_ENV)
    try:
        return env_bool(raw, True)
    except ConfigError:
        raise ConfigError(f"{CHECK_SWITCH_ENV}: expected on/off, got {raw!r:.30}") from None


def check_route_settings(env: Mapping[str, str]) -> None:
    """Fail early (:class:`ConfigError`) when the route's settings in ``env`` are unusable."""
    if check_enabled(env):
        EgressSettings.from_env(env)


@asynccontextmanager
async def open_polymarket_route(
    *,
    name: str,
    user_agent: str,
    proxy: str | None = None,
    settings: EgressSettings | None = None,
    env: Mapping[str, str] | None = None,
    check: bool | None = None,
    run_guard: bool = True,
    http_timeout: float = 20.0,
) -> AsyncIterator[PolymarketRoute]:
    """Open the guarded Polymarket route for the duration of the block.

    Args:
        name: the guard's label in logs (e.g. ``"orchestrator-gamma"``).
        user_agent: sent with every HTTP request.
        proxy: ``POLYMARKET_PROXY_URL``: all Polymarket traffic AND the egress check go
            through it, so the check verifies the route the traffic takes.
        settings: egress settings; default ``EgressSettings.from_env(env)``.
        env: the environment mapping (for the settings and ``POLYMARKET_EGRESS_CHECK``).
        check: ``False`` is the explicit opt-out; default from ``POLYMARKET_EGRESS_CHECK``.
        run_guard: run the guard here (its first check happens on entry); ``False`` when
            the caller runs it itself (the monitor does).
        http_timeout: HTTP timeout of the client.

    Raises :class:`ConfigError` when the check is on and no egress source is configured.
    """
    env = env if env is not None else {}
    enabled = check_enabled(env) if check is None else check
    if enabled and settings is None:
        settings = EgressSettings.from_env(env)
    async with polymarket_http_client(proxy, user_agent=user_agent, timeout=http_timeout) as client:
        if not enabled or settings is None:
            gate = UncheckedGate(f"Polymarket egress of {name}", f"{CHECK_SWITCH_ENV}=off")
            yield PolymarketRoute(client, gate, None, proxy)
            return
        guard = settings.guard(client, name=name)
        route = PolymarketRoute(client, EgressGate(guard), guard, proxy)
        if not run_guard:
            yield route
            return
        async with trio.open_nursery() as nursery:
            first = await nursery.start(guard.run)
            if not first.verified:
                log.warning("%s: egress not verified yet, Polymarket waits: %s", name, first.reason)
            try:
                yield route
            finally:
                nursery.cancel_scope.cancel()
