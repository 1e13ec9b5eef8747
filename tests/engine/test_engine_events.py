"""The event kernel: outcomes x contracts -> best partition and its top-of-book edge.

Native == Python reference, both == a brute force over every partition (2 and 3 outcomes,
several venues), the binary two-venue case == ``check_top``, and the shard's prefilter
never misses what the exact depth walk would signal.
"""

from __future__ import annotations

import itertools
from array import array
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fee_terms import pair_terms

from arbees import kernel
from arbees.arb import NO_EDGE, PairAsks, PairFees, check_top, check_top_edge, find_opportunities
from arbees.book import Level
from arbees.errors import KernelError
from arbees.fees import KalshiFeeModel, PolymarketFeeModel
from arbees.kernel import (
    LEG_MARGIN,
    MAX_OUTCOMES,
    NO_PARTITION,
    PARTITION_ALL_NO,
    contract_index,
    event_check,
    prefilter_edge,
)
from arbees.messages import MarketAssignment, TeamLeg
from arbees.money import CENT, ONE
from arbees.services.quotes import Quote
from arbees.services.shard_engine import ShardEngine

BACKENDS = kernel.available_backends()
NATIVE = [b for b in BACKENDS if b != "python"]

prices = st.one_of(
    st.sampled_from([0, 1, 9_999, 10_000, 500_000, 990_000, 999_999, ONE, ONE + 1, -1]),
    st.integers(0, ONE),
    st.integers(1, 99).map(lambda c: c * CENT),
    st.integers(-(2**63), 2**63 - 1),
)
fee_params = st.one_of(st.sampled_from([0, 70_000, 700_000, ONE]), st.integers(0, ONE))


@st.composite
def event_columns(draw: st.DrawFn) -> tuple[int, list[int], list[int], list[int], list[int]]:
    nv = draw(st.integers(1, 3))
    n = draw(st.integers(0, 10))
    outs = [draw(st.sampled_from([2, 3])) for _ in range(n)]
    size = n * MAX_OUTCOMES * 2 * nv
    asks = draw(st.lists(prices, min_size=size, max_size=size))
    kc = draw(st.lists(fee_params, min_size=size, max_size=size))
    pr = draw(st.lists(fee_params, min_size=size, max_size=size))
    return nv, outs, asks, kc, pr


# The native build is optional for users (setup.py falls back to Python with a warning);
# under CI, tests/engine/test_engine_kernel.py::test_native_kernel_is_built_in_ci fails
# instead, so this skip can never hide a missing kernel there.
@pytest.mark.skipif(not NATIVE, reason="native kernel not built")
@settings(max_examples=200, deadline=None)
@given(event_columns(), st.integers(-3 * ONE, ONE))
def test_native_event_check_equals_python(
    cols: tuple[int, list[int], list[int], list[int], list[int]], min_edge: int
) -> None:
    nv, outs, asks, kc, pr = cols
    results = [
        event_check(asks, kc, pr, outs, n_venues=nv, min_edge=min_edge, backend=b) for b in BACKENDS
    ]
    want = results[-1]  # python
    assert len(want.flags) == len(outs)
    for got in results[:-1]:
        assert list(got.flags) == list(want.flags)
        assert list(got.partition) == list(want.partition)
        assert list(got.best_edge) == list(want.best_edge)


# ---- brute force over every partition, with the fee models (not the kernel's formulas) ----


def covers(outcome: int, side: int, k: int) -> frozenset[int]:
    return frozenset([outcome]) if side == 0 else frozenset(range(k)) - {outcome}


def brute_force(k: int, costs: dict[tuple[int, int, int], int]) -> int:
    """Best 1-contract edge over every set of present contracts covering each outcome once."""
    best = NO_EDGE
    for r in range(1, k + 1):
        for combo in itertools.combinations(costs, r):
            sets = [covers(o, s, k) for o, s, _ in combo]
            if sum(len(x) for x in sets) == k and frozenset().union(*sets) == frozenset(range(k)):
                best = max(best, ONE - sum(costs[c] for c in combo))
    return best


@st.composite
def priced_events(draw: st.DrawFn) -> tuple[int, int, list[KalshiFeeModel | PolymarketFeeModel]]:
    k = draw(st.sampled_from([2, 3]))
    nv = draw(st.integers(1, 3))
    models: list[KalshiFeeModel | PolymarketFeeModel] = []
    for v in range(nv):
        if v % 2 == 0:  # a Kalshi-shaped venue
            tenth = draw(st.integers(0, 100))
            models.append(KalshiFeeModel(multiplier=Decimal(tenth) / 10))
        else:
            rate = draw(st.integers(0, ONE - 1))
            models.append(PolymarketFeeModel(Decimal(rate) / ONE, enabled=rate > 0))
    return k, nv, models


