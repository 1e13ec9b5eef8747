"""Fee terms (what an assignment carries per venue) and fee models convert both ways exactly:
the model a shard builds from a venue's terms prices every order as the venue's own model."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbees.errors import ConfigError
from arbees.fees import FeeModel, KalshiFeeModel, PolymarketFeeModel, fee_terms, terms_model
from arbees.messages import FeeTerms
from arbees.money import ONE

factors = st.integers(0, 999_999).map(lambda n: Decimal(n).scaleb(-6))
sizes = st.none() | st.integers(0, 100 * ONE)
models = (
    st.builds(KalshiFeeModel, multiplier=st.integers(0, 10 * ONE).map(lambda n: Decimal(n) / ONE))
    | st.builds(KalshiFeeModel, waived=st.just(True))
    | st.builds(
        PolymarketFeeModel,
        rate=factors,
        exponent=st.integers(0, 4),
        enabled=st.booleans(),
        min_order_size=sizes,
    )
)


@settings(max_examples=300)
@given(model=models, price=st.integers(0, ONE), count=st.integers(0, 10_000 * ONE))
def test_terms_give_back_a_model_that_prices_every_order_the_same(
    model: FeeModel, price: int, count: int
) -> None:
    terms = fee_terms("v", model)
    assert terms.venue == "v"
    again = terms_model(terms)
    assert type(again) is type(model)
    assert again.fee(price, count) == model.fee(price, count)
    if isinstance(model, PolymarketFeeModel):
        assert isinstance(again, PolymarketFeeModel)
        assert again.min_order_size == model.min_order_size
    assert fee_terms("v", again) == terms


def test_the_kinds() -> None:
    assert fee_terms("k", KalshiFeeModel(multiplier=Decimal("1.5"))) == FeeTerms(
        "k", "kalshi", multiplier="1.5"
    )
    assert fee_terms("k", KalshiFeeModel(waived=True)).multiplier == "0"
    assert fee_terms("p", PolymarketFeeModel(Decimal("0.03"), 2, min_order_size=5 * ONE)) == (
        FeeTerms("p", "polymarket", rate="0.03", exponent=2, min_order_size=5 * ONE)
    )
    off = PolymarketFeeModel(Decimal("0.05"), enabled=False, min_order_size=ONE)
    assert fee_terms("p", off) == FeeTerms("p", "none", min_order_size=ONE)
    free = PolymarketFeeModel(Decimal(0), 2, min_order_size=ONE)
    assert fee_terms("p", free) == FeeTerms("p", "none", min_order_size=ONE)
    assert terms_model(FeeTerms("x", "none")).fee(500_000, 100 * ONE) == 0
    assert terms_model(FeeTerms("x", "polymarket", rate="0")).fee(500_000, 100 * ONE) == 0


@pytest.mark.parametrize(
    "terms",
    [
        FeeTerms("x", "kalshi", multiplier="11"),
        FeeTerms("x", "kalshi", multiplier="0.0000001"),
        FeeTerms("x", "polymarket", rate="0.0000001"),
        FeeTerms("x", "polymarket", rate="1e999999"),
        FeeTerms("x", "polymarket", rate="sNaN"),
        FeeTerms("x", "polymarket", rate="1" * 5000),
        FeeTerms("x", "polymarket", rate="0.05", exponent=5),
        FeeTerms("x", "none", min_order_size=-1),
        FeeTerms("x", "betfair"),
    ],
    ids=repr,
)
def test_unusable_terms_are_a_config_error_never_a_default(terms: FeeTerms) -> None:
    with pytest.raises(ConfigError):
        terms_model(terms)
