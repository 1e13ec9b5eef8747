"""The Redis bus: redis-py's asyncio client, bridged into Trio by trio-asyncio.

Why this shape:

* **All bridging lives here.** The asyncio world is opened by :meth:`RedisBus.run`
  (``trio_asyncio.open_loop()``) and every call crosses with ``trio_asyncio.aio_as_trio``
  bound to that loop explicitly, so any Trio task of the run may use the bus, not only
  tasks started inside the loop's context. The asyncio-side coroutines are in
  :mod:`arbees.bus._redis_aio`.
* **No bridge crossing per message** (each costs ~65-150 µs). ``publish`` only encodes
  and appends to an outbox; ONE long-lived asyncio pump sends everything waiting in ONE
  pipeline per batch. ONE long-lived asyncio pump owns ONE shared pub/sub connection for
  all subscriptions, takes every message already buffered and hands the batch to a
  synchronous fan-out on this thread. One connection per subscription would cost a
  pump, a connection and a socket read per subscriber for the same message. The pumps
  cross the bridge once for their whole life (and again after a connection loss).
* **Publishing never fails the caller because Redis is down.** The publish queue is
  bounded (``publish_queue`` items) and drop-oldest: the hot path never waits on Redis,
  and the newest prices win; overflow is counted in ``stats.publish_failed``. While
  Redis is unreachable the publisher discards what cannot be sent (counted in
  ``stats.publish_failed``), retries with backoff, and once Redis answers again it
  publishes ONE :class:`~arbees.messages.SystemAlert` (``type="BUS_PUBLISH_FAILED"``,
  ``details["lost"]`` = messages lost in that outage) on ``Channel.SYSTEM_ALERTS``.
* **Subscriptions survive restarts.** After a connection loss the reader reconnects with
  backoff; redis-py then re-subscribes every channel itself. Each re-established
  connection (publisher's or reader's) counts once in ``stats.reconnects``.
* The key/value calls (``hset``, ``get``, ...) raise :class:`~arbees.errors.BusError`
  while Redis is down: the caller decides. ``publish_and_hset`` goes through the
  publisher (one pipeline) and never raises because of Redis.

Delivery is **at-most-once**: messages published while Redis is down, while a reader is
reconnecting, or before a ``subscribe`` is confirmed are not delivered, and a slow
subscriber's full buffer drops its oldest messages. Keep what must survive in the
key/value side.

The URL's password never appears in ``repr``, logs or exception messages: only
:func:`arbees.config.redact_url` forms of the URL are ever shown.
"""

from __future__ import annotations

import functools
import logging
import math
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

import trio
import trio_asyncio
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from arbees import codec
from arbees.bus import _resp_conn
from arbees.bus._redis_aio import Outbox, Outgoing, PubSubEvent, send_batch
from arbees.bus._resp_conn import ConnParams, PubSubProtocol, conn_params
from arbees.bus.base import Bus, BusStats, Envelope, Subscription
from arbees.config import redact_url
from arbees.errors import BusError, ConfigError, DecodeError
from arbees.messages import Channel, Message, SystemAlert, now_ms

__all__ = ["RedisBus", "open_redis_bus"]

log = logging.getLogger(__name__)

R = TypeVar("R")

_TRANSPORT_ERRORS = (RedisError, OSError)
"""What a Redis call raises when the server is unreachable or refuses."""

ALERT_TYPE = "BUS_PUBLISH_FAILED"


