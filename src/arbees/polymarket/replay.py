"""Recording and replay of the Polymarket market channel.

A recording is JSON Lines, one received frame per line: ``{"recv_ns": <time.time_ns()>,
"frame": "<raw text exactly as received>"}`` (gzip-compressed when the file name ends in
``.gz``). Keeping the raw text (not a parsed form) means a recording stays useful when the
parser changes, and replays exercise the very code path the live feed uses.
:func:`read_recording` also accepts a plain file holding one raw frame per line.

:func:`fold_recording` runs frames through :class:`PolymarketProtocol` and returns the
final top of book of every token as exact decimal strings (``arbees book FILE``).
:class:`PolymarketReplayer` does the same frame by frame and hands out the feed's own
updates (``arbees replay``). :func:`record` connects (sharded like the feed) and writes
every data frame.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import attrs
import trio

from arbees.gate import ConnectGate
from arbees.money import format_fixed
from arbees.polymarket.events import BookChanged
from arbees.polymarket.feed import DEFAULT_WS_URL, BookUpdate, FeedConfig
from arbees.polymarket.protocol import TEXT_FRAMES, PolymarketProtocol
from arbees.polymarket.subscriptions import MAX_ASSETS_PER_SOCKET
from arbees.polymarket.wire import subscribe_frame
from arbees.recording import open_text, read_recording, record_line
from arbees.wsdriver import Backoff, Message, WsConfig, WsConnection, WsDriver

__all__ = [
    "PolymarketReplayer",
    "TopRow",
    "fold_recording",
    "open_text",
    "read_recording",
    "record",
]

log = logging.getLogger(__name__)


@attrs.frozen
class TopRow:
    """Final top of book of one token, as exact decimal strings (``""`` when empty).

    Attributes:
        token: token id.
        best_bid: best bid price.
        best_bid_size: size at the best bid.
        best_ask: best ask price.
        best_ask_size: size at the best ask.
        stale: whether the book was stale at the end of the recording.
    """

    token: str
    best_bid: str
    best_bid_size: str
    best_ask: str
    best_ask_size: str
    stale: bool


def fold_recording(frames: Iterable[str]) -> list[TopRow]:
    """Apply frames to a fresh protocol; the final top of book of every token, sorted."""
    proto = PolymarketProtocol()
    for frame in frames:
        proto.feed(frame)
    rows = []
    for token in sorted(proto.books):
        top = proto.books[token].top()
        rows.append(
            TopRow(
                token,
                format_fixed(top.bid) if top.bid is not None else "",
                format_fixed(top.bid_size) if top.bid is not None else "",
                format_fixed(top.ask) if top.ask is not None else "",
                format_fixed(top.ask_size) if top.ask is not None else "",
                top.stale,
            )
        )
    return rows


class PolymarketReplayer:
    """Recorded frames in, the feed's :class:`BookUpdate` values out (sans-io).

    Every book change becomes the update the live feed would have offered, timed by the
    frame's receive time; the socket's text frames (``PONG``) change nothing.

    Args:
        depth: levels per side in each view (the feed's default).
    """

    venue = "polymarket"

    def __init__(self, *, depth: int | None = None) -> None:
        self.protocol = PolymarketProtocol()
        self.depth = FeedConfig().depth if depth is None else depth

    def frame(self, text: str, recv_ns: int) -> list[BookUpdate]:
        """Apply one frame; the updates it produced."""
        if text in TEXT_FRAMES:
            return []
        books = self.protocol.books
        out: list[BookUpdate] = []
        for ev in self.protocol.feed(text, recv_ns):
            if type(ev) is BookChanged:
                book = books.get(ev.token)
                if book is not None:
                    view = book.view(self.depth)
                    out.append(BookUpdate(view, ev.kind, ev.venue_ts_ms, recv_ns, recv_ns))
        return out

    def rejected(self) -> int:
        """Frames or events the protocol refused or did not know (a frame of another
        venue)."""
        stats = self.protocol.stats
        return stats.invalid_frames + stats.rejected + stats.unknown_events


async def record(
    tokens: list[str],
    out: str | Path,
    *,
    url: str = DEFAULT_WS_URL,
    duration: float | None = None,
    proxy: str | None = None,
    tokens_per_socket: int = 250,
    backoff: Backoff | None = None,
    gate: ConnectGate | None = None,
) -> int:
    """Record the market channel for ``tokens`` into ``out``; returns the frames written.

    Runs for ``duration`` seconds (``None``: until cancelled). ``PONG`` replies to our
    heartbeat are not recorded; everything else is, verbatim. ``gate`` is asked before
    every connection (the CLI passes the egress gate).
    """
    size = min(max(tokens_per_socket, 1), MAX_ASSETS_PER_SOCKET)
    written = 0
    with open_text(out, "w") as f:

        def on_message(message: Message, recv_ns: int) -> None:
            nonlocal written
            text = message if isinstance(message, str) else message.decode("utf-8", "replace")
            if text == "PONG":
                return
            f.write(record_line(recv_ns, text))
            written += 1

        def subscriber(chunk: list[str]) -> Callable[[WsConnection], Awaitable[None]]:
            async def on_connect(ws: WsConnection) -> None:
                await ws.send_message(subscribe_frame(chunk))

            return on_connect

        drivers = [
            WsDriver(
                WsConfig(
                    url,
                    proxy=proxy,
                    heartbeat_text="PING",
                    backoff=backoff or Backoff(),
                    name=f"polymarket-record-{i // size}",
                    gate=gate,
                    fatal_statuses=frozenset(),
                ),
                on_message=on_message,
                on_connect=subscriber(tokens[i : i + size]),
            )
            for i in range(0, len(tokens), size)
        ]
        started = time.monotonic()
        with trio.move_on_after(duration if duration is not None else float("inf")):
            async with trio.open_nursery() as nursery:
                for driver in drivers:
                    nursery.start_soon(driver.run)
        log.info("recorded %d frames in %.1fs", written, time.monotonic() - started)
    return written
