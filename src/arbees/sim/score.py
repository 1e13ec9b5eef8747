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
  A moneyline signal is also justified when its opportunity is in the books made of each
  leg's true book at *some* instant of that interval (the Kalshi market of its team and
  Polymarket token A, each one as it was at ``published - grace`` or as a step changed it
  since): the grace covers each venue's in-flight data separately, since the venues' paths
  to the shard have their own latencies. Measured on a loaded machine (seed 2, 5 s): Kalshi's
  change removing a cross reached the shard ~90 ms after it was applied while Polymarket's
  change making it took ~3 ms, so the shard, acting within its price-age rules on a Kalshi
  book confirmed ~100 ms earlier, signalled a cross that never existed at one instant. A
  stale trap's signal stays unjustified: the true Kalshi book moved ``stale_after_s - 0.1``
  (more than the grace) before the crossing.

The event games' windows (:attr:`arbees.sim.plan.Plan.events`) are keyed ``(game, "",
cover label)`` like the shard's event signals and scored the same way; ``kinds`` splits the
counts by kind of game: ``moneyline`` (the NBA/NHL pairs and the NFL winner), ``3-way``
(soccer) and ``total`` (over/under).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TypeVar

import attrs

from arbees.messages import ArbSignal
from arbees.sim.books import GameBooks, KalshiBook, TokenBook, truth
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
        kinds: per kind of game, ``injected``, ``eligible``, ``detected``, ``missed``,
            ``false_signals``, ``trap_signals`` and ``traps``.
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
    kinds: dict[str, dict[str, int]] = attrs.field(factory=dict)


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
    kind_of = {g.game_id: "moneyline" for g in plan.games}
    kind_of.update({e.game_id: e.kind for e in plan.events.events})
    key_windows: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    results: list[WindowResult] = []
    opens: dict[tuple[str, str, str], list[ArbSignal]] = {}
    for sig in signals:
        if sig.event == "open":
            opens.setdefault((sig.game_id, sig.team, sig.combo), []).append(sig)
    # (key, opening step's applied time, closing step's (0: open), sent time of the
    # opening change by instrument, expected profit) of every window of both tracks
    spans: list[tuple[tuple[str, str, str], int, int, int, int]] = []
    for window in plan.windows:
        game = plan.games[window.game]
        instrument = _opening_instrument(plan, window.open_step, window.team)
        spans.append(
            (
                (game.game_id, game.team_ids[window.team], window.combo),
                applied[window.open_step],
                applied[window.close_step] if window.close_step >= 0 else 0,
                player.sent_ns.get((window.open_step, instrument), 0),
                window.opportunity.profit,
            )
        )
    events = plan.events
    for ew in events.windows:
        step = events.steps[ew.open_step]
        market = events.events[ew.event].markets[step.market]
        sent = [
            player.event_sent_ns.get((ew.open_step, i), 0)
            for i in (market.instrument, market.mirror)
            if i
        ]
        spans.append(
            (
                (events.events[ew.event].game_id, "", ew.label),
                player.event_applied_ns[ew.open_step],
                player.event_applied_ns[ew.close_step] if ew.close_step >= 0 else 0,
                min((s for s in sent if s), default=0),
                ew.opportunity.profit,
            )
        )
    for key, opened, closed, sent_ns, profit in spans:
        if not opened:
            continue
        key_windows.setdefault(key, []).append((opened, closed or end_ns))
        eligible = (closed or end_ns) - opened > budget_ns
        deadline = min(closed or end_ns, opened + budget_ns)
        hit = next((s for s in opens.get(key, []) if opened <= s.published_ns <= deadline), None)
        latency = None
        if hit is not None:
            latency = (hit.published_ns - (sent_ns or opened)) / 1000
        results.append(
            WindowResult(
                game_id=key[0],
                team=key[1],
                combo=key[2],
                opened_ns=opened,
                closed_ns=closed,
                eligible=eligible,
                detected=hit is not None,
                latency_us=latency,
                expected_profit=profit,
                signalled_profit=hit.profit if hit is not None else None,
            )
        )
    traps: dict[str, list[tuple[int, int]]] = {}
    played: list[str] = []
    trap_spans = [
        (plan.games[t.game].game_id, applied[t.start_step], applied[t.end_step]) for t in plan.traps
    ] + [
        (
            events.events[t.event].game_id,
            player.event_applied_ns[t.start_step],
            player.event_applied_ns[t.end_step],
        )
        for t in events.traps
    ]
    for game_id, start, end in trap_spans:
        if not start:
            continue
        played.append(game_id)
        traps.setdefault(game_id, []).append((start, end or end_ns))
    false = trap_hits = 0
    legs = _LegHistory(plan, player) if plan.games else None
    unjustified: list[ArbSignal] = []
    wrong: list[tuple[str, str]] = []  # (game id, "false" or "trap")
    for sig in signals:
        if sig.event == "close" or sig.game_id not in kind_of:
            if sig.event != "close":
                false += 1
                unjustified.append(sig)
                wrong.append((sig.game_id, "false"))
            continue
        lo, hi = sig.published_ns - grace_ns, sig.published_ns
        windows = key_windows.get((sig.game_id, sig.team, sig.combo), [])
        if any(a <= hi and lo <= b for a, b in windows):
            continue
        if legs is not None and legs.justify(sig, lo, hi):
            continue
        unjustified.append(sig)
        if any(a <= hi and lo <= b for a, b in traps.get(sig.game_id, [])):
            trap_hits += 1
            wrong.append((sig.game_id, "trap"))
        else:
            false += 1
            wrong.append((sig.game_id, "false"))
    eligible_windows = [r for r in results if r.eligible]
    detected = [r for r in eligible_windows if r.detected]
    lat = [r.latency_us for r in results if r.latency_us is not None]
    kinds = _by_kind(kind_of, results, wrong, played)
    return Score(
        windows=tuple(results),
        injected=len(results),
        eligible=len(eligible_windows),
        detected=len(detected),
        missed=len(eligible_windows) - len(detected),
        short_detected=sum(1 for r in results if r.detected and not r.eligible),
        false_signals=false,
        trap_signals=trap_hits,
        traps=len(played),
        latency_us=percentiles(lat),
        profit_matches=sum(1 for r in detected if r.signalled_profit == r.expected_profit),
        unjustified=tuple(unjustified),
        kinds=kinds,
    )


