"""The Redis bus: Trio-native RESP on the hot paths, redis-py (asyncio, bridged into Trio
by trio-asyncio) for the key/value calls.

Why this shape:

* **No asyncio on the hot paths.** A bridge crossing costs ~65-150 µs and under
  trio-asyncio every asyncio wake-up is a whole Trio scheduling round, so publishing and
  pub/sub speak raw RESP over Trio streams (``trio.SocketStream``, ``trio.SSLStream`` for
  ``rediss://``) driving the sans-io :class:`~arbees.bus._resp.RespParser`
  (:mod:`arbees.bus._trio_publish`, :mod:`arbees.bus._trio_pubsub`): ``publish`` encodes
  and appends to an outbox whose waker writes at once when the pipeline is idle and
  otherwise wakes a writer that sends everything waiting as one pipelined write; replies
  are counted as they arrive. ONE pub/sub connection carries every subscription; each
  socket read's messages are parsed once and fanned out in one synchronous call. The
  same-run A/B of ``arbees bench bus`` measured these cheaper in CPU than the asyncio
  protocols they replaced (docs/architecture.md, "The hot path").
* **The bridge lives here** and in :mod:`arbees.bus._redis_pub` (the outage alert): the
  asyncio world is opened by :meth:`RedisBus.run` (``trio_asyncio.open_loop()``) and
  every key/value call crosses with ``trio_asyncio.aio_as_trio`` bound to that loop
  explicitly, so any Trio task of the run may use the bus. redis-py also parses the URL
  (TLS options, ACL user, database), so both kinds of connection reach the same server
  the same way.
* **Publishing never fails the caller because Redis is down.** The publish queue is
  bounded (``publish_queue`` items) and drop-oldest: the hot path never waits on Redis,
  and the newest prices win; overflow is counted in ``stats.publish_failed``. While
  Redis is unreachable the publisher discards what cannot be sent (counted in
  ``stats.publish_failed``, as are writes that got no reply when the connection broke),
  retries with backoff, and once Redis answers again it publishes ONE
  :class:`~arbees.messages.SystemAlert` (``type="BUS_PUBLISH_FAILED"``,
  ``details["lost"]`` = messages lost in that outage) on ``Channel.SYSTEM_ALERTS``.
  A server that stops answering for ``command_timeout`` counts as down.
* **Subscriptions survive restarts.** After a connection loss the reader reconnects with
  backoff and subscribes every channel still wanted. Each re-established connection
  (publisher's or reader's) counts once in ``stats.reconnects``.
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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
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
from arbees.bus._redis_aio import Outbox, Outgoing
from arbees.bus._redis_pub import PublishSide
from arbees.bus._redis_sub import PubSubSide
from arbees.bus._resp_conn import ConnParams, conn_params
from arbees.bus.base import Bus, BusStats, Subscription, reject_payload
from arbees.config import redact_url
from arbees.errors import BusError, ConfigError, DecodeError
from arbees.messages import Message

__all__ = ["RedisBus", "open_redis_bus"]

log = logging.getLogger(__name__)

R = TypeVar("R")

_TRANSPORT_ERRORS = (RedisError, OSError)
"""What a Redis call raises when the server is unreachable or refuses."""


class RedisBus(Bus):
    """A :class:`~arbees.bus.base.Bus` on Redis. Open it with :func:`open_redis_bus`.

    Or run it yourself: ``bus = RedisBus(url)``, ``await nursery.start(bus.run)``, and
    ``await bus.aclose()`` to stop it.

    Args:
        url: ``redis://[user:password@]host:port/db`` or ``rediss://...``.
        publish_queue: bound of the publish queue (drop-oldest, counted).
        max_batch: most messages sent in one pipelined write.
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
        self._backoff = backoff
        self._connect_timeout = connect_timeout
        self._command_timeout = command_timeout
        self._subscribe_timeout = subscribe_timeout
        self._outbox = Outbox(publish_queue)
        self._closed = False
        self._stop = trio.Event()
        self._done = trio.Event()
        self._running = False
        self._loop: Any = None
        self._client: Redis | None = None
        self._params: ConnParams | None = None
        self._pub = PublishSide(
            stats=self.stats,
            safe_url=safe,
            aio=self._aio,
            scrub=self._scrub,
            backoffs=self._backoffs,
            outbox=self._outbox,
            max_batch=max_batch,
            reader_up=lambda: self._pubsub.reader_up,
            alert_wait=2 * backoff[1] + subscribe_timeout,
        )
        self._pubsub = PubSubSide(
            stats=self.stats,
            safe_url=safe,
            scrub=self._scrub,
            backoffs=self._backoffs,
            subscribe_timeout=subscribe_timeout,
            command_timeout=command_timeout,
        )

    def __repr__(self) -> str:
        return f"RedisBus({self.safe_url!r}, subscribed={len(self._pubsub)}, closed={self._closed})"

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
                        nursery.start_soon(self._pubsub.run)
                        with trio.move_on_after(self._connect_timeout + self._subscribe_timeout):
                            await self._pubsub.reader_up.wait()
                        if not self._pubsub.reader_up.is_set():
                            raise BusError(
                                f"Redis at {self.safe_url} did not confirm the bus's SUBSCRIBE"
                            )
                        nursery.start_soon(self._pub.run)
                        task_status.started(self)
                        await self._stop.wait()
                        self._outbox.close()  # the publisher drains it, then stops
                        with trio.move_on_after(1.0):  # flush what callers already published
                            await self._pub.flushed.wait()
                        nursery.cancel_scope.cancel()
                finally:
                    self._pubsub.close_all()
                    with trio.CancelScope(shield=True), trio.move_on_after(2.0):
                        await self._disconnect()
        finally:
            self._closed = True
            self._done.set()

    async def aclose(self) -> None:
        """Flush pending publishes (up to 1 s), end subscriptions, disconnect."""
        self._closed = True
        self._pubsub.close_all()
        self._stop.set()
        if self._running:
            await self._done.wait()
        else:
            await trio.lowlevel.checkpoint()

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
                # RESP2, as our raw hot-path connections speak it. redis-py 8 negotiates
                # RESP3 (HELLO 3) unless told otherwise, which changes reply shapes with the
                # client's version and sends a handshake old servers and proxies refuse.
                protocol=2,
            )
        except ValueError as exc:
            raise ConfigError(f"bad Redis URL {self.safe_url!r}: {self._scrub(exc)}") from None
        try:
            # redis-py parsed the URL (TLS options included); the raw connections of the
            # hot paths connect with the same parameters.
            self._params = conn_params(self._client, self._connect_timeout, self._command_timeout)
            self._pubsub.params = self._pub.params = self._params
            self._pub.client = self._client
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
        self._pub.enqueue(Outgoing(channel, codec.encode(message)))
        # Trio's checkpoint for non-blocking operations: cancellation was checked before
        # the enqueue, and the pump gets to run right away after it.
        await trio.lowlevel.cancel_shielded_checkpoint()

    def publish_nowait(self, channel: str, message: Message) -> None:
        self._check_open(self._closed)
        self._pub.enqueue(Outgoing(channel, codec.encode(message)))

    async def publish_raw(self, channel: str, payload: bytes) -> None:
        self._check_open(self._closed)
        await trio.lowlevel.checkpoint_if_cancelled()
        self._pub.enqueue(Outgoing(channel, bytes(payload)))
        await trio.lowlevel.cancel_shielded_checkpoint()

    async def publish_and_hset(self, channel: str, message: Message, key: str, field: str) -> None:
        """Queue the hash write and the publish for the same pipeline (never raises
        because Redis is down; failures are counted like :meth:`publish`)."""
        self._check_open(self._closed)
        await trio.lowlevel.checkpoint_if_cancelled()
        self._pub.enqueue(Outgoing(channel, codec.encode(message), key, field))
        await trio.lowlevel.cancel_shielded_checkpoint()

    async def publish_and_hset_many(
        self, channel: str, key: str, items: Sequence[tuple[str, Message]]
    ) -> None:
        """The whole batch queued at once, so it goes out in one pipelined write (one
        wake-up of the publisher connection, not one per item)."""
        self._check_open(self._closed)
        await trio.lowlevel.checkpoint_if_cancelled()
        encode = codec.encode
        self._pub.enqueue_many([Outgoing(channel, encode(m), key, f) for f, m in items])
        await trio.lowlevel.cancel_shielded_checkpoint()

    def publish_and_hset_raw_nowait(
        self, channel: str, key: str, items: Sequence[tuple[str, bytes]]
    ) -> None:
        """The batch queued for one pipelined write, on the caller's task: on a quiet
        connection it is written right here (see :mod:`arbees.bus._trio_publish`)."""
        self._check_open(self._closed)
        self._pub.enqueue_many([Outgoing(channel, payload, key, f) for f, payload in items])

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
        async with self._pubsub.subscribe(channels, buffer) as sub:
            yield sub

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
            reject_payload(self.stats, where, data, exc)
            return None

    async def hset(self, key: str, field: str, message: Message) -> None:
        await self._call("HSET", self._client_or_fail().hset, key, field, codec.encode(message))

    async def hget(self, key: str, field: str) -> Message | None:
        data = await self._call("HGET", self._client_or_fail().hget, key, field)
        return self._decode_value(f"{key}[{field}]", data)

    async def hgetall(
        self, key: str, *, refused: dict[str, DecodeError] | None = None
    ) -> dict[str, Message]:
        hgetall: Callable[[str], Awaitable[dict[bytes, bytes]]] = self._client_or_fail().hgetall  # type: ignore[assignment]
        raw = await self._call("HGETALL", hgetall, key)
        out: dict[str, Message] = {}
        for raw_field, data in raw.items():
            field = raw_field.decode(errors="replace")
            try:
                out[field] = codec.decode(data)
            except DecodeError as exc:
                reject_payload(self.stats, f"{key}[{field}]", data, exc)
                if refused is not None:
                    refused[field] = exc
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
