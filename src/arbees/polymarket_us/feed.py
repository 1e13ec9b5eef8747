"""The Polymarket US market-data feed: signed WebSockets -> exact books -> BookView updates.

Wires the sans-io :class:`~arbees.polymarket_us.protocol.PolymarketUsProtocol` (books) and
:class:`~arbees.polymarket_us.protocol.Subscriptions` (at most 100 markets per socket and
subscription) to one shared-driver connection (:class:`arbees.wsdriver.WsDriver`) per
socket, and offers the feed surface every venue offers
(:class:`arbees.services.interfaces.InstrumentFeed`):

- every handshake is signed afresh over the socket's own path (``/v1/ws/markets``); a
  401/403 ends :meth:`PolymarketUsFeed.run` with :class:`~arbees.errors.AuthError`;
- a (re)connected socket subscribes its whole set; its books are stale until their
  snapshot; a lost socket marks its books stale at once;
- the driver's silence watchdog reconnects a socket that delivers nothing;
- the weekly maintenance window (:class:`~arbees.polymarket_us.maintenance.MaintenanceWindow`):
  the feed closes every socket when it starts, marks every book stale, logs ONE line,
  and reconnects when it ends, instead of a reconnect-and-warn loop against a venue that
  is down on purpose;
- with a REST client, a :class:`~arbees.polymarket_us.audit.BookAuditor` compares a few
  books per round with the venue's REST books and distrusts (stale + resubscribe) one
  that keeps disagreeing: a silently stalled socket does not pass for a quiet market;
- updates reach the consumer through the shared :class:`~arbees.coalesce.CoalescingSender`
  (the reader never blocks; newest state wins; first-change order).

Polymarket US is reached directly: no egress check, no connect gate, no proxy.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from urllib.parse import urlsplit

import attrs
import trio

from arbees.book import BookView
from arbees.coalesce import CoalescingSender
from arbees.errors import AuthError
from arbees.polymarket_us.audit import AuditConfig, BookAuditor
from arbees.polymarket_us.auth import PolymarketUsSigner
from arbees.polymarket_us.book import MarketBook
from arbees.polymarket_us.maintenance import MaintenanceWindow
from arbees.polymarket_us.protocol import (
    BookChanged,
    BookShape,
    Event,
    PolymarketUsProtocol,
    SocketPlan,
    Subscriptions,
)
from arbees.polymarket_us.rest import PolymarketUsRest
from arbees.wsdriver import (
    DEFAULT_MAX_MESSAGE_SIZE,
    Backoff,
    Message,
    WsConfig,
    WsConnection,
    WsDriver,
)

__all__ = [
    "PROD_WS_URL",
    "PolymarketUsFeed",
    "PolymarketUsFeedStats",
    "PolymarketUsUpdate",
    "open_polymarket_us_feed",
]

log = logging.getLogger(__name__)

PROD_WS_URL = "wss://api.polymarket.us/v1/ws/markets"
_AUTH_MESSAGE = (
    "Polymarket US refused the credentials at the WebSocket upgrade (HTTP 401/403): check "
    "the API key id, that the private key matches it, and that the signature covers "
    "/v1/ws/markets"
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@attrs.frozen(slots=True)
class PolymarketUsUpdate:
    """One market's book after a change.

    Attributes:
        slug: the market slug.
        view: its (long side) book view; ``view.stale`` when it cannot be trusted.
        kind: ``"snapshot"``, ``"delta"``, ``"rejected"``, ``"crossed"`` or ``"stale"``
            (reconnect, lost socket, maintenance).
        venue_ts_ms: the venue's time of the change, when sent.
        received_ns: wall-clock receive time of the frame behind it.
    """

    slug: str
    view: BookView
    kind: str
    venue_ts_ms: int | None
    received_ns: int


@attrs.define
class PolymarketUsFeedStats:
    """Feed-level counters (the protocol's are in ``feed.protocol.stats``).

    Attributes:
        frames_sent: subscribe/unsubscribe frames sent.
        maintenance_windows: maintenance windows the feed sat out.
        venue_errors: error frames from the venue.
    """

    frames_sent: int = 0
    maintenance_windows: int = 0
    venue_errors: int = 0


class PolymarketUsFeed:
    """Order books for a set of Polymarket US markets, over sockets of <= 100 markets.

    Args:
        slugs: markets to track (more with :meth:`add`).
        signer: signs each handshake; ``None`` sends no auth headers (fake venues only:
            the real venue needs a verified account's key).
        url: the markets WebSocket URL.
        shape: ``"full"`` (every message a full book, the default) or ``"delta"``.
        per_socket: markets per socket and subscription (1..100).
        debounce: ask the venue for debounced updates.
        depth: levels per side in each view.
        silence_timeout: reconnect a socket after this long without any message.
        buffer: capacity of the update channel.
        backoff: reconnect policy.
        ready_timeout: :meth:`run` reports ready once every book has its first snapshot,
            or after this many seconds.
        maintenance: the weekly window to sit out (``None``: never).
        now: the wall clock (aware), injectable for tests.
        on_frame: called with every raw frame and its receive time (recording).
        max_message_size: larger WebSocket messages drop the connection.
        rest: the venue's REST client: with it, the books are audited against REST.
        audit: the audit's rounds (default :class:`AuditConfig`; ``interval=0``: off).
    """

    def __init__(
        self,
        slugs: Iterable[str] = (),
        *,
        signer: PolymarketUsSigner | None,
        url: str = PROD_WS_URL,
        shape: BookShape = "full",
        per_socket: int = 100,
        debounce: bool = False,
        depth: int = 10,
        silence_timeout: float = 60.0,
        buffer: int = 1024,
        backoff: Backoff | None = None,
        ready_timeout: float = 10.0,
        maintenance: MaintenanceWindow | None = None,
        now: Callable[[], datetime] = _utc_now,
        on_frame: Callable[[Message, int], None] | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        rest: PolymarketUsRest | None = None,
        audit: AuditConfig | None = None,
    ) -> None:
        self.protocol = PolymarketUsProtocol(shape=shape)
        self.subscriptions = Subscriptions(per_socket=per_socket, debounce=debounce)
        self.stats = PolymarketUsFeedStats()
        self.depth = depth
        self.url = url
        self.ready_timeout = ready_timeout
        self.maintenance = maintenance
        self._signer = signer
        self._path = urlsplit(url).path or "/"
        self._now = now
        self._on_frame = on_frame
        self._silence_timeout = silence_timeout
        self._backoff = backoff or Backoff()
        self._max_message_size = max_message_size
        send, self.updates = trio.open_memory_channel[PolymarketUsUpdate](buffer)
        self._sender = CoalescingSender[str, tuple[str, int | None, int], PolymarketUsUpdate](
            send, self._build
        )
        self.drivers: dict[int, WsDriver] = {}
        self._past_reconnects = 0
        self._sockets: trio.Nursery | None = None
        self._ready = trio.Event()
        self.auditor = None if rest is None else BookAuditor(self, rest, audit)
        self.add_now(slugs)

    def __repr__(self) -> str:
        return f"<PolymarketUsFeed {len(self.subscriptions)} markets {len(self.drivers)} sockets>"

    # ------------------------------------------------------------------ public surface
    async def run(
        self, *, task_status: trio.TaskStatus[PolymarketUsFeed] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Connect every socket and keep the books fresh until cancelled (see the module)."""
        started = False
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._sender.run)
                if self.auditor is not None:
                    nursery.start_soon(self.auditor.run)
                while True:
                    if self.maintenance is not None and self.maintenance.active(self._now()):
                        if not started:
                            started = True
                            task_status.started(self)
                        await self._sit_out(self.maintenance)
                        continue
                    async with trio.open_nursery() as sockets:
                        self._sockets = sockets
                        for index in range(self.subscriptions.socket_count):
                            await sockets.start(self._driver(index).run)
                        if not started:
                            started = True
                            if not self.protocol.books:
                                self._ready.set()
                            with trio.move_on_after(self.ready_timeout):
                                await self._ready.wait()
                            task_status.started(self)
                        if self.maintenance is None:
                            await trio.sleep_forever()
                        await trio.sleep(self.maintenance.seconds_until_start(self._now()))
                        sockets.cancel_scope.cancel()
                    self._sockets = None
        except BaseExceptionGroup as group:
            auth, _ = group.split(AuthError)
            if auth is not None:
                raise AuthError(_AUTH_MESSAGE) from group
            raise

    def set_sink(self, sink: Callable[[list[PolymarketUsUpdate]], None] | None) -> None:
        """Hand each socket read's updates to ``sink`` on the reader's task instead of
        :attr:`updates` (``None``: back to the channel); see
        :meth:`arbees.coalesce.CoalescingSender.set_sink`."""
        self._sender.set_sink(sink)

    def current_view(self, instrument: str) -> BookView | None:
        """The current view of a market, ``None`` when it is not tracked."""
        book = self.protocol.books.get(instrument)
        return None if book is None else book.view(self.depth)

    def last_message_ns(self) -> int:
        """Wall clock up to which every socket has delivered (the oldest socket's last
        message); 0 before every socket has had one."""
        stamps = [d.stats.last_message_ns for d in self.drivers.values()]
        return min(stamps) if stamps else 0

    def counters(self) -> dict[str, int]:
        """The feed's counters under the names every venue feed uses."""
        stats = self.protocol.stats
        return {
            "reconnects": self._past_reconnects
            + sum(d.stats.reconnects for d in self.drivers.values()),
            "rejected": stats.rejected + stats.invalid_frames,
            "mismatches": stats.crossed,
            "coalesced": self._sender.stats.coalesced,
            "updates": self._sender.stats.sent,
        }

    async def add(self, instruments: Iterable[str]) -> None:
        """Track more markets at run time (their first views arrive stale, then fresh)."""
        changed = self.add_now(instruments)
        await self._apply(changed)

    async def remove(self, instruments: Iterable[str]) -> None:
        """Stop tracking markets."""
        slugs = list(instruments)
        changed = self.subscriptions.remove(slugs)
        for slug in slugs:
            self.protocol.forget(slug)
            self._sender.discard(slug)
        await self._apply(changed)

    def audited_books(self) -> dict[str, MarketBook]:
        """The tracked books, by slug (what the REST audit compares)."""
        return self.protocol.books

    def invalidate(self, slug: str, reason: str) -> None:
        """Distrust a book: stale at once, its socket resubscribed for a fresh snapshot."""
        self._stale([slug], reason)
        changed = self.subscriptions.resync([slug])
        if self._sockets is not None:
            self._sockets.start_soon(self._apply, changed)

    def add_now(self, instruments: Iterable[str]) -> set[int]:
        """Track markets without sending (before :meth:`run`); returns the sockets changed."""
        slugs = [s for s in instruments if s not in self.subscriptions]
        changed = self.subscriptions.add(slugs)
        for slug in slugs:
            self.protocol.track(slug)
        return changed

    # ------------------------------------------------------------------ sockets
    def _driver(self, index: int) -> WsDriver:
        """Socket ``index``'s driver, registered at once (so a second change to the same
        new socket, made before it runs, never starts a second one)."""
        driver = WsDriver(
            WsConfig(
                self.url,
                headers=self._headers,
                silence_timeout=self._silence_timeout,
                ping_timeout=max(20.0, self._silence_timeout),
                backoff=self._backoff,
                max_message_size=self._max_message_size,
                name=f"polymarket-us[{index}]",
            ),
            on_batch=self._on_read,
            on_connect=lambda ws: self._on_connect(index, ws),
            on_disconnect=lambda reason: self._on_disconnect(index, reason),
        )
        self.drivers[index] = driver
        return driver

    def _headers(self) -> list[tuple[str, str]]:
        if self._signer is None:
            return []
        return list(self._signer.headers("GET", self._path).items())

    async def _on_connect(self, index: int, ws: WsConnection) -> None:
        plan = self.subscriptions.connected(index)
        self._stale(plan.snapshot, "reconnect: awaiting snapshot")
        for frame in plan.frames:
            await ws.send_message(frame)
            self.stats.frames_sent += 1

    def _on_disconnect(self, index: int, reason: str) -> None:
        self._stale(self.subscriptions.markets(index), f"socket lost: {reason[:60]}")

    def _on_read(self, messages: list[Message], received_ns: int) -> None:
        """One socket read's messages in order, its updates handed on as one batch
        (each market's newest once)."""
        self._sender.read(messages, received_ns, self._on_message)

    def _on_message(self, message: Message, received_ns: int) -> None:
        if self._on_frame is not None:
            self._on_frame(message, received_ns)
        self._publish(self.protocol.feed(message, received_ns))
        resyncs = self.protocol.take_resyncs()
        if resyncs and self._sockets is not None:
            changed = self.subscriptions.resync(resyncs)
            self._sockets.start_soon(self._apply, changed)

    async def _apply(self, changed: set[int]) -> None:
        """Bring changed sockets' subscriptions up to date (start new sockets)."""
        for index in sorted(changed):
            driver = self.drivers.get(index)
            if driver is None:
                if self._sockets is not None:
                    self._sockets.start_soon(self._driver(index).run)
                continue  # not running yet: its first connect subscribes everything
            if not driver.connected:
                continue  # its next connect subscribes everything
            plan = self.subscriptions.plan(index)
            await self._send_plan(driver, plan)

    async def _send_plan(self, driver: WsDriver, plan: SocketPlan) -> None:
        if self.protocol.shape == "delta":
            self._stale(plan.snapshot, "resubscribed: awaiting snapshot")
        for frame in plan.frames:
            try:
                await driver.send(frame)
            except (trio.ClosedResourceError, trio.BrokenResourceError, OSError) as exc:
                log.info("polymarket-us: frame not sent (%s); the reconnect resubscribes", exc)
                driver.request_reconnect("subscription frame not sent")
                return
            except Exception as exc:  # ConnectionClosed: same story
                log.info("polymarket-us: frame not sent (%s)", type(exc).__name__)
                driver.request_reconnect("subscription frame not sent")
                return
            self.stats.frames_sent += 1

    # ------------------------------------------------------------------ maintenance
    async def _sit_out(self, window: MaintenanceWindow) -> None:
        seconds = window.seconds_until_end(self._now())
        self.stats.maintenance_windows += 1
        log.info(
            "polymarket-us: weekly maintenance window: sockets closed, %d books stale, "
            "reconnecting in %.0f s",
            len(self.protocol.books),
            seconds,
        )
        self._stale(list(self.protocol.books), "venue maintenance window")
        # counters stay monotonic: the closed sockets' reconnects, and one for each
        # socket that reconnects after the window
        self._past_reconnects += sum(d.stats.reconnects + 1 for d in self.drivers.values())
        self.drivers.clear()
        await trio.sleep(seconds)

    # ------------------------------------------------------------------ updates
    def _stale(self, slugs: Iterable[str], reason: str) -> None:
        self._publish(self.protocol.mark_stale(slugs, reason))

    def _publish(self, events: list[Event]) -> None:
        books = self.protocol.books
        for ev in events:
            if type(ev) is BookChanged:
                self._sender.offer(ev.slug, (ev.kind, ev.venue_ts_ms, ev.received_ns))
            else:
                self.stats.venue_errors += 1
        if not self._ready.is_set() and all(not b.awaiting_snapshot for b in books.values()):
            self._ready.set()

    def _build(self, slug: str, marker: tuple[str, int | None, int]) -> PolymarketUsUpdate | None:
        book = self.protocol.books.get(slug)
        if book is None:
            return None
        kind, venue_ts_ms, received_ns = marker
        return PolymarketUsUpdate(
            slug,
            book.view(self.depth),
            "stale" if kind == "reconnect" else kind,
            venue_ts_ms,
            received_ns,
        )


@asynccontextmanager
async def open_polymarket_us_feed(
    slugs: Iterable[str], *, signer: PolymarketUsSigner | None, **kwargs: object
) -> AsyncIterator[PolymarketUsFeed]:
    """Run a :class:`PolymarketUsFeed` in its own nursery; yields once ready."""
    feed = PolymarketUsFeed(slugs, signer=signer, **kwargs)  # type: ignore[arg-type]
    async with trio.open_nursery() as nursery:
        await nursery.start(feed.run)
        yield feed
        nursery.cancel_scope.cancel()
