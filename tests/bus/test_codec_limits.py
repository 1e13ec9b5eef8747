"""The codec's limits: hostile payloads are a DecodeError naming the field, never a crash,
never an accepted message that breaks a documented limit."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from arbees import codec
from arbees.book import BookView, Level
from arbees.bus.memory import MemoryBus
from arbees.errors import ConfigError, DecodeError
from arbees.messages import (
    MAX_ID_CHARS,
    MAX_LIST_ITEMS,
    MAX_MAP_ENTRIES,
    MAX_MAP_VALUE_CHARS,
    MAX_TEXT_CHARS,
    PUBLISHED_DEPTH,
    FeeTerms,
    MarketAssignment,
    PolymarketPriceUpdate,
    ShardHeartbeat,
    SystemAlert,
    TeamLeg,
)
from arbees.money import ONE
from arbees.services.monitor import PolymarketMonitor
from arbees.services.monitor import price_update as monitor_price_update

NOW_MS = 1_800_000_000_000
"""The fixed wall clock of these tests (2027-01-15)."""
LIMITS = codec.DecodeLimits(clock_ns=lambda: NOW_MS * 1_000_000)
SKEW_MS = LIMITS.future_skew_ms
TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
INT64_MAX = 2**63 - 1


def decode(data: bytes | str) -> Any:
    return codec.decode(data, limits=LIMITS)


def update_dict(**changes: Any) -> dict[str, Any]:
    """A valid price update as a JSON object, with ``changes`` applied (``None`` deletes)."""
    update = PolymarketPriceUpdate(
        market_id="0x" + "ab" * 32,
        token_id=TOKEN,
        yes_bid=430_000,
        yes_ask=440_000,
        no_bid=560_000,
        no_ask=570_000,
        liquidity=150_000_000,
        timestamp_ms=NOW_MS,
        yes_asks=((440_000, 50_000_000), (450_000, 10_000_000)),
        no_asks=((570_000, 100_000_000), (580_000, 1_000_000)),
        monitor_recv_ns=NOW_MS * 1_000_000,
        published_ns=NOW_MS * 1_000_000,
        venue_ts_ms=NOW_MS,
        seq=3,
        stream_seq=7,
    )
    obj: dict[str, Any] = json.loads(codec.encode(update))
    for key, value in changes.items():
        if value is None:
            obj.pop(key, None)
        else:
            obj[key] = value
    return obj


def payload(**changes: Any) -> bytes:
    return json.dumps(update_dict(**changes)).encode()


def levels(prices: list[str]) -> list[list[str]]:
    return [[p, "10"] for p in prices]


def assignment_payload(**changes: Any) -> bytes:
    a = MarketAssignment(
        platform="polymarket",
        market_id="0x" + "cd" * 32,
        token_id=TOKEN,
        shard_id="shard-1",
        sport="NBA",
        game_id="nba:okc-den:2027-01-15",
        teams=(TeamLeg("NBA:OKC", "KX-OKC", TOKEN),),
        fees=(
            FeeTerms("kalshi", "kalshi"),
            FeeTerms("polymarket", "polymarket", rate="0.05", min_order_size=5 * ONE),
        ),
        timestamp_ms=NOW_MS,
    )
    obj = json.loads(codec.encode(a))
    obj.update(changes)
    return json.dumps(obj).encode()


def fee_payload(of: str = "polymarket", **changes: Any) -> bytes:
    """An assignment whose fee terms of venue ``of`` carry ``changes``."""
    obj = json.loads(assignment_payload())
    (terms,) = [t for t in obj["fees"] if t["venue"] == of]
    terms.update(changes)
    return json.dumps(obj).encode()


def alert_payload(**changes: Any) -> bytes:
    obj = json.loads(codec.encode(SystemAlert("T", "tests", "e", NOW_MS)))
    obj.update(changes)
    return json.dumps(obj).encode()


def heartbeat_payload(**changes: Any) -> bytes:
    obj = json.loads(codec.encode(ShardHeartbeat("shard-1", NOW_MS)))
    obj.update(changes)
    return json.dumps(obj).encode()


def test_the_valid_samples_decode() -> None:
    assert decode(payload()).token_id == TOKEN
    terms = decode(assignment_payload()).fee_terms("polymarket")
    assert terms is not None
    assert (terms.rate, terms.min_order_size) == ("0.05", 5 * ONE)
    assert decode(alert_payload()).error == "e"
    assert decode(heartbeat_payload()).shard_id == "shard-1"


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


HOSTILE: list[tuple[str, bytes, str | None]] = [
    # sizes
    ("10 MB string", payload(market_id="x" * 10_000_000), None),
    ("oversized payload of padding", payload(pad="x" * 20_000), None),
    ("long id", payload(market_id="x" * (MAX_ID_CHARS + 1)), "market_id"),
    ("id with a control character", payload(market_id="0x\n"), "market_id"),
    ("token id of 79 digits", payload(token_id="1" * 79), "token_id"),
    ("token id over uint256", payload(token_id="9" * 78), "token_id"),
    ("token id not digits", payload(token_id="12a4"), "token_id"),
    ("empty token id", payload(token_id=""), "token_id"),
    ("long decimal string", payload(yes_bid_size="1" + "0" * 100), "yes_bid_size"),
    ("200k levels", payload(yes_asks=levels(["0.5"]) * 200_000), None),
    ("levels over the published depth",
     payload(yes_asks=levels([f"0.{i}" for i in range(4, 5 + PUBLISHED_DEPTH)])), "yes_asks"),
    # book semantics
    ("unsorted levels", payload(yes_asks=levels(["0.45", "0.44"])), "yes_asks[1]"),
    ("duplicated levels", payload(yes_asks=levels(["0.44", "0.44"])), "yes_asks[1]"),
    ("unsorted mirrored levels", payload(no_asks=levels(["0.6", "0.57"])), "no_asks[1]"),
    ("crossed book", payload(yes_bid_exact="0.45", yes_bid=0.45), "yes_bid"),
    ("locked book", payload(yes_bid_exact="0.44", yes_bid=0.44), "yes_bid"),
    ("crossed mirror", payload(no_bid_exact="0.58", no_bid=0.58), "no_bid"),
    ("zero price", payload(yes_bid_exact="0", yes_bid=0.0), "yes_bid"),
    ("price of one dollar", payload(no_ask_exact="1", no_ask=1.0), "no_ask"),
    ("level price zero", payload(yes_asks=levels(["0"])), "yes_asks[0]"),
    ("negative level size", payload(yes_asks=[["0.44", "-1"]]), "yes_asks[0]"),
    ("float-only liquidity of 1e300", payload(liquidity=1e300, liquidity_exact=None),
     "liquidity"),
    # clocks
    ("timestamp 10^30", payload(timestamp_ms=10**30), None),
    ("timestamp over int64", payload(timestamp_ms=INT64_MAX + 1), "timestamp_ms"),
    ("future timestamp", payload(timestamp_ms=NOW_MS + SKEW_MS + 1), "timestamp_ms"),
    ("negative timestamp", payload(timestamp_ms=-1), "timestamp_ms"),
    ("future receive time", payload(monitor_recv_ns=(NOW_MS + 3_600_000) * 1_000_000),
     "monitor_recv_ns"),
    ("future publish time", payload(published_ns=(NOW_MS + SKEW_MS + 1) * 1_000_000),
     "published_ns"),
    ("venue clock a day ahead", payload(venue_ts_ms=NOW_MS + 86_400_000), "venue_ts_ms"),
    ("future alert", alert_payload(timestamp=NOW_MS + 60_000), "timestamp"),
    ("future heartbeat", heartbeat_payload(timestamp_ms=NOW_MS + 60_000), "timestamp_ms"),
    ("heartbeat from a future start", heartbeat_payload(started_ms=NOW_MS + 60_000),
     "started_ms"),
    # sequence numbers
    ("negative seq", payload(seq=-1), "seq"),
    ("negative stream seq", payload(stream_seq=-5), "stream_seq"),
    ("seq over int64", payload(seq=INT64_MAX + 1), "seq"),
    ("negative epoch", assignment_payload(epoch=-1), "epoch"),
    ("negative capacity", heartbeat_payload(capacity=-1), "capacity"),
    # numbers JSON cannot carry
    ("NaN literal", payload().replace(b'"yes_bid": 0.43', b'"yes_bid": NaN'), None),
    ("Infinity literal", payload().replace(b'"liquidity": 150.0', b'"liquidity": Infinity'),
     None),
    ("huge int", payload().replace(b'"seq": 3', b'"seq": ' + b"9" * 5000), None),
    ("huge exponent", payload().replace(b'"seq": 3', b'"seq": 1e999999'), None),
    # nesting
    ("deep nesting in an unknown key", payload(extra=_deep(50)), None),
    ("deep nesting everywhere", b"[" * 100_000 + b"]" * 100_000, None),
    ("nested object as a level", payload(yes_asks=[[{"a": 1}, "1"]]), "yes_asks[0]"),
    # assignments
    ("fee rate 'abc'", fee_payload(rate="abc"), "fees"),
    ("fee rate NaN", fee_payload(rate="NaN"), "fees"),
    ("fee rate Infinity", fee_payload(rate="Infinity"), "fees"),
    ("fee rate 1e999999", fee_payload(rate="1e999999"), "fees"),
    ("fee rate of 100%", fee_payload(rate="1"), "fees"),
    ("negative fee rate", fee_payload(rate="-0.05"), "fees"),
    ("fee rate of 7 decimals", fee_payload(rate="0.0000001"), "fees"),
    ("fee multiplier 11", fee_payload("kalshi", multiplier="11"), "fees"),
    ("fee exponent 9", fee_payload(exponent=9), "fees"),
    ("negative min order size", fee_payload(min_order_size="-1"), "fees"),
    ("unknown fee kind", fee_payload(kind="betfair"), "fees"),
    ("fee terms without a venue", fee_payload(venue=""), "fees"),
    ("a venue's fee terms twice",
     assignment_payload(fees=[{"venue": "kalshi", "kind": "kalshi"}] * 2), "fees"),
    ("fee terms of 9 venues",
     assignment_payload(fees=[{"venue": f"v{i}", "kind": "none"} for i in range(9)]), "fees"),
    ("assignment token of 79 digits", assignment_payload(token_id="1" * 79), "token_id"),
    ("monitor assignment without a token", assignment_payload(token_id=""), "token_id"),
    ("team token of 79 digits",
     assignment_payload(teams=[{"team": "A", "kalshi_ticker": "K", "poly_token": "1" * 79}]),
     "teams"),
    ("too many teams", assignment_payload(teams=[{"team": "A", "kalshi_ticker": "K",
                                                  "poly_token": "1"}] * 5), "teams"),
    # free text and collections
    ("long alert text", alert_payload(error="e" * (MAX_TEXT_CHARS + 1)), "error"),
    ("too many alert details",
     alert_payload(details={str(i): "v" for i in range(MAX_MAP_ENTRIES + 1)}), "details"),
    ("long detail value", alert_payload(details={"k": "v" * 10_000}), "details"),
    ("too many games", heartbeat_payload(games=["g"] * (MAX_LIST_ITEMS + 1)), "games"),
    ("long game id", heartbeat_payload(games=["g" * (MAX_ID_CHARS + 1)]), "games"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "field"), [(d, f) for _, d, f in HOSTILE],
                         ids=[name for name, _, _ in HOSTILE])  # fmt: skip
def test_hostile_payloads_are_a_decode_error_naming_the_field(
    data: bytes, field: str | None
) -> None:
    with pytest.raises(DecodeError) as info:
        decode(data)
    if field is not None:
        assert info.value.field == field
    # the message stays short whatever the payload held
    assert len(str(info.value)) < 300


def test_the_seed_eight_field_update_decodes() -> None:
    """The seed publishes only these eight fields; every other field has a default."""
    seed = {
        "market_id": "0x" + "ab" * 32,
        "token_id": TOKEN,
        "yes_bid": 0.43,
        "yes_ask": 0.44,
        "no_bid": 0.56,
        "no_ask": 0.57,
        "liquidity": 150.0,
        "timestamp_ms": NOW_MS,
    }
    data = json.dumps({"schema": 1, "kind": "PolymarketPriceUpdate", **seed})
    update = decode(data)
    assert (update.yes_bid, update.yes_ask, update.no_bid, update.no_ask) == (
        430_000,
        440_000,
        560_000,
        570_000,
    )
    assert update.monitor_recv_ns == 0
    assert update.yes_asks == ()
    assert update.stale is False


def test_defaults_fill_in_missing_fields_of_every_type() -> None:
    data = json.dumps({"schema": 1, "kind": "SystemAlert", "type": "T", "service": "s",
                       "error": "e", "timestamp": NOW_MS})  # fmt: skip
    alert = decode(data)
    assert alert.severity == "warning"
    assert alert.details == {}
    required_missing = update_dict(timestamp_ms=None)
    with pytest.raises(DecodeError) as info:
        decode(json.dumps(required_missing))
    assert info.value.field == "timestamp_ms"


def test_a_stale_update_may_be_crossed() -> None:
    """The monitor publishes a crossed book as stale (``stale=True``): that marker is what
    tells shards to stop using the previous price, so it must not be rejected."""
    stale = payload(yes_bid_exact="0.45", yes_bid=0.45, stale=True)
    assert decode(stale).stale is True


def test_a_clock_within_the_skew_is_accepted() -> None:
    assert decode(payload(timestamp_ms=NOW_MS + SKEW_MS)).timestamp_ms == NOW_MS + SKEW_MS
    assert decode(payload(timestamp_ms=0)).timestamp_ms == 0  # 0 = "unknown"
    a_minute_ahead = NOW_MS + 60_000
    assert decode(payload(venue_ts_ms=a_minute_ahead)).venue_ts_ms == a_minute_ahead


def test_the_skew_is_configurable() -> None:
    lax = codec.DecodeLimits(future_skew_ms=3_600_000, clock_ns=LIMITS.clock_ns)
    later = NOW_MS + 60_000
    assert codec.decode(payload(timestamp_ms=later), limits=lax).timestamp_ms == later


def test_the_largest_legitimate_update_fits_its_cap_with_margin() -> None:
    big = 10**15 * 10**6 - 1
    depth = tuple((999_999 - i, big) for i in range(PUBLISHED_DEPTH))
    update = PolymarketPriceUpdate(
        market_id="0x" + "ab" * 32, token_id="1" * 78, yes_bid=1, yes_ask=999_999,
        no_bid=1, no_ask=999_999, liquidity=big, timestamp_ms=NOW_MS, yes_bid_size=big,
        yes_ask_size=big, no_bid_size=big, no_ask_size=big, yes_asks=depth[::-1],
        no_asks=depth[::-1], venue_ts_ms=NOW_MS, monitor_recv_ns=NOW_MS * 10**6,
        published_ns=NOW_MS * 10**6, seq=INT64_MAX, stale=True, tick_size=1_000,
        stream_seq=INT64_MAX,
    )  # fmt: skip
    data = codec.encode(update)
    assert decode(data) == update
    assert len(data) * 8 < PolymarketPriceUpdate.max_bytes


def test_long_alert_text_is_clipped_by_the_producer() -> None:
    """A producer never builds an alert the codec would refuse: free text is clipped."""
    alert = SystemAlert("T", "tests", "x" * (MAX_TEXT_CHARS * 2), NOW_MS)
    assert len(alert.error) == MAX_TEXT_CHARS
    assert decode(codec.encode(alert)) == alert


def test_the_monitor_publishes_what_the_codec_accepts() -> None:
    """The monitor's own update of a deep book (more levels than published) decodes."""
    view = BookView(
        "polymarket", TOKEN,
        bids=tuple(Level(480_000 - i * 10_000, 1_000_000) for i in range(8)),
        asks=tuple(Level(520_000 + i * 10_000, 2_000_000) for i in range(8)),
        stale=False, venue_ts_ms=NOW_MS, received_ns=NOW_MS * 1_000_000, market="0xab",
    )  # fmt: skip
    update = attrs.evolve(
        monitor_price_update(view, seq=1, venue_ts_ms=NOW_MS, received_ns=view.received_ns),
        timestamp_ms=NOW_MS,
        published_ns=NOW_MS * 1_000_000,
    )
    decoded = decode(codec.encode(update))
    assert decoded == update
    assert len(decoded.yes_asks) == len(decoded.no_asks) == PUBLISHED_DEPTH
    assert decoded.no_asks[0] == Level(520_000, 1_000_000)


