"""``arbees bench soak``: minutes of simulated market while the harness breaks things.

The monitor and the shard run as separate processes (why: see
:mod:`arbees.bench._e2e_soak_run`) on a private redis-server, fed by the market simulator
through the fake venues. On a timetable (:mod:`arbees.bench._e2e_soak_plan`) the harness
restarts Redis (SIGKILL + start), drops every venue socket, stalls the Polymarket socket
(PONG but no data), stalls Kalshi, burns a Kalshi seq (a gap), and flips the egress check
to a forbidden country and back — each kind at least once, cycling for the whole run.

What it reports, and how each figure is decided:

* **crashes** — service processes that exited without being asked to (a task that dies
  ends its Trio run, hence its process). Must be 0.
* **stale signals** — ``open``/``update`` signals that no ground truth justifies: for the
  simulated games, the unjustified signals of :func:`arbees.sim.score.score_signals` (no
  window for the signal's game, team and combination was open at any instant of
  ``[published - grace, published]``; trap and false signals both count); for the
  canaries, a signal published while the canary's toggle had been closed for longer than
  the grace. Must be 0.
* **detected / missed** injected windows (those longer than the detection budget).
* **recovery** of each fault — from the moment it ended until (a) a Polymarket price is on
  the bus again and (b) each canary (toggled through Kalshi and through Polymarket every
  ``canary_period_s``) produced a signal again; the recovery is the longest of the three.
* **memory growth** — RSS of each process at 20 % and at 100 % of the run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import trio

from arbees.bench._args import positive, positive_count
from arbees.bench._e2e_procs import ServiceGroup, interrupted, stop_on_sigterm
from arbees.bench._e2e_soak_plan import FAULT_KINDS
from arbees.bench._e2e_soak_run import SoakOptions, SoakRecord, memory_growth, soak_main
from arbees.messages import ArbSignal
from arbees.sim.score import score_signals
from arbees.testing.redis_server import RedisServer

__all__ = ["canary_stale", "register", "report", "run_soak"]


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "soak",
        help="minutes of simulated market with Redis restarts, socket drops and stalls, a "
        "Kalshi seq gap and egress flips: crashes, stale signals, recovery, memory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--duration", type=positive, default=300.0, help="market seconds (300)")
    p.add_argument("--seed", type=int, default=1, help="market seed (1)")
    p.add_argument("--games", type=positive_count, default=8, help="simulated games (8)")
    p.add_argument("--fault-gap", type=positive, default=8.0,
                   help="seconds of live market between two faults (8)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_handler)


def run_soak(options: SoakOptions) -> dict[str, Any]:
    """Run the soak; returns the report (see the module docstring)."""
    with (
        RedisServer() as server,
        ServiceGroup() as group,
        stop_on_sigterm(group.stop_all, server.close),
    ):
        limit = options.duration_s + 180
        record = trio.run(_bounded, options, server, group, limit)
    return report(record, options)


async def _bounded(
    options: SoakOptions, server: RedisServer, group: ServiceGroup, limit: float
) -> SoakRecord:
    with trio.fail_after(limit):
        return await soak_main(options, server, group)


def canary_stale(
    signals: Sequence[ArbSignal], truth: dict[str, list[tuple[int, bool]]], grace_ns: int
) -> list[ArbSignal]:
    """Canary ``open``/``update`` signals published when the canary was not open at any
    instant of ``[published - grace, published]``."""
    out = []
    for sig in signals:
        changes = truth.get(sig.game_id)
        if changes is None or sig.event == "close":
            continue
        lo, hi = sig.published_ns - grace_ns, sig.published_ns
        state = False
        justified = False
        for when, is_open in changes:
            if when <= lo:
                state = is_open
                continue
            if when > hi:
                break
            justified = justified or is_open
        if not (state or justified):
            out.append(sig)
    return out


def _first_after(times: Sequence[int], t: int) -> int | None:
    return next((x for x in times if x >= t), None)


def report(record: SoakRecord, options: SoakOptions) -> dict[str, Any]:
    """Score the run and measure every fault's recovery."""
    grace_ns = int(options.grace_ms * 1e6)
    plan_ids = {g.game_id for g in record.plan.games}
    signals = [r.signal for r in record.tap.signals]
    plan_signals = [s for s in signals if s.game_id in plan_ids]
    canary_signals = [s for s in signals if s.game_id in record.canary_truth]
    score = score_signals(
        record.plan,
        record.player,
        plan_signals,
        budget_ns=int(options.budget_ms * 1e6),
        grace_ns=grace_ns,
        end_ns=record.end_ns,
    )
    stale_canary = canary_stale(canary_signals, record.canary_truth, grace_ns)
    by_venue = {
        c.venue: sorted(s.published_ns for s in canary_signals if s.game_id == c.game.game_id)
        for c in record.canaries
    }
    prices = sorted(record.price_ns)
    faults = []
    for fr in record.faults:
        if not fr.end_ns:
            continue
        waits: dict[str, float | None] = {}
        for name, times in (
            ("prices", prices),
            ("kalshi_canary", by_venue.get("kalshi", [])),
            ("polymarket_canary", by_venue.get("polymarket", [])),
        ):
            first = _first_after(times, fr.end_ns)
            waits[name] = round((first - fr.end_ns) / 1e9, 3) if first is not None else None
        known = [w for w in waits.values() if w is not None]
        recovery = max(known) if len(known) == len(waits) else None
        notes = []
        if recovery is None or recovery > 2.0:  # a slow one: what did health say meanwhile?
            until = fr.end_ns + int(1e9 * (recovery or options.recovery_limit_s)) + 10**9
            notes = [
                f"+{(t - fr.start_ns) / 1e9:.2f}s {service}/{instance} "
                + ("healthy" if healthy else f"UNHEALTHY {reason}")
                for t, service, instance, healthy, reason in record.tap.health_log
                if fr.start_ns <= t <= until
            ]
        faults.append(
            {
                "health_changes": notes,
                "kind": fr.fault.kind,
                "at_s": round((fr.start_ns - record.started_ns) / 1e9, 2),
                "lasted_s": round((fr.end_ns - fr.start_ns) / 1e9, 2),
                "observed": fr.observed,
                "recovery_s": recovery,
                "recovered": recovery is not None and recovery <= options.recovery_limit_s,
                **{f"{k}_s": v for k, v in waits.items()},
            }
        )
    kinds = {k: sum(1 for f in faults if f["kind"] == k) for k in FAULT_KINDS}
    stale = len(score.unjustified) + len(stale_canary)
    out: dict[str, Any] = {
        "duration_s": options.duration_s,
        "seed": options.seed,
        "games": len(record.plan.games),
        "crashes": len(record.crashed),
        "crashed": record.crashed,
        "stale_signals": stale,
        "stale_detail": {
            "plan_false": score.false_signals,
            "plan_trap": score.trap_signals,
            "canary": len(stale_canary),
            "examples": [
                f"{s.event} {s.game_id} {s.team} {s.combo} at "
                f"{(s.published_ns - record.started_ns) / 1e9:.3f} s"
                for s in [*score.unjustified, *stale_canary][:5]
            ],
        },
        "injected_windows": score.injected,
        "eligible_windows": score.eligible,
        "detected": score.detected,
        "missed": score.missed,
        "short_detected": score.short_detected,
        "traps": score.traps,
        "detection_latency_us": score.latency_us,
        "signals": len(signals),
        "canary_signals": len(canary_signals),
        "faults": faults,
        "fault_kinds": kinds,
        "all_recovered": all(f["recovered"] for f in faults) and all(kinds.values()),
        "memory": memory_growth(record),
        "log_dir": record.log_dir,
    }
    out["ok"] = out["crashes"] == 0 and stale == 0 and out["all_recovered"]
    return out


