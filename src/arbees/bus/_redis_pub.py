"""The publishing side of :class:`~arbees.bus.redis.RedisBus` (Trio side).

``publish`` only encodes and appends to the :class:`~arbees.bus._redis_aio.Outbox`; the
raw publisher connection (:mod:`arbees.bus._trio_publish`, Trio-native) writes from there
in pipelines and counts the replies. This object runs that connection's sessions and the
outage protocol: while Redis is unreachable,
queued messages are discarded and counted, Redis is probed with backoff, and once it
answers ONE ``BUS_PUBLISH_FAILED`` :class:`~arbees.messages.SystemAlert` reports how many
messages were lost (sent through redis-py's pipeline, after our own subscriptions are
back so they receive it too).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import trio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from arbees import codec
from arbees.bus import _trio_publish
from arbees.bus._redis_aio import Outbox, Outgoing, send_batch
from arbees.bus._resp_conn import ConnParams
from arbees.bus._trio_conn import NotResp
from arbees.bus.base import BusStats
from arbees.errors import BusError
from arbees.messages import Channel, SystemAlert, now_ms

__all__ = ["ALERT_TYPE", "PublishSide"]

log = logging.getLogger(__name__)

_TRANSPORT_ERRORS = (RedisError, OSError)

ALERT_TYPE = "BUS_PUBLISH_FAILED"

Aio = Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]


class PublishSide:
    """The outbox and the publisher task of one :class:`RedisBus`.

    Args:
        stats: the bus's counters.
        safe_url: the redacted URL, for messages.
        aio: wraps an asyncio coroutine function for a call from Trio (the bus's bridge).
        scrub: removes the password from an error's text.
        backoffs: a fresh iterator of reconnection delays.
        outbox: the bounded drop-oldest queue ``publish`` appends to.
        max_batch: most messages written in one pipeline.
        reader_up: the pub/sub side's "subscribed" event (it is replaced on each loss).
        alert_wait: seconds to wait for the subscriptions before sending the alert.
    """

    def __init__(
        self,
        *,
        stats: BusStats,
        safe_url: str,
        aio: Aio,
        scrub: Callable[[BaseException | str], str],
        backoffs: Callable[[], Iterator[float]],
        outbox: Outbox,
        max_batch: int,
        reader_up: Callable[[], trio.Event],
        alert_wait: float,
    ) -> None:
        self.stats = stats
        self.safe_url = safe_url
        self._aio = aio
        self._scrub = scrub
        self._backoffs = backoffs
        self._outbox = outbox
        self._max_batch = max_batch
        self._reader_up = reader_up
        self._alert_wait = alert_wait
        self.client: Redis | None = None  # set once the bus has connected
        self.params: ConnParams | None = None
        self.flushed = trio.Event()

    def enqueue(self, item: Outgoing) -> None:
        if not self._outbox.put(item):
            self.stats.publish_failed += 1
            dropped = self._outbox.dropped
            if dropped in (1, 10, 100) or dropped % 10_000 == 0:
                log.warning("publish queue full: dropped %d oldest so far", dropped)

    def enqueue_many(self, items: list[Outgoing]) -> None:
        """Queue a batch with one wake-up of the writer (see :meth:`Outbox.put_many`)."""
        before = self._outbox.dropped
        self._outbox.put_many(items)
        dropped = self._outbox.dropped - before
        if dropped:
            self.stats.publish_failed += dropped
            log.warning("publish queue full: dropped %d oldest", dropped)

    async def run(self) -> None:
        """Drain the outbox until it is closed and flushed (then set ``flushed``); while
        Redis is unreachable discard, count, retry with backoff, and alert once back."""
        down = False  # Redis unreachable: discard, count, retry with backoff
        lost = 0  # messages lost in the current outage
        backoffs = self._backoffs()
        client = self._client_or_fail()
        while True:
            if down:
                if self._outbox.closed:  # closing during an outage: nothing can be flushed
                    self._discard_queued()
                    self.flushed.set()
                    return
                await trio.sleep(next(backoffs))
                lost += self._discard_queued()
                try:
                    await self._aio(client.ping)()
                except _TRANSPORT_ERRORS:
                    continue
                self.stats.reconnects += 1
                log.warning("Redis at %s is back; %d messages were lost", self.safe_url, lost)
                # Let our own subscriptions come back first, so the alert reaches them too.
                with trio.move_on_after(self._alert_wait):
                    await self._reader_up().wait()
                alert = SystemAlert(
                    type=ALERT_TYPE,
                    service="bus",
                    error=f"{lost} messages could not be published while Redis was unreachable",
                    timestamp=now_ms(),
                    severity="warning",
                    details={"lost": str(lost), "url": self.safe_url},
                )
                if await self._send([Outgoing(Channel.SYSTEM_ALERTS, codec.encode(alert))]):
                    down, lost = False, 0
                    backoffs = self._backoffs()
                continue
            try:
                # One session per connection; it returns once the outbox is closed
                # (aclose), drained and answered.
                params = self._params_or_fail()
                await _trio_publish.publish_session(
                    params, self._outbox, self._max_batch, self._on_sent
                )
            except _TRANSPORT_ERRORS as exc:
                if isinstance(exc, NotResp):
                    self.stats.protocol_errors += 1
                failed, self._outbox.in_flight = self._outbox.in_flight, 0
                self.stats.publish_failed += failed
                down, lost = True, failed
                log.warning(
                    "cannot publish to Redis at %s (%s: %s); retrying with backoff",
                    self.safe_url,
                    type(exc).__name__,
                    self._scrub(exc),
                )
                continue
            self.flushed.set()
            return

    def _on_sent(self, sent: int, refused: int, first_error: str) -> None:
        self.stats.published += sent
        if refused:
            self.stats.publish_failed += refused
            log.warning("Redis refused %d queued writes: %s", refused, self._scrub(first_error))

    async def _send(self, batch: list[Outgoing]) -> bool:
        """One pipeline in its own crossing (rare messages such as the outage alert);
        False (all counted as failed) when Redis is unreachable."""
        try:
            failed, first_error = await self._aio(send_batch)(self._client_or_fail(), batch)
        except _TRANSPORT_ERRORS as exc:
            self.stats.publish_failed += len(batch)
            log.warning(
                "cannot publish to Redis at %s (%s: %s); retrying with backoff",
                self.safe_url,
                type(exc).__name__,
                self._scrub(exc),
            )
            return False
        self._on_sent(len(batch) - failed, failed, first_error)
        return True

    def _discard_queued(self) -> int:
        n = len(self._outbox)
        self._outbox.items.clear()
        self.stats.publish_failed += n
        return n

    def _params_or_fail(self) -> ConnParams:
        if self.params is None:
            raise BusError("the Redis bus is not running")
        return self.params

    def _client_or_fail(self) -> Redis:
        if self.client is None:
            raise BusError("the Redis bus is not running")
        return self.client
