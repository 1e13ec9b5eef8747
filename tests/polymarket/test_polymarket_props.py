"""Property tests: the protocol's books equal a naive reference; garbage never changes a book."""

from __future__ import annotations

import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbees.book import Level
from arbees.money import format_fixed
from arbees.polymarket import PolymarketProtocol

TOKENS = (
    str(2**256 - 1),  # the largest (78-digit) id is valid
    "52114319501245915516055106046884209969926127482827954674443846427813813222426",
)
DEPTH = 5

# Bids below 0.5, asks above: the reference never crosses, so books must stay fresh.
bid_prices = st.integers(1, 499).map(lambda t: t * 1000)
ask_prices = st.integers(501, 999).map(lambda t: t * 1000)
sizes = st.one_of(st.just(0), st.integers(1, 10**9))


def _fmt(value: int, style: int) -> str:
    s = format_fixed(value)
    if style == 1 and s.startswith("0."):
        return s[1:]  # ".48"
    if style == 2 and "." in s:
        return s + "00"  # "0.4800"
    return s


@st.composite
def snapshot(draw: st.DrawFn) -> tuple[str, str, dict[int, int], dict[int, int]]:
    token = draw(st.sampled_from(TOKENS))
    bids = draw(st.dictionaries(bid_prices, sizes, max_size=12))
    asks = draw(st.dictionaries(ask_prices, sizes, max_size=12))
    return ("book", token, bids, asks)


@st.composite
def change(draw: st.DrawFn) -> tuple[str, list[tuple[str, bool, int, int]]]:
    n = draw(st.integers(1, 4))
    entries = []
    for _ in range(n):
        is_bid = draw(st.booleans())
        price = draw(bid_prices if is_bid else ask_prices)
        entries.append((draw(st.sampled_from(TOKENS)), is_bid, price, draw(sizes)))
    return ("change", entries)


def _expected_view(bids: dict[int, int], asks: dict[int, int]) -> tuple[tuple[Level, ...], ...]:
    return (
        tuple(Level(p, bids[p]) for p in sorted(bids, reverse=True)[:DEPTH]),
        tuple(Level(p, asks[p]) for p in sorted(asks)[:DEPTH]),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(st.one_of(snapshot(), change()), max_size=30), seed=st.integers(0, 2**16))
def test_books_equal_reference_model(ops: list[tuple], seed: int) -> None:  # type: ignore[type-arg]
    rng = random.Random(seed)
    proto = PolymarketProtocol()
    ref: dict[str, tuple[dict[int, int], dict[int, int]]] = {}
    ts = 1_700_000_000_000
    for op in ops:
        ts += 1
        if op[0] == "book":
            _, token, bids, asks = op
            b_items = list(bids.items())
            a_items = list(asks.items())
            rng.shuffle(b_items)  # never assume an order
            rng.shuffle(a_items)
            frame = {
                "event_type": "book",
                "asset_id": token,
                "market": "0xm",
                "bids": [
                    {"price": _fmt(p, rng.randrange(3)), "size": _fmt(s, 0)} for p, s in b_items
                ],
                "asks": [
                    {"price": _fmt(p, rng.randrange(3)), "size": _fmt(s, 0)} for p, s in a_items
                ],
                "timestamp": str(ts),
            }
            ref[token] = (
                {p: s for p, s in bids.items() if s},
                {p: s for p, s in asks.items() if s},
            )
            payload = json.dumps([frame] if rng.random() < 0.3 else frame)
        else:
            entries = []
            for token, is_bid, price, size in op[1]:
                entry = {
                    "asset_id": token,
                    "price": _fmt(price, rng.randrange(3)),
                    "size": _fmt(size, rng.randrange(3)),
                    "side": "BUY" if is_bid else "SELL",
                    "hash": "ab",
                }
                if token in ref:
                    side = ref[token][0 if is_bid else 1]
                    if size:
                        side[price] = size
                    else:
                        side.pop(price, None)
                    rb, ra = ref[token]
                    entry["best_bid"] = format_fixed(max(rb)) if rb else "0"
                    entry["best_ask"] = format_fixed(min(ra)) if ra else "1"
                entries.append(entry)
            payload = json.dumps(
                {
                    "market": "0xm",
                    "price_changes": entries,
                    "timestamp": str(ts),
                    "event_type": "price_change",
                }
            )
        proto.feed(payload, ts)
        for token, (rb, ra) in ref.items():
            book = proto.books[token]
            view = book.view(DEPTH)
            assert (view.bids, view.asks) == _expected_view(rb, ra)
            assert not view.stale, book.stale_reason
            top = book.top()
            assert top.bid == (max(rb) if rb else None)
            assert top.ask == (min(ra) if ra else None)
    assert proto.stats.rejected == 0
    assert proto.stats.mismatches == 0


