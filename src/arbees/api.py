"""Start arbees' services from your own program, with the venue objects built for you.

The services (:mod:`arbees.services`) see only interfaces — a quote source, a feed factory,
a game source — because they must not depend on Kalshi, Polymarket or Redis. The concrete
objects are built in one place, :mod:`arbees.wiring` (settings in, service out), for the
CLI, the demo and this module alike. This is the library's keyword face of it: the venues'
real URLs by default, every option a keyword, turned into the wiring's settings.

Each service comes in the two Trio shapes:

* ``await nursery.start(partial(arbees.run_shard, bus, ...))`` — runs until cancelled;
  ``start`` returns the running service object once it is really ready;
* ``async with arbees.open_shard(bus, ...) as shard:`` — the same, for one block.

Nothing here reads the environment: pass what you want (a Kalshi signer from
:meth:`arbees.KalshiSigner.from_env`, URLs of a test venue, ...).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import trio

from arbees.bus.base import Bus
from arbees.egress import EgressPolicy, EgressSettings
from arbees.egress.guard import DEFAULT_INTERVAL
from arbees.kalshi.auth import KalshiSigner
from arbees.messages import ArbSignal
from arbees.money import Fixed
from arbees.services.monitor import PolymarketMonitor
from arbees.services.orchestrator import Orchestrator, OrchestratorConfig
from arbees.services.shard import GameShard
from arbees.wiring import (
    MonitorSettings,
    OrchestratorSettings,
    ShardSettings,
    build_monitor,
    build_orchestrator,
    build_shard,
)
from arbees.wiring.discovery import DEFAULT_DISCOVERY_DEADLINE
from arbees.wiring.settings import (
    CLOB_URL,
    DEFAULT_SERIES,
    GAMMA_URL,
    KALSHI_REST_URL,
    KALSHI_WS_URL,
    POLYMARKET_WS_URL,
    SPORTS_WS_URL,
)
from arbees.wsdriver import Backoff

__all__ = [
    "CLOB_URL",
    "DEFAULT_SERIES",
    "GAMMA_URL",
    "KALSHI_REST_URL",
    "KALSHI_WS_URL",
    "POLYMARKET_WS_URL",
    "open_monitor",
    "open_orchestrator",
    "open_shard",
    "run_monitor",
    "run_orchestrator",
    "run_shard",
]


async def run_shard(
    bus: Bus,
    *,
    shard_id: str = "local",
    kalshi_ws_url: str = KALSHI_WS_URL,
    kalshi_signer: KalshiSigner | None = None,
    polymarket_ws_url: str | None = None,
    polymarket_proxy: str | None = None,
    egress_url: str | None = None,
    egress_api_key: str | None = None,
    forbidden_countries: str = "US",
    required_countries: str | None = None,
    egress_interval: float = DEFAULT_INTERVAL,
    polymarket_egress_check: bool = True,
    min_edge: Fixed = 0,
    max_size: Fixed | None = None,
    max_price_age_ms: int = 2000,
    on_signal: Callable[[ArbSignal], None] | None = None,
    heartbeat_interval: float = 1.0,
    kalshi_silence_timeout: float = 30.0,
    reconnect: Backoff | None = None,
    task_status: trio.TaskStatus[GameShard] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run a game shard until cancelled; ``started`` with the :class:`GameShard` once ready.

    The shard runs the games the orchestrator assigns to ``shard_id``: Kalshi direct (signed
    with ``kalshi_signer``; the real venue requires it), Polymarket from the monitor over the
    bus — or, when ``polymarket_ws_url`` is given, straight from that WebSocket (optionally
    through ``polymarket_proxy``). Signals go to ``arbees:signals``.

    Direct Polymarket connects only on a fresh verified egress of its route: ``egress_url``
    (checked over ``polymarket_proxy`` too; see :func:`run_monitor` for the country
    options) is then required, unless ``polymarket_egress_check=False`` — the explicit
    opt-out, logged loudly.

    Args:
        min_edge: minimum profit per contract after fees (micro-dollars, e.g. ``CENT``).
        max_size: cap on contracts per leg (micro-units), ``None`` for the books' depth.
        max_price_age_ms: never use a price whose source has not proven liveness this recently.
        on_signal: called with each signal before it is published (e.g. a paper ledger).
        reconnect: reconnect backoff of the venue sockets (default: the feeds' own).

    Example::

        async with trio.open_nursery() as nursery:
            shard = await nursery.start(partial(arbees.run_shard, bus, shard_id="laptop"))
    """
    settings = ShardSettings(
        shard_id=shard_id,
        kalshi_ws_url=kalshi_ws_url,
        kalshi_signer=kalshi_signer,
        polymarket_ws_url=polymarket_ws_url,
        polymarket_proxy=polymarket_proxy,
        egress=_egress_settings(
            egress_url, egress_api_key, forbidden_countries, required_countries, egress_interval
        ),
        polymarket_egress_check=polymarket_egress_check,
        min_edge=min_edge,
        max_size=max_size,
        max_price_age_ms=max_price_age_ms,
        kalshi_silence_timeout=kalshi_silence_timeout,
        heartbeat_interval=heartbeat_interval,
        reconnect=reconnect,
    )
    async with (
        build_shard(settings, bus, on_signal=on_signal) as shard,
        trio.open_nursery() as nursery,
    ):
        await nursery.start(shard.run)
        task_status.started(shard)


