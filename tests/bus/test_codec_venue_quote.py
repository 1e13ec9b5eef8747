"""The venue-neutral quote (``VenueQuote``) on the wire: round trips, limits, garbage.

Every value within the codec's limits round-trips exactly; every value beyond them, and any
mutation of a valid payload, is a DecodeError naming the field, never a crash and never an
accepted quote outside the documented limits (depth bounded by PUBLISHED_DEPTH, bids falling
and asks rising, no fresh crossed book).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_codec import ids, ints, levels, wall_ms, wall_ns

from arbees import codec
from arbees.book import Level
from arbees.errors import DecodeError
from arbees.messages import (
    MAX_ID_CHARS,
    PUBLISHED_DEPTH,
    VenueQuote,
    latest_quotes_hash,
    quotes_channel,
)
from arbees.money import ONE

NOW_MS = 1_800_000_000_000
LIMITS = codec.DecodeLimits(clock_ns=lambda: NOW_MS * 1_000_000)
SLUG = "aec-nba-okc-den-2027-01-15"
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decode(data: bytes | str) -> Any:
    return codec.decode(data, limits=LIMITS)


def quote(**changes: Any) -> VenueQuote:
    fields: dict[str, Any] = {
        "venue": "polymarket-us",
        "instrument": SLUG,
        "timestamp_ms": NOW_MS,
        "bids": (Level(430_000, 100_000_000), Level(420_000, 5_500_000)),
        "asks": (Level(440_000, 50_000_000), Level(450_000, 1_000_000)),
        "venue_ts_ms": NOW_MS - 5,
        "monitor_recv_ns": NOW_MS * 1_000_000,
        "published_ns": NOW_MS * 1_000_000,
        "seq": 3,
        "stream_seq": 9,
    }
    fields.update(changes)
    return VenueQuote(**fields)


def payload(**changes: Any) -> str:
    """A valid quote's JSON with ``changes`` applied to the object (``None`` deletes)."""
    obj = json.loads(codec.encode(quote()))
    for key, value in changes.items():
        if value is None:
            obj.pop(key, None)
        else:
            obj[key] = value
    return json.dumps(obj)


@st.composite
def venue_quotes(draw: st.DrawFn) -> VenueQuote:
    asks = draw(levels)
    bids = tuple(reversed(draw(levels)))  # best (highest) first
    stale = draw(st.booleans())
    if not stale and bids and asks and bids[0].price >= asks[0].price:
        bids = tuple(level for level in bids if level.price < asks[0].price)
    return VenueQuote(
        venue=draw(st.sampled_from(["polymarket-us", "x" * 20, "v"])),
        instrument=draw(ids.filter(bool)),
        timestamp_ms=draw(wall_ms),
        bids=bids,
        asks=asks,
        venue_ts_ms=draw(st.none() | wall_ms),
        monitor_recv_ns=draw(wall_ns),
        published_ns=draw(wall_ns),
        seq=draw(ints),
        stream_seq=draw(ints),
        stale=stale,
    )


@given(venue_quotes())
def test_every_valid_quote_round_trips_exactly(message: VenueQuote) -> None:
    data = codec.encode(message)
    assert decode(data) == message
    assert codec.decode(data, VenueQuote, limits=LIMITS) == message
    assert VenueQuote.from_dict(message.to_dict(), limits=LIMITS) == message


def test_the_wire_form_is_exact_decimal_strings_best_first() -> None:
    obj = json.loads(codec.encode(quote()))
    assert obj["kind"] == "VenueQuote"
    assert obj["bids"] == [["0.43", "100"], ["0.42", "5.5"]]
    assert obj["asks"] == [["0.44", "50"], ["0.45", "1"]]
    assert (obj["venue"], obj["instrument"], obj["seq"], obj["stream_seq"]) == (
        "polymarket-us",
        SLUG,
        3,
        9,
    )


def test_its_channel_and_latest_hash_name_the_venue() -> None:
    assert quotes_channel("polymarket-us") == "quotes:polymarket-us"
    assert latest_quotes_hash("polymarket-us") == "quotes:polymarket-us:latest"


def test_only_the_required_fields_decode_with_defaults() -> None:
    message = decode(
        json.dumps(
            {"schema": 3, "kind": "VenueQuote", "venue": "v", "instrument": "m", "timestamp_ms": 1}
        )
    )
    assert message == VenueQuote(venue="v", instrument="m", timestamp_ms=1)