def _by_kind(
    kind_of: dict[str, str],
    results: Sequence[WindowResult],
    wrong: Sequence[tuple[str, str]],
    traps: Sequence[str],
) -> dict[str, dict[str, int]]:
    """The scorecard's counts per kind of game (a signal on an unknown game: ``other``)."""
    fields = (
        *("injected", "eligible", "detected", "missed"),
        *("false_signals", "trap_signals", "traps"),
    )
    out = {kind: dict.fromkeys(fields, 0) for kind in sorted(set(kind_of.values()))}
    for r in results:
        counts = out[kind_of[r.game_id]]
        counts["injected"] += 1
        counts["eligible"] += r.eligible
        counts["detected"] += r.eligible and r.detected
        counts["missed"] += r.eligible and not r.detected
    for game_id, what in wrong:
        counts = out.setdefault(kind_of.get(game_id, "other"), dict.fromkeys(fields, 0))
        counts["false_signals" if what == "false" else "trap_signals"] += 1
    for game_id in traps:
        out[kind_of[game_id]]["traps"] += 1
    return out


def _opening_instrument(plan: Plan, step_index: int, team: int) -> str:
    step = plan.steps[step_index]
    game = plan.games[step.game]
    if step.instrument == "poly":
        return game.token_a if team == 0 else game.token_b
    return game.kalshi_a if step.instrument == "kalshi_a" else game.kalshi_b


_B = TypeVar("_B")


def _during(history: list[tuple[int, _B]], lo: int, hi: int) -> list[_B]:
    """A leg's book at ``lo`` and every book a step applied in ``(lo, hi]``."""
    out: list[_B] = []
    for ns, book in history:
        if ns <= lo:
            out = [book]
        elif ns <= hi:
            out.append(book)
    return out


class _LegHistory:
    """Every moneyline game's true books per leg, with the wall-clock time each was applied."""

    def __init__(self, plan: Plan, player: MarketPlayer) -> None:
        self.index = {g.game_id: g.index for g in plan.games}
        self.teams = {g.game_id: g.team_ids for g in plan.games}
        # per game: each Kalshi market's and token A's books, (applied ns, book), the
        # initial book at 0, in applied order
        self.kalshi: dict[tuple[int, str], list[tuple[int, KalshiBook]]] = {}
        self.poly: dict[int, list[tuple[int, TokenBook]]] = {}
        for game, books in zip(plan.games, plan.initial, strict=True):
            self.kalshi[game.index, "kalshi_a"] = [(0, books.kalshi_a)]
            self.kalshi[game.index, "kalshi_b"] = [(0, books.kalshi_b)]
            self.poly[game.index] = [(0, books.poly_a)]
        for ns, i in sorted((ns, i) for i, ns in enumerate(player.applied_ns) if ns):
            step = plan.steps[i]
            if step.instrument == "poly" and step.poly is not None:
                self.poly[step.game].append((ns, step.poly))
            elif step.kalshi is not None:
                self.kalshi[step.game, step.instrument].append((ns, step.kalshi))

    def justify(self, sig: ArbSignal, lo: int, hi: int) -> bool:
        """Whether some choice of each leg's true book in ``[lo, hi]`` has the signal's
        opportunity (its game, team and combination)."""
        game = self.index.get(sig.game_id)
        if game is None or sig.team not in self.teams[sig.game_id]:
            return False
        team = self.teams[sig.game_id].index(sig.team)
        legs = ("kalshi_a", "kalshi_b") if team == 0 else ("kalshi_b", "kalshi_a")
        other = _during(self.kalshi[game, legs[1]], hi, hi)[0]  # not in this team's pair
        for kalshi in _during(self.kalshi[game, legs[0]], lo, hi):
            for poly in _during(self.poly[game], lo, hi):
                books = (
                    GameBooks(kalshi, other, poly) if team == 0 else GameBooks(other, kalshi, poly)
                )
                if (team, sig.combo) in truth(books):
                    return True
        return False
