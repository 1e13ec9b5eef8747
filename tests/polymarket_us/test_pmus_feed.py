"""The Polymarket US feed against the fake venue: signed upgrades (401 on the wrong path),
exact books, sockets of at most 100 markets, reconnects and the maintenance window."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import trio
from cryptography.hazmat.primitives.asymmetric import ed25519

from arbees.book import Level
from arbees.errors import AuthError
from arbees.polymarket_us.auth import PolymarketUsSigner, parse_private_key
from arbees.polymarket_us.feed import PolymarketUsFeed, PolymarketUsUpdate
from arbees.polymarket_us.maintenance import MaintenanceWindow
from arbees.testing.fake_polymarket_us import FakePolymarketUs
from arbees.wsdriver import Backoff, WsAuthError, WsConfig, WsDriver

SEED = bytes(range(32))
KEY_ID = "0f0e0d0c-0000-4000-8000-000000000001"
FAST = Backoff(base=0.01, cap=0.05)


def _signer() -> PolymarketUsSigner:
    return PolymarketUsSigner(KEY_ID, parse_private_key(base64.b64encode(SEED), "test"))


def _public() -> ed25519.Ed25519PublicKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(SEED).public_key()


def _drain(feed: PolymarketUsFeed) -> None:
    while True:
        try:
            feed.updates.receive_nowait()
        except trio.WouldBlock:
            return


async def _next(
    feed: PolymarketUsFeed, want: Callable[[PolymarketUsUpdate], bool]
) -> PolymarketUsUpdate:
    with trio.fail_after(5):
        async for update in feed.updates:
            if want(update):
                return update
    raise AssertionError("updates ended")


async def test_signed_feed_gets_exact_books_and_changes() -> None:
    fake = FakePolymarketUs(public_key=_public(), key_id=KEY_ID, heartbeat_interval=0.05)
    fake.set_book("nba-a-b", bids=[("0.545", "12.34")], offers=[("0.5475", "0.01")])
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        feed = PolymarketUsFeed(["nba-a-b"], signer=_signer(), url=urls.ws_url, backoff=FAST)
        await nursery.start(feed.run)
        view = feed.current_view("nba-a-b")
        assert view is not None
        assert not view.stale
        assert view.bids == (Level(545_000, 12_340_000),)
        assert view.asks == (Level(547_500, 10_000),)
        fake.set_book("nba-a-b", bids=[("0.55", "1")], offers=[])
        update = await _next(feed, lambda u: u.view.bids == (Level(550_000, 1_000_000),))
        assert update.kind == "snapshot"
        assert update.view.asks == ()
        assert update.venue_ts_ms is not None
        assert feed.counters()["rejected"] == 0
        assert feed.last_message_ns() > 0
        nursery.cancel_scope.cancel()


async def test_a_signature_over_root_is_refused_with_401() -> None:
    fake = FakePolymarketUs(public_key=_public(), key_id=KEY_ID)
    signer = _signer()
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)

        def wrong_path() -> list[tuple[str, str]]:
            return list(signer.headers("GET", "/").items())

        driver = WsDriver(
            WsConfig(urls.ws_url, headers=wrong_path, backoff=FAST), on_message=lambda m, t: None
        )
        with pytest.raises(WsAuthError) as info:
            await driver.run()
        assert info.value.status_code == 401
        other = PolymarketUsSigner(KEY_ID, ed25519.Ed25519PrivateKey.generate())
        feed = PolymarketUsFeed(["m-1"], signer=other, url=urls.ws_url, backoff=FAST)
        with pytest.raises(AuthError, match="/v1/ws/markets"):
            await feed.run()
        assert fake.rejected_upgrades == 2
        nursery.cancel_scope.cancel()


async def test_101_markets_use_two_sockets_of_at_most_100() -> None:
    fake = FakePolymarketUs()
    slugs = [f"m-{i}" for i in range(101)]
    for slug in slugs:
        fake.set_book(slug, bids=[("0.40", "1")], offers=[("0.45", "1")])
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        feed = PolymarketUsFeed(slugs, signer=None, url=urls.ws_url, backoff=FAST)
        await nursery.start(feed.run)
        assert sorted(fake.subscription_sizes) == [1, 100]
        assert len(fake.connections) == 2
        assert all(not v.stale for s in slugs if (v := feed.current_view(s)) is not None)
        # One more market joins the socket with room, no third socket.
        fake.set_book("m-101", bids=[("0.30", "2")])
        await feed.add(["m-101"])
        await _next(feed, lambda u: u.slug == "m-101" and not u.view.stale)
        assert sorted(fake.subscription_sizes) == [2, 100]
        _drain(feed)
        await feed.remove(["m-0"])
        assert feed.current_view("m-0") is None
        # The new subscription's snapshots prove the venue has it.
        await _next(feed, lambda u: u.slug == "m-1")
        assert sorted(fake.subscription_sizes) == [2, 99]
        nursery.cancel_scope.cancel()


async def test_reconnect_marks_stale_until_the_snapshot() -> None:
    fake = FakePolymarketUs()
    fake.set_book("m-1", bids=[("0.40", "1")], offers=[("0.45", "1")])
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        feed = PolymarketUsFeed(["m-1"], signer=None, url=urls.ws_url, backoff=FAST)
        await nursery.start(feed.run)
        _drain(feed)
        fake.disconnect_all()
        stale = await _next(feed, lambda u: u.view.stale)
        assert stale.kind == "stale"
        fresh = await _next(feed, lambda u: not u.view.stale)
        assert fresh.view.bids == (Level(400_000, 1_000_000),)
        assert feed.counters()["reconnects"] >= 1
        fake.send_raw("garbage")
        fake.send_raw('{"market_data": {"market_slug": "m-1", "bids": [{"px": 2, "qty": 1}]}}')
        rejected = await _next(feed, lambda u: u.kind == "rejected")
        assert rejected.view.stale
        assert feed.counters()["rejected"] == 2
        nursery.cancel_scope.cancel()


async def test_maintenance_window_closes_sockets_quietly_and_reconnects_after(
    caplog: pytest.LogCaptureFixture,
) -> None:
    window = MaintenanceWindow()  # Thursdays 02:00-06:00 US-Eastern
    start = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)  # Thursday 02:00 EST
    t0 = trio.current_time()
    base = start - timedelta(seconds=0.3)

    def now() -> datetime:  # a fake wall clock: 0.3 s before the window, then moving
        return base + timedelta(seconds=trio.current_time() - t0)

    fake = FakePolymarketUs()
    fake.set_book("m-1", bids=[("0.40", "1")], offers=[("0.45", "1")])
    caplog.set_level(logging.INFO)
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        feed = PolymarketUsFeed(
            ["m-1"], signer=None, url=urls.ws_url, backoff=FAST, maintenance=window, now=now
        )
        await nursery.start(feed.run)
        assert fake.total_connections == 1
        _drain(feed)
        fake.down = True  # the venue refuses every upgrade during its window
        stale = await _next(feed, lambda u: u.view.stale)
        assert "maintenance" in feed.protocol.books["m-1"].stale_reason
        assert stale.kind == "stale"
        assert feed.stats.maintenance_windows == 1
        await trio.sleep(0.3)  # inside the window: no reconnect attempts at all
        assert fake.total_connections == 1
        assert not fake.connections
        lines = [r for r in caplog.records if "maintenance" in r.getMessage()]
        assert len(lines) == 1
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
        nursery.cancel_scope.cancel()


async def test_a_feed_started_inside_the_window_waits_for_its_end() -> None:
    window = MaintenanceWindow()
    end = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)  # Thursday 06:00 EST
    t0 = trio.current_time()

    def now() -> datetime:
        return end - timedelta(seconds=0.2) + timedelta(seconds=trio.current_time() - t0)

    fake = FakePolymarketUs()
    fake.set_book("m-1", bids=[("0.40", "1")])
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        feed = PolymarketUsFeed(
            ["m-1"], signer=None, url=urls.ws_url, backoff=FAST, maintenance=window, now=now
        )
        await nursery.start(feed.run)
        view = feed.current_view("m-1")
        assert view is not None
        assert view.stale
        assert fake.total_connections == 0
        fresh = await _next(feed, lambda u: not u.view.stale)
        assert fresh.view.bids == (Level(400_000, 1_000_000),)
        assert fake.total_connections == 1
        nursery.cancel_scope.cancel()
