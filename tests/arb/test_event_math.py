"""The venue-neutral arbitrage math: hand-computed covers, Hypothesis against an independent
Decimal brute force (every partition, every venue/instrument choice, every size), and
equality with the Kalshi x Polymarket pair engine on binary books."""

from __future__ import annotations

from decimal import Decimal
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbees.arb import (
    ArbStats,
    Contract,
    Event,
    EventOpportunity,
    PairAsks,
    PairFees,
    VenueTerms,
    event_opportunities,
    find_opportunities,
)
from arbees.arb import event as event_module
from arbees.book import Level
from arbees.errors import KernelError
from arbees.fees import KalshiFeeModel, PolymarketFeeModel
from arbees.money import ONE, parse_fixed
from tests.arb.brute import Spec, Venue, brute_force

NO_FEES = VenueTerms(PolymarketFeeModel(Decimal(0), enabled=False))


def lv(price: str, contracts: int) -> Level:
    return Level(parse_fixed(price), contracts * ONE)


def micro(d: Decimal) -> int:
    scaled = d * ONE
    assert scaled == scaled.to_integral_value()
    return int(scaled)


def terms_of(venue: Venue) -> VenueTerms:
    if venue.kind == "kalshi":
        fees: KalshiFeeModel | PolymarketFeeModel = KalshiFeeModel(multiplier=venue.factor)
    elif venue.kind == "polymarket":
        fees = PolymarketFeeModel(venue.factor, exponent=venue.exponent)
    else:
        fees = PolymarketFeeModel(Decimal(0), enabled=False)
    return VenueTerms(fees, venue.min_order * ONE)


def contract_of(spec: Spec) -> Contract:
    asks = tuple(Level(micro(p), c * ONE) for p, c in spec.asks)
    return Contract(spec.venue, spec.instrument, spec.outcome, spec.side, asks)  # type: ignore[arg-type]


def keyed(opps: tuple[EventOpportunity, ...]) -> dict[frozenset[tuple[str, ...]], tuple[int, ...]]:
    return {
        frozenset((leg.venue, leg.instrument, leg.outcome, leg.side) for leg in o.legs): (
            o.size,
            o.cost,
            o.fees,
            o.profit,
        )
        for o in opps
    }


# --- hand-computed ---------------------------------------------------------------------

BINARY = Event(("home", "away"))
KP_TERMS = {
    "kalshi": VenueTerms(KalshiFeeModel()),
    "polymarket": VenueTerms(PolymarketFeeModel(Decimal("0.03")), min_order_size=5 * ONE),
}


def test_binary_kalshi_polymarket_by_hand() -> None:
    contracts = [
        Contract("kalshi", "KX-HOME", "home", "yes", (lv("0.45", 100),)),
        Contract("kalshi", "KX-HOME", "home", "no", (lv("0.57", 100),)),
        Contract("polymarket", "tok-home", "home", "yes", (lv("0.48", 200),)),
        Contract("polymarket", "tok-away", "away", "yes", (lv("0.51", 100), lv("0.50", 50))),
    ]
    best, *rest = event_opportunities(BINARY, contracts, KP_TERMS)
    # Kalshi YES home + Polymarket away, all 100 Kalshi contracts: the marginal contract
    # costs 0.45 + 0.51 + fees (~0.0173 + 0.0075) < $1.
    assert best.label == "KalshiYes+PolyNo"
    assert best.size == 100 * ONE
    kalshi, poly = best.legs
    assert (kalshi.venue, kalshi.instrument, kalshi.side) == ("kalshi", "KX-HOME", "yes")
    assert (poly.venue, poly.instrument, poly.outcome) == ("polymarket", "tok-away", "away")
    assert kalshi.fee == 1_740_000  # 0.07 * 100 * .45 * .55 = 1.7325 -> 1.74
    assert poly.fee == 749_850  # 0.03 * (50 * .25 + 50 * .2499) = 0.74985
    assert poly.notional == 50_500_000
    assert poly.avg_price == 505_000
    assert poly.worst_price == 510_000
    assert best.cost == 95_500_000
    assert best.profit == 2_010_150  # 100 - 95.5 - 1.74 - 0.74985
    assert [o.label for o in rest] == ["PolyOnly"]


