"""In-process bus: the embedded default and the choice for single-process bots.

Messages are passed as the (immutable) objects themselves — no encoding — so a
publish costs a dictionary lookup and one queue append per subscriber.
:meth:`MemoryBus.publish_raw` decodes like a real transport, so garbage handling is the
same as on Redis.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import trio

from arbees import codec
from arbees.bus.base import Bus, BusStats, Envelope, Subscription, deliver_raw, reject_payload
from arbees.errors import DecodeError
from arbees.messages import Message

__all__ = ["MemoryBus"]

_YIELD_EVERY = 32


class MemoryBus(Bus):
    """A bus living in this process. Safe to share between tasks of one Trio run.

    Example::

        bus = MemoryBus()
        async with bus.subscribe("system:alerts") as sub:
            await bus.publish("system:alerts", alert)
            envelope = await sub.receive()
    """

    def __init__(self) -> None:
        self.stats = BusStats()
        self._subs: dict[str, list[Subscription]] = {}
        self._hashes: dict[str, dict[str, Message]] = {}
        self._values: dict[str, tuple[Message, float | None]] = {}
        self._closed = False
        self._since_yield = 0

    def __repr__(self) -> str:
        return f"MemoryBus(channels={len(self._subs)}, closed={self._closed})"

    async def publish(self, channel: str, message: Message) -> None:
        self._check_open(self._closed)
        # A full schedule point on every publish capped a tight loop at ~65k msg/s
        # (`arbees bench bus`). Cancellation is still checked on every call; the
        # scheduler gets its turn every _YIELD_EVERY publishes, so a publishing loop
        # cannot starve the other tasks.
        self._since_yield += 1
        if self._since_yield >= _YIELD_EVERY:
            self._since_yield = 0
            await trio.lowlevel.checkpoint()
        else:
            await trio.lowlevel.checkpoint_if_cancelled()
        self.publish_nowait(channel, message)

    def publish_nowait(self, channel: str, message: Message) -> None:
        self._check_open(self._closed)
        self.stats.published += 1
        subs = self._subs.get(channel)
        if subs:
            envelope = Envelope(channel, message, time.time_ns())
            for sub in subs:
                self.stats.received += 1
                sub._deliver(envelope)
            _end_reads(subs)

    async def publish_raw(self, channel: str, payload: bytes) -> None:
        self._check_open(self._closed)
        await trio.lowlevel.checkpoint()
        self.stats.published += 1
        subs = self._subs.get(channel, [])
        if not subs:
            return
        deliver_raw(subs, channel, payload, time.time_ns(), self.stats)
        _end_reads(subs)

    def publish_and_hset_raw_nowait(
        self, channel: str, key: str, items: Sequence[tuple[str, bytes]]
    ) -> None:
        """Each payload decoded once, as a transport's subscriber would: stored and
        delivered when valid, counted and logged on every subscriber (and not stored)
        when not."""
        self._check_open(self._closed)
        now = time.time_ns()
        table = self._hashes.setdefault(key, {})
        subs = self._subs.get(channel)
        for field, payload in items:
            self.stats.published += 1
            try:
                message = codec.decode(payload)
            except DecodeError as exc:
                if not subs:  # nobody to tell: counted once, for the hash it missed
                    reject_payload(self.stats, f"{key} {field}", payload, exc)
                for sub in subs or ():
                    self.stats.received += 1
                    sub._reject(channel, payload, exc)
                continue
            table[field] = message
            if subs:
                envelope = Envelope(channel, message, now)
                for sub in subs:
                    self.stats.received += 1
                    sub._deliver(envelope)
        if subs:
            _end_reads(subs)  # the batch is one "read"

    @asynccontextmanager
    async def subscribe(self, *channels: str, buffer: int = 4096) -> AsyncIterator[Subscription]:
        self._check_open(self._closed)
        sub = Subscription(tuple(channels), buffer, self.stats)
        for channel in channels:
            self._subs.setdefault(channel, []).append(sub)
        try:
            await trio.lowlevel.checkpoint()
            yield sub
        finally:
            for channel in channels:
                subs = self._subs.get(channel, [])
                if sub in subs:
                    subs.remove(sub)
                if not subs:
                    self._subs.pop(channel, None)
            sub._close()

    async def hset(self, key: str, field: str, message: Message) -> None:
        self._check_open(self._closed)
        await trio.lowlevel.checkpoint()
        self._hashes.setdefault(key, {})[field] = message

    async def hget(self, key: str, field: str) -> Message | None:
        await trio.lowlevel.checkpoint()
        return self._hashes.get(key, {}).get(field)

    async def hgetall(
        self, key: str, *, refused: dict[str, DecodeError] | None = None
    ) -> dict[str, Message]:
        # Stored as objects, never encoded: nothing here can be undecodable.
        await trio.lowlevel.checkpoint()
        return dict(self._hashes.get(key, {}))

    async def hdel(self, key: str, *fields: str) -> None:
        await trio.lowlevel.checkpoint()
        h = self._hashes.get(key)
        if h is not None:
            for field in fields:
                h.pop(field, None)

    async def set(self, key: str, message: Message, *, ttl_s: float | None = None) -> None:
        self._check_open(self._closed)
        await trio.lowlevel.checkpoint()
        expiry = None if ttl_s is None else time.monotonic() + ttl_s
        self._values[key] = (message, expiry)

    async def get(self, key: str) -> Message | None:
        await trio.lowlevel.checkpoint()
        item = self._values.get(key)
        if item is None:
            return None
        message, expiry = item
        if expiry is not None and time.monotonic() >= expiry:
            del self._values[key]
            return None
        return message

    async def aclose(self) -> None:
        self._closed = True
        for subs in list(self._subs.values()):
            for sub in subs:
                sub._close()
        self._subs.clear()
        await trio.lowlevel.checkpoint()


def _end_reads(subs: list[Subscription]) -> None:
    """One publish call is one transport read: offer it to the subscriptions' sinks."""
    for sub in list(subs):  # a sink may subscribe or leave
        sub._end_read()
