"""Replay recordings through the venue protocols, the shard engine and the paper ledger.

``arbees replay`` is its command-line face. The inputs are recordings made by ``arbees
record`` (a venue's frames, or everything a shard or monitor saw: frames tagged with their
venue and the shard assignments) or plain files of raw frames, one per line. Their records
are merged in time order (receive times; a raw frame without one is timed by the venue's
own timestamp when it has one, else by the record before it in its file) and played:

* each frame through its venue's own protocol (:data:`REPLAYERS`: the sans-io replayers
  of :mod:`arbees.kalshi.replay`, :mod:`arbees.polymarket.replay` and
  :mod:`arbees.polymarket_us.replay`; one per venue and
  recording source, as each live service had its own connections), into the very
  updates the live feed hands out, turned into quotes by the venue's ``quote``;
* the quotes into one :class:`~arbees.services.shard_engine.ShardEngine` per shard id the
  assignments name (so signal ids are the live shards' own), each assignment applied to
  every engine, as every live shard sees every assignment; each engine decides with its
  shard's recorded settings unless :class:`ReplaySettings` overrides them;
* each recorded game-state report folded per game (:class:`arbees.gamestate.GameStates`,
  each game filed under its assignment's ``game_keys``) into its engine, as the shard
  does: a live game tightens the price age, an ended or postponed one closes for good;
* each signal, with ``--paper``, into a :class:`~arbees.paper.PaperLedger`.

A shard that recorded its engine's inputs (:mod:`arbees.recording`: the record-everything
mode of ``arbees record shard`` and the demo's ``--record``) is replayed from those instead,
exactly: its engine is rebuilt with the recorded thresholds at its ``start`` record and
given every recorded call (each batch of quotes as the live shard took it, liveness,
assignments, drops, folded game states, sweeps) at the engine clock that call ran on, so
it decides what the live shard decided, whatever the load was. The frames are needed for
the other shards only: under load a live shard does not see every frame's book (its feeds
and the monitor coalesce to the newest view, it takes the queued quotes as one batch, its
sweeps run on the wall clock), and replaying every frame would show it books it never saw.
:attr:`ReplaySettings.frames_only` ignores the engine inputs (every shard from its frames).

Deterministic: the engines', the ledger's and the signals' clock is the recorded receive
time of the record being played, never the wall clock; each frame of a venue confirms that
venue live as of its receive time (everything before it has been played) to the shard that
received it (a frame recorded by a shard) or to every shard (the monitor's, an untagged
one), and the sweep
that closes aged-out signals runs at every ``sweep_interval`` of recorded time. The same
input gives the same output, whatever ``speed``.
"""

from __future__ import annotations

import heapq
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, Protocol

import attrs
import trio

from arbees._wire import DecodeLimits
from arbees.codec import decode
from arbees.errors import ConfigError, DecodeError
from arbees.gamestate import GameStates
from arbees.kalshi.replay import KalshiReplayer
from arbees.messages import PUBLISHED_DEPTH, ArbSignal, GameState, MarketAssignment
from arbees.money import Fixed, format_fixed, parse_fixed
from arbees.paper import PaperLedger
from arbees.paper.model import PendingFill
from arbees.polymarket.replay import PolymarketReplayer
from arbees.polymarket_us.replay import PolymarketUsReplayer
from arbees.recording import MAX_ENGINE_QUOTES, Record, read_records
from arbees.services.quotes import MAX_QUOTE_LEVELS, Quote, quote_from_json
from arbees.services.shard_engine import SEND_TIME_VENUES, ShardEngine
from arbees.venues import get_venue, instrument_checks

__all__ = [
    "REPLAYERS",
    "Replay",
    "ReplayInput",
    "ReplayResult",
    "ReplaySettings",
    "Replayer",
    "Window",
    "merged_records",
    "read_assignments",
    "recognise_venue",
    "run_replay",
    "signal_dict",
    "venue_time_ns",
]


class Replayer(Protocol):
    """A venue's sans-io replayer: recorded frames in, its feed's updates out."""

    venue: str

    def frame(self, text: str, recv_ns: int) -> Sequence[Any]: ...

    def rejected(self) -> int: ...


