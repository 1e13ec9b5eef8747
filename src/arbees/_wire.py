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
* ``levels`` — ``[["0.43", "100"], ...]`` best first (asks: rising prices; ``bid_levels``:
  falling prices).

Limits (every bus payload is untrusted: anyone who can publish on the bus can send it).
A value outside them is a :class:`~arbees.errors.DecodeError` naming the field:

* ids (market, token, shard, game, ticker, service, ...) are printable ASCII without ``"``
  or ``\\``, of at most :data:`MAX_ID_CHARS`; a Polymarket token id is a decimal uint256
  (1..78 digits, :func:`is_token_id`);
* free text (alert ``error``, status ``reason``) at most :data:`MAX_TEXT_CHARS`;
  string maps (``details``) at most :data:`MAX_MAP_ENTRIES` entries of id keys and values of
  at most :data:`MAX_MAP_VALUE_CHARS`; string lists (heartbeat ``games``) at most
  :data:`MAX_LIST_ITEMS` ids;
* decimal strings at most :data:`MAX_DECIMAL_CHARS` characters, amounts at most
  :data:`MAX_AMOUNT` micro-units (what :func:`~arbees.money.parse_fixed` can spell);
* prices strictly inside (0, 1): the range Polymarket quotes in (0 and 1 are the venue's
  "no price" sentinels, which travel as ``null`` here);
* depth: at most :data:`PUBLISHED_DEPTH` levels per side, sorted best first (asks: lowest
  price first) and unique by price;
* integers (sequence numbers, epochs, counts) within ``[0, 2**63 - 1]``;
* wall clocks (``*_ms``, ``*_ns`` times of our own processes) within ``[0, now + skew]``
  and the venue's clock (``venue_ts_ms``) within ``[0, now + venue skew]``, per
  :class:`DecodeLimits`. 0 is the "unknown" default, so there is no lower bound above it:
  an old time is a freshness question for the consumer, not a malformed message.

Speed (the bus encodes and decodes every price update): decimal strings are parsed and
formatted through small bounded caches (a market quotes a few hundred distinct prices and
sizes), and each kind has a ``wire`` encoder used by :mod:`arbees.codec` that writes floats
as pre-rendered :class:`msgspec.Raw` JSON (``repr(float)``, exactly what :mod:`json`
writes), so msgspec's fast encoder produces the same bytes as the standard library.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Final

import attrs
import msgspec

from arbees.book import Level
from arbees.errors import DecodeError
from arbees.identifiers import is_token_id  # one definition: discovery, feed, codec
from arbees.money import CONVERSION_CACHE_MAX as _CACHE_MAX
from arbees.money import ONE, Fixed, format_fixed, from_float, parse_fixed, to_float

__all__ = [
    "INT64_MAX",
    "KINDS",
    "MAX_AMOUNT",
    "MAX_DECIMAL_CHARS",
    "MAX_ID_CHARS",
    "MAX_LIST_ITEMS",
    "MAX_MAP_ENTRIES",
    "MAX_MAP_VALUE_CHARS",
    "MAX_TEXT_CHARS",
    "MAX_TOKEN_ID_DIGITS",
    "PUBLISHED_DEPTH",
    "DecodeLimits",
    "Decoder",
    "Encoder",
    "Kind",
    "clip_text",
    "is_token_id",
    "json_float",
]

Encoder = Callable[[str, Any, dict[str, Any]], None]
Decoder = Callable[[str, dict[str, Any]], Any]

PUBLISHED_DEPTH: Final = 5
"""Levels per side a price update carries (the monitor publishes this many; the codec
refuses more)."""
MAX_ID_CHARS: Final = 200
"""Ids: a condition id is 66 characters, a token id 78, Kalshi tickers and game ids ~40, a
signal id (shard, game, team, combination, serial) ~80. With ids free of characters JSON
escapes, the fullest heartbeat (:data:`MAX_LIST_ITEMS` games) stays under 256 KiB."""
MAX_TOKEN_ID_DIGITS: Final = 78
"""A Polymarket token id is a uint256 in decimal: at most 78 digits."""
MAX_TEXT_CHARS: Final = 2_048
"""Free text (alert ``error``, status ``reason``); producers clip to it (:func:`clip_text`)."""
MAX_MAP_ENTRIES: Final = 64
"""Entries of a string map (``details``); producers write fewer than 10."""
MAX_MAP_VALUE_CHARS: Final = 512
"""One ``details`` value (counts, a country, a redacted URL)."""
MAX_LIST_ITEMS: Final = 1_024
"""A string list (a shard heartbeat's ``games``)."""
MAX_DECIMAL_CHARS: Final = 32
"""A decimal string: 15 integer digits, the point, 6 decimals, a sign and some zeros."""
MAX_AMOUNT: Final = 10**15 * ONE - 1
"""The largest amount in micro-units (15 integer digits, as :func:`parse_fixed` reads)."""
INT64_MAX: Final = 2**63 - 1


