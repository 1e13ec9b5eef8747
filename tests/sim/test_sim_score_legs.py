"""The scorer grants each venue's in-flight data the grace, leg by leg.

Found on a loaded machine (``run_demo`` seed 2, 5 s, load ~7 on 2 cores): game
KXNBAGAME-26NOV26GSWDET's Kalshi "GSW wins" market moved (NO ask 0.63 -> 0.68) at 1544 ms,
Polymarket's GSW ask fell to 0.34 at 1624 ms. Polymarket's change reached the shard 3 ms
later, Kalshi's had not after 89 ms (the Kalshi path lagged; its book was confirmed live at
1529 ms, before the change). The shard signalled ``PolyYes+KalshiNo`` 0.34 + 0.63 at
1633 ms, within its price-age rule, and the scorer counted it false because the two true
books never crossed at one instant. The books and times below are that run's.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import attrs

from arbees.book import Level
from arbees.messages import ArbSignal, SignalLeg
from arbees.money import ONE
from arbees.sim import GameBooks, KalshiBook, PlanConfig, Step, TokenBook, make_plan, truth
from arbees.sim.plan import Plan
from arbees.sim.player import MarketPlayer
from arbees.sim.score import score_signals

MS = 1_000_000
START = 1_000_000_000_000  # the player's wall clock at playback start (ns)
COMBO = "PolyYes+KalshiNo"


def _p(cents: int) -> int:
    return cents * ONE // 100


def _books() -> tuple[GameBooks, KalshiBook, TokenBook]:
    """The game's books before, Kalshi's moved market and Polymarket's crossing book."""
    initial = GameBooks(
        KalshiBook((Level(_p(37), 250 * ONE),), (Level(_p(61), 192 * ONE),)),
        KalshiBook((Level(_p(61), 203 * ONE),), (Level(_p(36), 174 * ONE),)),
        TokenBook((Level(_p(35), 267 * ONE),), (Level(_p(38), 264 * ONE),)),
    )
    kalshi_moved = KalshiBook((Level(_p(32), 250 * ONE),), (Level(_p(65), 192 * ONE),))
    poly_cross = TokenBook((Level(_p(31), 131 * ONE),), (Level(_p(34), 62 * ONE),))
    return initial, kalshi_moved, poly_cross


def _plan(kalshi_at: float, poly_at: float) -> tuple[Plan, list[Step]]:
    initial, kalshi_moved, poly_cross = _books()
    base = make_plan(PlanConfig(seed=2, games=1, duration_s=2.0, stale_traps=False))
    steps = [
        Step(kalshi_at, 0, "kalshi_a", kalshi=kalshi_moved),
        Step(poly_at, 0, "poly", poly=poly_cross),
    ]
    plan = attrs.evolve(
        base,
        initial=(initial,),
        steps=tuple(steps),
        windows=(),
        traps=(),
        events=attrs.evolve(base.events, events=(), initial=(), steps=(), windows=(), traps=()),
    )
    return plan, steps


def _player(plan: Plan) -> MarketPlayer:
    applied = [START + round(step.at * 1000) * MS for step in plan.steps]
    return cast(
        MarketPlayer,
        SimpleNamespace(applied_ns=applied, sent_ns={}, event_applied_ns=[], event_sent_ns={}),
    )


def _signal(plan: Plan, published_ms: int) -> ArbSignal:
    game = plan.games[0]
    size = 60 * ONE
    legs = (
        SignalLeg("polymarket", game.token_a, "yes", _p(34), size, _p(34) * 60, 0),
        SignalLeg("kalshi", game.kalshi_a, "no", _p(63), size, _p(63) * 60, 0),
    )
    return ArbSignal(
        "sig-1", "open", "shard", game.game_id, COMBO, game.team_ids[0], legs,
        size, 0, 0, 1, 1, 0, published_ns=START + published_ms * MS,
    )  # fmt: skip


def _score(plan: Plan, signal: ArbSignal) -> tuple[int, int]:
    score = score_signals(
        plan, _player(plan), [signal], budget_ns=300 * MS, grace_ns=500 * MS, end_ns=START + 3 * ONE
    )
    return score.false_signals, len(score.unjustified)


def test_the_books_never_cross_at_one_instant_only_across_venues() -> None:
    initial, kalshi_moved, poly_cross = _books()
    assert not truth(initial)
    assert not truth(attrs.evolve(initial, kalshi_a=kalshi_moved))
    assert not truth(attrs.evolve(initial, kalshi_a=kalshi_moved, poly_a=poly_cross))
    # the shard's view: Polymarket's new book over Kalshi's book from before its change
    assert (0, COMBO) in truth(attrs.evolve(initial, poly_a=poly_cross))


def test_a_kalshi_book_true_within_the_grace_justifies_the_signal() -> None:
    plan, _ = _plan(kalshi_at=1.544, poly_at=1.624)
    assert _score(plan, _signal(plan, published_ms=1633)) == (0, 0)


def test_a_kalshi_book_older_than_the_grace_does_not() -> None:
    # a stale trap's shape: Kalshi moved 1.3 s before Polymarket crossed its old book
    plan, _ = _plan(kalshi_at=0.1, poly_at=1.4)
    assert _score(plan, _signal(plan, published_ms=1410)) == (1, 1)


def test_a_leg_changed_only_after_the_signal_does_not_justify_it() -> None:
    # Polymarket crosses only after the signal: no true Polymarket book in the interval
    plan, _ = _plan(kalshi_at=1.544, poly_at=1.700)
    assert _score(plan, _signal(plan, published_ms=1633)) == (1, 1)
