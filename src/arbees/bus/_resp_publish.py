"""The publisher connection as an ``asyncio.Protocol`` (asyncio side; no Trio here).

:class:`PublisherProtocol` drains the :class:`~arbees.bus._redis_aio.Outbox`: when
nothing is awaiting a reply it writes at once (from the Outbox's waker, inside the
caller's ``put``: measured ~20 µs less latency than a loop round); while replies are due
it coalesces everything that arrives into ONE asyncio callback (``call_soon``) per batch.
Either way pipelined ``PUBLISH``/``HSET`` commands go out in one ``transport.write`` and
the replies are counted as they arrive, so the next batch never waits for the previous
batch's replies. A watchdog fails the connection when replies stop coming for
``command_timeout``. asyncio callbacks here never raise: trio-asyncio would end its whole
loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from arbees.bus._redis_aio import Outbox
from arbees.bus._resp import RespError, encode_command
from arbees.bus._resp_conn import ConnParams, RespProtocol, open_resp

__all__ = ["PublisherProtocol", "publish_session"]

log = logging.getLogger(__name__)


class PublisherProtocol(RespProtocol):
    """Pipelined writes from the outbox; replies counted as they come back."""

    def __init__(self, command_timeout: float) -> None:
        super().__init__(command_timeout)
        self._outbox: Outbox | None = None
        self._limit = 1
        self._max_in_flight = 1
        self._on_sent: Callable[[int, int, str], None] = _ignore
        self._expect: deque[int] = deque()  # replies still due, per written item
        self._left = 0  # replies still due for the item at the head
        self._refused = False  # the item at the head got an error reply
        self._paused = False
        self._scheduled = False
        self._progress = 0
        self._watch: asyncio.TimerHandle | None = None
        self._drained: asyncio.Future[None] = self.loop.create_future()

    def pump(
        self, outbox: Outbox, limit: int, on_sent: Callable[[int, int, str], None]
    ) -> asyncio.Future[None]:
        """Start draining ``outbox``; the future completes once it is closed and every
        write was answered (or fails with :class:`ConnectionError`)."""
        self._outbox = outbox
        self._limit = max(1, limit)
        self._max_in_flight = max(2 * self._limit, 1024)
        self._on_sent = on_sent
        outbox.waker = self.schedule
        self.schedule()
        return self._drained

    def schedule(self) -> None:
        if self._scheduled or self.transport is None:
            return
        outbox = self._outbox
        if outbox is not None and not outbox.in_flight and not self._paused:
            self._flush()  # idle pipeline: write now (one loop round less of latency)
            return
        self._scheduled = True
        self.loop.call_soon(self._flush)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self.schedule()

    def _flush(self) -> None:
        # An asyncio callback must not raise: trio-asyncio would end the whole loop.
        self._scheduled = False
        outbox = self._outbox
        transport = self.transport
        if outbox is None or transport is None or transport.is_closing() or self._lost.done():
            return  # connection_lost() fails the session and the Trio side counts
        items = outbox.items
        if items and not self._paused and outbox.in_flight < self._max_in_flight:
            batch = outbox.take(min(self._limit, self._max_in_flight - outbox.in_flight))
            chunks: list[bytes] = []
            expect = self._expect
            for item in batch:
                replies = 0
                if item.key is not None and item.field is not None:
                    chunks.append(encode_command(b"HSET", item.key, item.field, item.payload))
                    replies += 1
                if item.channel is not None:
                    chunks.append(_publish(item.channel, item.payload))
                    replies += 1
                expect.append(replies)
            outbox.in_flight += len(batch)
            transport.write(b"".join(chunks))
            if self._watch is None:
                self._arm_watchdog()
            if items:
                self.schedule()  # the rest after this turn's reads
        self._check_drained()

    def _check_drained(self) -> None:
        outbox = self._outbox
        if (
            outbox is not None
            and outbox.closed
            and not outbox.items
            and not outbox.in_flight
            and not self._drained.done()
        ):
            self._drained.set_result(None)

    def on_values(self, values: list[object]) -> None:
        outbox = self._outbox
        if outbox is None:
            super().on_values(values)
            return
        sent = refused = 0
        first_error = ""
        expect = self._expect
        for value in values:
            if not self._left:
                if not expect:
                    log.warning("unexpected reply from Redis: %.80r", value)
                    continue
                self._left = expect.popleft()
                self._refused = False
            if isinstance(value, RespError):
                self._refused = True
                first_error = first_error or str(value)
            self._left -= 1
            if not self._left:
                if self._refused:
                    refused += 1
                else:
                    sent += 1
        done = sent + refused
        if done:
            self._progress += 1
            outbox.in_flight -= done
            self._on_sent(sent, refused, first_error)
            if outbox.items:
                self.schedule()
            self._check_drained()

    def _arm_watchdog(self) -> None:
        self._watch = self.loop.call_later(
            self.command_timeout, self._check_progress, self._progress
        )

    def _check_progress(self, seen: int) -> None:
        self._watch = None
        outbox = self._outbox
        if outbox is None or not outbox.in_flight or self._lost.done():
            return
        if self._progress == seen:
            self._fail(TimeoutError(f"no reply from Redis for {self.command_timeout} s"))
            return
        self._arm_watchdog()

    def _fail(self, error: Exception) -> None:
        if not self._drained.done():
            self._drained.set_exception(error)
            self._drained.exception()
        super()._fail(error)

    def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if self._outbox is not None and self._outbox.waker == self.schedule:
            self._outbox.waker = None
        super().close()


def _ignore(sent: int, refused: int, first_error: str) -> None:
    """The default ``on_sent``."""


def _publish(channel: str, payload: bytes) -> bytes:
    raw = channel.encode()
    return b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (
        len(raw),
        raw,
        len(payload),
        payload,
    )


async def publish_session(
    params: ConnParams,
    outbox: Outbox,
    limit: int,
    on_sent: Callable[[int, int, str], None],
) -> None:
    """Connect and drain ``outbox`` in pipelines until it is closed and answered.

    ``on_sent(sent, refused, first_error)`` is called per batch of replies. On a lost
    connection raises :class:`ConnectionError` (or ``TimeoutError``) with
    ``outbox.in_flight`` holding how many written items got no reply.
    """
    protocol = await open_resp(params, PublisherProtocol)
    try:
        await protocol.pump(outbox, limit, on_sent)
    finally:
        protocol.close()
