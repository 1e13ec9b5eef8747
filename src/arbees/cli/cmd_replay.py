"""``arbees replay RECORDING... [--speed N|--max] [--paper] [--json]``: what the shard would
have signalled on recorded market data.

RECORDING: files made by ``arbees record`` (a venue's frames; or, with ``arbees record
shard|monitor`` or ``arbees demo --record``, everything a shard or monitor saw, assignments
included), or plain files of raw frames, one per line, as ``arbees book`` reads. Their
records are merged in time order and played through the venues' own protocols, the shard
engine and (``--paper``) the paper ledger: no network, and the same output for the same
input (the decisions run on the recorded receive times, never the clock).

The games come from the assignments in the recordings, and each shard decides with its
recorded settings (price ages, minimum edge, sweep period) unless an option overrides
them; for recordings without assignments (a venue recording), give them with
``--assignments FILE`` (assignment records, or one bus payload per line). An untagged
frame's venue is ``--venue`` (once for every file, or once per file in order; ``auto``,
the default, recognises it from the frame).

A shard that recorded its engine's inputs (``arbees record shard``, ``arbees demo
--record``) is replayed from them, exactly as it decided live whatever the load; the others
from their frames. ``--frames`` replays every shard from the frames (the engine inputs
ignored): what a shard that saw every frame's book would have decided.

Prints each signal as it comes (at its recorded time, UTC), then every signal's window
(open to close), the paper P&L and what was played; ``--json`` prints one JSON object
instead. A progress bar goes to stderr on a terminal (``--progress`` forces it).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from functools import partial
from typing import Any, TextIO

import trio

from arbees.errors import DecodeError
from arbees.messages import ArbSignal, MarketAssignment
from arbees.money import format_fixed
from arbees.replay import (
    REPLAYERS,
    ReplayInput,
    ReplayResult,
    ReplaySettings,
    merged_records,
    read_assignments,
    run_replay,
)
from arbees.wiring.settings import parse_cents

__all__ = ["register"]


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "replay",
        help="replay recordings through the protocols, the shard engine and the paper ledger",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("recordings", nargs="+", metavar="RECORDING", help="recordings to merge")
    p.add_argument(
        "--venue",
        action="append",
        choices=(*sorted(REPLAYERS), "auto"),
        help="venue of the untagged frames: once for all files, or once per file in order "
        "(default auto: recognised from each frame)",
    )
    pace = p.add_mutually_exclusive_group()
    pace.add_argument(
        "--speed", type=float, help="play N recorded seconds per second (the output is the same)"
    )
    pace.add_argument("--max", action="store_true", help="as fast as possible (the default)")
    p.add_argument("--paper", action="store_true", help="fill every signal on a paper ledger")
    p.add_argument(
        "--frames",
        action="store_true",
        help="replay every shard from the frames, ignoring its recorded engine inputs",
    )
    p.add_argument(
        "--paper-latency-ms", type=int, default=0, help="paper fill latency (recorded time)"
    )
    p.add_argument(
        "--assignments",
        help="shard assignments for recordings without them (records or bus payloads)",
    )
    g = p.add_argument_group(
        "shard settings (default: each recorded shard's own, else the shard's default)"
    )
    g.add_argument(
        "--max-price-age-ms", type=int, help="the shard's MAX_PRICE_AGE_MS (default 2000)"
    )
    g.add_argument(
        "--max-quote-age-s", type=float, help="the shard's MAX_QUOTE_AGE_S (default 600)"
    )
    g.add_argument(
        "--min-edge-cents",
        dest="min_edge",
        type=parse_cents,
        help="minimum profit per contract after fees, in cents (default 0)",
    )
    g.add_argument(
        "--sweep-interval-ms",
        type=int,
        help="recorded time between sweeps closing aged-out signals (default 100)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    p.set_defaults(handler=_main)


def _inputs(args: argparse.Namespace) -> list[ReplayInput] | str:
    venues = args.venue or []
    files = args.recordings
    if len(venues) not in (0, 1, len(files)):
        return f"--venue given {len(venues)} times for {len(files)} files (1 or one per file)"
    if len(venues) == 1:
        venues = venues * len(files)
    if not venues:
        venues = ["auto"] * len(files)
    return [ReplayInput(f, "" if v == "auto" else v) for f, v in zip(files, venues, strict=True)]


def _main(args: argparse.Namespace) -> int:
    if args.speed is not None and not args.speed > 0:
        print("arbees replay: --speed must be positive", file=sys.stderr)
        return 2
    for name in ("max_price_age_ms", "max_quote_age_s", "sweep_interval_ms"):
        value = getattr(args, name)
        if value is not None and not 0 < value < float("inf"):
            print(f"arbees replay: --{name.replace('_', '-')} must be positive", file=sys.stderr)
            return 2
    if args.min_edge is not None and args.min_edge < 0:
        print("arbees replay: --min-edge-cents must be >= 0", file=sys.stderr)
        return 2
    inputs = _inputs(args)
    if isinstance(inputs, str):
        print(f"arbees replay: {inputs}", file=sys.stderr)
        return 2
    settings = ReplaySettings(
        max_price_age_ms=args.max_price_age_ms,
        max_quote_age_s=args.max_quote_age_s,
        min_edge=args.min_edge,
        sweep_interval_ms=args.sweep_interval_ms,
        paper=args.paper,
        paper_latency_ms=args.paper_latency_ms,
        frames_only=args.frames,
    )
    assignments: list[MarketAssignment] = []
    try:
        if args.assignments:
            assignments = read_assignments(args.assignments)
        show_progress = sys.stderr.isatty() if args.progress is None else args.progress
        total = sum(1 for _ in merged_records(inputs)) if show_progress else 0
        bar = _Bar(sys.stderr, total) if show_progress else None
        printer = None if args.json else _Printer(sys.stdout)
        result = trio.run(
            partial(
                run_replay,
                inputs,
                settings,
                assignments=assignments,
                speed=args.speed,
                on_signal=None if printer is None else printer.signal,
                progress=None if bar is None else bar.update,
            )
        )
        if bar is not None:
            bar.done()
    except OSError as exc:
        print(
            f"arbees replay: cannot read {exc.filename or ''}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    except DecodeError as exc:
        print(f"arbees replay: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.as_dict(), indent=1))
    else:
        _print_report(result, sys.stdout)
    return 0


class _Bar:
    """A one-line progress bar (records played of the total)."""

    def __init__(self, out: TextIO, total: int) -> None:
        self.out = out
        self.total = max(total, 1)

    def update(self, done: int) -> None:
        share = min(done / self.total, 1.0)
        filled = round(share * 30)
        self.out.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} {done} records")
        self.out.flush()

    def done(self) -> None:
        self.out.write("\n")
        self.out.flush()


def _utc(ns: int) -> str:
    when = datetime.datetime.fromtimestamp(ns // 1000 / 1e6, datetime.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _Printer:
    """Prints each signal as the replay produces it, at its recorded time (UTC)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def signal(self, signal: ArbSignal) -> None:
        self.out.write(
            f"{_utc(signal.detect_ns)} {signal.event:<6} {signal.signal_id}  "
            f"profit={format_fixed(signal.profit)} size={format_fixed(signal.size)} "
            f"edge={format_fixed(signal.edge)}\n"
        )


