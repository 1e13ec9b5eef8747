"""Polymarket US markets socket: both book shapes, exact sub-cent prices and partial sizes,
counted rejections, and the subscription state (100 markets per subscription)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arbees.book import Level
from arbees.errors import ConfigError, DecodeError
from arbees.polymarket_us.protocol import (
    BookChanged,
    PolymarketUsProtocol,
    Subscriptions,
    VenueErrorFrame,
)

DATA = Path(__file__).parent.parent / "data" / "polymarket_us"
SLUG = "nba-lal-bos-2026-01-15"


def _frame(slug: str = SLUG, bids: object = (), offers: object = (), **extra: object) -> str:
    def side(levels: object) -> list[dict[str, object]]:
        return [
            {"px": {"value": p, "currency": "USD"}, "qty": q}
            for p, q in levels  # type: ignore[attr-defined]
        ]

    md: dict[str, object] = {"market_slug": slug, "bids": side(bids), "offers": side(offers)}
    md.update(extra)
    return json.dumps({"request_id": "md-0-1", "subscription_type": 1, "market_data": md})


def _proto(shape: str = "full") -> PolymarketUsProtocol:
    proto = PolymarketUsProtocol(shape=shape)  # type: ignore[arg-type]
    proto.track(SLUG)
    return proto


def test_documented_example_gives_an_exact_best_first_book() -> None:
    proto = PolymarketUsProtocol()
    proto.track("market-slug-1")
    events = proto.feed((DATA / "ws_market_data_docs.json").read_bytes(), recv_ns=7)
    assert events == [BookChanged("market-slug-1", "snapshot", 1_705_314_600_000, 7)]
    view = proto.books["market-slug-1"].view()
    assert view.venue == "polymarket-us"
    assert view.bids == (Level(540_000, 1000_000_000), Level(530_000, 2500_000_000))
    assert view.asks == (Level(560_000, 800_000_000), Level(570_000, 1500_000_000))
    assert not view.stale
    assert proto.stats.unsorted == 0


def test_full_shape_replaces_every_level_each_message() -> None:
    proto = _proto()
    proto.feed(_frame(bids=[("0.40", "10"), ("0.39", "5")], offers=[("0.45", "3")]))
    proto.feed(_frame(bids=[("0.41", "2")], offers=[]))
    book = proto.books[SLUG]
    assert book.bids == {410_000: 2_000_000}
    assert book.asks == {}
    assert proto.stats.snapshots == 2


def test_worst_first_levels_build_the_same_book_and_are_counted() -> None:
    best_first, worst_first = _proto(), _proto()
    levels_b, levels_a = [("0.40", "10"), ("0.39", "5")], [("0.45", "3"), ("0.46", "1")]
    best_first.feed(_frame(bids=levels_b, offers=levels_a))
    worst_first.feed(_frame(bids=levels_b[::-1], offers=levels_a[::-1]))
    assert best_first.books[SLUG].view() == worst_first.books[SLUG].view()
    assert (best_first.stats.unsorted, worst_first.stats.unsorted) == (0, 1)


def test_sub_cent_ticks_and_partial_contracts_are_exact() -> None:
    proto = _proto()
    proto.feed(_frame(bids=[("0.545", "0.01"), ("0.0025", "12.34")], offers=[(0.5475, 0.5)]))
    view = proto.books[SLUG].view()
    assert view.bids == (Level(545_000, 10_000), Level(2_500, 12_340_000))
    assert view.asks == (Level(547_500, 500_000),)


def test_delta_shape_snapshot_then_new_totals_per_level() -> None:
    proto = _proto("delta")
    proto.feed(_frame(bids=[("0.40", "10"), ("0.39", "5")], offers=[("0.45", "3")]))
    events = proto.feed(_frame(bids=[("0.40", "0"), ("0.38", "1.5")], offers=[("0.45", "4")]))
    assert [e.kind for e in events if isinstance(e, BookChanged)] == ["delta"]
    book = proto.books[SLUG]
    assert book.bids == {390_000: 5_000_000, 380_000: 1_500_000}
    assert book.asks == {450_000: 4_000_000}
    assert book.best_bid == 390_000
    assert (proto.stats.snapshots, proto.stats.deltas) == (1, 1)


def test_after_reconnect_a_book_is_stale_until_its_snapshot() -> None:
    for shape in ("full", "delta"):
        proto = _proto(shape)
        proto.feed(_frame(bids=[("0.40", "10")], offers=[("0.45", "3")]))
        assert proto.mark_stale([SLUG], "reconnect") == [BookChanged(SLUG, "reconnect", None, 0)]
        assert proto.books[SLUG].view().stale
        proto.feed(_frame(bids=[("0.30", "1")], offers=[]))
        book = proto.books[SLUG]
        assert not book.stale, shape
        assert book.bids == {300_000: 1_000_000}, shape  # a snapshot, not a delta


@pytest.mark.parametrize(
    "bad",
    [
        _frame(bids=[("1.2", "1")]),
        _frame(bids=[("0", "1")]),
        _frame(bids=[("abc", "1")]),
        _frame(bids=[("0.1234567", "1")]),
        _frame(offers=[("0.5", "-1")]),
        _frame(offers=[("0.5", "1000000000000.000001")]),  # over arbees.book.MAX_BOOK_SIZE
        _frame(bids=[("0.40", "999999999999999")]),  # the most parse_fixed spells
        _frame(offers=[("0.5", "1"), ("0.5", "2")]),
        _frame(bids=[("0.40", "1")] * 1001),
        json.dumps({"market_data": {"market_slug": SLUG, "bids": 5}}),
        json.dumps({"market_data": {"market_slug": SLUG, "bids": [{"px": 0.5, "qty": "1"}]}}),
    ],
)
def test_a_bad_update_is_rejected_whole_and_the_book_goes_stale(bad: str) -> None:
    for shape in ("full", "delta"):
        proto = _proto(shape)
        proto.feed(_frame(bids=[("0.40", "10")], offers=[("0.45", "3")]))
        events = proto.feed(bad)
        book = proto.books[SLUG]
        assert proto.stats.rejected == 1
        assert [e.kind for e in events if isinstance(e, BookChanged)] == ["rejected"]
        assert book.stale
        assert book.bids == {400_000: 10_000_000}  # nothing of it applied
        assert proto.take_resyncs() == ({SLUG} if shape == "delta" else set())
    # In the full shape the next message repairs the book.
    proto = _proto()
    proto.feed(bad)
    proto.feed(_frame(bids=[("0.41", "1")]))
    assert not proto.books[SLUG].stale


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"not json",
        b'{"market_data": {"market_slug": "x"',
        b"[" * 100_000,
        b'"\\ud800"',
        b"NaN",
        b" " * (1024 * 1024 + 1),
        b"\xff\xfe",
    ],
)
def test_garbage_is_counted_never_raised(garbage: bytes) -> None:
    proto = _proto()
    proto.feed(_frame(bids=[("0.40", "10")]))
    assert proto.feed(garbage) == []
    assert proto.stats.invalid_frames + proto.stats.rejected + proto.stats.other_frames == 1
    assert proto.books[SLUG].bids == {400_000: 10_000_000}


def test_crossed_book_goes_stale() -> None:
    proto = _proto("delta")
    proto.feed(_frame(bids=[("0.40", "10")], offers=[("0.45", "3")]))
    events = proto.feed(_frame(bids=[("0.46", "1")]))
    assert [e.kind for e in events if isinstance(e, BookChanged)] == ["crossed"]
    assert proto.books[SLUG].stale
    assert proto.stats.crossed == 1
    assert proto.take_resyncs() == {SLUG}


def test_untracked_market_error_and_heartbeat_frames() -> None:
    proto = _proto()
    assert proto.feed(_frame(slug="other-market", bids=[("0.4", "1")])) == []
    assert proto.stats.unknown_market == 1
    assert "other-market" not in proto.books
    err = json.dumps({"request_id": "md-0-1", "error": {"code": 3, "message": "bad slug"}})
    assert proto.feed(err) == [VenueErrorFrame("md-0-1", "3: bad slug")]
    assert proto.feed('{"heartbeat": {}}') == []
    assert (proto.stats.errors, proto.stats.other_frames) == (1, 1)
    forged = _frame(slug="../../etc", bids=[("0.4", "1")])
    proto.feed(forged)
    assert proto.stats.rejected == 1


def test_bad_configuration_and_slugs() -> None:
    with pytest.raises(ConfigError):
        PolymarketUsProtocol(shape="both")  # type: ignore[arg-type]
    with pytest.raises(DecodeError):
        PolymarketUsProtocol().track("has space")
    with pytest.raises(ConfigError):
        Subscriptions(per_socket=101)


# -- subscriptions ------------------------------------------------------------------------


def _subscribed(frame: str) -> dict[str, object]:
    body = json.loads(frame)["subscribe"]
    assert isinstance(body, dict)
    return body


def test_101_markets_are_two_subscriptions_on_two_sockets() -> None:
    subs = Subscriptions()
    slugs = [f"market-{i}" for i in range(101)]
    assert subs.add(slugs) == {0, 1}
    assert subs.socket_count == 2
    plans = [subs.connected(0), subs.connected(1)]
    bodies = [_subscribed(p.frames[0]) for p in plans]
    assert [len(b["market_slugs"]) for b in bodies] == [100, 1]  # type: ignore[arg-type]
    assert bodies[1]["market_slugs"] == ["market-100"]
    assert all(b["subscription_type"] == 1 and "debounce" not in b for b in bodies)
    assert bodies[0]["request_id"] != bodies[1]["request_id"]
    assert plans[0].snapshot == tuple(slugs[:100])
    assert subs.plan(0).frames == ()  # nothing changed since


def test_a_change_resubscribes_the_socket_and_debounce_is_sent() -> None:
    subs = Subscriptions(per_socket=2, debounce=True)
    subs.add(["a-1", "a-2", "a-3"])
    first = subs.connected(0)
    assert _subscribed(first.frames[0])["debounce"] is True
    assert subs.remove(["a-1"]) == {0}
    assert subs.add(["a-4"]) == {0}  # the hole is reused
    plan = subs.plan(0)
    assert json.loads(plan.frames[0]) == {"unsubscribe": {"request_id": first.request_id}}
    assert _subscribed(plan.frames[1])["market_slugs"] == ["a-2", "a-4"]
    assert subs.socket_of("a-3") == 1
    subs.remove(["a-2", "a-4"])
    emptied = subs.plan(0)
    assert emptied.frames == (
        json.dumps({"unsubscribe": {"request_id": plan.request_id}}).replace(" ", ""),
    )
    assert emptied.request_id == ""


def test_reconnect_and_resync_subscribe_again() -> None:
    subs = Subscriptions()
    subs.add(["m-1"])
    first = subs.connected(0)
    again = subs.connected(0)  # a new connection has no subscription: no unsubscribe
    assert len(again.frames) == 1
    assert again.request_id != first.request_id
    assert subs.resync(["m-1", "unknown"]) == {0}
    plan = subs.plan(0)
    assert len(plan.frames) == 2
    assert plan.snapshot == ("m-1",)
    with pytest.raises(DecodeError):
        subs.add(["bad slug"])


@pytest.mark.parametrize("shape", ["full", "delta"])
def test_a_market_that_is_not_open_is_stale_until_it_reopens(shape: str) -> None:
    proto = _proto(shape)
    proto.feed(_frame(bids=[("0.40", "10")], offers=[("0.45", "3")], state=1))
    events = proto.feed(_frame(bids=[("0.40", "10")], state="MARKET_STATE_HALTED"))
    assert [e.kind for e in events if isinstance(e, BookChanged)] == ["not_open"]
    assert proto.books[SLUG].stale
    assert proto.stats.not_open == 1
    proto.feed(_frame(bids=[("0.41", "1")], state="MARKET_STATE_OPEN"))
    assert not proto.books[SLUG].stale
    assert proto.books[SLUG].best_bid == 410_000