def test_soccer_three_venues_by_hand() -> None:
    soccer = Event(("home", "draw", "away"))
    terms = {**KP_TERMS, "exchange": NO_FEES}
    contracts = [
        Contract("kalshi", "KX-H", "home", "yes", (lv("0.40", 50),)),
        Contract("kalshi", "KX-H", "home", "no", (lv("0.62", 100),)),
        Contract("polymarket", "tok-draw", "draw", "yes", (lv("0.25", 100),)),
        Contract("exchange", "X-AWAY", "away", "yes", (lv("0.30", 80),)),
    ]
    (opp,) = event_opportunities(soccer, contracts, terms)
    assert opp.label == "kalshi YES home + polymarket YES draw + exchange YES away"
    assert opp.size == 50 * ONE
    assert [leg.fee for leg in opp.legs] == [840_000, 281_250, 0]  # .07*50*.24; .03*50*.1875
    assert opp.profit == 1_378_750  # 50 - 47.5 - 0.84 - 0.28125
    assert opp.edge_per_contract == 27_575


def test_no_over_yes_on_three_outcomes() -> None:
    soccer = Event(("home", "draw", "away"))
    contracts = [
        Contract("a", "m", "draw", "no", (lv("0.70", 10),)),
        Contract("b", "m", "draw", "yes", (lv("0.29", 4),)),
    ]
    (opp,) = event_opportunities(soccer, contracts, {"a": NO_FEES, "b": NO_FEES})
    assert [(leg.venue, leg.side) for leg in opp.legs] == [("a", "no"), ("b", "yes")]
    assert (opp.size, opp.profit) == (4 * ONE, 40_000)


def test_best_asks_reaching_one_dollar_never_signal() -> None:
    soccer = Event(("home", "draw", "away"))
    at_one = [
        Contract("x", "h", "home", "yes", (lv("0.5", 10),)),
        Contract("x", "d", "draw", "yes", (lv("0.25", 10),)),
        Contract("x", "a", "away", "yes", (lv("0.25", 10),)),
    ]
    assert event_opportunities(soccer, at_one, {"x": NO_FEES}) == ()
    below = [*at_one[:2], Contract("x", "a", "away", "yes", (lv("0.249999", 10),))]
    (opp,) = event_opportunities(soccer, below, {"x": NO_FEES})
    assert (opp.size, opp.profit) == (10 * ONE, 10)
    # the same book with min_edge at the edge: profit per contract must EXCEED min_edge
    assert event_opportunities(soccer, below, {"x": NO_FEES}, min_edge=1) == ()


def test_min_order_size_and_missing_asks() -> None:
    contracts = [
        Contract("p", "t-home", "home", "yes", (lv("0.40", 4),)),
        Contract("p", "t-away", "away", "yes", (lv("0.40", 100),)),
        Contract("q", "t-away", "away", "yes", ()),  # missing: never chosen
    ]
    small = {"p": VenueTerms(NO_FEES.fees, min_order_size=5 * ONE), "q": NO_FEES}
    assert event_opportunities(BINARY, contracts, small) == ()
    (opp,) = event_opportunities(BINARY, contracts, {"p": NO_FEES, "q": NO_FEES})
    assert opp.size == 4 * ONE


def test_bad_arguments_raise() -> None:
    ok = Contract("p", "t", "home", "yes", (lv("0.4", 1),))
    with pytest.raises(KernelError, match="twice"):
        event_opportunities(BINARY, [ok, ok], {"p": NO_FEES})
    with pytest.raises(KernelError, match="no terms for venue 'p'"):
        event_opportunities(BINARY, [ok], {})
    with pytest.raises(KernelError, match="outside the event"):
        event_opportunities(BINARY, [Contract("p", "t", "draw", "yes")], {"p": NO_FEES})
    with pytest.raises(KernelError, match="min_edge"):
        event_opportunities(BINARY, [ok], {"p": NO_FEES}, min_edge=ONE)
    with pytest.raises(KernelError, match="at least two"):
        Event(("only",))
    with pytest.raises(KernelError, match="distinct"):
        Event(("a", "a"))
    with pytest.raises(KernelError, match="not a string"):
        Event("ab")
    with pytest.raises(KernelError, match="min_order_size"):
        VenueTerms(NO_FEES.fees, min_order_size=-1)


