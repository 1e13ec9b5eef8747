"""The game shard: Kalshi direct, Polymarket from the bus (or direct), signals out.

The shard owns the games the orchestrator assigns to it. It subscribes the Kalshi markets of
those games on its own (low-latency, never through the VPN) and reads the Polymarket side
from a :class:`~arbees.services.sources.QuoteSource` — the monitor's bus stream by default,
or its own feed on rollback. Every quote goes through the
:class:`~arbees.services.shard_engine.ShardEngine`, and what comes out is published as
:class:`~arbees.messages.ArbSignal` on ``arbees:signals`` (and, with a paper ledger, filled
on paper).

Game state: the shard reads ``arbees:game_states`` (each venue's
:class:`~arbees.messages.GameState` reports), keeps the latest per (venue, key) in a
:class:`~arbees.gamestate.GameStates` and gives the engine each game's folded state, the
game known by its assignment's ``game_keys``: a live game's quotes age out sooner, an
ended, postponed or cancelled one closes its signals for good (see
:meth:`~arbees.services.shard_engine.ShardEngine.set_game_state`). With a paper ledger, the
same folded state settles the game's positions
(:meth:`~arbees.paper.ledger.PaperLedger.settle_state`): postponed and cancelled by each
venue's rule at the last prices the shard's books showed
(:meth:`~arbees.services.shard_engine.ShardEngine.last_prices`), ended only by a winner
known without guessing (else they stay open, said in the paper summary).

Recording (``recorder``, the record-everything mode): every call that feeds the engine —
each batch of quotes, liveness, assignment, drop, game state and sweep — is recorded in
order (:meth:`arbees.recording.Recorder.engine`) with the engine's clock, which is held at
one wall-clock reading for the whole call, so ``arbees replay`` decides exactly what this
shard decided, whatever the feeds coalesced or batched under load.

Process lag (``lag_threshold``): a :class:`~arbees.lag.LagGuard` measures how late the
shard's scheduler wakes; while it is later than the threshold the engine opens no signal
and the books read meanwhile wait for a fresh confirmation
(:meth:`~arbees.services.shard_engine.ShardEngine.set_lagging`, recorded as an engine
call).

Readiness (``task_status.started()``): assignments loaded, every source running, heartbeats
flowing. Cancellation stops everything.

Isolation: each assignment is judged on its own. One the engine refuses (an unreadable fee,
beyond the game cap) or whose instruments a source refuses (e.g. a token id the direct
Polymarket feed rejects) is dropped, counted, logged once and alerted; every other game
keeps running. One bad stored record never stops the shard.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import attrs
import trio

from arbees.bus.base import Bus, Subscription
from arbees.codec import encode
from arbees.errors import ArbeesError, BusError, ConfigError
from arbees.gamestate import GameStates
from arbees.lag import LagGuard
from arbees.messages import (
    GAME_ASSIGNMENTS_HASH,
    ArbSignal,
    Channel,
    GameState,
    MarketAssignment,
    ServiceStatus,
    ShardHeartbeat,
    now_ms,
)
from arbees.money import format_fixed
from arbees.obs.health import run_heartbeat
from arbees.obs.throttle import ThrottledLog
from arbees.paper.trader import PaperTrader
from arbees.recording import Recorder
from arbees.services._assignments import apply_live, apply_stored
from arbees.services._rejections import Rejections, shorten
from arbees.services.quotes import Quote, quote_json
from arbees.services.shard_engine import AssignmentDelta, ShardEngine
from arbees.services.sources import Alive, QuoteSource, SourceItem

__all__ = ["GameShard", "ShardStats", "open_game_shard"]

log = logging.getLogger(__name__)

SERVICE = "shard"
MAX_BATCH = 1024
"""Most quotes one engine call takes: a longer item (a reload of every token) is taken in
calls of this many, in order (a recorded batch stays readable, see
:data:`arbees.recording.MAX_ENGINE_QUOTES`)."""


@attrs.define
class ShardStats:
    """Counters.

    Attributes:
        quotes: quotes processed.
        signals: signals published (open + update + close).
        publish_errors: signals the bus refused.
        assignments: assignment messages applied.
        rejected_assignments: assignments refused (unusable field, an instrument a source
            refused, beyond the game cap); each distinct one is alerted once.
        game_states: game-state reports received (newer than the one held).
    """

    quotes: int = 0
    signals: int = 0
    publish_errors: int = 0
    assignments: int = 0
    rejected_assignments: int = 0
    game_states: int = 0


class GameShard:
    """Detects arbitrage for the games assigned to ``engine.shard_id``.

    Args:
        bus: assignments in, signals/heartbeats out.
        engine: the decision core (carries the shard id and thresholds).
        kalshi: Kalshi quote source (a direct feed).
        polymarket: Polymarket quote source (bus or direct feed); ``None``: the shard reads
            no international Polymarket (a US-only deployment), and an assignment naming it
            is a counted refusal.
        others: the quote sources of further venues (e.g. Polymarket US, direct), each
            under its own venue id.
        on_signal: optional hook called with each signal before it is published.
        paper: optional paper trader: fills each signal on paper (``--paper``) against the
            engine's books at detection; run in the shard's nursery.
        heartbeat_interval: seconds between heartbeats to the orchestrator and health.
        sweep_interval: seconds between checks that close signals whose books aged out.
        capacity: games this shard is willing to take (0 = no limit), announced to the
            orchestrator.
        recorder: records the engine's every input (see the module doc); ``None``: not.
        lag_threshold: seconds the scheduler may wake late before the shard holds new
            signals (see the module doc); ``None``: no lag guard.
        lag_interval: seconds between the lag guard's wake-ups.
    """

    def __init__(
        self,
        bus: Bus,
        engine: ShardEngine,
        kalshi: QuoteSource,
        polymarket: QuoteSource | None,
        *,
        others: Sequence[QuoteSource] = (),
        on_signal: Callable[[ArbSignal], None] | None = None,
        paper: PaperTrader | None = None,
        heartbeat_interval: float = 1.0,
        sweep_interval: float = 0.1,
        capacity: int = 0,
        recorder: Recorder | None = None,
        lag_threshold: float | None = None,
        lag_interval: float = 0.05,
    ) -> None:
        self.bus = bus
        self.engine = engine
        self.kalshi = kalshi
        self.polymarket = polymarket
        every = [kalshi, *([] if polymarket is None else [polymarket]), *others]
        self.sources: dict[str, QuoteSource] = {source.venue: source for source in every}
        """Quote sources by venue id: an assignment's instruments go to their venue's."""
        if len(self.sources) != len(every):
            venues = ", ".join(source.venue for source in every)
            raise ConfigError(f"two quote sources for one venue: {venues[:80]}")
        self.on_signal = on_signal
        self.paper = paper
        self.heartbeat_interval = heartbeat_interval
        self.sweep_interval = sweep_interval
        self.capacity = capacity
        self.stats = ShardStats()
        self.rejections = Rejections(bus, "shard")
        self.started_ms = now_ms()
        self._running = False
        self.game_states = GameStates()
        """The latest report of each (venue, key) (see :mod:`arbees.gamestate`)."""
        self._game_keys: dict[str, dict[str, str]] = {}  # game -> venue -> key
        self._games_by_key: dict[tuple[str, str], set[str]] = {}
        self.recorder = recorder
        self._wall = engine.clock
        self._held: int | None = None  # the engine clock during a recorded call
        if recorder is not None:
            engine.clock = self._engine_clock
        self._late_log = ThrottledLog(log, "late quote", first=5, every=1000)
        self.lag_guard = (
            None
            if lag_threshold is None
            else LagGuard(self._on_lag, interval=lag_interval, threshold=lag_threshold)
        )

    def _engine_clock(self) -> int:
        return self._wall() if self._held is None else self._held

    def _call(self, call: str, fields: Callable[[], dict[str, Any]], run: Callable[[], Any]) -> Any:
        """``run()`` one engine call; recording, record it first with the clock it runs on
        (held for the whole call, so its replay reads the very same times)."""
        if self.recorder is None:
            return run()
        now = self._held = self._wall()
        try:
            self.recorder.engine(self.shard_id, call, now, fields())
            return run()
        finally:
            self._held = None

    @property
    def shard_id(self) -> str:
        return self.engine.shard_id

    def __repr__(self) -> str:
        return f"GameShard(id={self.shard_id!r}, games={self.engine.game_count()})"

    def status(self) -> ServiceStatus:
        return ServiceStatus(
            service=SERVICE,
            instance=self.shard_id,
            healthy=self._running,
            timestamp_ms=now_ms(),
            reason="" if self._running else "starting",
            details={
                "games": str(self.engine.game_count()),
                "signals": str(self.stats.signals),
                "quotes": str(self.stats.quotes),
                "open": str(len(self.engine.open_signals())),
                "rejected": str(self.stats.rejected_assignments),
                "game_states": str(self.stats.game_states),
                "halted": str(self.engine.stats.halted),
                "lagging": str(self.engine.lagging).lower(),
                **({"paper_pnl": format_fixed(self.paper.ledger.pnl())} if self.paper else {}),
            },
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with (
            trio.open_nursery() as nursery,
            self.bus.subscribe(Channel.MARKET_ASSIGNMENTS) as assignments,
            self.bus.subscribe(Channel.GAME_STATES) as game_states,
        ):
            if self.paper is not None:
                await nursery.start(self.paper.run)
            if self.recorder is not None:
                self._call("start", self._thresholds, lambda: None)
            await apply_stored(self.bus, GAME_ASSIGNMENTS_HASH, self._apply, self._refused_stored)
            for source in self.sources.values():
                await nursery.start(partial(source.run, self._take))
            if self.lag_guard is not None:
                await nursery.start(self.lag_guard.run)
            nursery.start_soon(apply_live, assignments, "kalshi", self._apply)
            nursery.start_soon(self._read_game_states, game_states)
            nursery.start_soon(self._sweep)
            await nursery.start(self._announce)
            await nursery.start(
                partial(
                    run_heartbeat,
                    self.bus,
                    self.status,
                    interval=self.heartbeat_interval,
                    ttl=max(10.0, 5 * self.heartbeat_interval),
                )
            )
            self._running = True
            log.info("shard %s ready with %d games", self.shard_id, self.engine.game_count())
            task_status.started()
            # Stay inside the subscription: leaving the block would close it and stop the
            # live assignments (the other tasks would keep the nursery open without them).
            await trio.sleep_forever()

    # -- assignments -------------------------------------------------------------------

    def _thresholds(self) -> dict[str, Any]:
        """The engine's decision thresholds, recorded at the start (text values)."""
        engine = self.engine
        return {
            "max_age_ns": str(engine.max_age_ns),
            "max_quote_age_ns": str(engine.max_quote_age_ns),
            "live_max_quote_age_ns": str(engine.live_max_quote_age_ns),
            "max_games": str(engine.max_games),
            "min_edge": str(engine.min_edge),
            "max_size": "" if engine.max_size is None else str(engine.max_size),
            "edge_delta": str(engine.edge_delta),
            "size_ratio": repr(float(engine.size_ratio)),
            "send_time_venues": ",".join(engine.send_time_venues),
        }

    async def _apply(self, assignment: MarketAssignment) -> None:
        delta: AssignmentDelta = self._call(
            "assign",
            lambda: {"assignment": encode(assignment).decode("utf-8")},
            lambda: self.engine.apply(assignment),
        )
        self.stats.assignments += 1
        game = assignment.game_id or assignment.market_id
        if delta.rejected:
            await self._refused(game, delta)
        try:
            await self._watch(delta)
        except ArbeesError as exc:
            # A source refused an instrument of this game: run the others without it.
            dropped = self._call("drop", lambda: {"game": game}, lambda: self.engine.drop(game))
            await self._watch(dropped, best_effort=True)
            await self._refused(game, AssignmentDelta(rejected=f"source refused it: {exc}"))
        running = game in self.engine.games or game in self.engine.events
        await self._key_game(game, assignment.game_keys if running else {})

    # -- game state --------------------------------------------------------------------

    async def _key_game(self, game: str, keys: dict[str, str]) -> None:
        """File a running game under its venues' keys and give the engine its state."""
        for item in self._game_keys.pop(game, {}).items():
            games = self._games_by_key.get(item)
            if games is not None:
                games.discard(game)
                if not games:
                    del self._games_by_key[item]
        if not keys:
            return
        self._game_keys[game] = dict(keys)
        for item in keys.items():
            self._games_by_key.setdefault(item, set()).add(game)
        state = self.game_states.state(keys)
        if state is not None:
            await self._game_state(game, state)

    async def _read_game_states(self, sub: Subscription) -> None:
        async for envelope in sub:
            message = envelope.message
            if isinstance(message, GameState):
                await self.on_game_state(message)

    async def on_game_state(self, report: GameState) -> None:
        """Take one venue's report: each game filed under its key gets its folded state."""
        if not self.game_states.report(report):
            return
        self.stats.game_states += 1
        for game in sorted(self._games_by_key.get((report.venue, report.key), ())):
            state = self.game_states.state(self._game_keys[game])
            if state is not None:
                await self._game_state(game, state)

    async def _game_state(self, game: str, state: GameState) -> None:
        """Give the engine a game's folded state (closing what it halts), then settle the
        paper ledger's positions of the game by it."""
        await self._publish(
            self._call(
                "game_state",
                lambda: {"game": game, "state": encode(state).decode("utf-8")},
                lambda: self.engine.set_game_state(game, state),
            )
        )
        if self.paper is None or not state.halted:
            return
        engine = self.engine
        try:
            self.paper.ledger.settle_state(
                game, state, engine.outcomes(game), engine.last_prices(game)
            )
        except Exception:  # paper is a side show: it must never stop the shard
            self.paper.errors += 1
            log.exception("paper: could not settle %s (%s)", game, state.phase)

    async def _watch(self, delta: AssignmentDelta, *, best_effort: bool = False) -> None:
        await self._publish(delta.signals)
        for venue, instruments in delta.remove.items():
            source = self.sources.get(venue)
            if source is not None and instruments:
                try:
                    await source.remove(instruments)
                except ArbeesError:
                    if not best_effort:
                        raise
        for venue, instruments in delta.add.items():
            source = self.sources.get(venue)
            if source is None:
                raise ConfigError(f"no quote source for venue {venue[:20]!r}")
            if instruments:
                await source.add(instruments)

    async def _refused_stored(self, game: str, why: str) -> None:
        self.stats.rejected_assignments += 1
        await self.rejections.reject("ASSIGNMENT_REJECTED", game, why)

    async def _refused(self, game: str, delta: AssignmentDelta) -> None:
        self.stats.rejected_assignments += 1
        if not delta.over_cap:
            await self.rejections.reject("ASSIGNMENT_REJECTED", game, delta.rejected)
            return
        text = (
            f"game cap reached ({delta.rejected}): refusing {shorten(game)} and further "
            "games; raise SHARD_MAX_GAMES or add a shard"
        )
        await self.rejections.once("SHARD_GAME_CAP", text)

    # -- quotes and signals ------------------------------------------------------------

    def _take(self, item: SourceItem) -> None:
        """A source's item, taken on the source's own task (for the bus source, the Redis
        reader's, in the socket read that brought it): no channel and no task switch
        between a read and the engine. A source's batch (a read's quotes) is one engine
        call, so the kernel scans the touched pairs once; a source's items keep their
        order, so the quotes before an :class:`Alive` are stored before it. The signals
        go out at once, without waiting (:meth:`_publish_now`)."""
        engine = self.engine
        if isinstance(item, Alive):
            signals = self._call(
                "alive",
                partial(_alive_fields, item),
                partial(engine.set_alive, item.venue, item.when_ns, item.healthy),
            )
        elif not isinstance(item, tuple):
            signals = self._quotes((item,))
        elif len(item) <= MAX_BATCH:
            signals = self._quotes(item)
        else:
            signals = []
            for start in range(0, len(item), MAX_BATCH):
                signals.extend(self._quotes(item[start : start + MAX_BATCH]))
        if signals:
            self._publish_now(signals)

    def _quotes(self, batch: Sequence[Quote]) -> list[ArbSignal]:
        self.stats.quotes += len(batch)
        late = self.engine.stats.late_quotes
        signals: list[ArbSignal] = self._call(
            "quotes",
            lambda: {"quotes": [quote_json(q) for q in batch]},
            lambda: self.engine.on_quotes(batch),
        )
        if self.engine.stats.late_quotes != late:
            self._late_log(
                "%d quote(s) arrived older than the price age limit by their venue's send "
                "time (waited in a buffer, or the venue is slow): not used until confirmed",
                self.engine.stats.late_quotes - late,
            )
        return signals

    async def _on_lag(self, lagging: bool, lag_s: float) -> None:
        """The lag guard's episode began (dated back to the wake-up before the late one)
        or ended: tell the engine, publish what it re-evaluated."""
        assert self.lag_guard is not None
        since = self._wall() - round((lag_s + self.lag_guard.interval) * 1e9)
        signals = self._call(
            "lag",
            lambda: {"lagging": lagging, "since_ns": since},
            partial(self.engine.set_lagging, lagging, since),
        )
        if signals:
            await self._publish(signals)

    async def _sweep(self) -> None:
        while True:
            await trio.sleep(self.sweep_interval)
            signals = self._call("sweep", dict, self.engine.sweep)
            if signals:
                await self._publish(signals)

    async def _publish(self, signals: Any) -> None:
        self._publish_now(signals)
        await trio.lowlevel.checkpoint()

    def _publish_now(self, signals: Any) -> None:
        """Stamp, paper-fill and publish each signal, queued for the bus without waiting
        (:meth:`~arbees.bus.base.Bus.publish_nowait`)."""
        for signal in signals:
            signal = attrs.evolve(signal, published_ns=time.time_ns())
            if self.paper is not None:
                self.paper.submit(signal)
            if self.on_signal is not None:
                self.on_signal(signal)
            self.bus.publish_nowait(Channel.SIGNALS, signal)
            self.stats.signals += 1
            log.info(
                "%s %s %s %s profit=%s size=%s",
                signal.event,
                signal.game_id,
                signal.team,
                signal.combo,
                signal.profit,
                signal.size,
            )

    async def _announce(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        started = False
        while True:
            heartbeat = ShardHeartbeat(
                shard_id=self.shard_id,
                timestamp_ms=now_ms(),
                games=tuple(self.engine.game_ids()),
                capacity=self.capacity,
                healthy=True,
                started_ms=self.started_ms,
            )
            try:
                await self.bus.publish(Channel.SHARD_HEARTBEATS, heartbeat)
            except BusError as exc:
                log.warning("heartbeat not sent: %s", exc)
            if not started:
                started = True
                task_status.started()
            await trio.sleep(self.heartbeat_interval)


def _alive_fields(item: Alive) -> dict[str, Any]:
    return {"venue": item.venue, "when_ns": item.when_ns, "healthy": item.healthy}


@asynccontextmanager
async def open_game_shard(
    bus: Bus, engine: ShardEngine, kalshi: QuoteSource, polymarket: QuoteSource, **kwargs: Any
) -> AsyncIterator[GameShard]:
    """Run a shard for the duration of the block (entered once it is ready)."""
    shard = GameShard(bus, engine, kalshi, polymarket, **kwargs)
    async with trio.open_nursery() as nursery:
        await nursery.start(shard.run)
        yield shard
        nursery.cancel_scope.cancel()
