"""The wire codec: messages round-trip; bad payloads give a DecodeError naming the field."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbees import codec
from arbees.book import Level
from arbees.errors import DecodeError
from arbees.messages import (
    COMBOS,
    PUBLISHED_DEPTH,
    SCHEMA_VERSION,
    ArbSignal,
    FeeTerms,
    MarketAssignment,
    Message,
    PolymarketPriceUpdate,
    ServiceStatus,
    ShardHeartbeat,
    SignalLeg,
    SystemAlert,
    TeamLeg,
)
from arbees.money import ONE

# Valid messages: every value within the codec's documented limits (tests/bus/
# test_codec_limits.py covers the values outside them).
PAST_MS = 1_700_000_000_000
"""Wall clocks are drawn up to here (Nov 2023), safely before any test's "now"."""
prices = st.none() | st.integers(1, ONE - 1)
sizes = st.integers(0, 10**15)
opt_sizes = st.none() | sizes
money = st.integers(-(10**15), 10**15)
ints = st.integers(0, 2**63 - 1)
wall_ms = st.integers(0, PAST_MS)
wall_ns = st.integers(0, PAST_MS * 1_000_000)
text = st.text(max_size=20)
ids = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters='"\\'), max_size=20
)
digits = st.integers(0, 2**256 - 1).map(str)
levels = st.lists(
    st.builds(Level, st.integers(1, ONE - 1), sizes),
    max_size=PUBLISHED_DEPTH,
    unique_by=lambda level: level.price,
).map(lambda items: tuple(sorted(items)))


@st.composite
def _quotes(draw: st.DrawFn) -> dict[str, Any]:
    """Best prices: a fresh book is never crossed (bid < ask on each side); a stale one
    may be anything."""
    stale = draw(st.booleans())
    quote: dict[str, Any] = {"stale": stale}
    for side in ("yes", "no"):
        bid, ask = draw(prices), draw(prices)
        if not stale and bid is not None and ask is not None and bid >= ask:
            bid, ask = (None, ask) if bid == ask else (ask, bid)
        quote[f"{side}_bid"], quote[f"{side}_ask"] = bid, ask
    return quote


price_updates = st.builds(
    lambda quote, **fields: PolymarketPriceUpdate(**quote, **fields),
    _quotes(),
    market_id=ids,
    token_id=digits,
    liquidity=sizes,
    timestamp_ms=wall_ms,
    yes_bid_size=opt_sizes,
    yes_ask_size=opt_sizes,
    no_bid_size=opt_sizes,
    no_ask_size=opt_sizes,
    yes_asks=levels,
    no_asks=levels,
    venue_ts_ms=st.none() | wall_ms,
    monitor_recv_ns=wall_ns,
    published_ns=wall_ns,
    seq=ints,
    tick_size=opt_sizes,
    stream_seq=ints,
)
assignments = st.builds(
    MarketAssignment,
    platform=st.sampled_from(["polymarket", "kalshi"]),
    market_id=ids,
    token_id=digits,
    shard_id=ids,
    sport=ids,
    game_id=ids,
    action=st.sampled_from(["assign", "unassign"]),
    teams=st.lists(st.builds(TeamLeg, ids, ids, digits), max_size=2).map(tuple),
    fees=st.lists(
        st.builds(
            FeeTerms,
            venue=st.sampled_from(["kalshi", "polymarket", "polymarket_us", "x" * 20]),
            kind=st.sampled_from(["kalshi", "polymarket", "none"]),
            multiplier=st.sampled_from(["1", "0.5", "10"]),
            rate=st.sampled_from(["0", "0.05", "0.07"]),
            exponent=st.integers(0, 4),
            min_order_size=opt_sizes,
        ),
        max_size=3,
        unique_by=lambda t: t.venue,
    ).map(tuple),
    start_time_ms=st.none() | ints,
    epoch=ints,
    timestamp_ms=wall_ms,
) | st.builds(
    MarketAssignment,
    platform=st.just("kalshi"),
    market_id=ids,
    token_id=st.just(""),
    shard_id=ids,
    sport=ids,
)
alerts = st.builds(
    SystemAlert,
    type=ids,
    service=ids,
    error=text,
    timestamp=wall_ms,
    severity=st.sampled_from(["info", "warning", "critical"]),
    details=st.dictionaries(ids, text, max_size=3),
)
legs = st.builds(
    SignalLeg,
    venue=st.sampled_from(["kalshi", "polymarket"]),
    instrument=ids,
    side=st.sampled_from(["yes", "no"]),
    price=st.integers(0, ONE),
    worst_price=st.integers(0, ONE),
    size=sizes,
    fee=sizes,
)
signals = st.builds(
    ArbSignal,
    signal_id=ids,
    event=st.sampled_from(["open", "update", "close"]),
    shard_id=ids,
    game_id=ids,
    combo=st.sampled_from(COMBOS),
    team=ids,
    legs=st.lists(legs, max_size=2).map(tuple),
    size=sizes,
    cost=money,
    fees=money,
    profit=money,
    edge=money,
    timestamp_ms=wall_ms,
    venue_ts_ms=st.none() | wall_ms,
    monitor_recv_ns=wall_ns,
    bus_recv_ns=wall_ns,
    detect_ns=wall_ns,
    published_ns=wall_ns,
)
heartbeats = st.builds(
    ShardHeartbeat,
    shard_id=ids,
    timestamp_ms=wall_ms,
    games=st.lists(ids, max_size=4).map(tuple),
    capacity=st.integers(0, 1000),
    healthy=st.booleans(),
    started_ms=wall_ms,
)


