"""The whole arbees deployment in one process, on loopback, driven by the market simulator.

With ``venues=("kalshi", "polymarket-us")`` the shards read Kalshi and a fake Polymarket
US directly: no fake Gluetun, no monitor, no egress check (see :mod:`arbees.demo.us`).

Why: ``arbees demo`` must show the real system working on a fresh machine with no network
and no Redis — so everything the production topology has is here, unmodified: the fake
venues (Kalshi WebSocket + REST, Polymarket WebSocket + Gamma) fed by
:class:`~arbees.sim.player.MarketPlayer`, a fake Gluetun control server, the real
:class:`~arbees.services.orchestrator.Orchestrator` discovering the games through the fakes'
REST endpoints, the real :class:`~arbees.services.monitor.PolymarketMonitor` behind a real
:class:`~arbees.egress.EgressGuard`, and ``shards`` real
:class:`~arbees.services.shard.GameShard` s, all on one bus (memory by default, Redis when a
URL is given). Only the timings are shortened (heartbeats, settle delay, price age) so a
five-second run is meaningful.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

import attrs
import trio

from arbees.bus import Bus, open_bus
from arbees.demo.us import EventKey, event_assignments, pair_signal
from arbees.egress import EgressSettings
from arbees.errors import ConfigError
from arbees.messages import GAME_ASSIGNMENTS_HASH, ArbSignal, Channel, PolymarketPriceUpdate
from arbees.recording import AssignmentTap, Recorder
from arbees.services.monitor import PolymarketMonitor
from arbees.services.orchestrator import Orchestrator, OrchestratorConfig
from arbees.services.shard import GameShard
from arbees.sim.plan import Plan
from arbees.sim.player import MarketPlayer
from arbees.testing.fake_gluetun import FakeGluetun
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.fake_polymarket import FakePolymarket
from arbees.testing.fake_polymarket_us import FakePolymarketUs
from arbees.wiring import (
    MonitorSettings,
    OrchestratorSettings,
    PaperSettings,
    ShardSettings,
    build_monitor,
    build_orchestrator,
    build_shard,
)
from arbees.wsdriver import Backoff

__all__ = ["DEMO_VENUES", "DemoSettings", "DemoSystem", "open_demo_system"]

log = logging.getLogger(__name__)

_FAST = Backoff(base=0.05, cap=0.5)


@attrs.frozen
class DemoSettings:
    """Timings of the in-process deployment.

    Attributes:
        shards: number of game shards.
        bus_url: ``memory://`` or a Redis URL.
        max_age_s: the shards' ``MAX_PRICE_AGE_MS`` (seconds; sets the Kalshi keepalive).
        kalshi_silence_s: the shards' Kalshi silence timeout.
        egress_interval_s: seconds between egress checks.
        ready_timeout_s: how long start-up (discovery, assignment, first books) may take.
        paper: each shard keeps a paper ledger (``arbees demo --paper``).
        record: record everything the monitor and the shards see into this file (frames
            with receive times, the shards' assignments), for ``arbees replay``; ``""``: no.
        record_max_bytes: rotate the recording after this many bytes (0: never).
        venues: the venues the shards read: ``("kalshi", "polymarket")`` (the deployment:
            monitor behind the fake Gluetun, orchestrator) or ``("kalshi",
            "polymarket-us")`` (both read directly by the shards: no fake Gluetun, no
            monitor; the games assigned from the plan, see :mod:`arbees.demo.us`).
    """

    shards: int = 2
    bus_url: str = "memory://"
    max_age_s: float = 1.0
    kalshi_silence_s: float = 1.5
    egress_interval_s: float = 0.5
    ready_timeout_s: float = 30.0
    paper: bool = False
    record: str = ""
    record_max_bytes: int = 0
    venues: tuple[str, ...] = ("kalshi", "polymarket")

    def __attrs_post_init__(self) -> None:
        if self.venues not in DEMO_VENUES:
            known = " or ".join(",".join(v) for v in DEMO_VENUES)
            raise ConfigError(f"demo venues: {','.join(self.venues)[:80]!r} (one of {known})")


DEMO_VENUES: Final = (("kalshi", "polymarket"), ("kalshi", "polymarket-us"))
"""The venue sets ``arbees demo --venues`` runs."""


@attrs.define
class DemoSystem:
    """Handles on the running deployment.

    Attributes:
        plan, player: the market.
        kalshi, poly, gluetun, us: the fakes (``gluetun`` ``None`` and ``us`` set with
            Polymarket US; ``poly`` is then played but not served).
        bus: the bus.
        orchestrator, monitor, shards: the services (no orchestrator and no monitor
            with Polymarket US).
        signals: every signal seen on ``arbees:signals`` (in arrival order).
        hop_us: monitor -> subscriber bus hop of price updates, microseconds.
        nursery: where everything runs.
        recorder: the recording, when one was asked for.
        us: the fake Polymarket US (``--venues kalshi,polymarket-us``).
        events: what each event game stands for (with Polymarket US).
    """

    plan: Plan
    player: MarketPlayer
    kalshi: FakeKalshi
    poly: FakePolymarket
    gluetun: FakeGluetun | None
    bus: Bus
    orchestrator: Orchestrator | None
    monitor: PolymarketMonitor | None
    shards: list[GameShard]
    nursery: trio.Nursery
    signals: list[ArbSignal] = attrs.Factory(list)
    hop_us: list[float] = attrs.Factory(list)
    price_updates: int = 0
    recorder: Recorder | None = None
    us: FakePolymarketUs | None = None
    events: dict[str, EventKey] = attrs.Factory(dict)

    def scored_signals(self) -> list[ArbSignal]:
        """The signals as the simulator's truth names them (see :func:`pair_signal`)."""
        if not self.events:
            return list(self.signals)
        return [pair_signal(s, self.events) for s in self.signals]

    def ready(self) -> bool:
        """Every game (and event game) assigned, and every shard's books usable on both
        venues."""
        if self.events:
            return self._events_ready()
        games = {g.game_id for g in self.plan.games}
        games.update(e.game_id for e in self.plan.events.events)
        owned: set[str] = set()
        for shard in self.shards:
            owned.update(shard.engine.games)
            owned.update(shard.engine.events)
        if owned != games:
            return False
        now = time.time_ns()
        for shard in self.shards:
            engine = shard.engine
            for game in engine.games.values():
                for team in game.teams:
                    for key in (("kalshi", team.kalshi_ticker), ("polymarket", team.poly_token)):
                        if not engine.usable(engine._quotes.get(key), now):
                            return False
            for event in engine.events.values():
                for key in event.quote_keys():
                    if not engine.usable(engine._quotes.get(key), now):
                        return False
        return True

    def _events_ready(self) -> bool:
        owned: set[str] = set()
        for shard in self.shards:
            owned.update(shard.engine.events)
        if owned != set(self.events):
            return False
        now = time.time_ns()
        for shard in self.shards:
            engine = shard.engine
            for event_id in engine.events:
                for key in self.events[event_id].instruments:
                    if not engine.usable(engine._quotes.get(key), now):
                        return False
        return True

    @property
    def updates(self) -> int:
        """Quotes processed by the shards."""
        return sum(s.stats.quotes for s in self.shards)

    async def _collect(self) -> None:
        async with self.bus.subscribe(
            Channel.SIGNALS, Channel.POLYMARKET_PRICES, buffer=65_536
        ) as sub:
            async for envelope in sub:
                message = envelope.message
                if isinstance(message, ArbSignal):
                    self.signals.append(message)
                elif isinstance(message, PolymarketPriceUpdate):
                    self.price_updates += 1
                    if message.published_ns:
                        self.hop_us.append((envelope.received_ns - message.published_ns) / 1000)


@asynccontextmanager
async def open_demo_system(plan: Plan, settings: DemoSettings) -> AsyncIterator[DemoSystem]:
    """Start everything and wait until it is ready (raises ``trio.TooSlowError`` if not)."""
    if "polymarket-us" in settings.venues:
        async with _open_us_system(plan, settings) as system:
            yield system
        return
    kalshi = FakeKalshi(require_auth=False, heartbeat_interval=5.0)
    poly = FakePolymarket()
    api_key = secrets.token_hex(16)
    gluetun = FakeGluetun(country="United Kingdom", api_key=api_key)
    player = MarketPlayer(plan, kalshi, poly)
    player.install()
    # The bus encloses the nursery: every service that uses it has finished before it
    # closes (the other way round, a task still unwinding could publish on a closed bus).
    async with open_bus(settings.bus_url) as bus, trio.open_nursery() as venues:
        k_urls = await venues.start(kalshi.run)
        p_urls = await venues.start(poly.run)
        g_url = await venues.start(gluetun.run)
        # Every Polymarket route of the demo (the monitor, the orchestrator's Gamma
        # discovery) is guarded by the fake Gluetun, as in the deployment.
        egress = EgressSettings(
            url=f"{g_url}/v1/publicip/ip", api_key=api_key, interval=settings.egress_interval_s
        )
        monitor_settings, shard_settings, orchestrator_settings = demo_service_settings(
            settings,
            egress,
            kalshi_ws_url=k_urls.ws_url,
            kalshi_rest_url=k_urls.rest_url,
            polymarket_ws_url=p_urls.ws_url,
            gamma_url=p_urls.gamma_url,
        )
        # The services' nursery is innermost: they stop before what they were built
        # with (routes, clients) closes.
        async with contextlib.AsyncExitStack() as stack:
            recorder = None
            if settings.record:
                recorder = Recorder(settings.record, max_bytes=settings.record_max_bytes)
                stack.enter_context(recorder)
            monitor = await stack.enter_async_context(
                build_monitor(monitor_settings, bus, recorder=recorder)
            )
            shards = [
                await stack.enter_async_context(build_shard(s, bus, recorder=recorder))
                for s in shard_settings
            ]
            orchestrator = await stack.enter_async_context(
                build_orchestrator(orchestrator_settings, bus)
            )
            nursery = await stack.enter_async_context(trio.open_nursery())
            system = DemoSystem(
                plan, player, kalshi, poly, gluetun, bus, orchestrator, monitor, shards, nursery
            )
            system.recorder = recorder
            nursery.start_soon(system._collect)
            if recorder is not None:  # before the orchestrator assigns anything
                await nursery.start(AssignmentTap(bus, recorder).run)
            for shard in shards:
                await nursery.start(shard.run)
            await nursery.start(orchestrator.run)
            # The monitor starts once every token is assigned, so its first connections
            # subscribe them all (tokens added while a socket is mid-connect can miss their
            # snapshot until the next resync; see the report of issue #9).
            with trio.fail_after(settings.ready_timeout_s):
                expected = len(plan.games) + len(plan.events.events)
                while orchestrator.stats.unowned or len(orchestrator.games) < expected:  # noqa: ASYNC110
                    await trio.sleep(0.05)
            await nursery.start(monitor.run)
            with trio.fail_after(settings.ready_timeout_s):
                while not system.ready():  # noqa: ASYNC110 - readiness spans many services
                    await trio.sleep(0.05)
            log.info("demo ready: %d games on %d shards", len(plan.games), len(shards))
            yield system
            nursery.cancel_scope.cancel()
        venues.cancel_scope.cancel()


@asynccontextmanager
async def _open_us_system(plan: Plan, settings: DemoSettings) -> AsyncIterator[DemoSystem]:
    """Kalshi and Polymarket US, both read directly by the shards: no fake Gluetun, no
    monitor, no egress check; the games assigned from the plan (:mod:`arbees.demo.us`)."""
    kalshi = FakeKalshi(require_auth=False, heartbeat_interval=5.0)
    # The venue's heartbeats prove a quiet socket alive within the shards' price age.
    us = FakePolymarketUs(heartbeat_interval=settings.max_age_s / 4)
    poly = FakePolymarket()  # played (the simulator's books), never served
    player = MarketPlayer(plan, kalshi, poly, us=us)
    player.install()
    async with open_bus(settings.bus_url) as bus, trio.open_nursery() as venues:
        k_urls = await venues.start(kalshi.run)
        us_urls = await venues.start(us.run)
        shard_settings = [
            attrs.evolve(
                s,
                venues=settings.venues,
                polymarket_us_ws_url=us_urls.ws_url,
                polymarket_us_maintenance=False,  # a fake venue keeps no maintenance hours
            )
            for s in demo_shard_settings(settings, kalshi_ws_url=k_urls.ws_url)
        ]
        assignments, events = event_assignments(plan.games, [s.shard_id for s in shard_settings])
        for assignment in assignments:
            await bus.hset(GAME_ASSIGNMENTS_HASH, assignment.game_id, assignment)
        async with contextlib.AsyncExitStack() as stack:
            recorder = None
            if settings.record:
                recorder = Recorder(settings.record, max_bytes=settings.record_max_bytes)
                stack.enter_context(recorder)
            shards = [
                await stack.enter_async_context(build_shard(s, bus, recorder=recorder))
                for s in shard_settings
            ]
            nursery = await stack.enter_async_context(trio.open_nursery())
            system = DemoSystem(plan, player, kalshi, poly, None, bus, None, None, shards, nursery)
            system.recorder = recorder
            system.us = us
            system.events = events
            nursery.start_soon(system._collect)
            if recorder is not None:
                await nursery.start(AssignmentTap(bus, recorder).run)
            for shard in shards:
                await nursery.start(shard.run)
            with trio.fail_after(settings.ready_timeout_s):
                while not system.ready():  # noqa: ASYNC110 - readiness spans many services
                    await trio.sleep(0.05)
            log.info(
                "demo ready: %d games on %d shards (Polymarket US)", len(plan.games), len(shards)
            )
            yield system
            nursery.cancel_scope.cancel()
        venues.cancel_scope.cancel()


def demo_shard_settings(settings: DemoSettings, *, kalshi_ws_url: str) -> list[ShardSettings]:
    """The demo's shards: the deployment's settings with the timings shortened."""
    return [
        ShardSettings(
            shard_id=f"demo-{i + 1}",
            kalshi_ws_url=kalshi_ws_url,
            max_price_age_ms=round(settings.max_age_s * 1000),
            kalshi_silence_timeout=settings.kalshi_silence_s,
            heartbeat_interval=0.2,
            sweep_interval=0.05,
            reconnect=_FAST,
            paper=PaperSettings(log_interval=0.0) if settings.paper else None,
        )
        for i in range(settings.shards)
    ]


def demo_service_settings(
    settings: DemoSettings,
    egress: EgressSettings,
    *,
    kalshi_ws_url: str,
    kalshi_rest_url: str,
    polymarket_ws_url: str,
    gamma_url: str,
) -> tuple[MonitorSettings, list[ShardSettings], OrchestratorSettings]:
    """The services' settings of the demo: the deployment's, with the fakes' URLs and the
    timings shortened so a five-second run is meaningful."""
    monitor = MonitorSettings(
        egress=egress,
        ws_url=polymarket_ws_url,
        audit_interval=0.0,
        silence_timeout=30.0,
        resync_interval=1.0,
        snapshot_timeout=2.0,
        instance="demo-monitor",
        heartbeat_interval=0.2,
        reconnect=_FAST,
        sports_ws_url=None,  # the demo's games have no fake sports channel yet
    )
    shards = demo_shard_settings(settings, kalshi_ws_url=kalshi_ws_url)
    orchestrator = OrchestratorSettings(
        kalshi_rest_url=kalshi_rest_url,
        gamma_url=gamma_url,
        egress=egress,
        kalshi_live_interval=None,  # the fake Kalshi serves no milestones or live data
        config=OrchestratorConfig(
            discovery_interval=60.0,
            shard_timeout=3.0,
            republish_interval=2.0,
            check_interval=0.1,
            settle_delay=0.3,
            health_interval=0.5,
            instance="demo-orchestrator",
        ),
    )
    return monitor, shards, orchestrator
