"""Field kinds for bus messages: how each attribute is written to and read from JSON.

Kept apart from :mod:`arbees.messages` so that module stays a readable list of message
types. Every decoder validates strictly and raises :class:`~arbees.errors.DecodeError`
naming the field; unknown extra keys are ignored by the caller.

Wire conventions (chosen so a consumer written against the seed keeps working):

* ``price`` — float dollars under the field's own name (the seed's format) **and** the exact
  decimal string under ``<name>_exact``. Decoders prefer the exact string; a float-only
  payload is rounded conservatively (``bid``-like fields down, ``ask``-like fields up).
  ``null`` means "no price" — never zero.
* ``size`` / ``money`` — exact decimal strings (``money`` may be negative).
* ``levels`` — ``[["0.43", "100"], ...]`` best first.

Speed (the bus encodes and decodes every price update): decimal strings are parsed and
formatted through small bounded caches (a market quotes a few hundred distinct prices and
sizes), and each kind has a ``wire`` encoder used by :mod:`arbees.codec` that writes floats
as pre-rendered :class:`msgspec.Raw` JSON (``repr(float)``, exactly what :mod:`json`
writes), so msgspec's fast encoder produces the same bytes as the standard library.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

import msgspec

from arbees.book import Level
from arbees.errors import DecodeError
from arbees.money import ONE, Fixed, format_fixed, from_float, parse_fixed, to_float

__all__ = ["KINDS", "Decoder", "Encoder", "Kind", "json_float"]

Encoder = Callable[[str, Any, dict[str, Any]], None]
Decoder = Callable[[str, dict[str, Any]], Any]


class Kind:
    """Functions writing/reading one attribute into/from a JSON object.

    ``encode`` writes JSON-ready Python values (``to_dict``); ``wire`` (default: the same)
    writes what :mod:`arbees.codec` hands to msgspec (floats as :class:`msgspec.Raw`).
    """

    __slots__ = ("decode", "encode", "name", "wire")

    def __init__(
        self, name: str, encode: Encoder, decode: Decoder, wire: Encoder | None = None
    ) -> None:
        self.name = name
        self.encode = encode
        self.decode = decode
        self.wire = wire or encode


_CACHE_MAX: Final = 65_536
_PARSED: dict[str, Fixed] = {}
_FORMATTED: dict[int, str] = {}
_PRICE_WIRE: dict[int, tuple[msgspec.Raw, str]] = {}


def _parse(key: str, v: str) -> Fixed:
    """:func:`parse_fixed` through a bounded cache (only successes are cached)."""
    value = _PARSED.get(v)
    if value is None:
        value = parse_fixed(v, field=key)
        if len(_PARSED) >= _CACHE_MAX:
            _PARSED.clear()
        _PARSED[v] = value
    return value


def _fmt(value: Fixed) -> str:
    """:func:`format_fixed` through a bounded cache."""
    text = _FORMATTED.get(value)
    if text is None:
        text = format_fixed(value)
        if len(_FORMATTED) >= _CACHE_MAX:
            _FORMATTED.clear()
        _FORMATTED[value] = text
    return text


def json_float(value: float) -> msgspec.Raw:
    """A float as the JSON text :mod:`json` writes (``repr``); non-finite raises ValueError."""
    if not math.isfinite(value):
        raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
    return msgspec.Raw(repr(value).encode())


def _get(d: dict[str, Any], key: str) -> Any:
    try:
        return d[key]
    except KeyError:
        raise DecodeError("required field is missing", field=key) from None


def _str(key: str, d: dict[str, Any]) -> str:
    v = _get(d, key)
    if type(v) is not str:
        raise DecodeError(f"expected a string, got {type(v).__name__}", field=key)
    return v


def _int(key: str, d: dict[str, Any]) -> int:
    v = _get(d, key)
    if type(v) is not int:
        raise DecodeError(f"expected an integer, got {type(v).__name__}", field=key)
    return v


def _opt_int(key: str, d: dict[str, Any]) -> int | None:
    v = d.get(key)
    if v is None:
        return None
    if type(v) is not int:
        raise DecodeError(f"expected an integer or null, got {type(v).__name__}", field=key)
    return v


def _bool(key: str, d: dict[str, Any]) -> bool:
    v = _get(d, key)
    if type(v) is not bool:
        raise DecodeError(f"expected true/false, got {type(v).__name__}", field=key)
    return v


def _float(key: str, d: dict[str, Any]) -> float:
    v = _get(d, key)
    if type(v) not in (int, float) or not math.isfinite(v):
        raise DecodeError(f"expected a finite number, got {v!r:.40}", field=key)
    return float(v)


def _check_price(key: str, value: Fixed) -> Fixed:
    if not 0 <= value <= ONE:
        raise DecodeError(f"price {format_fixed(value)} outside [0, 1]", field=key)
    return value


def _fixed_str(key: str, v: Any) -> Fixed:
    if type(v) is not str:
        raise DecodeError(f"expected a decimal string, got {type(v).__name__}", field=key)
    return _parse(key, v)


def _enc_price(key: str, value: Fixed | None, out: dict[str, Any]) -> None:
    if value is None:
        out[key] = None
        out[key + "_exact"] = None
    else:
        out[key] = to_float(value)
        out[key + "_exact"] = _fmt(value)


def _wire_price(key: str, value: Fixed | None, out: dict[str, Any]) -> None:
    if value is None:
        out[key] = None
        out[key + "_exact"] = None
        return
    pair = _PRICE_WIRE.get(value)
    if pair is None:
        pair = (json_float(to_float(value)), format_fixed(value))
        if len(_PRICE_WIRE) >= _CACHE_MAX:
            _PRICE_WIRE.clear()
        _PRICE_WIRE[value] = pair
    out[key], out[key + "_exact"] = pair


def _dec_price(key: str, d: dict[str, Any]) -> Fixed | None:
    exact = d.get(key + "_exact")
    if exact is not None:
        return _check_price(key, _fixed_str(key + "_exact", exact))
    v = _get(d, key)
    if v is None:
        return None
    if type(v) not in (int, float) or not math.isfinite(v):
        raise DecodeError(f"expected a finite number or null, got {v!r:.40}", field=key)
    # Conservative: anything that is not a bid is treated as a cost (rounded up).
    if "bid" in key:
        return _check_price(key, from_float(float(v), rounding="down"))
    return _check_price(key, from_float(float(v), rounding="up"))


def _enc_exact(key: str, value: Fixed | None, out: dict[str, Any]) -> None:
    out[key] = None if value is None else _fmt(value)


def _dec_size(key: str, d: dict[str, Any]) -> Fixed | None:
    v = d.get(key)
    if v is None:
        return None
    value = _fixed_str(key, v)
    if value < 0:
        raise DecodeError(f"size {v} is negative", field=key)
    return value


def _dec_money(key: str, d: dict[str, Any]) -> Fixed:
    return _fixed_str(key, _get(d, key))


def _enc_money_float(key: str, value: Fixed, out: dict[str, Any]) -> None:
    out[key] = to_float(value)
    out[key + "_exact"] = _fmt(value)


def _wire_money_float(key: str, value: Fixed, out: dict[str, Any]) -> None:
    out[key] = json_float(to_float(value))
    out[key + "_exact"] = _fmt(value)


def _dec_money_float(key: str, d: dict[str, Any]) -> Fixed:
    exact = d.get(key + "_exact")
    if exact is not None:
        value = _fixed_str(key + "_exact", exact)
    else:
        value = from_float(_float(key, d), rounding="down")
    if value < 0:
        raise DecodeError("must not be negative", field=key)
    return value


def _enc_levels(key: str, value: tuple[tuple[Fixed, Fixed], ...], out: dict[str, Any]) -> None:
    out[key] = [[_fmt(p), _fmt(s)] for p, s in value]


def _dec_levels(key: str, d: dict[str, Any]) -> tuple[tuple[Fixed, Fixed], ...]:
    v = d.get(key, [])
    if v is None:
        return ()
    if type(v) is not list:
        raise DecodeError("expected a list of [price, size]", field=key)
    levels = []
    for i, item in enumerate(v):
        where = f"{key}[{i}]"
        if type(item) is not list or len(item) != 2:
            raise DecodeError("expected [price, size]", field=where)
        price = _check_price(where, _fixed_str(where, item[0]))
        size = _fixed_str(where, item[1])
        if size < 0:
            raise DecodeError("negative size", field=where)
        levels.append(Level(price, size))
    return tuple(levels)


def _enc_plain(key: str, value: Any, out: dict[str, Any]) -> None:
    out[key] = value


def _enc_float(key: str, value: float, out: dict[str, Any]) -> None:
    out[key] = value


def _wire_float(key: str, value: float, out: dict[str, Any]) -> None:
    out[key] = json_float(value)


def _dec_str_tuple(key: str, d: dict[str, Any]) -> tuple[str, ...]:
    v = d.get(key, [])
    if type(v) is not list or any(type(x) is not str for x in v):
        raise DecodeError("expected a list of strings", field=key)
    return tuple(v)


def _enc_tuple(key: str, value: tuple[Any, ...], out: dict[str, Any]) -> None:
    out[key] = list(value)


def _dec_str_map(key: str, d: dict[str, Any]) -> dict[str, str]:
    v = d.get(key, {})
    if type(v) is not dict or any(type(x) is not str for x in v.values()):
        raise DecodeError("expected an object of strings", field=key)
    return dict(v)


KINDS: Final[dict[str, Kind]] = {
    "str": Kind("str", _enc_plain, _str),
    "int": Kind("int", _enc_plain, _int),
    "opt_int": Kind("opt_int", _enc_plain, _opt_int),
    "bool": Kind("bool", _enc_plain, _bool),
    "float": Kind("float", _enc_float, _float, _wire_float),
    "price": Kind("price", _enc_price, _dec_price, _wire_price),
    "size": Kind("size", _enc_exact, _dec_size),
    "money": Kind("money", _enc_exact, _dec_money),
    "money_float": Kind("money_float", _enc_money_float, _dec_money_float, _wire_money_float),
    "levels": Kind("levels", _enc_levels, _dec_levels),
    "str_tuple": Kind("str_tuple", _enc_tuple, _dec_str_tuple),
    "str_map": Kind("str_map", _enc_plain, _dec_str_map),
}