def test_too_many_covers_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_module, "MAX_COVERS", 3)
    outcomes = ("a", "b", "c")
    contracts = [
        Contract(v, "m", o, "yes", (lv("0.01", 1),)) for v, o in product(("x", "y"), outcomes)
    ]
    with pytest.raises(KernelError, match="more than 3 covers"):
        event_opportunities(Event(outcomes), contracts, {"x": NO_FEES, "y": NO_FEES})


def test_invalid_levels_are_counted_not_used() -> None:
    counters = ArbStats()
    contracts = [
        Contract("p", "h", "home", "yes", (Level(0, ONE), lv("0.4", 2))),
        Contract("p", "a", "away", "yes", (Level(ONE, ONE), lv("0.5", 1))),
    ]
    (opp,) = event_opportunities(BINARY, contracts, {"p": NO_FEES}, counters=counters)
    assert counters.rejected_levels == 2
    assert (opp.size, opp.profit) == (ONE, 100_000)


# --- Hypothesis against the brute force --------------------------------------------------

PRICES = st.one_of(
    st.integers(1, 99).map(lambda c: Decimal(c) / 100),
    st.integers(1, 999_999).map(lambda m: Decimal(m) / ONE),
)
VENUES = st.one_of(
    st.builds(
        Venue,
        st.just("kalshi"),
        st.sampled_from([Decimal(1), Decimal("0.5"), Decimal(2)]),
        st.just(1),
        st.sampled_from([0, 1, 3]),
    ),
    st.builds(
        Venue,
        st.just("polymarket"),
        st.sampled_from([Decimal(0), Decimal("0.03"), Decimal("0.05")]),
        st.sampled_from([1, 2]),
        st.sampled_from([0, 5]),
    ),
    st.builds(Venue, st.just("none"), min_order=st.sampled_from([0, 2])),
)


@st.composite
def books(
    draw: st.DrawFn, n_outcomes: int
) -> tuple[tuple[str, ...], dict[str, Venue], list[Spec], Decimal]:
    outcomes = ("a", "b", "c")[:n_outcomes]
    names = ("v0", "v1", "v2")[: draw(st.integers(1, 3))]
    venues = {name: draw(VENUES) for name in names}
    keys = draw(
        st.lists(
            st.tuples(
                st.sampled_from(names),
                st.sampled_from(("m1", "m2")),
                st.sampled_from(outcomes),
                st.sampled_from(("yes", "no")),
            ),
            unique=True,
            max_size=7,
        )
    )
    levels = st.lists(st.tuples(PRICES, st.integers(1, 10)), max_size=3)
    specs = [Spec(*key, asks=tuple(draw(levels))) for key in keys]
    min_edge = draw(st.sampled_from([Decimal(0), Decimal("0.001"), Decimal("0.01")]))
    return outcomes, venues, specs, min_edge


def _check_against_brute_force(
    book: tuple[tuple[str, ...], dict[str, Venue], list[Spec], Decimal],
) -> None:
    outcomes, venues, specs, min_edge = book
    got = event_opportunities(
        Event(outcomes),
        [contract_of(s) for s in specs],
        {name: terms_of(v) for name, v in venues.items()},
        min_edge=micro(min_edge),
        counters=ArbStats(),
    )
    expected = brute_force(outcomes, venues, specs, min_edge)
    assert keyed(got) == {
        legs: (b.size * ONE, micro(b.cost), micro(b.fees), micro(b.profit))
        for legs, b in expected.items()
    }
    if got:
        best = max(b.objective for b in expected.values())
        assert got[0].profit * ONE - micro(min_edge) * got[0].size == best * ONE * ONE


@settings(max_examples=300, deadline=None)
@given(books(2))
def test_binary_events_match_brute_force(
    book: tuple[tuple[str, ...], dict[str, Venue], list[Spec], Decimal],
) -> None:
    _check_against_brute_force(book)


@settings(max_examples=300, deadline=None)
@given(books(3))
def test_three_way_events_match_brute_force(
    book: tuple[tuple[str, ...], dict[str, Venue], list[Spec], Decimal],
) -> None:
    _check_against_brute_force(book)


# --- the binary Kalshi x Polymarket case equals the pair engine ----------------------------

