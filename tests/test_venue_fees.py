"""Each venue builds a market's fee model from its own metadata (``Venue.fee_model``), and
discovery puts exactly those models in the assignments' fee fields."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest

from arbees.errors import ConfigError, DecodeRejection
from arbees.fees import KalshiFeeModel, MarketFees, PolymarketFeeModel
from arbees.kalshi.models import Series
from arbees.money import ONE
from arbees.polymarket.models import FeeSchedule, GammaEvent, GammaMarket
from arbees.services.discovery import MatchInputs, discover_games
from arbees.venues import get_venue
from arbees.venues.polymarket import gamma_listing
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
        # a schedule the fee model refuses, but fees are off: nothing to price
        ({"fees_enabled": False, "fee_schedule": _schedule("0.0000001")}, "0", 1, False, False),
    ],
)
def test_a_polymarket_market_gives_its_schedule_or_the_sports_rate_never_less(
    fields: dict[str, Any], rate: str, exponent: int, enabled: bool, defaulted: bool
) -> None:
    fees = POLYMARKET.fee_model(_market(**fields))
    assert isinstance(fees.model, PolymarketFeeModel)
    assert (fees.model.rate, fees.model.exponent) == (Decimal(rate), exponent)
    assert (fees.model.enabled, fees.defaulted) == (enabled, defaulted)


UNUSABLE_SCHEDULES = [
    _schedule("0.0000001"),  # more decimals than the fixed point holds
    _schedule("0.0500001"),  # ... just above the sports rate: the default would be low
    _schedule("1.5"),
    _schedule("NaN"),
    _schedule("1e999999"),
    _schedule("0.05", "1.5"),
    _schedule("0.05", "9"),
    _schedule("0.05", "Infinity"),
]


@pytest.mark.parametrize("schedule", UNUSABLE_SCHEDULES, ids=lambda s: f"{s.rate}^{s.exponent}")
def test_a_polymarket_schedule_the_fee_model_refuses_is_refused_never_defaulted(
    schedule: FeeSchedule,
) -> None:
    with pytest.raises(ConfigError):
        POLYMARKET.fee_model(_market(fee_schedule=schedule))


def _event(*markets: GammaMarket) -> GammaEvent:
    return GammaEvent("e1", "Thunder vs. Spurs", "okc-sas", True, False, markets)


def test_a_market_with_a_7_decimal_fee_rate_is_a_counted_logged_refusal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = attrs.evolve(_market(fee_schedule=_schedule("0.03")), condition_id="0x" + "2" * 64)
    bad = _market(fee_schedule=_schedule("0.0300001"))
    listing = gamma_listing([_event(bad, good)], [DecodeRejection("events[9]", "earlier")])
    assert [m.condition_id for e in listing.events for m in e.markets] == [good.condition_id]
    assert set(listing.fees) == {good.condition_id}  # never the sports rate in its place
    assert listing.fees[good.condition_id].model.rate == Decimal("0.03")
    (earlier, refusal) = listing.rejected
    assert earlier.item == "events[9]"
    assert (refusal.item, refusal.field) == (bad.condition_id, "feeSchedule")
    assert "unusable fee" in refusal.reason
    assert any(bad.condition_id in r.getMessage() for r in caplog.records)


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