# -- garbage --------------------------------------------------------------------------------

TOKEN = TOKENS[1]
GOOD_ENTRY = {
    "asset_id": TOKEN,
    "price": "0.41",
    "size": "5",
    "side": "BUY",
    "best_bid": "0.41",
    "best_ask": "0.6",
}


def _pc(entry: dict[str, object], ts: object = "5") -> str:
    return json.dumps(
        {"market": "0xm", "price_changes": [entry], "timestamp": ts, "event_type": "price_change"}
    )


def _with(**kw: object) -> str:
    return _pc({**GOOD_ENTRY, **kw})


bad_values = st.one_of(
    # truncated JSON of a valid frame
    st.integers(1, len(_pc(GOOD_ENTRY)) - 1).map(lambda n: _pc(GOOD_ENTRY)[:n]),
    # wrong types
    st.sampled_from(
        [
            _with(price=0.41),
            _with(size=5),
            _with(side=1),
            _with(asset_id=None),
            _with(price=["0.41"]),
            _pc(GOOD_ENTRY, ts=5),
            json.dumps({"event_type": "price_change", "price_changes": "nope"}),
            json.dumps({"event_type": "book", "asset_id": TOKEN, "bids": {"0.4": "1"}, "asks": []}),
            json.dumps([1, "x", None]),
            "42",
            "null",
        ]
    ),
    # negative / malformed sizes, prices outside (0, 1), too precise, NaN and infinities
    # (and sizes over arbees.book.MAX_BOOK_SIZE, up to the most parse_fixed spells)
    st.sampled_from(
        [
            *("-1", "-0.000001", "1e3", "NaN", "inf", "", " 5", "5.0000001"),
            *("1000000000000.000001", "999999999999999"),
        ]
    ).map(lambda s: _with(size=s)),
    st.sampled_from(["0", "1", "1.5", "-0.2", "0.0000001", "NaN", "Infinity", "", "0x1"]).map(
        lambda p: _with(price=p)
    ),
    st.sampled_from(["buy", "", "HOLD"]).map(lambda s: _with(side=s)),
    st.sampled_from(["-5", "1.5", "abc", "12345678901234567890"]).map(
        lambda t: _pc(GOOD_ENTRY, ts=t)
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: _with(price=f)),
    # ids: letters, 79 digits, above 2**256 (on a book snapshot, which would create a book)
    st.sampled_from(["0xabc", "1" * 79, str(2**256), "", "12a"]).map(
        lambda i: json.dumps(
            {"event_type": "book", "asset_id": i, "bids": [], "asks": [], "timestamp": "1"}
        )
    ),
    # NaN literals and garbage text
    st.sampled_from(['{"event_type": "book", "timestamp": NaN}', "NaN", "[NaN]", "\x00\xff", "{]"]),
    st.binary(max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(frames=st.lists(bad_values, min_size=1, max_size=8))
def test_garbage_is_counted_and_never_changes_a_book(frames: list[str | bytes]) -> None:
    proto = PolymarketProtocol()
    proto.feed(
        json.dumps(
            {
                "event_type": "book",
                "asset_id": TOKEN,
                "bids": [{"price": "0.4", "size": "10"}],
                "asks": [{"price": "0.6", "size": "7"}],
                "timestamp": "1",
            }
        )
    )
    book = proto.books[TOKEN]
    before = (dict(book.bids), dict(book.asks), book.best_bid, book.best_ask)
    for frame in frames:
        s = proto.stats
        counted_before = (
            s.invalid_frames + s.rejected + s.unknown_events + s.unknown_asset + s.text_frames
        )
        proto.feed(frame)
        counted_after = (
            s.invalid_frames + s.rejected + s.unknown_events + s.unknown_asset + s.text_frames
        )
        assert counted_after > counted_before, frame
    assert (dict(book.bids), dict(book.asks), book.best_bid, book.best_ask) == before
    assert set(proto.books) == {TOKEN}  # no book was created from a bad id
    assert proto.stats.books == 1
    assert proto.stats.price_changes == 0
