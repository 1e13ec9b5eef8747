"""Raw RESP connections for the bus's hot paths, Trio-native: the shared part.

Why: under trio-asyncio every asyncio wake-up costs a whole Trio scheduling round, and
even raw ``asyncio.Protocol`` connections (what the bus used before, up to commit
eb0be9d) paid the bridge's loop machinery on every write and every read. Here the hot
paths speak RESP over
a plain :class:`trio.SocketStream` (wrapped in a :class:`trio.SSLStream` for
``rediss://``), driving the same sans-io :class:`~arbees.bus._resp.RespParser`: no asyncio
at all between the socket and the bus's queues.

Connecting does what the asyncio path does for the same URL (the parameters come from
redis-py's parse of it, :func:`~arbees.bus._resp_conn.conn_params`): TCP (+ TLS with the
context redis-py built, checking the host name when the context asks to), ``AUTH``
(password, or ACL user + password), ``SELECT`` when the db is not 0, then ``PING``; RESP2
(no ``HELLO``). A failure raises an :class:`OSError` (``ConnectionError``,
``TimeoutError``) whose text never holds the password: Redis's refusal text is the
server's (``WRONGPASS ...``), and the command's arguments are never echoed.
"""

from __future__ import annotations

import logging
import os
import socket

import trio

from arbees.bus._resp import ProtocolError, RespError, RespParser, encode_command
from arbees.bus._resp_conn import ConnParams

__all__ = ["RespStream", "open_stream", "transport_error"]

log = logging.getLogger(__name__)

_READ = 65_536
_RUN = 16  # reads in a row without a wait after which receive() yields


def transport_error(exc: BaseException) -> OSError:
    """The :class:`OSError` a session raises for a Trio stream failure (the bus's sides
    treat every ``OSError`` as "Redis unreachable")."""
    if isinstance(exc, OSError):
        return exc
    if isinstance(exc, trio.TooSlowError):
        return TimeoutError("Redis did not answer in time")
    return ConnectionError(f"connection to Redis lost ({type(exc).__name__})")


STREAM_ERRORS = (OSError, trio.BrokenResourceError, trio.ClosedResourceError)
"""What reading or writing a Trio stream raises when the connection is gone."""


