"""Hostile frames: anything the socket delivers is a counted rejection, never an exception.

``KalshiProtocol.receive`` is the decode boundary: an exception escaping it reaches the
WebSocket driver, which treats it as fatal (the service exits). Built on the captured
sample frames: a valid book first, then deeply nested, oversized, mutated and
type-confused frames. A rejected frame never changes a level of any book (it may mark a
sid's books stale and ask for a snapshot, which is the point of rejecting it).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbees.kalshi.book import KalshiBook
from arbees.kalshi.events import BookChanged
from arbees.kalshi.protocol import KalshiProtocol

DATA = Path(__file__).parent.parent / "data" / "kalshi"
A, B = "MKT-A", "MKT-B"
SAMPLES = sorted(
    p.name
    for p in DATA.glob("*.json")
    if not p.name.startswith("cmd_") and "lifecycle" not in p.name
)


def _snap(sid: int, seq: int, ticker: str) -> str:
    msg = {
        "market_ticker": ticker,
        "yes_dollars_fp": [["0.4000", "10.00"], ["0.3900", "2.00"]],
        "no_dollars_fp": [["0.5000", "5.00"]],
        "ts_ms": 1_700_000_000_000,
    }
    return json.dumps({"type": "orderbook_snapshot", "sid": sid, "seq": seq, "msg": msg})


def _ready() -> KalshiProtocol:
    p = KalshiProtocol([A, B], cross_check=False, clock=lambda: 100.0)
    p.connection_made()
    p.data_to_send()
    p.receive(
        json.dumps({"type": "subscribed", "id": 1, "msg": {"channel": "orderbook_delta", "sid": 1}})
    )
    p.receive(_snap(1, 1, A))
    p.receive(_snap(1, 2, B))
    assert not any(b.stale for b in p.books.values())
    return p


def _levels(p: KalshiProtocol) -> dict[str, tuple[object, ...]]:
    return {t: (dict(b.yes), dict(b.no), b.best_yes_bid, b.best_no_bid) for t, b in p.books.items()}


def _counted(p: KalshiProtocol) -> int:
    s = p.stats
    return (
        s.rejected
        + s.unknown_types
        + s.old_seq
        + s.superseded
        + s.unknown_sid
        + s.unknown_ticker
        + s.skipped_awaiting_snapshot
    )


def _consistent(book: KalshiBook) -> None:
    best_yes = book.best_yes_bid
    best_no = book.best_no_bid
    assert (best_yes.price if best_yes else None) == (max(book.yes) if book.yes else None)
    assert (best_no.price if best_no else None) == (max(book.no) if book.no else None)


def _nest(depth: int, *, objects: bool = False) -> str:
    if objects:
        return '{"a":' * depth + "1" + "}" * depth
    return "[" * depth + "1" + "]" * depth


DEEP = 100_000
_DELTA_MSG = '{"market_ticker":"MKT-A","side":"yes","price_dollars":"0.4000","delta_fp":"1.00"'

# Each of these raised out of ``receive`` before (RecursionError, UnicodeEncodeError).
CRASHERS = {
    "deep array": _nest(DEEP),
    "deep object": _nest(DEEP, objects=True),
    "deep in an unknown key of a delta": (
        '{"type":"orderbook_delta","sid":1,"seq":3,"x":'
        + _nest(DEEP)
        + ',"msg":'
        + _DELTA_MSG
        + "}}"
    ),
    "deep lifecycle msg": '{"type":"market_lifecycle_v2","sid":1,"msg":{"a":' + _nest(DEEP) + "}}",
    "deep ok msg": '{"type":"ok","id":1,"msg":' + _nest(DEEP) + "}",
    "lone surrogate": '{"type":"ok","sid":"\ud800"}',
    "5000-digit number": '{"type":"orderbook_delta","sid":1,"seq":' + "9" * 5000 + "}",
}

# Accepted before, now rejected: a timestamp no clock will reach.
FAR_FUTURE = (
    '{"type":"orderbook_delta","sid":1,"seq":3,"msg":' + _DELTA_MSG + ',"ts_ms":' + "9" * 40 + "}}"
)


@pytest.mark.parametrize("frame", list(CRASHERS.values()), ids=list(CRASHERS))
def test_hostile_frame_is_a_counted_rejection(frame: str) -> None:
    p = _ready()
    before = _levels(p)
    assert p.receive(frame) == []
    assert p.stats.rejected == 1
    assert _levels(p) == before
    assert not any(b.stale for b in p.books.values())  # unattributable: nothing to distrust


def test_absurd_timestamp_is_rejected_as_a_malformed_book_frame() -> None:
    p = _ready()
    before = _levels(p)
    p.receive(FAR_FUTURE)
    assert p.stats.rejected == 1
    assert p.stats.deltas == 0
    assert _levels(p) == before
    assert p.books[A].stale  # the sid's seq moved on without us: resync


def test_a_flood_of_garbage_is_counted_in_full_but_logged_sparingly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    p = _ready()
    with caplog.at_level(logging.WARNING, logger="arbees.kalshi.protocol"):
        for _ in range(3000):
            p.receive(CRASHERS["deep array"])
    assert p.stats.rejected == 3000
    assert 20 <= len(caplog.records) <= 23  # the first 20, then one in 1000
    assert "#3000" in caplog.records[-1].getMessage()


def test_valid_frames_still_apply_after_hostile_ones() -> None:
    p = _ready()
    for frame in CRASHERS.values():
        p.receive(frame)
    delta = json.dumps(
        {
            "type": "orderbook_delta",
            "sid": 1,
            "seq": 3,
            "msg": {"market_ticker": A, "side": "yes", "price_dollars": "0.4100", "delta_fp": "3"},
        }
    )
    [event] = p.receive(delta)
    assert isinstance(event, BookChanged)
    assert p.books[A].best_yes_bid is not None
    assert p.books[A].best_yes_bid.price == 410_000


# -- Hypothesis ----------------------------------------------------------------------------

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["0.4000", "0", "1", "-1", "yes", "no", A, B, "orderbook_delta", "1e9"]),
)
json_values = st.recursive(
    json_leaf,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=20,
)
TYPES = [
    "orderbook_delta",
    "orderbook_snapshot",
    "ticker",
    "trade",
    "subscribed",
    "ok",
    "unsubscribed",
    "error",
    "market_lifecycle_v2",
]
MSG_KEYS = [
    "market_ticker",
    "side",
    "price_dollars",
    "delta_fp",
    "ts_ms",
    "yes_dollars_fp",
    "no_dollars_fp",
    "yes",
    "no",
    "price",
    "delta",
    "yes_bid_dollars",
    "yes_ask_dollars",
    "count_fp",
    "code",
    "sid",
    "channel",
]


def _sample_frame(name: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads((DATA / name).read_text())
    # put it on our sid and tickers so it reaches the books
    if "sid" in obj:
        obj["sid"] = 1
    if isinstance(obj.get("msg"), dict) and "market_ticker" in obj["msg"]:
        obj["msg"]["market_ticker"] = A
    return obj


@st.composite
def mutated_sample(draw: st.DrawFn) -> str | bytes:
    """A captured frame with one field replaced by an arbitrary value, or its bytes damaged."""
    obj = _sample_frame(draw(st.sampled_from(SAMPLES)))
    if "seq" in obj:
        obj["seq"] = draw(st.integers(-2, 6))
    how = draw(st.integers(0, 3))
    if how == 0:
        if isinstance(obj.get("msg"), dict) and draw(st.booleans()):
            obj["msg"][draw(st.sampled_from(MSG_KEYS))] = draw(json_values)
        else:
            obj[draw(st.sampled_from(["type", "sid", "seq", "id", "msg"]))] = draw(json_values)
        return json.dumps(obj)
    data = bytearray(json.dumps(obj).encode())
    if how == 1:
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if how == 2:
        return bytes(data[: draw(st.integers(0, len(data)))])
    return data.decode().replace("{", "[" * draw(st.integers(1, 3000)) + "{", 1)


hostile = st.one_of(
    mutated_sample(),
    st.builds(json.dumps, json_values),
    st.binary(max_size=60),
    st.text(max_size=60),
    st.integers(1, 20_000).map(_nest),
    st.integers(1, 20_000).map(lambda n: _nest(n, objects=True)),
    st.sampled_from(list(CRASHERS.values())),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(hostile, min_size=1, max_size=6))
def test_fuzz_never_raises_and_changes_only_what_it_reports(frames: list[str | bytes]) -> None:
    p = _ready()
    for frame in frames:
        before = _levels(p)
        events = p.receive(frame)  # never raises
        p.data_to_send()
        after = _levels(p)
        changed = {t for t in before if after.get(t) != before[t]}
        reported = {e.ticker for e in events if isinstance(e, BookChanged)}
        assert changed <= reported, (frame, changed)  # no silent change of a book
        for book in p.books.values():
            _consistent(book)


NOT_A_NUMBER = st.one_of(
    st.sampled_from([True, None, "NaN", "Infinity", "1e3", "", [[1]], {"a": 1}]),
    st.text(max_size=5).filter(lambda s: not any(c.isdigit() for c in s)),
)
BAD = {
    "price": NOT_A_NUMBER | st.sampled_from(["1.5", "-0.1", "0", "1", 10**20, -1, 0.0000001]),
    "count": NOT_A_NUMBER | st.sampled_from([10**20, -(10**20), 1e300, "0.0000001"]),
    "size": NOT_A_NUMBER | st.sampled_from([10**20, "-1", -1, 1e300]),
    "ts_ms": NOT_A_NUMBER.filter(lambda v: v is not None) | st.sampled_from([-1, 10**20, 1.5]),
    "side": NOT_A_NUMBER | st.sampled_from(["YES", "both", 1]),
}


@st.composite
def malformed_book_frame(draw: st.DrawFn) -> str:
    """A delta or snapshot on our sid with one wrong-typed or invalid field."""
    if draw(st.booleans()):
        msg: dict[str, Any] = {
            "market_ticker": A,
            "side": "yes",
            "price_dollars": "0.4000",
            "delta_fp": "1",
        }
        key, kind = draw(
            st.sampled_from(
                [
                    ("price_dollars", "price"),
                    ("delta_fp", "count"),
                    ("ts_ms", "ts_ms"),
                    ("side", "side"),
                ]
            )
        )
        msg[key] = draw(BAD[kind])
        return json.dumps({"type": "orderbook_delta", "sid": 1, "seq": 3, "msg": msg})
    msg = {"market_ticker": A, "yes_dollars_fp": [["0.4000", "1"]]}
    where = draw(st.sampled_from(["price", "size", "ts_ms", "levels"]))
    if where == "price":
        msg["yes_dollars_fp"] = [[draw(BAD["price"]), "1"]]
    elif where == "size":
        msg["yes_dollars_fp"] = [["0.4000", draw(BAD["size"])]]
    elif where == "ts_ms":
        msg["ts_ms"] = draw(BAD["ts_ms"])
    else:
        msg["yes_dollars_fp"] = draw(st.sampled_from([[[1, 2, 3]], "x", {"a": 1}, [1], True]))
    return json.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": 3, "msg": msg})


always_rejected = st.one_of(
    st.binary(max_size=60),
    st.integers(1, 20_000).map(_nest),
    st.integers(1, 20_000).map(lambda n: _nest(n, objects=True)),
    st.sampled_from([*CRASHERS.values(), FAR_FUTURE]),
    malformed_book_frame(),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(always_rejected, min_size=1, max_size=6))
def test_fuzz_rejections_are_counted_and_leave_every_level_alone(
    frames: list[str | bytes],
) -> None:
    p = _ready()
    before = _levels(p)
    for frame in frames:
        counted = _counted(p)
        p.receive(frame)
        assert _counted(p) > counted, frame
    assert _levels(p) == before
    assert p.stats.deltas == 0
    assert p.stats.snapshots == 2