REPLAYERS: dict[str, Callable[[], Replayer]] = {
    "kalshi": KalshiReplayer,
    "polymarket": PolymarketReplayer,
    "polymarket-us": PolymarketUsReplayer,
}
"""Each replayable venue's replayer factory, by venue id."""

_KALSHI_TYPES = frozenset(
    {
        "orderbook_snapshot",
        "orderbook_delta",
        "ticker",
        "ticker_v2",
        "trade",
        "subscribed",
        "unsubscribed",
        "ok",
        "error",
        "list_subscriptions",
        "fill",
        "market_lifecycle_v2",
        "event_lifecycle",
    }
)


def recognise_venue(frame: str) -> str:
    """The venue a raw frame comes from, ``""`` when it cannot be told.

    Polymarket's market channel sends JSON arrays or objects with an ``event_type`` (and
    ``PONG``); Kalshi's objects carry a ``type`` of its own channel names and a ``sid``,
    ``id`` or ``msg``.
    """
    text = frame.strip()
    if text == "PONG":
        return "polymarket"
    try:
        value = json.loads(text)
    except ValueError:
        return ""
    if isinstance(value, list):
        return "polymarket"
    if not isinstance(value, dict):
        return ""
    if "event_type" in value or "asset_id" in value:
        return "polymarket"
    if value.get("type") in _KALSHI_TYPES and ({"sid", "id", "msg"} & value.keys()):
        return "kalshi"
    return ""


@attrs.frozen
class ReplayInput:
    """One file to replay.

    Attributes:
        path: a recording or a file of raw frames.
        venue: the venue of its untagged frames (``""``: recognised frame by frame).
    """

    path: str
    venue: str = ""


@attrs.frozen
class ReplaySettings:
    """The shard engines' and the paper ledger's settings for a replay.

    A decision setting left ``None`` is the recorded shard's (its settings record, see
    :mod:`arbees.recording`), else the shard's default; a value given here overrides the
    recording for every shard.

    Attributes:
        max_price_age_ms: the shard's ``MAX_PRICE_AGE_MS`` (default 2000).
        max_quote_age_s: the shard's ``MAX_QUOTE_AGE_S`` (default 600).
        min_edge: minimum profit per contract (micro-dollars; default 0).
        max_size: cap on contracts per signal (micro-units; default none).
        sweep_interval_ms: recorded time between sweeps that close aged-out signals
            (default 100; recorded: the shortest of the recorded shards').
        paper: fill every signal on a paper ledger.
        paper_latency_ms: the ledger's simulated latency (recorded time).
        frames_only: play every shard from its frames, even one whose engine inputs were
            recorded (which are then skipped).
    """

    max_price_age_ms: int | None = None
    max_quote_age_s: float | None = None
    min_edge: Fixed | None = None
    max_size: Fixed | None = None
    sweep_interval_ms: int | None = None
    paper: bool = False
    paper_latency_ms: int = 0
    frames_only: bool = False


_DEFAULTS: Final = {
    "max_price_age_ms": 2000,
    "max_quote_age_s": 600.0,
    "min_edge": 0,
    "max_size": None,
    "sweep_interval_ms": 100,
}
_DEFAULT_SWEEP_MS: Final = 100

CHECK_VIEWS: Final = 64
"""Views of each instrument kept from the frames for the cross-check of recorded quotes."""

_View = tuple[tuple[Any, ...], tuple[Any, ...]]


def _view(quote: Quote) -> _View:
    """What the cross-check compares: the ladders as deep as a bus quote carries."""
    return quote.yes_asks[:MAX_QUOTE_LEVELS], quote.no_asks[:MAX_QUOTE_LEVELS]


def _went_through(played: tuple[Any, ...], quoted: tuple[Any, ...]) -> bool:
    """Whether a quoted ladder is the played one: whole (a feed read directly), or its top
    :data:`PUBLISHED_DEPTH` levels (a book relayed over the bus, which carries no more)."""
    if played == quoted:
        return True
    return len(quoted) == PUBLISHED_DEPTH and played[:PUBLISHED_DEPTH] == quoted


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(text)
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise ValueError(text)
    return value


