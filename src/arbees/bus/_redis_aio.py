"""The asyncio half of :mod:`arbees.bus.redis`: plain redis-py coroutines, no Trio here.

Every crossing of the trio-asyncio bridge costs ~120-150 µs, so the Trio side never calls
redis-py once per message. It crosses once per *batch* into one of these coroutines, which
then do all the per-message work on the asyncio side:

* :func:`send_batch` puts everything the publisher drained into ONE pipeline;
* :func:`read_batch` waits for the first pub/sub message, then takes whatever else is
  already buffered without waiting, and hands the whole list back in one crossing.

The crossing itself (``trio_asyncio.aio_as_trio``) lives only in :mod:`arbees.bus.redis`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

__all__ = ["Outgoing", "PubSubEvent", "read_batch", "send_batch"]


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
    """Wait for one pub/sub event, then drain what is already buffered (up to ``limit``).

    ``get_message(timeout=0)`` parses from redis-py's buffer without waiting when data is
    there and returns ``None`` otherwise; redis-py's parser keeps partial reads across
    the cancellation that ends an empty wait, so nothing is lost between batches.
    """
    out: list[PubSubEvent] = []
    message = await pubsub.get_message(timeout=None)
    while message is not None:
        out.append(PubSubEvent(message["type"], message["channel"], message["data"]))
        if len(out) >= limit:
            break
        message = await pubsub.get_message(timeout=0)
    return out
