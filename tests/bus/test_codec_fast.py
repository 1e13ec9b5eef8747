"""The codec's fast path for price updates decides exactly as the generic path does.

``codec.decode`` reads a price update in the encoder's own form through a typed msgspec
struct (``codec._fast_price_update``) and hands everything it does not vouch for to the
generic path (``codec._decode_generic``). These properties compare the two over valid
updates and over mutations of them (values on and beyond every limit, missing, extra and
repeated keys): the same message, or the same refusal naming the same field.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_codec import price_updates
from test_codec_fuzz import FUZZ, LIMITS, NOW_MS, hostile_ints, json_values, level_lists

from arbees import codec
from arbees.errors import DecodeError
from arbees.messages import PUBLISHED_DEPTH, PolymarketPriceUpdate
from arbees.money import ONE, format_fixed

OWN_MS = NOW_MS + LIMITS.future_skew_ms
VENUE_MS = NOW_MS + LIMITS.venue_skew_ms


def compact(obj: dict[str, Any]) -> bytes:
    """JSON the way the encoder writes it (so the fast path's prefix matches)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def outcome(decode: Any, data: bytes) -> object:
    try:
        return decode(data)
    except DecodeError as exc:
        return ("refused", str(exc), exc.field)


def generic(data: bytes) -> object:
    return codec._decode_generic(data, None, LIMITS)


def assert_same_decision(data: bytes) -> bool:
    """``codec.decode`` decides as the generic path; returns whether the fast path vouched."""
    fast = codec._fast_price_update(data, LIMITS)
    slow = outcome(generic, data)
    if fast is not None:
        assert fast == slow
    assert outcome(lambda d: codec.decode(d, limits=LIMITS), data) == slow
    return fast is not None


# Values on and around each field's limits, by field.
prices_exact = (
    st.none()
    | st.integers(-1, ONE + 1).map(format_fixed)
    | st.sampled_from(["0.5", "1", "0", "abc", "0.0000001", "1e-3", " 0.5", "0.50000000"])
)
sizes = (
    st.none()
    | st.integers(-2, 10**15 * ONE + 1).map(format_fixed)
    | st.sampled_from(["1e3", "", "-0", "9" * 40])
)
counters = hostile_ints | st.booleans() | st.none() | st.just(1.0)
own_ms = st.integers(OWN_MS - 2, OWN_MS + 2) | counters
own_ns = st.integers(OWN_MS * 10**6 - 2, OWN_MS * 10**6 + 2) | counters
venue_ms = st.integers(VENUE_MS - 2, VENUE_MS + 2) | counters
ids = st.sampled_from(["0xab", 'a"b', "a\\b", "é", "a\nb", "", "x" * 200, "x" * 201, 7, None])
tokens = st.sampled_from(["1", "0", "01", "1" * 78, "1" * 79, "1a", "", 1, None]) | st.text(
    "0123456789", max_size=80
)


def near_limits(key: str) -> st.SearchStrategy[Any]:
    if key.endswith("_exact") or key == "liquidity_exact":
        return prices_exact | sizes
    if key.endswith("_size") or key == "tick_size":
        return sizes
    if key.endswith("asks"):
        return level_lists
    if key == "timestamp_ms":
        return own_ms
    if key.endswith("_ns"):
        return own_ns
    if key == "venue_ts_ms":
        return venue_ms
    if key in ("seq", "stream_seq", "schema"):
        return counters
    if key == "stale":
        return st.booleans() | st.none() | st.just(0)
    if key == "market_id":
        return ids
    if key == "token_id":
        return tokens
    if key == "kind":
        return st.sampled_from(["PolymarketPriceUpdate", "SystemAlert", "", None])
    return json_values


def test_the_fast_path_builds_in_the_class_field_order() -> None:
    # The fast path calls the class positionally.
    assert [a.name for a in attrs.fields(PolymarketPriceUpdate)] == [
        "market_id", "token_id", "yes_bid", "yes_ask", "no_bid", "no_ask", "liquidity",
        "timestamp_ms", "yes_bid_size", "yes_ask_size", "no_bid_size", "no_ask_size",
        "yes_asks", "no_asks", "venue_ts_ms", "monitor_recv_ns", "published_ns", "seq",
        "stale", "tick_size", "stream_seq",
    ]  # fmt: skip


@FUZZ
@given(price_updates)
def test_every_valid_update_takes_the_fast_path(message: PolymarketPriceUpdate) -> None:
    data = codec.encode(message)
    assert codec._fast_price_update(data, LIMITS) == message
    assert generic(data) == message
    assert codec.decode(bytearray(data), limits=LIMITS) == message
    assert codec.decode(memoryview(data), limits=LIMITS) == message
    assert codec.decode(data.decode(), PolymarketPriceUpdate, limits=LIMITS) == message


@FUZZ
@given(price_updates, st.data())
def test_any_mutation_is_decided_as_the_generic_path_decides(
    message: PolymarketPriceUpdate, data: st.DataObject
) -> None:
    obj = json.loads(codec.encode(message))
    keys = [*sorted(obj), "extra", "yes_asks", "no_asks"]
    for key in data.draw(st.lists(st.sampled_from(keys), min_size=1, max_size=4)):
        if data.draw(st.integers(0, 5)) == 0:
            obj.pop(key, None)
        else:
            obj[key] = data.draw(near_limits(key))
    assert_same_decision(compact(obj))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"yes_bid_exact": "0.44"}, "yes_bid"),  # crossed on a fresh update
        ({"yes_ask_exact": "1"}, "yes_ask"),
        ({"yes_bid_size": "-1"}, "yes_bid_size"),
        ({"liquidity_exact": "-1"}, "liquidity"),
        ({"timestamp_ms": OWN_MS + 1}, "timestamp_ms"),
        ({"published_ns": OWN_MS * 10**6 + 1}, "published_ns"),
        ({"venue_ts_ms": VENUE_MS + 1}, "venue_ts_ms"),
        ({"seq": 2**63}, "seq"),
        ({"market_id": 'a"b'}, "market_id"),
        ({"token_id": "0x1"}, "token_id"),
        ({"yes_asks": [["0.45", "1"], ["0.44", "1"]]}, "yes_asks[1]"),
        ({"no_asks": [["0.5", "1"]] * (PUBLISHED_DEPTH + 1)}, "no_asks"),
    ],
)
def test_refusals_name_the_generic_paths_field(change: dict[str, Any], field: str) -> None:
    base = json.loads(codec.encode(_sample()))
    data = compact(base | change)
    assert codec._fast_price_update(data, LIMITS) is None
    with pytest.raises(DecodeError) as caught:
        codec.decode(data, limits=LIMITS)
    assert caught.value.field == field
    assert assert_same_decision(data) is False