def _amount(text: str) -> Fixed | None:
    if not text:
        return None
    value = parse_fixed(text)
    if value < 0:
        raise ValueError(text)
    return value


_PARSERS: Final[dict[str, Callable[[str], Any]]] = {
    "max_price_age_ms": _positive_int,
    "max_quote_age_s": _positive_float,
    "min_edge": _amount,
    "max_size": _amount,
    "sweep_interval_ms": _positive_int,
}


@attrs.define
class Window:
    """One signal's life, from ``open`` to ``close`` (or the end of the recording).

    Attributes:
        signal_id: the signal.
        game_id, team, combo: what it covers.
        opened_ns: recorded time of its ``open``.
        closed_ns: recorded time of its ``close`` (None: open at the end).
        updates: ``update`` events in between.
        open_profit: profit at the open (micro-dollars).
        best_profit: the highest profit it reported (micro-dollars).
    """

    signal_id: str
    game_id: str
    team: str
    combo: str
    opened_ns: int
    closed_ns: int | None = None
    updates: int = 0
    open_profit: Fixed = 0
    best_profit: Fixed = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "signal_id": self.signal_id,
            "game_id": self.game_id,
            "team": self.team,
            "combo": self.combo,
            "opened_ns": self.opened_ns,
            "closed_ns": self.closed_ns,
            "duration_ms": None
            if self.closed_ns is None
            else (self.closed_ns - self.opened_ns) // 1_000_000,
            "updates": self.updates,
            "open_profit": format_fixed(self.open_profit),
            "best_profit": format_fixed(self.best_profit),
        }


@attrs.define
class ReplayResult:
    """What a replay produced.

    Attributes:
        signals: every signal, in order, timed by the recording.
        windows: every signal's window, in order of opening.
        paper: the paper ledger (None without ``paper``).
        frames: frames played, by venue id.
        assignments: assignment records applied.
        engine_inputs: recorded engine inputs played (the shards replayed exactly).
        checked: recorded quotes (of the engine inputs) checked against the frames: each
            side's ladder must be one the venue's frames went through (among the latest
            :data:`CHECK_VIEWS` views of its instrument played by then).
        mismatched: ... and those that were not (a protocol disagreeing with the live
            feed, a frame not recorded, clocks apart).
        rejected: records refused, by reason (an unknown venue, an undecodable assignment,
            frames a venue protocol refused); none of them stops the replay.
        first_ns, last_ns: recorded times of the first and last records.
    """

    signals: list[ArbSignal] = attrs.Factory(list)
    windows: list[Window] = attrs.Factory(list)
    paper: PaperLedger | None = None
    frames: dict[str, int] = attrs.Factory(dict)
    assignments: int = 0
    engine_inputs: int = 0
    checked: int = 0
    mismatched: int = 0
    rejected: dict[str, int] = attrs.Factory(dict)
    first_ns: int = 0
    last_ns: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "signals": [signal_dict(s) for s in self.signals],
            "windows": [w.as_dict() for w in self.windows],
            "paper": None if self.paper is None else self.paper.summary(),
            "frames": dict(sorted(self.frames.items())),
            "assignments": self.assignments,
            "engine_inputs": self.engine_inputs,
            "checked": self.checked,
            "mismatched": self.mismatched,
            "rejected": dict(sorted(self.rejected.items())),
            "first_ns": self.first_ns,
            "last_ns": self.last_ns,
        }


def signal_dict(signal: ArbSignal) -> dict[str, Any]:
    """A signal as JSON-ready values (amounts as exact decimal strings)."""
    return {
        "at_ns": signal.detect_ns,
        "event": signal.event,
        "signal_id": signal.signal_id,
        "shard_id": signal.shard_id,
        "game_id": signal.game_id,
        "team": signal.team,
        "combo": signal.combo,
        "size": format_fixed(signal.size),
        "cost": format_fixed(signal.cost),
        "fees": format_fixed(signal.fees),
        "profit": format_fixed(signal.profit),
        "edge": format_fixed(signal.edge),
        "legs": [
            {
                "venue": leg.venue,
                "instrument": leg.instrument,
                "side": leg.side,
                "price": format_fixed(leg.price),
                "size": format_fixed(leg.size),
                "fee": format_fixed(leg.fee),
            }
            for leg in signal.legs
        ],
    }


