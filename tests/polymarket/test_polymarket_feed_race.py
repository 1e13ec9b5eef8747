"""Tokens added or removed while a Polymarket socket is still connecting.

The race: a shard's ``on_connect`` builds its subscribe frame, then awaits the send; a token
assigned to that shard during the await saw ``driver.connected`` still false (so
``add_tokens`` left it to the connection) yet was not in the frame, and it never got a
snapshot until some unrelated reconnect. The subscribe send is parked deterministically
(wrapping ``WsConnection.send_message``) so the test does not depend on timing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import attrs
import pytest
import trio

from arbees.polymarket.feed import BookUpdate, FeedConfig, PolymarketFeed
from arbees.testing.fake_polymarket import FakePolymarket
from arbees.wsdriver import Backoff, WsConnection

FAST = Backoff(base=0.01, cap=0.05, healthy_after=5.0)


def tok(i: int) -> str:
    return str(10**70 + i)


@attrs.define
class Latest:
    views: dict[str, BookUpdate] = attrs.Factory(dict)

    async def run(self, feed: PolymarketFeed) -> None:
        async for update in feed:
            self.views[update.view.instrument] = update

    def fresh(self, *tokens: str) -> bool:
        return all(t in self.views and not self.views[t].view.stale for t in tokens)


async def wait_for(pred: Callable[[], bool], limit: float = 5.0) -> None:
    """Poll over real sockets (no event exists for "these books look fresh")."""
    with trio.fail_after(limit):
        while not pred():  # noqa: ASYNC110
            await trio.sleep(0.01)


@attrs.define
class ParkedSubscribe:
    """Holds the first initial subscribe frame a client sends until released."""

    parked: trio.Event = attrs.Factory(trio.Event)
    release: trio.Event = attrs.Factory(trio.Event)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = WsConnection.send_message

        async def send_message(ws: WsConnection, message: str | bytes) -> None:
            initial = isinstance(message, str) and '"type":"market"' in message
            if initial and not self.parked.is_set():
                self.parked.set()
                await self.release.wait()
            await original(ws, message)

        monkeypatch.setattr(WsConnection, "send_message", send_message)


def books(fake: FakePolymarket, *tokens: str) -> None:
    for i, t in enumerate(tokens):
        fake.set_book(t, bids=[(f"0.{30 + i}", "5")], asks=[(f"0.{60 + i}", "5")])


@asynccontextmanager
async def connecting_feed(
    fake: FakePolymarket, tokens: list[str], **kw: object
) -> AsyncIterator[tuple[PolymarketFeed, Latest]]:
    """A feed whose run has begun but is NOT awaited to readiness (shards still connecting)."""
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        settings: dict[str, object] = {
            "url": urls.ws_url,
            "backoff": FAST,
            "ping_interval": 0.2,
            # Long timers: the fix must not lean on a resync to cover the race.
            "snapshot_timeout": 30.0,
            "resync_interval": 30.0,
        }
        settings.update(kw)
        feed = PolymarketFeed(tokens, FeedConfig(**settings))  # type: ignore[arg-type]
        latest = Latest()
        nursery.start_soon(feed.run)
        nursery.start_soon(latest.run, feed)
        yield feed, latest
        nursery.cancel_scope.cancel()


async def test_tokens_added_while_the_subscribe_is_in_flight_get_books(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakePolymarket()
    a, b, c = tok(1), tok(2), tok(3)
    books(fake, a, b, c)
    gate = ParkedSubscribe()
    gate.install(monkeypatch)
    async with connecting_feed(fake, [a]) as (feed, latest):
        with trio.fail_after(5):
            await gate.parked.wait()  # on_connect is sending [a]
        assert not feed.drivers[0].connected
        await feed.add([b])
        await feed.add([c])  # one at a time, as assignments arrive
        assert feed.shards == [[a, b, c]]  # same socket: it has room
        gate.release.set()
        await wait_for(lambda: latest.fresh(a, b, c))
        assert sorted(fake.connections[0].assets) == sorted([a, b, c])
        assert fake.total_connections == 1  # no resync was needed
        assert feed.stats.resyncs == 0


async def test_tokens_removed_while_the_subscribe_is_in_flight_are_unsubscribed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakePolymarket()
    a, b = tok(1), tok(2)
    books(fake, a, b)
    gate = ParkedSubscribe()
    gate.install(monkeypatch)
    async with connecting_feed(fake, [a, b]) as (feed, latest):
        with trio.fail_after(5):
            await gate.parked.wait()
        await feed.remove([b])
        gate.release.set()
        await wait_for(lambda: latest.fresh(a))
        await wait_for(lambda: fake.connections[0].assets == [a])
        assert feed.tokens == [a]


async def test_tokens_added_during_a_slow_handshake_are_subscribed() -> None:
    fake = FakePolymarket()
    fake.accept_delay = 0.3
    tokens = [tok(i) for i in range(1, 6)]
    books(fake, *tokens)
    async with connecting_feed(fake, tokens[:1]) as (feed, latest):
        for t in tokens[1:]:
            await feed.add([t])
            await trio.sleep(0.02)
        assert not feed.drivers[0].connected  # all of them arrived mid-handshake
        await wait_for(lambda: latest.fresh(*tokens))
        assert fake.total_connections == 1


async def test_snapshot_timeout_covers_a_subscribe_the_venue_swallowed() -> None:
    """A dynamic subscribe whose snapshot never comes (the socket stopped delivering) is
    resynced after ``snapshot_timeout``: the new connection brings the book."""
    fake = FakePolymarket()
    a, b = tok(1), tok(2)
    books(fake, a, b)
    async with connecting_feed(fake, [a], snapshot_timeout=0.3, resync_interval=0.1) as (
        feed,
        latest,
    ):
        await wait_for(lambda: latest.fresh(a))
        fake.stall_connection(0)
        await feed.add([b])
        await wait_for(lambda: latest.fresh(a, b))
        assert feed.stats.resyncs == 1
        assert fake.total_connections == 2
