"""The soak's schedule: faults on a timetable, a market frozen around them, canaries.

Why the market is frozen during faults: during a fault some of the system's copies of the
books are *legitimately* out of date — a stalled or disconnected Polymarket socket, a Redis
outage (updates published meanwhile are lost: the bus is at-most-once), an egress loss, a
stalled Kalshi socket whose queued frames would arrive in a burst. A move on one venue
during such a phase can make the other venue's stale copy look crossed, which no detector
can tell from a real opportunity until its silence/age limits fire (for a stalled
Polymarket socket: the monitor's silence timeout). So every fault phase — from just before
the fault until ``margin_s`` after it ends — is a *quiet span* of the plan
(:attr:`arbees.sim.plan.PlanConfig.quiet_spans`): the planner makes no walk step there and
lets no scenario overlap it, and the ground truth stays the planner's own, exact by
construction. (Dropping steps from a finished plan instead reaches book combinations the
planner never validated, and breaks its stale traps.) The plan's own stale traps (Kalshi
stalled, Polymarket crossing only the stale Kalshi copy) stay, and faults are scheduled
away from them.

Canaries measure recovery: two extra games outside the plan whose arbitrage is toggled
every ``canary_period_s`` — one through Kalshi (a NO bid that lowers YES A's ask), one
through Polymarket (a bid on token A). They pause during a fault and resume when it ends;
the first canary signal after the end is when signals flow again on that venue. Their
books never change otherwise, so a stale copy of them is never wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs

from arbees.bench._e2e_stack import BenchGame
from arbees.messages import TeamLeg
from arbees.sim.games import SimGame
from arbees.sim.plan import Plan, PlanConfig
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.fake_polymarket import FakePolymarket

__all__ = [
    "FAULT_KINDS",
    "CanaryBooks",
    "Fault",
    "bench_game",
    "canary_games",
    "install_canaries",
    "quiet_spans",
    "schedule_faults",
    "stall_spans",
]

FAULT_KINDS: Final = (
    "redis_restart",
    "socket_drop",
    "polymarket_stall",
    "kalshi_stall",
    "kalshi_seq_gap",
    "egress_flip",
)
"""Every kind of fault, in the order the schedule cycles through them."""

_FAULT_S: Final = {
    "redis_restart": 1.0,
    "socket_drop": 0.2,
    "polymarket_stall": 2.0,
    "kalshi_stall": 2.0,
    "kalshi_seq_gap": 0.3,
    "egress_flip": 1.5,
}
"""Planned length of each fault (its real end is recorded when it happens)."""


@attrs.frozen
class Fault:
    """One scheduled fault.

    Attributes:
        kind: one of :data:`FAULT_KINDS`.
        at: market seconds when it starts.
        hold_s: how long it lasts (stall, outage, forbidden country).
        quiet_until: market seconds until which only Polymarket walks are played.
    """

    kind: str
    at: float
    hold_s: float
    quiet_until: float


def schedule_faults(
    plan: Plan,
    *,
    avoid: Sequence[tuple[float, float]] = (),
    start_s: float = 1.5,
    margin_s: float = 2.5,
    lead_s: float = 0.5,
    gap_s: float = 2.0,
) -> list[Fault]:
    """Faults of every kind in turn, ``gap_s`` of live market between the end of one
    fault's phase and the next, away from the plan's Kalshi stalls."""
    stalls = [*stall_spans(plan), *_slot_spans(plan.config), *avoid]
    faults: list[Fault] = []
    t = start_s
    end = plan.config.duration_s - 0.5
    n = 0
    while True:
        kind = FAULT_KINDS[n % len(FAULT_KINDS)]
        hold = _FAULT_S[kind]
        span = (t - lead_s, t + hold + margin_s)
        clash = next((s for s in stalls if s[0] - 1.0 < span[1] and span[0] < s[1] + 1.0), None)
        if clash is not None:
            t = clash[1] + 1.0 + lead_s
            continue
        if span[1] > end:
            return faults
        faults.append(Fault(kind, t, hold, span[1]))
        t = span[1] + gap_s + lead_s
        n += 1


def _slot_spans(config: PlanConfig) -> list[tuple[float, float]]:
    """Where the planner *may* put its stale traps (as :mod:`arbees.sim.plan` places its
    slots), widened by the largest scenario gap: whether a trap fits a slot depends on the
    books, which the quiet spans change, so the slots are avoided whether used or not."""
    if not config.stale_traps or config.duration_s < 4.5:
        return []
    length = config.stale_after_s + 0.6
    spans = []
    start = config.duration_s - length - 0.3
    while start > config.warmup_s + 1.0:
        spans.append((start - 0.5, start + length + config.scenario_gap_s[1] + 0.5))
        start -= config.stale_every_s
    return spans


def stall_spans(plan: Plan) -> list[tuple[float, float]]:
    """``(stall - 0.5, resume + 0.5)`` of the plan's own Kalshi stalls (its stale traps)."""
    spans = []
    start = None
    for step in plan.steps:
        if step.action == "stall":
            start = step.at
        elif step.action == "resume" and start is not None:
            spans.append((start - 0.5, step.at + 0.5))
            start = None
    return spans


