"""The Orchestrator: discover matched games, hand each to one live shard, keep it that way.

Three tasks share one state; only the reconcile task publishes, so the order of the
messages on :data:`~arbees.messages.Channel.MARKET_ASSIGNMENTS` is the order of decisions:

* the heartbeat listener records :class:`~arbees.messages.ShardHeartbeat` s (new shards,
  restarts, games a shard runs but does not own) and wakes the reconciler;
* the discovery loop asks the :class:`~arbees.services.discovery.GameSource` every
  ``discovery_interval``; a failure is logged, alerted and counted, and changes nothing;
* the reconciler expires silent shards, applies the latest discovery (new games, retired
  ones), rebalances (:func:`~arbees.services.assignment.rebalance`) and publishes.

Delivery on the bus is at-most-once, so the state also lives in the bus hashes
(:data:`GAME_ASSIGNMENTS_HASH` per game, :data:`TOKEN_ASSIGNMENTS_HASH` per Polymarket
token) and the full state is republished every ``republish_interval``: a restarted
orchestrator, monitor or shard converges to the same assignments. A game never has two
owners: on a move the old owner's ``unassign`` is published before the new owner's
``assign``, and the hash field is overwritten, never duplicated. Epochs are
``max(previous + 1, now_ms)``: they increase on every owner change and stay monotonic
across orchestrator restarts without any stored counter.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import trio

from arbees.bus.base import Bus, Subscription
from arbees.errors import BusError, ConfigError, DecodeError
from arbees.identifiers import INSTRUMENT_CHECKS, InstrumentChecks
from arbees.messages import (
    GAME_ASSIGNMENTS_HASH,
    TOKEN_ASSIGNMENTS_HASH,
    Channel,
    MarketAssignment,
    ServiceStatus,
    ShardHeartbeat,
    SystemAlert,
    now_ms,
)
from arbees.obs.health import run_heartbeat
from arbees.obs.metrics import Registry
from arbees.services._rejections import Rejections, shorten
from arbees.services.assignment import ShardTable, changes, rebalance
from arbees.services.discovery import Discovery, GameSource, GameSpec, discover_games
from arbees.services.orchestrator_config import (
    SERVICE,
    OrchestratorConfig,
    OrchestratorMetrics,
    OrchestratorStats,
)
from arbees.services.shard_engine import fees_for

__all__ = ["Orchestrator", "OrchestratorConfig", "OrchestratorStats", "open_orchestrator"]

log = logging.getLogger(__name__)


class Orchestrator:
    """Assigns matched games to shards over the bus (see the module docstring).

    Args:
        bus: the bus (assignments, heartbeats, hashes, health).
        source: where games come from.
        config: timing knobs.
        registry: Prometheus registry to register metrics in (optional).
        instrument_checks: each venue's instrument-id check, by venue id (the wiring
            passes the registered venues'): a stored assignment naming an instrument its
            venue refuses is never restored.
    """

    def __init__(
        self,
        bus: Bus,
        source: GameSource,
        config: OrchestratorConfig | None = None,
        *,
        registry: Registry | None = None,
        instrument_checks: InstrumentChecks = INSTRUMENT_CHECKS,
    ) -> None:
        self.bus = bus
        self.instrument_checks = instrument_checks
        self.source = source
        self.config = config or OrchestratorConfig()
        self.stats = OrchestratorStats()
        self.games: dict[str, GameSpec] = {}
        self.owners: dict[str, str | None] = {}
        self.epochs: dict[str, int] = {}
        self.shards = ShardTable()
        self._pending: Discovery | None = None
        self._strays: set[tuple[str, str]] = set()
        self._stray_sent: dict[tuple[str, str], float] = {}
        self._rejections = Rejections(bus, SERVICE)
        self._resend: set[str] = set()
        self._wake = trio.Event()
        self._settle_until = 0.0
        self._next_republish = 0.0
        self._waiting_alerted = False
        self._metrics: OrchestratorMetrics | None = None
        if registry is not None:
            self._register(registry)

    def __repr__(self) -> str:
        return (
            f"<Orchestrator games={len(self.games)} shards={len(self.shards)} "
            f"unowned={self.stats.unowned}>"
        )

    # ------------------------------------------------------------------ lifecycle
    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run until cancelled; ``started`` once subscribed, restored and discovered once."""
        cfg = self.config
        async with self.bus.subscribe(Channel.SHARD_HEARTBEATS) as heartbeats:
            self._settle_until = trio.current_time() + cfg.settle_delay
            await self._load()
            await self._discover_once()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._listen, heartbeats)
                await nursery.start(self._reconcile_loop)
                await nursery.start(
                    partial(
                        run_heartbeat,
                        self.bus,
                        self.status,
                        interval=cfg.health_interval,
                        ttl=cfg.health_ttl,
                    )
                )
                nursery.start_soon(self._discovery_loop)
                log.info(
                    "orchestrator %s ready: %d games, discovery every %ss, shard timeout %ss",
                    cfg.instance,
                    len(self.games),
                    cfg.discovery_interval,
                    cfg.shard_timeout,
                )
                task_status.started()

    def status(self) -> ServiceStatus:
        """The health heartbeat: unhealthy after repeated discovery failures."""
        s = self.stats
        failing = s.consecutive_failures >= self.config.unhealthy_after_failures
        reason = f"discovery failed {s.consecutive_failures} times in a row" if failing else ""
        details = {
            "games": str(s.games),
            "unowned": str(s.unowned),
            "shards_live": str(s.shards_live),
            "moves": str(s.moves),
            "discovery_failures": str(s.discovery_failures),
        }
        return ServiceStatus(SERVICE, self.config.instance, not failing, now_ms(), reason, details)

    def loads(self) -> dict[str, int]:
        """Games per live shard (for reports and tests)."""
        out = dict.fromkeys(self.shards.capacities(), 0)
        for owner in self.owners.values():
            if owner is not None:
                out[owner] = out.get(owner, 0) + 1
        return out

    def wake(self) -> None:
        """Ask for a reconcile round now (instead of at the next tick)."""
        self._wake.set()

    # ------------------------------------------------------------------ restore
    async def _load(self) -> None:
        stored = await self.bus.hgetall(GAME_ASSIGNMENTS_HASH)
        tokens = await self.bus.hgetall(TOKEN_ASSIGNMENTS_HASH)
        conditions: dict[str, str] = {}
        token_markets: dict[str, dict[str, str]] = {}
        for msg in tokens.values():
            if isinstance(msg, MarketAssignment) and msg.platform == "polymarket":
                conditions[msg.game_id] = msg.market_id
                token_markets.setdefault(msg.game_id, {})[msg.token_id] = msg.market_id
        now = trio.current_time()
        bad_games: list[str] = []
        for field, msg in sorted(stored.items()):
            ok = (
                isinstance(msg, MarketAssignment)
                and msg.game_id == field
                and msg.action == "assign"
                and bool(msg.shard_id)
                and conditions.get(field)
            )
            if not ok or not isinstance(msg, MarketAssignment):
                bad_games.append(field)
                continue
            try:
                spec = GameSpec.from_assignment(
                    msg, conditions[field], token_markets.get(field, {})
                )
                # What a shard or the monitor would refuse is never restored and republished
                # (it would also outlive every Redis restart): the next discovery rebuilds it.
                fees_for(msg)
                for venue, instruments in spec.venue_instruments().items():
                    accepts = self.instrument_checks[venue]
                    if not all(accepts(i) for i in instruments):
                        raise DecodeError(f"an instrument {venue} refuses", field=venue)
            except (DecodeError, ConfigError) as exc:
                log.warning("stored assignment %.100s unusable: %s", field, exc)
                bad_games.append(field)
                continue
            self.games[field] = spec
            self.owners[field] = msg.shard_id
            self.epochs[field] = msg.epoch
            self.shards.presume(msg.shard_id, now)
        expected = {
            token: self.owners[g] for g, spec in self.games.items() for token in spec.tokens
        }
        bad_tokens = [
            t
            for t, msg in tokens.items()
            if not isinstance(msg, MarketAssignment) or expected.get(t) != msg.shard_id
        ]
        if bad_games:
            await self.bus.hdel(GAME_ASSIGNMENTS_HASH, *bad_games)
        if bad_tokens:
            await self.bus.hdel(TOKEN_ASSIGNMENTS_HASH, *bad_tokens)
        self.stats.dropped_stored += len(bad_games) + len(bad_tokens)
        self.stats.restored = len(self.games)
        if bad_games or bad_tokens:
            log.warning(
                "dropped %d inconsistent stored game and %d token assignments",
                len(bad_games),
                len(bad_tokens),
            )
        if self.games:
            log.info("restored %d assignments over %d shards", len(self.games), len(self.shards))
        self._update_figures()

    # ------------------------------------------------------------------ discovery
    async def _discovery_loop(self) -> None:
        while True:
            await trio.sleep(self.config.discovery_interval)
            await self._discover_once()

    async def _discover_once(self) -> None:
        try:
            inputs = await self.source.discover()
            found = discover_games(inputs, start_window=self.config.start_window)
        except Exception as exc:  # a discovery failure is never fatal: keep the state
            s = self.stats
            s.discovery_failures += 1
            s.consecutive_failures += 1
            log.warning(
                "discovery failed (%d in a row), keeping %d assignments: %s: %s",
                s.consecutive_failures,
                len(self.games),
                type(exc).__name__,
                exc,
            )
            await self._alert(
                "ORCHESTRATOR_DISCOVERY_FAILED",
                f"{type(exc).__name__}: {exc}",
                {"consecutive": str(s.consecutive_failures)},
            )
            return
        s = self.stats
        s.discoveries += 1
        s.consecutive_failures = 0
        s.matched = len(found.games)
        s.rejections = found.report.rejection_counts()
        s.fee_defaults += found.fee_defaults
        log.info(
            "discovery: %d matched, %d rejected %s",
            len(found.games),
            len(found.report.rejections),
            s.rejections,
        )
        if found.events is not None:
            counts = found.events.counts()
            log.info(
                "discovery events: %s", {f"{lg}/{kind}": c for (lg, kind), c in counts.items()}
            )
        self._pending = found
        self._sync_metrics()
        self._wake.set()

    # ------------------------------------------------------------------ heartbeats
    async def _listen(self, sub: Subscription) -> None:
        async for envelope in sub:
            hb = envelope.message
            if not isinstance(hb, ShardHeartbeat) or not hb.shard_id.strip():
                self.stats.heartbeats_rejected += 1
                log.warning("ignoring bad heartbeat: %.120r", hb)
                continue
            if hb.shard_id not in self.shards and len(self.shards) >= self.config.max_shards:
                self.stats.heartbeats_rejected += 1
                await self._rejections.once(
                    "ORCHESTRATOR_SHARD_CAP",
                    f"{self.config.max_shards} shards live: ignoring new shard "
                    f"{shorten(hb.shard_id)} and further ones (raise the cap or find the source)",
                )
                continue
            self.stats.heartbeats += 1
            kind = self.shards.seen(
                hb.shard_id,
                trio.current_time(),
                started_ms=hb.started_ms,
                capacity=hb.capacity,
                healthy=hb.healthy,
                games=hb.games,
            )
            if kind != "alive":
                if kind == "restarted":
                    self.stats.shard_restarts += 1
                log.info("shard %s %s (capacity %d)", hb.shard_id, kind, hb.capacity)
                self._resend.add(hb.shard_id)
                self._wake.set()
            self._note_strays(hb.shard_id, hb.games)

    def _note_strays(self, shard: str, games: tuple[str, ...]) -> None:
        """Queue unassigns for games ``shard`` runs without owning them, boundedly.

        At most ``max_strays_per_heartbeat`` new ones per heartbeat, none for a pair already
        queued or unassigned within the republish interval (a shard still listing the game
        after that gets it again: delivery is at-most-once), and the queue itself is capped.
        """
        cfg = self.config
        now = trio.current_time()
        taken = 0
        for game in games:
            if self.owners.get(game) == shard:
                continue
            pair = (shard, game)
            sent = self._stray_sent.get(pair)
            recent = sent is not None and now - sent < cfg.republish_interval
            full = len(self._strays) >= 4 * cfg.max_strays_per_round
            if pair in self._strays:
                continue
            if recent or full or taken >= cfg.max_strays_per_heartbeat:
                self.stats.strays_deferred += 1
                continue
            taken += 1
            self._strays.add(pair)
        if taken:
            self._wake.set()

    # ------------------------------------------------------------------ reconcile
    async def _reconcile_loop(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        task_status.started()
        while True:
            with trio.move_on_after(self.config.check_interval):
                await self._wake.wait()
            self._wake = trio.Event()
            try:
                await self.reconcile()
            except BusError as exc:
                self.stats.bus_errors += 1
                log.warning("reconcile interrupted by the bus, retrying: %s", exc)

    async def reconcile(self) -> None:
        """One round: expire, apply discovery, rebalance, publish (only task that publishes)."""
        now = trio.current_time()
        for shard in self.shards.expire(now, self.config.shard_timeout):
            self.stats.shards_expired += 1
            held = sorted(g for g, o in self.owners.items() if o == shard)
            log.warning("shard %s timed out: %d games to reassign", shard, len(held))
        if self._pending is not None:
            found, self._pending = self._pending, None
            await self._apply_discovery(found)
        if now >= self._settle_until:
            await self._rebalance()
        await self._send_strays()
        for shard in sorted(self._resend):
            for game in sorted(g for g, o in self.owners.items() if o == shard):
                await self._publish_assign(game)
        self._resend.clear()
        if now >= self._next_republish:
            self._next_republish = now + self.config.republish_interval
            for game, owner in sorted(self.owners.items()):
                if owner is not None:
                    await self._publish_assign(game)
        self._update_figures()
        await self._report_waiting()

    async def _apply_discovery(self, found: Discovery) -> None:
        for game in sorted(self.games):
            new = found.games.get(game)
            if new is None and self.games[game].kalshi_event_ticker.startswith(
                found.unavailable or ("\0",)
            ):
                continue  # its series failed this round: kept as it is
            if new is None or new.instruments() != self.games[game].instruments():
                await self._retire(game, "gone" if new is None else "instruments changed")
        for game, spec in sorted(found.games.items()):
            old = self.games.get(game)
            self.games[game] = spec
            if old is None:
                self.owners[game] = None
            elif old != spec and self.owners.get(game) is not None:
                await self._publish_assign(game)  # same owner, new fees/start time

    async def _retire(self, game: str, why: str) -> None:
        owner = self.owners.pop(game, None)
        spec = self.games.pop(game)
        epoch = self._next_epoch(game)
        self.epochs.pop(game, None)
        self.stats.retired += 1
        log.info("retiring %s (%s), owner %s", game, why, owner)
        # The stored state first, then the announcement: whoever reacts to the unassign
        # (or restarts meanwhile and restores from the hashes) must not find the game still
        # owned. A queued publish can reach the shards before a later HDEL is applied.
        await self._forget(spec)
        if owner is not None:
            await self._publish_unassign(spec, owner, epoch)

    async def _forget(self, spec: GameSpec) -> None:
        await self.bus.hdel(GAME_ASSIGNMENTS_HASH, spec.game_id)
        await self.bus.hdel(TOKEN_ASSIGNMENTS_HASH, *spec.tokens)

    async def _rebalance(self) -> None:
        live = self.shards.capacities()
        plan = rebalance(self.owners, live)
        for change in changes(self.owners, plan):
            game = change.game_id
            spec = self.games[game]
            epoch = self._next_epoch(game)
            self.owners[game] = change.new
            self.epochs[game] = epoch
            if change.new is None:
                await self._forget(spec)  # before the unassign, as in _retire
            if change.old is not None:
                await self._publish_unassign(spec, change.old, epoch)
                if change.new is not None and change.old in live:
                    self.stats.moves += 1
                elif change.new is not None:
                    self.stats.reassigned += 1
            elif change.new is not None:
                self.stats.assigned += 1
            if change.new is None:
                log.info("%s waits for a shard (was %s)", game, change.old)
            else:
                await self._publish_assign(game)
                log.info("%s -> %s (was %s, epoch %d)", game, change.new, change.old, epoch)

    async def _send_strays(self) -> None:
        cfg = self.config
        strays = sorted(self._strays)[: cfg.max_strays_per_round]
        self._strays.difference_update(strays)
        if self._strays:
            self._wake.set()  # the rest in the next rounds
        now = trio.current_time()
        expired = [p for p, t in self._stray_sent.items() if now - t >= cfg.republish_interval]
        for pair in expired:
            del self._stray_sent[pair]  # only recent ones matter: the memory stays bounded
        for shard, game in strays:
            if self.owners.get(game) == shard:
                continue
            self._stray_sent[(shard, game)] = now
            self.stats.stray_unassigns += 1
            spec = self.games.get(game)
            log.info("shard %s runs %s which it does not own: unassigning", shard, game)
            if spec is None:
                msg = MarketAssignment(
                    platform="kalshi",
                    market_id=game,
                    token_id="",
                    shard_id=shard,
                    sport="",
                    game_id=game,
                    action="unassign",
                    epoch=now_ms(),
                    timestamp_ms=now_ms(),
                )
                await self.bus.publish(Channel.MARKET_ASSIGNMENTS, msg)
                self.stats.unassigns_sent += 1
            else:
                await self._publish_unassign(spec, shard, self.epochs.get(game, now_ms()), True)

    # ------------------------------------------------------------------ publishing
    def _next_epoch(self, game: str) -> int:
        return max(self.epochs.get(game, 0) + 1, now_ms())

    async def _publish_unassign(
        self, spec: GameSpec, shard: str, epoch: int, shard_only: bool = False
    ) -> None:
        ts = now_ms()
        messages = [spec.shard_assignment(shard, action="unassign", epoch=epoch, timestamp_ms=ts)]
        if not shard_only:
            messages += spec.monitor_assignments(
                shard, action="unassign", epoch=epoch, timestamp_ms=ts
            )
        for msg in messages:
            await self.bus.publish(Channel.MARKET_ASSIGNMENTS, msg)
        self.stats.unassigns_sent += len(messages)

    async def _publish_assign(self, game: str) -> None:
        owner = self.owners.get(game)
        if owner is None:
            return
        spec = self.games[game]
        epoch = self.epochs.setdefault(game, self._next_epoch(game))
        ts = now_ms()
        shard_msg = spec.shard_assignment(owner, action="assign", epoch=epoch, timestamp_ms=ts)
        await self.bus.publish_and_hset(
            Channel.MARKET_ASSIGNMENTS, shard_msg, GAME_ASSIGNMENTS_HASH, game
        )
        for msg in spec.monitor_assignments(owner, action="assign", epoch=epoch, timestamp_ms=ts):
            await self.bus.publish_and_hset(
                Channel.MARKET_ASSIGNMENTS, msg, TOKEN_ASSIGNMENTS_HASH, msg.token_id
            )
        self.stats.assigns_sent += 1 + len(spec.tokens)

    async def _alert(self, kind: str, error: str, details: dict[str, str]) -> None:
        alert = SystemAlert(kind, SERVICE, error[:300], now_ms(), "warning", details)
        try:
            await self.bus.publish(Channel.SYSTEM_ALERTS, alert)
        except BusError as exc:
            log.warning("could not publish alert %s: %s", kind, exc)

    async def _report_waiting(self) -> None:
        waiting = self.stats.unowned
        if waiting and not self._waiting_alerted and trio.current_time() >= self._settle_until:
            self._waiting_alerted = True
            log.warning("%d games wait for a shard (%d live)", waiting, len(self.shards))
            await self._alert(
                "ORCHESTRATOR_GAMES_UNASSIGNED",
                f"{waiting} games wait for a shard",
                {"games": str(waiting), "shards_live": str(len(self.shards))},
            )
        elif not waiting:
            self._waiting_alerted = False

    def _update_figures(self) -> None:
        s = self.stats
        s.games = len(self.games)
        s.unowned = sum(1 for o in self.owners.values() if o is None)
        s.shards_live = len(self.shards)
        self._sync_metrics()

    # ------------------------------------------------------------------ metrics
    def _register(self, registry: Registry) -> None:
        self._metrics = OrchestratorMetrics(registry, self.stats)

    def _sync_metrics(self) -> None:
        if self._metrics is not None:
            self._metrics.sync()


@asynccontextmanager
async def open_orchestrator(
    bus: Bus,
    source: GameSource,
    config: OrchestratorConfig | None = None,
    *,
    registry: Registry | None = None,
) -> AsyncIterator[Orchestrator]:
    """Run an :class:`Orchestrator` for the duration of the block (ready on entry)."""
    orchestrator = Orchestrator(bus, source, config, registry=registry)
    async with trio.open_nursery() as nursery:
        await nursery.start(orchestrator.run)
        yield orchestrator
        nursery.cancel_scope.cancel()
