"""Every venue's fee model travels in an assignment as fee terms and comes back the same."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbees import codec
from arbees.errors import ConfigError
from arbees.fees import (
    FeeModel,
    KalshiFeeModel,
    PolymarketFeeModel,
    PolymarketUsFeeModel,
    fee_terms,
    terms_model,
)
from arbees.messages import MarketAssignment
from arbees.money import CENT, ONE
from tests.bus.bus_samples import every_message

ASSIGNMENT = next(m for m in every_message() if isinstance(m, MarketAssignment))

MODELS: list[FeeModel] = [
    KalshiFeeModel(multiplier=Decimal("0.5")),
    PolymarketFeeModel(Decimal("0.03"), min_order_size=5 * ONE),
    PolymarketUsFeeModel(),
    PolymarketUsFeeModel(schedule="notional", taker_bps=25),
    PolymarketUsFeeModel(schedule="curve", rate=Decimal("0.04"), min_order_size=ONE),
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
@given(price=st.integers(1, ONE - 1), count=st.integers(1, 1_000 * ONE))
def test_terms_round_trip_to_a_model_charging_the_same_fee(
    model: FeeModel, price: int, count: int
) -> None:
    terms = fee_terms("venue-x", model)
    sent = attrs.evolve(ASSIGNMENT, fees=(terms,))
    received = codec.decode(codec.encode(sent), MarketAssignment)
    assert received.fees == (terms,)
    back = terms_model(received.fees[0])
    assert back.fee(price, count) == model.fee(price, count)
    assert getattr(back, "min_order_size", None) == getattr(model, "min_order_size", None)


def test_polymarket_us_terms_name_their_kind_and_schedule() -> None:
    terms = fee_terms("polymarket-us", PolymarketUsFeeModel(schedule="curve"))
    assert (terms.kind, terms.schedule, terms.rate) == ("polymarket-us", "curve", "0.05")


def test_a_polymarket_us_rounding_the_terms_cannot_carry_is_refused() -> None:
    with pytest.raises(ConfigError, match="cent rounding"):
        fee_terms("polymarket-us", PolymarketUsFeeModel(round_to=CENT // 100))
