"""Exact money: integer fixed point in micro-units (1e-6).

Every price, size and amount that feeds a decision is an ``int`` counting millionths:
a price of $0.43 is ``430_000``, a size of 12.5 contracts is ``12_500_000``. Integers add,
compare and hash exactly and fast; a product of two fixed-point values has scale 1e-12 and
is brought back with :func:`mul` (rounding chosen explicitly).

Venue strings are parsed exactly (``"0.5"``, ``".48"``, ``"0.4300"``, ``"1410.00"``,
``"-3.00"``): never through a binary float. Conversions from the floats the legacy bus
fields carry are explicit and round *conservatively*: asks up, bids (and sizes) down, so a
rounding error can only hide an opportunity, never invent one.

Example::

    >>> from arbees.money import parse_fixed, format_fixed, ONE
    >>> ONE - parse_fixed("0.9550")
    45000
    >>> format_fixed(45000)
    '0.045'
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Final, Literal

from arbees.errors import DecodeError

__all__ = [
    "CENT",
    "ONE",
    "SCALE",
    "Fixed",
    "ceil_div",
    "format_fixed",
    "from_decimal",
    "from_float",
    "mul",
    "parse_decimal",
    "parse_fixed",
    "parse_price",
    "to_decimal",
    "to_float",
]

Fixed = int
"""A fixed-point quantity in micro-units (1e-6). A plain ``int`` for speed."""

SCALE: Final = 1_000_000
DECIMALS: Final = 6
ONE: Final = SCALE
"""$1.00 — the payout of a winning binary contract."""
CENT: Final = SCALE // 100

_FIXED_RE: Final = re.compile(r"([+-]?)(\d{0,15})(?:\.(\d{0,6})0*)?")
_PRICE_CACHE: dict[str, int] = {}
CONVERSION_CACHE_MAX: Final = 8_192
"""Entries per conversion cache (this module's prices, the codec's decimals and levels,
Kalshi's prices and counts, Polymarket's level prices and sizes; each cleared when full):
sized to the live set, not to history (``docs/architecture.md``, "Not yet (issue 18)", the
conversion caches)."""


def parse_fixed(value: object, *, field: str | None = None) -> Fixed:
    """Parse a venue number exactly into micro-units.

    Accepts decimal strings (optionally signed, at most 6 significant decimals; trailing
    zeros beyond that are fine), ints, and finite floats (read through ``repr``, i.e. the
    shortest decimal that round-trips, which is the JSON text the venue sent). Anything
    else — NaN, infinities, booleans, exponents in strings, empty strings, more precision
    than 1e-6, more than 15 integer digits — raises :class:`~arbees.errors.DecodeError`
    naming ``field``.
    """
    if type(value) is str:
        m = _FIXED_RE.fullmatch(value)
        if m is None:
            raise DecodeError(f"not an exact decimal with <= 6 places: {value[:40]!r}", field=field)
        sign, whole, frac = m.groups()
        if not whole and not frac:
            raise DecodeError(f"not a number: {value[:40]!r}", field=field)
        result = int(whole or "0") * SCALE + (int(frac.ljust(DECIMALS, "0")) if frac else 0)
        return -result if sign == "-" else result
    if type(value) is int:
        return value * SCALE
    if type(value) is float:
        if not math.isfinite(value):
            raise DecodeError(f"not a finite number: {value!r}", field=field)
        return _from_decimal_exact(Decimal(repr(value)), field)
    kind = type(value).__name__
    raise DecodeError(f"expected a decimal string or number, got {kind}", field=field)


def parse_price(value: object, *, field: str | None = None) -> Fixed:
    """:func:`parse_fixed` with a bounded cache for the few hundred price strings a venue uses."""
    if type(value) is str:
        cached = _PRICE_CACHE.get(value)
        if cached is not None:
            return cached
        result = parse_fixed(value, field=field)
        if len(_PRICE_CACHE) >= CONVERSION_CACHE_MAX:
            _PRICE_CACHE.clear()
        _PRICE_CACHE[value] = result
        return result
    return parse_fixed(value, field=field)


def parse_decimal(value: object, *, field: str | None = None) -> Decimal | None:
    """A venue number that is not money (a strike, a fee rate) as an exact, finite
    :class:`~decimal.Decimal`; ``None`` (absent) and ``""`` give ``None``.

    Accepts decimal strings, ints, ``Decimal`` and finite floats (read through ``repr``);
    anything else (booleans, text, NaN, infinities) raises
    :class:`~arbees.errors.DecodeError` naming ``field``, quoting at most 40 characters.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise DecodeError(f"expected a number, got {type(value).__name__}", field=field)
    try:
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise DecodeError(f"not a number: {str(value)[:40]!r}", field=field) from None
    if not d.is_finite():
        raise DecodeError(f"not a finite number: {str(value)[:40]!r}", field=field)
    return d


def _from_decimal_exact(d: Decimal, field: str | None) -> Fixed:
    scaled = d.scaleb(DECIMALS)
    if scaled != scaled.to_integral_value():
        raise DecodeError(f"more precision than 1e-6: {d}", field=field)
    return int(scaled)


def from_decimal(d: Decimal, *, rounding: Literal["up", "down", "exact"] = "exact") -> Fixed:
    """Convert a :class:`~decimal.Decimal` to micro-units (``up`` = ceiling, ``down`` = floor)."""
    if not d.is_finite():
        raise DecodeError(f"not a finite number: {d}")
    if rounding == "exact":
        return _from_decimal_exact(d, None)
    mode = ROUND_CEILING if rounding == "up" else ROUND_FLOOR
    return int(d.scaleb(DECIMALS).to_integral_value(rounding=mode))


def from_float(value: float, *, rounding: Literal["up", "down"]) -> Fixed:
    """Convert a legacy float-dollar field to micro-units, rounding conservatively.

    Use ``rounding="up"`` for asks/costs and ``"down"`` for bids/sizes, so that float noise
    can only make an opportunity look worse. The float is read through ``repr`` first, so
    ``0.57`` becomes exactly 570000 (not 569999 as ``int(0.57 * 1e6)`` would give).
    """
    if not isinstance(value, float | int) or isinstance(value, bool) or not math.isfinite(value):
        raise DecodeError(f"not a finite number: {value!r}")
    try:
        return from_decimal(Decimal(repr(value)), rounding=rounding)
    except InvalidOperation as exc:  # pragma: no cover - repr of a finite float always parses
        raise DecodeError(f"not a number: {value!r}") from exc


def to_float(value: Fixed) -> float:
    """Micro-units to float dollars (for display and the seed-compatible bus fields only)."""
    return value / SCALE


def to_decimal(value: Fixed) -> Decimal:
    """Micro-units to an exact :class:`~decimal.Decimal`."""
    return Decimal(value).scaleb(-DECIMALS)


def format_fixed(value: Fixed) -> str:
    """Exact, minimal decimal string: ``450000`` -> ``"0.45"``, ``2_000_000`` -> ``"2"``."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), SCALE)
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:06d}".rstrip("0")


def ceil_div(n: int, d: int) -> int:
    """Integer division rounding toward +infinity (``d`` > 0)."""
    return -((-n) // d)


def mul(a: Fixed, b: Fixed, *, rounding: Literal["up", "down"]) -> Fixed:
    """Product of two fixed-point values, back in micro-units, rounded as asked."""
    p = a * b
    return ceil_div(p, SCALE) if rounding == "up" else p // SCALE
