"""The shared WebSocket driver: one long-lived, self-healing client connection.

Both venue feeds need the same unglamorous machinery around a WebSocket, and getting it
wrong shows up only in production after hours: a reader that stops reading (and with it
the automatic Pong replies) while the consumer is busy, a ``ping()`` that waits forever, a
socket that stays open and answers PONG while delivering no data, a reconnect loop that
hammers a venue in lock-step, or one that retries a 401 forever. :class:`WsDriver` owns all
of it so the venue code only says *what* to subscribe and *what* a message means:

* connects to ``ws://`` / ``wss://``, optionally through an HTTP ``CONNECT`` proxy
  (``proxy="http://user:pass@host:port"``; credentials are never logged or repr'd);
* calls ``headers()`` on EVERY connect (Kalshi signs each handshake);
* reads the socket itself (:class:`WsConnection`: ``wsproto`` for the handshake and what is
  sent, its own reader for server frames; no reader task, no message queue): every message
  one ``receive_some`` completed goes to the owner's ``on_batch`` (or ``on_message``, one by
  one) with no checkpoint in between, so a burst the venue wrote at once reaches the
  feed's consumer as one batch, and a lone message at once. Pings are answered as the read
  is processed. A message is bounded (2 MiB by default): one whose header goes past the
  cap closes the connection (code 1009), which is counted (``oversized``), logged and
  reconnected;
* optional text heartbeat (``"PING"`` every N s) and protocol ping, always bounded by
  ``trio.fail_after``;
* optional silence watchdog: no *data* message (decided by ``is_data``, so ``PONG`` does not
  count) for N seconds closes the socket and reconnects;
* reconnects with full-jitter exponential backoff (:class:`Backoff`), reset after a
  healthy connection; handshake statuses in ``fatal_statuses`` (default 401/403) are raised
  to the caller as :class:`WsRejectedError` / :class:`WsAuthError` instead of retried;
* an optional :class:`~arbees.gate.ConnectGate` (``gate``): every connection is opened
  inside ``gate.connection()``, which may wait before it and cancel it later (Polymarket:
  only on a fresh verified egress, closed when egress is lost), and every rejected
  handshake is reported to ``gate.refused(status, name)``;
* ``on_connect(ws)`` hook (send subscriptions; raise :class:`Reconnect` to start over),
  ``on_disconnect(reason)`` hook, counters in :class:`WsStats`, and a clean shutdown when its
  nursery is cancelled.

Example::

    driver = WsDriver(WsConfig("wss://example/ws", heartbeat_text="PING",
                               silence_timeout=60.0, is_data=lambda m: m != "PONG"),
                      on_message=handle, on_connect=subscribe)
    async with trio.open_nursery() as nursery:
        await nursery.start(driver.run)   # returns once connected and subscribed
"""

from __future__ import annotations

import base64
import contextlib
import inspect
import logging
import random
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Final, NoReturn, cast
from urllib.parse import urlsplit

import attrs
import trio
from trio_websocket import CloseReason, ConnectionClosed, ConnectionRejected, HandshakeError
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from arbees.config import redact_url
from arbees.errors import AuthError, ConfigError, VenueError
from arbees.gate import ConnectGate

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "Backoff",
    "ProxyError",
    "Reconnect",
    "WsAuthError",
    "WsConfig",
    "WsConnection",
    "WsDriver",
    "WsRejectedError",
    "WsStats",
    "open_ws_driver",
    "redact_url",
]

log = logging.getLogger(__name__)

Message = str | bytes
HeadersFn = Callable[[], Iterable[tuple[str, str]]]
OnMessage = Callable[[Message, int], Awaitable[None] | None]
OnBatch = Callable[[list[Message], int], None]
OnConnect = Callable[["WsConnection"], Awaitable[None]]
OnDisconnect = Callable[[str], Awaitable[None] | None]

_MAX_PROXY_RESPONSE: Final = 16 * 1024
_MESSAGE_TOO_BIG: Final = 1009  # RFC 6455 close code
DEFAULT_MAX_MESSAGE_SIZE: Final = 2 * 1024 * 1024
"""Largest message accepted by default (the venues' frames are far smaller; a Polymarket
initial dump of 500 deep books is the largest seen, well under this)."""
_RECEIVE_SIZE: Final = 64 * 1024
_MAX_REJECT_BODY: Final = 64 * 1024
_ABNORMAL: Final = 1006  # RFC 6455: closed without a close frame
_WRITE_ERRORS: Final = (trio.BrokenResourceError, trio.ClosedResourceError, OSError)


