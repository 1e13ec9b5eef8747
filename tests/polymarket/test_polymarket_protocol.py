"""The sans-io Polymarket protocol and books, on the captured sample frames."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arbees.book import Level
from arbees.errors import DecodeError
from arbees.money import parse_fixed
from arbees.polymarket import (
    BestBidAsk,
    BookChanged,
    LastTrade,
    MarketResolved,
    NewMarket,
    PolymarketProtocol,
    TickSizeChanged,
    is_token_id,
    mirror_view,
    subscribe_frame,
    update_frame,
)

DATA = Path(__file__).parent.parent / "data" / "polymarket"
BOOK_TOKEN = "65818619657568813474341868652308942079804919287380422192892211131408793125422"
PC_A = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
PC_B = "52114319501245915516055106046884209969926127482827954674443846427813813222426"


def _sample(name: str) -> str:
    return (DATA / name).read_text()


def _book(
    token: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]], ts: str = "1"
) -> str:
    return json.dumps(
        {
            "event_type": "book",
            "asset_id": token,
            "market": "0xm",
            "bids": [{"price": p, "size": s} for p, s in bids],
            "asks": [{"price": p, "size": s} for p, s in asks],
            "timestamp": ts,
        }
    )


def _pc(*entries: dict[str, str], ts: str = "2") -> str:
    return json.dumps(
        {
            "market": "0xm",
            "price_changes": list(entries),
            "timestamp": ts,
            "event_type": "price_change",
        }
    )


def P(s: str) -> int:
    return parse_fixed(s)


def test_book_sample_top_and_view() -> None:
    proto = PolymarketProtocol()
    out = proto.feed(_sample("ws_book.json"), 123)
    assert out == [BookChanged(BOOK_TOKEN, "book", 1757908892351, 123)]
    book = proto.books[BOOK_TOKEN]
    top = book.top()
    assert (top.bid, top.bid_size, top.ask, top.ask_size, top.stale) == (
        P("0.50"),
        P("15"),
        P("0.52"),
        P("25"),
        False,
    )
    view = book.view(depth=2)
    assert view.bids == (Level(P("0.5"), P("15")), Level(P("0.49"), P("20")))
    assert view.asks == (Level(P("0.52"), P("25")), Level(P("0.53"), P("60")))
    assert view.venue == "polymarket"
    assert view.market.startswith("0xbd31")
    assert view.received_ns == 123
    assert not view.stale


def test_live_level_order_is_not_assumed() -> None:
    # Live: bids ascending, asks DEScending (best last on both sides).
    proto = PolymarketProtocol()
    proto.feed(
        _book(
            PC_A,
            [("0.1", "1"), ("0.2", "2"), ("0.3", "3")],
            [("0.9", "9"), ("0.8", "8"), ("0.7", "7")],
        )
    )
    view = proto.books[PC_A].view()
    assert [lvl.price for lvl in view.bids] == [P("0.3"), P("0.2"), P("0.1")]
    assert [lvl.price for lvl in view.asks] == [P("0.7"), P("0.8"), P("0.9")]


def test_price_change_sample_applies_and_cross_checks() -> None:
    proto = PolymarketProtocol()
    proto.feed(f"[{_book(PC_A, [], [])}, {_book(PC_B, [], [])}]")
    out = proto.feed(_sample("ws_price_change.json"), 5)
    assert [e.token for e in out if isinstance(e, BookChanged)] == [PC_A, PC_B]
    a, b = proto.books[PC_A].top(), proto.books[PC_B].top()
    assert (a.bid, a.bid_size, a.ask, a.stale) == (P("0.5"), P("200"), None, False)
    assert (b.bid, b.ask, b.ask_size, b.stale) == (None, P("0.5"), P("200"), False)
    assert proto.stats.mismatches == 0
    assert proto.stats.price_changes == 1


def test_price_change_size_zero_deletes_and_total_replaces() -> None:
    proto = PolymarketProtocol()
    proto.feed(_book(PC_A, [("0.4", "10"), ("0.45", "5")], [("0.6", "7")]))
    proto.feed(
        _pc(
            {
                "asset_id": PC_A,
                "price": "0.45",
                "size": "0",
                "side": "BUY",
                "best_bid": "0.4",
                "best_ask": "0.6",
            }
        )
    )
    proto.feed(
        _pc(
            {
                "asset_id": PC_A,
                "price": ".4",
                "size": "3",
                "side": "BUY",
                "best_bid": "0.40",
                "best_ask": "0.6",
            }
        )
    )
    book = proto.books[PC_A]
    assert book.bids == {P("0.4"): P("3")}
    assert not book.stale


def test_best_bid_ask_mismatch_marks_stale_until_snapshot() -> None:
    proto = PolymarketProtocol()
    proto.feed(_book(PC_A, [("0.4", "10")], [("0.6", "7")]))
    proto.feed(
        _pc(
            {
                "asset_id": PC_A,
                "price": "0.41",
                "size": "1",
                "side": "BUY",
                "best_bid": "0.42",
                "best_ask": "0.6",
            }
        )
    )
    book = proto.books[PC_A]
    assert book.stale
    assert "best_bid" in book.stale_reason
    assert proto.stats.mismatches == 1
    assert book.view().stale
    proto.feed(_book(PC_A, [("0.42", "1")], [("0.6", "7")]))
    assert not book.stale


def test_legacy_price_change_format() -> None:
    proto = PolymarketProtocol()
    proto.feed(_book(PC_A, [("0.3", "1")], [("0.45", "2"), ("0.4", "1")]))
    out = proto.feed(_sample("ws_price_change_legacy_before_2025-09-15.json"), 9)
    assert out == [BookChanged(PC_A, "price_change", 1729084877448, 9)]
    book = proto.books[PC_A]
    assert book.asks == {P("0.45"): P("2"), P("0.4"): P("3300")}
    assert book.top().ask_size == P("3300")
    assert proto.stats.legacy_price_changes == 1


def test_tick_size_change_marks_stale_until_next_book() -> None:
    proto = PolymarketProtocol()
    proto.feed(_sample("ws_book.json"))
    out = proto.feed(_sample("ws_tick_size_change.json"))
    assert isinstance(out[0], TickSizeChanged)
    assert out[0].new_tick_size == P("0.001")
    book = proto.books[BOOK_TOKEN]
    assert book.stale
    assert book.tick_size == P("0.001")
    proto.feed(_sample("ws_book.json"))
    assert not book.stale


def test_other_event_samples() -> None:
    proto = PolymarketProtocol()
    (trade,) = proto.feed(_sample("ws_last_trade_price.json"))
    assert isinstance(trade, LastTrade)
    assert (trade.price, trade.size, trade.side, trade.fee_rate_bps) == (
        P("0.456"),
        P("219.217767"),
        "BUY",
        0,
    )
    (bba,) = proto.feed(_sample("ws_best_bid_ask.json"))
    assert isinstance(bba, BestBidAsk)
    assert (bba.best_bid, bba.best_ask) == (P("0.73"), P("0.77"))
    (nm,) = proto.feed(_sample("ws_new_market.json"))
    assert isinstance(nm, NewMarket)
    assert nm.outcomes == ("Yes", "No")
    assert len(nm.tokens) == 2
    for name in ("ws_market_resolved.json", "ws_market_resolved_guide_page_variant.json"):
        res = proto.feed(_sample(name))
        assert isinstance(res[0], MarketResolved)
        assert res[0].winning_token == res[0].tokens[0]
    assert proto.stats.rejected == 0
    assert proto.stats.resolved == 2


def test_market_resolved_clears_books() -> None:
    proto = PolymarketProtocol()
    res = json.loads(_sample("ws_market_resolved.json"))
    token = res["assets_ids"][0]
    proto.feed(_book(token, [("0.9", "1")], [("0.95", "1")]))
    out = proto.feed(json.dumps(res))
    assert BookChanged(token, "market_resolved", 1766790415550, 0) in out
    assert proto.books[token].bids == {}
    assert proto.books[token].stale


def test_arrays_text_frames_and_unknown_events() -> None:
    proto = PolymarketProtocol()
    out = proto.feed(f"[{_book(PC_A, [('0.1', '1')], [])},{_book(PC_B, [], [('0.9', '1')])}]")
    assert len(out) == 2
    assert proto.feed("[]") == []
    assert proto.feed("PONG") == []
    assert proto.feed(b"NO NEW ASSETS") == []
    assert proto.feed('{"event_type": "brand_new_thing", "x": 1}') == []
    assert proto.stats.text_frames == 2
    assert proto.stats.unknown_events == 1
    assert proto.stats.invalid_frames == 0


def test_one_bad_entry_rejects_that_token_only() -> None:
    proto = PolymarketProtocol()
    proto.feed(_book(PC_A, [("0.4", "10")], [("0.6", "7")]))
    proto.feed(_book(PC_B, [("0.4", "10")], [("0.6", "7")]))
    before_a = dict(proto.books[PC_A].bids)
    out = proto.feed(
        _pc(
            {"asset_id": PC_A, "price": "0.41", "size": "1", "side": "BUY"},
            {"asset_id": PC_A, "price": "1.5", "size": "1", "side": "BUY"},
            {"asset_id": PC_B, "price": "0.42", "size": "2", "side": "BUY"},
        )
    )
    a, b = proto.books[PC_A], proto.books[PC_B]
    assert a.bids == before_a  # no partial update of A
    assert a.stale
    assert "rejected" in a.stale_reason
    assert b.bids[P("0.42")] == P("2")
    assert not b.stale
    assert BookChanged(PC_A, "rejected", 1, 0) in out  # the ts of its last good state
    assert proto.stats.rejected == 1


def test_slow_path_keeps_valid_events_of_an_array() -> None:
    proto = PolymarketProtocol()
    proto.feed(_book(PC_A, [("0.4", "10")], []))
    bad = json.dumps(
        {"event_type": "book", "asset_id": PC_A, "bids": [{"price": 0.5, "size": "1"}], "asks": []}
    )
    out = proto.feed(f"[{bad}, {_book(PC_B, [('0.3', '1')], [])}, 7]")
    assert proto.books[PC_B].best_bid == P("0.3")
    assert proto.books[PC_A].bids == {P("0.4"): P("10")}
    assert proto.books[PC_A].stale
    assert proto.stats.slow_path == 1
    assert proto.stats.rejected == 2  # the bad book and the bare 7
    assert any(isinstance(e, BookChanged) and e.kind == "rejected" for e in out)


def test_garbage_frames_counted() -> None:
    proto = PolymarketProtocol()
    proto.feed(_sample("ws_book.json"))
    before = dict(proto.books[BOOK_TOKEN].bids), dict(proto.books[BOOK_TOKEN].asks)
    for frame in [
        '{"event_type": "book"',
        "NaN",
        "hello",
        '{"event_type": "price_change", "price_changes": NaN}',
        "",
    ]:
        assert proto.feed(frame) == []
    assert proto.stats.invalid_frames == 5
    assert (proto.books[BOOK_TOKEN].bids, proto.books[BOOK_TOKEN].asks) == before
    assert not proto.books[BOOK_TOKEN].stale


def test_token_ids() -> None:
    max_id = str(2**256 - 1)
    assert len(max_id) == 78
    assert is_token_id(max_id)
    assert not is_token_id(str(2**256))
    assert not is_token_id("1" * 79)
    assert not is_token_id("0xabc")
    assert not is_token_id("")
    assert not is_token_id(12)
    assert not is_token_id("١٢٣")  # non-ASCII digits
    proto = PolymarketProtocol()
    proto.track(max_id)
    with pytest.raises(DecodeError):
        proto.track("new_asset_id_1")


def test_mirror_view_of_binary_market() -> None:
    proto = PolymarketProtocol()
    proto.feed(_book(PC_A, [("0.4", "10"), ("0.39", "5")], [("0.6", "7")]))
    view = mirror_view(proto.books[PC_A], PC_B)
    assert view.instrument == PC_B
    assert view.bids == (Level(P("0.4"), P("7")),)
    assert view.asks == (Level(P("0.6"), P("10")), Level(P("0.61"), P("5")))


def test_subscribe_frames_match_samples() -> None:
    sub = json.loads(_sample("ws_subscribe_initial.json"))
    assert json.loads(subscribe_frame(sub["assets_ids"], initial_dump=False)) == sub
    custom = json.loads(_sample("ws_subscribe_initial_custom_feature.json"))
    assert (
        json.loads(subscribe_frame(custom["assets_ids"], initial_dump=False, custom_features=True))
        == custom
    )
    assert json.loads(subscribe_frame(["1"]))["initial_dump"] is True
    for name, op in (
        ("ws_subscribe_update_subscribe.json", "subscribe"),
        ("ws_subscribe_update_unsubscribe.json", "unsubscribe"),
    ):
        want = json.loads(_sample(name))
        assert json.loads(update_frame(op, want["assets_ids"])) == want  # type: ignore[arg-type]
    want = json.loads(_sample("ws_subscribe_update_subscribe_custom_feature.json"))
    assert json.loads(update_frame("subscribe", want["assets_ids"], custom_features=True)) == want
