"""The market simulator's promises, checked synchronously on its plans."""

from __future__ import annotations

import attrs
import pytest
from tests.fee_terms import pair_fields

from arbees.arb import PairAsks
from arbees.book import mirror_levels
from arbees.kalshi.models import parse_events
from arbees.money import CENT, ONE
from arbees.polymarket.models import parse_gamma_events
from arbees.services.discovery import discover_games
from arbees.sim import DEFAULT_FEES, GameBooks, PlanConfig, make_plan, pair_asks, truth
from arbees.sim.books import SUB_TICK, TICK
from arbees.sim.games import gamma_event
from arbees.sim.plan import Plan
from arbees.venues import Listing
from arbees.venues.polymarket import gamma_listing
from arbees.wiring.discovery import match_inputs

CONFIG = PlanConfig(seed=7, games=10, duration_s=12.0, walk_rate=40.0)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return make_plan(CONFIG)


def _replay(plan: Plan) -> list[list[GameBooks]]:
    """Every game's books after every step (index 0: initial)."""
    books = list(plan.initial)
    history = [list(books)]
    for step in plan.steps:
        if step.game >= 0:
            b = books[step.game]
            if step.instrument == "poly" and step.poly is not None:
                books[step.game] = attrs.evolve(b, poly_a=step.poly)
            elif step.instrument == "kalshi_a" and step.kalshi is not None:
                books[step.game] = attrs.evolve(b, kalshi_a=step.kalshi)
            elif step.kalshi is not None:
                books[step.game] = attrs.evolve(b, kalshi_b=step.kalshi)
        history.append(list(books))
    return history


def test_same_seed_same_plan_other_seed_other_plan(plan: Plan) -> None:
    assert make_plan(CONFIG) == plan
    other = make_plan(attrs.evolve(CONFIG, seed=8))
    assert other.steps != plan.steps
    assert [s.at for s in plan.steps] == sorted(s.at for s in plan.steps)


def test_polymarket_books_are_exact_mirrors(plan: Plan) -> None:
    for books in plan.initial:
        b = books.poly_b
        assert b.asks == mirror_levels(books.poly_a.bids)
        assert b.bids == mirror_levels(books.poly_a.asks)
        assert b.mirror() == books.poly_a
        # token A's NO asks are token B's asks: the pair sees one consistent market
        assert pair_asks(books, 0).poly_no == pair_asks(books, 1).poly_yes


def test_books_are_sane_ticks_depth_spread(plan: Plan) -> None:
    for game, history_books in zip(plan.games, plan.initial, strict=True):
        token = history_books.poly_a
        assert 3 <= len(token.bids) <= 5
        assert 3 <= len(token.asks) <= 5
        assert token.bids[0].price < token.asks[0].price
        tick = SUB_TICK if game.lopsided else TICK
        for lvl in (*token.bids, *token.asks):
            assert lvl.price % tick == 0
            assert 0 < lvl.price < ONE
            assert lvl.size > 0
        for k in (history_books.kalshi_a, history_books.kalshi_b):
            assert all(lvl.price % CENT == 0 for lvl in (*k.yes_bids, *k.no_bids))
            assert k.yes_bids[0].price + k.no_bids[0].price < ONE
    assert any(g.lopsided for g in plan.games)


def test_ground_truth_windows_equal_find_opportunities(plan: Plan) -> None:
    history = _replay(plan)
    assert plan.windows, "the plan injects arbitrage windows"
    for window in plan.windows:
        after_open = history[window.open_step + 1][window.game]
        found = truth(after_open, DEFAULT_FEES)
        assert found[(window.team, window.combo)] == window.opportunity
        assert window.opportunity.profit > 0
        before_open = history[window.open_step][window.game]
        assert (window.team, window.combo) not in truth(before_open)
        if window.close_step >= 0:
            after_close = history[window.close_step + 1][window.game]
            assert (window.team, window.combo) not in truth(after_close)
    # nothing outside the windows: the random walk never opens an opportunity
    for index, step in enumerate(plan.steps):
        if step.action == "walk" and step.game >= 0:
            state = history[index + 1][step.game]
            opened = [w for w in plan.windows if w.open_step == index]
            assert not truth(state) or opened


def test_traps_are_not_arbitrage_after_fees(plan: Plan) -> None:
    history = _replay(plan)
    kinds = {t.kind for t in plan.traps}
    assert kinds == {"fees", "stale"}
    for trap in plan.traps:
        assert trap.raw_sum < ONE  # naive (pre-fee) arithmetic would call it arbitrage
        during = history[trap.start_step + 1][trap.game]
        assert truth(during) == {}
        assert not any(
            w.game == trap.game and w.opened_at <= trap.end and trap.start <= w.closed_at
            for w in plan.windows
        )


def test_stale_trap_crosses_only_the_stale_kalshi_copy(plan: Plan) -> None:
    history = _replay(plan)
    trap = next(t for t in plan.traps if t.kind == "stale")
    stall = max(i for i, s in enumerate(plan.steps) if s.action == "stall" and i < trap.start_step)
    resume = next(i for i, s in enumerate(plan.steps) if s.action == "resume" and i > stall)
    assert resume > trap.end_step
    stale_kalshi = history[stall + 1][trap.game].kalshi_a  # what the system last heard
    seen = attrs.evolve(history[trap.start_step + 1][trap.game], kalshi_a=stale_kalshi)
    assert truth(seen)  # a signal here would come from the stale Kalshi book
    assert not truth(history[trap.start_step + 1][trap.game])
    # while Kalshi is stalled no Kalshi book moves except the trap's own (queued) change
    moved = {
        (s.game, s.instrument)
        for s in plan.steps[stall:resume]
        if s.instrument.startswith("kalshi")
    }
    assert moved <= {(trap.game, "kalshi_a")}


def test_pair_asks_match_the_shards_quotes() -> None:
    plan = make_plan(attrs.evolve(CONFIG, games=2, duration_s=1.0))
    books = plan.initial[0]
    k = books.kalshi_a
    assert pair_asks(books, 0) == PairAsks(
        kalshi_yes=mirror_levels(k.no_bids),
        kalshi_no=mirror_levels(k.yes_bids),
        poly_yes=books.poly_a.asks,
        poly_no=mirror_levels(books.poly_a.bids),
    )


def test_discovery_data_matches_every_game(plan: Plan) -> None:
    kalshi_events = {
        "events": [
            {
                "event_ticker": g.event_ticker,
                "series_ticker": g.event_ticker.split("-")[0],
                "title": g.title,
                "markets": [
                    {
                        "ticker": t,
                        "event_ticker": g.event_ticker,
                        "yes_sub_title": team.full_name,
                        "status": "active",
                    }
                    for t, team in ((g.kalshi_a, g.away), (g.kalshi_b, g.home))
                ],
            }
            for g in plan.games
        ]
    }
    kalshi, k_refused = parse_events(kalshi_events)
    gamma, p_refused = parse_gamma_events([gamma_event(g) for g in plan.games])
    assert (k_refused, p_refused) == ([], [])
    inputs = match_inputs({"kalshi": Listing(tuple(kalshi)), "polymarket": gamma_listing(gamma)})
    found = discover_games(inputs)
    assert set(found.games) == {g.game_id for g in plan.games}
    spec = found.games[plan.games[0].game_id]
    assert pair_fields(spec)[1:] == ("0.05", 1, 5 * ONE)
    assert [t.poly_token for t in spec.teams] == [plan.games[0].token_a, plan.games[0].token_b]
