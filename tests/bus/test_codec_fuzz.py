"""Fuzzing the bus codec: for any bytes, any JSON and any mutation of a valid message it
raises nothing but DecodeError, never accepts a message outside the documented limits, and
never changes how a valid payload decodes."""

from __future__ import annotations

import json
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_codec import messages, price_updates

from arbees import codec
from arbees.errors import DecodeError
from arbees.fees import terms_model
from arbees.messages import (
    MAX_ID_CHARS,
    MAX_LIST_ITEMS,
    MAX_MAP_ENTRIES,
    MAX_MAP_VALUE_CHARS,
    MAX_TEXT_CHARS,
    PUBLISHED_DEPTH,
    MarketAssignment,
    Message,
    PolymarketPriceUpdate,
)
from arbees.money import ONE, format_fixed

NOW_MS = 1_800_000_000_000
LIMITS = codec.DecodeLimits(clock_ns=lambda: NOW_MS * 1_000_000)
OWN_HORIZON_NS = (NOW_MS + LIMITS.future_skew_ms) * 1_000_000
VENUE_HORIZON_NS = (NOW_MS + LIMITS.venue_skew_ms) * 1_000_000
INT64_MAX = 2**63 - 1

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Numbers and strings that sit on or beyond the limits.
hostile_ints = st.sampled_from(
    [-1, 0, 1, INT64_MAX, INT64_MAX + 1, 10**30, -(10**30), 2**64, NOW_MS * 10**6 * 2]
) | st.integers(-(2**70), 2**70)
hostile_floats = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [0.0, 1.0, -0.0, 1e300, -1e300, 5e-324, 0.9999999, 1e-7]
)
hostile_strings = (
    st.text(max_size=40)
    | st.text("0123456789.-e", max_size=90)
    | st.sampled_from(["", "NaN", "Infinity", "1e999999", "0.5", "1", "0", "-0.1", "abc"])
    | st.integers(0, 3).map(lambda n: "7" * (MAX_ID_CHARS + n))
)
scalars = st.none() | st.booleans() | hostile_ints | hostile_floats | hostile_strings
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)
# Depth that parses: decimal prices around (0, 1) and sizes around 0, in any order, with
# repeats, sometimes too many.
level_lists = (
    st.lists(
        st.tuples(
            st.integers(-1, ONE + 1).map(format_fixed), st.integers(-2, 10**9).map(format_fixed)
        ).map(list),
        max_size=PUBLISHED_DEPTH + 2,
    )
    | st.lists(st.integers(1, ONE - 1), unique=True, max_size=PUBLISHED_DEPTH + 3).map(
        lambda prices: [[format_fixed(p), "1"] for p in sorted(prices)]
    )
    | st.lists(st.lists(hostile_strings | hostile_floats, max_size=3), max_size=8)
)


def _check_text(value: Any, limit: int, *, ident: bool) -> None:
    assert type(value) is str
    assert len(value) <= limit
    if ident:
        assert value.isascii()
        assert value.isprintable()
        assert '"' not in value
        assert "\\" not in value


def _check_token(value: Any) -> None:
    assert type(value) is str
    assert value.isascii()
    assert value.isdigit()
    assert 1 <= len(value) <= 78
    assert int(value) < 2**256


def assert_within_limits(message: Message, size: int) -> None:
    """The documented limits, checked independently of the decoders."""
    assert size <= type(message).max_bytes <= codec.MAX_PAYLOAD_BYTES
    _check_fields(message)
    if isinstance(message, PolymarketPriceUpdate) and not message.stale:
        for bid, ask in ((message.yes_bid, message.yes_ask), (message.no_bid, message.no_ask)):
            assert bid is None or ask is None or bid < ask
    if isinstance(message, MarketAssignment):
        for terms in message.fees:
            terms_model(terms)
        if message.platform == "polymarket":
            _check_token(message.token_id)


