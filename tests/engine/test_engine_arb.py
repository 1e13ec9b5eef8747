"""Opportunity math: hand-computed books, brute force on small books, and the seed's faults."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbees.arb import (
    ArbStats,
    Combo,
    PairAsks,
    PairFees,
    check_top,
    check_top_edge,
    decode_mask,
    find_opportunities,
    reference_check,
    size_combo,
)
from arbees.book import BookView, Level
from arbees.errors import KernelError
from arbees.fees import KalshiFeeModel, PolymarketFeeModel
from arbees.kernel import simd_check_arbs
from arbees.money import ONE, from_float, parse_price

FEES = PairFees(KalshiFeeModel(), PolymarketFeeModel(Decimal("0.05")))
FREE = PairFees(KalshiFeeModel(waived=True), PolymarketFeeModel(Decimal(0), enabled=False))


def lv(price: str, contracts: int) -> Level:
    return Level(int(Decimal(price) * ONE), contracts * ONE)


def test_constructed_book_is_sized_by_hand() -> None:
    books = PairAsks(
        kalshi_no=(lv("0.52", 50), lv("0.53", 100)),
        poly_yes=(lv("0.40", 20), lv("0.43", 100), lv("0.46", 500)),
    )
    (opp,) = find_opportunities(books, FEES)
    assert opp.combo is Combo.POLY_YES_KALSHI_NO
    # Marginal contract: 0.43 + 0.53 + fees (0.05*.43*.57 + 0.07*.53*.47 = 0.0297) < 1,
    # next: 0.46 + 0.53 + (0.01242 + 0.0174) > 1 -> stop after 20 + 100 Polymarket shares.
    assert opp.size == 120 * ONE
    poly, kalshi = opp.legs
    assert (poly.venue, poly.outcome, kalshi.venue, kalshi.outcome) == (
        "polymarket",
        "yes",
        "kalshi",
        "no",
    )
    assert poly.notional == 51 * ONE  # 20*0.40 + 100*0.43
    assert kalshi.notional == 63_100_000  # 50*0.52 + 70*0.53
    assert poly.fee == 1_465_500  # 0.05*(20*.4*.6 + 100*.43*.57) = 1.4655
    assert kalshi.fee == 2_100_000  # 0.07*(50*.52*.48 + 70*.53*.47) = 2.09419 -> 2.10
    assert (poly.worst_price, kalshi.worst_price) == (430_000, 530_000)
    assert opp.cost == 114_100_000
    assert opp.fees == 3_565_500
    assert opp.payout == 120 * ONE
    assert opp.profit == 2_334_500 == opp.payout - opp.cost - opp.fees
    assert opp.edge_per_contract == 2_334_500 // 120


def test_depth_walk_stops_where_marginal_profit_turns_negative() -> None:
    # Kalshi YES+NO, fee-free for clarity: 0.45+0.50 earns 5c, 0.48+0.50 earns 2c,
    # 0.52+0.50 loses 2c. The best size takes exactly the first two YES levels.
    books = PairAsks(
        kalshi_yes=(lv("0.45", 10), lv("0.48", 5), lv("0.52", 100)),
        kalshi_no=(lv("0.50", 1000),),
    )
    (opp,) = find_opportunities(books, FREE)
    assert opp.combo is Combo.KALSHI_ONLY
    assert opp.size == 15 * ONE
    assert opp.profit == 10 * 50_000 + 5 * 20_000
    # a minimum edge of 3c per contract at the margin drops the 2c level
    (opp,) = find_opportunities(books, FREE, min_edge=30_000)
    assert opp.size == 10 * ONE
    assert find_opportunities(books, FREE, min_edge=50_000) == ()


def test_kalshi_whole_order_rounding_prefers_more_contracts() -> None:
    # 0.49 + 0.49 = 0.98; one contract each pays 2c + 2c fees -> loses 2c; 10 each pay
    # ceil(0.07*10*.2499)=18c per leg -> 2.0 - 0.36 = profit... 10*0.02 - 0.36 < 0;
    # 100 each: 2.00 - 2*1.75 < 0. Never profitable: whole-order fees still > 2c/contract.
    books = PairAsks(kalshi_yes=(lv("0.49", 100),), kalshi_no=(lv("0.49", 100),))
    assert find_opportunities(books, FEES) == ()
    # at 0.47 + 0.47 the edge is 6c minus ~3.5c of fees: profitable, whole book taken.
    books = PairAsks(kalshi_yes=(lv("0.47", 100),), kalshi_no=(lv("0.47", 100),))
    (opp,) = find_opportunities(books, FEES)
    assert opp.size == 100 * ONE
    assert opp.fees == 2 * 1_750_000  # 0.07*100*.47*.53 = 1.7437 -> 1.75 per leg
    assert opp.profit == 6 * ONE - 3_500_000


def test_polymarket_minimum_order_size_and_caps() -> None:
    fees = PairFees(KalshiFeeModel(), PolymarketFeeModel(Decimal(0), min_order_size=5 * ONE))
    books = PairAsks(kalshi_no=(lv("0.50", 3),), poly_yes=(lv("0.40", 100),))
    assert find_opportunities(books, fees) == ()  # only 3 Kalshi contracts, min order 5
    books = PairAsks(kalshi_no=(lv("0.50", 30),), poly_yes=(lv("0.40", 100),))
    (opp,) = find_opportunities(books, fees)
    assert opp.size == 30 * ONE
    (opp,) = find_opportunities(books, fees, max_size=7 * ONE)
    assert opp.size == 7 * ONE
    assert find_opportunities(books, fees, max_size=4 * ONE) == ()
    (opp,) = find_opportunities(books, fees, max_size=7 * ONE, step=ONE // 2)
    assert opp.size == 7 * ONE


def test_missing_legs_never_signal() -> None:
    assert find_opportunities(PairAsks(), FEES) == ()
    assert find_opportunities(PairAsks(kalshi_yes=(lv("0.01", 100),)), FEES) == ()
    for prices in [(0, 0, 0, 0), (0, 10_000, 0, 0), (10_000, 0, 10_000, 0), (0, 0, 10_000, 0)]:
        assert check_top(*prices, FREE) == 0
        assert reference_check(*prices, 0, 0, 0) == (0, -(2**63))
    # the seed flagged a zero (missing) price as a free leg; arbees ignores it
    assert check_top(0, 400_000, 400_000, 0, FREE) == 1  # only PolyYes+KalshiNo is complete


def test_float_truncation_regression_057() -> None:
    # The seed truncated float dollars to cents: 0.57 became 56 cents, so KalshiYes 0.57 +
    # PolyNo 0.43 (exactly $1, a loss after fees) looked like 99 cents.
    assert int(0.57 * 100) == 56
    assert int((1 - 0.57) * 100) + int(0.57 * 100) == 99
    yes = from_float(0.57, rounding="up")
    no = from_float(1 - 0.57, rounding="up")
    assert yes == 570_000
    assert no >= 430_000  # conservative: float noise can only make the ask worse
    assert parse_price("0.57") + parse_price("0.43") == ONE
    for n in (no, 430_000):
        assert check_top(yes, 0, 0, n, FREE) == 0
        books = PairAsks(kalshi_yes=(Level(yes, 10 * ONE),), poly_no=(Level(n, 10 * ONE),))
        assert find_opportunities(books, FREE) == ()
    assert simd_check_arbs(57, 0, 0, 43) == 0
    assert simd_check_arbs(56, 0, 0, 43) == 0  # 99c + Kalshi fee 2c: still no arb


def test_invalid_levels_are_counted_and_dropped() -> None:
    counters = ArbStats()
    books = PairAsks(
        kalshi_yes=(Level(0, ONE), Level(ONE, ONE), Level(400_000, -1), lv("0.40", 10)),
        kalshi_no=(lv("0.50", 10), Level(1.5, ONE)),  # type: ignore[arg-type]
    )
    (opp,) = find_opportunities(books, FREE, counters=counters)
    assert counters.rejected_levels == 4
    assert opp.size == 10 * ONE
    assert opp.profit == 10 * 100_000


def test_bad_arguments() -> None:
    with pytest.raises(KernelError):
        find_opportunities(PairAsks(), FEES, min_edge=-1)
    with pytest.raises(KernelError):
        find_opportunities(PairAsks(), FEES, step=0)
    with pytest.raises(KernelError):
        find_opportunities(PairAsks(), FEES, max_size=-5)


def test_from_views_mirrors_kalshi_bids_and_ignores_stale() -> None:
    kalshi = BookView(
        "kalshi",
        "K",
        bids=(lv("0.55", 5),),
        asks=(lv("0.57", 3),),
        stale=False,
        venue_ts_ms=None,
        received_ns=0,
    )
    poly = BookView(
        "polymarket",
        "1",
        bids=(),
        asks=(lv("0.40", 9),),
        stale=True,
        venue_ts_ms=None,
        received_ns=0,
    )
    pair = PairAsks.from_views(kalshi, poly, None)
    assert pair.kalshi_yes == (lv("0.57", 3),)
    assert pair.kalshi_no == (lv("0.45", 5),)
    assert pair.poly_yes == () == pair.poly_no


def test_decode_mask_names_set_bits() -> None:
    assert decode_mask(0) == []
    assert decode_mask(9) == ["PolyYes+KalshiNo", "KalshiOnly"]
    for mask in range(16):
        assert decode_mask(mask) == [c.label for c in Combo if mask & c.value]


# ---- properties against brute force ----

levels = st.lists(
    st.builds(Level, st.integers(1, 999_999), st.integers(1, 8).map(lambda c: c * ONE)),
    max_size=3,
).map(tuple)
fee_models = st.builds(
    PairFees,
    st.builds(
        KalshiFeeModel,
        multiplier=st.sampled_from([0, 1, Decimal("0.5")]),
        maker=st.booleans(),
    ),
    st.builds(
        PolymarketFeeModel,
        st.sampled_from(["0", "0.04", "0.05"]),
        enabled=st.booleans(),
        min_order_size=st.sampled_from([None, 2 * ONE]),
    ),
)


def brute_force(combo: Combo, books: PairAsks, fees: PairFees, min_edge: int) -> tuple[int, int]:
    """(best objective, size) trying every whole-contract size, scoring independently."""
    ladders = [sorted(books.leg(v, o)) for v, o in combo.legs]
    models = [fees.kalshi if v == "kalshi" else fees.poly for v, _ in combo.legs]
    depth = min(sum(lvl.size for lvl in ladder) for ladder in ladders)
    best = (0, 0)
    for contracts in range(1, depth // ONE + 1):
        s = contracts * ONE
        uses_poly = "polymarket" in (combo.legs[0][0], combo.legs[1][0])
        if uses_poly and fees.poly.min_order_size and s < fees.poly.min_order_size:
            continue
        cost = 0
        for ladder, model in zip(ladders, models, strict=True):
            need, fills = s, []
            for price, size in ladder:
                take = min(need, size)
                if take:
                    fills.append((price, take))
                need -= take
            notional = sum(p * c for p, c in fills)
            cost += -(-notional // ONE) + model.order_fee(fills)
        objective = (s - cost) * ONE - min_edge * s
        if objective > best[0]:
            best = (objective, s)
    return best


@settings(max_examples=150, deadline=None)
@given(levels, levels, levels, levels, fee_models, st.sampled_from([0, 5_000, 20_000]))
def test_sizing_matches_brute_force(
    ky: tuple[Level, ...],
    kn: tuple[Level, ...],
    py: tuple[Level, ...],
    pn: tuple[Level, ...],
    fees: PairFees,
    min_edge: int,
) -> None:
    books = PairAsks(ky, kn, py, pn)
    found = {o.combo: o for o in find_opportunities(books, fees, min_edge=min_edge)}
    for combo in Combo:
        objective, size = brute_force(combo, books, fees, min_edge)
        opp = found.get(combo)
        if objective <= 0:
            assert opp is None
            continue
        assert opp is not None
        assert opp.size == size
        assert opp.profit * ONE - min_edge * opp.size == objective
        # never flagged at or above $1 all-in, and the arithmetic is self-consistent
        assert opp.cost + opp.fees < opp.payout
        assert opp.profit == opp.payout - opp.cost - opp.fees > 0
        assert opp.edge_per_contract > min_edge or opp.edge_per_contract == min_edge == 0
        assert size_combo(combo, books, fees, min_edge=min_edge) == opp


@given(
    st.integers(-5, ONE + 5),
    st.integers(-5, ONE + 5),
    st.integers(-5, ONE + 5),
    st.integers(-5, ONE + 5),
    fee_models,
    st.integers(0, 50_000),
)
def test_top_check_never_flags_at_or_above_one_dollar(
    ky: int, kn: int, py: int, pn: int, fees: PairFees, min_edge: int
) -> None:
    mask = check_top(ky, kn, py, pn, fees, min_edge)
    mask2, best = check_top_edge(ky, kn, py, pn, fees, min_edge)
    assert mask == mask2
    legs = {
        ("kalshi", "yes"): ky,
        ("kalshi", "no"): kn,
        ("polymarket", "yes"): py,
        ("polymarket", "no"): pn,
    }
    for combo in Combo:
        prices = [legs[leg] for leg in combo.legs]
        models = [fees.kalshi if v == "kalshi" else fees.poly for v, _ in combo.legs]
        present = all(0 < p < ONE for p in prices)
        cost = (
            sum(p + m.fee(p, ONE) for p, m in zip(prices, models, strict=True)) if present else None
        )
        flagged = bool(mask & combo.value)
        assert flagged == (cost is not None and cost < ONE - min_edge)
        if cost is not None:
            assert best >= ONE - cost
    try:
        kc, pr = fees.kalshi.kernel_coef, fees.poly.kernel_rate
    except KernelError:
        return
    assert reference_check(ky, kn, py, pn, kc, pr, min_edge) == (mask, best)
