"""The pub/sub connection, Trio-native: pushes parsed per read and handed over as one batch.

:class:`PubSubStream` reads its Trio stream in one task, feeds every read to the sans-io
parser and hands that read's messages, as one batch, to a synchronous callback (the
bus's fan-out, which only appends to the subscribers' drop-oldest queues). No asyncio,
no bridge, no task or wake-up between the socket and the subscriber's queue; a
subscriber woken once finds every message of the read already queued, so a consumer
that drains its queue takes them as one batch. ONE connection carries every
subscription.

A pub/sub connection only ever receives, so a peer that vanished without a FIN or RST
would look like a quiet channel forever: after ``command_timeout`` without a byte the
session sends PING, and fails the connection if the next ``command_timeout`` brings
nothing either. Bytes that are not RESP (or break a parser limit) end the session with
:class:`~arbees.bus._trio_conn.NotResp` after the messages that came before them are
delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

import trio

from arbees.bus._redis_aio import PubSubEvent
from arbees.bus._resp import RespError, encode_command
from arbees.bus._resp_conn import ConnParams
from arbees.bus._trio_conn import NotResp, RespStream, open_stream

__all__ = ["PubSubStream", "pubsub_session"]

log = logging.getLogger(__name__)

_KINDS = {b"message": "message", b"subscribe": "subscribe", b"unsubscribe": "unsubscribe"}
_PING = b"*1\r\n$4\r\nPING\r\n"


class PubSubStream:
    """The live pub/sub connection: SUBSCRIBE/UNSUBSCRIBE go out through it."""

    def __init__(self, conn: RespStream, deliver: Callable[[list[PubSubEvent]], None]) -> None:
        self.conn = conn
        self.deliver = deliver
        self.reads = 0

    def __repr__(self) -> str:
        return f"PubSubStream(reads={self.reads})"

    async def subscribe(self, channels: Iterable[str]) -> None:
        names = list(channels)
        if names:
            await self.conn.send_shared(encode_command("SUBSCRIBE", *names))

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        names = list(channels)
        if names:
            await self.conn.send_shared(encode_command("UNSUBSCRIBE", *names))

    async def read(self) -> None:
        """Deliver every read's pushes until the connection is lost (then raise)."""
        conn = self.conn
        while True:
            data = await conn.receive()
            self.reads += 1
            try:
                values = conn.feed(data)
            except NotResp as exc:
                self.on_values(exc.values)  # what came before the bad bytes is good
                raise
            self.on_values(values)

    def on_values(self, values: list[object]) -> None:
        batch: list[PubSubEvent] = []
        for value in values:
            if type(value) is list and len(value) == 3:
                kind = _KINDS.get(value[0])
                if kind is not None:
                    batch.append(PubSubEvent(kind, value[1], value[2]))
                    continue
            if isinstance(value, RespError):
                log.warning("Redis pub/sub error: %s", value)
            elif type(value) is list and value and value[0] == b"pong":
                pass  # the liveness check's answer
            else:
                log.debug("ignoring pub/sub reply %.80r", value)
        if batch:
            try:
                self.deliver(batch)
            except Exception:  # a bug downstream: lose this read's events, not the bus
                log.exception("pub/sub delivery failed; %d events lost", len(batch))

    async def watch(self, period: float) -> None:
        """PING after ``period`` of silence; fail after another ``period`` of it."""
        pinged = False
        while True:
            seen = self.reads
            await trio.sleep(period)
            if self.reads != seen:
                pinged = False  # traffic: alive
            elif pinged:
                raise TimeoutError(f"no reply to PING from Redis in {period} s")
            else:
                await self.conn.send_shared(_PING)
                pinged = True


async def pubsub_session(
    params: ConnParams,
    channels: Callable[[], Iterable[str]],
    deliver: Callable[[list[PubSubEvent]], None],
    on_connected: Callable[[PubSubStream | None], None],
) -> None:
    """Connect, subscribe to ``channels()``, deliver pushes until the connection is lost.

    ``on_connected(stream)`` is called once the SUBSCRIBE is written (the bus sends later
    SUBSCRIBE/UNSUBSCRIBE through it), ``on_connected(None)`` when the session ends.
    Raises :class:`OSError` on loss (:class:`~arbees.bus._trio_conn.NotResp` for bytes
    that are not RESP).
    """
    conn = await open_stream(params)
    session = PubSubStream(conn, deliver)
    error: OSError | None = None

    async def guarded(task: Callable[[], Awaitable[None]], cancel: trio.CancelScope) -> None:
        nonlocal error
        try:
            await task()
        except OSError as exc:
            error = error or exc
        cancel.cancel()

    try:
        await session.subscribe(channels())
        on_connected(session)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(guarded, session.read, nursery.cancel_scope)
            nursery.start_soon(
                guarded, lambda: session.watch(params.command_timeout), nursery.cancel_scope
            )
    finally:
        on_connected(None)
        await conn.aclose()
    raise error or ConnectionError("the pub/sub session ended")
