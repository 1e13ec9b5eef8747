"""Recording and replay of the Kalshi WebSocket feed.

A recording is JSON Lines, one received frame per line: ``{"recv_ns": <time.time_ns()>,
"frame": "<raw text exactly as received>"}`` (gzip when the name ends in ``.gz``). Raw text
keeps a recording useful when the parser changes, and replay runs the very protocol code
the live feed runs. :func:`read_frames` also accepts a file of raw frames, one per line.

:func:`fold_recording` replays frames through a :class:`KalshiProtocol` in ``auto_track``
mode (it adopts the sids and tickers it sees, since a recording holds what was received,
not what was subscribed) and returns the final YES top of book of every market as exact
decimal strings — ``arbees book FILE --venue kalshi``. :class:`KalshiReplayer` does the
same frame by frame and hands out the feed's own updates (``arbees replay``).
:func:`record` runs the real feed (auth, resyncs, reconnects) and writes every frame it
receives — ``arbees record kalshi``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs
import trio

from arbees.kalshi.auth import KalshiSigner
from arbees.kalshi.book import DEFAULT_DEPTH
from arbees.kalshi.events import BookChanged, BooksStale
from arbees.kalshi.feed import PROD_WS_URL, KalshiBookUpdate, KalshiFeed
from arbees.kalshi.protocol import KalshiProtocol
from arbees.money import format_fixed
from arbees.recording import open_text, read_recording, record_line
from arbees.wsdriver import Message

__all__ = ["KalshiReplayer", "TopRow", "fold_recording", "open_text", "read_frames", "record"]

log = logging.getLogger(__name__)


@attrs.frozen
class TopRow:
    """Final YES top of book of one market, as exact decimal strings (``""`` when empty).

    Attributes:
        ticker: market ticker.
        best_bid: best YES bid.
        best_bid_size: size at the best YES bid.
        best_ask: best YES ask (1 − best NO bid).
        best_ask_size: size at that NO bid.
        stale: the book could not be trusted at the end of the recording.
    """

    ticker: str
    best_bid: str
    best_bid_size: str
    best_ask: str
    best_ask_size: str
    stale: bool


def read_frames(path: str | Path) -> Iterator[str]:
    """Raw frames of a recording (JSON Lines records or one raw frame per line)."""
    for _, frame in read_recording(path):
        yield frame


def fold_recording(frames: Iterable[str]) -> list[TopRow]:
    """Replay frames and return every market's final YES top of book, sorted by ticker."""
    proto = KalshiProtocol(cross_check=True, auto_track=True)
    for frame in frames:
        proto.receive(frame)
    rows = []
    for ticker in sorted(proto.books):
        book = proto.books[ticker]
        bid, ask = book.best_yes_bid, book.yes_ask
        rows.append(
            TopRow(
                ticker,
                format_fixed(bid.price) if bid else "",
                format_fixed(bid.size) if bid else "",
                format_fixed(ask.price) if ask else "",
                format_fixed(ask.size) if ask else "",
                book.stale,
            )
        )
    s = proto.stats
    if s.rejected or s.gaps or s.unknown_types:
        log.info(
            "kalshi replay: %d frames, %d rejected, %d gaps, %d unknown types",
            s.frames,
            s.rejected,
            s.gaps,
            s.unknown_types,
        )
    return rows


class KalshiReplayer:
    """Recorded frames in, the feed's :class:`KalshiBookUpdate` values out (sans-io).

    The protocol runs in ``auto_track`` mode (a recording holds what was received, not what
    was subscribed); each book change or staleness becomes the update the live feed would
    have offered, timed by the frame's receive time.

    Args:
        depth: levels per side in each view (the feed's default).
    """

    venue = "kalshi"

    def __init__(self, *, depth: int = DEFAULT_DEPTH) -> None:
        self.protocol = KalshiProtocol(cross_check=True, auto_track=True)
        self.depth = depth

    def frame(self, text: str, recv_ns: int) -> list[KalshiBookUpdate]:
        """Apply one frame; the updates it produced (often one, maybe none)."""
        books = self.protocol.books
        out: list[KalshiBookUpdate] = []
        for ev in self.protocol.receive(text, recv_ns):
            if type(ev) is BookChanged:
                book = books.get(ev.ticker)
                if book is not None:
                    out.append(
                        self._update(
                            ev.ticker, ev.kind, ev.sid, ev.seq, ev.venue_ts_ms, ev.received_ns
                        )
                    )
            elif type(ev) is BooksStale:
                for ticker in ev.tickers:
                    book = books.get(ticker)
                    if book is not None:
                        out.append(
                            self._update(
                                ticker,
                                "stale",
                                ev.sid,
                                book.seq,
                                book.venue_ts_ms,
                                ev.received_ns,
                                ev.reason,
                            )
                        )
        return out

    def _update(
        self,
        ticker: str,
        kind: str,
        sid: int,
        seq: int,
        venue_ts_ms: int | None,
        received_ns: int,
        reason: str | None = None,
    ) -> KalshiBookUpdate:
        book = self.protocol.books[ticker]
        return KalshiBookUpdate(
            ticker,
            book.yes_view(depth=self.depth, received_ns=received_ns),
            book.no_view(depth=self.depth, received_ns=received_ns),
            kind,  # type: ignore[arg-type]
            sid,
            seq,
            venue_ts_ms,
            received_ns,
            book.stale_reason if reason is None else reason,
        )

    def rejected(self) -> int:
        """Frames the protocol refused."""
        return self.protocol.stats.rejected


async def record(
    tickers: Iterable[str],
    out: str | Path,
    *,
    signer: KalshiSigner | None,
    url: str = PROD_WS_URL,
    duration: float | None = None,
    silence_timeout: float = 30.0,
) -> int:
    """Record every frame the feed receives for ``tickers`` into ``out``; returns the count.

    Runs until ``duration`` seconds have passed (or cancellation). The feed keeps its books
    honest while recording (resyncs on gaps, reconnects), so the file folds into the same
    books the live feed had.
    """
    count = 0
    with open_text(out, "w") as f:

        def write(message: Message, received_ns: int) -> None:
            nonlocal count
            text = message if isinstance(message, str) else message.decode("utf-8", "replace")
            f.write(record_line(received_ns, text))
            count += 1

        feed = KalshiFeed(
            tickers, signer=signer, url=url, silence_timeout=silence_timeout, on_frame=write
        )
        started = time.monotonic()
        async with trio.open_nursery() as nursery:
            await nursery.start(feed.run)
            log.info("kalshi: recording %d markets to %s", len(feed.protocol.wanted), out)

            async def drain() -> None:
                async for _ in feed.updates:
                    pass

            nursery.start_soon(drain)
            if duration is not None:
                await trio.sleep(max(0.0, duration - (time.monotonic() - started)))
                nursery.cancel_scope.cancel()
    return count