DEEPEST = [[f"0.{40 - i}", "1"] for i in range(PUBLISHED_DEPTH + 1)]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"bids": DEEPEST}, "bids"),
        ({"asks": [[f"0.{50 + i}", "1"] for i in range(PUBLISHED_DEPTH + 1)]}, "asks"),
        ({"bids": [["0.42", "1"], ["0.43", "1"]]}, "bids[1]"),  # rising bids
        ({"bids": [["0.42", "1"], ["0.42", "2"]]}, "bids[1]"),  # repeated price
        ({"asks": [["0.46", "1"], ["0.45", "1"]]}, "asks[1]"),  # falling asks
        ({"bids": [["1", "1"]]}, "bids[0]"),  # price at $1
        ({"bids": [["0", "1"]]}, "bids[0]"),
        ({"bids": [["0.4", "-1"]]}, "bids[0]"),
        ({"bids": [[0.4, "1"]]}, "bids[0]"),  # a float, not an exact decimal string
        ({"bids": [["0.4", "1", "2"]]}, "bids[0]"),
        ({"bids": "0.4"}, "bids"),
        ({"bids": [["0.45", "1"]]}, "bids"),  # crossed with the 0.44 ask on a fresh quote
        ({"bids": [["0.44", "1"]]}, "bids"),  # locked
        ({"venue": "v" * 21}, "venue"),
        ({"venue": ""}, "venue"),
        ({"instrument": ""}, "instrument"),
        ({"instrument": "x" * (MAX_ID_CHARS + 1)}, "instrument"),
        ({"instrument": 'a"b'}, "instrument"),
        ({"instrument": None}, "instrument"),
        ({"timestamp_ms": NOW_MS + LIMITS.future_skew_ms + 1}, "timestamp_ms"),
        ({"monitor_recv_ns": (NOW_MS + LIMITS.future_skew_ms + 1) * 1_000_000}, "monitor_recv_ns"),
        ({"venue_ts_ms": NOW_MS + LIMITS.venue_skew_ms + 1}, "venue_ts_ms"),
        ({"seq": -1}, "seq"),
        ({"stream_seq": 2**63}, "stream_seq"),
        ({"stale": "yes"}, "stale"),
    ],
)
def test_values_beyond_the_limits_are_refused_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(DecodeError) as info:
        decode(payload(**changes))
    assert info.value.field == field


def test_a_stale_quote_may_be_crossed() -> None:
    crossed = quote(bids=(Level(460_000, 1_000_000),), stale=True)
    assert decode(codec.encode(crossed)) == crossed


def test_the_largest_legitimate_quote_fits_its_cap_with_margin() -> None:
    amount = 10**15 * ONE - 1  # 15 integer digits and 6 decimals
    full = quote(
        venue="v" * 20,
        instrument="~" * MAX_ID_CHARS,
        bids=tuple(Level(999_999 - i, amount) for i in range(PUBLISHED_DEPTH)),
        asks=(),
        venue_ts_ms=NOW_MS,
        seq=2**63 - 1,
        stream_seq=2**63 - 1,
    )
    data = codec.encode(full)
    assert len(data) * 4 < VenueQuote.max_bytes
    assert decode(data) == full


def test_a_payload_over_its_cap_is_refused_before_parsing() -> None:
    padded = payload(padding="x" * VenueQuote.max_bytes)
    with pytest.raises(DecodeError, match="over"):
        decode(padded)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=10,
)


@FUZZ
@given(
    st.sampled_from(sorted(json.loads(payload()))),
    json_values,
)
def test_any_value_in_any_field_is_a_decode_error_or_a_quote_within_the_limits(
    key: str, value: Any
) -> None:
    obj = json.loads(payload())
    obj[key] = value
    try:
        message = decode(json.dumps(obj))
    except DecodeError:
        return
    assert isinstance(message, VenueQuote)
    assert len(message.bids) <= PUBLISHED_DEPTH
    assert len(message.asks) <= PUBLISHED_DEPTH
    assert all(0 < p < ONE and s >= 0 for p, s in (*message.bids, *message.asks))
    assert [p for p, _ in message.bids] == sorted({p for p, _ in message.bids}, reverse=True)
    assert [p for p, _ in message.asks] == sorted({p for p, _ in message.asks})
    if not message.stale and message.bids and message.asks:
        assert message.bids[0].price < message.asks[0].price
    assert 0 < len(message.venue) <= 20


@FUZZ
@given(st.binary(max_size=200))
def test_garbage_after_a_quote_header_is_a_decode_error_never_a_crash(data: bytes) -> None:
    try:
        message = decode(b'{"schema":3,"kind":"VenueQuote",' + data)
    except DecodeError:
        return
    assert isinstance(message, VenueQuote)
