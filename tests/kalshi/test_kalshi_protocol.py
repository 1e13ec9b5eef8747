"""The sans-io protocol: seq per sid, ok consuming seq, resync, superseded sids, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from arbees.book import Level
from arbees.kalshi.events import BookChanged, BooksStale, VenueErrorReply
from arbees.kalshi.protocol import KalshiProtocol

A, B, C = "MKT-A", "MKT-B", "MKT-C"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def cmds(p: KalshiProtocol) -> list[dict[str, Any]]:
    return [json.loads(t) for t in p.data_to_send()]


def f(obj: dict[str, Any]) -> str:
    return json.dumps(obj)


def subscribed(sid: int, channel: str = "orderbook_delta", cid: int = 1) -> str:
    return f({"type": "subscribed", "id": cid, "msg": {"channel": channel, "sid": sid}})


def snap(
    sid: int, seq: int, ticker: str, yes: Any = (("0.40", "10"),), no: Any = (("0.50", "5"),)
) -> str:
    msg: dict[str, Any] = {"market_ticker": ticker, "market_id": "m"}
    if yes:
        msg["yes_dollars_fp"] = [list(lv) for lv in yes]
    if no:
        msg["no_dollars_fp"] = [list(lv) for lv in no]
    return f({"type": "orderbook_snapshot", "sid": sid, "seq": seq, "msg": msg})


def delta(sid: int, seq: int, ticker: str, price: str, d: str, side: str = "yes") -> str:
    msg = {
        "market_ticker": ticker,
        "price_dollars": price,
        "delta_fp": d,
        "side": side,
        "ts_ms": seq,
    }
    return f({"type": "orderbook_delta", "sid": sid, "seq": seq, "msg": msg})


def ok(sid: int, seq: int, cid: int, tickers: list[str]) -> str:
    return f({"type": "ok", "id": cid, "sid": sid, "seq": seq, "msg": {"market_tickers": tickers}})


def ready(clock: Clock | None = None, tickers: tuple[str, ...] = (A, B)) -> KalshiProtocol:
    p = KalshiProtocol(tickers, cross_check=False, clock=clock or Clock())
    p.connection_made()
    [sub] = cmds(p)
    assert sub == {
        "id": 1,
        "cmd": "subscribe",
        "params": {
            "channels": ["orderbook_delta"],
            "market_tickers": sorted(tickers),
            "use_yes_price": False,
        },
    }
    p.receive(subscribed(1))
    for i, t in enumerate(sorted(tickers), start=1):
        p.receive(snap(1, i, t))
    assert all(not b.stale for b in p.books.values())
    return p


def test_books_start_stale_and_become_fresh_with_snapshot() -> None:
    p = KalshiProtocol([A], cross_check=False)
    assert p.books[A].stale
    events = p.connection_made()
    assert events == [BooksStale(0, (A,), "reconnect")]
    p.data_to_send()
    p.receive(subscribed(1))
    assert p.sid_info(1) == ("orderbook_delta", frozenset({A}))
    assert p.book_sid(A) == 1
    [ev] = p.receive(snap(1, 1, A), received_ns=5)
    assert ev == BookChanged(A, 1, 1, "snapshot", None, 5)
    assert not p.books[A].stale


def test_gap_marks_every_book_on_the_sid_stale_and_resyncs_with_get_snapshot() -> None:
    p = ready()
    p.receive(delta(1, 3, A, "0.40", "-1"))
    events = p.receive(delta(1, 5, B, "0.40", "1"))  # seq 4 missing
    assert events == [BooksStale(1, (A, B), "seq gap", 0)]
    assert p.books[A].stale
    assert p.books[B].stale
    assert p.stats.gaps == 1
    [cmd] = cmds(p)
    assert cmd == {
        "id": 2,
        "cmd": "update_subscription",
        "params": {"sids": [1], "market_tickers": [A, B], "action": "get_snapshot"},
    }
    # Deltas while awaiting the snapshot are not applied.
    assert p.receive(delta(1, 6, A, "0.40", "1")) == []
    assert p.stats.skipped_awaiting_snapshot == 2
    # ok consumes a seq, then fresh snapshots.
    p.receive(ok(1, 7, 2, [A, B]))
    p.receive(snap(1, 8, A, yes=[("0.41", "2")]))
    assert not p.books[A].stale
    assert p.books[B].stale
    p.receive(snap(1, 9, B))
    assert not p.books[B].stale
    assert p.books[A].best_yes_bid == Level(410_000, 2_000_000)
    assert p.stats.gaps == 1


def test_ok_frames_consume_seq_no_false_gap() -> None:
    p = ready()
    p.add_tickers([C])
    [cmd] = cmds(p)
    assert cmd["params"] == {"sids": [1], "market_tickers": [C], "action": "add_markets"}
    p.receive(ok(1, 3, cmd["id"], [A, B, C]))
    p.receive(snap(1, 4, C))
    p.receive(delta(1, 5, C, "0.40", "1"))
    assert p.stats.gaps == 0
    assert not p.books[C].stale
    # An ok whose seq skips one IS a gap.
    p.receive(ok(1, 7, 99, []))
    assert p.stats.gaps == 1


def test_seq_is_per_sid_not_per_connection() -> None:
    p = KalshiProtocol([A, B], cross_check=False, clock=Clock())
    p.connection_made()
    p.data_to_send()
    p.add_tickers(["X"])  # no live sub yet -> a second subscribe
    cmds(p)
    p.receive(subscribed(1, cid=1))
    p.receive(subscribed(2, cid=2))
    p.receive(snap(1, 1, A))
    p.receive(snap(2, 1, "X"))
    p.receive(snap(1, 2, B))
    p.receive(delta(2, 2, "X", "0.40", "1"))
    p.receive(delta(1, 3, A, "0.40", "1"))
    assert p.stats.gaps == 0
    p.receive(delta(2, 4, "X", "0.40", "1"))  # gap on sid 2 only
    assert p.books["X"].stale
    assert not p.books[A].stale
    assert not p.books[B].stale


def test_old_and_duplicate_seq_dropped() -> None:
    p = ready()
    p.receive(delta(1, 3, A, "0.40", "1"))
    assert p.receive(delta(1, 3, A, "0.40", "1")) == []
    assert p.stats.old_seq == 1
    assert p.books[A].best_yes_bid == Level(400_000, 11_000_000)


def test_negative_level_is_corruption_and_resyncs() -> None:
    p = ready()
    events = p.receive(delta(1, 3, A, "0.40", "-11"))
    assert p.stats.corrupt == 1
    assert isinstance(events[0], BooksStale)
    assert events[0].reason == "corrupt"
    assert p.books[A].corrupt
    assert p.books[B].stale
    assert cmds(p)[0]["params"]["action"] == "get_snapshot"


def test_level_to_zero_is_removed_and_empty_side_has_no_ask() -> None:
    p = ready()
    p.receive(delta(1, 3, A, "0.50", "-5", side="no"))
    assert p.books[A].yes_ask is None
    assert p.books[A].yes_view().asks == ()
    assert not p.books[A].stale


def test_resync_is_rate_limited_and_retried_by_poll() -> None:
    clock = Clock()
    p = ready(clock)
    p.receive(delta(1, 4, A, "0.40", "1"))  # gap
    assert len(cmds(p)) == 1
    p.receive(snap(1, 5, A))
    p.receive(snap(1, 6, B))
    clock.now += 0.1
    p.receive(delta(1, 8, A, "0.40", "1"))  # another gap, too soon
    assert cmds(p) == []
    p.poll()
    assert cmds(p) == []
    clock.now += 1.0
    p.poll()
    assert [c["params"]["action"] for c in cmds(p)] == ["get_snapshot"]
    # The snapshots never come: poll asks again after resync_timeout.
    clock.now += 11
    p.poll()
    assert [c["params"]["market_tickers"] for c in cmds(p)] == [[A, B]]


def test_unsubscribe_then_subscribe_drops_late_frames_of_old_sid() -> None:
    p = ready()
    p.unsubscribe([1])
    p.subscribe(["orderbook_delta"], [A, B])
    sent = cmds(p)
    assert [c["cmd"] for c in sent] == ["unsubscribe", "subscribe"]
    assert p.receive(delta(1, 3, A, "0.10", "1")) == []  # late frame from the old sid
    assert p.stats.superseded == 1
    p.receive(subscribed(2, cid=sent[1]["id"]))
    p.receive(snap(2, 1, A))
    assert p.book_sid(A) == 2
    assert p.books[A].best_yes_bid == Level(400_000, 10_000_000)
    assert p.stats.gaps == 0


@pytest.mark.parametrize("code", [10, 25])
def test_terminal_error_resubscribes_never_a_bare_subscribe(code: int) -> None:
    p = ready()
    events = p.receive(f({"type": "error", "msg": {"code": code, "msg": "boom"}}))
    assert events[0] == VenueErrorReply(None, code, "boom", True)
    assert isinstance(events[1], BooksStale)
    assert p.books[A].stale
    assert p.books[B].stale
    unsub, sub = cmds(p)
    assert unsub["cmd"] == "unsubscribe"
    assert unsub["params"] == {"sids": [1]}
    assert sub["cmd"] == "subscribe"
    assert sub["params"]["market_tickers"] == [A, B]
    # The server says sid 1 is unknown (already dead): ignored.
    p.receive(
        f(
            {
                "type": "error",
                "id": unsub["id"],
                "msg": {"code": 7, "msg": "Unknown subscription ID"},
            }
        )
    )
    assert cmds(p) == []
    p.receive(delta(1, 3, A, "0.40", "1"))
    assert p.stats.superseded == 1
    p.receive(subscribed(5, cid=sub["id"]))
    p.receive(snap(5, 1, A))
    p.receive(snap(5, 2, B))
    assert not p.books[A].stale
    assert not p.books[B].stale
    assert p.stats.terminal_errors == 1


def test_non_terminal_errors_are_counted() -> None:
    p = ready()
    [ev] = p.receive(
        f({"type": "error", "id": 1, "msg": {"code": 14, "msg": "Market Ticker required"}})
    )
    assert isinstance(ev, VenueErrorReply)
    assert not ev.terminal
    assert p.stats.errors == 1
    assert not p.books[A].stale


def test_unknown_types_ignored_garbage_rejected_never_crash() -> None:
    p = ready()
    for frame in ['{"type": "brand_new", "sid": 1}', '{"type": "multivariate_lookup"}']:
        assert p.receive(frame) == []
    assert p.stats.unknown_types == 2
    for frame in ["", "garbage", "[1,2]", "null", '{"no_type": 1}', b"\xff\xfe", '{"type": 5}']:
        assert p.receive(frame) == []
    assert p.stats.rejected == 7
    assert not p.books[A].stale  # nothing on a book sid was lost


@pytest.mark.parametrize(
    "bad",
    [
        {"price_dollars": "1.5000"},
        {"price_dollars": "0.0000"},
        {"price_dollars": "NaN"},
        {"delta_fp": "1e3"},
        {"delta_fp": None, "price_dollars": "0.4"},
        {"side": "maybe"},
        {"price_dollars": True},
    ],
)
def test_malformed_book_frame_is_rejected_and_treated_as_a_gap(bad: dict[str, Any]) -> None:
    p = ready()
    frame = json.loads(delta(1, 3, A, "0.40", "1"))
    frame["msg"].update(bad)
    events = p.receive(json.dumps(frame))
    assert p.stats.rejected == 1
    assert any(isinstance(e, BooksStale) for e in events)
    assert p.books[A].stale
    assert p.books[B].stale
    assert p.books[A].best_yes_bid == Level(400_000, 10_000_000)  # not applied
    # The seq was consumed: the next frame is not another gap.
    p.receive(delta(1, 4, A, "0.40", "1"))
    assert p.stats.gaps == 0


def test_snapshot_with_bad_levels_rejected() -> None:
    p = ready()
    p.receive(snap(1, 3, A, yes=[("0.40", "-1")]))
    p.receive(snap(1, 4, B, yes=[("0.40", "1"), ("0.40", "2")]))
    assert p.stats.rejected == 2
    assert p.books[A].stale


def test_ticker_cross_check_mismatch_marks_stale_until_snapshot() -> None:
    p = KalshiProtocol([A], clock=Clock())
    p.connection_made()
    p.data_to_send()
    p.receive(subscribed(1))
    p.receive(subscribed(2, "ticker"))
    p.receive(snap(1, 1, A))
    agree = {
        "type": "ticker",
        "sid": 2,
        "msg": {"market_ticker": A, "yes_bid_dollars": "0.40", "yes_ask_dollars": "0.5000"},
    }
    p.receive(f(agree))
    partial = {"type": "ticker", "sid": 2, "msg": {"market_ticker": A}}  # fields omitted
    p.receive(f(partial))
    assert p.stats.ticker_mismatches == 0
    assert not p.books[A].stale
    agree["msg"]["yes_ask_dollars"] = "0.52"
    events = p.receive(f(agree))
    assert any(isinstance(e, BooksStale) and e.reason == "ticker mismatch" for e in events)
    assert p.stats.ticker_mismatches == 1
    assert p.books[A].stale
    assert not p.books[A].awaiting_snapshot
    assert cmds(p)[0]["params"] == {"sids": [1], "market_tickers": [A], "action": "get_snapshot"}
    p.receive(delta(1, 2, A, "0.40", "1"))  # still applied while suspect
    assert p.books[A].best_yes_bid == Level(400_000, 11_000_000)
    p.receive(ok(1, 3, 2, [A]))
    p.receive(snap(1, 4, A, no=[("0.48", "5")]))
    assert not p.books[A].stale


def test_remove_tickers_deletes_markets_and_books() -> None:
    p = ready()
    p.remove_tickers([B])
    assert cmds(p) == [
        {
            "id": 2,
            "cmd": "update_subscription",
            "params": {"sids": [1], "market_tickers": [B], "action": "delete_markets"},
        }
    ]
    assert B not in p.books
    p.receive(delta(1, 3, B, "0.40", "1"))
    assert p.stats.unknown_ticker == 1
    p.remove_tickers([A])
    assert cmds(p)[0]["cmd"] == "unsubscribe"


def test_reconnect_resets_ids_and_sids() -> None:
    p = ready()
    p.connection_lost()
    assert all(b.stale for b in p.books.values())
    p.connection_made()
    [sub] = cmds(p)
    assert sub["id"] == 1
    p.receive(subscribed(1))
    p.receive(snap(1, 1, A))
    assert not p.books[A].stale
    assert p.books[B].stale
    assert p.stats.superseded == 0
