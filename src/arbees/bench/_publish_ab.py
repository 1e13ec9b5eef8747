"""Hot-path CPU for ``arbees bench bus``: the RedisBus's publish and pub/sub paths against
a bare ``trio.SocketStream`` floor, same load, same Redis, alternating in one run.

Issue 18 landed the Trio-native raw connections because this A/B, run with a third side
(the asyncio protocols under trio-asyncio they replaced, commit eb0be9d), measured them
cheaper; docs/architecture.md ("The hot path") has those figures. What is left to measure
is how far the whole production path (``RedisBus``: connection setup, outage protocol,
watchdogs, the bus's fan-out) stays above the least a Trio program could spend.

* **publish** — the monitor's work per batch: encode each update (``codec.encode``) and
  write ``HSET`` + ``PUBLISH`` per update in one pipelined write
  (:meth:`~arbees.bus.redis.RedisBus.publish_and_hset_many`), paced at ``rate`` updates
  per second in batches of ``batch``, until every reply is counted. The figure is this
  process's CPU (``time.process_time``) per update over the whole paced phase, idle
  scheduling included (the Redis server is another process). Floor: a bare
  ``trio.SocketStream`` writer (``encode_command``, one ``send_all`` per batch, a reader
  counting replies with ``RespParser``; no AUTH, outage protocol or watchdog).
* **subscribe** — the shard's work per message: a publisher thread (plain redis-py,
  pipelines of ``batch`` PUBLISH paced at ``rate``) feeds one channel; the subscriber
  receives and decodes every message (``RedisBus.subscribe`` + ``receive``). The figure is
  the subscriber thread's CPU (``time.thread_time``) per message received, so the
  publisher thread's own work is not in it. Floor: a bare ``trio.SocketStream`` reader
  (``SUBSCRIBE``, ``RespParser``, ``codec.decode`` per message).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis
import trio

from arbees import codec
from arbees.bench._bus_floor import sample_message
from arbees.bus._resp import RespError, RespParser, encode_command
from arbees.bus.redis import open_redis_bus

__all__ = ["publish_ab", "subscribe_ab"]

_CHANNEL = "bench:publish_ab"
_KEY = "bench:publish_ab:latest"
_SUB_CHANNEL = "bench:subscribe_ab"
SIDES = ("redis_bus", "floor")
"""The three sides of each A/B, in the order they run within a round."""


def _fields(batch: int) -> list[str]:
    return [f"tok{i}" for i in range(batch)]


async def _paced(
    batches: int, rate: float, batch: int, send: Callable[[], Awaitable[None]]
) -> None:
    interval = batch / rate
    start = trio.current_time()
    for i in range(batches):
        await trio.sleep_until(start + i * interval)
        await send()


async def _redis_bus(url: str, batches: int, batch: int, rate: float) -> tuple[float, int]:
    message = sample_message()
    items = [(f, message) for f in _fields(batch)]
    async with open_redis_bus(url) as bus:
        before = bus.stats.published
        cpu0 = time.process_time()

        async def send() -> None:
            await bus.publish_and_hset_many(_CHANNEL, _KEY, items)

        await _paced(batches, rate, batch, send)
        want = before + batches * batch
        # The replies are counted in the bus's stats (no event to wait on): poll, 5 s at most.
        for _ in range(5_000):
            if bus.stats.published >= want:
                break
            await trio.sleep(0.001)
        cpu = time.process_time() - cpu0
        return cpu, bus.stats.published - before


async def _raw_writer(port: int, batches: int, batch: int, rate: float) -> tuple[float, int]:
    message = sample_message()
    fields = _fields(batch)
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    parser = RespParser()
    replies = refused = 0
    want = 2 * batches * batch
    done = trio.Event()

    async def read() -> None:
        nonlocal replies, refused
        while replies < want:
            data = await stream.receive_some(65_536)
            if not data:
                break
            for value in parser.feed(data):
                replies += 1
                if isinstance(value, RespError):
                    refused += 1
        done.set()

    async with stream, trio.open_nursery() as nursery:
        nursery.start_soon(read)
        cpu0 = time.process_time()

        async def send() -> None:
            chunks = []
            for field in fields:
                payload = codec.encode(message)
                chunks.append(encode_command("HSET", _KEY, field, payload))
                chunks.append(encode_command("PUBLISH", _CHANNEL, payload))
            await stream.send_all(b"".join(chunks))

        await _paced(batches, rate, batch, send)
        with trio.move_on_after(5):
            await done.wait()
        cpu = time.process_time() - cpu0
        nursery.cancel_scope.cancel()
    return cpu, (replies - refused) // 2


def _us(cpu: float, n: int) -> float:
    return round(cpu / max(1, n) * 1e6, 1)


def _ratios(top: list[float], bottom: list[float]) -> list[float]:
    """Per round (runs back to back, so under the same load), top / bottom."""
    return [round(a / b, 2) if b else 0.0 for a, b in zip(top, bottom, strict=True)]


def _summary(
    runs: dict[str, list[float]], counts: dict[str, list[int]], **head: Any
) -> dict[str, Any]:
    bus, floor = min(runs["redis_bus"]), min(runs["floor"])
    per_round = _ratios(runs["redis_bus"], runs["floor"])
    return {
        **head,
        "cpu_us_per_update": runs,
        "count": counts,
        "redis_bus_us": bus,
        "floor_us": floor,
        "redis_bus_over_floor": round(bus / floor, 2) if floor else None,
        "redis_bus_over_floor_per_round": per_round,
        "median_redis_bus_over_floor": statistics.median(per_round),
    }


def publish_ab(
    url: str,
    port: int,
    *,
    rate: float = 4_000,
    batch: int = 8,
    seconds: float = 2.0,
    pairs: int = 2,
) -> dict[str, Any]:
    """CPU µs per update of the RedisBus publish path and of the raw floor, ``pairs``
    alternating rounds; the best run of each side, their ratio and the per-round ratios."""
    batches = max(1, int(rate * seconds / batch))
    runs: dict[str, list[float]] = {side: [] for side in SIDES}
    sent: dict[str, list[int]] = {side: [] for side in SIDES}
    for _ in range(pairs):
        for side in SIDES:
            if side == "floor":
                cpu, n = trio.run(_raw_writer, port, batches, batch, rate)
            else:
                cpu, n = trio.run(_redis_bus, url, batches, batch, rate)
            runs[side].append(_us(cpu, n))
            sent[side].append(n)
    return _summary(runs, sent, rate_per_s=rate, batch=batch, updates_per_run=batches * batch)


# -- subscribe ---------------------------------------------------------------------------


class _Publisher(threading.Thread):
    """Publishes ``batches`` pipelines of ``batch`` messages at ``rate`` (its own thread, so
    its CPU is not the subscriber thread's)."""

    def __init__(self, url: str, batches: int, batch: int, rate: float) -> None:
        super().__init__(daemon=True)
        self.url, self.batches, self.batch, self.rate = url, batches, batch, rate
        self.start_now = threading.Event()

    def run(self) -> None:
        payload = codec.encode(sample_message())
        with redis.Redis.from_url(self.url) as client:
            self.start_now.wait(10)
            interval = self.batch / self.rate
            start = time.monotonic()
            for i in range(self.batches):
                delay = start + i * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                pipe = client.pipeline(transaction=False)
                for _ in range(self.batch):
                    pipe.publish(_SUB_CHANNEL, payload)
                pipe.execute()


async def _receive_counted(
    want: int, receive: Callable[[], Awaitable[None]], publisher: _Publisher
) -> tuple[float, int]:
    """Start the publisher, receive until ``want`` arrived or 2 s pass without one; the
    thread's CPU over the whole phase and the count received."""
    got = 0
    cpu0 = time.thread_time()
    publisher.start_now.set()
    while got < want:
        with trio.move_on_after(2.0) as scope:
            await receive()
        if scope.cancelled_caught:
            break
        got += 1
    return time.thread_time() - cpu0, got


async def _bus_subscriber(url: str, publisher: _Publisher, want: int) -> tuple[float, int]:
    async with (
        open_redis_bus(url) as bus,
        bus.subscribe(_SUB_CHANNEL, buffer=want + 16) as sub,
    ):

        async def receive() -> None:
            await sub.receive()

        return await _receive_counted(want, receive, publisher)


async def _raw_subscriber(port: int, publisher: _Publisher, want: int) -> tuple[float, int]:
    parser = RespParser()
    ready: list[object] = []
    async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
        await stream.send_all(encode_command("SUBSCRIBE", _SUB_CHANNEL))
        while not ready:  # the confirmation
            ready.extend(parser.feed(await stream.receive_some(65_536)))
        ready.clear()

        async def receive() -> None:
            while not ready:
                ready.extend(parser.feed(await stream.receive_some(65_536)))
            push = ready.pop(0)
            assert isinstance(push, list)
            codec.decode(push[2])

        return await _receive_counted(want, receive, publisher)


def subscribe_ab(
    url: str,
    port: int,
    *,
    rate: float = 4_000,
    batch: int = 8,
    seconds: float = 2.0,
    pairs: int = 2,
) -> dict[str, Any]:
    """CPU µs per message received and decoded: the RedisBus subscriber and the raw
    floor, ``pairs`` alternating rounds."""
    batches = max(1, int(rate * seconds / batch))
    want = batches * batch
    runs: dict[str, list[float]] = {side: [] for side in SIDES}
    got: dict[str, list[int]] = {side: [] for side in SIDES}
    for _ in range(pairs):
        for side in SIDES:
            publisher = _Publisher(url, batches, batch, rate)
            publisher.start()
            try:
                if side == "floor":
                    cpu, n = trio.run(_raw_subscriber, port, publisher, want)
                else:
                    cpu, n = trio.run(_bus_subscriber, url, publisher, want)
            finally:
                publisher.start_now.set()
                publisher.join(timeout=seconds + 10)
            runs[side].append(_us(cpu, n))
            got[side].append(n)
    return _summary(runs, got, rate_per_s=rate, batch=batch, updates_per_run=want)
