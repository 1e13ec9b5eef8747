"""Raw RESP connections for the bus's two hot paths (asyncio side; no Trio here).

Why: under trio-asyncio every asyncio wake-up (a future's callback, a task step, a
``StreamReader`` waking its reader) costs a whole Trio scheduling round, and redis-py's
asyncio client needs several per command and per pub/sub message. These connections are
plain ``asyncio.Protocol`` objects instead:

* :class:`PubSubProtocol` parses pushes straight from ``data_received`` and hands each
  socket read's messages, as one batch, to a synchronous callback (the Trio side's
  fan-out). No task, no future, no wake-up between the socket and the subscriber's queue.
* :class:`PublisherProtocol` drains the :class:`~arbees.bus._redis_aio.Outbox`: when
  nothing is awaiting a reply it writes at once (from the Outbox's waker, inside the
  caller's ``put``: measured ~20 µs less latency than a loop round); while replies are
  due it coalesces everything that arrives into ONE asyncio callback (``call_soon``) per
  batch. Either way pipelined ``PUBLISH``/``HSET`` commands go out in one
  ``transport.write`` and the replies are counted as they arrive, so the next batch
  never waits for the previous batch's replies. A watchdog fails the connection when
  replies stop coming for ``command_timeout``.

Connecting honours what redis-py would do for the same URL: host/port/db, ``AUTH``
(password, or ACL user + password) and TLS for ``rediss://`` (the SSL context is built
by redis-py's own ``SSLConnection`` from the URL's options), then ``SELECT`` and ``PING``.
The key/value calls keep using redis-py. A lost connection ends a session by raising
:class:`ConnectionError`; the Trio side (:mod:`arbees.bus.redis`) backs off and starts a
new session (which re-subscribes every channel).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import attrs
from redis.asyncio import Redis

from arbees.bus._redis_aio import Outbox, PubSubEvent
from arbees.bus._resp import ProtocolError, RespError, RespParser, encode_command

__all__ = [
    "ConnParams",
    "PubSubProtocol",
    "PublisherProtocol",
    "conn_params",
    "open_resp",
    "publish_session",
    "pubsub_session",
]

log = logging.getLogger(__name__)

P = TypeVar("P", bound="RespProtocol")


@attrs.frozen(repr=False)
class ConnParams:
    """Where and how to open a raw connection (derived from redis-py's parsed URL).

    Attributes:
        host: server host name or address.
        port: TCP port.
        db: database number (``SELECT``-ed when not 0).
        username: ACL user, or ``None`` for the default user.
        password: password, or ``None`` (never shown in ``repr``).
        ssl: the TLS context for ``rediss://``, else ``None``.
        connect_timeout: seconds for TCP + TLS + handshake.
        command_timeout: seconds a command's reply may take.
    """

    host: str
    port: int
    db: int = 0
    username: str | None = None
    password: str | None = None
    ssl: ssl.SSLContext | None = None
    connect_timeout: float = 2.0
    command_timeout: float = 5.0

    def __repr__(self) -> str:
        scheme = "rediss" if self.ssl else "redis"
        return f"ConnParams({scheme}://{self.host}:{self.port}/{self.db})"


def conn_params(client: Redis, connect_timeout: float, command_timeout: float) -> ConnParams:
    """The parameters redis-py parsed from the URL for ``client``'s connections."""
    pool = client.connection_pool
    conn: Any = pool.connection_class(**pool.connection_kwargs)
    context = conn.ssl_context.get() if hasattr(conn, "ssl_context") else None
    return ConnParams(
        host=conn.host,
        port=int(conn.port),
        db=int(conn.db or 0),
        username=conn.username or None,
        password=conn.password,
        ssl=context,
        connect_timeout=connect_timeout,
        command_timeout=command_timeout,
    )


class RespProtocol(asyncio.Protocol):
    """A RESP connection: request/reply commands until a subclass takes over the stream."""

    def __init__(self, command_timeout: float) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = RespParser()
        self.command_timeout = command_timeout
        self._waiters: deque[asyncio.Future[object]] = deque()
        # Kept: the Outbox's waker runs on Trio tasks, where no asyncio loop is "running".
        self.loop = asyncio.get_running_loop()
        self._lost: asyncio.Future[None] = self.loop.create_future()

    # -- asyncio.Protocol ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        error = ConnectionError(
            f"connection to Redis lost ({type(exc).__name__})"
            if exc
            else "Redis closed the connection"
        )
        self._fail(error)

    def data_received(self, data: bytes) -> None:
        try:
            values = self.parser.feed(data)
        except ProtocolError as exc:
            self._fail(ConnectionError(f"Redis sent bytes that are not RESP: {exc}"))
            return
        if values:
            self.on_values(values)

    def on_values(self, values: list[object]) -> None:
        for value in values:
            if self._waiters:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.set_result(value)
            else:
                log.debug("unexpected reply from Redis: %.80r", value)

    # -- helpers ---------------------------------------------------------------

    def _fail(self, error: Exception) -> None:
        if not self._lost.done():
            self._lost.set_exception(error)
            self._lost.exception()  # retrieved: no "never retrieved" warning if unused
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(error)
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()

    def write(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            raise ConnectionError("the connection to Redis is closed")
        self.transport.write(data)

    async def command(self, *args: bytes | str | int) -> object:
        """Send one command and wait for its reply (an error reply raises)."""
        waiter: asyncio.Future[object] = self.loop.create_future()
        self.write(encode_command(*args))
        self._waiters.append(waiter)
        reply = await asyncio.wait_for(waiter, self.command_timeout)
        if isinstance(reply, RespError):
            name = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
            raise ConnectionError(f"Redis refused {name.upper()}: {reply}")
        return reply

    async def wait_lost(self) -> None:
        """Return never; raise :class:`ConnectionError` once the connection is gone."""
        await asyncio.shield(self._lost)

    def close(self) -> None:
        if not self._lost.done():
            self._lost.set_result(None)
        if self.transport is not None:
            self.transport.abort()


async def open_resp(params: ConnParams, factory: Callable[[float], P]) -> P:
    """Connect, authenticate, select the database and PING; close on any failure."""
    loop = asyncio.get_running_loop()
    connect = loop.create_connection(
        lambda: factory(params.command_timeout), params.host, params.port, ssl=params.ssl
    )
    _, protocol = await asyncio.wait_for(connect, params.connect_timeout)
    try:
        if params.password is not None:
            user = (params.username,) if params.username else ()
            await protocol.command("AUTH", *user, params.password)
        if params.db:
            await protocol.command("SELECT", params.db)
        if await protocol.command("PING") != "PONG":
            raise ConnectionError("Redis did not answer PING with PONG")
    except BaseException:
        protocol.close()
        raise
    return protocol


# -- pub/sub -------------------------------------------------------------------------

_KINDS = {b"message": "message", b"subscribe": "subscribe", b"unsubscribe": "unsubscribe"}


class PubSubProtocol(RespProtocol):
    """The pub/sub connection: pushes in, batches out to ``deliver`` (set by :meth:`start`)."""

    def __init__(self, command_timeout: float) -> None:
        super().__init__(command_timeout)
        self._deliver: Callable[[list[PubSubEvent]], None] | None = None

    def start(self, deliver: Callable[[list[PubSubEvent]], None]) -> None:
        """From now on every push goes to ``deliver``, one call per socket read."""
        self._deliver = deliver

    def on_values(self, values: list[object]) -> None:
        deliver = self._deliver
        if deliver is None:
            super().on_values(values)
            return
        batch: list[PubSubEvent] = []
        for value in values:
            if type(value) is list and len(value) == 3:
                kind = _KINDS.get(value[0])
                if kind is not None:
                    batch.append(PubSubEvent(kind, value[1], value[2]))
                    continue
            if isinstance(value, RespError):
                log.warning("Redis pub/sub error: %s", value)
            else:
                log.debug("ignoring pub/sub reply %.80r", value)
        if batch:
            try:
                deliver(batch)
            except Exception:  # a bug; raising here would end trio-asyncio's whole loop
                log.exception("pub/sub delivery failed; %d events lost", len(batch))

    def subscribe(self, channels: Iterable[str]) -> None:
        names = list(channels)
        if names:
            self.write(encode_command("SUBSCRIBE", *names))

    def unsubscribe(self, channels: Iterable[str]) -> None:
        names = list(channels)
        if names:
            self.write(encode_command("UNSUBSCRIBE", *names))


async def pubsub_session(
    params: ConnParams,
    channels: Callable[[], Iterable[str]],
    deliver: Callable[[list[PubSubEvent]], None],
    on_connected: Callable[[PubSubProtocol | None], None],
) -> None:
    """Connect, subscribe to ``channels()``, deliver pushes until the connection is lost.

    ``on_connected(protocol)`` is called once subscribed (the Trio side sends later
    SUBSCRIBE/UNSUBSCRIBE through it), ``on_connected(None)`` when the session ends.
    Raises :class:`ConnectionError` (or another ``OSError``) on loss.
    """
    protocol = await open_resp(params, PubSubProtocol)
    try:
        protocol.start(deliver)
        protocol.subscribe(channels())
        on_connected(protocol)
        await protocol.wait_lost()
    finally:
        on_connected(None)
        protocol.close()


async def subscribe(protocol: PubSubProtocol, channels: list[str]) -> None:
    """SUBSCRIBE on the live connection (confirmations arrive as pushes)."""
    protocol.subscribe(channels)


async def unsubscribe(protocol: PubSubProtocol, channels: list[str]) -> None:
    protocol.unsubscribe(channels)


# -- publishing ----------------------------------------------------------------------


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