statuses = st.builds(
    ServiceStatus,
    service=ids,
    instance=ids,
    healthy=st.booleans(),
    timestamp_ms=wall_ms,
    reason=text,
    details=st.dictionaries(ids, text, max_size=3),
)
messages = st.one_of(price_updates, assignments, alerts, signals, heartbeats, statuses)
"""Any valid top-level message."""


@given(messages)
def test_every_message_round_trips(message: Message) -> None:
    data = codec.encode(message)
    assert codec.decode(data) == message
    assert codec.decode(data, type(message)) == message
    assert type(message).from_dict(message.to_dict()) == message


def _update(**overrides: Any) -> PolymarketPriceUpdate:
    fields: dict[str, Any] = {
        "market_id": "0xabc",
        "token_id": "1234",
        "yes_bid": 430_000,
        "yes_ask": 450_000,
        "no_bid": 550_000,
        "no_ask": 570_000,
        "liquidity": 1_000_000,
        "timestamp_ms": 1,
    }
    fields.update(overrides)
    return PolymarketPriceUpdate(**fields)


def _payload(**changes: Any) -> bytes:
    obj = json.loads(codec.encode(_update()))
    for key, value in changes.items():
        if value is _DELETE:
            del obj[key]
        else:
            obj[key] = value
    return json.dumps(obj).encode()


_DELETE = object()


def test_seed_fields_are_at_top_level_as_floats() -> None:
    obj = json.loads(codec.encode(_update()))
    for key in ("market_id", "token_id", "yes_bid", "yes_ask", "no_bid", "no_ask", "liquidity"):
        assert key in obj
    assert obj["yes_ask"] == 0.45
    assert obj["yes_ask_exact"] == "0.45"
    assert obj["schema"] == SCHEMA_VERSION == 3
    assert obj["kind"] == "PolymarketPriceUpdate"


def test_missing_price_travels_as_null_never_zero() -> None:
    obj = json.loads(codec.encode(_update(yes_ask=None)))
    assert obj["yes_ask"] is None
    assert codec.decode(json.dumps(obj), PolymarketPriceUpdate).yes_ask is None


