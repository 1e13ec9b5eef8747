"""Fees: worked values from the venue docs and properties that must hold for any input."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbees.errors import ConfigError, DecodeError, KernelError
from arbees.fees import (
    KalshiFeeModel,
    PolymarketFeeModel,
    PolymarketUsFeeModel,
    kalshi_fee,
    polymarket_fee,
)
from arbees.money import CENT, ONE

prices = st.integers(0, ONE)
counts = st.integers(0, 10_000 * ONE)
multipliers = st.sampled_from([1, Decimal("0.5"), Decimal("0.25"), 2, Decimal("1.5"), 0])


@pytest.mark.parametrize(
    ("count", "expected"),
    [(1, 20_000), (10, 180_000), (100, 1_750_000)],
)
def test_kalshi_worked_examples(count: int, expected: int) -> None:
    assert kalshi_fee(500_000, count * ONE) == expected
    assert KalshiFeeModel().fee(500_000, count * ONE) == expected


def test_kalshi_maker_waived_and_multiplier() -> None:
    # 0.0175 * 100 * 0.25 = 0.4375 -> $0.44
    assert kalshi_fee(500_000, 100 * ONE, maker=True) == 440_000
    assert KalshiFeeModel(maker=True).fee(500_000, 100 * ONE) == 440_000
    assert KalshiFeeModel(waived=True).fee(500_000, 100 * ONE) == 0
    # 0.07 * 0.5 * 100 * 0.25 = 0.875 -> $0.88
    assert kalshi_fee(500_000, 100 * ONE, multiplier=Decimal("0.5")) == 880_000


def test_polymarket_worked_examples() -> None:
    # 100 * 0.05 * 0.25 = 1.25
    assert polymarket_fee(500_000, 100 * ONE, rate=Decimal("0.05")) == 1_250_000
    # 1 * 0.05 * 0.33 * 0.67 = 0.011055 -> half-up to 5 dp: 0.01106
    assert polymarket_fee(330_000, ONE, rate="0.05") == 11_060
    # 1 * 0.04 * 0.45 * 0.55 = 0.0099
    assert PolymarketFeeModel(Decimal("0.04")).fee(450_000, ONE) == 9_900
    # exponent 2: 10 * 0.05 * 0.0625 = 0.03125
    assert polymarket_fee(500_000, 10 * ONE, rate="0.05", exponent=2) == 31_250


@given(prices, counts)
def test_polymarket_zero_when_disabled(price: int, count: int) -> None:
    assert PolymarketFeeModel(Decimal("0.07"), enabled=False).fee(price, count) == 0
    assert polymarket_fee(price, count, rate=0) == 0


@given(prices, counts, multipliers, st.booleans())
def test_kalshi_fee_properties(price: int, count: int, mult: int | Decimal, maker: bool) -> None:
    fee = kalshi_fee(price, count, multiplier=mult, maker=maker)
    assert fee >= 0
    assert fee % CENT == 0
    k = Fraction(7, 400) if maker else Fraction(7, 100)
    raw = (
        k
        * Fraction(mult)
        * Fraction(count, ONE)
        * Fraction(price, ONE)
        * (1 - Fraction(price, ONE))
    )
    assert Fraction(fee, ONE) >= raw
    assert Fraction(fee, ONE) - raw < Fraction(1, 100)  # rounded up by less than a cent
    assert kalshi_fee(ONE - price, count, multiplier=mult, maker=maker) == fee


@given(prices, st.integers(1, 1000), st.integers(1, 50))
def test_kalshi_per_contract_fee_never_grows_with_order_multiples(
    price: int, contracts: int, factor: int
) -> None:
    # Whole-order rounding: buying m times as much never costs more per contract. (Strict
    # monotonicity in the count is false: 4 @ $0.50 pays 1.75c each, 5 pays 1.8c each.)
    small = kalshi_fee(price, contracts * ONE)
    big = kalshi_fee(price, contracts * factor * ONE)
    assert big * contracts <= small * contracts * factor
    assert small <= contracts * kalshi_fee(price, ONE)


@given(prices, counts, st.sampled_from(["0", "0.04", "0.05", "0.07", "0.25"]), st.integers(0, 3))
def test_polymarket_fee_properties(price: int, count: int, rate: str, exponent: int) -> None:
    fee = polymarket_fee(price, count, rate=rate, exponent=exponent)
    assert fee >= 0
    assert fee % 10 == 0
    p = Fraction(price, ONE)
    raw = Fraction(count, ONE) * Fraction(Decimal(rate)) * (p * (1 - p)) ** exponent
    assert abs(Fraction(fee, ONE) - raw) <= Fraction(1, 200_000)  # half of 1e-5
    assert polymarket_fee(ONE - price, count, rate=rate, exponent=exponent) == fee


def test_order_fee_rounds_once_for_the_whole_order() -> None:
    model = KalshiFeeModel()
    # two fills of 1 @ 0.50 are one order of 2: raw 0.035 -> 4c, rounded once.
    assert model.order_fee([(500_000, ONE), (500_000, ONE)]) == model.fee(500_000, 2 * ONE)
    # fills at different prices: 0.07*(10*.4*.6 + 10*.5*.5) = 0.343 -> 0.35
    assert model.order_fee([(400_000, 10 * ONE), (500_000, 10 * ONE)]) == 350_000
    poly = PolymarketFeeModel(Decimal("0.05"))
    assert poly.order_fee([(330_000, ONE), (330_000, ONE)]) == 22_110  # 0.02211


def test_models_reject_bad_configuration() -> None:
    with pytest.raises(ConfigError):
        KalshiFeeModel(multiplier=Decimal("NaN"))
    with pytest.raises(ConfigError):
        KalshiFeeModel(multiplier=11)
    with pytest.raises(ConfigError):
        PolymarketFeeModel(Decimal("1.5"))
    with pytest.raises(ConfigError):
        PolymarketFeeModel(Decimal("0.05"), exponent=-1)
    with pytest.raises(ConfigError):
        PolymarketFeeModel(0.05)  # type: ignore[arg-type]  # floats are not exact
    with pytest.raises(ConfigError):
        PolymarketFeeModel("0.0000001")
    with pytest.raises(DecodeError):
        kalshi_fee(-1, ONE)
    with pytest.raises(DecodeError):
        polymarket_fee(ONE + 1, ONE, rate="0.05")
    with pytest.raises(DecodeError):
        kalshi_fee(500_000, -ONE)


def test_kernel_parameters() -> None:
    assert KalshiFeeModel().kernel_coef == 70_000
    assert KalshiFeeModel(maker=True, multiplier=Decimal("0.5")).kernel_coef == 8_750
    assert KalshiFeeModel(waived=True).kernel_coef == 0
    assert PolymarketFeeModel(Decimal("0.05")).kernel_rate == 50_000
    assert PolymarketFeeModel(Decimal("0.05"), enabled=False).kernel_rate == 0
    with pytest.raises(KernelError):
        _ = KalshiFeeModel(multiplier=Decimal("0.00001")).kernel_coef
    with pytest.raises(KernelError):
        _ = PolymarketFeeModel(Decimal("0.05"), exponent=2).kernel_rate


def test_unit_fee_cache_matches_fee() -> None:
    k, p = KalshiFeeModel(), PolymarketFeeModel(Decimal("0.05"))
    for price in (1, 10_000, 333_333, 500_000, 999_999):
        assert k.unit_fee(price) == k.fee(price, ONE) == k.unit_fee(price)
        assert p.unit_fee(price) == p.fee(price, ONE)


@given(
    st.sampled_from(
        [
            KalshiFeeModel(),
            KalshiFeeModel(multiplier=Decimal("0.5")),
            PolymarketFeeModel(Decimal("0.05")),
            PolymarketFeeModel(Decimal("0.02"), exponent=2),
            PolymarketUsFeeModel(),
            PolymarketUsFeeModel(round_to=50_000),
            PolymarketUsFeeModel(schedule="notional", round_to=1),
        ]
    ),
    st.lists(st.tuples(st.integers(1, ONE - 1), st.integers(1, 10_000 * ONE)), max_size=4),
)
def test_a_models_rounding_bounds_what_round_raw_does_to_any_order(
    model: KalshiFeeModel | PolymarketFeeModel | PolymarketUsFeeModel,
    fills: list[tuple[int, int]],
) -> None:
    # The size search (arbees.arb.depth) only evaluates sizes within these bounds of the
    # unrounded optimum: a bound too small would make it miss the exact one.
    raw = sum(model.raw(price, size) for price, size in fills)
    exact = Fraction(raw, 10 ** (model.raw_exp - 6))  # micro-units
    down, up = model.rounding
    charged = model.round_raw(raw)
    assert exact - down <= charged <= exact + up
    if not down:
        assert charged < exact + up  # rounding up lands below the next unit
