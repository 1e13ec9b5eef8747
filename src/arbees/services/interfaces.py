"""The small interfaces services depend on instead of concrete venue classes.

The CLI (layer L4) passes venue feeds that satisfy these protocols; tests pass fakes.
"""

from __future__ import annotations

from collections.abc import Iterable
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

    ``run`` reports readiness through ``task_status``; ``updates`` yields the book changes.
    """

    updates: trio.MemoryReceiveChannel[Any]

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None: ...

    async def add(self, instruments: Iterable[str]) -> None: ...

    async def remove(self, instruments: Iterable[str]) -> None: ...