def test_float_only_payload_rounds_conservatively() -> None:
    """A seed publisher sends floats only: asks round up, bids round down, exactly."""
    obj = json.loads(codec.encode(_update()))
    for key in list(obj):
        if key.endswith("_exact"):
            del obj[key]
    obj["yes_ask"] = 0.57  # int((1 - 0.43) * 100) style float noise must not creep in
    obj["yes_bid"] = 1 / 3
    obj["no_ask"] = 1 / 3
    obj["no_bid"] = 0.25  # keeps the book uncrossed
    update = codec.decode(json.dumps(obj), PolymarketPriceUpdate)
    assert update.yes_ask == 570_000
    assert update.yes_bid == 333_333
    assert update.no_ask == 333_334


def test_unknown_extra_keys_are_tolerated() -> None:
    assert codec.decode(_payload(extra="x", nested={"a": 1})) == _update()


BAD_PAYLOADS = [
    ("missing field", _payload(token_id=_DELETE), "token_id"),
    ("wrong type", _payload(token_id=1234), "token_id"),
    ("wrong type for int", _payload(timestamp_ms="1"), "timestamp_ms"),
    ("bool is not an int", _payload(timestamp_ms=True), "timestamp_ms"),
    ("NaN literal", _payload().replace(b'"yes_bid": 0.43', b'"yes_bid": NaN'), None),
    ("price 1.5", _payload(yes_ask=1.5, yes_ask_exact=_DELETE), "yes_ask"),
    ("exact price 1.5", _payload(yes_ask_exact="1.5"), "yes_ask"),
    ("negative price", _payload(yes_bid_exact="-0.1"), "yes_bid"),
    ("negative size", _payload(yes_bid_size="-3"), "yes_bid_size"),
    ("garbage decimal", _payload(yes_bid_exact="0.4.3"), "yes_bid_exact"),
    ("too precise", _payload(yes_bid_exact="0.1234567"), "yes_bid_exact"),
    ("bad level", _payload(yes_asks=[["0.5"]]), "yes_asks[0]"),
    ("level price out of range", _payload(yes_asks=[["2", "1"]]), "yes_asks[0]"),
    ("not JSON", b"{not json", None),
    ("a JSON array", b"[1, 2, 3]", None),
    ("a JSON string", b'"hello"', None),
    ("empty", b"", None),
    ("invalid utf-8", b"\xff\xfe", None),
    ("no schema", _payload(schema=_DELETE), "schema"),
    ("future schema", _payload(schema=SCHEMA_VERSION + 1), "schema"),
    ("unknown kind", _payload(kind="Nope"), "kind"),
]


@pytest.mark.parametrize(("payload", "field"), [(p, f) for _, p, f in BAD_PAYLOADS],
                         ids=[name for name, _, _ in BAD_PAYLOADS])  # fmt: skip
def test_bad_payloads_raise_decode_error_naming_the_field(
    payload: bytes, field: str | None
) -> None:
    with pytest.raises(DecodeError) as info:
        codec.decode(payload)
    if field is not None:
        assert info.value.field == field
        assert field in str(info.value)


def test_wrong_expected_type_is_rejected() -> None:
    with pytest.raises(DecodeError, match="expected SystemAlert"):
        codec.decode(codec.encode(_update()), SystemAlert)


def test_choices_are_enforced() -> None:
    alert = SystemAlert(type="X", service="s", error="e", timestamp=1)
    obj = json.loads(codec.encode(alert))
    obj["severity"] = "apocalyptic"
    with pytest.raises(DecodeError) as info:
        codec.decode(json.dumps(obj))
    assert info.value.field == "severity"


def test_nested_errors_name_the_container() -> None:
    leg = SignalLeg("kalshi", "T", "yes", 1, 1, 1, 0)
    sig = ArbSignal("id", "open", "s", "g", COMBOS[0], "A", (leg,), 1, 1, 0, 0, 0, 1)
    obj = json.loads(codec.encode(sig))
    obj["legs"][0]["side"] = "maybe"
    with pytest.raises(DecodeError) as info:
        codec.decode(json.dumps(obj))
    assert info.value.field == "legs"


def test_messages_are_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        _update().yes_bid = 1  # type: ignore[misc]