def venue_time_ns(frame: str) -> int:
    """The venue's own timestamp of a raw frame in epoch ns, 0 when it has none: a
    Polymarket ``timestamp`` (ms, also on the first event of an array), a Kalshi
    ``msg.ts_ms``."""
    try:
        value = json.loads(frame)
    except ValueError:
        return 0
    if isinstance(value, list) and value:
        value = value[0]
    if not isinstance(value, dict):
        return 0
    ms = value.get("timestamp")
    msg = value.get("msg")
    if ms is None and isinstance(msg, dict):
        ms = msg.get("ts_ms")
    if isinstance(ms, str) and ms.isdigit() and len(ms) <= 16:
        ms = int(ms)
    return ms * 1_000_000 if type(ms) is int and 0 < ms < 10**16 else 0


def _timed(path: str, venue: str) -> Iterator[tuple[int, Record]]:
    """A file's records with their play time (for a frame without a receive time, the
    venue's own timestamp, else the previous record's) and the file's venue on untagged
    frames."""
    last = 0
    for record in read_records(path):
        when = record.recv_ns
        if not when and record.frame is not None:
            when = venue_time_ns(record.frame)
        if when:
            last = max(last, when)  # a file is played in its own order
        if record.frame is not None and not record.venue and venue:
            record = attrs.evolve(record, venue=venue)
        yield last, record


def merged_records(inputs: Iterable[ReplayInput]) -> Iterator[tuple[int, Record]]:
    """Every file's records merged in time order (ties: the earlier file first)."""
    streams = [_timed(i.path, i.venue) for i in inputs]
    return heapq.merge(*streams, key=lambda item: item[0])


