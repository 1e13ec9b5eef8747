"""The Kalshi market-data feed: authenticated WebSocket → exact books → BookView updates.

Built on the shared :class:`arbees.wsdriver.WsDriver` (per-connect headers, prompt reads
so Pong replies never wait on us, silence watchdog, full-jitter reconnect, 401 surfaced)
and the sans-io :class:`~arbees.kalshi.protocol.KalshiProtocol` (seq per sid, resyncs,
books). This module only wires them together and does the Trio parts:

- every connect is signed afresh (``KalshiSigner.headers`` on each handshake);
- a 401 at the upgrade ends :meth:`KalshiFeed.run` with :class:`~arbees.errors.AuthError`
  (no secrets in the message) instead of retrying forever;
- Kalshi's pings are protocol frames the driver never sees, so a quiet market would look
  "silent": the feed sends ``list_subscriptions`` every ``silence_timeout / 3`` seconds and
  the answer feeds the watchdog; a stalled server does not answer, and we reconnect;
- updates reach the consumer through the shared :class:`~arbees.coalesce.CoalescingSender`
  WITHOUT ever blocking the reader: when the consumer lags, updates are coalesced per ticker
  (newest wins, first-change order, counted in ``counters()["coalesced"]``), so the latest
  state of every book — a stale one in particular — is always delivered eventually, and a
  stale book is never left looking fresh.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Literal
from urllib.parse import urlsplit

import attrs
import trio

from arbees.book import BookView
from arbees.coalesce import CoalescingSender
from arbees.errors import AuthError
from arbees.kalshi.auth import KalshiSigner
from arbees.kalshi.book import DEFAULT_DEPTH
from arbees.kalshi.events import BookChanged, BooksStale, KalshiEvent
from arbees.kalshi.protocol import KalshiProtocol
from arbees.wsdriver import (
    DEFAULT_MAX_MESSAGE_SIZE,
    Backoff,
    Message,
    WsConfig,
    WsConnection,
    WsDriver,
)

__all__ = [
    "DEMO_WS_URL",
    "PROD_WS_URL",
    "KalshiBookUpdate",
    "KalshiFeed",
    "KalshiFeedStats",
    "open_kalshi_feed",
]

log = logging.getLogger(__name__)

PROD_WS_URL = "wss://external-api-ws.kalshi.com/trade-api/ws/v2"
DEMO_WS_URL = "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2"
_AUTH_MESSAGE = (
    "Kalshi refused the credentials at the WebSocket upgrade (HTTP 401/403): "
    "check the API key id and that the private key matches it"
)


@attrs.frozen(slots=True)
class KalshiBookUpdate:
    """One market's book after a change, as both outcome views.

    Attributes:
        ticker: market ticker.
        yes: YES view (YES bids; YES asks derived from NO bids).
        no: NO view (NO bids; NO asks derived from YES bids), instrument ``TICKER:NO``.
        kind: ``"snapshot"``, ``"delta"`` or ``"stale"`` (gap, corruption, reconnect...).
        sid: subscription id (0 for connection-wide events).
        seq: sequence number of the last frame applied (0 if none).
        venue_ts_ms: venue timestamp of the last change, when sent.
        received_ns: wall-clock receive time of the frame behind this update.
        reason: why the book is stale (``""`` when fresh).
    """

    ticker: str
    yes: BookView
    no: BookView
    kind: Literal["snapshot", "delta", "stale"]
    sid: int
    seq: int
    venue_ts_ms: int | None
    received_ns: int
    reason: str = ""

    @property
    def stale(self) -> bool:
        return self.yes.stale

    @property
    def view(self) -> BookView:
        """The YES view: the instrument a Kalshi market is known by."""
        return self.yes


@attrs.define
class KalshiFeedStats:
    """Feed-level counters (the protocol's are in ``feed.protocol.stats``).

    Delivery counters are the coalescing sender's (``feed.counters()``).

    Attributes:
        commands_sent: command frames sent.
        keepalives: ``list_subscriptions`` keepalives sent.
    """

    commands_sent: int = 0
    keepalives: int = 0


class KalshiFeed:
    """Order books for a set of Kalshi markets, kept fresh over one WebSocket.

    Args:
        tickers: markets to track (more can be added with :meth:`add_tickers`).
        signer: signs each handshake; ``None`` sends no auth headers (fake venues only).
        url: WebSocket URL (:data:`PROD_WS_URL`, :data:`DEMO_WS_URL` or a fake's).
        depth: levels per side in each view.
        silence_timeout: reconnect after this long without any frame (≥ 30 s in production).
        buffer: capacity of the update channel.
        cross_check: also subscribe ``ticker`` and mark books disagreeing with it stale.
        backoff: reconnect policy.
        keepalive_interval: seconds between ``list_subscriptions`` round trips (default
            ``silence_timeout / 3``). Each answer proves every frame sent before it has
            arrived, which is what keeps a quiet book usable for a consumer with a
            maximum price age: set it well below that age.
        ready_timeout: :meth:`run` reports ready once every book has its first snapshot,
            or after this many seconds.
        on_frame: called with every raw frame and its receive time (recording).
        max_message_size: larger WebSocket messages drop the connection (counted in
            ``driver.stats.oversized``, logged, reconnected).

    Example::

        async with open_kalshi_feed(["KXNBAGAME-26OCT20OKCSAS-OKC"], signer=signer) as feed:
            async for update in feed.updates:
                if not update.stale: ...
    """

    def __init__(
        self,
        tickers: Iterable[str],
        *,
        signer: KalshiSigner | None,
        url: str = PROD_WS_URL,
        depth: int = DEFAULT_DEPTH,
        silence_timeout: float = 30.0,
        buffer: int = 1024,
        cross_check: bool = True,
        backoff: Backoff | None = None,
        resync_interval: float = 1.0,
        ready_timeout: float = 10.0,
        keepalive_interval: float | None = None,
        on_frame: Callable[[Message, int], None] | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        self.protocol = KalshiProtocol(
            tickers, cross_check=cross_check, depth=depth, resync_interval=resync_interval
        )
        self.stats = KalshiFeedStats()
        self.depth = depth
        self.ready_timeout = ready_timeout
        self._signer = signer
        self._on_frame = on_frame
        self._path = urlsplit(url).path or "/"
        send, self.updates = trio.open_memory_channel[KalshiBookUpdate](buffer)
        self._sender = CoalescingSender[str, KalshiBookUpdate, KalshiBookUpdate](send, _as_is)
        self._ready = trio.Event()
        self._wake_flush = trio.Event()
        self.driver = WsDriver(
            WsConfig(
                url,
                headers=self._headers,
                silence_timeout=silence_timeout,
                ping_timeout=max(20.0, silence_timeout),
                backoff=backoff or Backoff(),
                max_message_size=max_message_size,
                name="kalshi",
            ),
            on_batch=self._on_read,
            on_connect=self._on_connect,
            on_disconnect=self._on_disconnect,
        )
        if keepalive_interval is None:
            keepalive_interval = silence_timeout / 3
        self._keepalive_every = max(min(keepalive_interval, silence_timeout / 3), 0.05)
        self._silence_timeout = silence_timeout
        self._last_message = 0.0
        self._silence_flagged = False

    def __repr__(self) -> str:
        return f"<KalshiFeed {len(self.protocol.wanted)} tickers {self.driver!r}>"

    # ------------------------------------------------------------------ public
    async def run(
        self, *, task_status: trio.TaskStatus[KalshiFeed] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Connect, subscribe and keep the books fresh until cancelled.

        Ready (``task_status.started(self)``) once connected and every book has had its
        first snapshot (or ``ready_timeout`` passed). Raises :class:`AuthError` when Kalshi
        refuses the credentials.
        """
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._sender.run)
                await nursery.start(self.driver.run)
                nursery.start_soon(self._maintenance)
                if not self.protocol.books:
                    self._ready.set()  # no market to snapshot: ready once connected
                with trio.move_on_after(self.ready_timeout):
                    await self._ready.wait()
                task_status.started(self)
        except BaseExceptionGroup as group:
            auth, _ = group.split(AuthError)
            if auth is not None:
                raise AuthError(_AUTH_MESSAGE) from group
            raise

    def view(self, ticker: str) -> BookView:
        """The current YES view of ``ticker`` (``KeyError`` if not tracked)."""
        return self.protocol.books[ticker].yes_view(depth=self.depth)

    def set_sink(self, sink: Callable[[list[KalshiBookUpdate]], None] | None) -> None:
        """Hand each socket read's updates to ``sink`` on the reader's task instead of
        :attr:`updates` (``None``: back to the channel); see
        :meth:`arbees.coalesce.CoalescingSender.set_sink`."""
        self._sender.set_sink(sink)

    def current_view(self, instrument: str) -> BookView | None:
        """The current YES view of a market, ``None`` when it is not tracked."""
        book = self.protocol.books.get(instrument)
        return None if book is None else book.yes_view(depth=self.depth)

    def last_message_ns(self) -> int:
        """Wall clock of the last frame on the (ordered) socket; 0 before any."""
        return self.driver.stats.last_message_ns

    def counters(self) -> dict[str, int]:
        """The feed's counters under the names every venue feed uses."""
        return {
            "reconnects": self.driver.stats.reconnects,
            "rejected": self.protocol.stats.rejected + self.protocol.stats.corrupt,
            "mismatches": self.protocol.stats.ticker_mismatches,
            "coalesced": self._sender.stats.coalesced,
            "updates": self._sender.stats.sent,
        }

    async def add(self, instruments: Iterable[str]) -> None:
        """Track more markets at run time (their first views arrive stale, then fresh)."""
        self.protocol.add_tickers(instruments)
        await self._flush()

    async def remove(self, instruments: Iterable[str]) -> None:
        """Stop tracking markets."""
        self.protocol.remove_tickers(instruments)
        await self._flush()

    # ------------------------------------------------------------------ driver hooks
    def _headers(self) -> list[tuple[str, str]]:
        if self._signer is None:
            return []
        return list(self._signer.headers("GET", self._path).items())

    async def _on_connect(self, ws: WsConnection) -> None:
        self._last_message = trio.current_time()
        self._silence_flagged = False
        self._publish(self.protocol.connection_made())
        for text in self.protocol.data_to_send():
            await ws.send_message(text)
            self.stats.commands_sent += 1

    def _on_disconnect(self, reason: str) -> None:
        self._publish(self.protocol.connection_lost())

    def _on_read(self, messages: list[Message], received_ns: int) -> None:
        """One socket read's messages in order, its updates handed on as one batch
        (each ticker's newest once)."""
        self._sender.read(messages, received_ns, self._on_message)

    def _on_message(self, message: Message, received_ns: int) -> None:
        self._last_message = trio.current_time()
        if self._on_frame is not None:
            self._on_frame(message, received_ns)
        events = self.protocol.receive(message, received_ns)
        if events:
            self._publish(events)
        if self.protocol.has_data_to_send():
            self._wake_flush.set()

    async def _flush(self) -> None:
        if not self.driver.connected:
            return  # connection_made() re-sends everything needed on the next connect
        for text in self.protocol.data_to_send():
            try:
                await self.driver.send(text)
            except (trio.ClosedResourceError, trio.BrokenResourceError, OSError) as exc:
                log.info("kalshi: command not sent (%s); the reconnect will resubscribe", exc)
                return
            except Exception as exc:  # ConnectionClosed: same story
                log.info("kalshi: command not sent (%s)", type(exc).__name__)
                return
            self.stats.commands_sent += 1

    async def _maintenance(self) -> None:
        """Flush queued commands promptly, retry due resyncs, send keepalives."""
        next_keepalive = trio.current_time() + self._keepalive_every
        while True:
            with trio.move_on_at(min(next_keepalive, trio.current_time() + 0.25)):
                await self._wake_flush.wait()
            self._wake_flush = trio.Event()
            self.protocol.poll()
            silent_for = trio.current_time() - self._last_message
            if silent_for > self._silence_timeout and not self._silence_flagged:
                # The driver's watchdog will reconnect; don't let books look fresh meanwhile.
                self._silence_flagged = True
                self._publish(self.protocol.invalidate_all("silent"))
            if trio.current_time() >= next_keepalive:
                next_keepalive = trio.current_time() + self._keepalive_every
                if self.driver.connected:
                    self.protocol.list_subscriptions()
                    self.stats.keepalives += 1
            await self._flush()

    # ------------------------------------------------------------------ updates
    def _publish(self, events: list[KalshiEvent]) -> None:
        books = self.protocol.books
        for ev in events:
            if type(ev) is BookChanged:
                book = books.get(ev.ticker)
                if book is None:
                    continue
                self._offer(
                    KalshiBookUpdate(
                        ev.ticker,
                        book.yes_view(depth=self.depth, received_ns=ev.received_ns),
                        book.no_view(depth=self.depth, received_ns=ev.received_ns),
                        ev.kind,
                        ev.sid,
                        ev.seq,
                        ev.venue_ts_ms,
                        ev.received_ns,
                        book.stale_reason,
                    )
                )
                if not self._ready.is_set() and all(
                    not b.awaiting_snapshot for b in books.values()
                ):
                    self._ready.set()
            elif type(ev) is BooksStale:
                for t in ev.tickers:
                    book = books.get(t)
                    if book is None:
                        continue
                    self._offer(
                        KalshiBookUpdate(
                            t,
                            book.yes_view(depth=self.depth, received_ns=ev.received_ns),
                            book.no_view(depth=self.depth, received_ns=ev.received_ns),
                            "stale",
                            ev.sid,
                            book.seq,
                            book.venue_ts_ms,
                            ev.received_ns,
                            ev.reason,
                        )
                    )

    def _offer(self, update: KalshiBookUpdate) -> None:
        self._sender.offer(update.ticker, update)


def _as_is(ticker: str, update: KalshiBookUpdate) -> KalshiBookUpdate:
    return update


@asynccontextmanager
async def open_kalshi_feed(
    tickers: Iterable[str],
    *,
    signer: KalshiSigner | None,
    url: str = PROD_WS_URL,
    **kwargs: object,
) -> AsyncIterator[KalshiFeed]:
    """Run a :class:`KalshiFeed` in its own nursery; yields once ready, cancels on exit."""
    feed = KalshiFeed(tickers, signer=signer, url=url, **kwargs)  # type: ignore[arg-type]
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(feed.run)
            yield feed
            nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        auth, rest = group.split(AuthError)
        if auth is not None and rest is None:
            raise AuthError(_AUTH_MESSAGE) from group
        raise
