"""Recordings of raw venue frames (and the shard assignments that give them meaning).

A recording is JSON Lines, one record per line, gzip-compressed when the file name ends in
``.gz``:

* a received frame: ``{"recv_ns": <time.time_ns()>, "frame": "<raw text exactly as
  received>"}``, with ``"venue": "<venue id>"`` when the recorder knew it and
  ``"source": "<service>"``, the service whose connection received it (a shard's id, the
  monitor's instance): the record-everything mode writes both, ``arbees record <venue>``
  files need neither (one connection, one venue);
* a shard assignment as the shard saw it: ``{"recv_ns": ..., "assignment": "<the bus
  payload, arbees.codec JSON>"}``, what ``arbees replay`` runs the shard engine on;
* a game-state report as the shard saw it: ``{"recv_ns": ..., "game_state": "<the bus
  payload>"}``;
* a shard's decision settings: ``{"recv_ns": ..., "shard": {"shard_id": ...,
  "max_price_age_ms": "2000", ...}}`` (text values), so a replay decides as that shard did;
* a shard engine's input (:meth:`Recorder.engine`, written by a recording
  :class:`~arbees.services.shard.GameShard`): ``{"recv_ns": <the engine clock during the
  call>, "engine": {"shard_id": ..., "call": ..., ...}}``, one per call, in call order, the
  engine's clock held at ``recv_ns`` for the whole call. ``call`` is ``"start"`` (the
  engine's thresholds: ``max_age_ns``, ``max_quote_age_ns``, ``live_max_quote_age_ns``,
  ``max_games``, ``min_edge``, ``max_size`` (``""``: none), ``edge_delta``,
  ``size_ratio``, ``send_time_venues`` (comma-separated), as text), ``"quotes"``
  (``"quotes"``: the batch handed to ``on_quotes``,
  each quote ``[venue, instrument, yes_asks, no_asks, stale, received_ns, venue_ts_ms,
  monitor_recv_ns, bus_recv_ns]`` with ladders ``[[price, size], ...]`` in micro-units,
  see :func:`arbees.services.quotes.quote_json`), ``"alive"`` (``venue``, ``when_ns``, ``healthy``),
  ``"assign"`` (``"assignment"``: its bus payload), ``"drop"`` (``game``),
  ``"game_state"`` (``game``, ``"state"``: the folded state's bus payload),
  ``"sweep"`` or ``"lag"`` (``lagging``, ``since_ns``: a process-lag episode began or
  ended, :meth:`arbees.services.shard_engine.ShardEngine.set_lagging`). What the engine
  decided on, exactly: ``arbees replay`` runs a shard's engine on these (not on the
  frames) when the recording has them.

Raw text keeps a recording useful when a parser changes, and a replay exercises the very
code the live feed runs. :func:`read_recording` yields the frames only (``arbees book``);
:func:`read_records` yields every record, and also accepts a plain file holding one raw
frame per line (``recv_ns`` 0: unknown).

:class:`Recorder` writes a recording rotated by size (``rec.jsonl``, ``rec.1.jsonl``,
``rec.2.jsonl``, ...): the record-everything mode of ``arbees record shard|monitor`` and
the demo's ``--record`` hand its :meth:`Recorder.frame_hook` to every feed they build and
run an :class:`AssignmentTap` beside the shard.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Final

import attrs
import trio

from arbees.bus.base import Bus
from arbees.codec import encode
from arbees.errors import BusError
from arbees.messages import GAME_ASSIGNMENTS_HASH, Channel, GameState, MarketAssignment

__all__ = [
    "MAX_ENGINE_QUOTES",
    "AssignmentTap",
    "Record",
    "Recorder",
    "assignment_line",
    "engine_line",
    "game_state_line",
    "open_text",
    "read_recording",
    "read_records",
    "record_line",
    "rotated_path",
    "shard_line",
]

log = logging.getLogger(__name__)

_PONG = "PONG"

MAX_ENGINE_QUOTES: Final = 4096
"""Most quotes one recorded batch may hold when read back (a shard's are at most its
``MAX_BATCH``, 1024); a longer one is refused, not played."""


def open_text(path: str | Path, mode: str) -> IO[str]:
    """Open a text file, through gzip when the name ends in ``.gz``."""
    if str(path).endswith(".gz"):
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return open(path, mode, encoding="utf-8")


def record_line(recv_ns: int, frame: str, venue: str = "", source: str = "") -> str:
    """One frame record (with its newline); ``venue`` and ``source`` when given."""
    record: dict[str, object] = {"recv_ns": recv_ns, "frame": frame}
    if venue:
        record["venue"] = venue
    if source:
        record["source"] = source
    return json.dumps(record) + "\n"


def assignment_line(recv_ns: int, assignment: MarketAssignment) -> str:
    """One assignment record (with its newline): the assignment's bus payload."""
    payload = encode(assignment).decode("utf-8")
    return json.dumps({"recv_ns": recv_ns, "assignment": payload}) + "\n"


