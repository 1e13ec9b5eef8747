"""Publish path A/B for ``arbees bench bus``: the RedisBus batch write against a Trio-native
writer over ``trio.SocketStream``, same load, same Redis, alternating in one run.

Issue 18 asks whether a Trio-native publish path (no trio-asyncio bridge crossing, the
existing sans-io :class:`~arbees.bus._resp.RespParser` reading the replies) would cost
less CPU per update than today's, and to land one only if a same-run A/B says so. Both
sides here do the monitor's work per batch: encode each update (``codec.encode``) and
write ``HSET`` + ``PUBLISH`` per update in one pipelined write, paced at ``rate`` updates
per second in batches of ``batch``, until every reply is counted. The figure is this
process's CPU (``time.process_time``) per update over the whole paced phase, idle
scheduling included (the Redis server is another process).

* **A** — :meth:`arbees.bus.redis.RedisBus.publish_and_hset_many` (Outbox → asyncio
  protocol under trio-asyncio; the production path).
* **B** — :func:`_trio_native`: ``trio.open_tcp_stream``, ``encode_command``, one
  ``send_all`` per batch and a reader task counting replies with ``RespParser``. It has
  none of the production path's connection setup (AUTH, TLS, SELECT), outage protocol or
  watchdog, so it is the least a Trio-native path would cost, not a replacement.
"""

from __future__ import annotations

import time
from typing import Any

import trio

from arbees import codec
from arbees.bench._bus_floor import sample_message
from arbees.bus._resp import RespError, RespParser, encode_command
from arbees.bus.redis import open_redis_bus

__all__ = ["publish_ab"]

_CHANNEL = "bench:publish_ab"
_KEY = "bench:publish_ab:latest"


def _fields(batch: int) -> list[str]:
    return [f"tok{i}" for i in range(batch)]


async def _paced(batches: int, rate: float, batch: int, send: Any) -> None:
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


async def _trio_native(port: int, batches: int, batch: int, rate: float) -> tuple[float, int]:
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


def publish_ab(
    url: str,
    port: int,
    *,
    rate: float = 4_000,
    batch: int = 8,
    seconds: float = 2.0,
    pairs: int = 2,
) -> dict[str, Any]:
    """CPU µs per update of A (RedisBus) and B (Trio-native), ``pairs`` alternating runs
    each; the best run of each side, their ratio and every run's figures."""
    batches = max(1, int(rate * seconds / batch))
    runs: dict[str, list[float]] = {"redis_bus": [], "trio_native": []}
    sent: dict[str, list[int]] = {"redis_bus": [], "trio_native": []}
    for _ in range(pairs):
        cpu, n = trio.run(_redis_bus, url, batches, batch, rate)
        runs["redis_bus"].append(round(cpu / max(1, n) * 1e6, 1))
        sent["redis_bus"].append(n)
        cpu, n = trio.run(_trio_native, port, batches, batch, rate)
        runs["trio_native"].append(round(cpu / max(1, n) * 1e6, 1))
        sent["trio_native"].append(n)
    a, b = min(runs["redis_bus"]), min(runs["trio_native"])
    return {
        "rate_per_s": rate,
        "batch": batch,
        "updates_per_run": batches * batch,
        "cpu_us_per_update": runs,
        "sent": sent,
        "redis_bus_us": a,
        "trio_native_us": b,
        "redis_bus_over_trio_native": round(a / b, 2) if b else None,
    }