class Reconnect(Exception):
    """Raise from ``on_connect`` (or pass to :meth:`WsDriver.request_reconnect`) to start over."""


class ProxyError(HandshakeError):
    """The HTTP CONNECT proxy refused or garbled the tunnel (treated as transient)."""


class WsRejectedError(VenueError):
    """The server rejected the handshake with a status listed in ``fatal_statuses``.

    Attributes:
        status_code: the HTTP status of the rejection.
    """

    def __init__(self, message: str, *, status_code: int) -> None:
        self.status_code = status_code
        super().__init__(message)


class WsAuthError(WsRejectedError, AuthError):
    """A fatal rejection with 401/403: the venue refused our credentials."""


@attrs.frozen
class Backoff:
    """Full-jitter exponential backoff (AWS architecture blog, "Exponential Backoff And Jitter").

    The n-th consecutive failure waits ``uniform(0, min(cap, base * 2**n))`` seconds; a
    connection that stayed up for ``healthy_after`` seconds resets n to 0, and so does one
    that delivered data and then fell silent (the silence watchdog ended it): the venue
    answered and served, its market went quiet or its feed stalled, and the watchdog's
    own timeout already spaces those reconnects. Counting them as failures stacked the
    delay up to ``cap`` on a quiet market, so the next real drop waited up to ``cap``
    seconds to reconnect. A connection that delivers nothing before its silence still
    counts, as does any that ends some other way before ``healthy_after``.

    Attributes:
        base: first ceiling in seconds.
        cap: largest ceiling in seconds (every delay is <= cap).
        healthy_after: seconds a connection must live to reset the failure count.
    """

    base: float = 0.5
    cap: float = 30.0
    healthy_after: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Delay before retry number ``attempt`` (0-based)."""
        ceiling = min(self.cap, self.base * (2.0 ** min(attempt, 62)))
        return rng.uniform(0.0, ceiling)


def _no_headers() -> Iterable[tuple[str, str]]:
    return ()


@attrs.frozen
class WsConfig:
    """How to connect and keep a connection healthy.

    Attributes:
        url: ``ws://`` or ``wss://`` URL.
        headers: called on every connect; returns extra handshake headers ``(name, value)``.
        proxy: optional ``http://[user:pass@]host:port`` CONNECT proxy (redacted in repr).
        ssl_context: for ``wss://``; ``None`` means the default context.
        max_message_size: larger messages close the connection (code 1009): counted in
            ``WsStats.oversized``, logged, and reconnected with backoff.
        connect_timeout: bound on TCP + TLS + proxy + handshake.
        disconnect_timeout: bound on the closing handshake.
        heartbeat_text: text frame sent every ``heartbeat_interval`` s (e.g. ``"PING"``).
        heartbeat_interval: seconds between text heartbeats.
        ping_interval: seconds between protocol pings (``None`` = none); each is bounded
            by ``ping_timeout`` and a missing pong forces a reconnect.
        ping_timeout: seconds to wait for a protocol pong.
        silence_timeout: no data message for this long -> reconnect (``None`` = no watchdog).
        is_data: decides which messages feed the watchdog (default: all).
        backoff: reconnect policy.
        fatal_statuses: handshake rejections raised to the caller instead of retried.
        name: label for logs.
        gate: asked before every connection (see :mod:`arbees.gate`); ``None``: none.
    """

    url: str
    headers: HeadersFn = _no_headers
    proxy: str | None = attrs.field(default=None, repr=lambda p: "None" if p is None else "***")
    ssl_context: ssl.SSLContext | None = attrs.field(default=None, repr=False)
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    connect_timeout: float = 10.0
    disconnect_timeout: float = 2.0
    heartbeat_text: str | None = None
    heartbeat_interval: float = 10.0
    ping_interval: float | None = None
    ping_timeout: float = 10.0
    silence_timeout: float | None = None
    is_data: Callable[[Message], bool] | None = None
    backoff: Backoff = Backoff()
    fatal_statuses: frozenset[int] = frozenset({401, 403})
    name: str = "ws"
    gate: ConnectGate | None = attrs.field(default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        scheme = urlsplit(self.url).scheme
        if scheme not in ("ws", "wss"):
            raise ConfigError(f"WebSocket URL must be ws:// or wss://, got {scheme!r}")
        if self.proxy is not None and urlsplit(self.proxy).scheme != "http":
            raise ConfigError("proxy must be an http://host:port CONNECT proxy")
        if self.max_message_size < 1:
            raise ConfigError("max_message_size must be >= 1")


@attrs.define
class WsStats:
    """Counters of one driver (plain ints, read them any time).

    Attributes:
        connects: successful handshakes.
        reconnects: successful handshakes after the first.
        disconnects: established connections that ended.
        failures: connection attempts that failed before the handshake completed.
        messages: every message received.
        data_messages: messages that ``is_data`` accepted (they feed the watchdog).
        heartbeats: text heartbeats sent.
        watchdog_fires: reconnects caused by silence.
        oversized: connections closed because a message exceeded ``max_message_size``.
        last_delay: the last backoff delay slept, in seconds.
        backoff_step: the failure count the last drawn backoff delay used (its ceiling
            is ``min(cap, base * 2**backoff_step)``; 0 after a healthy connection; a
            requested reconnect draws none).
        last_reason: why the last connection ended (or failed).
        last_message_ns: wall clock of the last message received (any kind): on an
            ordered socket, proof that everything sent before it has arrived.
    """

    connects: int = 0
    reconnects: int = 0
    disconnects: int = 0
    failures: int = 0
    messages: int = 0
    data_messages: int = 0
    heartbeats: int = 0
    watchdog_fires: int = 0
    oversized: int = 0
    last_delay: float = 0.0
    backoff_step: int = 0
    last_reason: str = ""
    last_message_ns: int = 0


class _Silence(Exception):
    pass


_TRANSIENT: Final = (
    ConnectionClosed,
    HandshakeError,
    OSError,
    trio.BrokenResourceError,
    trio.ClosedResourceError,
    trio.TooSlowError,
    Reconnect,
    _Silence,
)


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        out: list[BaseException] = []
        for sub in exc.exceptions:
            out.extend(_leaves(sub))
        return out
    return [exc]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionClosed):
        code = exc.reason.code if exc.reason is not None else "?"
        if code == _MESSAGE_TOO_BIG:
            return f"a message exceeded max_message_size (code {code})"
        return f"connection closed (code {code})"
    if isinstance(exc, ConnectionRejected):
        return f"handshake rejected (HTTP {exc.status_code})"
    if isinstance(exc, _Silence):
        return str(exc)
    if isinstance(exc, Reconnect):
        return f"reconnect requested: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _too_big(exc: BaseException) -> bool:
    return (
        isinstance(exc, ConnectionClosed)
        and exc.reason is not None
        and exc.reason.code == _MESSAGE_TOO_BIG
    )


async def _maybe_await(result: Awaitable[None] | None) -> None:
    if result is not None and inspect.isawaitable(result):
        await result


async def _open_tunnel(proxy: str, host: str, port: int) -> trio.SocketStream:
    """Open a TCP stream to ``host:port`` through an HTTP CONNECT proxy."""
    p = urlsplit(proxy)
    if p.hostname is None:
        raise ConfigError("proxy URL has no host")
    stream = await trio.open_tcp_stream(p.hostname, p.port or 80)
    try:
        lines = [f"CONNECT {host}:{port} HTTP/1.1", f"Host: {host}:{port}"]
        if p.username is not None:
            cred = f"{p.username}:{p.password or ''}".encode()
            lines.append("Proxy-Authorization: Basic " + base64.b64encode(cred).decode())
        await stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = await stream.receive_some(4096)
            if not chunk:
                raise ProxyError("proxy closed the connection during CONNECT")
            buf += chunk
            if len(buf) > _MAX_PROXY_RESPONSE:
                raise ProxyError("proxy CONNECT response too large")
        head, _, rest = buf.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        fields = status_line.split(" ", 2)
        status = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0
        if status == 407:
            raise ConfigError("proxy rejected the credentials (HTTP 407)")
        if status != 200:
            raise ProxyError(f"proxy refused CONNECT (status line {status_line[:60]!r})")
        if rest:
            raise ProxyError("proxy sent data before the tunnel was used")
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise
    return stream


class WsConnection:
    """One open client WebSocket over a Trio stream.

    ``wsproto`` (sans-io) does the opening handshake and frames what is sent (masked, as a
    client must); incoming frames are read here, by a small RFC 6455 frame reader for a
    server with no extension negotiated (the client offers none): it is the monitor's
    hottest loop, and ``wsproto``'s general-purpose reader cost more than the rest of a
    frame's handling (issue 18 profile). Anything outside the protocol (a masked server
    frame, reserved bits or opcodes, a fragmented or long control frame, a continuation
    with nothing to continue, text that is not UTF-8) closes the connection with 1002 /
    1007, raised as ``ConnectionClosed``.

    Reading is the driver's: :meth:`receive_batch` makes ONE ``receive_some`` call and
    returns every message it completed, in order, so a burst the venue wrote at once reaches
    the feed (and its consumer) as one batch, with no reader task and no queue in between.
    Pings are answered, a close is answered and raised as ``ConnectionClosed``, and a
    message over ``max_message_size`` closes the connection with code 1009 (raised the
    same way) as soon as its header announces it, before it is buffered. Writes (the
    owner's frames, heartbeats, pings, pongs) go out one at a time under a FIFO lock.

    Attributes:
        closed: why the connection closed (``None`` while open).
    """

    def __init__(
        self,
        stream: trio.abc.Stream,
        proto: WSConnection,
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        receive_size: int = _RECEIVE_SIZE,
        buffered: bytes = b"",
    ) -> None:
        self.closed: CloseReason | None = None
        self._stream = stream
        self._proto = proto
        self._max = max_message_size
        self._receive_size = receive_size
        self._lock = trio.StrictFIFOLock()
        self._buf = bytearray(buffered)
        self._parts: list[bytes] = []
        self._opcode = 0  # of the fragmented message in progress (0: none)
        self._size = 0
        self._out = bytearray()
        self._pongs: dict[bytes, trio.Event] = {}
        self._ping_id = 0

    async def send_message(self, message: Message) -> None:
        """Send one text (``str``) or binary (``bytes``) message."""
        self._check_open()
        if isinstance(message, str):
            data = self._proto.send(TextMessage(data=message))
        else:
            data = self._proto.send(BytesMessage(data=message))
        await self._write(data)

    async def ping(self) -> None:
        """Send a protocol ping and wait for its pong (bound it with ``trio.fail_after``)."""
        self._check_open()
        self._ping_id += 1
        payload = self._ping_id.to_bytes(8, "big")
        event = self._pongs[payload] = trio.Event()
        try:
            await self._write(self._proto.send(Ping(payload=payload)))
            await event.wait()
        finally:
            self._pongs.pop(payload, None)

    async def receive_batch(self) -> list[Message]:
        """Read the socket once; the messages that read completed (maybe none: a ping, a
        partial message). Raises ``ConnectionClosed`` when the connection ends."""
        self._check_open()
        out: list[Message] = []
        if self._buf:  # bytes that came with the handshake's response
            self._frames(out)
            if out or self.closed is not None:
                return await self._finish(out)
        try:
            data = await self._stream.receive_some(self._receive_size)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            self._closed(_ABNORMAL, f"socket error: {exc}")
        if not data:
            self._closed(_ABNORMAL, "the server closed the socket without a close frame")
        self._buf += data
        self._frames(out)
        return await self._finish(out)

    async def aclose(self, grace: float) -> None:
        """Send a normal close (bounded by ``grace`` s) and close the stream."""
        with trio.move_on_after(grace) as scope:
            scope.shield = True
            if self.closed is None and self._proto.state is ConnectionState.OPEN:
                self.closed = CloseReason(1000, "client closing")
                with contextlib.suppress(*_WRITE_ERRORS, LocalProtocolError):
                    await self._write(self._proto.send(CloseConnection(code=1000)))
        await trio.aclose_forcefully(self._stream)

    # -- internals ------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed is not None:
            raise ConnectionClosed(self.closed)

    def _closed(self, code: int, reason: str) -> NoReturn:
        self.closed = CloseReason(code, reason)
        raise ConnectionClosed(self.closed)

    async def _finish(self, out: list[Message]) -> list[Message]:
        if self._out:
            data, self._out = bytes(self._out), bytearray()
            with contextlib.suppress(*_WRITE_ERRORS):
                await self._write(data)
        if self.closed is not None and not out:
            raise ConnectionClosed(self.closed)
        return out  # when closed, the messages before the close; the next call raises

    def _frames(self, out: list[Message]) -> None:
        """Parse every whole frame buffered; complete messages are appended to ``out``."""
        buf = self._buf
        end = len(buf)
        pos = 0
        while end - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if end - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                head = 4
            elif length == 127:
                if end - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                head = 10
            opcode = b0 & 0x0F
            if b1 & 0x80 or b0 & 0x70:
                self._fail(1002, "a masked frame or reserved bits from the server")
                break
            if opcode >= 8:
                if length > 125 or not b0 & 0x80:
                    self._fail(1002, "a long or fragmented control frame")
                    break
            elif self._size + length > self._max:
                self._too_big()
                break
            if end - pos < head + length:
                break
            start = pos + head
            pos = start + length
            payload = bytes(buf[start:pos])
            if opcode == 1 or opcode == 2:
                if self._opcode:
                    self._fail(1002, "a new message inside a fragmented one")
                    break
                if b0 & 0x80:
                    if not self._message(opcode, payload, out):
                        break
                else:
                    self._opcode, self._parts, self._size = opcode, [payload], length
            elif opcode == 0:
                if not self._opcode:
                    self._fail(1002, "a continuation frame with nothing to continue")
                    break
                self._parts.append(payload)
                self._size += length
                if b0 & 0x80:
                    first, parts = self._opcode, self._parts
                    self._opcode, self._parts, self._size = 0, [], 0
                    if not self._message(first, b"".join(parts), out):
                        break
            elif opcode == 9:
                self._out += self._proto.send(Pong(payload=payload))
            elif opcode == 10:
                waiter = self._pongs.get(payload)
                if waiter is not None:
                    waiter.set()
            elif opcode == 8:
                self._remote_close(payload)
                break
            else:
                self._fail(1002, f"reserved opcode {opcode}")
                break
        del buf[:pos]

    def _message(self, opcode: int, payload: bytes, out: list[Message]) -> bool:
        if opcode == 2:
            out.append(payload)
            return True
        try:
            out.append(payload.decode())
        except UnicodeDecodeError:
            self._fail(1007, "a text message that is not UTF-8")
            return False
        return True

    def _remote_close(self, payload: bytes) -> None:
        """The server's close frame: its code and reason, or — a one-byte payload, a code
        no endpoint may send (RFC 6455 7.4: under 1000, 1004-1006, 1015, 1016-2999, 5000
        and up), a reason that is not UTF-8 — a protocol error of our own (1002 / 1007),
        never a made-up code handed to the caller."""
        if len(payload) == 1:
            self._fail(1002, "a close frame with a one-byte payload")
            return
        if len(payload) >= 2:
            code = int.from_bytes(payload[:2], "big")
            if not (1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999):
                self._fail(1002, f"an invalid close code {code}")
                return
            try:
                reason = payload[2:].decode() or None
            except UnicodeDecodeError:
                self._fail(1007, "a close reason that is not UTF-8")
                return
        else:
            code, reason = 1005, None
        self.closed = CloseReason(code, reason)
        reply = code if code != 1005 else 1000
        with contextlib.suppress(LocalProtocolError):
            self._out += self._proto.send(CloseConnection(code=reply))

    def _fail(self, code: int, reason: str) -> None:
        self.closed = CloseReason(code, reason)
        self._parts, self._size, self._opcode = [], 0, 0
        with contextlib.suppress(LocalProtocolError):
            self._out += self._proto.send(CloseConnection(code=code, reason=reason))

    def _too_big(self) -> None:
        self._fail(_MESSAGE_TOO_BIG, "message too big")

    async def _write(self, data: bytes) -> None:
        async with self._lock:
            await self._stream.send_all(data)


async def _handshake(
    stream: trio.abc.Stream,
    host_header: str,
    resource: str,
    headers: list[tuple[bytes, bytes]],
    max_message_size: int,
) -> WsConnection:
    """The client opening handshake on ``stream``; raises ``ConnectionRejected`` with the
    server's status (and at most 64 KiB of its body) or ``HandshakeError``.

    Only the response head goes to ``wsproto``; what follows it in the same read (frames
    the server sent at once) is handed to the connection's own frame reader."""
    proto = WSConnection(ConnectionType.CLIENT)
    await stream.send_all(
        proto.send(Request(host=host_header, target=resource, extra_headers=headers))
    )
    received = bytearray()
    while (split := received.find(b"\r\n\r\n")) < 0:
        if len(received) > _MAX_REJECT_BODY:
            raise HandshakeError("the handshake response head is too large")
        data = await stream.receive_some(_RECEIVE_SIZE)
        if not data:
            raise HandshakeError("the server closed the connection during the handshake")
        received += data
    head, rest = bytes(received[: split + 4]), bytes(received[split + 4 :])
    rejected: RejectConnection | None = None
    body = bytearray()
    try:
        proto.receive_data(head)
        while True:
            for event in proto.events():
                if isinstance(event, AcceptConnection):
                    return WsConnection(
                        stream, proto, max_message_size=max_message_size, buffered=rest
                    )
                if isinstance(event, RejectConnection):
                    rejected = event
                    if not event.has_body:
                        raise ConnectionRejected(event.status_code, tuple(event.headers), None)
                elif isinstance(event, RejectData):
                    if len(body) < _MAX_REJECT_BODY:
                        body += event.data[: _MAX_REJECT_BODY - len(body)]
                    if event.body_finished and rejected is not None:
                        raise ConnectionRejected(
                            rejected.status_code, tuple(rejected.headers), bytes(body)
                        )
            if rejected is None:
                raise HandshakeError("no handshake response in the response head")
            if rest:
                data, rest = rest, b""
            else:
                data = await stream.receive_some(_RECEIVE_SIZE)
            if not data:
                raise ConnectionRejected(rejected.status_code, tuple(rejected.headers), bytes(body))
            proto.receive_data(cast(bytes, data))
    except RemoteProtocolError as exc:
        raise HandshakeError(f"bad handshake response: {exc}") from exc


@asynccontextmanager
async def _connect(
    config: WsConfig, headers: list[tuple[bytes, bytes]]
) -> AsyncIterator[WsConnection]:
    u = urlsplit(config.url)
    secure = u.scheme == "wss"
    host = u.hostname or ""
    port = u.port or (443 if secure else 80)
    resource = (u.path or "/") + (f"?{u.query}" if u.query else "")
    host_header = host if port in (80, 443) else f"{host}:{port}"
    stream: trio.SocketStream | trio.SSLStream[trio.SocketStream] | None = None
    try:
        with trio.fail_after(config.connect_timeout):
            if config.proxy is None:
                tcp = await trio.open_tcp_stream(host, port)
            else:
                tcp = await _open_tunnel(config.proxy, host, port)
            stream = tcp
            if secure:
                ctx = config.ssl_context or ssl.create_default_context()
                tls = trio.SSLStream(tcp, ctx, server_hostname=host, https_compatible=True)
                stream = tls
                await tls.do_handshake()
            ws = await _handshake(stream, host_header, resource, headers, config.max_message_size)
    except BaseException:
        if stream is not None:
            await trio.aclose_forcefully(stream)
        raise
    try:
        yield ws
    finally:
        await ws.aclose(config.disconnect_timeout)


class WsDriver:
    """A reconnecting WebSocket client; see the module docstring.

    ``on_batch(messages, recv_ns)``, when given, is called instead with all the messages
    one read completed (sync: a feed that applies a read and hands it on as one batch).

    ``on_message(message, recv_ns)`` is called for every message in arrival order
    (``recv_ns`` = ``time.time_ns()`` at the read that completed it); it may be sync
    (fastest: the messages of one read are delivered with no checkpoint in between) or
    async. A slow callback delays further reads and with them the Pong replies: every feed's
    is sync and never waits for its consumer.
    """

    def __init__(
        self,
        config: WsConfig,
        *,
        on_message: OnMessage | None = None,
        on_batch: OnBatch | None = None,
        on_connect: OnConnect | None = None,
        on_disconnect: OnDisconnect | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if (on_message is None) == (on_batch is None):
            raise ConfigError("give a WsDriver exactly one of on_message and on_batch")
        self.config = config
        self.stats = WsStats()
        self._on_message = on_message
        self._on_batch = on_batch
        self._on_connect = on_connect
        self._on_disconnect = on_disconnect
        self._rng = rng or random.Random()
        self._ws: WsConnection | None = None
        self._session_scope: trio.CancelScope | None = None
        self._reconnect_reason: str | None = None
        self._last_data = 0.0

    def __repr__(self) -> str:
        state = "connected" if self._ws is not None else "disconnected"
        return f"<WsDriver {self.config.name} {redact_url(self.config.url)} {state}>"

    @property
    def connected(self) -> bool:
        """True while a connection is open and ``on_connect`` has completed."""
        return self._ws is not None

    async def send(self, message: Message) -> None:
        """Send on the current connection; raises ``trio.ClosedResourceError`` when none."""
        ws = self._ws
        if ws is None:
            raise trio.ClosedResourceError(f"{self.config.name}: not connected")
        await ws.send_message(message)

    def request_reconnect(self, reason: str) -> None:
        """Close the current connection (if any) and reconnect at once, without backoff."""
        self._reconnect_reason = reason
        if self._session_scope is not None:
            self._session_scope.cancel()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Connect, keep connected, reconnect; returns only by cancellation or a fatal error.

        ``task_status.started()`` is called after the first connection is open and
        ``on_connect`` has returned. Transient failures before that are retried with backoff.
        """
        cfg = self.config
        attempt = 0
        started = False
        while True:
            self._reconnect_reason = None
            connected_at: float | None = None
            data_at_connect = 0
            silenced = False
            reason = ""
            try:
                # the gate is entered first: the handshake headers are made after any wait
                async with (
                    self._gated() as gate_scope,
                    _connect(cfg, self._headers()) as ws,
                ):
                    connected_at = trio.current_time()
                    data_at_connect = self.stats.data_messages
                    self.stats.connects += 1
                    if self.stats.connects > 1:
                        self.stats.reconnects += 1
                    log.info("%s: connected to %s", cfg.name, redact_url(cfg.url))
                    await self._session(ws)
                    if not started:
                        started = True
                        task_status.started()
                    await self._serve(ws)
                if gate_scope is not None and gate_scope.cancelled_caught:
                    reason = "closed by the connect gate (no longer allowed)"
            except Exception as exc:
                self._report_refusals(exc)
                fatal = self._fatal(exc)
                if fatal is not None:
                    raise fatal from exc
                if not all(isinstance(e, _TRANSIENT) for e in _leaves(exc)):
                    raise
                reason = "; ".join(_describe(e) for e in _leaves(exc))
                silenced = any(isinstance(e, _Silence) for e in _leaves(exc))
                if any(_too_big(e) for e in _leaves(exc)):
                    self.stats.oversized += 1
                    log.warning(
                        "%s: a message exceeded max_message_size (%d bytes): dropped with its "
                        "connection; raise the limit if the venue's messages legitimately grew",
                        cfg.name,
                        cfg.max_message_size,
                    )
            finally:
                self._ws = None
                self._session_scope = None
            requested = self._requested()
            if requested is not None:
                reason = f"reconnect requested: {requested}"
            if not reason:
                reason = "connection ended"
            self.stats.last_reason = reason
            if connected_at is None:
                self.stats.failures += 1
                log.warning("%s: connect failed: %s", cfg.name, reason)
            else:
                self.stats.disconnects += 1
                log.warning("%s: disconnected: %s", cfg.name, reason)
                served = silenced and self.stats.data_messages > data_at_connect
                if served or trio.current_time() - connected_at >= cfg.backoff.healthy_after:
                    attempt = 0
                if self._on_disconnect is not None:
                    await _maybe_await(self._on_disconnect(reason))
            if requested is not None and connected_at is not None:
                delay = 0.0
            else:
                delay = cfg.backoff.delay(attempt, self._rng)
                self.stats.backoff_step = attempt
                attempt += 1
            self.stats.last_delay = delay
            await trio.sleep(delay)

    def _gated(self) -> AbstractAsyncContextManager[trio.CancelScope | None]:
        gate = self.config.gate
        if gate is None:
            return contextlib.nullcontext(None)
        return gate.connection()

    def _report_refusals(self, exc: BaseException) -> None:
        gate = self.config.gate
        if gate is None:
            return
        for leaf in _leaves(exc):
            if isinstance(leaf, ConnectionRejected) and leaf.status_code is not None:
                gate.refused(leaf.status_code, self.config.name)

    def _requested(self) -> str | None:
        return self._reconnect_reason

    def _headers(self) -> list[tuple[bytes, bytes]]:
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.config.headers()]

    def _fatal(self, exc: BaseException) -> WsRejectedError | ConfigError | None:
        for leaf in _leaves(exc):
            if isinstance(leaf, ConfigError):
                return leaf
            if (
                isinstance(leaf, ConnectionRejected)
                and leaf.status_code in self.config.fatal_statuses
            ):
                status = leaf.status_code
                msg = f"{self.config.name}: handshake rejected with HTTP {status}"
                if status in (401, 403):
                    return WsAuthError(msg, status_code=status)
                return WsRejectedError(msg, status_code=status)
        return None

    async def _session(self, ws: WsConnection) -> None:
        self._last_data = trio.current_time()
        if self._on_connect is not None:
            with trio.fail_after(self.config.connect_timeout):
                await self._on_connect(ws)
        self._ws = ws

    async def _serve(self, ws: WsConnection) -> None:
        cfg = self.config
        with trio.CancelScope() as scope:
            self._session_scope = scope
            if self._reconnect_reason is not None:
                scope.cancel()
            async with trio.open_nursery() as nursery:
                if cfg.heartbeat_text is not None:
                    nursery.start_soon(self._heartbeat, ws, cfg.heartbeat_text)
                if cfg.ping_interval is not None:
                    nursery.start_soon(self._pinger, ws, cfg.ping_interval)
                if cfg.silence_timeout is not None:
                    nursery.start_soon(self._watchdog, cfg.silence_timeout)
                await self._reader(ws)
                nursery.cancel_scope.cancel()

    async def _reader(self, ws: WsConnection) -> None:
        is_data = self.config.is_data
        on_message = self._on_message
        on_batch = self._on_batch
        stats = self.stats
        while True:
            messages = await ws.receive_batch()
            if not messages:
                continue
            recv_ns = time.time_ns()
            stats.messages += len(messages)
            stats.last_message_ns = recv_ns
            if is_data is None:
                data = len(messages)
            else:
                data = sum(1 for message in messages if is_data(message))
            if on_batch is not None:
                on_batch(messages, recv_ns)
            else:
                assert on_message is not None
                for message in messages:
                    # a sync callback (every feed's) runs the whole read with no checkpoint
                    result = on_message(message, recv_ns)
                    if result is not None:
                        await result
                del message
            # Let go of the read before waiting for the next: a socket whose markets are
            # quiet would keep its last one alive, and a subscription's first read is the
            # dump of every book it asked for (hundreds of KB: 18 of 40 sockets held 6.5 MB
            # in `bench e2e`'s 10,000-token monitor).
            del messages
            if data:
                stats.data_messages += data
                self._last_data = trio.current_time()

    async def _heartbeat(self, ws: WsConnection, text: str) -> None:
        while True:
            await trio.sleep(self.config.heartbeat_interval)
            await ws.send_message(text)
            self.stats.heartbeats += 1

    async def _pinger(self, ws: WsConnection, interval: float) -> None:
        while True:
            await trio.sleep(interval)
            with trio.fail_after(self.config.ping_timeout):
                await ws.ping()

    async def _watchdog(self, silence: float) -> None:
        while True:
            deadline = self._last_data + silence
            if trio.current_time() >= deadline:
                self.stats.watchdog_fires += 1
                raise _Silence(f"silence watchdog: no data for {silence:g}s")
            await trio.sleep_until(deadline)


@asynccontextmanager
async def open_ws_driver(
    config: WsConfig,
    *,
    on_message: OnMessage | None = None,
    on_batch: OnBatch | None = None,
    on_connect: OnConnect | None = None,
    on_disconnect: OnDisconnect | None = None,
    rng: random.Random | None = None,
) -> AsyncIterator[WsDriver]:
    """Run a :class:`WsDriver` in a nursery; yields once it is connected, cancels on exit."""
    driver = WsDriver(
        config,
        on_message=on_message,
        on_batch=on_batch,
        on_connect=on_connect,
        on_disconnect=on_disconnect,
        rng=rng,
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(driver.run)
        yield driver
        nursery.cancel_scope.cancel()
