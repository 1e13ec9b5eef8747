"""Recording and replay of the Polymarket US markets feed.

A recording is JSON Lines, one received frame per line (``{"recv_ns", "frame"}``, gzip when
the name ends in ``.gz``; :mod:`arbees.recording`), raw text exactly as received, so a
recording stays useful when the parser changes. :func:`fold_recording` replays frames
through a :class:`~arbees.polymarket_us.protocol.PolymarketUsProtocol` that adopts every
market it sees and returns each market's final top of book as exact decimal strings
(``arbees book FILE --venue polymarket-us``); :class:`PolymarketUsReplayer` does the same
frame by frame and hands out the feed's own updates (``arbees replay``, its entry in
:data:`arbees.replay.REPLAYERS`); :func:`record` runs the real feed (signed, sharded,
reconnecting) and writes every frame it receives (``arbees record polymarket-us``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path

import attrs
import trio

from arbees.money import format_fixed
from arbees.polymarket_us.auth import PolymarketUsSigner
from arbees.polymarket_us.feed import PROD_WS_URL, PolymarketUsFeed, PolymarketUsUpdate
from arbees.polymarket_us.protocol import BookChanged, BookShape, PolymarketUsProtocol
from arbees.recording import open_text, record_line
from arbees.wsdriver import Message

__all__ = ["PolymarketUsReplayer", "TopRow", "fold_recording", "record"]

log = logging.getLogger(__name__)


@attrs.frozen
class TopRow:
    """Final top of book of one market (its long, YES side), exact decimal strings
    (``""`` when a side is empty).

    Attributes:
        slug: the market slug.
        best_bid: best bid.
        best_bid_size: size at the best bid.
        best_ask: best offer.
        best_ask_size: size at the best offer.
        stale: the book could not be trusted at the end of the recording.
    """

    slug: str
    best_bid: str
    best_bid_size: str
    best_ask: str
    best_ask_size: str
    stale: bool


def fold_recording(frames: Iterable[str | bytes], *, shape: BookShape = "full") -> list[TopRow]:
    """Replay frames and return every market's final top of book, sorted by slug."""
    proto = PolymarketUsProtocol(shape=shape, create_on_data=True)
    for frame in frames:
        proto.feed(frame)
    rows = []
    for slug in sorted(proto.books):
        book = proto.books[slug]
        bb, bid_size, ba, ask_size = book.best_levels()
        rows.append(
            TopRow(
                slug,
                format_fixed(bb) if bb is not None else "",
                format_fixed(bid_size) if bb is not None else "",
                format_fixed(ba) if ba is not None else "",
                format_fixed(ask_size) if ba is not None else "",
                book.stale,
            )
        )
    s = proto.stats
    if s.rejected or s.invalid_frames:
        log.info(
            "polymarket-us replay: %d frames, %d rejected, %d invalid",
            s.frames,
            s.rejected,
            s.invalid_frames,
        )
    return rows


class PolymarketUsReplayer:
    """Recorded frames in, the feed's :class:`PolymarketUsUpdate` values out (sans-io).

    Every book change becomes the update the live feed would have offered (the same
    protocol, the same view depth), timed by the frame's receive time. The recording holds
    only received frames, so every market it carries data for is adopted (the live feed
    tracked it by its subscription); heartbeats and acknowledgements change nothing.

    Args:
        shape: the book shape the live feed read (``"full"``, the default, or ``"delta"``).
        depth: levels per side in each view (the feed's default).
    """

    venue = "polymarket-us"

    def __init__(self, *, shape: BookShape = "full", depth: int = 10) -> None:
        self.protocol = PolymarketUsProtocol(shape=shape, create_on_data=True)
        self.depth = depth

    def frame(self, text: str, recv_ns: int) -> list[PolymarketUsUpdate]:
        """Apply one frame; the updates it produced."""
        books = self.protocol.books
        out: list[PolymarketUsUpdate] = []
        for ev in self.protocol.feed(text, recv_ns):
            if type(ev) is BookChanged:
                book = books.get(ev.slug)
                if book is not None:
                    kind = "stale" if ev.kind == "reconnect" else ev.kind
                    out.append(
                        PolymarketUsUpdate(
                            ev.slug, book.view(self.depth), kind, ev.venue_ts_ms, recv_ns
                        )
                    )
        return out

    def rejected(self) -> int:
        """Frames or updates the protocol refused."""
        stats = self.protocol.stats
        return stats.rejected + stats.invalid_frames


async def record(
    slugs: Iterable[str],
    out: str | Path,
    *,
    signer: PolymarketUsSigner | None,
    url: str = PROD_WS_URL,
    duration: float | None = None,
    **options: object,
) -> int:
    """Record every frame the feed receives for ``slugs`` into ``out``; returns the count.

    Runs until ``duration`` seconds have passed (or cancellation); ``options`` are
    :class:`~arbees.polymarket_us.feed.PolymarketUsFeed`'s keywords.
    """
    count = 0
    with open_text(out, "w") as f:

        def write(message: Message, received_ns: int) -> None:
            nonlocal count
            text = message if isinstance(message, str) else message.decode("utf-8", "replace")
            f.write(record_line(received_ns, text))
            count += 1

        feed = PolymarketUsFeed(slugs, signer=signer, url=url, on_frame=write, **options)  # type: ignore[arg-type]
        started = time.monotonic()
        async with trio.open_nursery() as nursery:
            await nursery.start(feed.run)
            log.info("polymarket-us: recording %d markets to %s", len(feed.subscriptions), out)

            async def drain() -> None:
                async for _ in feed.updates:
                    pass

            nursery.start_soon(drain)
            if duration is not None:
                await trio.sleep(max(0.0, duration - (time.monotonic() - started)))
                nursery.cancel_scope.cancel()
    return count