def test_what_the_fast_path_leaves_to_the_generic_path_still_decodes() -> None:
    message = _sample()
    obj = json.loads(codec.encode(message))
    # An extra key and a float-only price: not the encoder's form.
    for change in ({"extra": [[[1]]]}, {"yes_bid_exact": None}):
        data = compact(obj | change)
        assert codec._fast_price_update(data, LIMITS) is None
        assert codec.decode(data, limits=LIMITS).token_id == message.token_id
    # Too deep in an unknown key: refused by the generic path's depth rule.
    deep: Any = 1
    for _ in range(codec.MAX_JSON_DEPTH):
        deep = [deep]
    with pytest.raises(DecodeError, match="nested deeper"):
        codec.decode(compact(obj | {"extra": deep}), limits=LIMITS)


def _sample() -> PolymarketPriceUpdate:
    return PolymarketPriceUpdate(
        market_id="0x" + "ab" * 32,
        token_id="12345",
        yes_bid=430_000,
        yes_ask=440_000,
        no_bid=560_000,
        no_ask=570_000,
        liquidity=1_000_000,
        timestamp_ms=NOW_MS,
        yes_asks=((440_000, 5_000_000), (450_000, 1_000_000)),
        no_asks=((570_000, 2_000_000),),
        seq=3,
    )
