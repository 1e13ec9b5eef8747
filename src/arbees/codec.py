"""JSON wire codec for bus messages.

A payload is one JSON object: the message's fields at the top level (so
``redis-cli SUBSCRIBE polymarket:prices`` shows readable messages and consumers written
against the seed's field names keep working), plus two tags::

    {"schema": 3, "kind": "PolymarketPriceUpdate", "market_id": "0x…", "yes_bid": 0.43, …}

The encoder writes :data:`~arbees.messages.SCHEMA_VERSION`; the decoder also reads the
previous versions (:data:`~arbees.messages.READ_SCHEMA_VERSIONS`), so publishers can be
upgraded one at a time. A version-1 or -2 ``MarketAssignment`` carried Kalshi's and
Polymarket's fees in four named fields; they are read as the fee terms of ``"kalshi"`` and
``"polymarket"`` (a bad one is refused naming that field, as those versions did).

Decoding validates everything (types, required fields, prices, sizes, finite numbers;
``NaN``/``Infinity`` literals are refused) and ignores unknown extra keys; a field declared
with a default may be missing. Bad input raises :class:`~arbees.errors.DecodeError` naming
the field — never a half-valid object, never another exception.

Every payload is untrusted (anyone with bus access can publish), so decoding has limits:

* :data:`MAX_PAYLOAD_BYTES` before JSON is parsed at all, then the message type's own
  ``max_bytes`` (16 KiB for a price update, whose largest legitimate form is ~1.2 KB);
* :data:`MAX_JSON_DEPTH` levels of nesting (legitimate messages use 3);
* per field: id, text, list and map lengths, price ranges, sorted unique depth of at most
  :data:`~arbees.messages.PUBLISHED_DEPTH` levels, non-negative int64 counters, and wall
  clocks no later than now plus a skew (:class:`DecodeLimits`, see :mod:`arbees._wire`);
* per message: a fresh price update is not crossed, an assignment's fee terms are usable
  (the fee models' own rules: :mod:`arbees.fees` is not part of the message vocabulary, so
  that check lives here rather than in ``MarketAssignment.from_dict``).

The hot message has a fast path: a :class:`~arbees.messages.PolymarketPriceUpdate` in the
form this encoder writes (its first bytes name the current schema and the kind, every field
present, no other key) is read by msgspec straight into a typed struct and checked against
the same limits, without building a dict first (about 4x faster; the shard decodes every
price update). Anything else the fast path does not vouch for (another kind, an older
schema, extra keys, float-only prices, any limit broken) goes through the generic path
below, which accepts or refuses it exactly as before: so the fast path can only accept what
the generic path accepts, as the same value (``tests/bus/test_codec_fast.py`` checks it
over valid and mutated payloads), and every refusal names the field the generic path names.

JSON is read and written by msgspec (several times faster than :mod:`json`, and this runs
for every bus message). The bytes are the same as ``json`` with compact separators and
``ensure_ascii=False`` would write: floats go to msgspec pre-rendered with ``repr`` (see
:mod:`arbees._wire`), strings are escaped the same way. msgspec refuses ``NaN`` and
``Infinity`` literals, numbers beyond a double's range, and lone-surrogate escapes as
malformed JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar, overload

import msgspec

from arbees._wire import (
    _PARSED,
    DEFAULT_LIMITS,
    INT64_MAX,
    MAX_AMOUNT,
    MAX_ID_CHARS,
    PUBLISHED_DEPTH,
    DecodeLimits,
    _fmt,
    _parse,
    _wire_money_float,
    _wire_price,
    json_float,
    wire_level,
    wire_mirror_level,
)
from arbees.book import BookView, Level
from arbees.errors import ArbeesError, DecodeError
from arbees.fees import terms_model
from arbees.messages import (
    MESSAGE_TYPES,
    READ_SCHEMA_VERSIONS,
    SCHEMA_VERSION,
    FeeTerms,
    MarketAssignment,
    Message,
    PolymarketPriceUpdate,
    is_token_id,
)
from arbees.money import CONVERSION_CACHE_MAX as _CACHE_MAX
from arbees.money import ONE, Fixed, to_float

__all__ = [
    "DEFAULT_LIMITS",
    "KIND_KEY",
    "MAX_JSON_DEPTH",
    "MAX_PAYLOAD_BYTES",
    "SCHEMA_KEY",
    "DecodeLimits",
    "decode",
    "encode",
    "encode_price_view",
]

SCHEMA_KEY: Final = "schema"
KIND_KEY: Final = "kind"

MAX_PAYLOAD_BYTES: Final = 256 * 1024
"""No payload larger than this is parsed (the largest type's cap, see ``max_bytes``)."""
MAX_JSON_DEPTH: Final = 8
"""Nesting of arrays/objects (a price update's levels are at depth 3)."""

M = TypeVar("M", bound=Message)

_dumps = msgspec.json.Encoder().encode
_loads = msgspec.json.Decoder().decode


def encode(message: Message) -> bytes:
    """Serialize a message to UTF-8 JSON bytes."""
    if type(message) is PolymarketPriceUpdate:
        return _encode_price_update(message)
    payload: dict[str, Any] = {SCHEMA_KEY: SCHEMA_VERSION, KIND_KEY: type(message).__name__}
    message._wire_into(payload)
    return _dumps(payload)


def _encode_price_update(m: PolymarketPriceUpdate) -> bytes:
    """:func:`encode` of the hot message, its 21 fields written straight into the payload
    (the monitor encodes one per update): the same bytes as the table-driven
    ``_wire_into``, which ``tests/bus/test_codec_encode_fast.py`` checks on generated messages."""
    fmt = _fmt
    price = _wire_price
    out: dict[str, Any] = {
        SCHEMA_KEY: SCHEMA_VERSION,
        KIND_KEY: "PolymarketPriceUpdate",
        "market_id": m.market_id,
        "token_id": m.token_id,
    }
    price("yes_bid", m.yes_bid, out)
    price("yes_ask", m.yes_ask, out)
    price("no_bid", m.no_bid, out)
    price("no_ask", m.no_ask, out)
    _wire_money_float("liquidity", m.liquidity, out)
    out["timestamp_ms"] = m.timestamp_ms
    v = m.yes_bid_size
    out["yes_bid_size"] = None if v is None else fmt(v)
    v = m.yes_ask_size
    out["yes_ask_size"] = None if v is None else fmt(v)
    v = m.no_bid_size
    out["no_bid_size"] = None if v is None else fmt(v)
    v = m.no_ask_size
    out["no_ask_size"] = None if v is None else fmt(v)
    out["yes_asks"] = [[fmt(p), fmt(z)] for p, z in m.yes_asks]
    out["no_asks"] = [[fmt(p), fmt(z)] for p, z in m.no_asks]
    out["venue_ts_ms"] = m.venue_ts_ms
    out["monitor_recv_ns"] = m.monitor_recv_ns
    out["published_ns"] = m.published_ns
    out["seq"] = m.seq
    out["stale"] = m.stale
    v = m.tick_size
    out["tick_size"] = None if v is None else fmt(v)
    out["stream_seq"] = m.stream_seq
    return _dumps(out)


def encode_price_view(
    view: BookView,
    *,
    seq: int,
    venue_ts_ms: int | None,
    received_ns: int,
    published_ns: int,
    depth: int = PUBLISHED_DEPTH,
    stream_seq: int = 0,
) -> bytes:
    """``encode(price_update(view, ...))`` without building the message: the monitor
    encodes one per changed token, straight from its book's view (the same bytes, which
    ``tests/bus/test_codec_encode_fast.py`` checks on generated books; see
    :func:`arbees.services.monitor.price_update` for the fields)."""
    bids = view.bids
    asks = view.asks
    bid = bids[0] if bids else None
    ask = asks[0] if asks else None
    price = _wire_price
    fmt = _fmt
    out: dict[str, Any] = {
        SCHEMA_KEY: SCHEMA_VERSION,
        KIND_KEY: "PolymarketPriceUpdate",
        "market_id": view.market,
        "token_id": view.instrument,
    }
    price("yes_bid", bid[0] if bid else None, out)
    price("yes_ask", ask[0] if ask else None, out)
    price("no_bid", ONE - ask[0] if ask else None, out)
    price("no_ask", ONE - bid[0] if bid else None, out)
    bid_size = fmt(bid[1]) if bid else None
    ask_size = fmt(ask[1]) if ask else None
    liquidity = (bid[1] if bid else 0) + (ask[1] if ask else 0)
    out["liquidity"] = json_float(to_float(liquidity))
    out["liquidity_exact"] = fmt(liquidity)
    out["timestamp_ms"] = published_ns // 1_000_000
    out["yes_bid_size"] = bid_size
    out["yes_ask_size"] = ask_size
    out["no_bid_size"] = ask_size
    out["no_ask_size"] = bid_size
    out["yes_asks"] = [wire_level(lvl) for lvl in asks[:depth]]
    out["no_asks"] = [wire_mirror_level(lvl) for lvl in bids[:depth]]
    out["venue_ts_ms"] = venue_ts_ms
    out["monitor_recv_ns"] = received_ns
    out["published_ns"] = published_ns
    out["seq"] = seq
    out["stale"] = view.stale
    out["tick_size"] = None
    out["stream_seq"] = stream_seq
    return _dumps(out)


@overload
def decode(
    data: bytes | bytearray | memoryview | str,
    expected: type[M],
    *,
    limits: DecodeLimits | None = None,
) -> M: ...
@overload
def decode(
    data: bytes | bytearray | memoryview | str,
    expected: None = None,
    *,
    limits: DecodeLimits | None = None,
) -> Message: ...
def decode(
    data: bytes | bytearray | memoryview | str,
    expected: type[Message] | None = None,
    *,
    limits: DecodeLimits | None = None,
) -> Message:
    """Parse and validate one payload.

    With ``expected`` the payload must be of that type; without, the ``kind`` tag picks it.
    ``limits`` sets the clock rules (default :data:`DEFAULT_LIMITS`: 5 s of skew).
    """
    raw: bytes | bytearray | memoryview
    if type(data) is str:
        try:
            raw = data.encode()
        except UnicodeEncodeError:
            raise DecodeError("not UTF-8 text") from None
    else:
        raw = data  # type: ignore[assignment]
    if (expected is None or expected is PolymarketPriceUpdate) and raw[
        : len(_FAST_PREFIX)
    ] == _FAST_PREFIX:
        fast = _fast_price_update(raw, limits)
        if fast is not None:
            return fast
    return _decode_generic(raw, expected, limits)


def _decode_generic(
    raw: bytes | bytearray | memoryview, expected: type[Message] | None, limits: DecodeLimits | None
) -> Message:
    """Any payload: parsed to a dict, then validated field by field (``Message.from_dict``)."""
    size = len(raw)
    if size > MAX_PAYLOAD_BYTES:
        raise DecodeError(f"payload of {size} bytes, over {MAX_PAYLOAD_BYTES}")
    try:
        obj = _loads(raw)
    except (msgspec.MsgspecError, ValueError, TypeError, RecursionError) as exc:
        raise DecodeError(f"not JSON: {str(exc)[:100]}") from None
    if type(obj) is not dict:
        raise DecodeError(f"expected a JSON object, got {type(obj).__name__}")
    version = obj.get(SCHEMA_KEY)
    if type(version) is not int or version not in READ_SCHEMA_VERSIONS:
        raise DecodeError(f"unsupported schema version {version!r:.20}", field=SCHEMA_KEY)
    kind = obj.get(KIND_KEY)
    cls = MESSAGE_TYPES.get(kind) if type(kind) is str else None
    if cls is None:
        raise DecodeError(f"unknown message kind {kind!r:.40}", field=KIND_KEY)
    if expected is not None and cls is not expected:
        raise DecodeError(f"expected {expected.__name__}, got {kind}", field=KIND_KEY)
    if size > cls.max_bytes:
        raise DecodeError(f"{kind} of {size} bytes, over {cls.max_bytes}")
    _check_depth(raw, obj)
    if version < _FEE_TERMS_VERSION and cls is MarketAssignment:
        obj = _legacy_fees(obj)
    message = cls.from_dict(obj, limits=limits)
    check = _CHECKS.get(cls)
    if check is not None:
        check(message)
    return message


def _check_fee_fields(a: MarketAssignment) -> None:
    """An assignment's fee terms follow the fee models' own rules (ranges of rate,
    multiplier and exponent), so a shard never meets fee terms it cannot use."""
    for terms in a.fees:
        _check_terms(terms, "fees")


def _check_terms(terms: FeeTerms, field: str) -> None:
    try:
        terms_model(terms)
    except (ArbeesError, ArithmeticError) as exc:
        raise DecodeError(f"{terms.venue}: {str(exc)[:100]}", field=field) from None


_FEE_TERMS_VERSION: Final = 3
"""The first schema version whose assignments carry ``fees`` (fee terms by venue id)."""

_LEGACY_FEE_FIELDS: Final = {
    # legacy field -> (venue, the fee terms' field, the default version 1/2 gave it)
    "kalshi_fee_multiplier": ("kalshi", "multiplier", "1"),
    "poly_fee_rate": ("polymarket", "rate", "0"),
    "poly_fee_exponent": ("polymarket", "exponent", 1),
    "poly_min_order_size": ("polymarket", "min_order_size", None),
}


def _legacy_fees(obj: dict[str, Any]) -> dict[str, Any]:
    """A version-1/2 assignment's four fee fields as version 3's fee terms of Kalshi and
    Polymarket (what those versions meant); each field is checked on its own, so a bad one
    is refused naming it."""
    obj = dict(obj)
    entries: dict[str, dict[str, Any]] = {
        "kalshi": {"venue": "kalshi", "kind": "kalshi"},
        "polymarket": {"venue": "polymarket", "kind": "polymarket"},
    }
    for name, (venue, key, default) in _LEGACY_FEE_FIELDS.items():
        value = obj.pop(name, default)
        alone = {"venue": venue, "kind": entries[venue]["kind"], key: value}
        try:
            terms = FeeTerms.from_dict(alone)
        except DecodeError as exc:
            raise DecodeError(str(exc)[:100], field=name) from None
        _check_terms(terms, name)
        entries[venue][key] = value
    obj["fees"] = list(entries.values())
    return obj


_CHECKS: Final[dict[type[Message], Callable[[Any], None]]] = {
    MarketAssignment: _check_fee_fields,
}
"""Checks that need more than the message vocabulary (here: the fee models), by type."""


def _check_depth(data: bytes | bytearray | memoryview, obj: dict[str, Any]) -> None:
    """Refuse nesting deeper than :data:`MAX_JSON_DEPTH`. Counting brackets (in C) bounds
    the depth from above, so the tree is walked only for payloads with many of them."""
    raw = bytes(data) if type(data) is memoryview else data
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise DecodeError(f"JSON nested deeper than {MAX_JSON_DEPTH}")
        children = value.values() if type(value) is dict else value
        for child in children:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))