def clip_text(value: str) -> str:
    """Free text cut to :data:`MAX_TEXT_CHARS` (ending in ``…`` when cut)."""
    if len(value) <= MAX_TEXT_CHARS:
        return value
    return value[: MAX_TEXT_CHARS - 1] + "…"


@attrs.frozen
class DecodeLimits:
    """The clock rules of decoding (the size limits are module constants).

    Attributes:
        future_skew_ms: how far ahead of this process's clock a time stamped by one of our
            processes may be (clock drift between hosts). Later is refused: a forged future
            time would keep a price "fresh" forever.
        venue_skew_ms: the same for the venue's own clock (``venue_ts_ms``), which we do
            not control: a venue a few seconds ahead must not stop every price.
        clock_ns: the wall clock, epoch nanoseconds (injectable for tests).
    """

    future_skew_ms: int = 5_000
    venue_skew_ms: int = 300_000
    clock_ns: Callable[[], int] = time.time_ns

    def horizons(self) -> tuple[int, int]:
        """The latest acceptable own and venue times, in epoch nanoseconds, as of now."""
        now = self.clock_ns()
        return now + self.future_skew_ms * 1_000_000, now + self.venue_skew_ms * 1_000_000


DEFAULT_LIMITS: Final = DecodeLimits()


class Kind:
    """Functions writing/reading one attribute into/from a JSON object.

    ``encode`` writes JSON-ready Python values (``to_dict``); ``wire`` (default: the same)
    writes what :mod:`arbees.codec` hands to msgspec (floats as :class:`msgspec.Raw`).
    ``clock`` marks a wall-clock field: ``1_000_000`` (epoch ms) or ``1`` (epoch ns) of our
    own processes, ``-1_000_000`` for the venue's epoch ms; 0 for anything else.
    """

    __slots__ = ("clock", "decode", "encode", "name", "wire")

    def __init__(
        self,
        name: str,
        encode: Encoder,
        decode: Decoder,
        wire: Encoder | None = None,
        *,
        clock: int = 0,
    ) -> None:
        self.name = name
        self.encode = encode
        self.decode = decode
        self.wire = wire or encode
        self.clock = clock


_PARSED: dict[str, Fixed] = {}
_FORMATTED: dict[int, str] = {}
_PRICE_WIRE: dict[int, tuple[msgspec.Raw, str]] = {}


def _parse(key: str, v: str) -> Fixed:
    """:func:`parse_fixed` through a bounded cache (only successes of bounded length are
    parsed, so the cache holds at most ``_CACHE_MAX`` short strings)."""
    value = _PARSED.get(v)
    if value is None:
        if len(v) > MAX_DECIMAL_CHARS or not v.isascii():
            raise DecodeError(
                f"not an ASCII decimal of at most {MAX_DECIMAL_CHARS} characters", field=key
            )
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


def _check_id(key: str, v: Any, limit: int = MAX_ID_CHARS) -> str:
    if type(v) is not str:
        raise DecodeError(f"expected a string, got {type(v).__name__}", field=key)
    if len(v) > limit:
        raise DecodeError(f"id of {len(v)} characters, over {limit}", field=key)
    if not (v.isascii() and v.isprintable()) or '"' in v or "\\" in v:
        raise DecodeError(f"id is not printable ASCII without quotes: {v!r:.40}", field=key)
    return v


def _id(key: str, d: dict[str, Any]) -> str:
    return _check_id(key, _get(d, key))


def _token(key: str, d: dict[str, Any]) -> str:
    v = _get(d, key)
    if not is_token_id(v):
        raise DecodeError(f"not a token id (1..78 digits): {v!r:.40}", field=key)
    return str(v)


def _opt_token(key: str, d: dict[str, Any]) -> str:
    v = _get(d, key)
    if v == "":
        return ""
    return _token(key, d)


def _check_text(key: str, v: Any, limit: int) -> str:
    if type(v) is not str:
        raise DecodeError(f"expected a string, got {type(v).__name__}", field=key)
    if len(v) > limit:
        raise DecodeError(f"text of {len(v)} characters, over {limit}", field=key)
    return v


