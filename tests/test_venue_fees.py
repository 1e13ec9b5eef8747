"""Each venue builds a market's fee model from its own metadata (``Venue.fee_model``), and
discovery puts exactly those models in the assignments' fee fields."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from arbees.errors import ConfigError
from arbees.fees import KalshiFeeModel, MarketFees, PolymarketFeeModel
from arbees.kalshi.models import Series
from arbees.money import ONE
from arbees.polymarket.models import FeeSchedule, GammaMarket
from arbees.services.discovery import MatchInputs, discover_games
from arbees.venues import get_venue
from tests.fee_terms import pair_fields
from tests.orchestrator.orch_fixtures import game_inputs, market_fees

KALSHI = get_venue("kalshi")
POLYMARKET = get_venue("polymarket")


def _series(multiplier: int) -> Series:
    return Series("KXNHLGAME", "Pro Hockey Game", "quadratic", multiplier)


def test_a_kalshi_series_gives_its_multiplier_and_refuses_an_unusable_one() -> None:
    fees = KALSHI.fee_model(_series(1_500_000))
    assert fees == MarketFees(KalshiFeeModel(multiplier=Decimal("1.5")))
    assert not fees.defaulted
    with pytest.raises(ConfigError, match="multiplier"):
        KALSHI.fee_model(_series(11 * ONE))


def _market(**fields: Any) -> GammaMarket:
    return GammaMarket(
        "1", "Thunder vs. Spurs", "0x" + "1" * 64, "okc-sas", (), True, False, **fields
    )


def _schedule(rate: str, exponent: str = "1") -> FeeSchedule:
    return FeeSchedule(Decimal(rate), Decimal(exponent), True, Decimal("0.25"))


@pytest.mark.parametrize(
    ("fields", "rate", "exponent", "enabled", "defaulted"),
    [
        ({"fees_enabled": False, "fee_schedule": _schedule("0.05")}, "0", 1, False, False),
        ({"fees_enabled": True, "fee_schedule": _schedule("0.05")}, "0.05", 1, True, False),
        ({"fee_schedule": _schedule("0.03", "2")}, "0.03", 2, True, False),
        ({"fee_schedule": _schedule("0")}, "0", 1, True, False),
        ({"fees_enabled": True}, "0.05", 1, True, True),  # no schedule
        ({}, "0.05", 1, True, True),  # fees not said to be off: never assumed off
        ({"fee_schedule": _schedule("1.5")}, "0.05", 1, True, True),
        ({"fee_schedule": _schedule("0.0000001")}, "0.05", 1, True, True),
        ({"fee_schedule": _schedule("NaN")}, "0.05", 1, True, True),
        ({"fee_schedule": _schedule("0.05", "1.5")}, "0.05", 1, True, True),
        ({"fee_schedule": _schedule("0.05", "9")}, "0.05", 1, True, True),
        ({"fee_schedule": _schedule("0.05", "Infinity")}, "0.05", 1, True, True),
    ],
)
def test_a_polymarket_market_gives_its_schedule_or_the_sports_rate_never_less(
    fields: dict[str, Any], rate: str, exponent: int, enabled: bool, defaulted: bool
) -> None:
    fees = POLYMARKET.fee_model(_market(**fields))
    assert isinstance(fees.model, PolymarketFeeModel)
    assert (fees.model.rate, fees.model.exponent) == (Decimal(rate), exponent)
    assert (fees.model.enabled, fees.defaulted) == (enabled, defaulted)


@pytest.mark.parametrize(
    ("size", "expected"), [("5", 5 * ONE), ("0.5", ONE // 2), ("-1", None), ("1e-9", None)]
)
def test_a_polymarket_market_gives_its_usable_minimum_order_size(
    size: str, expected: int | None
) -> None:
    fees = POLYMARKET.fee_model(_market(min_order_size=Decimal(size)))
    assert isinstance(fees.model, PolymarketFeeModel)
    assert fees.model.min_order_size == expected


def test_assignments_carry_the_venues_fee_models_and_count_their_defaults() -> None:
    (k0, p0), (k1, p1), (k2, p2) = (game_inputs(i) for i in range(3))
    fees = market_fees((k0, k1), (p0,), multiplier="1.5")
    fees["polymarket"][p1.condition_id] = POLYMARKET.fee_model(
        _market(fees_enabled=False, min_order_size=Decimal(5))
    )
    fees["polymarket"][p2.condition_id] = POLYMARKET.fee_model(_market(fees_enabled=True))
    found = discover_games(MatchInputs((k0, k1, k2), (p0, p1, p2), fees=fees))
    specs = [found.games[k.event_ticker] for k in (k0, k1, k2)]
    fields = [pair_fields(s) for s in specs]
    assert fields == [
        ("1.5", "0.05", 1, None),
        ("1.5", "0", 1, 5 * ONE),  # fees off on Polymarket
        ("1", "0.05", 1, None),  # series not fetched: its documented multiplier
    ]
    assert found.fee_defaults == 1  # the third game's schedule was unreadable