_FAST_PREFIX: Final = b'{"%s":%d,"%s":"PolymarketPriceUpdate",' % (
    SCHEMA_KEY.encode(),
    SCHEMA_VERSION,
    KIND_KEY.encode(),
)
"""How every price update :func:`encode` writes begins (the fast path's cheap first test)."""


class _PriceUpdateWire(msgspec.Struct, forbid_unknown_fields=True):
    """A price update exactly as :func:`encode` writes it: every key present, no other key
    (so nothing nests deeper than the levels' 3, under :data:`MAX_JSON_DEPTH`)."""

    schema: int
    kind: str
    market_id: str
    token_id: str
    yes_bid: float | None
    yes_bid_exact: str | None
    yes_ask: float | None
    yes_ask_exact: str | None
    no_bid: float | None
    no_bid_exact: str | None
    no_ask: float | None
    no_ask_exact: str | None
    liquidity: float
    liquidity_exact: str
    timestamp_ms: int
    yes_bid_size: str | None
    yes_ask_size: str | None
    no_bid_size: str | None
    no_ask_size: str | None
    yes_asks: list[tuple[str, str]] | None
    no_asks: list[tuple[str, str]] | None
    venue_ts_ms: int | None
    monitor_recv_ns: int
    published_ns: int
    seq: int
    stale: bool
    tick_size: str | None
    stream_seq: int


