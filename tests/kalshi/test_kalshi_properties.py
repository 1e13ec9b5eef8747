"""Hypothesis: books equal a naive model; every dropped seq is caught on the right sid."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from arbees.kalshi.protocol import KalshiProtocol
from arbees.money import ONE, format_fixed

TICK = 100  # $0.0001 in micro-units
prices = st.integers(min_value=1, max_value=9_999).map(lambda n: n * TICK)
sizes = st.integers(min_value=1, max_value=100_000).map(lambda n: n * 10_000)  # 0.01 steps
sides = st.sampled_from(["yes", "no"])
levels = st.dictionaries(prices, sizes, max_size=12)


def _proto(tickers: list[str], sids: list[int]) -> KalshiProtocol:
    p = KalshiProtocol(tickers, cross_check=False, clock=lambda: 0.0)
    p.connection_made()
    for t, sid in zip(tickers, sids, strict=True):
        cid = p.subscribe(["orderbook_delta"], [t])  # one sid per ticker
        p.receive(
            json.dumps(
                {
                    "type": "subscribed",
                    "id": cid,
                    "msg": {"channel": "orderbook_delta", "sid": sid},
                }
            )
        )
    return p


def _fmt(levels: dict[int, int]) -> list[list[str]]:
    return [[format_fixed(p), format_fixed(s)] for p, s in sorted(levels.items())]


@settings(max_examples=150, deadline=None)
@given(
    yes=levels,
    no=levels,
    ops=st.lists(
        st.tuples(
            sides,
            prices,
            st.integers(min_value=-100_000, max_value=100_000).map(lambda n: n * 10_000),
        ),
        max_size=60,
    ),
)
def test_book_equals_reference_model(
    yes: dict[int, int], no: dict[int, int], ops: list[tuple[str, int, int]]
) -> None:
    p = _proto(["T"], [1])
    msg: dict[str, Any] = {"market_ticker": "T", "market_id": "x"}
    if yes:
        msg["yes_dollars_fp"] = _fmt(yes)
    if no:
        msg["no_dollars_fp"] = _fmt(no)
    p.receive(json.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": 1, "msg": msg}))
    ref = {"yes": dict(yes), "no": dict(no)}
    corrupt = False
    for seq, (side, price, d) in enumerate(ops, start=2):
        frame = {
            "type": "orderbook_delta",
            "sid": 1,
            "seq": seq,
            "msg": {
                "market_ticker": "T",
                "price_dollars": format_fixed(price),
                "delta_fp": format_fixed(d),
                "side": side,
                "ts_ms": seq,
            },
        }
        p.receive(json.dumps(frame))
        new = ref[side].get(price, 0) + d
        if new < 0:
            corrupt = True
            break
        if new:
            ref[side][price] = new
        else:
            ref[side].pop(price, None)
    book = p.books["T"]
    if corrupt:
        assert book.corrupt
        assert book.stale
        assert book.yes_view().stale
        return
    assert not book.stale
    assert book.yes == ref["yes"]
    assert book.no == ref["no"]
    view = book.yes_view(depth=5)
    assert [lv.price for lv in view.bids] == sorted(ref["yes"], reverse=True)[:5]
    assert [lv.price for lv in view.asks] == [ONE - q for q in sorted(ref["no"], reverse=True)[:5]]
    assert [lv.size for lv in view.asks] == [
        ref["no"][q] for q in sorted(ref["no"], reverse=True)[:5]
    ]
    best_no = max(ref["no"]) if ref["no"] else None
    assert book.yes_ask == (None if best_no is None else (ONE - best_no, ref["no"][best_no]))
    best_yes = max(ref["yes"]) if ref["yes"] else None
    assert book.no_ask == (None if best_yes is None else (ONE - best_yes, ref["yes"][best_yes]))


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from([3, 8]), st.sampled_from(["delta", "ok"])),
        min_size=1,
        max_size=40,
    ),
    drops=st.sets(st.integers(min_value=0, max_value=39), min_size=1, max_size=4),
)
def test_any_dropped_seq_is_detected_on_its_sid(
    steps: list[tuple[int, str]], drops: set[int]
) -> None:
    tickers = {3: "A", 8: "B"}
    p = _proto(["A", "B"], [3, 8])
    seq = {3: 0, 8: 0}
    frames: list[tuple[int, str]] = []
    for sid, kind in [(3, "snap"), (8, "snap"), *steps]:
        seq[sid] += 1
        if kind == "snap":
            msg: dict[str, Any] = {"market_ticker": tickers[sid], "yes_dollars_fp": [["0.5", "1"]]}
            obj: dict[str, Any] = {
                "type": "orderbook_snapshot",
                "sid": sid,
                "seq": seq[sid],
                "msg": msg,
            }
        elif kind == "ok":
            obj = {
                "type": "ok",
                "id": 50,
                "sid": sid,
                "seq": seq[sid],
                "msg": {"market_tickers": []},
            }
        else:
            msg = {
                "market_ticker": tickers[sid],
                "price_dollars": "0.5",
                "delta_fp": "1",
                "side": "yes",
            }
            obj = {"type": "orderbook_delta", "sid": sid, "seq": seq[sid], "msg": msg}
        frames.append((sid, json.dumps(obj)))
    dropped = {i + 2 for i in drops if i < len(steps)}  # never drop the snapshots
    detectable: set[int] = set()
    for i in dropped:
        sid = frames[i][0]
        if any(s == sid and j not in dropped for j, (s, _) in enumerate(frames) if j > i):
            detectable.add(sid)
    for i, (_, text) in enumerate(frames):
        if i not in dropped:
            p.receive(text)
    for sid, ticker in tickers.items():
        assert p.books[ticker].stale == (sid in detectable), (sid, dropped)
    assert p.stats.gaps >= len(detectable)
    assert p.stats.rejected == 0