def game_state_line(recv_ns: int, report: GameState) -> str:
    """One game-state record (with its newline): the report's bus payload."""
    payload = encode(report).decode("utf-8")
    return json.dumps({"recv_ns": recv_ns, "game_state": payload}) + "\n"


def shard_line(recv_ns: int, shard_id: str, settings: Mapping[str, str]) -> str:
    """One shard-settings record (with its newline)."""
    return json.dumps({"recv_ns": recv_ns, "shard": {**settings, "shard_id": shard_id}}) + "\n"


def engine_line(now_ns: int, shard_id: str, call: str, fields: Mapping[str, Any]) -> str:
    """One engine-input record (with its newline): ``call`` at engine clock ``now_ns``."""
    engine = {**fields, "shard_id": shard_id, "call": call}
    return json.dumps({"recv_ns": now_ns, "engine": engine}, separators=(",", ":")) + "\n"


@attrs.frozen(slots=True)
class Record:
    """One record of a recording.

    Attributes:
        recv_ns: receive time (epoch ns; 0 when the file did not say).
        frame: the raw frame, or ``None`` for an assignment record.
        venue: the venue the recorder said the frame came from (``""``: not said).
        assignment: an assignment's bus payload (arbees.codec JSON), or ``None``.
        source: the service whose connection received the frame (``""``: not said).
        shard: a shard's settings (text values, ``shard_id`` included), or ``None``.
        game_state: a game-state report's bus payload, or ``None``.
        engine: a shard engine's input (``shard_id``, ``call`` and its fields, see the
            module doc), or ``None``.
    """

    recv_ns: int
    frame: str | None
    venue: str = ""
    assignment: str | None = None
    source: str = ""
    shard: Mapping[str, str] | None = None
    game_state: str | None = None
    engine: Mapping[str, Any] | None = None


def read_records(path: str | Path) -> Iterator[Record]:
    """Every record of a recording, in file order; a line that is not a record is a raw
    frame (a plain file of raw frames, one per line)."""
    with open_text(path, "r") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if line.startswith('{"recv_ns"'):
                try:
                    rec = json.loads(line)
                except ValueError:
                    rec = None
                if isinstance(rec, dict):
                    recv_ns = rec.get("recv_ns")
                    when = recv_ns if type(recv_ns) is int and recv_ns >= 0 else 0
                    venue = rec.get("venue")
                    venue = venue if isinstance(venue, str) else ""
                    source = rec.get("source")
                    source = source if isinstance(source, str) else ""
                    if isinstance(rec.get("frame"), str):
                        yield Record(when, rec["frame"], venue, source=source)
                        continue
                    if isinstance(rec.get("assignment"), str):
                        yield Record(when, None, assignment=rec["assignment"])
                        continue
                    if isinstance(rec.get("game_state"), str):
                        yield Record(when, None, game_state=rec["game_state"])
                        continue
                    engine = rec.get("engine")
                    if (
                        isinstance(engine, dict)
                        and isinstance(engine.get("shard_id"), str)
                        and isinstance(engine.get("call"), str)
                    ):
                        yield Record(when, None, engine=engine)
                        continue
                    shard = rec.get("shard")
                    if isinstance(shard, dict) and all(isinstance(v, str) for v in shard.values()):
                        yield Record(when, None, shard=shard)
                        continue
            yield Record(0, line)


def read_recording(path: str | Path, venue: str = "") -> Iterator[tuple[int, str]]:
    """Yield ``(recv_ns, frame)`` of every frame record (assignments are skipped); with
    ``venue``, a frame tagged with another venue is skipped too (a record-everything
    recording holds every venue's)."""
    for record in read_records(path):
        if record.frame is not None and not (venue and record.venue not in ("", venue)):
            yield record.recv_ns, record.frame


def rotated_path(path: str | Path, index: int) -> Path:
    """The ``index``-th file of a rotated recording: ``rec.jsonl``, ``rec.1.jsonl``, ...
    (the suffixes ``.jsonl`` / ``.jsonl.gz`` are kept at the end)."""
    path = Path(path)
    if index == 0:
        return path
    name = path.name
    for suffix in (".jsonl.gz", ".jsonl", ".gz"):
        if name.endswith(suffix):
            return path.with_name(f"{name[: -len(suffix)]}.{index}{suffix}")
    return path.with_name(f"{name}.{index}")


