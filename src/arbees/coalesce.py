"""One newest-wins coalescing sender, shared by every venue feed.

A feed's reader must never wait for its consumer (a blocked reader stops answering pings and
lets the venue's socket fill up), and a slow consumer must still end up with the newest
state of every book, a stale one in particular. :class:`CoalescingSender` gives both:

- :meth:`~CoalescingSender.offer` never blocks. With nothing queued and room in the
  channel, the value goes out at once; otherwise it is queued under its key.
- A key offered again while queued keeps its place (first-change order: no key is starved
  by a busy one) and its newest value replaces the queued one (counted in ``coalesced``).
- :meth:`~CoalescingSender.run` delivers the queue in that order as the consumer makes
  room. What is sent is built at send time (``build(key, value)``), so a feed can queue a
  cheap marker and render the book's current view only once it goes out; ``build`` returning
  ``None`` drops the entry (the instrument was removed meanwhile).
- :meth:`~CoalescingSender.hold` / :meth:`~CoalescingSender.flush` bracket one socket read:
  offers in between are only queued (newest per key), and ``flush`` builds each queued key
  once and hands as many as fit to the channel at once, so a read that changed a book
  five times builds and delivers its view once.
- :meth:`~CoalescingSender.set_sink` replaces the channel with a synchronous consumer (the
  monitor's bus writer): each read's values are built once and handed over as ONE list on
  the reader's own task, with no channel and no consumer task in between. The sink must
  never block (the monitor's queues onto the bus's outbox). Values offered outside a
  :meth:`~CoalescingSender.hold` go to it at once, one per call.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

import attrs
import trio

__all__ = ["CoalesceStats", "CoalescingSender"]

K = TypeVar("K", bound=Hashable)
P = TypeVar("P")
T = TypeVar("T")
M = TypeVar("M")


@attrs.define
class CoalesceStats:
    """Counters of one sender.

    Attributes:
        sent: values handed to the channel.
        coalesced: offers that replaced a value still queued under the same key.
    """

    sent: int = 0
    coalesced: int = 0


class CoalescingSender(Generic[K, P, T]):
    """Newest-wins, first-change-ordered delivery into a bounded channel.

    Args:
        send: the consumer's channel (bounded).
        build: turns a queued ``(key, value)`` into what is sent, at send time; ``None``
            skips it.

    Run :meth:`run` in the feed's nursery; call :meth:`offer` from anywhere on that thread.
    """

    def __init__(self, send: trio.MemorySendChannel[T], build: Callable[[K, P], T | None]) -> None:
        self.stats = CoalesceStats()
        self._send = send
        self._build = build
        self._pending: dict[K, P] = {}
        self._wakeup = trio.Event()
        self._held = False
        self._sink: Callable[[list[T]], None] | None = None

    def __len__(self) -> int:
        """Values queued (not yet in the channel)."""
        return len(self._pending)

    def set_sink(self, sink: Callable[[list[T]], None] | None) -> None:
        """Hand values to ``sink`` (synchronously, on the offering task) instead of the
        channel; ``None`` goes back to the channel. Whatever is queued when a sink is set
        goes to it at once, so nothing queued is stranded. Values already in the channel
        stay there: the consumer drains them before it sets the sink."""
        self._sink = sink
        if sink is not None and self._pending and not self._held:
            self._to_sink(sink)

    def _to_sink(self, sink: Callable[[list[T]], None]) -> None:
        build = self._build
        pending = self._pending
        items = [item for key, value in pending.items() if (item := build(key, value)) is not None]
        pending.clear()
        if items:
            self.stats.sent += len(items)
            sink(items)

    def offer(self, key: K, value: P) -> None:
        """Queue ``value`` under ``key`` (never blocks); see the module docstring."""
        pending = self._pending
        sink = self._sink
        if sink is not None and not self._held:
            item = self._build(key, value)
            if item is not None:
                self.stats.sent += 1
                sink([item])
            return
        if not pending and not self._held:
            item = self._build(key, value)
            if item is None:
                return
            try:
                self._send.send_nowait(item)
            except trio.WouldBlock:
                pass
            except trio.BrokenResourceError:
                return  # the consumer is gone (shutting down): nobody to deliver to
            else:
                self.stats.sent += 1
                return
        if key in pending:
            self.stats.coalesced += 1
        pending[key] = value  # an existing key keeps its place
        self._wakeup.set()

    def read(
        self, messages: Sequence[M], received_ns: int, handle: Callable[[M, int], None]
    ) -> None:
        """``handle(message, received_ns)`` for each message of one socket read, in order,
        between :meth:`hold` and :meth:`flush`: the read's changes go out as one batch, each
        key's newest once (every feed's ``on_batch``)."""
        self.hold()
        try:
            for message in messages:
                handle(message, received_ns)
        finally:
            self.flush()

    def hold(self) -> None:
        """Queue every offer until :meth:`flush` (one socket read's changes)."""
        self._held = True

    def flush(self) -> None:
        """End :meth:`hold`: build and hand over what is queued, in first-change order, as
        far as the channel has room (never blocks); :meth:`run` delivers the rest."""
        self._held = False
        pending = self._pending
        if self._sink is not None:
            if pending:
                self._to_sink(self._sink)
            return
        send = self._send
        while pending:
            room = send.statistics()
            if room.current_buffer_used >= room.max_buffer_size and not room.tasks_waiting_receive:
                break  # full: build nothing that cannot go out now
            key = next(iter(pending))
            item = self._build(key, pending[key])
            if item is None:
                del pending[key]
                continue
            try:
                send.send_nowait(item)
            except trio.WouldBlock:
                break
            except trio.BrokenResourceError:
                pending.clear()
                return  # the consumer is gone (shutting down)
            del pending[key]
            self.stats.sent += 1
        if pending:
            self._wakeup.set()

    def discard(self, key: K) -> None:
        """Forget a queued value (its instrument is no longer tracked)."""
        self._pending.pop(key, None)

    async def run(self) -> None:
        """Deliver queued values as the consumer makes room, until cancelled."""
        pending = self._pending
        while True:
            if not pending or self._sink is not None:  # a sink takes its values at once
                self._wakeup = trio.Event()
                await self._wakeup.wait()
                continue
            key = next(iter(pending))
            item = self._build(key, pending.pop(key))
            if item is None:
                continue
            try:
                await self._send.send(item)
            except trio.BrokenResourceError:
                return  # the consumer is gone (shutting down)
            self.stats.sent += 1
