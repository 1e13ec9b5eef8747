"""Where a shard's quotes come from: the bus (via the monitor) or a venue feed directly.

A source hands :class:`~arbees.services.quotes.Quote` values (one at a time or a read's
worth as a :data:`QuoteBatch`) and :class:`Alive` marks to the shard by calling its
:data:`ItemSink` — a plain function the shard runs inline, so an item reaches the engine
on the task that read it, with no channel and no task switch in between. ``Alive(venue,
ns)`` says "everything this source sent up to ``ns`` is complete" — e.g. a healthy
heartbeat from the monitor, or an answer on an ordered venue socket — and is what lets a
quiet but correct book stay usable beyond ``MAX_PRICE_AGE_MS``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import attrs
import trio

from arbees.bus.base import Bus, Envelope, Subscription
from arbees.errors import BusClosedError, BusError
from arbees.messages import (
    LATEST_PRICES_HASH,
    Channel,
    Message,
    PolymarketPriceUpdate,
    ServiceStatus,
    VenueQuote,
    latest_quotes_hash,
    quotes_channel,
)
from arbees.services.interfaces import InstrumentFeed
from arbees.services.quotes import Quote, checked_quote, checked_venue_quote

__all__ = [
    "HAND_OVER_RUN",
    "Alive",
    "BusPolymarketSource",
    "BusVenueSource",
    "FeedQuoteSource",
    "ItemSink",
    "QuoteBatch",
    "QuoteSource",
    "SourceItem",
]

log = logging.getLogger(__name__)

HAND_OVER_RUN = 256
"""Most items a source's own task takes in one go before it lets others run: the envelopes
a bus source's task takes per wake-up (what needed I/O, or arrived while it was busy; the
common case is taken on the bus reader's task, see :meth:`BusPolymarketSource._on_read`),
and the updates :class:`FeedQuoteSource` hands over as one batch from a feed's channel
(what it queued before the source became its sink)."""

_SINGLE_GETS = 4  # up to this many tokens are seeded with HGET each, more with one HGETALL


@attrs.frozen(slots=True)
class Alive:
    """The source confirms it is live and complete as of ``when_ns``.

    Attributes:
        venue: ``"kalshi"`` or ``"polymarket"``.
        when_ns: wall clock of the confirmation.
        healthy: False means the source lost its upstream: treat every quote as stale.
    """

    venue: str
    when_ns: int
    healthy: bool = True


QuoteBatch = tuple[Quote, ...]
"""Quotes a source handed over at once, in order (a bus source: one socket read's)."""

SourceItem = Quote | Alive | QuoteBatch

ItemSink = Callable[[SourceItem], None]
"""Where a source hands its items, in order (the shard's inline handler; a test may pass
a memory channel's ``send_nowait``). It never blocks."""


class QuoteSource(Protocol):
    """What a shard reads quotes from."""

    venue: str

    async def run(self, out: ItemSink, *, task_status: Any = ...) -> None: ...

    async def add(self, instruments: Iterable[str]) -> None: ...

    async def remove(self, instruments: Iterable[str]) -> None: ...


class BusPolymarketSource:
    """Polymarket quotes published by the monitor (``POLYMARKET_VIA_REDIS=true``).

    Liveness comes from the monitor's health heartbeats; an unhealthy one (egress lost)
    immediately marks every Polymarket quote stale. Newly added tokens are seeded from the
    latest-price hash, so a restarted shard does not wait for the next price change.

    Completeness: the monitor numbers every update (``stream_seq``) and its heartbeat carries
    the last number and a per-start stream id. A missing number, a heartbeat ahead of what
    arrived, or a new stream id means updates were lost (Redis restarted, a full buffer, a
    monitor restart): every quote is marked stale at once and reloaded from the latest-price
    hash — a lost update never leaves an outdated price looking current.

    Bounded work per message: marking stale costs no bus traffic, and reloads happen at most
    once per ``reload_interval`` seconds (a reload asked for sooner runs with the first
    message after it), each one a single ``HGETALL`` — a forged heartbeat flipping the
    stream id cannot turn into one ``HGET`` per token per message. A monitor heartbeat timed
    more than ``max_skew_ms`` after its arrival is refused (counted): it cannot vouch for
    the future.
    """

    venue = "polymarket"
    channel: str = Channel.POLYMARKET_PRICES
    latest_hash: str = LATEST_PRICES_HASH
    update_type: type[Message] = PolymarketPriceUpdate

    def __init__(
        self,
        bus: Bus,
        *,
        monitor_instance: str | None = None,
        reload_interval: float = 1.0,
        max_skew_ms: int = 5000,
    ) -> None:
        self.bus = bus
        self.monitor_instance = monitor_instance
        self.reload_interval = reload_interval
        self.max_skew_ms = max_skew_ms
        self.reloads = 0
        self.future_heartbeats = 0
        self.rejected_updates = 0
        self._reload_pending = False
        self._last_reload = float("-inf")
        self.tokens: set[str] = set()
        self._out: ItemSink | None = None
        self.received = 0
        self.gaps = 0
        self.read_errors = 0
        """Reads the inline path failed on (logged; every quote marked stale, reloaded)."""
        self._stream_id: str | None = None
        self._last_seq: int | None = None
        self._busy = False  # run()'s task is taking envelopes: the inline path waits

    async def run(
        self, out: ItemSink, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Seed, then take every read: inline on the bus reader's task (the subscription's
        sink, :meth:`_on_read`) and, for what needs I/O or arrives while this task is
        busy, here."""
        self._out = out
        async with self.bus.subscribe(self.channel, Channel.SERVICE_STATUS, buffer=65_536) as sub:
            await self._seed(self.tokens)
            task_status.started()
            self._inline(sub)
            while True:
                try:
                    envelopes = await sub.receive_batch(HAND_OVER_RUN)
                except BusClosedError:
                    return
                await self._take(out, envelopes)
                await trio.lowlevel.checkpoint()  # a long backlog never holds the scheduler

    def _inline(self, sub: Subscription) -> None:
        """Take reads on the reader's task from now on (what was queued meanwhile stays
        first: the subscription offers nothing inline while anything is queued)."""
        sub.set_sink(self._on_read)

    def _on_read(self, envelopes: list[Envelope]) -> int:
        """The subscription's sink: one read's envelopes taken on the bus reader's task,
        up to the first that needs I/O (a gap or a lost stream to resync, a reload due);
        that one and the rest are queued for :meth:`run`'s task, in order. Nothing is
        taken while that task is busy. A failure here must not stop the bus reader nor
        leave a book looking current: it is counted, logged, every quote is marked stale
        and a reload follows."""
        out = self._out
        if self._busy or out is None:
            return 0
        try:
            return self._take_now(out, envelopes, 0)
        except Exception:
            self.read_errors += 1
            if self.read_errors == 1 or self.read_errors % 1000 == 0:
                log.exception(
                    "could not take a read of %d %s messages (%d so far): marking every "
                    "quote stale",
                    len(envelopes),
                    self.venue,
                    self.read_errors,
                )
            self._mark_stale("a read could not be taken")
            return len(envelopes)

    async def _take(self, out: ItemSink, envelopes: list[Envelope]) -> None:
        """A batch taken by the task: the inline rules (:meth:`_take_now`), with the I/O
        they stop for done here in between."""
        self._busy = True
        try:
            done = 0
            while True:
                done += self._take_now(out, envelopes, done)
                if done == len(envelopes):
                    return
                await self._resolve(envelopes[done])
        finally:
            self._busy = False

    def _take_now(self, out: ItemSink, envelopes: list[Envelope], start: int) -> int:
        """Take ``envelopes[start:]`` without I/O; returns how many were taken, stopping
        before the first that needs I/O (see :meth:`_resolve`).

        The quotes of consecutive updates go to the shard as ONE item, so it stores them
        and runs its kernel once over the batch. Order is kept: the quotes before a
        heartbeat are handed over before its :class:`Alive`."""
        pending: list[Quote] = []
        i = start
        n = len(envelopes)
        while i < n:
            if self._reload_pending and self._reload_due():
                break
            envelope = envelopes[i]
            message = envelope.message
            if isinstance(message, self.update_type):
                seq = message.stream_seq  # type: ignore[attr-defined]
                if seq:
                    if self._last_seq is not None and seq != self._last_seq + 1:
                        break  # updates were lost: resync first
                    self._last_seq = seq
                if self._instrument(message) in self.tokens:
                    self.received += 1
                    pending.append(self._quote(message, envelope.received_ns))
            elif isinstance(message, ServiceStatus) and self._vouches(message, envelope):
                if self._stream_problem(message) is not None:
                    break  # the heartbeat says updates were lost: resync first
                self._flush(out, pending)
                self._note_stream(message)
                out(Alive(self.venue, message.timestamp_ms * 1_000_000, message.healthy))
            i += 1
        self._flush(out, pending)
        return i - start

    async def _resolve(self, envelope: Envelope) -> None:
        """The I/O :meth:`_take_now` stopped before ``envelope`` for; it is then taken
        again (a gap's update continues the numbering, a heartbeat vouches)."""
        if self._reload_pending and self._reload_due():
            await self._reload()
            return
        message = envelope.message
        if isinstance(message, self.update_type):
            why = f"update {message.stream_seq} after {self._last_seq}"  # type: ignore[attr-defined]
            self._last_seq = None
            await self._resync(why)
            return
        assert isinstance(message, ServiceStatus)
        await self._resync(self._stream_problem(message) or "the stream restarted")
        self._note_stream(message)

    def _vouches(self, status: ServiceStatus, envelope: Envelope) -> bool:
        """Whether ``status`` is a heartbeat of this venue's monitor (the one configured,
        if any) that may vouch for the stream: one timed beyond ``max_skew_ms`` after its
        arrival is refused and counted — it cannot vouch for the future."""
        if status.service != "monitor":
            return False
        if self.monitor_instance and status.instance != self.monitor_instance:
            return False
        if status.details.get("venue", "polymarket") != self.venue:
            return False  # another venue's monitor: its own stream and health
        if status.timestamp_ms * 1_000_000 > envelope.received_ns + self.max_skew_ms * 1_000_000:
            self.future_heartbeats += 1
            if self.future_heartbeats == 1 or self.future_heartbeats % 1000 == 0:
                log.warning(
                    "refusing a monitor heartbeat from the future (%d so far)",
                    self.future_heartbeats,
                )
            return False
        return True

    def _flush(self, out: ItemSink, pending: list[Quote]) -> None:
        """Hand the quotes taken so far over as one item (and forget them)."""
        if pending:
            out(pending[0] if len(pending) == 1 else tuple(pending))
            pending.clear()

    @staticmethod
    def _stream_of(status: ServiceStatus) -> tuple[str, int] | None:
        """The stream a heartbeat describes: its id and the last number published
        (``None``: a monitor that does not number its stream, or an unreadable number)."""
        stream_id = status.details.get("stream_id")
        try:
            published = int(status.details.get("stream_seq", "0"))
        except ValueError:
            return None
        return None if stream_id is None else (stream_id, published)

    def _stream_problem(self, status: ServiceStatus) -> str | None:
        """Why ``status`` shows updates were lost (``None``: it does not)."""
        stream = self._stream_of(status)
        if stream is None:
            return None
        stream_id, published = stream
        if self._stream_id is not None and stream_id != self._stream_id:
            return "the monitor restarted"
        if self._last_seq is not None and published > self._last_seq:
            # The heartbeat went out after update `published`: anything above what arrived
            # was lost on the way.
            return f"heartbeat at {published}, received up to {self._last_seq}"
        return None

    def _note_stream(self, status: ServiceStatus) -> None:
        """Follow the stream ``status`` describes (its id, the last number published)."""
        stream = self._stream_of(status)
        if stream is None:
            return
        stream_id, published = stream
        self._stream_id = stream_id
        if self._last_seq is None or published > self._last_seq:
            self._last_seq = published

    def _mark_stale(self, why: str) -> None:
        """Updates were lost: every quote is marked stale at once (no I/O), a reload is
        asked for."""
        out = self._out
        if out is None:
            return
        self.gaps += 1
        log.warning("%s stream from the monitor lost updates (%s): reloading", self.venue, why)
        now = time.time_ns()
        stale = tuple(Quote(self.venue, t, (), (), True, now) for t in sorted(self.tokens))
        if stale:
            out(stale[0] if len(stale) == 1 else stale)
        self._reload_pending = True

    async def _resync(self, why: str) -> None:
        if self._out is None:
            return
        self._mark_stale(why)
        await self._reload()

    def _reload_due(self) -> bool:
        return trio.current_time() - self._last_reload >= self.reload_interval

    async def _reload(self) -> None:
        if not self._reload_due():
            return  # the next message after the interval reloads
        self._reload_pending = False
        self._last_reload = trio.current_time()
        self.reloads += 1
        await self._seed(self.tokens)

    async def _seed(self, tokens: Iterable[str]) -> None:
        out = self._out
        wanted = list(tokens)
        if out is None or not wanted:
            return
        now = time.time_ns()
        try:
            if len(wanted) <= _SINGLE_GETS:
                found = {t: await self.bus.hget(self.latest_hash, t) for t in wanted}
            else:  # one round trip, whatever the number of tokens
                stored = await self.bus.hgetall(self.latest_hash)
                found = {t: stored.get(t) for t in wanted}
        except BusError as exc:
            log.warning("could not seed %d tokens from the latest-price hash: %s", len(wanted), exc)
            return
        seeded = [
            self._quote(message, now)
            for token, message in found.items()
            if isinstance(message, self.update_type) and self._instrument(message) == token
        ]
        self._flush(out, seeded)

    def _instrument(self, message: Any) -> str:
        """The instrument an update of :attr:`update_type` is about."""
        return message.token_id  # type: ignore[no-any-return]

    def _checked(self, message: Any, received_ns: int) -> tuple[Quote, str | None]:
        return checked_quote(message, received_ns)

    def _quote(self, message: Any, received_ns: int) -> Quote:
        quote, problem = self._checked(message, received_ns)
        if problem is not None:
            self.rejected_updates += 1
            if self.rejected_updates == 1 or self.rejected_updates % 1000 == 0:
                log.warning(
                    "distrusting a malformed %s update for %.100s (%s; %d so far)",
                    self.venue,
                    self._instrument(message),
                    problem,
                    self.rejected_updates,
                )
        return quote

    async def add(self, instruments: Iterable[str]) -> None:
        new = [t for t in instruments if t not in self.tokens]
        self.tokens.update(new)
        if self._out is not None:
            await self._seed(new)

    async def remove(self, instruments: Iterable[str]) -> None:
        self.tokens.difference_update(instruments)
        await trio.lowlevel.checkpoint()


class BusVenueSource(BusPolymarketSource):
    """Quotes of any other venue published by its monitor (``MONITOR_VENUE``) as
    :class:`~arbees.messages.VenueQuote` on ``quotes:<venue>``, seeded from
    ``quotes:<venue>:latest``: a shard takes e.g. Polymarket US from the bus exactly as it
    takes Polymarket from ``polymarket:prices`` (the same liveness, completeness, reload and
    bounded-work rules, see :class:`BusPolymarketSource`), from the heartbeats of the
    monitor whose status names this venue (``details["venue"]``).

    A quote for another venue arriving on the channel is refused (counted as a rejected
    update): a publisher cannot slip one venue's prices in as another's.
    """

    update_type = VenueQuote

    def __init__(self, bus: Bus, venue: str, **options: Any) -> None:
        super().__init__(bus, **options)
        self.venue = venue
        self.channel = quotes_channel(venue)
        self.latest_hash = latest_quotes_hash(venue)

    def _instrument(self, message: Any) -> str:
        return message.instrument  # type: ignore[no-any-return]

    def _checked(self, message: Any, received_ns: int) -> tuple[Quote, str | None]:
        quote, problem = checked_venue_quote(message, received_ns)
        if message.venue != self.venue:
            stale = Quote(self.venue, message.instrument, (), (), True, quote.received_ns)
            return stale, f"a {message.venue[:20]} quote on the {self.venue} channel"
        return quote, problem


class FeedQuoteSource:
    """Quotes straight from a venue feed (Kalshi always; Polymarket on rollback).

    Each socket read's updates reach the shard on the feed's own reader task: the source
    is the feed's sink (:meth:`InstrumentFeed.set_sink`), converts the read's updates to
    quotes and hands them over as one item, so there is no channel and no task switch
    between a read and the engine (as for the bus source).

    Args:
        venue: the venue's id (``"kalshi"``, ``"polymarket"``).
        feed: the running-to-be feed.
        to_quote: converts one feed update into a quote.
        alive_interval: seconds between polls of ``feed.last_message_ns()``, the feed's
            latest proof of life (e.g. the last message on its ordered socket), each
            handed over as an :class:`Alive` (see :meth:`_vouch`).
    """

    def __init__(
        self,
        venue: str,
        feed: InstrumentFeed,
        to_quote: Callable[[Any], Quote],
        *,
        alive_interval: float = 0.25,
    ) -> None:
        self.venue = venue
        self.feed = feed
        self.to_quote = to_quote
        self.alive_interval = alive_interval

    async def run(
        self,
        out: ItemSink,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(self._run_feed, nursery.cancel_scope)
            # What the feed queued in its channel before it had a sink goes first, in
            # order; from the sink on, each read is handed over as the feed reads it.
            self._take_queued(out)
            self.feed.set_sink(lambda updates: self._take(out, updates))
            try:
                task_status.started()
                await self._vouch(out)
            finally:
                self.feed.set_sink(None)

    async def _run_feed(
        self, scope: trio.CancelScope, *, task_status: trio.TaskStatus[None]
    ) -> None:
        """The feed; when it ends by itself, so does the source."""
        await self.feed.run(task_status=task_status)
        scope.cancel()

    def _take_queued(self, out: ItemSink) -> None:
        updates = self.feed.updates
        while True:
            batch: list[Any] = []
            while len(batch) < HAND_OVER_RUN:
                try:
                    batch.append(updates.receive_nowait())
                except (trio.WouldBlock, trio.EndOfChannel):
                    break
            if not batch:
                return
            self._take(out, batch)

    def _take(self, out: ItemSink, updates: list[Any]) -> None:
        """One read's updates (each instrument's newest once) as one item."""
        to_quote = self.to_quote
        if len(updates) == 1:
            out(to_quote(updates[0]))
        elif updates:
            out(tuple([to_quote(update) for update in updates]))

    async def _vouch(self, out: ItemSink) -> None:
        """Every ``alive_interval``, an :class:`Alive` with ``feed.last_message_ns()``.

        ``Alive(when)`` vouches for every frame read up to ``when``. With the source as
        the feed's sink, every update the feed made from those frames was handed over on
        the reader's task before the read ended, so it is already in ``out``, ahead of the
        mark. (From a task of its own, reading a channel, it once overtook updates still
        queued behind a lagging consumer, and the shard took a book those updates had
        already replaced as confirmed live.)
        """
        while True:
            when = self.feed.last_message_ns()
            if when:
                out(Alive(self.venue, when))
            await trio.sleep(self.alive_interval)

    async def add(self, instruments: Iterable[str]) -> None:
        await self.feed.add(list(instruments))

    async def remove(self, instruments: Iterable[str]) -> None:
        await self.feed.remove(list(instruments))