def _print_report(result: ReplayResult, out: TextIO) -> None:
    if not result.signals:
        out.write("no signals\n")
    out.write(f"\nwindows: {len(result.windows)}\n")
    for w in result.windows:
        lasted = (
            "open at the end"
            if w.closed_ns is None
            else f"{(w.closed_ns - w.opened_ns) / 1e9:.3f}s"
        )
        opened = (w.opened_ns - result.first_ns) / 1e9
        out.write(
            f"  {w.signal_id}  at +{opened:.3f}s  lasted {lasted}  updates {w.updates}  "
            f"profit {format_fixed(w.open_profit)} (best {format_fixed(w.best_profit)})\n"
        )
    if result.paper is not None:
        out.write(f"{result.paper.summary_line()}\n")
    frames = ", ".join(f"{v} {n}" for v, n in sorted(result.frames.items())) or "none"
    span = (result.last_ns - result.first_ns) / 1e9
    out.write(
        f"played: frames {frames}; assignments {result.assignments}; "
        f"engine inputs {result.engine_inputs}; {span:.3f}s recorded\n"
    )
    if result.rejected:
        refused = ", ".join(f"{k} {n}" for k, n in sorted(result.rejected.items()))
        out.write(f"refused: {refused}\n")
    if not result.assignments:
        out.write("no assignments: record with `arbees record shard` or give --assignments\n")
