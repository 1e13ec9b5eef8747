"""The demo's summary: what was played, what was found, how fast.

``updates`` counts the quotes the shards processed; ``signals`` every signal published
(open, update, close). ``injected``/``detected``/``missed``/``false_signals``/``trap_signals``
and ``latency_us`` follow :mod:`arbees.sim.score` (detected = an ``open`` signal for the right
game, team and combination while the window is open and within the detection budget;
latency = fake venue's frame send time -> signal publish time). ``hop_us`` is the
monitor -> subscriber bus hop of the price updates. ``kinds`` splits the windows and the
wrong signals by kind of game (``moneyline``, ``3-way`` soccer, ``total`` over/under).
"""

from __future__ import annotations

from typing import Any

from arbees.demo.system import DemoSystem
from arbees.money import format_fixed
from arbees.sim.score import Score, percentiles

__all__ = ["build_summary", "format_summary"]


def build_summary(
    system: DemoSystem, score: Score, *, duration_s: float, budget_ms: float, bus_url: str
) -> dict[str, Any]:
    """The JSON-ready summary."""
    plan = system.plan
    return {
        "seed": plan.config.seed,
        "games": len(plan.games),
        "event_games": len(plan.events.events),
        "shards": len(system.shards),
        "bus": "memory" if bus_url.startswith("memory") else "redis",
        "duration_s": round(duration_s, 3),
        "updates": system.updates,
        "price_updates": system.price_updates,
        "signals": len(system.signals),
        "injected": score.injected,
        "eligible": score.eligible,
        "detected": score.detected,
        "missed": score.missed,
        "short_detected": score.short_detected,
        "false_signals": score.false_signals,
        "trap_signals": score.trap_signals,
        "traps": score.traps,
        "traps_avoided": score.traps - _traps_hit(score),
        "profit_matches": score.profit_matches,
        "detection_budget_ms": budget_ms,
        "latency_us": score.latency_us,
        "hop_us": percentiles(system.hop_us),
        "kinds": score.kinds,
    }


def _traps_hit(score: Score) -> int:
    return min(score.trap_signals, score.traps)


def format_summary(summary: dict[str, Any], score: Score) -> str:
    """Human-readable summary lines."""
    lat = summary["latency_us"]
    hop = summary["hop_us"]
    lines = [
        f"arbees demo: {summary['games']} games + {summary.get('event_games', 0)} event games, "
        f"{summary['shards']} shards on the "
        f"{summary['bus']} bus, {summary['duration_s']:.1f} s, seed {summary['seed']}",
        f"  updates processed  {summary['updates']:>8}   (Polymarket price updates "
        f"{summary['price_updates']})",
        f"  signals published  {summary['signals']:>8}",
        f"  arbitrage windows  {summary['injected']:>8} injected, {summary['eligible']} longer "
        f"than the {summary['detection_budget_ms']:g} ms budget: {summary['detected']} detected, "
        f"{summary['missed']} missed",
        f"  false signals      {summary['false_signals']:>8}",
        f"  traps              {summary['traps']:>8} played, {summary['trap_signals']} signalled "
        f"(fee traps and stale-book traps)",
        f"  tick->signal (us)  p50 {lat['p50']:.0f}  p90 {lat['p90']:.0f}  p99 {lat['p99']:.0f}"
        f"  max {lat['max']:.0f}  (n={lat['count']})",
        f"  bus hop (us)       p50 {hop['p50']:.0f}  p99 {hop['p99']:.0f}  max {hop['max']:.0f}",
    ]
    for kind, counts in summary.get("kinds", {}).items():
        lines.append(
            f"  {kind + ' games':<18} {counts['eligible']:>8} eligible windows: "
            f"{counts['detected']} detected, {counts['false_signals']} false, "
            f"{counts['trap_signals']} trap signals ({counts['traps']} traps)"
        )
    paper = summary.get("paper")
    if paper is not None:
        lines.append(
            f"  paper ledger       {paper['positions']:>8} positions ({paper['settled']} settled, "
            f"{paper['open']} open): realized P&L {paper['realized_pnl']}, settlement "
            f"divergence exposure {paper['divergence_exposure']}, worst-case P&L of the open "
            f"{paper['worst_case_pnl']}"
        )
        lines.append(
            f"  before settlement  divergence exposure {paper['divergence_before_settlement']} "
            "(what postponement or cancellation could cost the open positions)"
        )
        lines.append(
            f"  fates              postponed {', '.join(paper['postponed']) or '-'}; "
            f"cancelled {', '.join(paper['cancelled']) or '-'}"
        )
    for sig in score.unjustified[:5]:
        lines.append(
            f"  ! unjustified {sig.event} {sig.game_id} {sig.team} {sig.combo} "
            f"profit {format_fixed(sig.profit)}"
        )
    return "\n".join(lines)