@settings(max_examples=300, deadline=None)
@given(
    priced_events(),
    st.lists(st.one_of(st.just(0), st.integers(1, ONE - 1)), min_size=18, max_size=18),
    st.integers(-ONE // 2, ONE // 4),
)
def test_best_edge_equals_brute_force(
    event: tuple[int, int, list[KalshiFeeModel | PolymarketFeeModel]],
    raw_asks: list[int],
    min_edge: int,
) -> None:
    k, nv, models = event
    asks = array("q", bytes(8 * MAX_OUTCOMES * 2 * nv))
    kc, pr = array("q", asks), array("q", asks)
    costs: dict[tuple[int, int, int], int] = {}
    for o, s, v in itertools.product(range(k), range(2), range(nv)):
        i = contract_index(0, o, s, v, nv)
        price = raw_asks[i % 18]
        asks[i] = price
        model = models[v]
        if isinstance(model, KalshiFeeModel):
            kc[i] = model.kernel_coef
        else:
            pr[i] = model.kernel_rate
        if price:
            costs[o, s, v] = price + model.unit_fee(price)
    want = brute_force(k, costs)
    for backend in BACKENDS:
        got = event_check(asks, kc, pr, [k], n_venues=nv, min_edge=min_edge, backend=backend)
        assert got.best_edge[0] == want
        assert got.flags[0] == (want != NO_EDGE and want > min_edge)
        part = got.partition[0]
        if want == NO_EDGE:
            assert part == NO_PARTITION
            continue
        # the reported partition really has that edge, with the cheapest venue per contract
        legs = (
            [(o, 0) for o in range(k)]
            if part == 0
            else [(0, 1), (1, 1)]
            if part == PARTITION_ALL_NO
            else [(part - 1, 0), (part - 1, 1)]
        )
        cheapest = [min(c for (o, s, _), c in costs.items() if (o, s) == leg) for leg in legs]
        assert ONE - sum(cheapest) == want


def test_partitions_of_three_outcomes() -> None:
    """Home/draw/away on two venues: YES of all three, or YES and NO of one outcome."""
    nv = 2
    asks = array("q", bytes(8 * MAX_OUTCOMES * 2 * nv))
    zeros = array("q", asks)
    for o, price in enumerate((300_000, 250_000, 400_000)):  # YES on venue 0
        asks[contract_index(0, o, 0, 0, nv)] = price
    result = event_check(asks, zeros, zeros, [3], n_venues=nv)
    assert (result.partition[0], result.best_edge[0], result.flags[0]) == (0, 50_000, 1)
    asks[contract_index(0, 1, 1, 1, nv)] = 700_000  # NO of the draw on venue 1: 0.25 + 0.70
    result = event_check(asks, zeros, zeros, [3], n_venues=nv, min_edge=50_000)
    assert (result.partition[0], result.best_edge[0], result.flags[0]) == (0, 50_000, 0)  # tie
    asks[contract_index(0, 1, 1, 1, nv)] = 690_000
    result = event_check(asks, zeros, zeros, [3], n_venues=nv, min_edge=50_000)
    assert (result.partition[0], result.best_edge[0], result.flags[0]) == (2, 60_000, 1)
    assert result.flagged() == [0]


def test_binary_all_no_partition() -> None:
    asks = array("q", bytes(8 * MAX_OUTCOMES * 2))
    zeros = array("q", asks)
    asks[contract_index(0, 0, 1, 0, 1)] = 450_000  # NO of outcome 0 pays on outcome 1
    asks[contract_index(0, 1, 1, 0, 1)] = 500_000
    for backend in BACKENDS:
        result = event_check(asks, zeros, zeros, [2], n_venues=1, backend=backend)
        assert (result.partition[0], result.best_edge[0]) == (PARTITION_ALL_NO, 50_000)


@pytest.mark.parametrize("backend", BACKENDS)
def test_event_check_rejects_bad_input(backend: str) -> None:
    size = MAX_OUTCOMES * 2 * 2
    asks = [0] * size
    zeros = [0] * size
    with pytest.raises(KernelError, match="n_venues"):
        event_check(asks, zeros, zeros, [2], n_venues=0, backend=backend)
    with pytest.raises(KernelError, match="min_edge"):
        event_check(asks, zeros, zeros, [2], n_venues=2, min_edge=2 * ONE, backend=backend)
    with pytest.raises(KernelError, match="asks: length"):
        event_check(asks[:-1], zeros, zeros, [2], n_venues=2, backend=backend)
    with pytest.raises(KernelError, match="event 0: n_outcomes must be 2 or 3, got 4"):
        event_check(asks, zeros, zeros, [4], n_venues=2, backend=backend)
    bad = list(zeros)
    bad[3] = ONE + 1
    event_check(asks, bad, zeros, [2], n_venues=2, backend=backend)  # a missing contract's fee
    asks[3] = 500_000
    with pytest.raises(KernelError, match="event 0: a contract's fee parameters"):
        event_check(asks, bad, zeros, [2], n_venues=2, backend=backend)
    assert len(event_check([], [], [], [], n_venues=2, backend=backend).flags) == 0


# ---- the binary two-venue case is check_top ----

pair_prices = st.one_of(
    st.just(0), st.integers(1, ONE - 1), st.integers(1, 99).map(lambda c: c * CENT)
)


@st.composite
def pair_fees(draw: st.DrawFn) -> PairFees:
    tenth = draw(st.integers(0, 100))
    rate = draw(st.integers(0, ONE - 1))
    return PairFees(
        KalshiFeeModel(multiplier=Decimal(tenth) / 10, waived=draw(st.booleans())),
        PolymarketFeeModel(Decimal(rate) / ONE, enabled=draw(st.booleans())),
    )


def pair_event(ky: int, kn: int, py: int, pn: int, fees: PairFees) -> list[array[int]]:
    """One pair as the shard lays it out: outcome 0 YES = Kalshi YES / Poly YES, outcome 1
    YES = Kalshi NO / Poly NO."""
    cols = [array("q", bytes(8 * MAX_OUTCOMES * 2 * 2)) for _ in range(3)]
    for outcome, venue, price in ((0, 0, ky), (1, 0, kn), (0, 1, py), (1, 1, pn)):
        i = contract_index(0, outcome, 0, venue, 2)
        cols[0][i] = price
        cols[1 + venue][i] = fees.kalshi.kernel_coef if venue == 0 else fees.poly.kernel_rate
    return cols


@settings(max_examples=400, deadline=None)
@given(pair_prices, pair_prices, pair_prices, pair_prices, pair_fees(), st.integers(-ONE, ONE // 4))
def test_binary_two_venue_event_agrees_with_check_top(
    ky: int, kn: int, py: int, pn: int, fees: PairFees, min_edge: int
) -> None:
    asks, kc, pr = pair_event(ky, kn, py, pn, fees)
    mask, best = check_top_edge(ky, kn, py, pn, fees, min_edge)
    assert bool(mask) == bool(check_top(ky, kn, py, pn, fees, min_edge))
    for backend in BACKENDS:
        got = event_check(asks, kc, pr, [2], n_venues=2, min_edge=min_edge, backend=backend)
        assert got.flags[0] == bool(mask)
        assert got.best_edge[0] == best


# ---- the shard's prefilter never misses ----


def test_top_of_book_alone_would_miss_a_deep_opportunity() -> None:
    """Why the margin: 1 contract at $0.50 pays a 2c Kalshi fee, 100 pay 1.75c each."""
    fees = PairFees(KalshiFeeModel(), PolymarketFeeModel(Decimal(0), enabled=False))
    ky, pn = 500_000, 480_000
    books = PairAsks(kalshi_yes=(Level(ky, 100 * ONE),), poly_no=(Level(pn, 100 * ONE),))
    (opp,) = find_opportunities(books, fees)
    assert opp.profit > 0
    asks, kc, pr = pair_event(ky, 0, 0, pn, fees)
    assert event_check(asks, kc, pr, [2], n_venues=2).best_edge[0] == 0  # not > 0
    flagged = event_check(asks, kc, pr, [2], n_venues=2, min_edge=prefilter_edge(0, 2))
    assert flagged.flags[0] == 1
    assert prefilter_edge(CENT, 3) == CENT - 3 * LEG_MARGIN


TEAMS = (TeamLeg("NBA:OKC", "K-OKC", "111"), TeamLeg("NBA:SAS", "K-SAS", "222"))


@st.composite
def pair_books(draw: st.DrawFn) -> tuple[tuple[Level, ...], ...]:
    # prices near a break-even pair so that opportunities and near misses are frequent
    base = draw(st.integers(5, 95)) * CENT
    books = []
    for other in (False, True, False, True):
        target = ONE - base if other else base
        levels = []
        for _ in range(draw(st.integers(0, 3))):
            price = target + draw(st.integers(-4 * CENT, 4 * CENT))
            if 0 < price < ONE:
                levels.append((price, draw(st.integers(1, 300)) * ONE // 2))
        seen: dict[int, int] = {}
        for price, size in levels:
            seen.setdefault(price, size)
        books.append(tuple(Level(p, s) for p, s in sorted(seen.items())))
    return tuple(books)


@settings(max_examples=400, deadline=None)
@given(
    pair_books(),
    st.integers(0, 100),
    st.integers(0, 100_000),
    st.booleans(),
    st.one_of(st.none(), st.integers(1, 20).map(lambda s: s * ONE)),
    st.integers(0, 3 * CENT),
)
def test_prefilter_never_misses_what_the_exact_engine_signals(
    books: tuple[tuple[Level, ...], ...],
    tenth: int,
    rate: int,
    maker: bool,
    min_order: int | None,
    min_edge: int,
) -> None:
    ky, kn, py, pn = books
    now = 1_000 * 10**9
    engine = ShardEngine("s1", min_edge=min_edge, clock=lambda: now)
    assignment = MarketAssignment(
        platform="kalshi",
        market_id="K",
        token_id="",
        shard_id="s1",
        sport="NBA",
        game_id="g",
        teams=TEAMS,
        fees=pair_terms(
            kalshi_fee_multiplier=str(Decimal(tenth) / 10),
            poly_fee_rate=str(Decimal(rate) / ONE),
            poly_min_order_size=min_order,
        ),
        epoch=1,
    )
    assert not engine.apply(assignment).rejected
    fees = engine.games["g"].fees
    assert fees is not None
    signals = engine.on_quotes(
        [
            Quote("kalshi", "K-OKC", ky, kn, False, now),
            Quote("polymarket", "111", py, pn, False, now),
        ]
    )
    exact = find_opportunities(PairAsks(ky, kn, py, pn), fees, min_edge=min_edge)
    assert engine.stats.kernel_batches == 1
    assert engine.stats.kernel_scanned == 1  # both quotes touch the OKC pair only
    assert engine.stats.kernel_flagged == (1 if exact else engine.stats.kernel_flagged)
    assert sorted(s.combo for s in signals) == sorted(o.combo.label for o in exact)
    assert all(s.event == "open" for s in signals)


@pytest.mark.parametrize("backend", sorted({kernel.BACKEND, "python"}))
@settings(max_examples=60, deadline=None)
@given(st.lists(event_columns(), min_size=1, max_size=4), st.integers(-3 * ONE, ONE))
def test_event_batch_reused_across_scans_equals_event_check(
    backend: str,
    scans: list[tuple[int, list[int], list[int], list[int], list[int]]],
    min_edge: int,
) -> None:
    """Reset clears what a previous (larger) scan wrote; growing keeps results exact."""
    batches: dict[int, kernel.EventBatch] = {}
    for nv, outs, asks, kc, pr in scans:
        batch = batches.setdefault(nv, kernel.EventBatch(nv, backend=backend))
        batch.reset(len(outs))
        for i, (a, c, r) in enumerate(zip(asks, kc, pr, strict=True)):
            if a:  # zeros are left to reset
                batch.asks[i], batch.k_coef[i], batch.p_rate[i] = a, c, r
        for e, k in enumerate(outs):
            if k != 2:
                batch.n_outcomes[e] = k
        want = event_check(asks, kc, pr, outs, n_venues=nv, min_edge=min_edge, backend=backend)
        got = batch.check(min_edge)
        assert list(got.flags) == list(want.flags)
        assert list(got.partition) == list(want.partition)
        assert list(got.best_edge) == list(want.best_edge)


def test_event_batch_rejects_bad_input() -> None:
    with pytest.raises(KernelError, match="n_venues"):
        kernel.EventBatch(0)
    with pytest.raises(KernelError, match="backend 'native-avx9'"):
        kernel.EventBatch(2, backend="native-avx9")
    batch = kernel.EventBatch(2)
    batch.reset(1)
    with pytest.raises(KernelError, match="min_edge"):
        batch.check(ONE + 1)
    batch.n_outcomes[0] = 5
    with pytest.raises(KernelError, match="event 0: n_outcomes must be 2 or 3, got 5"):
        batch.check(0)
