"""The simulator's event games: listed as the venues list them, matched by the real
matcher, and a truth whose windows and traps are what they claim to be."""

from __future__ import annotations

import json
import random
from datetime import date
from decimal import Decimal
from typing import Any

import attrs
import pytest

from arbees.fees import terms_model
from arbees.kalshi.models import parse_events, parse_series_list
from arbees.matching.catalogue import TeamCatalogue
from arbees.matching.events import Reason
from arbees.matching.venue_listings import build_catalogue
from arbees.money import ONE
from arbees.polymarket.models import parse_gamma_events, parse_gamma_teams
from arbees.services.discovery import discover_games
from arbees.sim import PlanConfig, make_plan
from arbees.sim.events import (
    EVENT_TERMS,
    KALSHI_ONLY_LINE,
    EventBooks,
    EventPlan,
    event_truth,
    install_events,
    make_events,
    raw_cover_sum,
)
from arbees.sim.games import install_discovery, make_games
from arbees.sim.plan import Plan
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.fake_polymarket import FakePolymarket
from arbees.venues import Listing
from arbees.venues.kalshi import kalshi_fee_model
from arbees.venues.polymarket import gamma_listing
from arbees.wiring.discovery import match_inputs

DAY = date(2026, 11, 26)
CONFIG = PlanConfig(seed=5, games=4, duration_s=20.0, walk_rate=20.0, event_games=True)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return make_plan(CONFIG)


def _json(value: Any) -> Any:
    """What a client decodes from the fake's body (numbers as ``Decimal``)."""
    return json.loads(json.dumps(value), parse_float=Decimal)


def _discover(kalshi: FakeKalshi, poly: FakePolymarket) -> Any:
    """The real discovery over the fakes' REST bodies (as ``arbees match`` reads them)."""
    status, body = kalshi.handle_rest(
        "GET", "/trade-api/v2/events?with_nested_markets=true&limit=200", {}
    )
    assert status == 200
    events, k_refused = parse_events(_json(body))
    gamma, p_refused = parse_gamma_events(_json(poly.events))
    teams, t_refused = parse_gamma_teams(_json(poly.teams))
    assert (k_refused, p_refused, t_refused) == ([], [], [])
    fees = {
        e.event_ticker: kalshi_fee_model(kalshi_series(kalshi, e.series_ticker)) for e in events
    }
    listings = {"kalshi": Listing(tuple(events), (), fees), "polymarket": gamma_listing(gamma)}
    catalogue: TeamCatalogue = build_catalogue(teams)
    return discover_games(match_inputs(listings, catalogue))


def kalshi_series(kalshi: FakeKalshi, ticker: str) -> Any:
    """The series as ``GET /series?category=Sports`` lists it."""
    status, body = kalshi.handle_rest("GET", "/trade-api/v2/series?category=Sports", {})
    assert status == 200
    listed, refused = parse_series_list(_json(body))
    assert refused == []
    return next(s for s in listed if s.ticker == ticker)


def test_event_games_flow_through_the_real_matcher_with_their_contracts() -> None:
    kalshi, poly = FakeKalshi(require_auth=False), FakePolymarket()
    games = make_games(4, random.Random(1), first_day=DAY)
    events = make_events(random.Random(2), day=DAY)
    install_discovery(games, kalshi, poly)
    install_events(events, kalshi, poly)
    found = _discover(kalshi, poly)
    assert set(found.games) == {g.game_id for g in games} | {e.game_id for e in events}
    kinds = sorted(e.kind for e in events)
    assert kinds == ["3-way", "3-way", "moneyline", "total"]
    for ev in events:
        spec = found.games[ev.game_id]
        assert spec.outcomes == ev.outcomes
        mine = set()
        for market, mirror, outcome in ev.contracts:
            info = ev.markets[market]
            instrument = info.mirror if mirror else info.instrument
            mine |= {(info.venue, instrument, outcome, side) for side in ("yes", "no")}
        assert {(c.venue, c.instrument, c.outcome, c.side) for c in spec.contracts} == mine
        # the fee terms the shard gets are the ones the truth is computed with
        for terms in spec.fees:
            assert terms_model(terms) == EVENT_TERMS[terms.venue].fees
            assert (terms.min_order_size or 0) == EVENT_TERMS[terms.venue].min_order_size
    soccer = next(e for e in events if e.kind == "3-way")
    assert soccer.outcomes[1] == "draw"
    assert sum(1 for m in soccer.markets if m.venue == "kalshi") == 3  # the tie is a market
    assert sum(1 for m in soccer.markets if m.venue == "polymarket") == 3  # one per outcome
    # the line only Kalshi lists stays unmatched, with the reason
    assert found.events is not None
    lonely = [u for u in found.events.unmatched if u.reason is Reason.LINE_ONE_VENUE]
    assert len(lonely) == 1
    assert f"over {KALSHI_ONLY_LINE}" in lonely[0].detail
    assert lonely[0].venue == "kalshi"