LADDERS = st.lists(
    st.builds(Level, st.integers(1, ONE - 1), st.integers(1, 50).map(lambda c: c * ONE)),
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(
    st.builds(PairAsks, LADDERS, LADDERS, LADDERS, LADDERS),
    st.sampled_from([Decimal(1), Decimal("0.5"), Decimal(3)]),
    st.sampled_from([Decimal(0), Decimal("0.02"), Decimal("0.05")]),
    st.sampled_from([1, 2]),
    st.sampled_from([None, 5 * ONE]),
    st.sampled_from([0, 1_000, 10_000]),
    st.sampled_from([None, 7 * ONE]),
    st.sampled_from([ONE, ONE // 2]),
)
def test_binary_kalshi_polymarket_equals_pair_engine(
    asks: PairAsks,
    multiplier: Decimal,
    rate: Decimal,
    exponent: int,
    poly_min: int | None,
    min_edge: int,
    max_size: int | None,
    step: int,
) -> None:
    fees = PairFees(
        KalshiFeeModel(multiplier=multiplier),
        PolymarketFeeModel(rate, exponent=exponent, min_order_size=poly_min),
    )
    pair = find_opportunities(
        asks, fees, min_edge=min_edge, max_size=max_size, step=step, counters=ArbStats()
    )
    contracts = [
        Contract("kalshi", "KX", "yes", "yes", asks.kalshi_yes),
        Contract("kalshi", "KX", "yes", "no", asks.kalshi_no),
        Contract("polymarket", "tok-yes", "yes", "yes", asks.poly_yes),
        Contract("polymarket", "tok-no", "no", "yes", asks.poly_no),
    ]
    terms = {
        "kalshi": VenueTerms(fees.kalshi),
        "polymarket": VenueTerms(fees.poly, min_order_size=poly_min or 0),
    }
    event = event_opportunities(
        Event(("yes", "no")),
        contracts,
        terms,
        min_edge=min_edge,
        max_size=max_size,
        step=step,
        counters=ArbStats(),
    )
    assert {o.label: (o.size, o.cost, o.fees, o.profit) for o in event} == {
        o.combo.label: (o.size, o.cost, o.fees, o.profit) for o in pair
    }
    for e in event:
        (p,) = (o for o in pair if o.combo.label == e.label)
        assert [(leg.venue, leg.avg_price, leg.worst_price, leg.fee) for leg in e.legs] == [
            (leg.venue, leg.avg_price, leg.worst_price, leg.fee) for leg in p.legs
        ]
    if pair:
        best = max(o.profit * ONE - min_edge * o.size for o in pair)
        assert event[0].profit * ONE - min_edge * event[0].size == best


@settings(max_examples=200, deadline=None)
@given(books(3))
def test_every_opportunity_is_sound(
    book: tuple[tuple[str, ...], dict[str, Venue], list[Spec], Decimal],
) -> None:
    outcomes, venues, specs, min_edge = book
    terms = {name: terms_of(v) for name, v in venues.items()}
    contracts = [contract_of(s) for s in specs]
    got = event_opportunities(Event(outcomes), contracts, terms, min_edge=micro(min_edge))
    for opp in got:
        assert all(leg.fee >= 0 for leg in opp.legs)
        assert all(leg.size == opp.size >= terms[leg.venue].min_order_size for leg in opp.legs)
        assert opp.cost + opp.fees < opp.payout == opp.size
        assert opp.profit == opp.payout - opp.cost - opp.fees
        assert opp.profit * ONE > micro(min_edge) * opp.size
        covered = sorted(
            o for leg in opp.legs for o in outcomes if (o == leg.outcome) == (leg.side == "yes")
        )
        assert covered == sorted(outcomes)  # an exact partition: each outcome once
    # missing asks never signal: empty contracts for every unused key change nothing
    used = {(c.venue, c.instrument, c.outcome, c.side) for c in contracts}
    empty = [
        Contract(v, "m3", o, side)  # type: ignore[arg-type]
        for v, o, side in product(venues, outcomes, ("yes", "no"))
        if (v, "m3", o, side) not in used
    ]
    again = event_opportunities(Event(outcomes), contracts + empty, terms, min_edge=micro(min_edge))
    assert again == got