class RespStream:
    """One RESP connection over a Trio stream: a parser, a send lock, request/reply for
    the handshake. The sessions read it themselves once set up.

    Attributes:
        stream: the byte stream (TCP, or TLS over TCP).
        parser: the incremental RESP parser fed by every read.
        command_timeout: seconds a reply may take.
        raw: for a plain TCP connection, a second handle on the same socket (non-blocking)
            that the publisher writes through synchronously when nothing else is being
            written (no scheduling round before the bytes leave); ``None`` for TLS.
    """

    def __init__(
        self, stream: trio.abc.Stream, command_timeout: float, raw: socket.socket | None = None
    ) -> None:
        self.stream = stream
        self.raw = raw
        self.parser = RespParser()
        self.command_timeout = command_timeout
        self._send_lock = trio.StrictFIFOLock()
        self._ready: list[object] = []  # parsed values not yet taken by command()
        # receive() through `raw`: the socket Trio waits on (the stream's own), whether
        # the last read drained it, reads in a row without a wait
        self._socket = stream.socket if isinstance(stream, trio.SocketStream) else None
        self._drained = True
        self._run = 0

    def __repr__(self) -> str:
        return f"RespStream({type(self.stream).__name__})"

    async def send(self, data: bytes) -> None:
        """Write ``data`` whole; raise :class:`OSError` on loss. One writer at a time: a
        connection written by several tasks uses :meth:`send_shared`."""
        try:
            await self.stream.send_all(data)
        except STREAM_ERRORS as exc:
            raise transport_error(exc) from None

    async def send_shared(self, data: bytes) -> None:
        """:meth:`send` for a connection several tasks write (they take turns)."""
        async with self._send_lock:
            await self.send(data)

    async def receive(self) -> bytes | bytearray:
        """The next bytes read; :class:`ConnectionError` when Redis closed the connection.

        On plain TCP the bytes are read through :attr:`raw`, after waiting for the socket
        to be readable when the last read drained it: one scheduling round per read.
        ``SocketStream.receive_some`` took two and a failed ``recv`` — it tries the read
        first (``EAGAIN`` on a drained socket), waits, reads, then yields once more after
        the successful read (``bench shard``: the reader's share of the shard's CPU, most
        of it per read). A read that fills the buffer is followed by another without
        waiting; every call checks for cancellation and every ``_RUN``-th read in a row
        without a wait yields, so a flood never holds the scheduler."""
        raw, sock = self.raw, self._socket
        if raw is None or sock is None:
            try:
                data = await self.stream.receive_some(_READ)
            except STREAM_ERRORS as exc:
                raise transport_error(exc) from None
            if not data:
                raise ConnectionError("Redis closed the connection")
            return data
        if self._drained:
            self._run = 0
            try:
                await trio.lowlevel.wait_readable(sock)
            except STREAM_ERRORS as exc:
                raise transport_error(exc) from None
        else:
            self._run += 1
            if self._run >= _RUN:
                self._run = 0
                await trio.lowlevel.checkpoint()
            else:
                await trio.lowlevel.checkpoint_if_cancelled()
        while True:
            try:
                data = raw.recv(_READ)
            except BlockingIOError:  # woken without data (spurious): wait again
                try:
                    await trio.lowlevel.wait_readable(sock)
                except STREAM_ERRORS as exc:
                    raise transport_error(exc) from None
                continue
            except OSError as exc:
                raise transport_error(exc) from None
            break
        if not data:
            raise ConnectionError("Redis closed the connection")
        self._drained = len(data) < _READ
        return data

    def feed(self, data: bytes | bytearray) -> list[object]:
        """Parse ``data``; on bytes that are not RESP log, keep what came before them in
        ``ProtocolError.values`` and raise :class:`ConnectionError` carrying it."""
        try:
            return self.parser.feed(data)
        except ProtocolError as exc:
            log.warning("Redis sent bytes that are not RESP (%s); dropping the connection", exc)
            raise NotResp(exc) from None

    async def command(self, *args: bytes | str | int) -> object:
        """Send one command and wait for its reply (an error reply raises
        :class:`ConnectionError` naming the command, never its arguments)."""
        await self.send(encode_command(*args))
        with trio.move_on_after(self.command_timeout):
            while not self._ready:
                self._ready.extend(self.feed(await self.receive()))
        if not self._ready:
            raise TimeoutError(f"no reply from Redis in {self.command_timeout} s")
        reply = self._ready.pop(0)
        if isinstance(reply, RespError):
            name = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
            raise ConnectionError(f"Redis refused {name.upper()}: {reply}")
        return reply

    async def aclose(self) -> None:
        if self.raw is not None:
            self.raw.close()
        await trio.aclose_forcefully(self.stream)


class NotResp(ConnectionError):
    """Redis sent bytes that are not RESP (or broke a parser limit).

    Attributes:
        values: the complete values parsed from the same read before the bad bytes.
    """

    def __init__(self, error: ProtocolError) -> None:
        super().__init__(f"Redis sent bytes that are not RESP: {error}")
        self.values: list[object] = error.values


async def open_stream(params: ConnParams) -> RespStream:
    """Connect, authenticate, select the database and PING; close on any failure.

    Raises :class:`OSError` (``TimeoutError`` after ``params.connect_timeout``)."""
    stream: trio.abc.Stream | None = None
    raw: socket.socket | None = None
    try:
        with trio.fail_after(params.connect_timeout):
            tcp = await trio.open_tcp_stream(params.host, params.port)
            stream = tcp
            if params.ssl is not None:
                tls = trio.SSLStream(tcp, params.ssl, server_hostname=params.host)
                stream = tls
                await tls.do_handshake()
            else:
                raw = socket.socket(fileno=os.dup(tcp.socket.fileno()))
                raw.setblocking(False)
            conn = RespStream(stream, params.command_timeout, raw)
            if params.password is not None:
                user = (params.username,) if params.username else ()
                await conn.command("AUTH", *user, params.password)
            if params.db:
                await conn.command("SELECT", params.db)
            if await conn.command("PING") != "PONG":
                raise ConnectionError("Redis did not answer PING with PONG")
            return conn
    except BaseException as exc:
        if raw is not None:
            raw.close()
        if stream is not None:
            await trio.aclose_forcefully(stream)
        if isinstance(exc, (*STREAM_ERRORS, trio.TooSlowError)):
            raise transport_error(exc) from None
        raise
