"""The small interfaces services depend on instead of concrete venue classes.

The CLI (layer L4) passes venue feeds that satisfy these protocols; tests pass fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import trio

from arbees.book import BookView

__all__ = ["FeedUpdate", "InstrumentFeed"]


class FeedUpdate(Protocol):
    """One book change as a feed reports it."""

    @property
    def view(self) -> BookView: ...

    @property
    def venue_ts_ms(self) -> int | None: ...

    @property
    def received_ns(self) -> int: ...


class InstrumentFeed(Protocol):
    """A venue feed for a changing set of instruments (tokens or tickers).

    Every venue's feed offers exactly this surface (see ``arbees.venues``), so services
    never ask which venue a feed belongs to. ``run`` reports readiness through
    ``task_status``; ``updates`` yields the book changes (:class:`FeedUpdate` values, each
    instrument's newest, coalesced for a slow consumer), unless a sink is set
    (:meth:`set_sink`).
    """

    updates: trio.MemoryReceiveChannel[Any]

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None: ...

    async def add(self, instruments: Iterable[str]) -> None: ...

    def set_sink(self, sink: Callable[[list[Any]], None] | None) -> None:
        """Hand each socket read's updates (a list of :class:`FeedUpdate`, each
        instrument's newest once) to ``sink``, synchronously on the feed's reader task,
        instead of ``updates``; ``None`` goes back to the channel. The sink must never
        block. Updates already in ``updates`` stay there (drain them first)."""
        ...

    async def remove(self, instruments: Iterable[str]) -> None: ...

    def current_view(self, instrument: str) -> BookView | None:
        """The instrument's current book, ``None`` when it is not tracked."""
        ...

    def last_message_ns(self) -> int:
        """Wall clock up to which everything the venue sent has arrived; 0 when unknown."""
        ...

    def counters(self) -> dict[str, int]:
        """``reconnects``, ``rejected``, ``mismatches``, ``coalesced``, ``updates``."""
        ...
