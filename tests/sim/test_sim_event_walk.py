"""The event games' books random-walk between scenarios: they move, never cross, and never
show a cover, not even in a mix of markets the shard may hold from different instants."""

from __future__ import annotations

import itertools

import attrs
import pytest

from arbees.money import ONE
from arbees.sim import PlanConfig, make_plan
from arbees.sim.books import KalshiBook, TokenBook
from arbees.sim.events import IN_FLIGHT_S, EventPlan, event_truth
from arbees.sim.plan import Plan

CONFIG = PlanConfig(seed=4, games=4, duration_s=20.0, walk_rate=20.0, event_games=True)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return make_plan(CONFIG)


def _scenarios(events: EventPlan) -> dict[int, list[tuple[float, float]]]:
    """Each event's scenario spans (opening or trap step to its closing one)."""
    spans: dict[int, list[tuple[float, float]]] = {}
    starts: dict[tuple[int, int], float] = {}
    for step in events.steps:
        key = (step.event, step.market)
        if step.action in ("open", "trap"):
            starts[key] = step.at
        elif step.action in ("close", "untrap"):
            spans.setdefault(step.event, []).append((starts.pop(key), step.at))
    return spans


def _uncrossed(book: KalshiBook | TokenBook) -> bool:
    if isinstance(book, KalshiBook):
        bids = (book.yes_bids, book.no_bids)
        ok = not (book.yes_bids and book.no_bids) or (
            book.yes_bids[0].price + book.no_bids[0].price < ONE
        )
    else:
        bids = (book.bids,)
        ok = bool(book.bids and book.asks) and book.bids[0].price < book.asks[0].price
        ok = ok and [lvl.price for lvl in book.asks] == sorted(lvl.price for lvl in book.asks)
    for side in bids:
        prices = [lvl.price for lvl in side]
        ok = ok and prices == sorted(prices, reverse=True) and all(0 < p < ONE for p in prices)
    return ok


def test_event_books_walk_between_scenarios_never_crossing(plan: Plan) -> None:
    events = plan.events
    walks = [s for s in events.steps if s.action == "walk"]
    assert {s.event for s in walks} == set(range(len(events.events)))  # every event moves
    for ev in events.events:  # on both venues
        venues = {ev.markets[s.market].venue for s in walks if s.event == ev.index}
        assert venues == {"kalshi", "polymarket"}, ev.game_id
    # the books move: a market's walked books differ from its first one
    moved = {(s.event, s.market) for s in walks if s.book != events.initial[s.event][s.market]}
    assert len(moved) >= len(events.events) * 2
    assert all(_uncrossed(s.book) for s in events.steps)
    assert all(_uncrossed(b) for books in events.initial for b in books)
    # never during the event's own scenario
    for event, spans in _scenarios(events).items():
        for step in walks:
            if step.event == event:
                assert not any(a <= step.at <= b for a, b in spans), (event, step.at)
    # never while Kalshi is stalled for a pair's stale-book trap
    stalls = [s.at for s in plan.steps if s.action in ("stall", "resume")]
    assert len(stalls) >= 2
    for stall, resume in itertools.pairwise(stalls[:2]):
        assert not any(stall <= s.at <= resume for s in walks)


def test_a_walk_step_shows_no_cover_in_any_mix_in_flight(plan: Plan) -> None:
    events = plan.events
    # per event and market: (time, book) of every book, in order
    history = [[[(0.0, b)] for b in books] for books in events.initial]
    current = [list(books) for books in events.initial]
    checked = 0
    for step in events.steps:
        ev = events.events[step.event]
        current[step.event][step.market] = step.book
        if step.action == "walk":
            options = []
            for m, past in enumerate(history[step.event]):
                if m == step.market:
                    options.append([step.book])
                    continue
                older = [b for t, b in past if t <= step.at - IN_FLIGHT_S][-1:]
                options.append(older + [b for t, b in past if t > step.at - IN_FLIGHT_S])
            for mix in itertools.product(*options):
                assert event_truth(ev, tuple(mix)) == {}, (ev.game_id, step.at)
                checked += 1
            assert event_truth(ev, tuple(current[step.event])) == {}
        history[step.event][step.market].append((step.at, step.book))
    assert checked > len([s for s in events.steps if s.action == "walk"])  # mixes were seen


def test_no_walk_without_a_walk_rate_and_the_walk_is_deterministic(plan: Plan) -> None:
    still = make_plan(attrs.evolve(CONFIG, walk_rate=0.0)).events
    assert not [s for s in still.steps if s.action == "walk"]
    assert still.windows
    assert make_plan(CONFIG).events == plan.events


def test_an_event_stale_trap_crosses_only_the_stalled_kalshi_copy(plan: Plan) -> None:
    events = plan.events
    stalls = [s.at for s in plan.steps if s.action in ("stall", "resume")]
    stale = [t for t in events.traps if t.kind == "stale"]
    assert stale
    books = [list(b) for b in events.initial]
    history: list[list[list[KalshiBook | TokenBook]]] = [list(map(list, books))]
    for step in events.steps:
        books[step.event][step.market] = step.book
        history.append([list(b) for b in books])
    for trap in stale:
        ev = events.events[trap.event]
        assert any(a < trap.start and trap.end < b for a, b in itertools.pairwise(stalls))
        (kalshi_move,) = [
            i
            for i, s in enumerate(events.steps)
            if s.action == "stale" and s.event == trap.event and s.at < trap.start
        ]
        move = events.steps[kalshi_move]
        stall = max(t for t in stalls if t <= move.at)
        assert ev.markets[move.market].venue == "kalshi"
        assert move.at - stall < 0.5  # queued on the stalled socket from the start
        assert trap.start - stall >= plan.config.stale_after_s - 1e-9  # Kalshi copy that old
        cross = events.steps[trap.start_step]
        assert ev.markets[cross.market].venue == "polymarket"
        true = history[trap.start_step + 1][trap.event]
        assert event_truth(ev, tuple(true)) == {}  # the true books: no cover
        stale_copy = list(true)
        stale_copy[move.market] = history[kalshi_move][trap.event][move.market]
        seen = event_truth(ev, tuple(stale_copy))
        assert seen  # the stale Kalshi copy: a cover, through that Kalshi market
        assert all(
            any(leg.instrument == ev.markets[move.market].instrument for leg in o.legs)
            for o in seen.values()
        )
        assert trap.raw_sum < ONE
        # Polymarket is back before Kalshi resumes
        assert (
            events.steps[trap.end_step].book == history[trap.start_step][trap.event][cross.market]
        )
        assert trap.end < max(stalls)
