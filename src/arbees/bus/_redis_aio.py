"""The values the halves of :mod:`arbees.bus.redis` share, and redis-py's pipeline.

A crossing of the trio-asyncio bridge (``aio_as_trio``) creates an asyncio task and costs
~65-150 µs, so the per-message paths never cross (they are Trio-native):

* ``publish`` appends encoded messages to an :class:`Outbox` (a deque). Its ``waker`` —
  set by the publisher session of :mod:`arbees.bus._trio_publish` — writes at once when
  the pipeline is idle, or wakes the writer task, which writes everything waiting as one
  pipeline.
* Pub/sub pushes come back as :class:`PubSubEvent` batches, one per socket read
  (:mod:`arbees.bus._trio_pubsub`).

:func:`send_batch` (redis-py's pipeline through the bridge, one crossing per call) is
kept for rare writes such as the outage alert, sent before the raw publisher is
reconnected.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from redis.asyncio import Redis

__all__ = ["Outbox", "Outgoing", "PubSubEvent", "send_batch"]


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
    """One pub/sub push: ``kind`` (``"message"``, ``"subscribe"``, ``"unsubscribe"``),
    the raw channel name, and the payload (or the subscription count)."""

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


class Outbox:
    """The bounded, drop-oldest publish queue shared by the Trio side and the pump.

    ``put`` is synchronous and never blocks; when full, the oldest item is dropped (the
    newest prices win) and ``put`` returns False. ``in_flight`` counts items written to
    Redis and not yet answered, so a failure can be counted by the Trio side. ``waker``
    (when set) is called after each ``put`` and on ``close``; the publisher connection
    makes it schedule its flush at most once per batch.
    """

    def __init__(self, maxlen: int) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be >= 1")
        self.items: deque[Outgoing] = deque()
        self.maxlen = maxlen
        self.dropped = 0
        self.in_flight = 0
        self.closed = False
        self.waker: Callable[[], None] | None = None

    def put(self, item: Outgoing) -> bool:
        ok = True
        if len(self.items) >= self.maxlen:
            self.items.popleft()
            self.dropped += 1
            ok = False
        self.items.append(item)
        if self.waker is not None:
            self.waker()
        return ok

    def put_many(self, items: Sequence[Outgoing]) -> int:
        """Append a batch and wake the writer ONCE (the batch goes out as one write);
        drop-oldest as :meth:`put`. Returns how many items were dropped."""
        queue = self.items
        dropped = max(0, len(queue) + len(items) - self.maxlen)
        for _ in range(min(dropped, len(queue))):
            queue.popleft()
        queue.extend(items[max(0, len(items) - self.maxlen) :])
        self.dropped += dropped
        if self.waker is not None:
            self.waker()
        return dropped

    def take(self, limit: int) -> list[Outgoing]:
        n = min(limit, len(self.items))
        popleft = self.items.popleft
        return [popleft() for _ in range(n)]

    def close(self) -> None:
        """The publisher sends what is left, then returns."""
        self.closed = True
        if self.waker is not None:
            self.waker()

    def __len__(self) -> int:
        return len(self.items)
