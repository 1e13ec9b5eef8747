"""The asyncio half of :mod:`arbees.bus.redis`: plain redis-py coroutines, no Trio here.

A crossing of the trio-asyncio bridge (``aio_as_trio``) creates an asyncio task and costs
~65-100 µs each way on this machine, so the per-message path never crosses:

* :func:`pump_outbox` is ONE long-lived asyncio task. The Trio side appends encoded
  messages to an :class:`Outbox` (a deque plus an ``asyncio.Event``, both plain in-thread
  objects: trio-asyncio runs asyncio's callbacks inside the Trio run, on the same
  thread), and the pump sends everything waiting in ONE pipeline per batch.
* :func:`pump_pubsub` is ONE long-lived asyncio task that waits for a pub/sub message,
  takes whatever else is already buffered, and hands the batch to a plain synchronous
  callback (the Trio side's fan-out), which only appends to Trio queues.

Both pumps end by raising on a transport error; the Trio side counts, backs off and
restarts them. The crossings themselves live only in :mod:`arbees.bus.redis`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

__all__ = [
    "Outbox",
    "Outgoing",
    "PubSubEvent",
    "pump_outbox",
    "pump_pubsub",
    "read_batch",
    "send_batch",
]


class Outgoing(NamedTuple):
    """One queued publish (optionally with the hash write that goes with it).

    ``channel`` is ``None`` for a bare hash write; ``key``/``field`` are ``None`` for a bare
    publish. The hash write is queued before the publish, so a consumer woken by the
    publish that reads the hash sees this value or a newer one.
    """

    channel: str | None
    payload: bytes
    key: str | None = None
    field: str | None = None


class PubSubEvent(NamedTuple):
    """What :func:`read_batch` hands back: redis-py's message type, channel and data."""

    kind: str
    channel: bytes
    data: Any


async def send_batch(client: Redis, batch: Sequence[Outgoing]) -> tuple[int, str]:
    """Send ``batch`` in one non-transactional pipeline.

    Returns ``(failed, first_error)``: how many items the server refused (e.g. WRONGTYPE on
    the hash), and the first refusal's text. Transport errors (connection refused, reset,
    timeout) raise, and the caller counts the whole batch as failed.
    """
    pipe = client.pipeline(transaction=False)
    owners: list[int] = []
    for index, item in enumerate(batch):
        if item.key is not None and item.field is not None:
            pipe.hset(item.key, item.field, item.payload)
            owners.append(index)
        if item.channel is not None:
            pipe.publish(item.channel, item.payload)
            owners.append(index)
    results = await pipe.execute(raise_on_error=False)
    bad = {owners[i] for i, result in enumerate(results) if isinstance(result, Exception)}
    first = next((str(r) for r in results if isinstance(r, Exception)), "")
    return len(bad), first


async def read_batch(pubsub: PubSub, limit: int) -> list[PubSubEvent]:
    """Wait for one pub/sub event, then take what is already buffered (up to ``limit``).

    ``Connection.can_read()`` answers from the buffers without waiting, so a lone message
    comes back at once (``get_message(timeout=0)`` would cost an extra loop iteration for
    its timeout). An error after some events were read is left for the next call, so the
    events already read are not lost.
    """
    out: list[PubSubEvent] = []
    message = await pubsub.get_message(timeout=None)
    conn: Any = pubsub.connection  # typed as None by redis-py; set once subscribed
    while True:
        if message is not None:
            out.append(PubSubEvent(message["type"], message["channel"], message["data"]))
        if len(out) >= limit or conn is None:
            break
        try:
            if not await conn.can_read():
                break
            message = await pubsub.get_message(timeout=None)
        except Exception:
            if out:
                break
            raise
    return out


class Outbox:
    """The bounded, drop-oldest publish queue shared by the Trio side and the pump.

    ``put`` is synchronous and never blocks; when full, the oldest item is dropped (the
    newest prices win) and ``put`` returns False. ``in_flight`` is the size of the batch
    the pump is sending, so a failure can be counted by the Trio side.
    """

    def __init__(self, maxlen: int) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be >= 1")
        self.items: deque[Outgoing] = deque()
        self.maxlen = maxlen
        self.dropped = 0
        self.in_flight = 0
        self.closed = False
        self._wakeup = asyncio.Event()  # binds to the running loop on first wait

    def put(self, item: Outgoing) -> bool:
        ok = True
        if len(self.items) >= self.maxlen:
            self.items.popleft()
            self.dropped += 1
            ok = False
        self.items.append(item)
        self._wakeup.set()
        return ok

    def take(self, limit: int) -> list[Outgoing]:
        n = min(limit, len(self.items))
        popleft = self.items.popleft
        return [popleft() for _ in range(n)]

    def close(self) -> None:
        """The pump sends what is left, then returns."""
        self.closed = True
        self._wakeup.set()

    async def wait(self) -> None:
        while not self.items and not self.closed:
            self._wakeup.clear()
            await self._wakeup.wait()

    def __len__(self) -> int:
        return len(self.items)


async def pump_outbox(
    client: Redis,
    outbox: Outbox,
    limit: int,
    on_sent: Callable[[int, int, str], None],
) -> None:
    """Send the outbox's items in pipelines until it is closed and empty.

    ``on_sent(sent, refused, first_error)`` is called after each batch. A transport error
    propagates, with ``outbox.in_flight`` still holding the failed batch's size.
    """
    while True:
        await outbox.wait()
        if not outbox.items:
            return  # closed and drained
        batch = outbox.take(limit)
        outbox.in_flight = len(batch)
        refused, first_error = await send_batch(client, batch)
        outbox.in_flight = 0
        on_sent(len(batch) - refused, refused, first_error)


async def pump_pubsub(
    pubsub: PubSub, limit: int, deliver: Callable[[list[PubSubEvent]], None]
) -> None:
    """Hand every batch of pub/sub events to ``deliver`` until a transport error."""
    while True:
        batch = await read_batch(pubsub, limit)
        if batch:
            deliver(batch)
