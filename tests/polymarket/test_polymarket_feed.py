"""The Polymarket feed against the fake venue on loopback (real sockets, short intervals)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import attrs
import pytest
import trio

from arbees.errors import ConfigError, DecodeError
from arbees.money import parse_fixed
from arbees.polymarket.feed import BookUpdate, FeedConfig, PolymarketFeed, open_polymarket_feed
from arbees.testing.fake_polymarket import FakePolymarket, FakeUrls
from arbees.wsdriver import Backoff

FAST = Backoff(base=0.01, cap=0.05, healthy_after=5.0)


def tok(i: int) -> str:
    return str(10**70 + i)


def P(s: str) -> int:
    return parse_fixed(s)


def _config(urls: FakeUrls, **kw: object) -> FeedConfig:
    base: dict[str, object] = {
        "url": urls.ws_url,
        "ping_interval": 0.2,
        "silence_timeout": 1.5,
        "backoff": FAST,
        "resync_interval": 0.3,
        "snapshot_timeout": 1.0,
    }
    base.update(kw)
    return FeedConfig(**base)  # type: ignore[arg-type]


@attrs.define
class Collector:
    updates: list[BookUpdate] = attrs.Factory(list)
    latest: dict[str, BookUpdate] = attrs.Factory(dict)

    async def run(self, feed: PolymarketFeed) -> None:
        async for update in feed:
            self.updates.append(update)
            self.latest[update.view.instrument] = update

    def fresh(self, *tokens: str) -> bool:
        return all(t in self.latest and not self.latest[t].view.stale for t in tokens)

    def stale(self, *tokens: str) -> bool:
        return all(t in self.latest and self.latest[t].view.stale for t in tokens)


async def wait_for(pred: Callable[[], bool], limit: float = 8.0) -> None:
    with trio.fail_after(limit):
        while True:
            if pred():
                return
            await trio.sleep(0.01)


@asynccontextmanager
async def running(
    tokens: list[str], fake: FakePolymarket, **kw: object
) -> AsyncIterator[tuple[PolymarketFeed, Collector, FakeUrls]]:
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        collector = Collector()
        async with open_polymarket_feed(tokens, _config(urls, **kw)) as feed:
            nursery.start_soon(collector.run, feed)
            yield feed, collector, urls
        nursery.cancel_scope.cancel()


async def test_initial_dump_then_price_changes() -> None:
    fake = FakePolymarket()
    a, b = tok(1), tok(2)
    fake.set_book(a, bids=[("0.40", "10"), ("0.45", "5")], asks=[("0.55", "7"), ("0.6", "1")])
    fake.set_book(b, bids=[("0.40", "7")], asks=[("0.55", "10")])
    async with running([a, b], fake) as (feed, col, _):
        await wait_for(lambda: col.fresh(a, b))
        view = col.latest[a].view
        assert view.best_bid == (P("0.45"), P("5"))
        assert view.best_ask == (P("0.55"), P("7"))
        assert col.latest[a].kind == "book"
        assert col.updates[0].kind == "added"
        assert col.updates[0].view.stale  # stale until its snapshot
        fake.set_level(a, "BUY", "0.47", "3")
        await wait_for(lambda: col.latest[a].view.best_bid == (P("0.47"), P("3")))
        assert col.latest[a].kind == "price_change"
        assert not col.latest[a].view.stale
        assert col.latest[a].received_ns <= col.latest[a].emitted_ns
        fake.set_level(a, "BUY", "0.47", "0")
        await wait_for(lambda: col.latest[a].view.best_bid == (P("0.45"), P("5")))
        assert feed.protocol.stats.mismatches == 0
        assert feed.drivers[0].stats.heartbeats >= 0


async def test_dynamic_subscribe_uses_a_socket_with_room() -> None:
    fake = FakePolymarket()
    a, c = tok(1), tok(3)
    fake.set_book(a, bids=[("0.4", "1")], asks=[("0.6", "1")])
    fake.set_book(c, bids=[("0.3", "2")], asks=[("0.7", "2")])
    async with running([a], fake) as (feed, col, _):
        await wait_for(lambda: col.fresh(a))
        await feed.add([c])
        await wait_for(lambda: col.fresh(c))
        assert col.latest[c].view.best_bid == (P("0.3"), P("2"))
        assert fake.total_connections == 1
        assert feed.shards == [[a, c]]
        await feed.remove([c])
        await wait_for(lambda: fake.connections[0].assets == [a])
        assert feed.tokens == [a]


async def test_600_tokens_are_sharded_under_the_limit() -> None:
    fake = FakePolymarket()
    tokens = [tok(i) for i in range(600)]
    for t in tokens:
        fake.set_book(t, bids=[("0.4", "1")], asks=[("0.6", "1")], broadcast=False)
    async with running(tokens, fake, tokens_per_socket=250) as (feed, col, _):
        await wait_for(lambda: col.fresh(*tokens), limit=20)
        assert [len(s) for s in feed.shards] == [250, 250, 100]
        assert len(fake.connections) == 3
        assert all(len(c.assets) <= 250 for c in fake.connections)
        assert sorted(t for c in fake.connections for t in c.assets) == sorted(tokens)


async def test_fake_enforces_the_500_asset_limit() -> None:
    fake = FakePolymarket()
    tokens = [tok(i) for i in range(501)]
    for t in tokens:
        fake.set_book(t, bids=[("0.4", "1")], asks=[], broadcast=False)
    async with running(tokens, fake, tokens_per_socket=500) as (feed, col, _):
        # 500 on the first socket (all fresh), the 501st on a second one.
        await wait_for(lambda: col.fresh(*tokens), limit=20)
        assert len(feed.shards) == 2
        # One socket asking for 501 assets: only 500 snapshots come back.
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        from trio_websocket import open_websocket_url

        async with open_websocket_url(urls.ws_url) as ws:
            await ws.send_message(json.dumps({"assets_ids": tokens, "type": "market"}))
            dump = json.loads(await ws.get_message())
            assert len(dump) == 500
        nursery.cancel_scope.cancel()


async def test_server_disconnect_marks_stale_then_resubscribes() -> None:
    fake = FakePolymarket()
    a, b = tok(1), tok(2)
    fake.set_book(a, bids=[("0.4", "1")], asks=[("0.6", "1")])
    fake.set_book(b, bids=[("0.3", "1")], asks=[("0.7", "1")])
    async with running([a, b], fake) as (feed, col, _):
        await wait_for(lambda: col.fresh(a, b))
        n = len(col.updates)
        fake.set_book(a, bids=[("0.41", "2")], asks=[("0.6", "1")], broadcast=False)
        fake.disconnect_all()
        await wait_for(lambda: any(u.kind == "reconnect" and u.view.stale for u in col.updates[n:]))
        await wait_for(
            lambda: col.fresh(a, b) and col.latest[a].view.best_bid == (P("0.41"), P("2"))
        )
        assert feed.drivers[0].stats.reconnects >= 1
        assert fake.total_connections >= 2
        assert len(fake.connections[0].assets) == 2  # everything resubscribed


async def test_silent_stall_fires_the_watchdog_and_recovers() -> None:
    fake = FakePolymarket()
    a = tok(1)
    fake.set_book(a, bids=[("0.4", "1")], asks=[("0.6", "1")])
    async with running([a], fake, silence_timeout=0.5) as (feed, col, _):
        await wait_for(lambda: col.fresh(a))
        fake.stalled = True  # PONGs keep coming, data does not
        await wait_for(lambda: col.stale(a))
        assert feed.drivers[0].stats.watchdog_fires >= 1
        assert "silence" in feed.drivers[0].stats.last_reason
        fake.stalled = False
        await wait_for(lambda: col.fresh(a))
        assert feed.drivers[0].stats.reconnects >= 1


async def test_garbage_from_the_server_is_survived() -> None:
    fake = FakePolymarket()
    a = tok(1)
    fake.set_book(a, bids=[("0.4", "1")], asks=[("0.6", "1")])
    async with running([a], fake) as (feed, col, _):
        await wait_for(lambda: col.fresh(a))
        fake.send_raw('{"event_type": "price_change", "price_chan')
        fake.send_raw("NO NEW ASSETS")
        fake.set_level(a, "SELL", "0.58", "4")
        await wait_for(lambda: col.latest[a].view.best_ask == (P("0.58"), P("4")))
        assert feed.protocol.stats.invalid_frames == 1
        assert feed.protocol.stats.text_frames >= 1
        assert not col.latest[a].view.stale


async def test_mismatch_forces_a_resync_for_a_fresh_snapshot() -> None:
    fake = FakePolymarket()
    a = tok(1)
    fake.set_book(a, bids=[("0.4", "1")], asks=[("0.6", "1")])
    async with running([a], fake) as (feed, col, _):
        await wait_for(lambda: col.fresh(a))
        bogus = {
            "market": "0x1",
            "price_changes": [
                {
                    "asset_id": a,
                    "price": "0.3",
                    "size": "5",
                    "side": "BUY",
                    "best_bid": "0.5",
                    "best_ask": "0.6",
                }
            ],
            "timestamp": "1",
            "event_type": "price_change",
        }
        fake.send_raw(json.dumps(bogus))
        await wait_for(lambda: feed.stats.resyncs == 1)
        await wait_for(lambda: col.fresh(a) and feed.drivers[0].stats.reconnects >= 1)
        assert feed.protocol.stats.mismatches == 1
        assert col.latest[a].view.best_bid == (P("0.4"), P("1"))  # the venue's truth again


async def test_slow_consumer_gets_coalesced_newest_views() -> None:
    fake = FakePolymarket()
    a = tok(1)
    fake.set_book(a, bids=[("0.4", "1")], asks=[("0.9", "1")])
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        async with open_polymarket_feed([a], _config(urls, channel_size=1)) as feed:
            with trio.fail_after(5):
                first = await feed.updates.receive()
            assert first.kind == "added"
            for i in range(1, 60):
                fake.set_level(a, "BUY", f"0.{40 + (i % 9)}", str(i))
            await wait_for(lambda: feed.protocol.stats.price_changes == 59)
            last = None
            while True:
                with trio.move_on_after(0.3):
                    last = await feed.updates.receive()
                    continue
                break
            assert last is not None
            assert last.view == feed.view(a)  # the newest state won
            assert feed.counters()["coalesced"] > 0
        nursery.cancel_scope.cancel()


def test_config_and_token_validation() -> None:
    with pytest.raises(ConfigError):
        FeedConfig(tokens_per_socket=501)
    with pytest.raises(DecodeError):
        PolymarketFeed(["0xnot-a-token"])
    assert "secret" not in repr(FeedConfig(proxy="http://u:secret@h:1"))
