"""Polymarket US fee model: the higher of the two published schedules, exact, rounded up."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

import pytest

from arbees.errors import ConfigError
from arbees.fees import PolymarketUsFeeModel
from arbees.money import ONE


def _decimal_fee(schedule: str, price: Decimal, count: Decimal) -> Decimal:
    notional = Decimal("0.003") * count * price
    curve = Decimal("0.05") * count * price * (1 - price)
    fee = {"notional": notional, "curve": curve, "higher": max(notional, curve)}[schedule]
    return fee.quantize(Decimal("0.01"), rounding=ROUND_CEILING)


def test_published_examples() -> None:
    default = PolymarketUsFeeModel()
    assert default.fee(500_000, 100 * ONE) == 1_250_000  # curve 1.25 > notional 0.15
    assert default.fee(970_000, 100 * ONE) == 300_000  # notional 0.291 > curve 0.1455
    assert PolymarketUsFeeModel(schedule="notional").fee(500_000, 100 * ONE) == 150_000
    assert PolymarketUsFeeModel(schedule="curve").fee(970_000, 100 * ONE) == 150_000
    assert default.unit_fee(500_000) == 20_000  # 0.0125 rounded up to the cent
    assert default.min_order_size == 10_000


@pytest.mark.parametrize("schedule", ["higher", "notional", "curve"])
def test_matches_an_independent_decimal_computation(schedule: str) -> None:
    model = PolymarketUsFeeModel(schedule=schedule)
    for price_text in ("0.0025", "0.005", "0.1", "0.3725", "0.5", "0.9375", "0.94", "0.995"):
        for count_text in ("0.01", "1", "12.34", "1000"):
            price, count = Decimal(price_text), Decimal(count_text)
            expected = _decimal_fee(schedule, price, count)
            got = model.fee(int(price * ONE), int(count * ONE))
            assert Decimal(got) / ONE == expected, (schedule, price_text, count_text)


def test_an_order_is_rounded_once_and_never_below_either_total() -> None:
    model = PolymarketUsFeeModel()
    fills = [(500_000, 3 * ONE), (960_000, 5 * ONE), (990_000, 2 * ONE)]
    fee = model.order_fee(fills)
    assert fee == model.round_raw(sum(model.raw(p, c) for p, c in fills))
    for schedule in ("notional", "curve"):
        assert fee >= PolymarketUsFeeModel(schedule=schedule).order_fee(fills)
    assert fee < sum(model.fee(p, c) for p, c in fills)  # one rounding, not three


def test_configurable_rounding_and_rates() -> None:
    fine = PolymarketUsFeeModel(round_to=1, taker_bps=0, rate=Decimal("0.02"))
    assert fine.fee(500_000, ONE) == 5_000
    assert PolymarketUsFeeModel(taker_bps=0, rate=0).fee(500_000, 100 * ONE) == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"schedule": "lowest"},
        {"taker_bps": -1},
        {"taker_bps": 10_001},
        {"rate": Decimal("1")},
        {"round_to": 0},
        {"min_order_size": -1},
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        PolymarketUsFeeModel(**kwargs)  # type: ignore[arg-type]
