"""The msgspec codec writes the very bytes the standard library's json wrote, and refuses
what it refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_codec import alerts, assignments, heartbeats, price_updates, signals, statuses

from arbees import codec
from arbees._wire import json_float
from arbees.errors import DecodeError
from arbees.messages import SCHEMA_VERSION, Message, PolymarketPriceUpdate

_stdlib = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode


def stdlib_encode(message: Message) -> bytes:
    """The codec as it was before msgspec: json over ``to_dict()``."""
    payload: dict[str, Any] = {
        codec.SCHEMA_KEY: SCHEMA_VERSION,
        codec.KIND_KEY: type(message).__name__,
    }
    payload.update(message.to_dict())
    return _stdlib(payload).encode()


@given(st.one_of(price_updates, assignments, alerts, signals, heartbeats, statuses))
def test_same_bytes_as_the_stdlib_encoder(message: Message) -> None:
    data = codec.encode(message)
    assert data == stdlib_encode(message)
    assert json.loads(data) == json.loads(stdlib_encode(message))


def test_tiny_and_huge_floats_keep_python_spelling() -> None:
    update = PolymarketPriceUpdate(
        market_id="m", token_id="1", yes_bid=1, yes_ask=10, no_bid=None, no_ask=999_999,
        liquidity=10**20, timestamp_ms=0,
    )  # fmt: skip
    data = codec.encode(update)
    assert b'"yes_bid":1e-06' in data
    assert b'"yes_ask":1e-05' in data
    assert b'"liquidity":100000000000000.0' in data
    assert data == stdlib_encode(update)
    assert codec.decode(data) == update


def test_cached_values_are_the_same_as_fresh_ones() -> None:
    first = codec.encode(PolymarketPriceUpdate("m", "1", 430_000, 440_000, None, None, 5, 1))
    again = codec.encode(PolymarketPriceUpdate("m", "1", 430_000, 440_000, None, None, 5, 1))
    assert first == again


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_floats_are_refused_like_json(value: float) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        json_float(value)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"schema":1,"kind":"SystemAlert","type":"\\ud800","service":"s","error":"","timestamp":1}',
        b'{"schema":1,"kind":"PolymarketPriceUpdate","yes_bid":1e400}',
        b'{"schema":1,"kind":"PolymarketPriceUpdate","yes_bid":-Infinity}',
        b"[" * 100_000,
        b"\xef\xbb\xbf{}",
        b"{}garbage",
    ],
)
def test_more_garbage_is_a_decode_error(payload: bytes) -> None:
    with pytest.raises(DecodeError):
        codec.decode(payload)


def test_text_payloads_decode_like_bytes() -> None:
    update = PolymarketPriceUpdate("m", "1", 430_000, 440_000, None, None, 5, 1)
    data = codec.encode(update)
    assert codec.decode(data.decode()) == codec.decode(bytearray(data)) == update


def test_bad_cached_decimal_still_names_its_field() -> None:
    good = json.loads(codec.encode(PolymarketPriceUpdate("m", "1", 1, 2, None, None, 5, 1)))
    good["yes_bid_exact"] = "0.4.3"
    for _ in range(2):  # a failure is never cached
        with pytest.raises(DecodeError) as info:
            codec.decode(json.dumps(good))
        assert info.value.field == "yes_bid_exact"
