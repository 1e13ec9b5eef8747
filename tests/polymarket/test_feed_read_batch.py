"""One socket read, one batch: the driver hands a read's frames over with no checkpoint.

Issue 18: the frames one ``receive_some`` delivered are parsed, applied to the books and
published by the monitor as ONE bus batch; a lone frame still goes out at once, alone. The
venue here is a raw ``wsproto`` server, so the test decides exactly which frames share one
socket write (trio-websocket writes every message on its own).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import partial

import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage

from arbees.bus.memory import MemoryBus
from arbees.egress import EgressGuard, EgressPolicy, EgressState
from arbees.messages import (
    LATEST_PRICES_HASH,
    TOKEN_ASSIGNMENTS_HASH,
    MarketAssignment,
    PolymarketPriceUpdate,
)
from arbees.polymarket.feed import FeedConfig, PolymarketFeed
from arbees.services.monitor import PolymarketMonitor
from arbees.wsdriver import Backoff, WsConfig, WsDriver

TOKENS = [str(10**70 + i) for i in range(8)]
CONDITION = "0x" + "cd" * 32
GB = EgressState(verified=True, country="GB", ip="203.0.113.7", reason="ok", checked_at_ms=1)
FAST = Backoff(base=0.01, cap=0.05, healthy_after=5.0)


class RawVenue:
    """A WebSocket server that writes what the test queues, each item in ONE ``send_all``."""

    def __init__(self) -> None:
        self._send, self._writes = trio.open_memory_channel[bytes](16)
        self.subscribed = trio.Event()
        self.proto: WSConnection | None = None

    def write(self, frames: Sequence[str]) -> None:
        """Queue ``frames`` to go out together in one socket write."""
        assert self.proto is not None
        self._send.send_nowait(b"".join(self.proto.send(TextMessage(data=f)) for f in frames))

    async def serve(self, stream: trio.SocketStream) -> None:
        proto = WSConnection(ConnectionType.SERVER)
        while self.proto is None:
            proto.receive_data(await stream.receive_some(65536))
            for event in proto.events():
                if isinstance(event, Request):
                    await stream.send_all(proto.send(AcceptConnection()))
                    self.proto = proto
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._reader, stream, proto)
            async for data in self._writes:
                await stream.send_all(data)

    async def _reader(self, stream: trio.SocketStream, proto: WSConnection) -> None:
        while data := await stream.receive_some(65536):
            proto.receive_data(data)
            for event in proto.events():
                if isinstance(event, TextMessage) and "assets_ids" in event.data:
                    self.subscribed.set()


async def wait_for(pred: Callable[[], bool]) -> None:
    """Poll over real sockets (no event exists for "the other side has read it")."""
    with trio.fail_after(5):
        while not pred():  # noqa: ASYNC110
            await trio.sleep(0.01)


async def serve(nursery: trio.Nursery, venue: RawVenue) -> str:
    listeners = await nursery.start(partial(trio.serve_tcp, venue.serve, 0, host="127.0.0.1"))
    return f"ws://127.0.0.1:{listeners[0].socket.getsockname()[1]}/ws/market"


def book(token: str) -> dict[str, object]:
    return {
        "market": CONDITION,
        "asset_id": token,
        "timestamp": "1760000000000",
        "hash": "ab",
        "bids": [{"price": "0.3", "size": "5"}],
        "asks": [{"price": "0.6", "size": "5"}],
        "tick_size": "0.01",
        "event_type": "book",
    }


def price_change(token: str, bid: str, ts: int) -> str:
    change = {
        "asset_id": token,
        "price": bid,
        "size": "5",
        "side": "BUY",
        "hash": "cd",
        "best_bid": bid,
        "best_ask": "0.6",
    }
    body = {"market": CONDITION, "price_changes": [change], "timestamp": str(ts)}
    return json.dumps(body | {"event_type": "price_change"})


async def test_the_messages_of_one_read_reach_on_message_with_no_checkpoint_between() -> None:
    venue = RawVenue()
    batches: list[list[str]] = []
    current: list[str] = []
    send, receive = trio.open_memory_channel[str](100)

    def on_message(message: str | bytes, recv_ns: int) -> None:
        send.send_nowait(str(message))

    async def consumer() -> None:
        # what a consumer woken by the first message finds queued is the batch
        async for first in receive:
            current[:] = [first]
            while True:
                try:
                    current.append(receive.receive_nowait())
                except trio.WouldBlock:
                    break
            batches.append(list(current))

    async with trio.open_nursery() as nursery:
        url = await serve(nursery, venue)
        driver = WsDriver(WsConfig(url, backoff=FAST, name="t"), on_message=on_message)
        nursery.start_soon(consumer)
        await nursery.start(driver.run)
        await wait_for(lambda: venue.proto is not None)
        venue.write([f"m{i}" for i in range(20)])
        await wait_for(lambda: sum(map(len, batches)) == 20)
        venue.write(["alone"])
        await wait_for(lambda: sum(map(len, batches)) == 21)
        nursery.cancel_scope.cancel()
    assert batches == [[f"m{i}" for i in range(20)], ["alone"]]
    assert driver.stats.messages == 21


class Verified:
    async def check(self, policy: EgressPolicy) -> EgressState:
        await trio.lowlevel.checkpoint()
        return GB


class RecordingBus(MemoryBus):
    """A memory bus that remembers each batch the monitor handed it."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def publish_and_hset_raw_nowait(
        self, channel: str, key: str, items: Sequence[tuple[str, bytes]]
    ) -> None:
        self.batches.append([field for field, _ in items])
        super().publish_and_hset_raw_nowait(channel, key, items)


