"""Exact conversion of Kalshi wire numbers (prices, counts, level lists) to micro-units.

Current frames carry ``*_dollars`` price strings and ``*_fp`` count strings (either may be
a JSON number in practice). Frames recorded before 2026-03-12 may instead carry integer
cents (``price``, ``yes``) and integer counts (``delta``); those are accepted as fallbacks
only, so old recordings still replay.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from arbees.errors import DecodeError
from arbees.money import CENT, ONE, Fixed, parse_price

__all__ = ["MAX_COUNT", "parse_count", "parse_levels", "parse_price_field"]

MAX_COUNT: Final = 10**15 * ONE
"""Exclusive bound on a count: what a decimal string can spell (15 integer digits), so a
JSON number cannot smuggle in a size no string could."""


def parse_price_field(
    value: object, legacy_cents: int | None, field: str, *, allow_bounds: bool = False
) -> Fixed:
    """A price strictly inside (0, 1) dollars (``[0, 1]`` with ``allow_bounds``)."""
    if value is not None:
        price = parse_price(value, field=field)
    elif type(legacy_cents) is int:
        price = legacy_cents * CENT
    else:
        raise DecodeError("missing price", field=field)
    if allow_bounds:
        if not 0 <= price <= ONE:
            raise DecodeError(f"price out of range: {price}", field=field)
    elif not 0 < price < ONE:
        raise DecodeError(f"price out of range (0, 1): {price}", field=field)
    return price


def parse_count(value: object, legacy: int | None, field: str) -> Fixed:
    """A signed contract count (``*_fp``), exact to 1e-6, below 10**15 contracts."""
    if value is not None:
        count = parse_price(value, field=field)
    elif type(legacy) is int:
        count = legacy * ONE
    else:
        raise DecodeError("missing count", field=field)
    if not -MAX_COUNT < count < MAX_COUNT:
        raise DecodeError("count out of range", field=field)
    return count


def parse_levels(
    fp: Sequence[tuple[object, object]] | None,
    dollars: Sequence[tuple[object, object]] | None,
    cents: Sequence[tuple[object, object]] | None,
    field: str,
) -> dict[Fixed, Fixed]:
    """Snapshot levels ``[[price, count], ...]`` → ``{price: size}``; absent side → empty.

    Zero-size levels are skipped; negative sizes, out-of-range prices and duplicate prices
    are rejected (a book built from them would be silently wrong).
    """
    out: dict[Fixed, Fixed] = {}
    if fp is not None:
        raw, cents_mode = fp, False
    elif dollars is not None:
        raw, cents_mode = dollars, False
    elif cents is not None:
        raw, cents_mode = cents, True
    else:
        return out
    for p, c in raw:
        if cents_mode:
            if type(p) is not int:
                raise DecodeError("legacy cent price must be an int", field=field)
            price = parse_price_field(None, p, field)
        else:
            price = parse_price_field(p, None, field)
        size = parse_count(c, None, field)
        if size < 0:
            raise DecodeError(f"negative size at {price}", field=field)
        if price in out:
            raise DecodeError(f"duplicate price level {price}", field=field)
        if size:
            out[price] = size
    return out