_fast_loads = msgspec.json.Decoder(_PriceUpdateWire).decode


class _NotFast(Exception):
    """The fast path does not vouch for this payload: the generic path decides."""


def _fast_price_update(
    raw: bytes | bytearray | memoryview, limits: DecodeLimits | None
) -> PolymarketPriceUpdate | None:
    """The price update in ``raw`` when the fast path can vouch for it, else ``None`` (the
    generic path then accepts or refuses it). Every check is the generic path's own rule
    (:mod:`arbees._wire`: ids, token ids, prices in (0, 1), sizes, amounts, depth, int64
    counters, clocks; the message's crossed-book rule)."""
    if len(raw) > PolymarketPriceUpdate.max_bytes:
        return None
    try:
        w = _fast_loads(raw)
    except (msgspec.MsgspecError, ValueError, TypeError, RecursionError):
        return None
    if w.kind != "PolymarketPriceUpdate" or w.schema not in READ_SCHEMA_VERSIONS:
        return None
    m = w.market_id
    if (
        len(m) > MAX_ID_CHARS
        or not (m.isascii() and m.isprintable())
        or '"' in m
        or "\\" in m
        or not is_token_id(w.token_id)
    ):
        return None
    own, venue = (limits or DEFAULT_LIMITS).horizons()
    try:
        liquidity = _exact(w.liquidity_exact)
        if not 0 <= liquidity <= MAX_AMOUNT:
            return None
        # Positional, in the class's field order (half the cost of keywords; the
        # equality test with the generic path fails if the order ever changes).
        message = PolymarketPriceUpdate(
            m,
            w.token_id,
            _price(w.yes_bid, w.yes_bid_exact),
            _price(w.yes_ask, w.yes_ask_exact),
            _price(w.no_bid, w.no_bid_exact),
            _price(w.no_ask, w.no_ask_exact),
            liquidity,
            _clock(w.timestamp_ms, 1_000_000, own),
            _size(w.yes_bid_size),
            _size(w.yes_ask_size),
            _size(w.no_bid_size),
            _size(w.no_ask_size),
            _levels(w.yes_asks),
            _levels(w.no_asks),
            None if w.venue_ts_ms is None else _clock(w.venue_ts_ms, 1_000_000, venue),
            _clock(w.monitor_recv_ns, 1, own),
            _clock(w.published_ns, 1, own),
            _clock(w.seq, 0, 0),
            w.stale,
            _size(w.tick_size),
            _clock(w.stream_seq, 0, 0),
        )
        message._check_decoded()
    except (_NotFast, DecodeError):
        return None
    return message


