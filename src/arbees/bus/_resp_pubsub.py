"""The pub/sub connection as an ``asyncio.Protocol`` (asyncio side; no Trio here).

:class:`PubSubProtocol` parses pushes straight from ``data_received`` and hands each
socket read's messages, as one batch, to a synchronous callback (the Trio side's
fan-out, which only appends to Trio queues). No task, no future, no wake-up between the
socket and the subscriber's queue. ONE connection carries every subscription: a message
is read, parsed and decoded once whatever the number of subscribers.

A pub/sub connection only ever receives, so a peer that vanished without a FIN or RST
(a crashed host, a dropped NAT entry) would otherwise look like a quiet channel forever:
after ``command_timeout`` without a byte the protocol sends PING, and fails the
connection if the next ``command_timeout`` brings nothing either.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from arbees.bus._redis_aio import PubSubEvent
from arbees.bus._resp import RespError, encode_command
from arbees.bus._resp_conn import ConnParams, RespProtocol, open_resp

__all__ = ["PubSubProtocol", "pubsub_session", "subscribe", "unsubscribe"]

log = logging.getLogger(__name__)


_KINDS = {b"message": "message", b"subscribe": "subscribe", b"unsubscribe": "unsubscribe"}
_PING = b"*1\r\n$4\r\nPING\r\n"


class PubSubProtocol(RespProtocol):
    """The pub/sub connection: pushes in, batches out to ``deliver`` (set by :meth:`start`)."""

    def __init__(self, command_timeout: float) -> None:
        super().__init__(command_timeout)
        self._deliver: Callable[[list[PubSubEvent]], None] | None = None
        self._reads = 0
        self._health: asyncio.TimerHandle | None = None

    def start(self, deliver: Callable[[list[PubSubEvent]], None]) -> None:
        """From now on every push goes to ``deliver``, one call per socket read; the
        liveness check starts."""
        self._deliver = deliver
        self._arm(pinged=False)

    def data_received(self, data: bytes) -> None:
        self._reads += 1
        super().data_received(data)

    def _arm(self, *, pinged: bool) -> None:
        self._health = self.loop.call_later(
            self.command_timeout, self._check_health, self._reads, pinged
        )

    def _check_health(self, seen: int, pinged: bool) -> None:
        self._health = None
        transport = self.transport
        if self._lost.done() or transport is None or transport.is_closing():
            return
        if self._reads != seen:
            pinged = False  # traffic: alive
        elif pinged:
            self._fail(TimeoutError(f"no reply to PING from Redis in {self.command_timeout} s"))
            return
        else:
            transport.write(_PING)
            pinged = True
        self._arm(pinged=pinged)

    def close(self) -> None:
        if self._health is not None:
            self._health.cancel()
            self._health = None
        super().close()

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
            elif type(value) is list and value and value[0] == b"pong":
                pass  # the liveness check's answer
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
