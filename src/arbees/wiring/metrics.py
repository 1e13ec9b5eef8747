"""The Prometheus gauges of the built services (one definition for every entry point)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from arbees.bus import Bus
from arbees.messages import ArbSignal
from arbees.money import to_float
from arbees.obs.metrics import Registry
from arbees.paper import PaperLedger
from arbees.polymarket.audit import AuditStats
from arbees.services.game_states import GameStateRelay
from arbees.services.monitor import PolymarketMonitor
from arbees.services.shard import GameShard

__all__ = [
    "bus_gauges",
    "game_state_gauges",
    "latency_metrics",
    "monitor_gauges",
    "paper_gauges",
    "shard_gauges",
]


def bus_gauges(registry: Registry, bus: Bus) -> None:
    """Refused payloads, drops and reconnects of ``bus``, read at scrape time. The refusals
    by field are in ``bus.stats.decode_errors_by_field`` and in the logs."""
    stats = bus.stats
    registry.gauge("bus_decode_errors", "bus payloads the codec refused (counted, skipped)",
                   read=lambda: stats.decode_errors)  # fmt: skip
    registry.gauge("bus_dropped", "messages dropped from full subscriber buffers",
                   read=lambda: stats.dropped)  # fmt: skip
    registry.gauge("bus_reconnects", "bus reconnections", read=lambda: stats.reconnects)
    registry.gauge("bus_protocol_errors", "bus connections dropped: the server sent non-RESP bytes",
                   read=lambda: stats.protocol_errors)  # fmt: skip
    registry.gauge("bus_sink_errors", "reads a subscription's inline consumer failed on (logged)",
                   read=lambda: stats.sink_errors)  # fmt: skip


def monitor_gauges(
    registry: Registry, bus: Bus, monitor: PolymarketMonitor, audit_stats: AuditStats
) -> None:
    """The monitor's counters, its REST audit's and its current feed's."""
    guard = monitor.guard
    registry.gauge("monitor_audit_invalidated", "books distrusted by the REST audit",
                   read=lambda: audit_stats.invalidated)  # fmt: skip
    registry.gauge("monitor_audit_failures", "failed REST audit requests",
                   read=lambda: audit_stats.failures)  # fmt: skip
    registry.gauge("monitor_audit_matches", "books confirmed by the REST audit",
                   read=lambda: audit_stats.matches)  # fmt: skip
    registry.gauge("monitor_published", "price updates published",
                   read=lambda: monitor.stats.published)  # fmt: skip
    registry.gauge("monitor_egress_verified", "1 while egress is verified (or not checked)",
                   read=lambda: float(guard is None or guard.verified))  # fmt: skip
    registry.gauge("monitor_tokens", "assigned tokens", read=lambda: len(monitor.tokens))
    registry.gauge("monitor_egress_losses", "egress losses",
                   read=lambda: monitor.stats.egress_losses)  # fmt: skip
    registry.gauge("bus_publish_failed", "messages the bus could not send",
                   read=lambda: bus.stats.publish_failed)  # fmt: skip
    bus_gauges(registry, bus)
    registry.gauge("monitor_stale_published", "updates published with stale=True",
                   read=lambda: monitor.stats.stale_published)  # fmt: skip
    registry.gauge("monitor_rejected_assignments", "assignments refused",
                   read=lambda: monitor.stats.rejected_assignments)  # fmt: skip
    registry.gauge("monitor_refused_cap", "tokens refused at MONITOR_MAX_TOKENS",
                   read=lambda: monitor.stats.refused_cap)  # fmt: skip
    _feed_gauges(registry, monitor)


def _feed_gauges(registry: Registry, monitor: PolymarketMonitor) -> None:
    """Counters of the current feed (a new feed starts with every verified egress period)."""

    def of_feed(name: str) -> Callable[[], float]:
        def value() -> float:
            feed = monitor.current_feed
            return float(feed.counters()[name]) if feed is not None else 0.0

        return value

    registry.gauge("feed_reconnects", "WebSocket reconnects in this egress period",
                   read=of_feed("reconnects"))  # fmt: skip
    registry.gauge("feed_rejected", "frames/events rejected as invalid (counted, dropped)",
                   read=of_feed("rejected"))  # fmt: skip
    registry.gauge("feed_mismatches", "best bid/ask cross-check failures (book marked stale)",
                   read=of_feed("mismatches"))  # fmt: skip
    registry.gauge("feed_coalesced", "changes merged for a slow consumer (newest kept)",
                   read=of_feed("coalesced"))  # fmt: skip


