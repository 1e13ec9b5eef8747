"""The simulated games' fates: one postponed, one cancelled, the rest played (seeded)."""

from __future__ import annotations

from collections import Counter

from arbees.book import Level
from arbees.money import parse_fixed
from arbees.sim.books import KalshiBook
from arbees.sim.fates import event_fates, game_fates, kalshi_last_price
from arbees.sim.plan import PlanConfig, make_plan


def test_the_busiest_game_is_postponed_the_next_cancelled_the_rest_played() -> None:
    plan = make_plan(PlanConfig(seed=3, games=6))
    assert plan.windows
    fates = game_fates(plan)
    assert fates == game_fates(plan)  # deterministic
    assert [f.game_id for f in fates] == [g.game_id for g in plan.games]
    by_scenario = Counter(f.scenario for f in fates)
    assert by_scenario == {"result": 4, "postponed": 1, "cancelled": 1}
    windows = Counter(w.game for w in plan.windows)
    index = {g.game_id: g.index for g in plan.games}
    postponed = next(f for f in fates if f.scenario == "postponed")
    cancelled = next(f for f in fates if f.scenario == "cancelled")
    assert windows[index[postponed.game_id]] == max(windows.values())
    assert windows[index[cancelled.game_id]] >= max(
        windows[index[f.game_id]] for f in fates if f.scenario == "result"
    )
    for fate, game in zip(fates, plan.games, strict=True):
        if fate.scenario == "result":
            assert fate.winner in game.team_ids
        else:
            assert fate.winner == ""


def test_kalshi_last_price_is_the_top_of_book_midpoint_exactly() -> None:
    p = parse_fixed
    book = KalshiBook(yes_bids=(Level(p("0.41"), 5),), no_bids=(Level(p("0.56"), 5),))
    assert kalshi_last_price(book) == p("0.425")  # bid 0.41, ask 1 - 0.56 = 0.44
    assert kalshi_last_price(KalshiBook(yes_bids=(), no_bids=book.no_bids)) == 0


def test_event_games_a_soccer_game_postponed_the_total_cancelled_the_rest_played() -> None:
    plan = make_plan(PlanConfig(seed=3, games=2, duration_s=5.0, event_games=True))
    events = plan.events.events
    assert events
    fates = event_fates(plan)
    assert fates == event_fates(plan)  # deterministic
    assert [f.game_id for f in fates] == [e.game_id for e in events]
    by_id = {e.game_id: e for e in events}
    postponed = [by_id[f.game_id] for f in fates if f.scenario == "postponed"]
    cancelled = [by_id[f.game_id] for f in fates if f.scenario == "cancelled"]
    assert [e.kind for e in postponed] == ["3-way"]
    assert [e.kind for e in cancelled] == ["total"]
    windows = Counter(w.event for w in plan.events.windows)
    assert windows[postponed[0].index] == max(windows[e.index] for e in events if e.kind == "3-way")
    for fate in fates:
        if fate.scenario == "result":
            assert fate.winner in by_id[fate.game_id].outcomes
        else:
            assert fate.winner == ""
    # the pairs' fates do not change with the event games
    assert game_fates(plan) == game_fates(make_plan(PlanConfig(seed=3, games=2, duration_s=5.0)))