def _text(key: str, d: dict[str, Any]) -> str:
    return _check_text(key, _get(d, key), MAX_TEXT_CHARS)


def _check_int(key: str, v: Any) -> int:
    if type(v) is not int:
        raise DecodeError(f"expected an integer, got {type(v).__name__}", field=key)
    if not 0 <= v <= INT64_MAX:
        raise DecodeError("negative" if v < 0 else "over 2**63 - 1", field=key)
    return v


def _int(key: str, d: dict[str, Any]) -> int:
    v = d.get(key)
    if type(v) is int and 0 <= v <= INT64_MAX:
        return v
    return _check_int(key, _get(d, key))


def _opt_int(key: str, d: dict[str, Any]) -> int | None:
    v = d.get(key)
    if v is None:
        return None
    return _check_int(key, v)


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
    if not 0 < value < ONE:
        raise DecodeError(f"price {format_fixed(value):.20} outside (0, 1)", field=key)
    return value


def _check_amount(key: str, value: Fixed) -> Fixed:
    if not 0 <= value <= MAX_AMOUNT:
        raise DecodeError(f"amount {format_fixed(value):.30} outside [0, 1e15)", field=key)
    return value


def _fixed_str(key: str, v: Any) -> Fixed:
    if type(v) is not str:
        raise DecodeError(f"expected a decimal string, got {type(v).__name__}", field=key)
    return _parse(key, v)


_LEVEL_WIRE: dict[Level, msgspec.Raw] = {}
_MIRROR_WIRE: dict[Level, msgspec.Raw] = {}


def wire_level(level: Level) -> msgspec.Raw:
    """``["<price>","<size>"]`` of a level, pre-rendered through a bounded cache (what
    ``levels`` encodes for it)."""
    raw = _LEVEL_WIRE.get(level)
    if raw is None:
        price, size = level
        raw = msgspec.Raw(b'["%s","%s"]' % (_fmt(price).encode(), _fmt(size).encode()))
        if len(_LEVEL_WIRE) >= _CACHE_MAX:
            _LEVEL_WIRE.clear()
        _LEVEL_WIRE[level] = raw
    return raw


def wire_mirror_level(level: Level) -> msgspec.Raw:
    """:func:`wire_level` of the complementary outcome's level (``p -> 1 - p``, same
    size): a bid of one token as an ask of the other."""
    raw = _MIRROR_WIRE.get(level)
    if raw is None:
        price, size = level
        raw = msgspec.Raw(b'["%s","%s"]' % (_fmt(ONE - price).encode(), _fmt(size).encode()))
        if len(_MIRROR_WIRE) >= _CACHE_MAX:
            _MIRROR_WIRE.clear()
        _MIRROR_WIRE[level] = raw
    return raw


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


def _dec_decimal(key: str, d: dict[str, Any]) -> str:
    """A non-negative exact decimal string kept as text (fee factors): ``"0.05"``."""
    v = _get(d, key)
    if _fixed_str(key, v) < 0:
        raise DecodeError(f"{v} is negative", field=key)
    return str(v)


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
    return _check_amount(key, value)


def _enc_levels(key: str, value: tuple[tuple[Fixed, Fixed], ...], out: dict[str, Any]) -> None:
    out[key] = [[_fmt(p), _fmt(s)] for p, s in value]


def _dec_levels(key: str, d: dict[str, Any]) -> tuple[tuple[Fixed, Fixed], ...]:
    """Ask levels, best (lowest price) first, unique by price, at most the published depth."""
    v = d.get(key, [])
    if v is None:
        return ()
    if type(v) is not list:
        raise DecodeError("expected a list of [price, size]", field=key)
    if len(v) > PUBLISHED_DEPTH:
        raise DecodeError(f"{len(v)} levels, over the depth of {PUBLISHED_DEPTH}", field=key)
    levels = []
    previous = 0
    parsed = _PARSED
    for i, item in enumerate(v):
        # Fast path: both strings already parsed (a market repeats its prices and sizes).
        if type(item) is list and len(item) == 2:
            price = parsed.get(item[0]) if type(item[0]) is str else None
            size = parsed.get(item[1]) if type(item[1]) is str else None
            if price is not None and size is not None and previous < price < ONE and size >= 0:
                previous = price
                levels.append(Level(price, size))
                continue
        level = _dec_level(f"{key}[{i}]", item, previous)
        previous = level.price
        levels.append(level)
    return tuple(levels)