class Recorder:
    """Writes records to ``path``, starting the next file once one holds ``max_bytes``.

    Args:
        path: the first file (``.gz``: compressed); later ones are :func:`rotated_path`.
        max_bytes: uncompressed bytes per file before rotating (0: never rotate).
        clock: wall clock in ns, for the assignments' receive times.

    The first file is created at once (:class:`OSError` when it cannot be); writes are
    synchronous and buffered; a failed write or rotation (disk full) is counted and
    logged, never raised into the feed that called the hook.
    """

    def __init__(
        self, path: str | Path, *, max_bytes: int = 0, clock: Callable[[], int] = time.time_ns
    ) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0: {max_bytes}")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.clock = clock
        self.frames = 0
        self.assignments = 0
        self.game_states = 0
        self.engine_inputs = 0
        self.errors = 0
        self.files: list[Path] = []
        self._written = 0
        self._file: IO[str] | None = None
        self._closed = False
        self._open_next()  # a path that cannot be written fails here, not silently later

    def __repr__(self) -> str:
        return f"Recorder({str(self.path)!r}, frames={self.frames}, files={len(self.files)})"

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file; later records are dropped (a feed still unwinding)."""
        self._closed = True
        self._close_file()

    def _open_next(self) -> None:
        self._close_file()
        target = rotated_path(self.path, len(self.files))
        self._file = open_text(target, "w")
        self.files.append(target)
        self._written = 0

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def frame_hook(self, venue: str, source: str = "") -> Callable[[str | bytes, int], None]:
        """A feed's ``on_frame``: records each frame of ``venue`` with its receive time,
        as received by ``source`` (the service: a shard's id, the monitor's instance)."""

        def hook(message: str | bytes, recv_ns: int) -> None:
            text = message if isinstance(message, str) else message.decode("utf-8", "replace")
            self.frame(venue, text, recv_ns, source)

        return hook

    def frame(self, venue: str, text: str, recv_ns: int, source: str = "") -> None:
        self._write(record_line(recv_ns, text, venue, source))
        self.frames += 1

    def assignment(self, assignment: MarketAssignment, recv_ns: int | None = None) -> None:
        self._write(assignment_line(self.clock() if recv_ns is None else recv_ns, assignment))
        self.assignments += 1

    def game_state(self, report: GameState, recv_ns: int | None = None) -> None:
        self._write(game_state_line(self.clock() if recv_ns is None else recv_ns, report))
        self.game_states += 1

    def shard_settings(self, shard_id: str, settings: Mapping[str, str]) -> None:
        """Record a shard's decision settings (``build_shard`` does, with a recorder)."""
        self._write(shard_line(self.clock(), shard_id, settings))

    def engine(self, shard_id: str, call: str, now_ns: int, fields: Mapping[str, Any]) -> None:
        """Record one call of a shard's engine at engine clock ``now_ns`` (a recording
        :class:`~arbees.services.shard.GameShard` does, for each call, in order)."""
        self._write(engine_line(now_ns, shard_id, call, fields))
        self.engine_inputs += 1

    def _write(self, line: str) -> None:
        if self._closed:
            return
        try:
            if self._file is None or (self.max_bytes and self._written >= self.max_bytes):
                self._open_next()
            assert self._file is not None
            self._file.write(line)
            self._written += len(line)
        except OSError as exc:
            self.errors += 1
            if self.errors == 1 or self.errors % 10_000 == 0:
                log.error("recording to %s failed (%d so far): %s", self.path, self.errors, exc)


class AssignmentTap:
    """Records every shard assignment on the bus (the stored ones first) and every
    game-state report, as the shards see them: run it beside the shard, before it, with
    ``nursery.start``.

    Args:
        bus: where the orchestrator publishes.
        recorder: where they go.
    """

    def __init__(self, bus: Bus, recorder: Recorder) -> None:
        self.bus = bus
        self.recorder = recorder

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        channels = (Channel.MARKET_ASSIGNMENTS, Channel.GAME_STATES)
        async with self.bus.subscribe(*channels, buffer=65_536) as sub:
            try:
                stored = await self.bus.hgetall(GAME_ASSIGNMENTS_HASH)
            except BusError as exc:
                log.warning("recording: stored assignments not read: %s", exc)
                stored = {}
            for message in stored.values():
                if isinstance(message, MarketAssignment) and message.platform == "kalshi":
                    self.recorder.assignment(message)
            task_status.started()
            async for envelope in sub:
                message = envelope.message
                if isinstance(message, MarketAssignment) and message.platform == "kalshi":
                    self.recorder.assignment(message, envelope.received_ns)
                elif isinstance(message, GameState):
                    self.recorder.game_state(message, envelope.received_ns)
