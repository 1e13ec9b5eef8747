"""Start arbees' services from your own program, with the venue objects built for you.

The services (:mod:`arbees.services`) see only interfaces — a quote source, a feed factory,
a game source — because they must not depend on Kalshi, Polymarket or Redis. Someone has to
build the concrete objects; in a deployment that is the CLI, and in a bot it is this module.
It is the library's layer-L4 face: it picks the venues' URLs (real ones by default), makes
the feeds, the egress guard and the REST clients, and hands them to the services.

Each service comes in the two Trio shapes:

* ``await nursery.start(partial(arbees.run_shard, bus, ...))`` — runs until cancelled;
  ``start`` returns the running service object once it is really ready;
* ``async with arbees.open_shard(bus, ...) as shard:`` — the same, for one block.

Nothing here reads the environment: pass what you want (a Kalshi signer from
:meth:`arbees.KalshiSigner.from_env`, URLs of a test venue, ...).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import attrs
import httpx
import trio

from arbees.bus.base import Bus
from arbees.cli._venue_source import DEFAULT_DISCOVERY_DEADLINE, DEFAULT_SERIES, VenueGameSource
from arbees.cli._wiring import PolymarketFeedAdapter, kalshi_source, polymarket_direct_source
from arbees.egress import EgressPolicy, EgressSettings, open_polymarket_route
from arbees.egress.guard import DEFAULT_INTERVAL
from arbees.errors import ConfigError
from arbees.kalshi.auth import KalshiSigner
from arbees.kalshi.feed import PROD_WS_URL as KALSHI_WS_URL
from arbees.kalshi.rest import PROD_REST_URL as KALSHI_REST_URL
from arbees.kalshi.rest import KalshiRest
from arbees.messages import ArbSignal
from arbees.money import Fixed
from arbees.polymarket.audit import AuditConfig
from arbees.polymarket.feed import DEFAULT_WS_URL as POLYMARKET_WS_URL
from arbees.polymarket.feed import FeedConfig
from arbees.polymarket.rest import DEFAULT_CLOB_URL as CLOB_URL
from arbees.polymarket.rest import DEFAULT_GAMMA_URL as GAMMA_URL
from arbees.polymarket.rest import USER_AGENT, PolymarketRest, RestConfig
from arbees.services.monitor import PolymarketMonitor
from arbees.services.orchestrator import Orchestrator, OrchestratorConfig
from arbees.services.shard import GameShard
from arbees.services.shard_engine import ShardEngine
from arbees.services.sources import BusPolymarketSource, QuoteSource
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
    engine = ShardEngine(
        shard_id, max_age_ns=max_price_age_ms * 1_000_000, min_edge=min_edge, max_size=max_size
    )
    # A quiet Kalshi book stays usable only while its socket proves it is alive: a
    # keepalive round trip every half price age keeps a correct, unchanged book fresh.
    kalshi_options: dict[str, object] = {
        "silence_timeout": kalshi_silence_timeout,
        "keepalive_interval": max_price_age_ms / 2000,
    }
    if reconnect is not None:
        kalshi_options["backoff"] = reconnect
    async with contextlib.AsyncExitStack() as stack:
        polymarket: QuoteSource
        if polymarket_ws_url is None:
            polymarket = BusPolymarketSource(bus)
        else:
            route = await stack.enter_async_context(
                open_polymarket_route(
                    name=f"shard-{shard_id}-polymarket",
                    user_agent=USER_AGENT,
                    proxy=polymarket_proxy,
                    settings=_egress_settings(
                        egress_url,
                        egress_api_key,
                        forbidden_countries,
                        required_countries,
                        egress_interval,
                    ),
                    check=_check_wanted(polymarket_egress_check, egress_url, "run_shard"),
                )
            )
            config = FeedConfig(url=polymarket_ws_url, proxy=polymarket_proxy, gate=route.gate)
            if reconnect is not None:
                config = attrs.evolve(config, backoff=reconnect)
            polymarket = polymarket_direct_source(config)
        await _serve_shard(
            bus,
            engine,
            kalshi_source(kalshi_ws_url, kalshi_signer, **kalshi_options),
            polymarket,
            on_signal=on_signal,
            heartbeat_interval=heartbeat_interval,
            task_status=task_status,
        )


async def _serve_shard(
    bus: Bus,
    engine: ShardEngine,
    kalshi: QuoteSource,
    polymarket: QuoteSource,
    *,
    on_signal: Callable[[ArbSignal], None] | None,
    heartbeat_interval: float,
    task_status: trio.TaskStatus[GameShard],
) -> None:
    shard = GameShard(
        bus, engine, kalshi, polymarket, on_signal=on_signal, heartbeat_interval=heartbeat_interval
    )
    async with trio.open_nursery() as nursery:
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

    Example::

        async with trio.open_nursery() as nursery:
            await nursery.start(
                partial(arbees.run_monitor, bus, egress_url="https://ipinfo.io/json")
            )
    """
    settings = _egress_settings(
        egress_url, egress_api_key, forbidden_countries, required_countries, egress_interval
    )
    audit = AuditConfig(interval=audit_interval)
    # The egress check and the REST audit take the same route (proxy) as the Polymarket
    # traffic they guard; the monitor runs the guard itself.
    async with open_polymarket_route(
        name="polymarket-monitor",
        user_agent=USER_AGENT,
        proxy=proxy,
        settings=settings,
        check=True,
        run_guard=False,
    ) as route:
        guard = route.guard
        assert guard is not None  # check=True
        config = FeedConfig(url=ws_url, proxy=proxy, gate=route.gate)
        if reconnect is not None:
            config = attrs.evolve(config, backoff=reconnect)
        rest = PolymarketRest(
            route.client, RestConfig(clob_url=clob_url, retries=0), gate=route.gate
        )

        def feed_factory(tokens: list[str]) -> PolymarketFeedAdapter:
            return PolymarketFeedAdapter(
                tokens,
                config,
                rest=rest if audit.enabled else None,
                audit=audit,
                allowed=lambda: guard.verified,
            )

        monitor = PolymarketMonitor(
            bus,
            feed_factory,
            guard,
            instance=instance,
            heartbeat_interval=heartbeat_interval,
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(monitor.run)
            task_status.started(monitor)


async def run_orchestrator(
    bus: Bus,
    *,
    kalshi_rest_url: str = KALSHI_REST_URL,
    gamma_url: str = GAMMA_URL,
    series: Sequence[str] = DEFAULT_SERIES,
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

    It discovers the games of the Kalshi ``series`` (REST, signed when a signer is given)
    and Polymarket Gamma, matches them and assigns each to a live shard over the bus.

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
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    async with (
        httpx.AsyncClient(headers=headers, timeout=20.0) as client,
        open_polymarket_route(
            name="orchestrator-gamma",
            user_agent=USER_AGENT,
            proxy=polymarket_proxy,
            settings=_egress_settings(
                egress_url, egress_api_key, forbidden_countries, required_countries, egress_interval
            ),
            check=_check_wanted(polymarket_egress_check, egress_url, "run_orchestrator"),
        ) as gamma,
    ):
        kalshi = KalshiRest(client, base_url=kalshi_rest_url, signer=kalshi_signer)
        source = VenueGameSource(
            kalshi,
            gamma.client,
            gamma_url=gamma_url,
            series=series,
            gamma_gate=gamma.gate,
            deadline=discovery_deadline,
        )
        orchestrator = Orchestrator(bus, source, config)
        async with trio.open_nursery() as nursery:
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


def _check_wanted(check: bool, egress_url: str | None, where: str) -> bool:
    if check and egress_url is None:
        raise ConfigError(
            f"{where}: Polymarket is reached only on a verified egress: pass egress_url "
            "(or polymarket_egress_check=False, the explicit opt-out)"
        )
    return check


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
