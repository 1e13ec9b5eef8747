"""The orchestrator's knobs, counters and Prometheus series, apart from its logic.

Kept out of :mod:`arbees.services.orchestrator` so that file holds only the behaviour;
the stats object is the single source the health heartbeat, the logs and the metrics read.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import attrs

from arbees.obs.health import default_instance
from arbees.obs.metrics import Counter, Gauge, Registry

__all__ = ["SERVICE", "OrchestratorConfig", "OrchestratorMetrics", "OrchestratorStats"]

SERVICE = "orchestrator"


@attrs.frozen
class OrchestratorConfig:
    """Timing knobs (seconds) and matching settings.

    Attributes:
        discovery_interval: time between discoveries (env ``DISCOVERY_INTERVAL``).
        shard_timeout: a shard silent this long loses its games (env ``SHARD_TIMEOUT``).
        republish_interval: full-state republish period (delivery is at-most-once).
        check_interval: the reconciler's tick (shard expiry resolution).
        settle_delay: after start, wait this long for heartbeats before placing games, so a
            cold start does not pile everything on the first shard heard.
        start_window: the matcher's start-time tolerance.
        health_interval: health heartbeat period.
        health_ttl: health heartbeat time-to-live.
        unhealthy_after_failures: consecutive failed discoveries that make it unhealthy.
        instance: instance id for the health heartbeat.
        max_strays_per_heartbeat: games of one heartbeat considered for a stray unassign
            (the rest are counted and left for later heartbeats): one message listing
            thousands of games cannot trigger thousands of publishes.
        max_strays_per_round: stray unassigns published per reconcile round (the rest wait
            for the next rounds).
        max_shards: live shards at most; heartbeats of further new shard ids are refused
            (counted, alerted once), so forged ids cannot spread the games over phantoms.
    """

    discovery_interval: float = 300.0
    shard_timeout: float = 30.0
    republish_interval: float = 5.0
    check_interval: float = 1.0
    settle_delay: float = 3.0
    start_window: timedelta = timedelta(hours=3)
    health_interval: float = 2.0
    health_ttl: float = 10.0
    unhealthy_after_failures: int = 3
    max_strays_per_heartbeat: int = 16
    max_strays_per_round: int = 32
    max_shards: int = 64
    instance: str = attrs.field(factory=default_instance)


@attrs.define
class OrchestratorStats:
    """Counters (monotonic) and current figures of one orchestrator.

    Attributes:
        discoveries: successful discoveries.
        discovery_failures: failed discoveries (venue down, bad body).
        consecutive_failures: failures since the last success.
        matched: games matched by the last discovery.
        rejections: rejections of the last discovery, by reason.
        fee_defaults: matched games with a fee model that is a venue's default.
        games: games currently known.
        unowned: games currently waiting for a shard.
        shards_live: live shards.
        heartbeats: heartbeats accepted.
        heartbeats_rejected: heartbeats refused (empty shard id, wrong type, beyond
            ``max_shards``).
        assigned: games given to a shard that had no owner.
        moves: games moved away from a live shard (rebalance).
        reassigned: games taken from a dead shard.
        retired: games removed (closed, settled, gone from the venues).
        unassigns_sent: unassign messages published.
        assigns_sent: assign messages published (including republishing).
        stray_unassigns: unassigns sent to a shard running a game it does not own.
        strays_deferred: stray games of a heartbeat beyond ``max_strays_per_heartbeat``, or
            already unassigned within the republish interval (not acted on for now).
        shard_restarts: restarts seen (new ``started_ms``).
        shards_expired: shards declared dead.
        bus_errors: reconcile rounds cut short by the bus (retried on the next tick).
        restored: games restored from the hashes at start-up.
        dropped_stored: stored hash entries that were inconsistent and removed.
    """

    discoveries: int = 0
    discovery_failures: int = 0
    consecutive_failures: int = 0
    matched: int = 0
    rejections: dict[str, int] = attrs.field(factory=dict)
    fee_defaults: int = 0
    games: int = 0
    unowned: int = 0
    shards_live: int = 0
    heartbeats: int = 0
    heartbeats_rejected: int = 0
    assigned: int = 0
    moves: int = 0
    reassigned: int = 0
    retired: int = 0
    unassigns_sent: int = 0
    assigns_sent: int = 0
    stray_unassigns: int = 0
    strays_deferred: int = 0
    shard_restarts: int = 0
    shards_expired: int = 0
    bus_errors: int = 0
    restored: int = 0
    dropped_stored: int = 0


_GAUGES = (
    ("orchestrator_games", "games", "games known"),
    ("orchestrator_games_matched", "matched", "games matched by the last discovery"),
    ("orchestrator_games_unowned", "unowned", "games waiting for a shard"),
    ("orchestrator_shards_live", "shards_live", "live shards"),
)
_COUNTERS = (
    ("orchestrator_discoveries_total", "discoveries", "successful discoveries"),
    ("orchestrator_discovery_failures_total", "discovery_failures", "failed discoveries"),
    ("orchestrator_moves_total", "moves", "games moved between live shards"),
    ("orchestrator_reassigned_total", "reassigned", "games taken from dead shards"),
    ("orchestrator_assigned_total", "assigned", "unowned games given to a shard"),
    ("orchestrator_retired_total", "retired", "games retired"),
    ("orchestrator_assignments_sent_total", "assigns_sent", "assign messages published"),
    ("orchestrator_unassignments_sent_total", "unassigns_sent", "unassign messages published"),
    ("orchestrator_heartbeats_rejected_total", "heartbeats_rejected", "bad heartbeats"),
    ("orchestrator_shards_expired_total", "shards_expired", "shards declared dead"),
)


def _read(stats: OrchestratorStats, attr: str) -> float:
    return float(getattr(stats, attr))


class OrchestratorMetrics:
    """The orchestrator's series in a :class:`Registry`, fed from its stats object."""

    def __init__(self, registry: Registry, stats: OrchestratorStats) -> None:
        self.stats = stats
        for name, attr, help_text in _GAUGES:
            registry.gauge(name, help_text, read=partial(_read, stats, attr))
        self.counters: dict[str, Counter] = {
            attr: registry.counter(name, help_text) for name, attr, help_text in _COUNTERS
        }
        self.rejections: Gauge = registry.gauge(
            "orchestrator_rejections", "rejections of the last discovery, by reason", ("reason",)
        )

    def sync(self) -> None:
        """Copy the stats into the series (counters only grow: the stats only grow)."""
        for attr, counter in self.counters.items():
            counter.values[()] = _read(self.stats, attr)
        self.rejections.values = {(k,): float(v) for k, v in self.stats.rejections.items()}