class RedisBus(Bus):
    """A :class:`~arbees.bus.base.Bus` on Redis. Open it with :func:`open_redis_bus`.

    Or run it yourself: ``bus = RedisBus(url)``, ``await nursery.start(bus.run)``, and
    ``await bus.aclose()`` to stop it.

    Args:
        url: ``redis://[user:password@]host:port/db`` or ``rediss://...``.
        publish_queue: bound of the publish queue (drop-oldest, counted).
        max_batch: most messages sent in one pipeline / taken in one read crossing.
        backoff: (first, longest) delay in seconds between reconnection attempts.
        connect_timeout: seconds to wait for a TCP connection.
        command_timeout: seconds to wait for a command's reply.
        subscribe_timeout: seconds to wait for the server to confirm a SUBSCRIBE.
    """

    def __init__(
        self,
        url: str,
        *,
        publish_queue: int = 100_000,
        max_batch: int = 5_000,
        backoff: tuple[float, float] = (0.05, 0.5),
        connect_timeout: float = 2.0,
        command_timeout: float = 5.0,
        subscribe_timeout: float = 5.0,
    ) -> None:
        safe = redact_url(url)
        try:
            parts = urlsplit(url)
            password = parts.password
            scheme = parts.scheme.lower()
        except ValueError:
            raise ConfigError(f"unparseable Redis URL {safe!r}") from None
        if scheme not in ("redis", "rediss"):
            raise ConfigError(f"not a Redis URL: {safe!r} (use redis:// or rediss://)")
        self.stats = BusStats()
        self.safe_url = safe
        self._url = url
        self._password = password or ""
        self._max_batch = max_batch
        self._backoff = backoff
        self._connect_timeout = connect_timeout
        self._command_timeout = command_timeout
        self._subscribe_timeout = subscribe_timeout
        self._outbox = Outbox(publish_queue)
        self._subs: dict[str, list[Subscription]] = {}
        self._pending: dict[str, int] = {}
        self._confirmed: dict[str, trio.Event] = {}
        self._control = f"arbees:bus:control:{secrets.token_hex(8)}"
        self._closed = False
        self._stop = trio.Event()
        self._done = trio.Event()
        self._flushed = trio.Event()
        self._reader_up = trio.Event()  # set while the pub/sub connection is subscribed
        self._running = False
        self._loop: Any = None
        self._client: Redis | None = None
        self._params: ConnParams | None = None
        self._ps: PubSubProtocol | None = None  # the live pub/sub connection
        self._ps_sessions = 0  # pub/sub connections established so far

    def __repr__(self) -> str:
        return f"RedisBus({self.safe_url!r}, subscribed={len(self._subs)}, closed={self._closed})"

    # -- lifecycle -----------------------------------------------------------------

    async def run(
        self, *, task_status: trio.TaskStatus[RedisBus] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Connect (PING + a confirmed pub/sub connection), then serve until :meth:`aclose`.

        Signals readiness with ``task_status.started(self)``. Errors come out of trio-asyncio's
        loop as nested exception groups; :func:`open_redis_bus` translates them.
        """
        if self._running or self._closed:
            raise BusError("a RedisBus runs once")
        self._running = True
        try:
            async with trio_asyncio.open_loop() as loop:
                self._loop = loop
                try:
                    await self._connect()
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(self._reader)
                        with trio.move_on_after(self._connect_timeout + self._subscribe_timeout):
                            await self._reader_up.wait()
                        if not self._reader_up.is_set():
                            raise BusError(
                                f"Redis at {self.safe_url} did not confirm the bus's SUBSCRIBE"
                            )
                        nursery.start_soon(self._publisher)
                        task_status.started(self)
                        await self._stop.wait()
                        self._outbox.close()  # the publisher drains it, then stops
                        with trio.move_on_after(1.0):  # flush what callers already published
                            await self._flushed.wait()
                        nursery.cancel_scope.cancel()
                finally:
                    self._close_subscriptions()
                    with trio.CancelScope(shield=True), trio.move_on_after(2.0):
                        await self._disconnect()
        finally:
            self._closed = True
            self._done.set()

    async def aclose(self) -> None:
        """Flush pending publishes (up to 1 s), end subscriptions, disconnect."""
        self._closed = True
        self._close_subscriptions()
        self._stop.set()
        if self._running:
            await self._done.wait()
        else:
            await trio.lowlevel.checkpoint()

    def _close_subscriptions(self) -> None:
        for subs in self._subs.values():
            for sub in subs:
                sub._close()

    async def _connect(self) -> None:
        try:
            self._client = Redis.from_url(
                self._url,
                socket_connect_timeout=self._connect_timeout,
                socket_timeout=self._command_timeout,
                # We retry ourselves, with our own backoff; redis-py's default would sleep
                # for seconds inside a call while Redis is down. One immediate retry still
                # heals a pooled connection that went stale across a server restart.
                retry=Retry(NoBackoff(), 1),
            )
        except ValueError as exc:
            raise ConfigError(f"bad Redis URL {self.safe_url!r}: {self._scrub(exc)}") from None
        try:
            # redis-py parsed the URL (TLS options included); the raw connections of the
            # hot paths connect with the same parameters.
            self._params = conn_params(self._client, self._connect_timeout, self._command_timeout)
            await self._aio(self._client.ping)()
        except (*_TRANSPORT_ERRORS, trio.TooSlowError) as exc:
            raise BusError(
                f"cannot connect to Redis at {self.safe_url}: "
                f"{type(exc).__name__}: {self._scrub(exc)}"
            ) from exc

    async def _disconnect(self) -> None:
        # The raw connections closed when their sessions were cancelled.
        if self._client is not None:
            try:
                await self._aio(self._client.aclose)()
            except _TRANSPORT_ERRORS as exc:  # pragma: no cover
                log.debug("closing client: %s", type(exc).__name__)

    def _aio(self, fn: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        wrapped: Callable[..., Awaitable[R]] = trio_asyncio.aio_as_trio(fn, loop=self._loop)
        return wrapped

    def _scrub(self, exc: BaseException | str) -> str:
        text = str(exc)
        return text.replace(self._password, "***") if self._password else text

    def _backoffs(self) -> Iterator[float]:
        delay, longest = self._backoff
        while True:
            yield delay
            delay = min(delay * 2, longest)

    # -- publishing ----------------------------------------------------------------

    async def publish(self, channel: str, message: Message) -> None:
        self._check_open(self._closed)
        await trio.lowlevel.checkpoint_if_cancelled()
        self._enqueue(Outgoing(channel, codec.encode(message)))
        # Trio's checkpoint for non-blocking operations: cancellation was checked before
        # the enqueue, and the pump gets to run right away after it.
        await trio.lowlevel.cancel_shielded_checkpoint()

    async def publish_raw(self, channel: str, payload: bytes) -> None:
        self._check_open(self._closed)
        await trio.lowlevel.checkpoint_if_cancelled()
        self._enqueue(Outgoing(channel, bytes(payload)))
        await trio.lowlevel.cancel_shielded_checkpoint()

    async def publish_and_hset(self, channel: str, message: Message, key: str, field: str) -> None:
        """Queue the hash write and the publish for the same pipeline (never raises
        because Redis is down; failures are counted like :meth:`publish`)."""
        self._check_open(self._closed)
        await trio.lowlevel.checkpoint_if_cancelled()
        self._enqueue(Outgoing(channel, codec.encode(message), key, field))
        await trio.lowlevel.cancel_shielded_checkpoint()

    def _enqueue(self, item: Outgoing) -> None:
        if not self._outbox.put(item):
            self.stats.publish_failed += 1
            dropped = self._outbox.dropped
            if dropped in (1, 10, 100) or dropped % 10_000 == 0:
                log.warning("publish queue full: dropped %d oldest so far", dropped)

    async def _publisher(self) -> None:
        down = False  # Redis unreachable: discard, count, retry with backoff
        lost = 0  # messages lost in the current outage
        backoffs = self._backoffs()
        client = self._client_or_fail()
        while True:
            if down:
                if self._stop.is_set():  # closing during an outage: nothing can be flushed
                    self._discard_queued()
                    self._flushed.set()
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
                with trio.move_on_after(2 * self._backoff[1] + self._subscribe_timeout):
                    await self._reader_up.wait()
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
                # One crossing for the connection's whole life; it returns once the outbox
                # is closed (aclose), drained and answered.
                params = self._params_or_fail()
                await self._aio(_resp_conn.publish_session)(
                    params, self._outbox, self._max_batch, self._on_sent
                )
            except _TRANSPORT_ERRORS as exc:
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
            self._flushed.set()
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
        if self._params is None:
            raise BusError("the Redis bus is not running")
        return self._params

    def _client_or_fail(self) -> Redis:
        if self._client is None:
            raise BusError("the Redis bus is not running")
        return self._client

    # -- subscribing ---------------------------------------------------------------

    @asynccontextmanager
    async def subscribe(self, *channels: str, buffer: int = 4096) -> AsyncIterator[Subscription]:
        """Subscribe; returns once the server confirmed every channel's SUBSCRIBE."""
        self._check_open(self._closed)
        if not channels:
            raise ValueError("subscribe() needs at least one channel")
        if self._params is None:
            raise BusError("the Redis bus is not running")
        sub = Subscription(tuple(channels), buffer, self.stats)
        unique = list(dict.fromkeys(channels))
        new = [c for c in unique if not self._subs.get(c)]
        for channel in unique:
            self._subs.setdefault(channel, []).append(sub)
        for channel in new:
            self._pending[channel] = self._pending.get(channel, 0) + 1
            self._confirmed[channel] = trio.Event()
        try:
            connection = self._ps
            if new and connection is not None:
                try:
                    await self._aio(_resp_conn.subscribe)(connection, new)
                except _TRANSPORT_ERRORS as exc:
                    # The reader's next connection subscribes every channel in _subs.
                    log.debug("SUBSCRIBE not sent (%s); waiting for the reconnection", exc)
            with trio.move_on_after(self._subscribe_timeout) as scope:
                for channel in unique:
                    await self._confirmed[channel].wait()
            if scope.cancelled_caught:
                raise BusError(f"Redis at {self.safe_url} did not confirm SUBSCRIBE {unique}")
            yield sub
        finally:
            sub._close()
            gone = self._forget(sub, unique)
            if gone and not self._closed:
                await self._unsubscribe(gone)

    def _forget(self, sub: Subscription, channels: list[str]) -> list[str]:
        gone = []
        for channel in channels:
            subs = self._subs.get(channel, [])
            if sub in subs:
                subs.remove(sub)
            if not subs:
                self._subs.pop(channel, None)
                self._confirmed.pop(channel, None)
                gone.append(channel)
        return gone

    async def _unsubscribe(self, channels: list[str]) -> None:
        connection = self._ps
        if connection is None:
            return  # the next connection subscribes only the channels still in _subs
        with trio.CancelScope(shield=True), trio.move_on_after(self._command_timeout):
            try:
                await self._aio(_resp_conn.unsubscribe)(connection, channels)
            except _TRANSPORT_ERRORS as exc:
                log.debug("UNSUBSCRIBE failed (%s); forgetting the channels", type(exc).__name__)

    def _channels(self) -> list[str]:
        return [self._control, *self._subs]

    def _on_pubsub(self, connection: PubSubProtocol | None) -> None:
        self._ps = connection
        if connection is not None:
            self._ps_sessions += 1
            if self._ps_sessions > 1:
                self.stats.reconnects += 1
                log.warning("pub/sub reconnected to Redis at %s", self.safe_url)

    async def _reader(self) -> None:
        backoffs = self._backoffs()
        while True:
            try:
                # One crossing per connection: the protocol hands each socket read's
                # messages to _dispatch synchronously, on this thread.
                await self._aio(_resp_conn.pubsub_session)(
                    self._params_or_fail(), self._channels, self._dispatch, self._on_pubsub
                )
                raise ConnectionError("the pub/sub session ended")
            except _TRANSPORT_ERRORS as exc:
                if not self._ps_sessions:
                    raise BusError(
                        f"cannot open a pub/sub connection to Redis at {self.safe_url}: "
                        f"{type(exc).__name__}: {self._scrub(exc)}"
                    ) from exc
                if self._reader_up.is_set():
                    log.warning(
                        "lost the pub/sub connection to Redis at %s (%s); reconnecting",
                        self.safe_url,
                        type(exc).__name__,
                    )
                    self._reader_up = trio.Event()
                    backoffs = self._backoffs()
                await trio.sleep(next(backoffs))

    def _dispatch(self, batch: list[PubSubEvent]) -> None:
        received_ns = time.time_ns()
        for kind, raw_channel, data in batch:
            channel = raw_channel.decode(errors="replace") if raw_channel else ""
            if kind == "message":
                subs = self._subs.get(channel)
                if not subs or self._closed:
                    continue
                try:
                    message = codec.decode(data)
                except DecodeError as exc:
                    for sub in subs:
                        self.stats.received += 1
                        sub._reject(channel, data, exc)
                    continue
                envelope = Envelope(channel, message, received_ns)
                for sub in subs:
                    self.stats.received += 1
                    sub._deliver(envelope)
            elif kind == "subscribe":
                if channel == self._control:
                    self._reader_up.set()  # re-subscribed after a reconnect (or first time)
                pending = self._pending.get(channel, 0)
                if pending > 0:
                    self._pending[channel] = pending - 1
                    event = self._confirmed.get(channel)
                    if pending == 1 and event is not None:
                        event.set()

    # -- key/value -----------------------------------------------------------------

    async def _call(self, op: str, fn: Callable[..., Awaitable[R]], *args: Any) -> R:
        self._check_open(self._closed)
        try:
            return await self._aio(fn)(*args)
        except _TRANSPORT_ERRORS as exc:
            raise BusError(
                f"Redis {op} failed at {self.safe_url}: {type(exc).__name__}: {self._scrub(exc)}"
            ) from exc

    def _decode_value(self, where: str, data: bytes | str | None) -> Message | None:
        if data is None:
            return None
        try:
            return codec.decode(data)
        except DecodeError as exc:
            self.stats.decode_errors += 1
            log.warning("skipping undecodable value at %s (%s): %.80r", where, exc, data)
            return None

    async def hset(self, key: str, field: str, message: Message) -> None:
        await self._call("HSET", self._client_or_fail().hset, key, field, codec.encode(message))

    async def hget(self, key: str, field: str) -> Message | None:
        data = await self._call("HGET", self._client_or_fail().hget, key, field)
        return self._decode_value(f"{key}[{field}]", data)

    async def hgetall(self, key: str) -> dict[str, Message]:
        hgetall: Callable[[str], Awaitable[dict[bytes, bytes]]] = self._client_or_fail().hgetall  # type: ignore[assignment]
        raw = await self._call("HGETALL", hgetall, key)
        out: dict[str, Message] = {}
        for raw_field, data in raw.items():
            field = raw_field.decode(errors="replace")
            message = self._decode_value(f"{key}[{field}]", data)
            if message is not None:
                out[field] = message
        return out

    async def hdel(self, key: str, *fields: str) -> None:
        if fields:
            await self._call("HDEL", self._client_or_fail().hdel, key, *fields)
        else:
            await trio.lowlevel.checkpoint()

    async def set(self, key: str, message: Message, *, ttl_s: float | None = None) -> None:
        payload = codec.encode(message)
        client = self._client_or_fail()
        if ttl_s is None:
            await self._call("SET", client.set, key, payload)
            return
        if not ttl_s > 0 or math.isinf(ttl_s):
            raise ValueError(f"ttl_s must be a positive finite number of seconds, got {ttl_s}")
        px = max(1, math.ceil(ttl_s * 1000))
        await self._call("SET", functools.partial(client.set, key, payload, px=px))

    async def get(self, key: str) -> Message | None:
        data = await self._call("GET", self._client_or_fail().get, key)
        return self._decode_value(key, data)


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


@asynccontextmanager
async def open_redis_bus(url: str, **options: Any) -> AsyncIterator[RedisBus]:
    """Connect to Redis and serve a :class:`RedisBus` for the ``async with`` block.

    Raises :class:`~arbees.errors.BusError` (naming the redacted URL) when Redis cannot be
    reached or the bus fails; the exception groups of Trio and trio-asyncio are translated
    here, at the boundary. Exceptions raised by the block itself pass through unchanged.
    ``options`` are :class:`RedisBus`'s keyword arguments.
    """
    bus = RedisBus(url, **options)
    body_error: Exception | None = None
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(bus.run)
            try:
                yield bus
            except Exception as exc:  # the caller's own error: re-raised unchanged below
                body_error = exc
            finally:
                await bus.aclose()
    except BaseExceptionGroup as group:
        if group.subgroup(Exception) is None:
            raise  # only Cancelled / KeyboardInterrupt: Trio's business
        errors = [e for e in _leaves(group) if isinstance(e, Exception)]
        if len(errors) == 1 and isinstance(errors[0], BusError):
            raise BusError(str(errors[0])) from group
        reasons = "; ".join(f"{type(e).__name__}: {bus._scrub(e)}" for e in errors)
        raise BusError(f"Redis bus at {bus.safe_url} failed: {reasons}") from group
    if body_error is not None:
        raise body_error