def read_assignments(path: str) -> list[MarketAssignment]:
    """Shard assignments from a file: assignment records, or one bus payload per line.

    Raises :class:`~arbees.errors.DecodeError` naming the line of the first bad one (a
    file given on purpose is all good or refused)."""
    out: list[MarketAssignment] = []
    limits = DecodeLimits(future_skew_ms=2**62 // 1_000_000)
    for number, record in enumerate(read_records(path), 1):
        payload = record.assignment if record.assignment is not None else record.frame
        if payload is None:
            continue
        try:
            out.append(decode(payload, MarketAssignment, limits=limits))
        except DecodeError as exc:
            raise DecodeError(f"{path}, record {number}: {exc}") from None
    return out


class Replay:
    """Plays records one at a time (sans-io: no file, no sleeping; see the module doc).

    Args:
        settings: the engines' and the ledger's settings.
        assignments: applied before the first record (``--assignments FILE``).
    """

    def __init__(
        self, settings: ReplaySettings, assignments: Iterable[MarketAssignment] = ()
    ) -> None:
        self.settings = settings
        self.result = ReplayResult()
        self.engines: dict[str, ShardEngine] = {}
        self._replayers: dict[tuple[str, str], Replayer] = {}
        self._quote: dict[str, Callable[[Any], Quote]] = {}
        self._windows: dict[str, Window] = {}
        self._pending: list[tuple[int, int, PendingFill, ShardEngine]] = []
        self._serial = 0
        self._now = 0
        self._next_sweep: int | None = None
        self._recorded: dict[str, dict[str, Any]] = {}
        self._states = GameStates()
        self._game_keys: dict[tuple[str, str], dict[str, str]] = {}  # (shard, game) -> keys
        self._sweep_ns = self._sweep_interval_ns()
        self._started = False
        self._driven: set[str] = set()  # shards replayed from their recorded engine inputs
        self._views: dict[tuple[str, str], deque[_View]] = {}  # the frames' latest books
        self._initial = list(assignments)
        if settings.paper:
            self.result.paper = PaperLedger(
                latency_ns=settings.paper_latency_ms * 1_000_000, clock=self._clock
            )

    def _clock(self) -> int:
        return self._now

    def _reject(self, reason: str) -> None:
        self.result.rejected[reason] = self.result.rejected.get(reason, 0) + 1

    def play(self, when_ns: int, record: Record) -> list[ArbSignal]:
        """Play one record at recorded time ``when_ns``; the signals it caused (sweeps
        and paper fills due before it included)."""
        out: list[ArbSignal] = []
        if not self._started:
            self._started = True
            self.result.first_ns = when_ns
            self._now = when_ns
            for assignment in self._initial:
                out.extend(self._assign(assignment))
        out.extend(self._advance(when_ns))
        self._now = when_ns
        self.result.last_ns = when_ns
        if record.assignment is not None:
            try:
                limits = DecodeLimits(clock_ns=self._clock)
                assignment = decode(record.assignment, MarketAssignment, limits=limits)
            except DecodeError:
                self._reject("assignment")
                return out
            out.extend(self._assign(assignment))
            return out
        if record.shard is not None:
            self._shard_settings(record.shard)
            return out
        if record.game_state is not None:
            try:
                limits = DecodeLimits(clock_ns=self._clock)
                report = decode(record.game_state, GameState, limits=limits)
            except DecodeError:
                self._reject("game_state")
                return out
            out.extend(self._game_state(report))
            return out
        if record.engine is not None:
            if not self.settings.frames_only:
                self._now = record.recv_ns or when_ns  # the clock the live call ran on
                out.extend(self._engine_input(record.engine))
                self._now = when_ns
            return out
        if record.frame is None:
            return out
        out.extend(self._frame(record, when_ns))
        return out

    def finish(self) -> ReplayResult:
        """The result; paper orders still in flight are completed on the last books."""
        for _, _, pending, engine in sorted(self._pending, key=lambda p: (p[0], p[1])):
            self._complete(pending, engine)
        self._pending = []
        self.result.windows = list(self._windows.values())
        for (_, venue), replayer in self._replayers.items():
            refused = replayer.rejected()
            if refused:
                key = f"{venue}_frames"
                self.result.rejected[key] = self.result.rejected.get(key, 0) + refused
        return self.result

    # -- records ---------------------------------------------------------------------

    def _assign(self, assignment: MarketAssignment) -> list[ArbSignal]:
        self.result.assignments += 1
        if assignment.platform == "kalshi" and assignment.shard_id not in self.engines:
            self.engines[assignment.shard_id] = self._engine(assignment.shard_id)
        out: list[ArbSignal] = []
        game = assignment.game_id or assignment.market_id
        for engine in self._framed():
            delta = engine.apply(assignment)
            if delta.rejected:
                self._reject("assignment_refused")
            out.extend(self._emit(engine, delta.signals))
            running = game in engine.games or game in engine.events
            keys = dict(assignment.game_keys) if running else {}
            if not keys:
                self._game_keys.pop((engine.shard_id, game), None)
                continue
            self._game_keys[engine.shard_id, game] = keys
            state = self._states.state(keys)
            if state is not None:
                out.extend(self._emit(engine, engine.set_game_state(game, state)))
                self._settle(engine, game, state)
        return out

    def _game_state(self, report: GameState) -> list[ArbSignal]:
        """One venue's report: each game filed under its key gets its folded state."""
        out: list[ArbSignal] = []
        if not self._states.report(report):
            return out
        for (shard_id, game), keys in sorted(self._game_keys.items()):
            if keys.get(report.venue) != report.key:
                continue
            state = self._states.state(keys)
            engine = self.engines.get(shard_id)
            if state is not None and engine is not None and shard_id not in self._driven:
                out.extend(self._emit(engine, engine.set_game_state(game, state)))
                self._settle(engine, game, state)
        return out

    def _settle(self, engine: ShardEngine, game: str, state: GameState) -> None:
        """Settle the paper ledger by a game's folded state, as a live shard does
        (:meth:`~arbees.paper.ledger.PaperLedger.settle_state`; a repeat is a no-op)."""
        ledger = self.result.paper
        if ledger is not None and state.halted:
            ledger.settle_state(game, state, engine.outcomes(game), engine.last_prices(game))

    def _engine(self, shard_id: str) -> ShardEngine:
        engine = ShardEngine(shard_id, clock=self._clock, instrument_checks=instrument_checks())
        self._configure(engine)
        return engine

    def _setting(self, shard_id: str, name: str) -> Any:
        """Given, else recorded for ``shard_id``, else the default."""
        given = getattr(self.settings, name)
        if given is not None:
            return given
        return self._recorded.get(shard_id, {}).get(name, _DEFAULTS[name])

    def _configure(self, engine: ShardEngine) -> None:
        shard = engine.shard_id
        engine.max_age_ns = self._setting(shard, "max_price_age_ms") * 1_000_000
        engine.max_quote_age_ns = round(self._setting(shard, "max_quote_age_s") * 1e9)
        engine.min_edge = self._setting(shard, "min_edge")
        engine.max_size = self._setting(shard, "max_size")

    def _sweep_interval_ns(self) -> int:
        given = self.settings.sweep_interval_ms
        recorded: list[int] = [
            r["sweep_interval_ms"] for r in self._recorded.values() if "sweep_interval_ms" in r
        ]
        ms: int = given if given is not None else min(recorded, default=_DEFAULT_SWEEP_MS)
        return max(1, ms) * 1_000_000

    def _shard_settings(self, settings: Mapping[str, str]) -> None:
        """A recorded shard's settings: they apply to its engine, now and later."""
        shard_id = settings.get("shard_id", "")
        values: dict[str, Any] = {}
        for name, parse in _PARSERS.items():
            text = settings.get(name)
            if text is None:
                continue
            try:
                values[name] = parse(text)
            except (ValueError, ArithmeticError, DecodeError):
                self._reject("shard_settings")
        self._recorded[shard_id] = values
        engine = self.engines.get(shard_id)
        if engine is not None and shard_id not in self._driven:
            self._configure(engine)
        self._sweep_ns = self._sweep_interval_ns()

    def _frame(self, record: Record, when_ns: int) -> list[ArbSignal]:
        assert record.frame is not None
        venue = record.venue or recognise_venue(record.frame)
        factory = REPLAYERS.get(venue)
        if factory is None:
            self._reject("unknown_venue")
            return []
        replayer = self._replayers.get((record.source, venue))
        if replayer is None:
            replayer = self._replayers[record.source, venue] = factory()
            self._quote[venue] = get_venue(venue).quote
        frames = self.result.frames
        frames[venue] = frames.get(venue, 0) + 1
        to_quote = self._quote[venue]
        quotes = [to_quote(update) for update in replayer.frame(record.frame, when_ns)]
        if self._driven:
            for quote in quotes:
                key = (quote.venue, quote.instrument)
                views = self._views.get(key)
                if views is None:
                    views = self._views[key] = deque(maxlen=CHECK_VIEWS)
                views.append(_view(quote))
        out: list[ArbSignal] = []
        receiver = self.engines.get(record.source)
        for engine in self._framed():
            if quotes:
                out.extend(self._emit(engine, engine.on_quotes(quotes)))
            if receiver is None or engine is receiver:
                # Everything this connection sent up to now has been played: it is live.
                out.extend(self._emit(engine, engine.set_alive(venue, when_ns)))
        return out

    def _framed(self) -> list[ShardEngine]:
        """The engines played from the frames (not from recorded engine inputs)."""
        return [e for shard, e in self.engines.items() if shard not in self._driven]

    def _engine_input(self, fields: Mapping[str, Any]) -> list[ArbSignal]:
        """One recorded call of a shard's engine, made again at its recorded clock."""
        shard_id, call = fields["shard_id"], fields["call"]
        try:
            if call == "start":
                self._drive(shard_id, fields)
                self.result.engine_inputs += 1
                return []
            if shard_id not in self._driven:  # a later file of a rotated recording
                self._drive(shard_id, {})
            engine = self.engines[shard_id]
            signals = self._engine_call(engine, call, fields)
        except (ValueError, TypeError, KeyError, DecodeError, ConfigError):
            self._reject("engine_input")
            return []
        self.result.engine_inputs += 1
        return self._emit(engine, signals)

    def _engine_call(
        self, engine: ShardEngine, call: str, fields: Mapping[str, Any]
    ) -> list[ArbSignal]:
        limits = DecodeLimits(clock_ns=self._clock)
        if call == "quotes":
            batch = fields["quotes"]
            if not isinstance(batch, list) or len(batch) > MAX_ENGINE_QUOTES:
                raise ValueError("a recorded batch is a list of at most 4096 quotes")
            quotes = [quote_from_json(q) for q in batch]
            self._check(quotes)
            return engine.on_quotes(quotes)
        if call == "alive":
            venue, when_ns, healthy = fields["venue"], fields["when_ns"], fields["healthy"]
            if not isinstance(venue, str) or type(when_ns) is not int or type(healthy) is not bool:
                raise ValueError("malformed liveness")
            return engine.set_alive(venue, when_ns, healthy)
        if call == "assign":
            assignment = decode(fields["assignment"], MarketAssignment, limits=limits)
            return list(engine.apply(assignment).signals)
        if call == "drop":
            return list(engine.drop(str(fields["game"])).signals)
        if call == "game_state":
            game = str(fields["game"])
            state = decode(fields["state"], GameState, limits=limits)
            signals = engine.set_game_state(game, state)
            self._settle(engine, game, state)
            return signals
        if call == "sweep":
            return engine.sweep()
        if call == "lag":
            lagging, since_ns = fields["lagging"], fields["since_ns"]
            if type(lagging) is not bool or type(since_ns) is not int:
                raise ValueError("malformed lag")
            return engine.set_lagging(lagging, since_ns)
        raise ValueError(f"unknown engine call {call[:20]!r}")

    def _check(self, quotes: Sequence[Quote]) -> None:
        """Cross-check recorded quotes against the books the frames went through (only
        the quotes of instruments whose frames were recorded; a stale one is not)."""
        for quote in quotes:
            views = self._views.get((quote.venue, quote.instrument))
            if views is None or quote.stale:
                continue
            self.result.checked += 1
            # each side on its own: the monitor pairs one token's asks with the other
            # token's as of its own moment, not necessarily one frame's
            yes, no = _view(quote)
            if not any(_went_through(v[0], yes) for v in views) or not any(
                _went_through(v[1], no) for v in views
            ):
                self.result.mismatched += 1

    def _drive(self, shard_id: str, fields: Mapping[str, Any]) -> None:
        """A fresh engine for ``shard_id`` with its recorded thresholds (``fields`` of its
        ``start`` record; missing ones: its settings record's, else the defaults), played
        from its engine inputs from now on."""

        def given(name: str, default: Any, parse: Callable[[str], Any] = int) -> Any:
            text = fields.get(name)
            return default if text is None else parse(text)

        engine = self._engine(shard_id)  # settings record / defaults, the clock, the checks
        max_size = given("max_size", None, lambda text: int(text) if text else None)
        rebuilt = ShardEngine(
            shard_id,
            max_age_ns=given("max_age_ns", engine.max_age_ns),
            max_quote_age_ns=given("max_quote_age_ns", engine.max_quote_age_ns),
            live_max_quote_age_ns=given("live_max_quote_age_ns", None),
            max_games=given("max_games", engine.max_games),
            min_edge=given("min_edge", engine.min_edge),
            max_size=max_size if "max_size" in fields else engine.max_size,
            edge_delta=given("edge_delta", engine.edge_delta),
            size_ratio=given("size_ratio", engine.size_ratio, float),
            clock=self._clock,
            instrument_checks=engine.instrument_checks,
            send_time_venues=given(
                "send_time_venues",
                engine.send_time_venues,
                lambda text: tuple(v for v in SEND_TIME_VENUES if v in text.split(",")),
            ),
        )
        overrides = self.settings
        if overrides.max_price_age_ms is not None:
            rebuilt.max_age_ns = overrides.max_price_age_ms * 1_000_000
        if overrides.max_quote_age_s is not None:
            rebuilt.max_quote_age_ns = round(overrides.max_quote_age_s * 1e9)
        if overrides.min_edge is not None:
            rebuilt.min_edge = overrides.min_edge
        if overrides.max_size is not None:
            rebuilt.max_size = overrides.max_size
        self.engines[shard_id] = rebuilt
        self._driven.add(shard_id)
        for key in [k for k in self._game_keys if k[0] == shard_id]:
            del self._game_keys[key]

    def _advance(self, when_ns: int) -> list[ArbSignal]:
        """Sweeps and paper completions due up to ``when_ns``, at their own times."""
        out: list[ArbSignal] = []
        if self._next_sweep is None:
            self._next_sweep = when_ns + self._sweep_ns
        while True:
            due_paper = self._pending[0][0] if self._pending else None
            due_sweep = self._next_sweep
            idle = not any(e.open_signals() for e in self._framed())
            if idle and due_sweep <= when_ns:  # nothing to close: skip the idle sweeps
                skipped = (when_ns - due_sweep) // self._sweep_ns + 1
                self._next_sweep = due_sweep = due_sweep + skipped * self._sweep_ns
            if due_paper is not None and due_paper <= min(due_sweep, when_ns):
                _, _, pending, engine = heapq.heappop(self._pending)
                self._now = due_paper
                self._complete(pending, engine)
                continue
            if due_sweep > when_ns:
                return out
            self._now = due_sweep
            for engine in self._framed():
                out.extend(self._emit(engine, engine.sweep()))
            self._next_sweep = due_sweep + self._sweep_ns

    # -- signals ---------------------------------------------------------------------

    def _emit(self, engine: ShardEngine, signals: Iterable[ArbSignal]) -> list[ArbSignal]:
        out: list[ArbSignal] = []
        for signal in signals:
            # the engine stamps its publication time from the wall clock: use the recording's
            signal = attrs.evolve(
                signal, timestamp_ms=self._now // 1_000_000, published_ns=self._now
            )
            self.result.signals.append(signal)
            self._window(signal)
            self._paper(engine, signal)
            out.append(signal)
        return out

    def _window(self, signal: ArbSignal) -> None:
        window = self._windows.get(signal.signal_id)
        if window is None:
            window = Window(
                signal.signal_id,
                signal.game_id,
                signal.team,
                signal.combo,
                self._now,
                open_profit=signal.profit,
                best_profit=signal.profit,
            )
            self._windows[signal.signal_id] = window
        elif signal.event == "close":
            window.closed_ns = self._now
        else:
            window.updates += 1
            window.best_profit = max(window.best_profit, signal.profit)

    def _paper(self, engine: ShardEngine, signal: ArbSignal) -> None:
        ledger = self.result.paper
        if ledger is None:
            return
        books = engine.leg_asks(signal) if signal.event != "close" else None
        filled = ledger.on_signal(signal, books, engine.venue_terms(signal.game_id))
        if isinstance(filled, PendingFill):
            self._serial += 1
            heapq.heappush(self._pending, (filled.due_ns, self._serial, filled, engine))

    def _complete(self, pending: PendingFill, engine: ShardEngine) -> None:
        assert self.result.paper is not None
        self.result.paper.complete(pending, engine.leg_asks(pending.signal))


async def run_replay(
    inputs: Sequence[ReplayInput],
    settings: ReplaySettings,
    *,
    assignments: Iterable[MarketAssignment] = (),
    speed: float | None = None,
    on_signal: Callable[[ArbSignal], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReplayResult:
    """Replay ``inputs`` merged in time order; returns the result.

    ``speed``: recorded seconds per real second (``None``: as fast as possible; the output
    is the same). A file that cannot be read raises :class:`OSError`. ``on_signal`` sees
    each signal as it is produced; ``progress`` is called with the number of records
    played so far, every 1,000 and at the end.
    """
    replay = Replay(settings, assignments)
    started = trio.current_time()
    first: int | None = None
    count = 0
    for when_ns, record in merged_records(inputs):
        if first is None:
            first = when_ns
        if speed is not None:
            await trio.sleep_until(started + (when_ns - first) / 1e9 / speed)
        elif count % 1000 == 0:
            await trio.lowlevel.checkpoint()
        for signal in replay.play(when_ns, record):
            if on_signal is not None:
                on_signal(signal)
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
    if progress is not None:
        progress(count)
    return replay.finish()
