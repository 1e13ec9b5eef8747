"""Score published signals against the simulator's ground truth.

Definitions (they are the demo's and the benchmarks' contract):

* a **window** is one ``(game, team, combo)`` interval during which
  :func:`arbees.sim.books.truth` finds an opportunity in the simulator's books; its wall-clock
  bounds are the times its opening and closing steps were applied to the fake venues;
* an injected window is **detected** when the shard published an ``open`` signal for the same
  game, team and combination after the window opened, before it closed, and no later than
  the **detection budget** after it opened. Only windows that lasted longer than the budget
  are required (``eligible``); ``missed = eligible - detected``;
* **latency** of a detected window is the signal's ``published_ns`` minus the time the fake
  venue wrote the first frame carrying the opening change (its ``on_send`` hook), i.e.
  venue send -> signal publish, both on this machine's wall clock;
* an ``open`` or ``update`` signal is **justified** when a window for its key was open at
  some instant of ``[published - grace, published]`` (the grace covers in-flight data). An
  unjustified signal is a **trap signal** when a trap of its game was active in that
  interval, else a **false signal**. A stale-book signal shows up as one of these.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import attrs

from arbees.messages import ArbSignal
from arbees.sim.plan import Plan
from arbees.sim.player import MarketPlayer

__all__ = ["Score", "WindowResult", "percentiles", "score_signals"]


def percentiles(
    values: Sequence[float], points: Iterable[float] = (50, 90, 99, 99.9)
) -> dict[str, float]:
    """Nearest-rank percentiles plus ``max`` and ``count`` (zeros when empty)."""
    ordered = sorted(values)
    out: dict[str, float] = {}
    for p in points:
        key = f"p{p:g}".replace(".", "_") if p != 99.9 else "p99_9"
        if not ordered:
            out[key] = 0.0
            continue
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        out[key] = round(ordered[rank - 1], 1)
    out["max"] = round(ordered[-1], 1) if ordered else 0.0
    out["count"] = len(ordered)
    return out


@attrs.frozen
class WindowResult:
    """One window's outcome.

    Attributes:
        game_id, team, combo: the key.
        opened_ns, closed_ns: wall-clock bounds (``closed_ns`` 0 when still open at the end).
        eligible: lasted longer than the detection budget.
        detected: an open signal came within the budget.
        latency_us: venue send -> signal publish (``None`` when not detected).
        expected_profit, signalled_profit: micro-dollars.
    """

    game_id: str
    team: str
    combo: str
    opened_ns: int
    closed_ns: int
    eligible: bool
    detected: bool
    latency_us: float | None
    expected_profit: int
    signalled_profit: int | None


@attrs.frozen
class Score:
    """The scorecard.

    Attributes:
        windows: per-window results (windows opened during the run).
        injected: windows opened during the run.
        eligible: of those, the ones longer than the budget.
        detected: eligible windows detected.
        missed: ``eligible - detected``.
        short_detected: windows at most as long as the budget that were detected anyway.
        false_signals: unjustified signals outside traps.
        trap_signals: unjustified signals during a trap of their game.
        traps: traps played.
        latency_us: percentiles of the detected windows' latencies.
        profit_matches: detected windows whose signalled profit equals the truth's.
        unjustified: the unjustified signals (for the report).
    """

    windows: tuple[WindowResult, ...]
    injected: int
    eligible: int
    detected: int
    missed: int
    short_detected: int
    false_signals: int
    trap_signals: int
    traps: int
    latency_us: dict[str, float]
    profit_matches: int
    unjustified: tuple[ArbSignal, ...]


def score_signals(
    plan: Plan,
    player: MarketPlayer,
    signals: Sequence[ArbSignal],
    *,
    budget_ns: int,
    grace_ns: int,
    end_ns: int,
) -> Score:
    """Score ``signals`` (all events, any order) against what ``player`` played of ``plan``."""
    applied = player.applied_ns
    games = {g.game_id: g for g in plan.games}
    key_windows: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    results: list[WindowResult] = []
    opens: dict[tuple[str, str, str], list[ArbSignal]] = {}
    for sig in signals:
        if sig.event == "open":
            opens.setdefault((sig.game_id, sig.team, sig.combo), []).append(sig)
    for window in plan.windows:
        opened = applied[window.open_step]
        if not opened:
            continue
        closed = applied[window.close_step] if window.close_step >= 0 else 0
        game = plan.games[window.game]
        team = game.team_ids[window.team]
        key = (game.game_id, team, window.combo)
        key_windows.setdefault(key, []).append((opened, closed or end_ns))
        eligible = (closed or end_ns) - opened > budget_ns
        deadline = min(closed or end_ns, opened + budget_ns)
        hit = next((s for s in opens.get(key, []) if opened <= s.published_ns <= deadline), None)
        latency = None
        if hit is not None:
            instrument = _opening_instrument(plan, window.open_step, window.team)
            sent = player.sent_ns.get((window.open_step, instrument), opened)
            latency = (hit.published_ns - sent) / 1000
        results.append(
            WindowResult(
                game_id=game.game_id,
                team=team,
                combo=window.combo,
                opened_ns=opened,
                closed_ns=closed,
                eligible=eligible,
                detected=hit is not None,
                latency_us=latency,
                expected_profit=window.opportunity.profit,
                signalled_profit=hit.profit if hit is not None else None,
            )
        )
    traps: dict[str, list[tuple[int, int]]] = {}
    played_traps = 0
    for trap in plan.traps:
        start = applied[trap.start_step]
        if not start:
            continue
        played_traps += 1
        end = applied[trap.end_step] or end_ns
        traps.setdefault(plan.games[trap.game].game_id, []).append((start, end))
    false = trap_hits = 0
    unjustified: list[ArbSignal] = []
    for sig in signals:
        if sig.event == "close" or sig.game_id not in games:
            if sig.event != "close":
                false += 1
                unjustified.append(sig)
            continue
        lo, hi = sig.published_ns - grace_ns, sig.published_ns
        spans = key_windows.get((sig.game_id, sig.team, sig.combo), [])
        if any(a <= hi and lo <= b for a, b in spans):
            continue
        unjustified.append(sig)
        if any(a <= hi and lo <= b for a, b in traps.get(sig.game_id, [])):
            trap_hits += 1
        else:
            false += 1
    eligible_windows = [r for r in results if r.eligible]
    detected = [r for r in eligible_windows if r.detected]
    lat = [r.latency_us for r in results if r.latency_us is not None]
    return Score(
        windows=tuple(results),
        injected=len(results),
        eligible=len(eligible_windows),
        detected=len(detected),
        missed=len(eligible_windows) - len(detected),
        short_detected=sum(1 for r in results if r.detected and not r.eligible),
        false_signals=false,
        trap_signals=trap_hits,
        traps=played_traps,
        latency_us=percentiles(lat),
        profit_matches=sum(1 for r in detected if r.signalled_profit == r.expected_profit),
        unjustified=tuple(unjustified),
    )


def _opening_instrument(plan: Plan, step_index: int, team: int) -> str:
    step = plan.steps[step_index]
    game = plan.games[step.game]
    if step.instrument == "poly":
        return game.token_a if team == 0 else game.token_b
    return game.kalshi_a if step.instrument == "kalshi_a" else game.kalshi_b