def shard_gauges(registry: Registry, bus: Bus, shard: GameShard) -> None:
    """The shard's and its engine's counters, including the event kernel's scans
    (``shard_kernel_batches`` grows with every batch of quotes)."""
    engine = shard.engine
    stats = engine.stats
    registry.gauge("shard_games", "games assigned", read=engine.game_count)
    registry.gauge("shard_quotes", "quotes processed", read=lambda: stats.quotes)
    registry.gauge("shard_signals_opened", "signals opened", read=lambda: stats.opened)
    registry.gauge("shard_suppressed_stale", "evaluations held back by stale/old books",
                   read=lambda: stats.suppressed_stale)  # fmt: skip
    registry.gauge("shard_signals_closed", "signals closed", read=lambda: stats.closed)
    bus_gauges(registry, bus)
    registry.gauge("shard_rejected_assignments", "assignments refused (fees, cap, source)",
                   read=lambda: shard.stats.rejected_assignments)  # fmt: skip
    registry.gauge("shard_future_clamped", "heartbeats or quotes timed in the future",
                   read=lambda: stats.future_clamped)  # fmt: skip
    registry.gauge("shard_kernel_batches", "quote batches scanned by the event kernel",
                   read=lambda: stats.kernel_batches)  # fmt: skip
    registry.gauge("shard_kernel_scanned", "pairs and event games scanned by the event kernel",
                   read=lambda: stats.kernel_scanned)  # fmt: skip
    registry.gauge("shard_kernel_flagged", "scanned pairs and games flagged for the exact walk",
                   read=lambda: stats.kernel_flagged)  # fmt: skip
    registry.gauge("shard_late_quotes", "quotes their venue's send time made too old on arrival",
                   read=lambda: stats.late_quotes)  # fmt: skip
    registry.gauge("shard_lagging", "1 while the process lags (no new signal)",
                   read=lambda: int(engine.lagging))  # fmt: skip
    registry.gauge("shard_lag_episodes", "process-lag episodes",
                   read=lambda: stats.lag_episodes)  # fmt: skip
    registry.gauge("shard_lag_held", "signals held back while the process lagged",
                   read=lambda: stats.lag_held)  # fmt: skip

    def of_sources(name: str) -> Callable[[], float]:
        def value() -> float:
            return sum(getattr(s, name, 0) for s in shard.sources.values())

        return value

    registry.gauge("shard_source_gaps", "bus streams found incomplete (quotes marked stale)",
                   read=of_sources("gaps"))  # fmt: skip
    registry.gauge("shard_source_reloads", "latest-price reloads after a gap",
                   read=of_sources("reloads"))  # fmt: skip
    registry.gauge("shard_source_read_errors", "bus reads a source failed on (stale, reloaded)",
                   read=of_sources("read_errors"))  # fmt: skip
    registry.gauge("shard_source_rejected", "malformed updates distrusted (marked stale)",
                   read=of_sources("rejected_updates"))  # fmt: skip


def paper_gauges(registry: Registry, ledger: PaperLedger) -> None:
    """The paper ledger's fills, P&L, exposure and mutes."""
    stats = ledger.stats
    registry.gauge("paper_fills", "paper fills", read=lambda: stats.fills)
    registry.gauge("paper_pnl_dollars", "paper P&L (display only)",
                   read=lambda: to_float(ledger.pnl()))  # fmt: skip
    registry.gauge("paper_exposure_dollars", "paper exposure (display only)",
                   read=lambda: to_float(ledger.exposure()))  # fmt: skip
    registry.gauge(
        "paper_muted",
        "signals muted by paper risk limits",
        read=lambda: stats.muted_pair_contracts + stats.muted_exposure + stats.muted_daily_loss,
    )
    registry.gauge("paper_leg_risk", "one-legged paper fills", read=lambda: stats.leg_risk)


def latency_metrics(registry: Registry) -> Callable[[ArbSignal], None]:
    """Histograms of each opening/updating signal's hops, in microseconds."""
    detect = registry.histogram(
        "shard_detect_latency_us", "shard receive of the triggering update -> signal publish"
    )
    monitor_to_signal = registry.histogram(
        "monitor_to_signal_latency_us", "Polymarket receive at the monitor -> signal publish"
    )

    def observe(signal: ArbSignal) -> None:
        if signal.event == "close":
            return
        if signal.bus_recv_ns:
            detect.observe((signal.published_ns - signal.bus_recv_ns) / 1000)
        if signal.monitor_recv_ns:
            monitor_to_signal.observe((signal.published_ns - signal.monitor_recv_ns) / 1000)

    return observe


def game_state_gauges(
    registry: Registry, prefix: str, relay: GameStateRelay, counters: dict[str, str]
) -> None:
    """A game-state relay's counters and those of its running feed (``counters``: the
    feed's counter names to expose, with their help), read at scrape time."""
    registry.gauge(f"{prefix}_published", "game states published",
                   read=lambda: relay.stats.published)  # fmt: skip
    registry.gauge(f"{prefix}_publish_errors", "game states the bus refused",
                   read=lambda: relay.stats.publish_errors)  # fmt: skip
    for name, text in counters.items():
        registry.gauge(f"{prefix}_{name}", text, read=partial(_feed_counter, relay, name))


def _feed_counter(relay: GameStateRelay, name: str) -> float:
    feed = relay.feed
    return float(feed.counters().get(name, 0)) if feed is not None else 0.0