def _dec_level(where: str, item: Any, previous: Fixed) -> Level:
    if type(item) is not list or len(item) != 2:
        raise DecodeError("expected [price, size]", field=where)
    price = _check_price(where, _fixed_str(where, item[0]))
    size = _fixed_str(where, item[1])
    if size < 0:
        raise DecodeError("negative size", field=where)
    if price <= previous:
        raise DecodeError("levels not sorted by rising price, or repeated", field=where)
    return Level(price, size)


def _enc_plain(key: str, value: Any, out: dict[str, Any]) -> None:
    out[key] = value


def _enc_float(key: str, value: float, out: dict[str, Any]) -> None:
    out[key] = value


def _wire_float(key: str, value: float, out: dict[str, Any]) -> None:
    out[key] = json_float(value)


def _dec_id_tuple(key: str, d: dict[str, Any]) -> tuple[str, ...]:
    v = d.get(key, [])
    if type(v) is not list:
        raise DecodeError("expected a list of strings", field=key)
    if len(v) > MAX_LIST_ITEMS:
        raise DecodeError(f"{len(v)} items, over {MAX_LIST_ITEMS}", field=key)
    for x in v:
        _check_id(key, x)
    return tuple(v)


def _enc_tuple(key: str, value: tuple[Any, ...], out: dict[str, Any]) -> None:
    out[key] = list(value)


def _dec_str_map(key: str, d: dict[str, Any]) -> dict[str, str]:
    v = d.get(key, {})
    if type(v) is not dict:
        raise DecodeError("expected an object of strings", field=key)
    if len(v) > MAX_MAP_ENTRIES:
        raise DecodeError(f"{len(v)} entries, over {MAX_MAP_ENTRIES}", field=key)
    for name, value in v.items():
        _check_id(key, name)
        _check_text(key, value, MAX_MAP_VALUE_CHARS)
    return dict(v)


def _dec_bid_levels(key: str, d: dict[str, Any]) -> tuple[tuple[Fixed, Fixed], ...]:
    """Bid levels, best (highest price) first, unique by price, at most the published depth."""
    v = d.get(key, [])
    if v is None:
        return ()
    if type(v) is not list:
        raise DecodeError("expected a list of [price, size]", field=key)
    if len(v) > PUBLISHED_DEPTH:
        raise DecodeError(f"{len(v)} levels, over the depth of {PUBLISHED_DEPTH}", field=key)
    levels = []
    previous = ONE
    for i, item in enumerate(v):
        where = f"{key}[{i}]"
        if type(item) is not list or len(item) != 2:
            raise DecodeError("expected [price, size]", field=where)
        price = _check_price(where, _fixed_str(where, item[0]))
        size = _fixed_str(where, item[1])
        if size < 0:
            raise DecodeError("negative size", field=where)
        if price >= previous:
            raise DecodeError("levels not sorted by falling price, or repeated", field=where)
        previous = price
        levels.append(Level(price, size))
    return tuple(levels)


_MS: Final = 1_000_000
_NS: Final = 1
_VENUE_MS: Final = -1_000_000

KINDS: Final[dict[str, Kind]] = {
    "id": Kind("id", _enc_plain, _id),
    "token": Kind("token", _enc_plain, _token),
    "opt_token": Kind("opt_token", _enc_plain, _opt_token),
    "text": Kind("text", _enc_plain, _text),
    "decimal": Kind("decimal", _enc_plain, _dec_decimal),
    "int": Kind("int", _enc_plain, _int),
    "opt_int": Kind("opt_int", _enc_plain, _opt_int),
    "ms": Kind("ms", _enc_plain, _int, clock=_MS),
    "ns": Kind("ns", _enc_plain, _int, clock=_NS),
    "venue_ms": Kind("venue_ms", _enc_plain, _opt_int, clock=_VENUE_MS),
    "bool": Kind("bool", _enc_plain, _bool),
    "float": Kind("float", _enc_float, _float, _wire_float),
    "price": Kind("price", _enc_price, _dec_price, _wire_price),
    "size": Kind("size", _enc_exact, _dec_size),
    "money": Kind("money", _enc_exact, _dec_money),
    "money_float": Kind("money_float", _enc_money_float, _dec_money_float, _wire_money_float),
    "levels": Kind("levels", _enc_levels, _dec_levels),
    "id_tuple": Kind("id_tuple", _enc_tuple, _dec_id_tuple),
    "str_map": Kind("str_map", _enc_plain, _dec_str_map),
    "bid_levels": Kind("bid_levels", _enc_levels, _dec_bid_levels),
}