async def wait_batches(bus: RecordingBus, count: int) -> None:
    await wait_for(lambda: len(bus.batches) >= count)


async def test_a_burst_in_one_read_is_one_bus_batch_and_a_lone_frame_goes_out_alone() -> None:
    venue = RawVenue()
    bus = RecordingBus()
    for token in TOKENS:
        await bus.hset(
            TOKEN_ASSIGNMENTS_HASH,
            token,
            MarketAssignment("polymarket", CONDITION, token, "s1", "NBA", game_id="g", epoch=1),
        )
    async with trio.open_nursery() as nursery:
        url = await serve(nursery, venue)

        def feed_factory(tokens: list[str]) -> PolymarketFeed:
            return PolymarketFeed(tokens, FeedConfig(url=url, backoff=FAST))

        monitor = PolymarketMonitor(
            bus, feed_factory, EgressGuard(Verified(), interval=60, name="t")
        )
        await nursery.start(monitor.run)
        with trio.fail_after(5):
            await venue.subscribed.wait()
        start = len(bus.batches)  # the feed's "added" (stale) views, however they went out
        venue.write([json.dumps([book(t) for t in TOKENS])])
        await wait_batches(bus, start + 1)
        assert bus.batches[start] == TOKENS  # one dump frame: one batch
        venue.write([price_change(t, "0.41", 1760000000001 + i) for i, t in enumerate(TOKENS)])
        await wait_batches(bus, start + 2)
        venue.write([price_change(TOKENS[3], "0.42", 1760000000100)])
        await wait_batches(bus, start + 3)
        feed = monitor.current_feed
        assert feed is not None
        coalesced = feed.counters()["coalesced"]
        venue.write(
            [
                price_change(TOKENS[5], "0.43", 1760000000200),
                price_change(TOKENS[6], "0.43", 1760000000201),
                price_change(TOKENS[5], "0.44", 1760000000202),
            ]
        )
        await wait_batches(bus, start + 4)
        latest = await bus.hget(LATEST_PRICES_HASH, TOKENS[5])
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    assert bus.batches[start + 1] == TOKENS  # eight frames in one read: ONE batch
    assert bus.batches[start + 2 :] == [
        [TOKENS[3]],  # a lone frame: at once, alone
        [TOKENS[5], TOKENS[6]],  # one read: each token once, in first-change order
    ]
    # the feed kept the newest view of the token the read changed twice
    assert isinstance(latest, PolymarketPriceUpdate)
    assert (latest.yes_bid, latest.venue_ts_ms) == (440_000, 1760000000202)
    assert feed.counters()["coalesced"] == coalesced + 1
    feed_counters = monitor.stats
    assert feed_counters.published == sum(len(b) for b in bus.batches)
