"""The Polymarket market feed: sharded, self-healing, yielding BookViews to one consumer.

:class:`PolymarketFeed` keeps a changing set of tokens subscribed over several WebSocket
connections (``tokens_per_socket``, default 250, never above the venue's 500), each a
:class:`~arbees.wsdriver.WsDriver` with a text ``PING`` heartbeat, a silence watchdog and
full-jitter reconnects. All shards feed ONE sans-io
:class:`~arbees.polymarket.protocol.PolymarketProtocol` (Trio runs them on one thread).

Staleness: when a connection drops, every book of that shard is marked stale and a stale
view is emitted at once; the resubscription on reconnect brings fresh ``book`` snapshots.
A book that goes stale while connected (cross-check mismatch, tick-size change, rejected
update) triggers a reconnect of its shard — a new connection is the only reliable way to
get a fresh snapshot — at most once per ``resync_interval`` per shard (a resync asked for
sooner is deferred to the end of that interval, and dropped if its books recovered
meanwhile). A token added to a shard that gets no snapshot within ``snapshot_timeout`` of
its subscription triggers the same resync.

Which token is on which socket, the frames each socket must send and when a resync is
due are decided by the sans-io :class:`~arbees.polymarket.subscriptions.Subscriptions`;
this module does the I/O it asks for. ``add`` sends ``{"operation": "subscribe"}`` on a
connected socket; a socket still connecting subscribes its CURRENT tokens itself.

Polymarket has no sequence numbers, so a socket that silently stops delivering looks like a
quiet book. :meth:`PolymarketFeed.invalidate` lets an outside check (the REST auditor in
:mod:`arbees.polymarket.audit`) distrust books and resync their sockets, and
:meth:`PolymarketFeed.confirmed_ns` tells when a book was last confirmed current (socket
data for that token, or a matching audit).

Delivery policy (bounded memory, newest wins): the shared
:class:`~arbees.coalesce.CoalescingSender` queues changed tokens once each in first-change
order and builds each :class:`BookUpdate` (the token's current view) at send time, into a
bounded trio memory channel. If the consumer is slow, further changes to an already-queued
token are *coalesced* (``counters()["coalesced"]``): the consumer always gets the newest
view, never an outdated one, and no token is starved.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager

import attrs
import trio
from trio_websocket import ConnectionClosed

from arbees.book import BookView
from arbees.coalesce import CoalescingSender
from arbees.errors import ConfigError, DecodeError
from arbees.gate import ConnectGate
from arbees.polymarket.events import BookChanged, Event
from arbees.polymarket.protocol import TEXT_FRAMES, PolymarketProtocol, is_token_id
from arbees.polymarket.subscriptions import MAX_ASSETS_PER_SOCKET, Placement, Subscriptions
from arbees.wsdriver import (
    DEFAULT_MAX_MESSAGE_SIZE,
    Backoff,
    Message,
    WsConfig,
    WsConnection,
    WsDriver,
)

__all__ = [
    "DEFAULT_WS_URL",
    "BookUpdate",
    "FeedConfig",
    "FeedStats",
    "PolymarketFeed",
    "open_polymarket_feed",
]

log = logging.getLogger(__name__)

DEFAULT_WS_URL = "wss://ws-subscriptions-clob.polymarket.com/ws/market"
_RESYNC_KINDS = frozenset({"price_change", "rejected", "tick_size_change"})
_SEND_ERRORS = (trio.ClosedResourceError, trio.BrokenResourceError, ConnectionClosed, OSError)


@attrs.frozen
class FeedConfig:
    """Feed settings (defaults are the live venue's).

    Attributes:
        url: market-channel WebSocket URL.
        tokens_per_socket: shard size (1..500).
        ping_interval: seconds between text ``PING`` frames.
        silence_timeout: no data for this long on a connection -> reconnect.
        backoff: reconnect policy.
        depth: levels per side in emitted views.
        channel_size: capacity of the consumer channel.
        resync_interval: minimum seconds between forced resyncs of one shard.
        snapshot_timeout: seconds to wait for the snapshot of a dynamically added token.
        custom_features: ask for ``best_bid_ask`` / ``new_market`` / ``market_resolved``.
        proxy: optional HTTP CONNECT proxy ``http://[user:pass@]host:port`` (redacted).
        connect_timeout: bound on connect + subscribe.
        max_message_size: larger WebSocket messages drop the connection (counted in each
            shard driver's ``oversized``, logged, reconnected).
        gate: asked before every connection (the egress gate of
            :func:`arbees.egress.open_polymarket_route`); ``None``: none.
        on_frame: called with every raw frame and its receive time (recording).

    A handshake refused with any status (Polymarket answers 403/451 to a forbidden
    region) is retried with backoff after telling the gate, never fatal: the market
    channel needs no credentials, so a refusal is about where we are, not who.
    """

    url: str = DEFAULT_WS_URL
    tokens_per_socket: int = 250
    ping_interval: float = 10.0
    silence_timeout: float = 60.0
    backoff: Backoff = attrs.field(factory=Backoff)
    depth: int = 10
    channel_size: int = 1024
    resync_interval: float = 30.0
    snapshot_timeout: float = 10.0
    custom_features: bool = False
    proxy: str | None = attrs.field(default=None, repr=lambda p: "None" if p is None else "***")
    connect_timeout: float = 10.0
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    gate: ConnectGate | None = attrs.field(default=None, repr=False)
    on_frame: Callable[[Message, int], None] | None = attrs.field(
        default=None, repr=False, eq=False
    )

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.tokens_per_socket <= MAX_ASSETS_PER_SOCKET:
            raise ConfigError(f"tokens_per_socket must be in 1..{MAX_ASSETS_PER_SOCKET}")
        if self.depth < 1 or self.channel_size < 1:
            raise ConfigError("depth and channel_size must be >= 1")


@attrs.frozen(slots=True)
class BookUpdate:
    """One book update for the consumer.

    Attributes:
        view: the token's book as of sending (newest state; depth-limited).
        kind: what changed it last: ``"book"``, ``"price_change"``, ``"reconnect"``,
            ``"rejected"``, ``"tick_size_change"``, ``"market_resolved"``, ``"added"`` or
            ``"audit"`` (distrusted by :meth:`PolymarketFeed.invalidate`).
        venue_ts_ms: the venue timestamp of that change, when known.
        received_ns: ``time.time_ns()`` when the frame was received.
        emitted_ns: ``time.time_ns()`` when the view was built and queued.
    """

    view: BookView
    kind: str
    venue_ts_ms: int | None
    received_ns: int
    emitted_ns: int


@attrs.define
class FeedStats:
    """Feed counters (connection counters live in each shard's driver).

    Delivery counters are the coalescing sender's (``feed.counters()``).

    Attributes:
        resyncs: forced reconnects to get fresh snapshots.
        resyncs_deferred: resyncs asked for within ``resync_interval`` and postponed.
        invalidated: books distrusted from outside (:meth:`PolymarketFeed.invalidate`).
        shards_started: connections ever started.
    """

    resyncs: int = 0
    resyncs_deferred: int = 0
    invalidated: int = 0
    shards_started: int = 0


class PolymarketFeed:
    """Sharded Polymarket market feed; see the module docstring.

    Use ``await nursery.start(feed.run)`` (ready once every initial shard is connected and
    subscribed) and read :class:`BookUpdate` values from ``feed.updates`` (or iterate the
    feed). ``on_event`` optionally receives the non-book events (trades, tick sizes, ...).
    """

    def __init__(
        self,
        tokens: Iterable[str] = (),
        config: FeedConfig | None = None,
        *,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        self.config = config or FeedConfig()
        self.protocol = PolymarketProtocol(create_on_book=False)
        self.stats = FeedStats()
        self._on_event = on_event
        self._subs = Subscriptions(
            self.config.tokens_per_socket,
            resync_interval=self.config.resync_interval,
            custom_features=self.config.custom_features,
        )
        self._drivers: dict[int, WsDriver] = {}
        self._scopes: dict[int, trio.CancelScope] = {}
        self._confirmed: dict[str, int] = {}
        self._send, self.updates = trio.open_memory_channel[BookUpdate](self.config.channel_size)
        self._sender = CoalescingSender[str, tuple[str, int | None, int], BookUpdate](
            self._send, self._build
        )
        self._nursery: trio.Nursery | None = None
        self._place(_validated(tokens))

    def __aiter__(self) -> AsyncIterator[BookUpdate]:
        return self.updates.__aiter__()

    @property
    def tokens(self) -> list[str]:
        """Every subscribed token."""
        return self._subs.tokens

    @property
    def shards(self) -> list[list[str]]:
        """Tokens per connection (for inspection)."""
        return self._subs.layout()

    @property
    def drivers(self) -> list[WsDriver]:
        """The per-connection drivers (their ``stats`` count connects, reconnects, ...)."""
        return list(self._drivers.values())

    def view(self, token: str) -> BookView:
        """The current view of a subscribed token."""
        return self.protocol.books[token].view(self.config.depth)

    def set_sink(self, sink: Callable[[list[BookUpdate]], None] | None) -> None:
        """Hand each socket read's updates to ``sink`` on the reader's task instead of
        :attr:`updates` (``None``: back to the channel); see
        :meth:`arbees.coalesce.CoalescingSender.set_sink`."""
        self._sender.set_sink(sink)

    def current_view(self, instrument: str) -> BookView | None:
        """The current view of a subscribed token, ``None`` when it is not tracked."""
        book = self.protocol.books.get(instrument)
        if book is None or instrument not in self._subs:
            return None
        return book.view(self.config.depth)

    def last_message_ns(self) -> int:
        """The oldest of the connected sockets' last frames (each socket is ordered, so
        everything before it has arrived on every one); 0 with none connected."""
        times = [d.stats.last_message_ns for d in self.drivers if d.connected]
        return min(times) if times else 0

    def counters(self) -> dict[str, int]:
        """The feed's counters under the names every venue feed uses."""
        stats = self.protocol.stats
        return {
            "reconnects": sum(d.stats.reconnects for d in self.drivers),
            "rejected": stats.invalid_frames + stats.rejected,
            "mismatches": stats.mismatches,
            "coalesced": self._sender.stats.coalesced,
            "updates": self._sender.stats.sent,
        }

    def confirmed_ns(self, token: str) -> int:
        """When the token's book was last confirmed current (``time.time_ns()``).

        The later of its last socket data (snapshot or applied change) and its last matching
        audit (:meth:`confirm`); 0 while the book is stale or the token unknown. A quiet book
        on a live socket keeps its old value until an audit confirms it again.
        """
        book = self.protocol.books.get(token)
        if book is None or book.stale or token not in self._subs:
            return 0
        return max(book.received_ns, self._confirmed.get(token, 0))

    def confirm(self, token: str, at_ns: int) -> None:
        """Record that an outside check found the token's (fresh) book current at ``at_ns``."""
        book = self.protocol.books.get(token)
        if book is not None and not book.stale and token in self._subs:
            self._confirmed[token] = max(self._confirmed.get(token, 0), at_ns)

    def invalidate(self, tokens: Iterable[str], reason: str) -> list[str]:
        """Distrust books an outside check found wrong, and resync their sockets.

        Each fresh book among ``tokens`` is marked stale (a stale :class:`BookUpdate` of kind
        ``"audit"`` is queued at once); the shards holding them reconnect for fresh snapshots
        (subject to ``resync_interval``, deferred rather than dropped). Returns the tokens
        that were fresh and are now stale.
        """
        now = time.time_ns()
        marked: list[str] = []
        by_socket: dict[int, list[str]] = {}
        for token in tokens:
            book = self.protocol.books.get(token)
            index = self._subs.socket_of.get(token)
            if book is None or index is None:
                continue
            if not book.stale:
                book.mark_stale(reason)
                marked.append(token)
                self.stats.invalidated += 1
                self._queue(token, "audit", book.venue_ts_ms, now)
            by_socket.setdefault(index, []).append(token)
        for index, chunk in by_socket.items():
            self._resync(index, reason, chunk)
        return marked

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run every socket and the delivery until cancelled (ready once each socket placed
        so far is connected and subscribed)."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            nursery.start_soon(self._deliver)
            self._added(self._subs.tokens)
            for index in list(self._drivers):
                await nursery.start(self._run_socket, index)
            task_status.started()

    async def add(self, tokens: Iterable[str]) -> None:
        """Subscribe more tokens: fill sockets with room, open new sockets for the rest.

        Before :meth:`run` they are placed the same way and subscribed when it connects.
        """
        placement = self._place(_validated(tokens))
        nursery = self._nursery
        if nursery is None:  # not running yet: the first connections subscribe them
            await trio.lowlevel.checkpoint()
            return
        for index, chunk in placement.joined.items():
            self._added(chunk)
            nursery.start_soon(self._await_snapshots, index, chunk)
            # A socket still connecting subscribes whatever it holds when it sends.
            await self._send_frames(index)
        for index in placement.created:
            sock = self._subs.sockets.get(index)
            if sock is None:  # emptied by a remove while this add awaited
                continue
            tokens_on = list(sock.tokens)
            self._added(tokens_on)
            nursery.start_soon(self._await_snapshots, index, tokens_on)
            nursery.start_soon(self._run_socket, index)

    async def remove(self, tokens: Iterable[str]) -> None:
        """Unsubscribe tokens; a socket left with no token is closed."""
        removal = self._subs.remove(tokens)
        for token in removal.tokens:
            self.protocol.forget(token)
            self._sender.discard(token)
            self._confirmed.pop(token, None)
        for index in removal.closed:
            self._scopes.pop(index, trio.CancelScope()).cancel()
            del self._drivers[index]
        for index in removal.left:
            # On failure the next connection subscribes only what is left.
            await self._send_frames(index)

    # -- internals ------------------------------------------------------------------------

    def _place(self, tokens: list[str]) -> Placement:
        """Place tokens on sockets (new sockets get a driver, not yet running)."""
        placement = self._subs.add(tokens)
        for token in tokens:
            self.protocol.track(token)
        for index in placement.created:
            self._drivers[index] = self._new_driver(index)
            self.stats.shards_started += 1
        return placement

    def _added(self, tokens: Iterable[str]) -> None:
        """Tell the consumer about newly subscribed tokens (stale until their snapshot)."""
        now = time.time_ns()
        for token in tokens:
            self._queue(token, "added", None, now)

    def _new_driver(self, index: int) -> WsDriver:
        cfg = self.config

        async def on_connect(ws: WsConnection) -> None:
            # Subscribe the CURRENT token set, re-read after every await: the driver turns
            # ``connected`` right after this returns, with no checkpoint in between, so a
            # token added while a frame was in flight is sent here, never lost.
            self._subs.connection_made(index)
            while frames := self._subs.frames(index):
                for frame in frames:
                    await ws.send_message(frame)
            self._subs.subscribed(index, trio.current_time())

        def on_disconnect(reason: str) -> None:
            self._mark_stale(self._subs.connection_lost(index), f"reconnecting: {reason}")

        return WsDriver(
            WsConfig(
                cfg.url,
                proxy=cfg.proxy,
                heartbeat_text="PING",
                heartbeat_interval=cfg.ping_interval,
                silence_timeout=cfg.silence_timeout,
                is_data=_is_data,
                backoff=cfg.backoff,
                connect_timeout=cfg.connect_timeout,
                max_message_size=cfg.max_message_size,
                name=f"polymarket-ws-{index}",
                gate=cfg.gate,
                fatal_statuses=frozenset(),
            ),
            on_batch=self._on_read,
            on_connect=on_connect,
            on_disconnect=on_disconnect,
        )

    async def _run_socket(
        self, index: int, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        driver = self._drivers.get(index)
        if driver is None:  # removed before it started
            task_status.started()
            return
        with self._scopes.setdefault(index, trio.CancelScope()):
            await driver.run(task_status=task_status)

    async def _send_frames(self, index: int) -> None:
        driver = self._drivers.get(index)
        if driver is None or not driver.connected:
            return  # its next on_connect subscribes the current set
        for frame in self._subs.frames(index):
            try:
                await driver.send(frame)
            except _SEND_ERRORS as exc:
                log.info("subscription update not sent (%s); the reconnect will cover it", exc)
                return

    def _resync(self, index: int, why: str, tokens: Iterable[str]) -> None:
        """Reconnect socket ``index`` for fresh snapshots, or defer it (see
        :meth:`Subscriptions.request_resync`)."""
        plan = self._subs.request_resync(index, tokens, trio.current_time())
        driver = self._drivers.get(index)
        if plan.now and driver is not None:
            self.stats.resyncs += 1
            log.info("%s: resync (%s)", driver.config.name, why)
            driver.request_reconnect(f"resync: {why}")
        elif plan.defer_for is not None and self._nursery is not None:
            self.stats.resyncs_deferred += 1
            self._nursery.start_soon(self._deferred_resync, index, why, plan.defer_for)

    async def _deferred_resync(self, index: int, why: str, wait: float) -> None:
        await trio.sleep(wait)
        books = self.protocol.books
        still = [t for t in self._subs.take_deferred(index) if t in books and books[t].stale]
        if still:
            self._resync(index, f"deferred: {why}", still)

    async def _await_snapshots(self, index: int, tokens: list[str]) -> None:
        """Resync if added tokens have no snapshot ``snapshot_timeout`` after the socket's
        subscriptions went out (a socket still connecting is waited for)."""
        timeout = self.config.snapshot_timeout
        await trio.sleep(timeout)
        books = self.protocol.books
        while (sock := self._subs.sockets.get(index)) is not None:
            missing = [t for t in tokens if t in sock.tokens and t in books and books[t].stale]
            if not missing:
                return
            driver = self._drivers[index]
            due = sock.subscribed_at + timeout
            if not driver.connected or due == math.inf:
                await trio.sleep(timeout)  # its next on_connect subscribes them
            elif trio.current_time() < due:
                await trio.sleep_until(due)
            else:
                self._resync(index, f"no snapshot for {len(missing)} added token(s)", missing)
                return

    def _mark_stale(self, tokens: Iterable[str], reason: str) -> None:
        now = time.time_ns()
        for ev in self.protocol.mark_stale(list(tokens), reason, now):
            if isinstance(ev, BookChanged):
                self._queue(ev.token, "reconnect", ev.venue_ts_ms, now)

    def _on_read(self, messages: list[Message], recv_ns: int) -> None:
        """Every frame of one socket read: applied to the books, then handed on as one
        batch (each changed token's view built once, whatever the read did to it)."""
        self._sender.read(messages, recv_ns, self._on_frame)

    def _on_frame(self, message: Message, recv_ns: int) -> None:
        if self.config.on_frame is not None:
            self.config.on_frame(message, recv_ns)
        books = self.protocol.books
        for ev in self.protocol.feed(message, recv_ns):
            if type(ev) is BookChanged:
                token = ev.token
                self._queue(token, ev.kind, ev.venue_ts_ms, recv_ns)
                if ev.kind in _RESYNC_KINDS and books[token].stale:
                    index = self._subs.socket_of.get(token)
                    if index is not None:
                        self._resync(index, books[token].stale_reason, (token,))
            elif self._on_event is not None:
                self._on_event(ev)

    def _queue(self, token: str, kind: str, venue_ts_ms: int | None, recv_ns: int) -> None:
        self._sender.offer(token, (kind, venue_ts_ms, recv_ns))

    def _build(self, token: str, change: tuple[str, int | None, int]) -> BookUpdate | None:
        book = self.protocol.books.get(token)
        if book is None:
            return None
        kind, ts, recv_ns = change
        return BookUpdate(book.view(self.config.depth), kind, ts, recv_ns, time.time_ns())

    async def _deliver(self) -> None:
        async with self._send:
            await self._sender.run()


def _is_data(message: Message) -> bool:
    return not (isinstance(message, str) and message in TEXT_FRAMES)


def _validated(tokens: Iterable[str]) -> list[str]:
    out: dict[str, None] = {}
    for token in tokens:
        if not is_token_id(token):
            raise DecodeError(f"not a Polymarket token id: {str(token)[:90]!r}", field="token")
        out[token] = None
    return list(out)


@asynccontextmanager
async def open_polymarket_feed(
    tokens: Iterable[str] = (),
    config: FeedConfig | None = None,
    *,
    on_event: Callable[[Event], None] | None = None,
) -> AsyncIterator[PolymarketFeed]:
    """Run a :class:`PolymarketFeed`; yields once every initial shard is subscribed."""
    feed = PolymarketFeed(tokens, config, on_event=on_event)
    async with trio.open_nursery() as nursery:
        await nursery.start(feed.run)
        yield feed
        nursery.cancel_scope.cancel()
