"""Properties of the paper ledger: hedged P&L is exact and bounded, limits always hold."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from paper_support import MS, Clock, fees, signal

from arbees.book import Level
from arbees.money import ONE
from arbees.paper import PaperFill, PaperLedger, PendingFill, RiskLimits
from arbees.paper.walk import quote_leg

COMBOS = ("KalshiYes+PolyNo", "PolyYes+KalshiNo", "PolyOnly", "KalshiOnly")

prices = st.integers(min_value=10, max_value=990).map(lambda p: p * 1000)  # 0.001 ticks
sizes = st.integers(min_value=1, max_value=400).map(lambda s: s * ONE // 10)  # 0.1 lots
ladders = st.lists(st.tuples(prices, sizes), min_size=0, max_size=4).map(
    lambda levels: tuple(sorted(Level(p, s) for p, s in levels))
)
pair_fees = st.builds(
    fees,
    poly_rate=st.sampled_from(["0", "0.02", "0.05", "0.1"]),
    multiplier=st.sampled_from(["0", "0.5", "1", "2"]),
)
limits = st.builds(
    RiskLimits,
    max_contracts_per_pair=st.none() | st.integers(0, 60).map(lambda c: c * ONE),
    max_exposure=st.none() | st.integers(0, 60_000_000),
)
orders = st.lists(
    st.tuples(st.integers(1, 80), st.sampled_from(COMBOS), ladders, ladders),
    min_size=1,
    max_size=4,
)


def reference_notional(levels: tuple[Level, ...], size: int) -> int:
    """Decimal walk, independent of the ledger's integer one."""
    left = Decimal(size) / ONE
    total = Decimal(0)
    for price, available in levels:
        take = min(Decimal(available) / ONE, left)
        total += Decimal(price) / ONE * take
        left -= take
        if left <= 0:
            break
    return int((total * ONE).to_integral_value(rounding=ROUND_CEILING))


@settings(max_examples=250, deadline=None)
@given(orders=orders, fee=pair_fees, risk=limits, winner=st.sampled_from(["NBA:OKC", "NBA:SAS"]))
def test_hedged_pnl_is_payout_minus_cost_minus_fees_and_limits_hold(
    orders: list[tuple[int, str, tuple[Level, ...], tuple[Level, ...]]],
    fee: object,
    risk: RiskLimits,
    winner: str,
) -> None:
    ledger = PaperLedger(risk, clock=Clock())
    for serial, (size, combo, a, b) in enumerate(orders):
        sig = signal(size, combo=combo, serial=serial)
        result = ledger.on_signal(sig, (a, b), fee)  # type: ignore[arg-type]
        if result is None:
            continue
        assert isinstance(result, PaperFill)
        assert result.legs[0].size == result.legs[1].size == result.size > 0
        assert result.size <= sig.size
        for leg, levels in zip(result.legs, (a, b), strict=True):
            assert leg.notional == reference_notional(levels, result.size)
            assert type(leg.fee) is int
            assert leg.fee >= 0
        assert result.payout == result.size
        assert result.pnl == result.payout - result.cost - result.fees
        assert result.pnl > 0  # the ledger never takes a losing trade at detection
    for position in ledger.positions.values():
        assert position.mark_pnl == position.payout - position.cost - position.fees
        assert position.mark_pnl >= -position.fees
        if risk.max_contracts_per_pair is not None:
            assert position.held <= risk.max_contracts_per_pair
    if risk.max_exposure is not None:
        assert ledger.exposure() <= risk.max_exposure
    marked = ledger.pnl()
    assert ledger.settle("g1", winner) == marked  # hedged pairs pay $1 whoever wins
    assert ledger.exposure() == 0


@settings(max_examples=250, deadline=None)
@given(
    size=st.integers(1, 80),
    combo=st.sampled_from(COMBOS),
    now=st.tuples(ladders, ladders),
    later=st.tuples(ladders, ladders),
    fee=pair_fees,
)
def test_latency_fill_is_same_size_or_leg_risk_with_exact_slippage(
    size: int,
    combo: str,
    now: tuple[tuple[Level, ...], tuple[Level, ...]],
    later: tuple[tuple[Level, ...], tuple[Level, ...]],
    fee: object,
) -> None:
    clock = Clock()
    ledger = PaperLedger(latency_ns=50 * MS, clock=clock)
    pending = ledger.on_signal(signal(size, combo=combo), now, fee)  # type: ignore[arg-type]
    if pending is None:
        return
    assert isinstance(pending, PendingFill)
    clock.now += 50 * MS
    fill = ledger.complete(pending, later)
    assert ledger.reserved() == 0
    if fill is None:
        assert ledger.stats.missed == 1
        return
    sizes = [leg.size for leg in fill.legs]
    if fill.leg_risk:
        assert fill.size == 0
        assert 0 in sizes
        assert max(sizes) > 0
        assert fill.pnl == -(fill.cost + fill.fees)
    else:
        assert sizes == [fill.size, fill.size]
        assert fill.pnl == fill.payout - fill.cost - fill.fees
    for i, leg in enumerate(fill.legs):
        assert leg.worst_price <= pending.limits[i]
        if leg.size:
            expected = quote_leg(pending.detected[i], leg.size, pending.models[i])
            assert leg.slippage == leg.notional + leg.fee - expected.total
    if later == now:
        assert fill.slippage == 0
        assert fill.size == pending.size
