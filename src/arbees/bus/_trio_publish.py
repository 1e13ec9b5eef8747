"""The publisher connection, Trio-native: the outbox drained in pipelines over a Trio stream.

Three tasks share one connection (:class:`~arbees.bus._trio_conn.RespStream`):

* the **writer** sleeps until the :class:`~arbees.bus._redis_aio.Outbox`'s waker (called
  by every ``put``) wakes it, then takes everything waiting (at most ``limit`` items, and
  never more than ``max(2 * limit, 1024)`` unanswered) and writes ``HSET`` + ``PUBLISH``
  per item in ONE ``send_all``. A lone update leaves one scheduling round after its
  ``put``; under load every round's updates leave as one write.
* the **reader** feeds every read to the sans-io parser and counts the replies per item
  (an item is sent when all of its replies are in, refused when one is an error reply),
  so the next batch never waits for the previous batch's replies.
* the **watchdog** fails the connection when replies are due and none came for
  ``command_timeout`` (a hung server).

The session returns once the outbox is closed, empty and answered. On a lost connection
it raises an :class:`OSError` with ``outbox.in_flight`` holding how many written items
got no reply: the caller (:class:`~arbees.bus._redis_pub.PublishSide`) counts them and
runs the outage protocol, exactly as for the asyncio path.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable

import trio

from arbees.bus._redis_aio import Outbox
from arbees.bus._resp import RespError
from arbees.bus._resp_conn import ConnParams
from arbees.bus._trio_conn import RespStream, open_stream

__all__ = ["publish_session"]

log = logging.getLogger(__name__)


class _Publisher:
    """One connection's writer, reader and watchdog, sharing the outbox and the count of
    replies due (see the module docstring)."""

    def __init__(
        self,
        conn: RespStream,
        outbox: Outbox,
        limit: int,
        on_sent: Callable[[int, int, str], None],
    ) -> None:
        self.conn = conn
        self.outbox = outbox
        self.limit = max(1, limit)
        self.max_in_flight = max(2 * self.limit, 1024)
        self.on_sent = on_sent
        self.expect: deque[int] = deque()  # replies still due, per written item
        self.left = 0  # replies still due for the item at the head
        self.refused = False  # the item at the head got an error reply
        self.progress = 0
        self.lot = trio.lowlevel.ParkingLot()
        self.done = trio.Event()
        self.error: OSError | None = None
        self.raw = conn.raw
        self.writing = False  # the writer task is inside a send
        self.unsent = b""  # what a direct write could not send at once

    def wake(self) -> None:
        """The outbox's waker (synchronous, called on the caller's task): with nothing in
        flight on a plain TCP connection the batch is written right here (as the replaced
        asyncio protocol did: one scheduling round less of latency, no writer wake-up);
        otherwise the writer task takes everything waiting on its next round."""
        outbox = self.outbox
        if (
            self.raw is not None
            and not outbox.in_flight
            and not self.writing
            and not self.unsent
            and outbox.items
            and not self.done.is_set()
        ):
            data = self.take()
            try:
                sent = self.raw.send(data)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                self.fail(ConnectionError(f"connection to Redis lost ({type(exc).__name__})"))
                return
            if sent == len(data):
                return
            self.unsent = data[sent:]
        self.lot.unpark_all()

    def take(self) -> bytes:
        """The next batch, encoded; counted in flight and in the replies expected."""
        outbox = self.outbox
        expect = self.expect
        batch = outbox.take(min(self.limit, self.max_in_flight - outbox.in_flight))
        chunks: list[bytes] = []
        for item in batch:
            replies = 0
            if item.key is not None and item.field is not None:
                chunks.append(_hset(item.key, item.field, item.payload))
                replies += 1
            if item.channel is not None:
                chunks.append(_publish(item.channel, item.payload))
                replies += 1
            expect.append(replies)
        outbox.in_flight += len(batch)
        return b"".join(chunks)

    def drained(self) -> bool:
        box = self.outbox
        return box.closed and not box.items and not box.in_flight

    def fail(self, error: OSError) -> None:
        if self.error is None and not self.done.is_set():
            self.error = error
        self.done.set()

    async def write(self) -> None:
        outbox = self.outbox
        items = outbox.items
        conn = self.conn
        while True:
            if self.unsent:
                data, self.unsent = self.unsent, b""
            elif self.drained():
                self.done.set()
                return
            elif not items or outbox.in_flight >= self.max_in_flight:
                await self.lot.park()
                continue
            else:
                data = self.take()
            self.writing = True
            try:
                await conn.send(data)
            finally:
                self.writing = False

    async def read(self) -> None:
        conn = self.conn
        outbox = self.outbox
        expect = self.expect
        while True:
            values = conn.feed(await conn.receive())
            sent = refused = 0
            first_error = ""
            for value in values:
                if not self.left:
                    if not expect:
                        log.warning("unexpected reply from Redis: %.80r", value)
                        continue
                    self.left = expect.popleft()
                    self.refused = False
                if isinstance(value, RespError):
                    self.refused = True
                    first_error = first_error or str(value)
                self.left -= 1
                if not self.left:
                    if self.refused:
                        refused += 1
                    else:
                        sent += 1
            done = sent + refused
            if done:
                self.progress += 1
                outbox.in_flight -= done
                self.on_sent(sent, refused, first_error)
                if outbox.items or outbox.closed:
                    self.wake()  # room in the pipeline, or the last reply of a closing outbox

    async def watch(self, period: float) -> None:
        """Fail when writes were unanswered at the start of a whole ``period`` and no
        reply came during it (a write made just before a check is not yet overdue)."""
        while True:
            seen = self.progress
            due = self.outbox.in_flight > 0
            await trio.sleep(period)
            if due and self.outbox.in_flight and self.progress == seen:
                raise TimeoutError(f"no reply from Redis for {period} s")

    async def guarded(self, task: Callable[[], Awaitable[None]]) -> None:
        try:
            await task()
        except OSError as exc:
            self.fail(exc)


async def publish_session(
    params: ConnParams,
    outbox: Outbox,
    limit: int,
    on_sent: Callable[[int, int, str], None],
) -> None:
    """Connect and drain ``outbox`` in pipelines until it is closed and answered.

    ``on_sent(sent, refused, first_error)`` is called per read that completed replies.
    On a lost connection raises :class:`OSError` (``ConnectionError``, ``TimeoutError``)
    with ``outbox.in_flight`` holding how many written items got no reply.
    """
    conn = await open_stream(params)
    pub = _Publisher(conn, outbox, limit, on_sent)
    outbox.waker = pub.wake
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(pub.guarded, pub.write)
            nursery.start_soon(pub.guarded, pub.read)
            nursery.start_soon(pub.guarded, lambda: pub.watch(params.command_timeout))
            await pub.done.wait()
            nursery.cancel_scope.cancel()
    finally:
        if outbox.waker == pub.wake:
            outbox.waker = None
        await conn.aclose()
    if pub.error is not None:
        raise pub.error


def _hset(key: str, field: str, payload: bytes) -> bytes:
    """``encode_command(b"HSET", key, field, payload)`` in one formatting step (the monitor
    writes one per update)."""
    raw_key = key.encode()
    raw_field = field.encode()
    return b"*4\r\n$4\r\nHSET\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (
        len(raw_key),
        raw_key,
        len(raw_field),
        raw_field,
        len(payload),
        payload,
    )


def _publish(channel: str, payload: bytes) -> bytes:
    raw = channel.encode()
    return b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (
        len(raw),
        raw,
        len(payload),
        payload,
    )