async def run_monitor(
    bus: Bus,
    *,
    egress_url: str,
    egress_api_key: str | None = None,
    forbidden_countries: str = "US",
    required_countries: str | None = None,
    egress_interval: float = 60.0,
    ws_url: str = POLYMARKET_WS_URL,
    clob_url: str = CLOB_URL,
    audit_interval: float = 5.0,
    proxy: str | None = None,
    instance: str = "monitor",
    heartbeat_interval: float = 1.0,
    reconnect: Backoff | None = None,
    sports_ws_url: str | None = SPORTS_WS_URL,
    task_status: trio.TaskStatus[PolymarketMonitor] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the Polymarket monitor until cancelled; ``started`` with it once ready.

    It verifies where its traffic leaves (``egress_url``: Gluetun's control server with
    ``egress_api_key``, or an ipinfo-style URL such as ``https://ipinfo.io/json``) before
    connecting to Polymarket and every ``egress_interval`` seconds, and fails closed: no
    verified egress, no prices. Exit countries are refused when in ``forbidden_countries``
    (and, when ``required_countries`` is set, when not in it). Every ``audit_interval``
    seconds (0 disables) a rotating batch of live books is compared with the CLOB's
    ``POST /books`` at ``clob_url``, so a socket that silently stopped delivering is caught.
    Game states from Polymarket's sports WebSocket (``sports_ws_url``, ``None`` for none)
    are published on ``arbees:game_states`` for the shards, over the same verified route.

    Example::

        async with trio.open_nursery() as nursery:
            await nursery.start(
                partial(arbees.run_monitor, bus, egress_url="https://ipinfo.io/json")
            )
    """
    settings = MonitorSettings(
        egress=EgressSettings(
            url=egress_url,
            api_key=egress_api_key,
            policy=EgressPolicy.from_settings(forbidden_countries, required_countries),
            interval=egress_interval,
        ),
        ws_url=ws_url,
        clob_url=clob_url,
        audit_interval=audit_interval,
        proxy=proxy,
        instance=instance,
        heartbeat_interval=heartbeat_interval,
        reconnect=reconnect,
        sports_ws_url=sports_ws_url,
    )
    async with build_monitor(settings, bus) as monitor, trio.open_nursery() as nursery:
        await nursery.start(monitor.run)
        task_status.started(monitor)


async def run_orchestrator(
    bus: Bus,
    *,
    kalshi_rest_url: str = KALSHI_REST_URL,
    gamma_url: str = GAMMA_URL,
    series: Sequence[str] = (),
    leagues: Sequence[str] = (),
    exclude_leagues: Sequence[str] = (),
    market_types: Sequence[str] = (),
    kalshi_signer: KalshiSigner | None = None,
    config: OrchestratorConfig | None = None,
    egress_url: str | None = None,
    egress_api_key: str | None = None,
    forbidden_countries: str = "US",
    required_countries: str | None = None,
    egress_interval: float = DEFAULT_INTERVAL,
    polymarket_proxy: str | None = None,
    polymarket_egress_check: bool = True,
    discovery_deadline: float = DEFAULT_DISCOVERY_DEADLINE,
    task_status: trio.TaskStatus[Orchestrator] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the orchestrator until cancelled; ``started`` with it once it discovered once.

    It discovers the games of the Kalshi ``series`` (REST, signed when a signer is given;
    empty: every game / total / spread series of Kalshi's Sports category, narrowed by
    ``leagues``, ``exclude_leagues`` and ``market_types``) and Polymarket Gamma, matches
    them and assigns each to a live shard over the bus.

    Gamma is Polymarket: its requests go through ``polymarket_proxy`` (when given) and only
    on a fresh verified egress of that route, checked at ``egress_url`` (see
    :func:`run_monitor` for the country options) — required unless
    ``polymarket_egress_check=False``, the explicit opt-out (logged loudly). One discovery
    round must finish within ``discovery_deadline`` seconds or it fails (counted, state
    kept).

    Example::

        config = arbees.OrchestratorConfig(settle_delay=0.5)
        async with trio.open_nursery() as nursery:
            await nursery.start(partial(arbees.run_orchestrator, bus, config=config))
    """
    settings = OrchestratorSettings(
        kalshi_rest_url=kalshi_rest_url,
        kalshi_signer=kalshi_signer,
        gamma_url=gamma_url,
        series=series,
        leagues=leagues,
        exclude_leagues=exclude_leagues,
        market_types=market_types,
        polymarket_proxy=polymarket_proxy,
        egress=_egress_settings(
            egress_url, egress_api_key, forbidden_countries, required_countries, egress_interval
        ),
        polymarket_egress_check=polymarket_egress_check,
        discovery_deadline=discovery_deadline,
        config=config if config is not None else OrchestratorConfig(),
    )
    async with (
        build_orchestrator(settings, bus) as orchestrator,
        trio.open_nursery() as nursery,
    ):
        await nursery.start(orchestrator.run)
        task_status.started(orchestrator)


def _egress_settings(
    url: str | None,
    api_key: str | None,
    forbidden: str,
    required: str | None,
    interval: float = DEFAULT_INTERVAL,
) -> EgressSettings | None:
    if url is None:
        return None
    return EgressSettings(
        url=url,
        api_key=api_key,
        policy=EgressPolicy.from_settings(forbidden, required),
        interval=interval,
    )


@asynccontextmanager
async def open_shard(bus: Bus, **options: Any) -> AsyncIterator[GameShard]:
    """Run :func:`run_shard` (same keyword options) for the duration of the block.

    Example::

        async with arbees.open_bus("memory://") as bus, arbees.open_shard(bus) as shard:
            await trio.sleep(60)
            print(shard.stats.signals)
    """
    async with trio.open_nursery() as nursery:
        shard: GameShard = await nursery.start(partial(run_shard, bus, **options))
        yield shard
        nursery.cancel_scope.cancel()


@asynccontextmanager
async def open_monitor(bus: Bus, **options: Any) -> AsyncIterator[PolymarketMonitor]:
    """Run :func:`run_monitor` (same keyword options) for the duration of the block.

    Example::

        async with arbees.open_monitor(bus, egress_url="https://ipinfo.io/json") as monitor:
            await trio.sleep(60)
            print(monitor.stats.published)
    """
    async with trio.open_nursery() as nursery:
        monitor: PolymarketMonitor = await nursery.start(partial(run_monitor, bus, **options))
        yield monitor
        nursery.cancel_scope.cancel()


@asynccontextmanager
async def open_orchestrator(bus: Bus, **options: Any) -> AsyncIterator[Orchestrator]:
    """Run :func:`run_orchestrator` (same keyword options) for the duration of the block.

    Example::

        async with arbees.open_orchestrator(bus, series=["KXNBAGAME"]) as orchestrator:
            await trio.sleep(60)
            print(orchestrator.stats.games)
    """
    async with trio.open_nursery() as nursery:
        orchestrator: Orchestrator = await nursery.start(partial(run_orchestrator, bus, **options))
        yield orchestrator
        nursery.cancel_scope.cancel()
