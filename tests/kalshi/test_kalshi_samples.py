"""Every captured Kalshi sample (current, legacy, REST) parses; books give the right asks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from arbees.book import Level
from arbees.kalshi.commands import CommandQueue
from arbees.kalshi.events import (
    BookChanged,
    CommandOk,
    MarketLifecycle,
    SubscriptionEnded,
    SubscriptionStarted,
    TickerUpdate,
    Trade,
    VenueErrorReply,
)
from arbees.kalshi.protocol import KalshiProtocol
from arbees.kalshi.rest import parse_orderbook

DATA = Path(__file__).resolve().parent.parent / "data" / "kalshi"
ALL = sorted(p.relative_to(DATA).as_posix() for p in DATA.rglob("*.json"))
TICKER = "FED-23DEC-T3.00"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def proto_on_sid(sid: int = 2, tickers: tuple[str, ...] = (TICKER,)) -> KalshiProtocol:
    p = KalshiProtocol(tickers, cross_check=False, clock=lambda: 0.0)
    p.connection_made()
    p.data_to_send()
    p.receive(
        json.dumps(
            {"type": "subscribed", "id": 1, "msg": {"channel": "orderbook_delta", "sid": sid}}
        )
    )
    return p


def test_every_sample_is_covered() -> None:
    assert len(ALL) >= 36
    assert any(n.startswith("legacy_2026-03/") for n in ALL)
    assert any(n.startswith("rest/") for n in ALL)


@pytest.mark.parametrize("name", [n for n in ALL if not n.startswith(("cmd_", "rest/"))])
def test_every_ws_sample_parses_without_rejection(name: str) -> None:
    p = KalshiProtocol(["FED-23DEC-T3.00", "HIGHNY-22DEC23-B53.5"], clock=lambda: 0.0)
    p.connection_made()
    sample = load(name)
    channel = {"ok": "orderbook_delta", "unsubscribed": "orderbook_delta"}.get(
        sample["type"], "ticker" if sample["type"] == "ticker" else "trade"
    )
    if "sid" in sample and not sample["type"].startswith("orderbook"):
        sub = {"type": "subscribed", "msg": {"channel": channel, "sid": sample["sid"]}}
        p.receive(json.dumps(sub))
    events = p.receive((DATA / name).read_text())
    assert p.stats.rejected == 0
    assert p.stats.unknown_types == 0
    kind = load(name)["type"]
    expected = {
        "subscribed": SubscriptionStarted,
        "ok": CommandOk,
        "error": VenueErrorReply,
        "ticker": TickerUpdate,
        "trade": Trade,
        "market_lifecycle_v2": MarketLifecycle,
        "event_lifecycle": MarketLifecycle,
        "event_fee_update": MarketLifecycle,
    }.get(kind)
    if expected is not None:
        assert any(isinstance(e, expected) for e in events), events
    elif kind == "unsubscribed":
        assert events == [SubscriptionEnded(2, 102)]
    else:  # book frames on a sid we never subscribed: dropped and counted, never applied
        assert kind in ("orderbook_snapshot", "orderbook_delta")
        assert p.stats.unknown_sid == 1


@pytest.mark.parametrize("name", [n for n in ALL if n.startswith("cmd_")])
def test_command_samples_match_our_builder_shape(name: str) -> None:
    sample = load(name)
    q = CommandQueue()
    q.next_id = sample["id"]
    params = sample.get("params", {})
    if sample["cmd"] == "subscribe":
        tickers = params.get("market_tickers") or [params["market_ticker"]]
        q.subscribe(params["channels"], tickers)
        ours = json.loads(q.drain()[0])
        assert ours["params"]["use_yes_price"] is False
        assert ours["params"]["channels"] == params["channels"]
        assert sorted(ours["params"]["market_tickers"]) == sorted(tickers)
    elif sample["cmd"] == "unsubscribe":
        q.unsubscribe(params["sids"])
        assert json.loads(q.drain()[0]) == sample
    elif sample["cmd"] == "update_subscription":
        sid = params["sids"][0] if "sids" in params else params["sid"]
        q.update_subscription(sid, params["market_tickers"], params["action"])
        ours = json.loads(q.drain()[0])
        assert ours["params"]["sids"] == [sid]
        assert ours["params"]["action"] == params["action"]
        assert ours["id"] == sample["id"]
    else:
        q.list_subscriptions()
        assert json.loads(q.drain()[0]) == sample


def _snapshot(name: str, seq: int = 1) -> str:
    frame = load(name)
    frame["seq"] = seq
    return json.dumps(frame)


@pytest.mark.parametrize(
    "name", ["orderbook_snapshot.json", "legacy_2026-03/orderbook_snapshot.json"]
)
def test_snapshot_and_delta_give_expected_asks(name: str) -> None:
    p = proto_on_sid()
    [ev] = p.receive(_snapshot(name), received_ns=7)
    assert ev == BookChanged(TICKER, 2, 1, "snapshot", None, 7)
    book = p.books[TICKER]
    view = book.yes_view()
    assert not view.stale
    assert view.bids == (Level(220_000, 333_000_000), Level(80_000, 300_000_000))
    # YES ask = 1 - best NO bid (0.56 -> 0.44, size 146); then 1 - 0.54.
    assert view.asks == (Level(440_000, 146_000_000), Level(460_000, 20_000_000))
    no_view = book.no_view()
    assert no_view.instrument == f"{TICKER}:NO"
    assert no_view.bids[0] == Level(560_000, 146_000_000)
    assert no_view.asks[0] == Level(780_000, 333_000_000)  # NO ask = 1 - 0.22

    delta = load(
        "orderbook_delta.json" if "legacy" not in name else "legacy_2026-03/orderbook_delta.json"
    )
    delta["seq"] = 2
    delta["msg"]["price_dollars"] = "0.2200"
    delta["msg"]["delta_fp"] = "-333.00"
    if "legacy" in name:
        delta["msg"]["price"] = 22
    [ev] = p.receive(json.dumps(delta))
    assert ev.kind == "delta"
    assert book.best_yes_bid == Level(80_000, 300_000_000)
    assert book.no_ask == Level(920_000, 300_000_000)


def test_legacy_integer_cent_fields_only() -> None:
    p = proto_on_sid()
    frame = {
        "type": "orderbook_snapshot",
        "sid": 2,
        "seq": 1,
        "msg": {"market_ticker": TICKER, "yes": [[8, 300], [22, 333]], "no": [[54, 20]]},
    }
    p.receive(json.dumps(frame))
    assert p.books[TICKER].best_yes_bid == Level(220_000, 333_000_000)
    delta = {
        "type": "orderbook_delta",
        "sid": 2,
        "seq": 2,
        "msg": {"market_ticker": TICKER, "price": 54, "delta": -5, "side": "no"},
    }
    p.receive(json.dumps(delta))
    assert p.books[TICKER].yes_ask == Level(460_000, 15_000_000)
    assert p.stats.rejected == 0


def test_empty_side_yields_no_ask_and_unknown_market_snapshot() -> None:
    p = proto_on_sid(tickers=(TICKER, "NOPE-1"))
    frame = load("orderbook_snapshot.json")
    del frame["msg"]["no_dollars_fp"]
    frame["seq"] = 1
    p.receive(json.dumps(frame))
    book = p.books[TICKER]
    assert book.yes_ask is None
    assert book.yes_view().asks == ()
    assert book.no_ask == Level(780_000, 333_000_000)
    p.receive(
        json.dumps(
            {
                "type": "orderbook_snapshot",
                "sid": 2,
                "seq": 2,
                "msg": {"market_ticker": "NOPE-1", "market_id": ""},
            }
        )
    )
    empty = p.books["NOPE-1"].yes_view()
    assert (empty.bids, empty.asks, empty.stale) == ((), (), False)


def test_fractional_sizes_and_json_numbers() -> None:
    p = proto_on_sid()
    frame = {
        "type": "orderbook_snapshot",
        "sid": 2,
        "seq": 1,
        "msg": {
            "market_ticker": TICKER,
            "yes_dollars_fp": [[0.45, 12.5]],
            "no_dollars_fp": [["0.5000", "0.01"]],
        },
    }
    p.receive(json.dumps(frame))
    book = p.books[TICKER]
    assert book.best_yes_bid == Level(450_000, 12_500_000)
    assert book.yes_ask == Level(500_000, 10_000)
    p.receive(
        json.dumps(
            {
                "type": "orderbook_delta",
                "sid": 2,
                "seq": 2,
                "msg": {
                    "market_ticker": TICKER,
                    "price_dollars": 0.45,
                    "delta_fp": -0.25,
                    "side": "yes",
                    "ts_ms": 5,
                },
            }
        )
    )
    assert book.best_yes_bid == Level(450_000, 12_250_000)
    assert book.venue_ts_ms == 5


def test_ticker_and_trade_fields() -> None:
    p = KalshiProtocol(clock=lambda: 0.0)
    p.connection_made()
    p.receive(json.dumps({"type": "subscribed", "id": 1, "msg": {"channel": "ticker", "sid": 11}}))
    [t] = p.receive((DATA / "ticker.json").read_text())
    assert isinstance(t, TickerUpdate)
    assert (t.yes_bid, t.yes_ask, t.yes_bid_size, t.yes_ask_size) == (
        450_000,
        530_000,
        300_000_000,
        150_000_000,
    )
    [legacy] = p.receive((DATA / "legacy_2026-03/ticker.json").read_text())
    assert isinstance(legacy, TickerUpdate)
    assert (legacy.yes_bid, legacy.yes_ask, legacy.yes_bid_size) == (450_000, 530_000, None)
    trade = p.receive((DATA / "trade.json").read_text())
    assert trade == [
        Trade("HIGHNY-22DEC23-B53.5", 360_000, 640_000, 136_000_000, "no", "ask", 1669149841000, 0)
    ]


def test_rest_orderbook_samples() -> None:
    current = parse_orderbook(load("rest/get_market_orderbook_docs_current.json"))
    legacy = parse_orderbook(load("rest/get_market_orderbook_docs_LEGACY_cents.json"))
    assert current == legacy
    assert current.yes_bids[0] == Level(420_000, 13_000_000)
    assert current.no_bids[0] == Level(560_000, 17_000_000)
    assert current.yes_ask == Level(440_000, 17_000_000)
    assert current.no_ask == Level(580_000, 13_000_000)
    assert load("rest/error_429_rate_limited.json") == {"error": "too many requests"}
