"""A bounded drop-oldest queue for Trio: the newest data always gets through.

A slow subscriber must never block a publisher (the monitor serves many consumers) and must
never see ancient prices first, so when its buffer is full the *oldest* item is discarded
and counted.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

import trio

__all__ = ["DropOldestQueue"]

T = TypeVar("T")


class DropOldestQueue(Generic[T]):
    """``put_nowait`` never blocks; ``get`` waits. ``dropped`` counts discarded items."""

    def __init__(self, maxlen: int) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be >= 1")
        self._items: deque[T] = deque()
        self._maxlen = maxlen
        self._lot = trio.lowlevel.ParkingLot()
        self._closed = False
        self.dropped = 0

    def put_nowait(self, item: T) -> bool:
        """Enqueue; returns False when an old item had to be dropped to make room."""
        if self._closed:
            return True
        ok = True
        if len(self._items) >= self._maxlen:
            self._items.popleft()
            self.dropped += 1
            ok = False
        self._items.append(item)
        self._lot.unpark()
        return ok

    async def get(self) -> T:
        """Next item; raises :class:`trio.EndOfChannel` once closed and drained."""
        while not self._items:
            if self._closed:
                raise trio.EndOfChannel
            await self._lot.park()
        await trio.lowlevel.checkpoint_if_cancelled()
        return self._items.popleft()

    async def get_batch(self, limit: int) -> list[T]:
        """Every item queued (at most ``limit``, oldest first), waiting for the first: one
        wake-up for everything a producer queued meanwhile (e.g. one socket read's
        messages). Raises :class:`trio.EndOfChannel` once closed and drained."""
        while not self._items:
            if self._closed:
                raise trio.EndOfChannel
            await self._lot.park()
        await trio.lowlevel.checkpoint_if_cancelled()
        items = self._items
        if len(items) <= limit:
            self._items = deque()
            return list(items)
        return [items.popleft() for _ in range(limit)]

    def get_nowait(self) -> T:
        if not self._items:
            raise trio.WouldBlock
        return self._items.popleft()

    def close(self) -> None:
        self._closed = True
        self._lot.unpark_all()

    def __len__(self) -> int:
        return len(self._items)
