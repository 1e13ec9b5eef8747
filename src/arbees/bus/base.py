"""The bus interface every transport implements, and its value types.

Delivery is **at-most-once**: a message published while a subscriber is not connected
(or while Redis is down) is not replayed, and a slow subscriber's full buffer drops its
*oldest* messages (counted in :attr:`Subscription.dropped`). Anything that must survive
(latest prices, assignments, heartbeats) is also written to the key/value side
(:meth:`Bus.hset`, :meth:`Bus.set`), which consumers read on (re)start.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

import attrs
import trio

from arbees import codec
from arbees.bus._queue import DropOldestQueue
from arbees.errors import BusClosedError, DecodeError
from arbees.messages import Message

__all__ = [
    "Bus",
    "BusStats",
    "Envelope",
    "ReadSink",
    "Subscription",
    "deliver_raw",
    "reject_payload",
]

log = logging.getLogger(__name__)


@attrs.frozen(slots=True)
class Envelope:
    """A received message.

    Attributes:
        channel: the channel it arrived on.
        message: the decoded, validated message.
        received_ns: wall clock (``time.time_ns()``) when the bus received it.
    """

    channel: str
    message: Message
    received_ns: int


@attrs.define
class BusStats:
    """Counters of one bus instance (monotonic; read them, never reset them).

    Attributes:
        published: messages handed to the transport.
        publish_failed: messages that could not be sent (e.g. Redis down).
        received: payloads received on subscribed channels.
        decode_errors: received payloads that failed validation and were skipped.
        decode_errors_by_field: the same, by offending field (``"payload"`` when the
            payload as a whole was refused: too big, not JSON, too deep).
        dropped: messages discarded from full subscriber buffers.
        reconnects: transport reconnections.
        protocol_errors: connections dropped because the server sent bytes that are not
            RESP or broke a parser limit (oversized bulk, too deep, ...); the values read
            before the bad bytes were still used, the connection was replaced.
        sink_errors: transport reads a subscription's sink raised on (logged; see
            :meth:`Subscription.set_sink`).
    """

    published: int = 0
    publish_failed: int = 0
    received: int = 0
    decode_errors: int = 0
    decode_errors_by_field: dict[str, int] = attrs.Factory(dict)
    dropped: int = 0
    reconnects: int = 0
    protocol_errors: int = 0
    sink_errors: int = 0


def reject_payload(stats: BusStats, source: str, payload: bytes | str, exc: DecodeError) -> None:
    """Count a payload that failed validation, by field, and log it — the first time for
    each field and then at every power of ten, so a flood of garbage costs a few log
    lines, not one per message. ``source`` says where it came from (a channel, or a hash
    and its field)."""
    stats.decode_errors += 1
    field = (exc.field or "payload").split("[", 1)[0]
    by_field = stats.decode_errors_by_field
    count = by_field.get(field, 0) + 1
    by_field[field] = count
    if count == 1 or _is_power_of_ten(count):
        log.warning(
            "skipping undecodable payload on %.120s (%s; %d refused for %s so far): %.80r",
            source,
            exc,
            count,
            field,
            payload,
        )


def _is_power_of_ten(n: int) -> bool:
    while n % 10 == 0:
        n //= 10
    return n == 1


class Subscription:
    """An active subscription: iterate it with ``async for envelope in sub``.

    Created by :meth:`Bus.subscribe`; entering the context manager returns only once
    the subscription is live, so anything published afterwards is received.
    """

    def __init__(self, channels: tuple[str, ...], buffer: int, stats: BusStats) -> None:
        self.channels = channels
        self._queue: DropOldestQueue[Envelope] = DropOldestQueue(buffer)
        self._stats = stats
        self.decode_errors = 0
        self.sink_errors = 0
        """Reads the sink raised on (logged; their envelopes are lost, see :meth:`set_sink`)."""
        self._sink: ReadSink | None = None
        self._read: list[Envelope] = []

    @property
    def dropped(self) -> int:
        return self._queue.dropped

    def set_sink(self, sink: ReadSink | None) -> None:
        """Offer each transport read's envelopes to ``sink`` on the transport's own task,
        before they are queued (``None``: queue everything, the default).

        ``sink(envelopes)`` returns how many of them, from the first, it took; the rest
        are queued for :meth:`receive` / :meth:`receive_batch` in order. While anything is
        queued the sink is not offered a read at all, so a consumer that takes the common
        case inline and leaves the rest to its task (e.g. a reload that needs I/O) never
        sees two envelopes out of order. The sink must not block; an exception it raises
        is counted in :attr:`sink_errors` and logged, and that read's envelopes are lost
        (a consumer that must not lose any catches its own, as the shard's bus source
        does). This removes a task switch per read from a hot consumer: the Redis reader
        calls it from the socket read that brought the messages.
        """
        self._sink = sink

    def _deliver(self, envelope: Envelope) -> None:
        if self._sink is not None:
            self._read.append(envelope)  # offered to the sink at the end of the read
            return
        if not self._queue.put_nowait(envelope):
            self._stats.dropped += 1

    def _end_read(self) -> None:
        """The transport finished a read: offer what it delivered to the sink."""
        read = self._read
        if not read:
            return
        self._read = []
        taken = 0
        sink = self._sink
        if sink is not None and not len(self._queue):
            try:
                taken = sink(read)
            except Exception:
                self.sink_errors += 1
                self._stats.sink_errors += 1
                log.exception("a subscription's sink failed; %d envelopes lost", len(read))
                return
        queue = self._queue
        for envelope in read[taken:]:
            if not queue.put_nowait(envelope):
                self._stats.dropped += 1

    def _reject(self, channel: str, payload: bytes | str, exc: DecodeError) -> None:
        self.decode_errors += 1
        reject_payload(self._stats, channel, payload, exc)

    def _close(self) -> None:
        self._queue.close()

    async def receive(self) -> Envelope:
        """The next envelope; raises :class:`BusClosedError` once the bus closed."""
        try:
            return await self._queue.get()
        except trio.EndOfChannel:
            raise BusClosedError("subscription closed") from None

    async def receive_batch(self, limit: int = 4096) -> list[Envelope]:
        """Every envelope queued (at most ``limit``, oldest first), waiting for the first.

        A transport delivers each socket read's messages at once, so a consumer woken
        once takes the whole read as one batch (no await per message). Raises
        :class:`BusClosedError` once the bus closed and nothing is left.
        """
        try:
            return await self._queue.get_batch(limit)
        except trio.EndOfChannel:
            raise BusClosedError("subscription closed") from None

    # An iterator object, not an async generator: a loop that breaks out of ``async for``
    # leaves no generator behind for the garbage collector to finalise (Python warns about
    # that, at a moment that depends on the collector, and pytest makes it an error).
    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Envelope:
        try:
            return await self._queue.get()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None


ReadSink = Callable[[list[Envelope]], int]
"""Takes a read's envelopes inline, returns how many it took (see
:meth:`Subscription.set_sink`)."""


def deliver_raw(
    subs: Sequence[Subscription], channel: str, payload: bytes, received_ns: int, stats: BusStats
) -> None:
    """Decode a received payload once and hand it to every subscriber of ``channel``; a
    payload that fails validation is counted and logged on each of them instead."""
    try:
        message = codec.decode(payload)
    except DecodeError as exc:
        for sub in subs:
            stats.received += 1
            sub._reject(channel, payload, exc)
        return
    envelope = Envelope(channel, message, received_ns)
    for sub in subs:
        stats.received += 1
        sub._deliver(envelope)


class Bus(abc.ABC):
    """Publish/subscribe of typed messages plus a small key/value store.

    Implementations: :class:`arbees.bus.memory.MemoryBus` (in-process) and
    :class:`arbees.bus.redis.RedisBus`. Open one from a URL with
    :func:`arbees.bus.open_bus`.
    """

    stats: BusStats

    @abc.abstractmethod
    async def publish(self, channel: str, message: Message) -> None:
        """Publish (at-most-once). Never raises because the transport is down: failures
        are counted in ``stats.publish_failed``."""

    @abc.abstractmethod
    def subscribe(
        self, *channels: str, buffer: int = 4096
    ) -> AbstractAsyncContextManager[Subscription]:
        """Subscribe to channels; the returned context manager yields a live
        :class:`Subscription` with a drop-oldest buffer of ``buffer`` messages."""

    @abc.abstractmethod
    async def hset(self, key: str, field: str, message: Message) -> None:
        """Store ``message`` under ``field`` of hash ``key``."""

    @abc.abstractmethod
    async def hget(self, key: str, field: str) -> Message | None:
        """One field of a hash (``None`` when absent or undecodable)."""

    @abc.abstractmethod
    async def hgetall(
        self, key: str, *, refused: dict[str, DecodeError] | None = None
    ) -> dict[str, Message]:
        """All decodable fields of a hash. Undecodable ones are skipped and counted, and
        recorded in ``refused`` (field -> why) when it is given, so a reader can report
        a poisoned stored record instead of silently missing it."""

    @abc.abstractmethod
    async def hdel(self, key: str, *fields: str) -> None:
        """Remove fields of a hash."""

    @abc.abstractmethod
    async def set(self, key: str, message: Message, *, ttl_s: float | None = None) -> None:
        """Store one message under ``key``, expiring after ``ttl_s`` seconds if given."""

    @abc.abstractmethod
    async def get(self, key: str) -> Message | None:
        """The message under ``key`` (``None`` when absent, expired or undecodable)."""

    @abc.abstractmethod
    async def publish_raw(self, channel: str, payload: bytes) -> None:
        """Publish raw bytes, bypassing the codec (tests, interop with other tools)."""

    async def publish_and_hset(self, channel: str, message: Message, key: str, field: str) -> None:
        """Store ``message`` under ``field`` of hash ``key``, then publish it on ``channel``.

        The hot path of a price publisher (latest value + live stream). Like
        :meth:`publish` it never raises because the transport is down. This default does
        the two calls in turn; a transport may batch them (Redis: one pipeline).
        """
        await self.hset(key, field, message)
        await self.publish(channel, message)

    async def publish_and_hset_many(
        self, channel: str, key: str, items: Sequence[tuple[str, Message]]
    ) -> None:
        """:meth:`publish_and_hset` for a batch: each ``(field, message)`` stored under
        ``field`` of hash ``key`` and published on ``channel``, in order.

        The hot path of a price publisher that coalesced a socket read's changes. This
        default does the pairs in turn; a transport may write the whole batch at once
        (Redis: one pipelined write).
        """
        for field, message in items:
            await self.publish_and_hset(channel, message, key, field)

    @abc.abstractmethod
    def publish_nowait(self, channel: str, message: Message) -> None:
        """:meth:`publish` without waiting, for a caller that cannot await (the shard
        publishes its signals from the read that brought the quote). Never blocks and
        never checkpoints; never raises because the transport is down (counted like
        :meth:`publish`); raises :class:`~arbees.errors.BusClosedError` on a closed bus."""

    @abc.abstractmethod
    def publish_and_hset_raw_nowait(
        self, channel: str, key: str, items: Sequence[tuple[str, bytes]]
    ) -> None:
        """Queue encoded payloads without waiting: each ``(field, payload)`` stored under
        ``field`` of hash ``key`` and published on ``channel``, in order, as one write.

        The monitor's path, called on a feed's reader task once per socket read (no task
        and no channel in between, so it never blocks and never checkpoints). Payloads
        are :func:`arbees.codec.encode` output; a transport that passes objects decodes
        them as a subscriber would, so a bad one is counted and logged like any received
        garbage. Never raises because the transport is down (a full queue drops its
        oldest, counted in ``stats.publish_failed``); raises
        :class:`~arbees.errors.BusClosedError` on a closed bus.
        """

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Close the bus; live subscriptions end."""

    def _check_open(self, closed: bool) -> None:
        if closed:
            raise BusClosedError("bus is closed")