def _handler(args: argparse.Namespace) -> int:
    options = SoakOptions(
        duration_s=args.duration, seed=args.seed, games=args.games, fault_gap_s=args.fault_gap
    )
    try:
        result = run_soak(options)
    except BaseException as exc:
        if interrupted(exc):
            print("interrupted: every process of the run was stopped", file=sys.stderr)
            return 130
        raise
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print(format_report(result))
    return 0 if result["ok"] else 1


def format_report(r: dict[str, Any]) -> str:
    lat = r["detection_latency_us"]
    lines = [
        f"arbees bench soak: {r['duration_s']:g} s of market, {r['games']} games, seed "
        f"{r['seed']}; monitor and shard as processes",
        f"  crashes            {r['crashes']} {r['crashed'] or ''}",
        f"  stale signals      {r['stale_signals']}  {r['stale_detail']}",
        f"  injected windows   {r['injected_windows']} ({r['eligible_windows']} longer than "
        f"the budget): detected {r['detected']}, missed {r['missed']}; traps {r['traps']}",
        f"  detection latency  p50 {lat['p50']} µs  p99 {lat['p99']} µs  max {lat['max']} µs",
        "  faults (recovery = until prices and both canaries' signals flow again):",
    ]
    for f in r["faults"]:
        lines.append(
            f"    {f['at_s']:>7.1f} s  {f['kind']:<17} lasted {f['lasted_s']:>5.2f} s  "
            f"recovery {f['recovery_s']} s  (prices {f['prices_s']}, kalshi canary "
            f"{f['kalshi_canary_s']}, polymarket canary {f['polymarket_canary_s']})"
            + ("" if f["observed"] is None else f"  observed={f['observed']}")
        )
        lines.extend(f"              {note}" for note in f["health_changes"])
    lines.append("  memory (RSS at 20 % -> 100 % of the run):")
    for name, m in r["memory"].items():
        lines.append(
            f"    {name:<8} {m['rss_20pct_mb']} -> {m['rss_100pct_mb']} MB "
            f"({m['growth_mb']:+} MB, peak {m['peak_mb']} MB)"
        )
    lines.append("  result: " + ("OK" if r["ok"] else "FAILED") + f"  (logs: {r['log_dir']})")
    return "\n".join(lines)