def test_the_monitor_refuses_a_depth_the_codec_would_refuse() -> None:
    with pytest.raises(ConfigError, match="depth"):
        PolymarketMonitor(MemoryBus(), lambda tokens: None, None, depth=PUBLISHED_DEPTH + 1)  # type: ignore[arg-type, return-value]


def test_the_largest_messages_the_field_limits_allow_fit_the_byte_caps() -> None:
    """Every message valid field by field must fit its payload cap, or a valid message
    could be refused: the worst case of each collection-heavy type, with the characters
    JSON escapes longest."""
    worst_id = "~" * MAX_ID_CHARS
    worst_text = "\x01" * MAX_TEXT_CHARS  # written as \u0001: 6 bytes a character
    heartbeat = ShardHeartbeat(worst_id, NOW_MS, games=(worst_id,) * MAX_LIST_ITEMS,
                               started_ms=NOW_MS)  # fmt: skip
    details = {f"{i:03}" + worst_id[3:]: "\x01" * MAX_MAP_VALUE_CHARS
               for i in range(MAX_MAP_ENTRIES)}  # fmt: skip
    alert = SystemAlert(worst_id, worst_id, worst_text, NOW_MS, details=details)
    for message in (heartbeat, alert):
        data = codec.encode(message)
        assert len(data) <= type(message).max_bytes <= codec.MAX_PAYLOAD_BYTES
        assert decode(data) == message


@pytest.mark.parametrize("char", ['"', "\\"])
def test_ids_hold_no_character_json_must_escape(char: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode(heartbeat_payload(shard_id=f"shard{char}1"))
    assert info.value.field == "shard_id"
