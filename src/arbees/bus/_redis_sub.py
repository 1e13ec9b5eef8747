"""The pub/sub side of :class:`~arbees.bus.redis.RedisBus` (Trio side).

ONE pub/sub connection carries every subscription of the bus, plus a private control
channel subscribed first: its confirmation proves the connection works (readiness at
start, and after each reconnection). Messages are read, parsed and decoded once, then
fanned out synchronously to every :class:`~arbees.bus.base.Subscription` on the channel;
one connection per subscription would read, parse and decode the same message once per
subscriber, and cost a connection and a reader task each.

The connection itself is :class:`~arbees.bus._trio_pubsub.PubSubStream`, Trio-native (no
asyncio, no bridge): a session connects, subscribes everything and hands each socket
read's messages to :meth:`PubSubSide.dispatch` in one call until the connection is lost.
The next session subscribes every channel still wanted, so nothing is re-subscribed that
was given up meanwhile.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

import trio

from arbees.bus import _trio_pubsub
from arbees.bus._redis_aio import PubSubEvent
from arbees.bus._resp_conn import ConnParams
from arbees.bus._trio_conn import NotResp
from arbees.bus._trio_pubsub import PubSubStream
from arbees.bus.base import BusStats, Subscription, deliver_raw
from arbees.errors import BusError

__all__ = ["PubSubSide"]

log = logging.getLogger(__name__)

_TRANSPORT_ERRORS = (OSError,)
"""What a session raises when Redis is unreachable, refuses or misbehaves."""


class PubSubSide:
    """Subscriptions, the reader task and the fan-out of one :class:`RedisBus`.

    Args:
        stats: the bus's counters.
        safe_url: the redacted URL, for messages.
        scrub: removes the password from an error's text.
        backoffs: a fresh iterator of reconnection delays.
        subscribe_timeout: seconds to wait for SUBSCRIBE confirmations.
        command_timeout: seconds an UNSUBSCRIBE may take.
    """

    def __init__(
        self,
        *,
        stats: BusStats,
        safe_url: str,
        scrub: Callable[[BaseException | str], str],
        backoffs: Callable[[], Iterator[float]],
        subscribe_timeout: float,
        command_timeout: float,
    ) -> None:
        self.stats = stats
        self.safe_url = safe_url
        self._scrub = scrub
        self._backoffs = backoffs
        self._subscribe_timeout = subscribe_timeout
        self._command_timeout = command_timeout
        self.params: ConnParams | None = None  # set once the bus has connected
        self.closed = False
        self.reader_up = trio.Event()  # set while the pub/sub connection is subscribed
        self._subs: dict[str, list[Subscription]] = {}
        self._pending: dict[str, int] = {}
        self._confirmed: dict[str, trio.Event] = {}
        self._control = f"arbees:bus:control:{secrets.token_hex(8)}"
        self._ps: PubSubStream | None = None  # the live pub/sub connection
        self._ps_sessions = 0  # pub/sub connections established so far

    def __len__(self) -> int:
        """Channels subscribed (the private control channel aside)."""
        return len(self._subs)

    @asynccontextmanager
    async def subscribe(
        self, channels: tuple[str, ...], buffer: int
    ) -> AsyncIterator[Subscription]:
        """Subscribe; returns once the server confirmed every channel's SUBSCRIBE."""
        if not channels:
            raise ValueError("subscribe() needs at least one channel")
        if self.params is None:
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
                    await connection.subscribe(new)
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
            if gone and not self.closed:
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
                await connection.unsubscribe(channels)
            except _TRANSPORT_ERRORS as exc:
                log.debug("UNSUBSCRIBE failed (%s); forgetting the channels", type(exc).__name__)

    def _channels(self) -> list[str]:
        return [self._control, *self._subs]

    def _on_pubsub(self, connection: PubSubStream | None) -> None:
        self._ps = connection
        if connection is not None:
            self._ps_sessions += 1
            if self._ps_sessions > 1:
                self.stats.reconnects += 1
                log.warning("pub/sub reconnected to Redis at %s", self.safe_url)

    def _params_or_fail(self) -> ConnParams:
        if self.params is None:
            raise BusError("the Redis bus is not running")
        return self.params

    def close_all(self) -> None:
        """End every live subscription (the bus is closing)."""
        self.closed = True
        for subs in self._subs.values():
            for sub in subs:
                sub._close()

    async def run(self) -> None:
        """The reader: one pub/sub session after another, with backoff, forever.

        The first connection failing raises :class:`~arbees.errors.BusError`; later
        losses are logged, counted in ``stats.reconnects`` once healed, and retried.
        """
        backoffs = self._backoffs()
        while True:
            try:
                # The session hands each socket read's messages to dispatch() in one call.
                await _trio_pubsub.pubsub_session(
                    self._params_or_fail(), self._channels, self.dispatch, self._on_pubsub
                )
                raise ConnectionError("the pub/sub session ended")
            except _TRANSPORT_ERRORS as exc:
                if isinstance(exc, NotResp):
                    self.stats.protocol_errors += 1
                if not self._ps_sessions:
                    raise BusError(
                        f"cannot open a pub/sub connection to Redis at {self.safe_url}: "
                        f"{type(exc).__name__}: {self._scrub(exc)}"
                    ) from exc
                if self.reader_up.is_set():
                    log.warning(
                        "lost the pub/sub connection to Redis at %s (%s); reconnecting",
                        self.safe_url,
                        type(exc).__name__,
                    )
                    self.reader_up = trio.Event()
                    backoffs = self._backoffs()
                await trio.sleep(next(backoffs))

    def dispatch(self, batch: list[PubSubEvent]) -> None:
        """Fan out one socket read's pushes (called synchronously by the protocol): each
        message is decoded once, then appended to every subscriber's queue (or, for a
        subscription with a sink, offered to it once the whole read is delivered)."""
        received_ns = time.time_ns()
        touched: list[list[Subscription]] = []
        for kind, raw_channel, data in batch:
            channel = raw_channel.decode(errors="replace") if raw_channel else ""
            if kind == "message":
                subs = self._subs.get(channel)
                if not subs or self.closed:
                    continue
                deliver_raw(subs, channel, data, received_ns, self.stats)
                if not touched or touched[-1] is not subs:
                    touched.append(subs)
            elif kind == "subscribe":
                if channel == self._control:
                    self.reader_up.set()  # re-subscribed after a reconnect (or first time)
                pending = self._pending.get(channel, 0)
                if pending > 0:
                    self._pending[channel] = pending - 1
                    event = self._confirmed.get(channel)
                    if pending == 1 and event is not None:
                        event.set()
        for subs in touched:  # the read is complete: offer it to the subscriptions' sinks
            for sub in subs:
                sub._end_read()
