"""Raw RESP connections for the bus's hot paths (asyncio side; no Trio here): the shared part.

Why: under trio-asyncio every asyncio wake-up (a future's callback, a task step, a
``StreamReader`` waking its reader) costs a whole Trio scheduling round, and redis-py's
asyncio client needs several per command and per pub/sub message. The hot paths use plain
``asyncio.Protocol`` objects instead (:mod:`arbees.bus._resp_pubsub`,
:mod:`arbees.bus._resp_publish`), built on :class:`RespProtocol` here.

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
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
from redis.asyncio import Redis

from arbees.bus._resp import ProtocolError, RespError, RespParser, encode_command

__all__ = ["ConnParams", "RespProtocol", "conn_params", "open_resp"]

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
            # What came before the bad bytes is still good; the connection is not.
            if exc.values:
                self.on_values(exc.values)
            log.warning("Redis sent bytes that are not RESP (%s); dropping the connection", exc)
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
