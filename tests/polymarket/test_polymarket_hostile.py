"""Hostile frames: anything the socket delivers is a counted rejection, never an exception.

Built on the captured sample frames: a valid book is built first, then deeply nested,
oversized, mutated and type-confused frames are fed. Nothing may escape ``feed`` (the
WebSocket driver would treat it as fatal and the monitor would exit), and a frame that is
rejected leaves every level of every book exactly as it was.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbees.polymarket import BookChanged, PolymarketProtocol
from arbees.polymarket.book import TokenBook

DATA = Path(__file__).parent.parent / "data" / "polymarket"
BOOK_TOKEN = "65818619657568813474341868652308942079804919287380422192892211131408793125422"
PC_A = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
PC_B = "52114319501245915516055106046884209969926127482827954674443846427813813222426"
SAMPLES = sorted(p.name for p in DATA.glob("ws_*.json") if "subscribe" not in p.name)


def _sample(name: str) -> str:
    return (DATA / name).read_text()


def _book(token: str) -> str:
    return json.dumps(
        {
            "event_type": "book",
            "asset_id": token,
            "market": "0xm",
            "bids": [{"price": "0.40", "size": "10"}, {"price": "0.39", "size": "3"}],
            "asks": [{"price": "0.60", "size": "7"}],
            "timestamp": "1",
        }
    )


def _ready() -> PolymarketProtocol:
    proto = PolymarketProtocol()
    proto.feed(_sample("ws_book.json"))
    for token in (PC_A, PC_B):
        proto.feed(_book(token))
    assert all(not b.stale for b in proto.books.values())
    return proto


def _levels(proto: PolymarketProtocol) -> dict[str, tuple[object, ...]]:
    return {
        t: (dict(b.bids), dict(b.asks), b.best_bid, b.best_ask, b.venue_ts_ms)
        for t, b in proto.books.items()
    }


def _counted(proto: PolymarketProtocol) -> int:
    s = proto.stats
    return s.invalid_frames + s.rejected + s.unknown_events + s.unknown_asset + s.text_frames


def _consistent(book: TokenBook) -> None:
    assert book.best_bid == (max(book.bids) if book.bids else None)
    assert book.best_ask == (min(book.asks) if book.asks else None)
    assert all(size > 0 for size in (*book.bids.values(), *book.asks.values()))


def _nest(depth: int, inner: str = "1", *, objects: bool = False) -> str:
    if objects:
        return '{"a":' * depth + inner + "}" * depth
    return "[" * depth + inner + "]" * depth


DEEP = 100_000

# Each of these raised out of ``feed`` before (RecursionError, ValueError from Python's
# int-string-conversion limit, TypeError, UnicodeEncodeError).
CRASHERS = {
    "deep array": _nest(DEEP),
    "deep object": _nest(DEEP, objects=True),
    "deep in an unknown key of a book": (
        '{"event_type":"book","asset_id":"' + BOOK_TOKEN + '","x":' + _nest(DEEP) + "}"
    ),
    "deep on the slow path": '{"event_type":1,"x":' + _nest(DEEP) + "}",
    "deep inside price_changes": (
        '{"event_type":"price_change","timestamp":"2","price_changes":[' + _nest(DEEP) + "]}"
    ),
    "5000-digit fee_rate_bps": json.dumps(
        {
            "event_type": "last_trade_price",
            "asset_id": BOOK_TOKEN,
            "price": "0.5",
            "size": "1",
            "side": "BUY",
            "fee_rate_bps": "9" * 5000,
            "timestamp": "1",
        }
    ),
    "5000-digit timestamp": json.dumps(
        {"event_type": "book", "asset_id": BOOK_TOKEN, "bids": [], "timestamp": "7" * 5000}
    ),
    "5000-digit number": '{"event_type":"book","timestamp":' + "7" * 5000 + "}",
    "unhashable event_type": json.dumps([{"event_type": ["book"], "asset_id": BOOK_TOKEN}]),
    "object event_type": json.dumps({"event_type": {"a": 1}, "asset_id": BOOK_TOKEN}),
    "lone surrogate": '{"event_type":"book","asset_id":"\ud800"}',
    "lone surrogate in a text frame": "PONG\ud800",
}


@pytest.mark.parametrize("frame", list(CRASHERS.values()), ids=list(CRASHERS))
def test_hostile_frame_is_a_counted_rejection(frame: str) -> None:
    proto = _ready()
    before = _levels(proto)
    counted = _counted(proto)
    events = proto.feed(frame)
    assert all(isinstance(e, BookChanged) and e.kind == "rejected" for e in events)
    assert _counted(proto) > counted
    assert _levels(proto) == before


def test_hostile_frame_as_bytes_too() -> None:
    proto = _ready()
    before = _levels(proto)
    for frame in CRASHERS.values():
        data = frame.encode("utf-8", "surrogatepass")
        proto.feed(data)
    assert proto.stats.invalid_frames + proto.stats.rejected >= len(CRASHERS)
    assert _levels(proto) == before


def test_valid_frames_still_apply_after_hostile_ones() -> None:
    proto = _ready()
    for frame in CRASHERS.values():
        proto.feed(frame)
    proto.feed(_book(PC_A))
    proto.feed(_sample("ws_price_change.json"))
    assert proto.stats.price_changes == 1
    assert proto.books[PC_A].venue_ts_ms != 1


# -- Hypothesis ----------------------------------------------------------------------------

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["0.5", "0", "1", "-1", "BUY", "SELL", BOOK_TOKEN, PC_A, "book", "1e9"]),
)
json_values = st.recursive(
    json_leaf,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=20,
)
KEYS = [
    "event_type",
    "asset_id",
    "market",
    "timestamp",
    "bids",
    "asks",
    "price_changes",
    "changes",
    "price",
    "size",
    "side",
    "best_bid",
    "best_ask",
    "fee_rate_bps",
    "tick_size",
    "old_tick_size",
    "new_tick_size",
    "assets_ids",
    "winning_asset_id",
]
EVENT_TYPES = [
    "book",
    "price_change",
    "last_trade_price",
    "tick_size_change",
    "best_bid_ask",
    "new_market",
    "market_resolved",
]


@st.composite
def mutated_sample(draw: st.DrawFn) -> str | bytes:
    """A captured frame with one key replaced by an arbitrary value, or its bytes damaged."""
    text = _sample(draw(st.sampled_from(SAMPLES)))
    how = draw(st.integers(0, 3))
    if how == 0:
        obj = json.loads(text)
        items = obj if isinstance(obj, list) else [obj]
        for item in items:
            key = draw(st.sampled_from(KEYS))
            item[key] = draw(json_values)
        return json.dumps(items if isinstance(obj, list) else items[0])
    data = bytearray(text.encode())
    if how == 1:
        for _ in range(draw(st.integers(1, 4))):
            pos = draw(st.integers(0, len(data) - 1))
            data[pos] = draw(st.integers(0, 255))
        return bytes(data)
    if how == 2:
        return bytes(data[: draw(st.integers(0, len(data)))])
    return text.replace("[", "[" * draw(st.integers(1, 3000)), 1)


@st.composite
def shaped_event(draw: st.DrawFn) -> str:
    """An object with known keys and arbitrary values, possibly wrapped in an array."""
    obj = draw(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6))
    obj["event_type"] = draw(st.sampled_from([*EVENT_TYPES, "x"]) | json_values)
    return json.dumps([obj] if draw(st.booleans()) else obj)


hostile = st.one_of(
    mutated_sample(),
    shaped_event(),
    st.builds(json.dumps, json_values),
    st.binary(max_size=60),
    st.text(max_size=60),
    st.integers(1, 20_000).map(_nest),
    st.integers(1, 20_000).map(lambda n: _nest(n, objects=True)),
    st.integers(4000, 6000).map(lambda n: '{"event_type":"book","timestamp":"' + "1" * n + '"}'),
)


_LEVEL_KINDS = frozenset({"book", "price_change", "market_resolved"})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(hostile, min_size=1, max_size=6))
def test_fuzz_never_raises_and_changes_only_what_it_reports(frames: list[str | bytes]) -> None:
    proto = _ready()
    for frame in frames:
        before = _levels(proto)
        events = proto.feed(frame)  # never raises
        after = _levels(proto)
        changed = {t for t in before if after.get(t) != before[t]}
        reported = {
            e.token for e in events if isinstance(e, BookChanged) and e.kind in _LEVEL_KINDS
        }
        assert changed <= reported, (frame, changed)  # no silent change of a book
        for book in proto.books.values():
            _consistent(book)


@st.composite
def bad_timestamp_event(draw: st.DrawFn) -> str:
    """Any event shape, but its timestamp is not epoch ms: it must be rejected whole."""
    obj = draw(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6))
    obj["event_type"] = draw(st.sampled_from([*EVENT_TYPES, "x"]) | json_values)
    obj["timestamp"] = draw(st.sampled_from(["x1", "-1", "1.5", " 1", "1" * 5000, 1, None]))
    obj.setdefault("asset_id", draw(st.sampled_from([BOOK_TOKEN, PC_A, "1"])))
    return json.dumps([obj] if draw(st.booleans()) else obj)


always_rejected = st.one_of(
    st.binary(max_size=60).filter(lambda b: b.strip() not in (b"PONG", b"PING")),
    st.integers(1, 20_000).map(_nest),
    st.integers(1, 20_000).map(lambda n: _nest(n, objects=True)),
    st.sampled_from(list(CRASHERS.values())),
    bad_timestamp_event(),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(always_rejected, min_size=1, max_size=6))
def test_fuzz_rejections_are_counted_and_leave_every_level_alone(
    frames: list[str | bytes],
) -> None:
    proto = _ready()
    before = _levels(proto)
    for frame in frames:
        counted = _counted(proto)
        proto.feed(frame)
        assert _counted(proto) > counted, frame
    assert _levels(proto) == before
    assert proto.stats.books == 3
    assert proto.stats.price_changes == proto.stats.legacy_price_changes == 0


@pytest.mark.parametrize(
    ("bids", "asks"),
    [
        ([("0.40", "10"), ("0.4", "3")], []),  # same price spelled twice
        ([("0.40", "10")], [("0.6", "0"), ("0.60", "7")]),  # even with a zero size
    ],
)
def test_a_snapshot_with_a_duplicated_level_is_rejected(
    bids: list[tuple[str, str]], asks: list[tuple[str, str]]
) -> None:
    # Which size is right is unknowable: keeping the last one was a silently wrong book.
    proto = _ready()
    before = _levels(proto)
    frame = json.dumps(
        {
            "event_type": "book",
            "asset_id": PC_A,
            "bids": [{"price": p, "size": s} for p, s in bids],
            "asks": [{"price": p, "size": s} for p, s in asks],
            "timestamp": "9",
        }
    )
    [event] = proto.feed(frame)
    assert isinstance(event, BookChanged)
    assert event.kind == "rejected"
    assert proto.stats.rejected == 1
    assert proto.books[PC_A].stale
    assert _levels(proto) == before


def test_a_flood_of_garbage_is_counted_in_full_but_logged_sparingly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    proto = _ready()
    with caplog.at_level(logging.WARNING, logger="arbees.polymarket.protocol"):
        for _ in range(3000):
            proto.feed(CRASHERS["deep array"])
    assert proto.stats.invalid_frames == 3000
    assert 20 <= len(caplog.records) <= 23  # the first 20, then one in 1000
    assert "#3000" in caplog.records[-1].getMessage()