def _check_fields(message: Message) -> None:
    for a in attrs.fields(type(message)):  # type: ignore[arg-type]
        kind, value = a.metadata["kind"], getattr(message, a.name)
        if kind == "id":
            _check_text(value, MAX_ID_CHARS, ident=True)
        elif kind == "token":
            _check_token(value)
        elif kind == "opt_token":
            assert value == "" or _check_token(value) is None
        elif kind == "text":
            _check_text(value, MAX_TEXT_CHARS, ident=False)
        elif kind in ("int", "opt_int", "ms", "ns", "venue_ms") and value is not None:
            assert type(value) is int
            assert 0 <= value <= INT64_MAX
            if kind == "ms":
                assert value * 1_000_000 <= OWN_HORIZON_NS
            elif kind == "ns":
                assert value <= OWN_HORIZON_NS
            elif kind == "venue_ms":
                assert value * 1_000_000 <= VENUE_HORIZON_NS
        elif kind == "price" and value is not None:
            assert 0 < value < ONE
        elif kind in ("size", "money_float") and value is not None:
            assert 0 <= value < 10**15 * ONE
        elif kind == "levels":
            assert len(value) <= PUBLISHED_DEPTH
            prices = [price for price, _ in value]
            assert prices == sorted(set(prices))
            assert all(0 < price < ONE and size >= 0 for price, size in value)
        elif kind == "id_tuple":
            assert len(value) <= MAX_LIST_ITEMS
            for item in value:
                _check_text(item, MAX_ID_CHARS, ident=True)
        elif kind == "str_map":
            assert len(value) <= MAX_MAP_ENTRIES
            for key, item in value.items():
                _check_text(key, MAX_ID_CHARS, ident=True)
                _check_text(item, MAX_MAP_VALUE_CHARS, ident=False)
        elif kind == "nested":
            for item in value:
                _check_fields(item)


def decode_or_reject(data: bytes | str) -> Message | None:
    """Decode, allowing only a DecodeError; an accepted message is checked against the
    limits."""
    try:
        message = codec.decode(data, limits=LIMITS)
    except DecodeError:
        return None
    raw = data.encode() if isinstance(data, str) else data
    assert_within_limits(message, len(raw))
    return message


@FUZZ
@given(st.binary(max_size=4096))
def test_any_bytes(data: bytes) -> None:
    decode_or_reject(data)


@FUZZ
@given(json_values)
def test_any_json(value: Any) -> None:
    decode_or_reject(json.dumps(value))


@FUZZ
@given(
    messages,
    st.data(),
    st.lists(st.text(max_size=12) | st.sampled_from(["yes_asks", "no_asks"]), max_size=3),
)
def test_any_mutation_of_a_valid_message(
    message: Message, data: st.DataObject, new_keys: list[str]
) -> None:
    valid = codec.encode(message)
    obj = json.loads(valid)
    keys = sorted(obj) + new_keys
    for key in data.draw(st.lists(st.sampled_from(keys), min_size=1, max_size=4)):
        if key.endswith("asks"):
            obj[key] = data.draw(level_lists | json_values)
        elif data.draw(st.booleans()):
            obj.pop(key, None)
        else:
            obj[key] = data.draw(json_values)
    decode_or_reject(json.dumps(obj))
    # a refused (or accepted) payload leaves nothing behind: the valid one decodes the same
    assert codec.decode(valid, limits=LIMITS) == message


@FUZZ
@given(messages)
def test_every_valid_message_round_trips_under_the_limits(message: Message) -> None:
    data = codec.encode(message)
    assert decode_or_reject(data) == message


PRICE_KEYS = ("yes_bid", "yes_ask", "no_bid", "no_ask")


@FUZZ
@given(price_updates, st.data())
def test_any_book_in_a_price_update(update: PolymarketPriceUpdate, data: st.DataObject) -> None:
    """The book's own fields, targeted: depth in any order and length, best prices copied
    from one another (locked, crossed) or anywhere around (0, 1)."""
    valid = codec.encode(update)
    obj = json.loads(valid)
    prices = st.integers(-1, ONE + 1).map(format_fixed) | st.sampled_from(
        [obj[f"{k}_exact"] for k in PRICE_KEYS if obj[f"{k}_exact"] is not None] or ["0.5"]
    )
    for key in data.draw(st.lists(st.sampled_from(("yes_asks", "no_asks", *PRICE_KEYS)))):
        if key.endswith("asks"):
            obj[key] = data.draw(level_lists)
        else:
            obj[f"{key}_exact"] = data.draw(st.none() | prices)
            obj[key] = data.draw(st.none() | hostile_floats)
    decode_or_reject(json.dumps(obj))
    assert codec.decode(valid, limits=LIMITS) == update