def quiet_spans(faults: Sequence[Fault], *, lead_s: float = 0.5) -> tuple[tuple[float, float], ...]:
    """The market's frozen spans (:attr:`arbees.sim.plan.PlanConfig.quiet_spans`) for ``faults``."""
    return tuple((f.at - lead_s, f.quiet_until) for f in faults)


def bench_game(game: SimGame) -> BenchGame:
    """A simulated game as the services' assignments describe it."""
    a, b = game.team_ids
    teams = (TeamLeg(a, game.kalshi_a, game.token_a), TeamLeg(b, game.kalshi_b, game.token_b))
    return BenchGame(game.game_id, game.league, teams, game.condition_id)


@attrs.frozen
class CanaryBooks:
    """One canary game's quiet books and its toggle.

    Attributes:
        game: the game.
        venue: ``"kalshi"`` or ``"polymarket"`` (where its toggle happens).
        kalshi_a, kalshi_b: ``(yes bids, no bids)`` of both Kalshi markets.
        poly_a, poly_b: ``(bids, asks)`` of both tokens.
        toggle: ``(side, price, size)`` the toggle adds and removes (Kalshi ``"no"`` /
            Polymarket ``"BUY"``).
    """

    game: BenchGame
    venue: str
    kalshi_a: tuple[list[tuple[str, str]], list[tuple[str, str]]]
    kalshi_b: tuple[list[tuple[str, str]], list[tuple[str, str]]]
    poly_a: tuple[list[tuple[str, str]], list[tuple[str, str]]]
    poly_b: tuple[list[tuple[str, str]], list[tuple[str, str]]]
    toggle: tuple[str, str, str]


def canary_games() -> list[CanaryBooks]:
    """The two canaries (see the module docstring; quietness is checked in the tests).

    Kalshi canary: YES A asks 0.50 (NO bid 0.50); Polymarket A bids 0.45 (its NO costs
    0.55). The toggle adds a NO bid at 0.60: YES A at 0.40 + 0.55 is an opportunity.
    Polymarket canary: the e2e bench's books; the toggle is a token-A bid at 0.55.
    """
    out = []
    for i, venue in enumerate(("kalshi", "polymarket")):
        event = f"KXCANARY-26NOV26C{i}"
        base = 10**42 + 2 * i
        game = BenchGame(
            event,
            "NBA",
            (
                TeamLeg(f"NBA:CA{i}", f"{event}-A", str(base)),
                TeamLeg(f"NBA:CB{i}", f"{event}-B", str(base + 1)),
            ),
            "0x" + f"{0xCA0 + i:064x}",
        )
        if venue == "kalshi":
            out.append(
                CanaryBooks(
                    game,
                    venue,
                    kalshi_a=([("0.38", "100")], [("0.50", "100")]),
                    kalshi_b=([("0.50", "100")], [("0.40", "100")]),
                    poly_a=([("0.45", "100")], [("0.60", "100")]),
                    poly_b=([("0.40", "100")], [("0.55", "100")]),
                    toggle=("no", "0.60", "100"),
                )
            )
        else:
            out.append(
                CanaryBooks(
                    game,
                    venue,
                    kalshi_a=([("0.38", "100")], [("0.58", "100")]),
                    kalshi_b=([("0.56", "100")], [("0.40", "100")]),
                    poly_a=([("0.40", "100")], [("0.60", "100")]),
                    poly_b=([("0.40", "100")], [("0.60", "100")]),
                    toggle=("BUY", "0.55", "100"),
                )
            )
    return out


def install_canaries(
    canaries: Sequence[CanaryBooks], kalshi: FakeKalshi, poly: FakePolymarket
) -> None:
    for c in canaries:
        a, b = c.game.teams
        for team, (yes, no) in ((a, c.kalshi_a), (b, c.kalshi_b)):
            kalshi.add_market(team.kalshi_ticker, event_ticker=c.game.game_id, status="active")
            kalshi.set_book(team.kalshi_ticker, yes=yes, no=no)
        for team, (bids, asks) in ((a, c.poly_a), (b, c.poly_b)):
            poly.set_book(team.poly_token, bids, asks, market=c.game.condition_id)
