"""The pub/sub connection as an ``asyncio.Protocol`` (asyncio side; no Trio here).

:class:`PubSubProtocol` parses pushes straight from ``data_received`` and hands each
socket read's messages, as one batch, to a synchronous callback (the Trio side's
fan-out, which only appends to Trio queues). No task, no future, no wake-up between the
socket and the subscriber's queue. ONE connection carries every subscription: a message
is read, parsed and decoded once whatever the number of subscribers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from arbees.bus._redis_aio import PubSubEvent
from arbees.bus._resp import RespError, encode_command
from arbees.bus._resp_conn import ConnParams, RespProtocol, open_resp

__all__ = ["PubSubProtocol", "pubsub_session", "subscribe", "unsubscribe"]

log = logging.getLogger(__name__)


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
