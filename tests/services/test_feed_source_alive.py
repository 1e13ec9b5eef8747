"""A direct feed's liveness mark never overtakes the updates it vouches for.

``Alive(when)`` tells the shard that every frame read up to ``when`` is reflected in the
quotes it has. It used to come from its own task, polling ``feed.last_message_ns()`` into
the shard's channel while updates read *before* ``when`` were still queued in
``feed.updates`` (a lagging consumer under load), so a book those updates had replaced
looked confirmed live. The fake feed below has ten updates queued, all read before its
last message: each must reach the shard ahead of any mark covering it. Deterministic: no
timing, the queued updates are there before the source starts.
"""

from __future__ import annotations

from collections.abc import Iterable
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

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await trio.sleep_forever()

    def last_message_ns(self) -> int:
        return 10

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
