"""The message bus: typed pub/sub plus a small key/value store.

``open_bus(url)`` picks the transport from the URL:

* ``memory://`` — :class:`~arbees.bus.memory.MemoryBus`, in-process;
* ``redis://`` / ``rediss://`` (with optional ``user:password@``) —
  :class:`~arbees.bus.redis.RedisBus`: Trio-native RESP connections for publishing and
  pub/sub, redis-py's asyncio client (bridged into Trio by trio-asyncio) for key/value.

Delivery is at-most-once on both (see :mod:`arbees.bus.base`).

Example::

    async with open_bus("redis://localhost:6379/0") as bus:
        async with bus.subscribe(Channel.SIGNALS) as signals:
            async for envelope in signals:
                print(envelope.message)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from arbees.bus.base import Bus, BusStats, Envelope, Subscription
from arbees.bus.memory import MemoryBus
from arbees.errors import ConfigError

__all__ = ["Bus", "BusStats", "Envelope", "MemoryBus", "Subscription", "open_bus"]


@asynccontextmanager
async def open_bus(url: str = "memory://") -> AsyncIterator[Bus]:
    """Open a bus from a URL for the duration of the ``async with`` block."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "memory":
        bus = MemoryBus()
        try:
            yield bus
        finally:
            await bus.aclose()
    elif scheme in ("redis", "rediss"):
        from arbees.bus.redis import open_redis_bus

        async with open_redis_bus(url) as rbus:
            yield rbus
    else:
        from arbees.config import redact_url

        raise ConfigError(f"unsupported bus URL {redact_url(url)!r}: use memory:// or redis://")
