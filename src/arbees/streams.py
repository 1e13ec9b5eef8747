"""Typed message streams over a bus: what a bot iterates instead of raw envelopes.

A :class:`~arbees.bus.Subscription` yields :class:`~arbees.bus.Envelope` s of any message
type on its channels. A bot almost always wants "the ``ArbSignal`` s", "the price updates of
these tokens" or "the alerts", already typed, so it can write::

    async for signal in arbees.signals(bus):
        ...

:class:`MessageStream` is that: a filter by type (and an optional predicate) on top of one
subscription. It is both

* an **async context manager** — ``async with arbees.signals(bus) as stream:`` returns once
  the subscription is live (anything published afterwards is received) and unsubscribes
  deterministically on exit; use this when you publish or start services right after
  subscribing, or when you break out of the loop early;
* an **async iterable** — ``async for`` on a stream that was not entered subscribes by
  itself for the duration of the loop, which suits a bot's main loop: the subscription ends
  when the bus closes or the loop is cancelled. To leave a loop with ``break``, enter the
  stream with ``async with`` so the subscription ends right there.

Messages of other types on the same channels, and those the predicate refuses, are counted
in :attr:`MessageStream.skipped` — never silently lost from the stats. Delivery is the bus's:
at-most-once, drop-oldest on a slow consumer (see :mod:`arbees.bus.base`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Generic, TypeVar

import trio

from arbees.bus.base import Bus, Subscription
from arbees.errors import BusClosedError
from arbees.messages import (
    ArbSignal,
    Channel,
    Message,
    PolymarketPriceUpdate,
    SystemAlert,
)

__all__ = ["MessageStream", "alerts", "price_updates", "signals", "typed_stream"]

M = TypeVar("M", bound=Message)

_SEVERITY = {"info": 0, "warning": 1, "critical": 2}


class MessageStream(Generic[M]):
    """The messages of one type arriving on some channels, optionally filtered.

    Build one with :func:`signals`, :func:`price_updates`, :func:`alerts` or
    :func:`typed_stream` rather than directly.

    Args:
        bus: the bus to subscribe on.
        kind: the message class to keep (others are skipped).
        channels: channels to subscribe.
        where: optional predicate; messages it refuses are skipped.
        buffer: subscription buffer (drop-oldest beyond it).

    Attributes:
        received: messages yielded to the consumer.
        skipped: messages dropped by type or by ``where``.

    Example::

        async with arbees.signals(bus) as stream:       # live once entered
            await start_my_services()
            async for signal in stream:
                print(signal.event, signal.profit)
    """

    def __init__(
        self,
        bus: Bus,
        kind: type[M],
        channels: Collection[str],
        *,
        where: Callable[[M], bool] | None = None,
        buffer: int = 4096,
    ) -> None:
        if not channels:
            raise ValueError("a stream needs at least one channel")
        self.bus = bus
        self.kind = kind
        self.channels = tuple(channels)
        self.where = where
        self.buffer = buffer
        self.received = 0
        self.skipped = 0
        self._stack: AsyncExitStack | None = None
        self._sub: Subscription | None = None

    def __repr__(self) -> str:
        return (
            f"MessageStream({self.kind.__name__}, channels={list(self.channels)}, "
            f"received={self.received}, skipped={self.skipped})"
        )

    async def __aenter__(self) -> MessageStream[M]:
        if self._stack is not None:
            raise RuntimeError("this stream is already open")
        stack = AsyncExitStack()
        self._sub = await stack.enter_async_context(
            self.bus.subscribe(*self.channels, buffer=self.buffer)
        )
        self._stack = stack
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack, self._sub = self._stack, None, None
        if stack is not None:
            await stack.__aexit__(exc_type, exc, tb)

    def _keep(self, message: Message) -> M | None:
        if not isinstance(message, self.kind):
            self.skipped += 1
            return None
        if self.where is not None and not self.where(message):
            self.skipped += 1
            return None
        self.received += 1
        return message

    async def receive(self) -> M:
        """The next matching message of an entered stream.

        Raises :class:`~arbees.errors.BusClosedError` once the bus closed, and
        ``RuntimeError`` if the stream was not entered with ``async with``.
        """
        sub = self._sub
        if sub is None:
            raise RuntimeError("enter the stream with `async with` before receive()")
        while True:
            kept = self._keep((await sub.receive()).message)
            if kept is not None:
                return kept

    def __aiter__(self) -> AsyncIterator[M]:
        return _StreamIterator(self)


class _StreamIterator(AsyncIterator[M]):
    """Iterates a stream; a class rather than an async generator, so that leaving the loop
    early (``break``) leaves nothing half-finished for the garbage collector.

    On a stream that was not entered, the first ``__anext__`` subscribes; the subscription
    ends when the loop ends — the bus closes, or the loop is cancelled (Trio cancellation,
    an exception in the consumer's task). A loop left with ``break`` keeps it until the bus
    closes: use ``async with`` for that.
    """

    def __init__(self, stream: MessageStream[M]) -> None:
        self._stream = stream
        self._own: AsyncExitStack | None = None
        self._sub = stream._sub
        self._done = False

    async def __anext__(self) -> M:
        if self._done:
            raise StopAsyncIteration
        stream = self._stream
        if self._sub is None:
            self._own = AsyncExitStack()
            self._sub = await self._own.enter_async_context(
                stream.bus.subscribe(*stream.channels, buffer=stream.buffer)
            )
        try:
            while True:
                kept = stream._keep((await self._sub.receive()).message)
                if kept is not None:
                    return kept
        except BusClosedError:
            await self._finish()
            raise StopAsyncIteration from None
        except BaseException:
            with trio.CancelScope(shield=True):
                await self._finish()
            raise

    async def _finish(self) -> None:
        self._done = True
        own, self._own = self._own, None
        if own is not None:
            await own.aclose()


def typed_stream(
    bus: Bus,
    kind: type[M],
    *channels: str,
    where: Callable[[M], bool] | None = None,
    buffer: int = 4096,
) -> MessageStream[M]:
    """Messages of class ``kind`` arriving on ``channels`` (any channel, any message type).

    Example::

        async for hb in arbees.typed_stream(bus, ShardHeartbeat, Channel.SHARD_HEARTBEATS):
            print(hb.shard_id, len(hb.games))
    """
    return MessageStream(bus, kind, channels, where=where, buffer=buffer)


def signals(
    bus: Bus,
    *,
    events: Collection[str] | None = None,
    where: Callable[[ArbSignal], bool] | None = None,
    buffer: int = 4096,
) -> MessageStream[ArbSignal]:
    """Arbitrage signals from ``arbees:signals`` (every shard's), as typed ``ArbSignal`` s.

    Args:
        bus: the bus.
        events: keep only these signal events (``"open"``, ``"update"``, ``"close"``).
        where: your own filter, e.g. a minimum profit.

    Example::

        async for signal in arbees.signals(bus, events={"open"}):
            print(signal.game_id, signal.combo, arbees.format_fixed(signal.profit))
    """
    wanted = None if events is None else frozenset(events)
    unknown = (wanted or frozenset()) - {"open", "update", "close"}
    if unknown:
        raise ValueError(f"unknown signal events {sorted(unknown)}: use open, update, close")

    def keep(signal: ArbSignal) -> bool:
        if wanted is not None and signal.event not in wanted:
            return False
        return where is None or where(signal)

    return MessageStream(bus, ArbSignal, (Channel.SIGNALS,), where=keep, buffer=buffer)


def price_updates(
    bus: Bus,
    *,
    tokens: Collection[str] | None = None,
    buffer: int = 4096,
) -> MessageStream[PolymarketPriceUpdate]:
    """Polymarket top-of-book updates from the monitor (``polymarket:prices``).

    Args:
        bus: the bus.
        tokens: keep only these Polymarket token ids (default: all).

    Example::

        async for update in arbees.price_updates(bus, tokens={token}):
            print(update.token_id, update.yes_bid, update.yes_ask)
    """
    wanted = None if tokens is None else frozenset(tokens)

    def keep(update: PolymarketPriceUpdate) -> bool:
        return wanted is None or update.token_id in wanted

    return MessageStream(
        bus, PolymarketPriceUpdate, (Channel.POLYMARKET_PRICES,), where=keep, buffer=buffer
    )


def alerts(
    bus: Bus,
    *,
    min_severity: str = "info",
    buffer: int = 4096,
) -> MessageStream[SystemAlert]:
    """Operational alerts from ``system:alerts`` (egress lost, games unassigned, ...).

    Args:
        bus: the bus.
        min_severity: ``"info"`` (all), ``"warning"`` or ``"critical"``.

    Example::

        async for alert in arbees.alerts(bus, min_severity="critical"):
            print(alert.type, alert.error)
    """
    if min_severity not in _SEVERITY:
        raise ValueError(f"min_severity must be one of {sorted(_SEVERITY)}: {min_severity!r}")
    floor = _SEVERITY[min_severity]

    def keep(alert: SystemAlert) -> bool:
        return _SEVERITY.get(alert.severity, 2) >= floor

    return MessageStream(bus, SystemAlert, (Channel.SYSTEM_ALERTS,), where=keep, buffer=buffer)
