"""A direct feed's liveness mark never overtakes the updates it vouches for, and each read
reaches the shard on the feed's own task.

``Alive(when)`` tells the shard that every frame read up to ``when`` is reflected in the
quotes it has. It used to come from its own task, polling ``feed.last_message_ns()`` into
the shard's channel while updates read *before* ``when`` were still queued in
``feed.updates`` (a lagging consumer under load), so a book those updates had replaced
looked confirmed live. The fake feed below has ten updates queued, all read before its
last message: each must reach the shard ahead of any mark covering it. Deterministic: no
timing, the queued updates are there before the source starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs
import trio
import trio.testing

from arbees.book import BookView
from arbees.services.quotes import Quote
from arbees.services.sources import Alive, FeedQuoteSource, SourceItem


@attrs.frozen
class _Update:
    instrument: str
    received_ns: int


class _Feed:
    """Ten updates already read (received at 1..10 ns), the last frame read at 10 ns."""

    def __init__(self) -> None:
        self.send, self.updates = trio.open_memory_channel[Any](64)
        for n in range(1, 11):
            self.send.send_nowait(_Update(f"T{n}", n))
        self.sink: Callable[[list[Any]], None] | None = None
        self.last_ns = 10

    def set_sink(self, sink: Callable[[list[Any]], None] | None) -> None:
        self.sink = sink

    def read(self, *updates: _Update) -> None:
        """One socket read's updates, as a real feed hands them to its sink."""
        assert self.sink is not None
        self.last_ns = max(u.received_ns for u in updates)
        self.sink(list(updates))

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await trio.sleep_forever()

    def last_message_ns(self) -> int:
        return self.last_ns

    async def add(self, instruments: Iterable[str]) -> None:
        pass

    async def remove(self, instruments: Iterable[str]) -> None:
        pass

    def current_view(self, instrument: str) -> BookView | None:
        return None


def _quote(update: _Update) -> Quote:
    return Quote("kalshi", update.instrument, (), (), False, update.received_ns)


async def test_alive_comes_after_every_update_read_before_it() -> None:
    feed = _Feed()
    source = FeedQuoteSource("kalshi", feed, _quote, alive_interval=0.25)
    send, receive = trio.open_memory_channel[SourceItem](1000)
    async with trio.open_nursery() as nursery:
        await nursery.start(source.run, send.send_nowait)
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    items: list[Quote | Alive] = []  # a batch (what the feed had queued) flattened
    while True:
        try:
            item = receive.receive_nowait()
        except trio.WouldBlock:
            break
        items.extend(item if isinstance(item, tuple) else (item,))
    quotes = [i for i in items if isinstance(i, Quote)]
    assert [q.instrument for q in quotes] == [f"T{n}" for n in range(1, 11)]
    marks = [n for n, i in enumerate(items) if isinstance(i, Alive)]
    assert marks, "an idle source vouches for what it handed over"
    for n in marks:
        mark = items[n]
        assert isinstance(mark, Alive)
        assert mark.when_ns == 10
        handed = {i.instrument for i in items[:n] if isinstance(i, Quote)}
        covered = {q.instrument for q in quotes if q.received_ns <= mark.when_ns}
        assert covered <= handed, f"Alive({mark.when_ns}) overtook {sorted(covered - handed)}"


async def test_each_read_reaches_the_shard_on_the_feeds_task_as_one_item() -> None:
    feed = _Feed()
    source = FeedQuoteSource("kalshi", feed, _quote, alive_interval=0.25)
    items: list[SourceItem] = []
    async with trio.open_nursery() as nursery:
        await nursery.start(source.run, items.append)
        await trio.testing.wait_all_tasks_blocked()
        assert feed.sink is not None  # the source is the feed's sink once started
        queued = len(items)
        feed.read(_Update("A", 11), _Update("B", 12))
        # handed over within the read itself: no task ran in between
        assert items[queued:] == [(_quote(_Update("A", 11)), _quote(_Update("B", 12)))]
        feed.read(_Update("C", 13))
        assert items[-1] == _quote(_Update("C", 13))  # a lone update goes alone
        await trio.sleep(0.3)  # the next mark vouches for both reads, after them
        assert items[-1] == Alive("kalshi", 13)
        nursery.cancel_scope.cancel()
    assert feed.sink is None  # a stopped source leaves no sink behind
    # what was queued before the sink went first, in order, ahead of the reads
    flat = [i for item in items for i in (item if isinstance(item, tuple) else (item,))]
    names = [q.instrument for q in flat if isinstance(q, Quote)]
    assert names == [*(f"T{n}" for n in range(1, 11)), "A", "B", "C"]