def _replay(events: EventPlan) -> list[list[EventBooks]]:
    """Every event's books after every event step (index 0: initial)."""
    books = list(events.initial)
    history = [list(books)]
    for step in events.steps:
        changed = list(books[step.event])
        changed[step.market] = step.book
        books[step.event] = tuple(changed)
        history.append(list(books))
    return history


def test_event_windows_are_the_truth_of_the_books_and_traps_pay_nothing(plan: Plan) -> None:
    events = plan.events
    assert {events.events[w.event].kind for w in events.windows} == {"3-way", "moneyline", "total"}
    assert {t.kind for t in events.traps} == {"fees", "depth", "stale"}
    # a 3-way cover across venues: YES on each of the three outcomes, both venues' legs
    three_way = [w.label for w in events.windows if events.events[w.event].kind == "3-way"]
    assert any(
        label.count(" YES ") == 3 and "kalshi" in label and "polymarket" in label
        for label in three_way
    ), three_way
    history = _replay(events)
    for ev, books in zip(events.events, events.initial, strict=True):
        assert event_truth(ev, books) == {}  # quiet at the start
        assert raw_cover_sum(ev, books) >= ONE
    # Every window is in the truth of the books from its opening step to its closing one,
    # and every truth of every state is covered by a window.
    for w in events.windows:
        ev = events.events[w.event]
        end = w.close_step if w.close_step >= 0 else len(events.steps)
        for i in range(w.open_step, end):
            assert w.label in event_truth(ev, history[i + 1][w.event])
        assert event_truth(ev, history[w.open_step + 1][w.event])[w.label] == w.opportunity
        if w.close_step >= 0:
            assert w.label not in event_truth(ev, history[w.close_step + 1][w.event])
    for i, state in enumerate(history[1:]):
        step = events.steps[i]
        labels = set(event_truth(events.events[step.event], state[step.event]))
        windows = {
            w.label
            for w in events.windows
            if w.event == step.event and w.open_step <= i and (w.close_step < 0 or i < w.close_step)
        }
        assert labels == windows
    # A trap looks cheap at the top of the book (raw sum below $1) but no cover pays (a
    # stale trap: in the stale Kalshi copy, see test_sim_event_walk).
    for trap in events.traps:
        if trap.kind == "stale":
            continue
        ev = events.events[trap.event]
        books = history[trap.start_step + 1][trap.event]
        assert trap.raw_sum < ONE
        assert raw_cover_sum(ev, books) == trap.raw_sum
        assert event_truth(ev, books) == {}
        if trap.kind == "depth":
            step = events.steps[trap.start_step]
            assert ev.markets[step.market].venue == "polymarket"
            assert EVENT_TERMS["polymarket"].min_order_size == 5 * ONE
            book = step.book
            cheap = min(book.asks[0].size, book.bids[0].size)  # type: ignore[union-attr]
            assert cheap < 5 * ONE
    # Scenarios restore the book they moved: every trap ends quiet.
    for trap in events.traps:
        assert event_truth(events.events[trap.event], history[trap.end_step + 1][trap.event]) == {}


def test_half_applied_polymarket_changes_show_no_cover_outside_the_truth(plan: Plan) -> None:
    """The fake sends a market's first token, then its second: the shard can see the NFL
    winner's two tokens out of step, which must not show a cover that is in neither."""
    events = plan.events
    history = _replay(events)
    checked = 0
    for i, step in enumerate(events.steps):
        ev = events.events[step.event]
        if not any(m == step.market and mirror for m, mirror, _ in ev.contracts):
            continue
        before, after = history[i][step.event], history[i + 1][step.event]
        halfway = event_truth(ev, after, lagging=before)
        assert halfway.keys() <= event_truth(ev, before).keys() | event_truth(ev, after).keys()
        checked += 1
    assert checked >= 2


def test_event_games_leave_the_pairs_plan_unchanged_and_are_deterministic(plan: Plan) -> None:
    without = make_plan(attrs.evolve(CONFIG, event_games=False))
    assert without.events == EventPlan()
    assert (without.steps, without.windows, without.traps) == (plan.steps, plan.windows, plan.traps)
    assert make_plan(CONFIG).events == plan.events
    # no event scenario during a stale-book trap (Kalshi is stalled then)
    for stale in (t for t in plan.traps if t.kind == "stale"):
        for w in plan.events.windows:
            assert w.closed_at < stale.start - 1.4 or w.opened_at > stale.end
