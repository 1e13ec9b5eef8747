"""The one place services are built: settings in, service out.

Each builder is an async context manager that opens what the service needs for its lifetime
(the guarded Polymarket route, HTTP clients) and yields the service, not yet running; the
caller starts it the Trio way and keeps the block open while it runs::

    async with build_shard(settings, bus) as shard, trio.open_nursery() as nursery:
        await nursery.start(shard.run)

The CLI, :mod:`arbees.api` and the demo all build through here, so a rule such as the
Kalshi keepalive period or the egress guard of a Polymarket route exists once. Polymarket
US (a shard's ``SHARD_VENUES``) is built through its registry entry too, and reached
directly: no VPN route, no egress check. Every
Polymarket route is :func:`arbees.egress.open_polymarket_route`: the monitor always checks
its egress, a direct-mode shard and the orchestrator's Gamma discovery check it unless the
settings carry the explicit opt-out. With a ``registry`` the service's gauges are
registered on it (:mod:`arbees.wiring.metrics`). With a ``recorder``
(:class:`arbees.recording.Recorder`) every feed the service builds records each frame it
receives, tagged with its venue (the record-everything mode; the caller runs an
:class:`arbees.recording.AssignmentTap` beside a shard for its assignments).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial

import attrs
import httpx
import trio

from arbees.bus.base import Bus
from arbees.egress import PolymarketRoute, open_polymarket_route
from arbees.kalshi.live import KALSHI_LIVE_COUNTERS, KalshiLiveFeed, LiveDataConfig
from arbees.kalshi.rest import KalshiRest
from arbees.messages import PUBLISHED_DEPTH, ArbSignal
from arbees.money import format_fixed
from arbees.obs.metrics import Registry
from arbees.paper import PaperLedger, PaperTrader, RiskLimits
from arbees.polymarket.audit import AuditConfig, AuditStats
from arbees.polymarket.feed import FeedConfig
from arbees.polymarket.rest import USER_AGENT, PolymarketRest, RestConfig
from arbees.polymarket.sports_feed import SportsFeed, SportsFeedConfig
from arbees.polymarket_us.rest import PolymarketUsRest
from arbees.recording import Recorder
from arbees.services.game_states import GameStateRelay
from arbees.services.interfaces import InstrumentFeed
from arbees.services.monitor import PolymarketMonitor
from arbees.services.orchestrator import Orchestrator
from arbees.services.shard import GameShard
from arbees.services.shard_engine import ShardEngine
from arbees.services.sources import (
    BusPolymarketSource,
    BusVenueSource,
    FeedQuoteSource,
    QuoteSource,
)
from arbees.settlement import parse_rules
from arbees.venues import get_venue, instrument_checks
from arbees.wiring.discovery import open_polymarket_us_rest, venue_game_source
from arbees.wiring.metrics import (
    bus_gauges,
    game_state_gauges,
    latency_metrics,
    monitor_gauges,
    paper_gauges,
    shard_gauges,
)
from arbees.wiring.settings import MonitorSettings, OrchestratorSettings, ShardSettings

__all__ = ["build_monitor", "build_orchestrator", "build_shard", "venue_source"]


@asynccontextmanager
async def build_monitor(
    settings: MonitorSettings,
    bus: Bus,
    *,
    registry: Registry | None = None,
    recorder: Recorder | None = None,
) -> AsyncIterator[PolymarketMonitor]:
    """The Polymarket monitor of ``settings`` on ``bus`` (start it with ``monitor.run``);
    with ``settings.venue="polymarket-us"``, the Polymarket US monitor
    (:func:`_build_venue_monitor`)."""
    if settings.venue != "polymarket":
        async with _build_venue_monitor(settings, bus, registry, recorder) as monitor:
            yield monitor
        return
    audit = AuditConfig(interval=settings.audit_interval)
    audit_stats = AuditStats()  # shared by the auditor of every verified period
    # The egress check and the REST audit take the same route (proxy) as the Polymarket
    # traffic they guard; the monitor runs the guard itself.
    async with open_polymarket_route(
        name="polymarket-monitor",
        user_agent=USER_AGENT,
        proxy=settings.proxy,
        settings=settings.egress,
        check=True,
        run_guard=False,
    ) as route:
        guard = route.guard
        assert guard is not None  # check=True
        config = FeedConfig(
            url=settings.ws_url,
            tokens_per_socket=settings.tokens_per_socket,
            silence_timeout=settings.silence_timeout,
            resync_interval=settings.resync_interval,
            snapshot_timeout=settings.snapshot_timeout,
            proxy=settings.proxy,
            gate=route.gate,
            # the view built once, at the depth the monitor publishes (not 10, then cut)
            depth=PUBLISHED_DEPTH,
        )
        if settings.reconnect is not None:
            config = attrs.evolve(config, backoff=settings.reconnect)
        if recorder is not None:
            hook = recorder.frame_hook("polymarket", settings.instance)
            config = attrs.evolve(config, on_frame=hook)
        rest = PolymarketRest(
            route.client, RestConfig(clob_url=settings.clob_url, retries=0), gate=route.gate
        )

        polymarket = get_venue("polymarket")

        def feed_factory(tokens: list[str]) -> InstrumentFeed:
            return polymarket.feed(
                tokens,
                config=config,
                rest=rest,
                audit=audit,
                allowed=lambda: guard.verified,
                audit_stats=audit_stats,
            )

        companions = []
        if settings.sports_ws_url is not None:
            # Game states come over the same guarded route as the prices: the same proxy,
            # each connection opened inside the route's gate, run only while verified.
            sports = SportsFeedConfig(
                url=settings.sports_ws_url,
                silence_timeout=settings.sports_silence_timeout,
                proxy=settings.proxy,
                gate=route.gate,
            )
            if settings.reconnect is not None:
                sports = attrs.evolve(sports, backoff=settings.reconnect)
            relay = GameStateRelay(bus, lambda: SportsFeed(sports))
            companions.append(relay.run)
        monitor = PolymarketMonitor(
            bus,
            feed_factory,
            guard,
            instance=settings.instance,
            heartbeat_interval=settings.heartbeat_interval,
            max_tokens=settings.max_tokens,
            accepts=polymarket.accepts,
            companions=companions,
        )
        if registry is not None:
            monitor_gauges(registry, bus, monitor, audit_stats)
        yield monitor


@asynccontextmanager
async def _build_venue_monitor(
    settings: MonitorSettings, bus: Bus, registry: Registry | None, recorder: Recorder | None
) -> AsyncIterator[PolymarketMonitor]:
    """The monitor of a venue other than Polymarket (``MONITOR_VENUE=polymarket-us``): the
    venue's feed through its registry entry, reached directly (no VPN route, no egress
    guard: this venue is not behind the VPN), its books audited over REST when
    ``POLYMARKET_US_REST_URL`` is set; it publishes ``VenueQuote`` s on ``quotes:<venue>``."""
    venue = get_venue(settings.venue)
    options: dict[str, object] = {
        "url": settings.polymarket_us_ws_url,
        "signer": settings.polymarket_us_signer,
        "silence_timeout": settings.silence_timeout,
        "depth": PUBLISHED_DEPTH,
    }
    if not settings.polymarket_us_maintenance:
        options["maintenance"] = None
    if settings.reconnect is not None:
        options["backoff"] = settings.reconnect
    if recorder is not None:
        options["on_frame"] = recorder.frame_hook(venue.id, settings.instance)
    async with open_polymarket_us_rest(settings.polymarket_us_rest_url) as rest:

        def feed_factory(instruments: list[str]) -> InstrumentFeed:
            return venue.feed(instruments, rest=rest, **options)

        monitor = PolymarketMonitor(
            bus,
            feed_factory,
            None,
            instance=settings.instance,
            heartbeat_interval=settings.heartbeat_interval,
            max_tokens=settings.max_tokens,
            accepts=venue.accepts,
            venue=venue.id,
        )
        if registry is not None:
            monitor_gauges(registry, bus, monitor, AuditStats())
        yield monitor


@asynccontextmanager
async def build_shard(
    settings: ShardSettings,
    bus: Bus,
    *,
    registry: Registry | None = None,
    on_signal: Callable[[ArbSignal], None] | None = None,
    recorder: Recorder | None = None,
) -> AsyncIterator[GameShard]:
    """The game shard of ``settings`` on ``bus`` (start it with ``shard.run``).

    ``on_signal`` is called with each signal before it is published.
    """
    engine = ShardEngine(
        settings.shard_id,
        max_age_ns=settings.max_price_age_ms * 1_000_000,
        max_quote_age_ns=round(settings.max_quote_age_s * 1_000_000_000),
        live_max_quote_age_ns=round(settings.live_max_quote_age_s * 1_000_000_000),
        max_games=settings.max_games,
        min_edge=settings.min_edge,
        max_size=settings.max_size,
        instrument_checks=instrument_checks(),
        send_time_venues=settings.send_time_venues,
    )
    kalshi_options: dict[str, object] = {
        "silence_timeout": settings.kalshi_silence_timeout,
        "keepalive_interval": settings.keepalive_interval,
    }
    if settings.reconnect is not None:
        kalshi_options["backoff"] = settings.reconnect
    if recorder is not None:
        kalshi_options["on_frame"] = recorder.frame_hook("kalshi", settings.shard_id)
        recorder.shard_settings(settings.shard_id, _decision_settings(settings))
    kalshi = venue_source(
        "kalshi", url=settings.kalshi_ws_url, signer=settings.kalshi_signer, **kalshi_options
    )
    if registry is not None:
        on_signal = _both(latency_metrics(registry), on_signal)
    async with contextlib.AsyncExitStack() as stack:
        polymarket: QuoteSource | None
        if "polymarket" not in settings.venues:
            polymarket = None  # a US-only shard: no monitor, no VPN route
        elif settings.polymarket_ws_url is None:
            polymarket = BusPolymarketSource(bus)
        else:
            route = await stack.enter_async_context(
                open_polymarket_route(
                    name=f"shard-{settings.shard_id}-polymarket",
                    user_agent=USER_AGENT,
                    proxy=settings.polymarket_proxy,
                    settings=settings.egress,
                    check=settings.polymarket_egress_check,
                )
            )
            config = FeedConfig(
                url=settings.polymarket_ws_url, proxy=settings.polymarket_proxy, gate=route.gate
            )
            if settings.reconnect is not None:
                config = attrs.evolve(config, backoff=settings.reconnect)
            if recorder is not None:
                hook = recorder.frame_hook("polymarket", settings.shard_id)
                config = attrs.evolve(config, on_frame=hook)
            polymarket = venue_source("polymarket", config=config)
        others: list[QuoteSource] = []
        if "polymarket-us" in settings.venues and settings.polymarket_us_via_bus:
            others.append(BusVenueSource(bus, "polymarket-us"))  # its monitor's VenueQuotes
        elif "polymarket-us" in settings.venues:
            us_rest = await stack.enter_async_context(
                open_polymarket_us_rest(settings.polymarket_us_rest_url)
            )
            others.append(_polymarket_us_source(settings, us_rest, recorder))
        paper = None
        if settings.paper is not None:
            limits = RiskLimits(
                max_contracts_per_pair=settings.paper.max_contracts_per_pair,
                max_exposure=settings.paper.max_exposure,
                daily_loss_stop=settings.paper.daily_loss_stop,
            )
            ledger = PaperLedger(
                limits,
                latency_ns=settings.paper.latency_ms * 1_000_000,
                rules=parse_rules(settings.paper.settlement_rules),
            )
            if registry is not None:
                paper_gauges(registry, ledger)
            paper = PaperTrader(ledger, engine, bus=bus, log_interval=settings.paper.log_interval)
        shard = GameShard(
            bus,
            engine,
            kalshi,
            polymarket,
            others=others,
            paper=paper,
            on_signal=on_signal,
            heartbeat_interval=settings.heartbeat_interval,
            sweep_interval=settings.sweep_interval,
            recorder=recorder,
            lag_threshold=settings.lag_threshold_ms / 1000 if settings.lag_threshold_ms else None,
        )
        if registry is not None:
            shard_gauges(registry, bus, shard)
        yield shard


def _polymarket_us_source(
    settings: ShardSettings, rest: PolymarketUsRest | None, recorder: Recorder | None
) -> FeedQuoteSource:
    """Polymarket US read directly: its own signed sockets, never the VPN route or the
    egress check; its books audited over REST when ``rest`` is given."""
    options: dict[str, object] = {
        "url": settings.polymarket_us_ws_url,
        "signer": settings.polymarket_us_signer,
        "rest": rest,
    }
    if not settings.polymarket_us_maintenance:
        options["maintenance"] = None
    if settings.reconnect is not None:
        options["backoff"] = settings.reconnect
    if recorder is not None:
        options["on_frame"] = recorder.frame_hook("polymarket-us", settings.shard_id)
    return venue_source("polymarket-us", **options)


def _decision_settings(settings: ShardSettings) -> dict[str, str]:
    """What a replay needs to decide as this shard does (see :mod:`arbees.replay`)."""
    return {
        "max_price_age_ms": str(settings.max_price_age_ms),
        "max_quote_age_s": repr(float(settings.max_quote_age_s)),
        "min_edge": format_fixed(settings.min_edge),
        "max_size": "" if settings.max_size is None else format_fixed(settings.max_size),
        "sweep_interval_ms": str(round(settings.sweep_interval * 1000)),
    }


def venue_source(venue_id: str, **options: object) -> FeedQuoteSource:
    """Quotes straight from the feed of the registered venue ``venue_id`` (``options``: the
    keywords of its feed factory), for the shard."""
    venue = get_venue(venue_id)
    return FeedQuoteSource(venue.id, venue.feed((), **options), venue.quote)


def _both(
    first: Callable[[ArbSignal], None], second: Callable[[ArbSignal], None] | None
) -> Callable[[ArbSignal], None]:
    if second is None:
        return first

    def call(signal: ArbSignal) -> None:
        first(signal)
        second(signal)

    return call


@asynccontextmanager
async def build_orchestrator(
    settings: OrchestratorSettings, bus: Bus, *, registry: Registry | None = None
) -> AsyncIterator[Orchestrator]:
    """The orchestrator of ``settings`` on ``bus`` (start it with ``orchestrator.run``).

    Kalshi REST uses its own client on the host network; Gamma is Polymarket, so it goes
    through the guarded Polymarket route, which is not built at all when
    ``settings.discovery_venues`` leaves Polymarket out (the US-only deployment). Unless
    ``settings.kalshi_live_interval`` is ``None``, Kalshi's live game data for the running
    games is polled here too (:class:`arbees.kalshi.live.KalshiLiveFeed` under a
    :class:`~arbees.services.game_states.GameStateRelay`) while the block is open.
    """
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    async with (
        httpx.AsyncClient(headers=headers, timeout=20.0) as kalshi_client,
        _gamma_route(settings) as gamma,
        open_polymarket_us_rest(settings.polymarket_us_rest_url) as polymarket_us,
    ):
        kalshi = KalshiRest(
            kalshi_client, base_url=settings.kalshi_rest_url, signer=settings.kalshi_signer
        )
        source = venue_game_source(
            kalshi,
            None if gamma is None else gamma.client,
            gamma_url=settings.gamma_url,
            series=settings.series,
            leagues=settings.leagues,
            exclude_leagues=settings.exclude_leagues,
            market_types=settings.market_types,
            teams_cache=settings.teams_cache,
            gamma_gate=None if gamma is None else gamma.gate,
            deadline=settings.discovery_deadline,
            polymarket_us=polymarket_us,
            venues=settings.discovery_venues,
        )
        if registry is not None:
            bus_gauges(registry, bus)
        orchestrator = Orchestrator(
            bus,
            source,
            settings.config,
            registry=registry,
            instrument_checks=instrument_checks(),
        )
        if settings.kalshi_live_interval is None:
            yield orchestrator
            return
        # Kalshi's live game data for the games being run, polled here: this process
        # knows every game and holds the one Kalshi client (one rate limit for discovery
        # and polling, one batch request per 100 games however many shards run them);
        # Kalshi is reached directly, never behind the VPN.
        config = LiveDataConfig(interval=settings.kalshi_live_interval)
        relay = GameStateRelay(
            bus, lambda: KalshiLiveFeed(kalshi, partial(_running_events, orchestrator), config)
        )
        if registry is not None:
            game_state_gauges(registry, "kalshi_live", relay, KALSHI_LIVE_COUNTERS)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(relay.run)
            try:
                yield orchestrator
            finally:
                nursery.cancel_scope.cancel()


@asynccontextmanager
async def _gamma_route(settings: OrchestratorSettings) -> AsyncIterator[PolymarketRoute | None]:
    """The guarded Polymarket route of Gamma discovery, or ``None`` (no route, no egress
    check, no client) when ``settings.discovery_venues`` leaves Polymarket out."""
    if not settings.gamma:
        yield None
        return
    async with open_polymarket_route(
        name="orchestrator-gamma",
        user_agent=USER_AGENT,
        proxy=settings.polymarket_proxy,
        settings=settings.egress,
        check=settings.polymarket_egress_check,
    ) as gamma:
        yield gamma


def _running_events(orchestrator: Orchestrator) -> list[str]:
    """The Kalshi events of the games the orchestrator has given a shard (the key
    discovery writes in ``game_keys["kalshi"]``)."""
    return [
        spec.kalshi_event_ticker
        for game, spec in orchestrator.games.items()
        if orchestrator.owners.get(game) is not None
    ]