def _exact(text: str) -> Fixed:
    value = _PARSED.get(text)
    return _parse("", text) if value is None else value


def _price(number: float | None, exact: str | None) -> Fixed | None:
    if exact is None:
        if number is None:
            return None
        raise _NotFast  # a float-only price: the generic path rounds it
    value = _exact(exact)
    if not 0 < value < ONE:
        raise _NotFast
    return value


def _size(text: str | None) -> Fixed | None:
    if text is None:
        return None
    value = _exact(text)
    if value < 0:
        raise _NotFast
    return value


def _clock(value: int, unit: int, horizon: int) -> int:
    """An int64 counter (``unit`` 0) or a wall clock in ``unit`` ns no later than ``horizon``."""
    if not 0 <= value <= INT64_MAX or (unit and value * unit > horizon):
        raise _NotFast
    return value


def _levels(items: list[tuple[str, str]] | None) -> tuple[Level, ...]:
    if not items:
        return ()
    if len(items) > PUBLISHED_DEPTH:
        raise _NotFast
    levels = []
    previous = 0
    cache = _LEVELS
    for item in items:
        level = cache.get(item)
        if level is None:
            level = Level(_exact(item[0]), _exact(item[1]))
            if not 0 < level.price < ONE or level.size < 0:
                raise _NotFast
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache[item] = level
        if level.price <= previous:
            raise _NotFast
        previous = level.price
        levels.append(level)
    return tuple(levels)


_LEVELS: dict[tuple[str, str], Level] = {}
"""Valid levels by their two strings (a market repeats its prices and sizes), bounded."""
