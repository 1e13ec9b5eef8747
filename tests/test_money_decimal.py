"""``arbees.money.parse_decimal``: the one reader of venue numbers that are not money
(Kalshi strikes, Polymarket fee rates and ticks)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from arbees.errors import DecodeError
from arbees.money import parse_decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("0.0625", Decimal("0.0625")),
        (3, Decimal(3)),
        (0.1, Decimal("0.1")),  # through repr: the JSON text, not the binary float
        (Decimal("-2.5"), Decimal("-2.5")),
    ],
)
def test_accepts(value: object, expected: Decimal | None) -> None:
    assert parse_decimal(value, field="f") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "expected a number, got bool"),
        ([1], "expected a number, got list"),
        ("abc", "not a number"),
        ("Infinity", "not a finite number"),
        (float("nan"), "not a finite number"),
    ],
)
def test_refuses(value: object, message: str) -> None:
    with pytest.raises(DecodeError, match=message) as info:
        parse_decimal(value, field="floor_strike")
    assert info.value.field == "floor_strike"


def test_a_long_payload_is_not_quoted_whole() -> None:
    with pytest.raises(DecodeError) as info:
        parse_decimal("NaN" + "9" * 5000, field="rate")
    assert len(str(info.value)) < 200
