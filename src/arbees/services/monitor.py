"""The Polymarket monitor: verified egress, then prices from the venue to the bus.

It runs inside the VPN's network namespace. Order of operations, and why:

1. The egress guard checks where traffic leaves *before* any venue connection. While egress
   is unverified the feed is not running at all: no socket, no price, nothing published —
   FAIL CLOSED. A ``POLYMARKET_MONITOR_UNHEALTHY`` alert goes out on every loss, the health
   heartbeat turns unhealthy, and when a later check passes the feed is started afresh.
2. Tokens to stream come from the orchestrator's assignments (stored hash on start, then the
   assignments channel), idempotently. Each assignment is judged on its own: one the monitor
   cannot stream (a token id the venue would refuse, beyond the ``max_tokens`` cap) is
   skipped, counted, logged once and alerted — it never stops the other tokens, and a
   poisoned stored record cannot put the monitor in a crash loop.
3. Every book change becomes a :class:`~arbees.messages.PolymarketPriceUpdate` published on
   ``polymarket:prices`` and stored in ``polymarket:latest_prices`` (one pipeline on Redis).
   The feed hands each socket read's changed books, each token's newest once, straight to
   the monitor on the feed's reader task (its sink), which queues them on the bus as one
   write: no channel and no task in between, so a lone update goes out at once. A book the
   feed distrusts (reconnect, failed cross-check, or a REST audit that caught a socket
   silently delivering nothing) is published too, with ``stale=True``, so shards stop
   using it until a fresh one follows; the feed passed in may run such an audit inside its
   own ``run``, which keeps that REST traffic inside the egress-verified scope below.

The same service runs for another venue (``venue="polymarket-us"``, ``MONITOR_VENUE``): one
process holding that venue's sockets for many shards (Polymarket US limits subscriptions per
key). It then streams every instrument of its venue that the shard (game) assignments name
(``orchestrator:game_assignments``, then the assignments channel: a game's contracts on its
venue, each instrument once however many games name it), and publishes each book as a
venue-neutral :class:`~arbees.messages.VenueQuote` on ``quotes:<venue>`` and in
``quotes:<venue>:latest``; its health heartbeat names the venue (``details["venue"]``). Its
``guard`` may be ``None``: a venue not behind the VPN runs with no egress check (the wiring
decides that per venue). The international Polymarket path is unchanged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import attrs
import trio

from arbees import codec
from arbees.book import BookView, mirror_levels
from arbees.bus.base import Bus
from arbees.egress import EgressGuard, EgressState, run_while_verified
from arbees.errors import ArbeesError, ConfigError
from arbees.identifiers import is_token_id
from arbees.messages import (
    GAME_ASSIGNMENTS_HASH,
    LATEST_PRICES_HASH,
    PUBLISHED_DEPTH,
    TOKEN_ASSIGNMENTS_HASH,
    Channel,
    MarketAssignment,
    PolymarketPriceUpdate,
    ServiceStatus,
    VenueQuote,
    latest_quotes_hash,
    now_ms,
    quotes_channel,
)
from arbees.money import ONE
from arbees.obs.health import run_heartbeat
from arbees.services._assignments import apply_live, apply_stored
from arbees.services._rejections import Rejections, shorten
from arbees.services.interfaces import InstrumentFeed

__all__ = [
    "MonitorStats",
    "PolymarketMonitor",
    "open_polymarket_monitor",
    "price_update",
    "venue_quote",
]

log = logging.getLogger(__name__)

SERVICE = "monitor"
UNHEALTHY_ALERT = "POLYMARKET_MONITOR_UNHEALTHY"


@attrs.define
class MonitorStats:
    """Counters.

    Attributes:
        published: price updates published.
        stale_published: the part of ``published`` that carried ``stale=True``.
        withheld: updates dropped because egress was not verified at publish time.
        assignments: assignment messages applied.
        rejected_assignments: assignments that could not be applied (reported).
        refused_cap: new tokens refused because ``max_tokens`` were held.
        feed_starts: times the feed was (re)started after egress was verified.
        egress_losses: verified -> unverified transitions.
        refreshes: full republishes after the bus lost messages.
        caught_up: instruments assigned while a feed was connecting, handed to it once it
            had started (each would otherwise wait for the next reconnect).
        coalesced_ended_feeds: changes that the feeds of ended egress periods merged into
            a newer change of the same instrument (``PolymarketMonitor.coalesced`` adds the
            current feed's).
    """

    published: int = 0
    stale_published: int = 0
    withheld: int = 0
    assignments: int = 0
    rejected_assignments: int = 0
    refused_cap: int = 0
    feed_starts: int = 0
    egress_losses: int = 0
    refreshes: int = 0
    caught_up: int = 0
    coalesced_ended_feeds: int = 0


def price_update(
    view: BookView,
    *,
    seq: int,
    venue_ts_ms: int | None,
    received_ns: int,
    depth: int = PUBLISHED_DEPTH,
    stream_seq: int = 0,
    published_ns: int | None = None,
) -> PolymarketPriceUpdate:
    """The bus message for one token's book.

    ``no_*`` is the complementary outcome, whose Polymarket book is the mirror of this one
    (``no_ask = 1 - yes_bid``). ``liquidity`` is the size at the best bid plus the best ask.
    ``published_ns`` (default: now) also gives ``timestamp_ms``. The monitor itself writes
    the same bytes with :func:`arbees.codec.encode_price_view`, without this object.
    """
    now = time.time_ns() if published_ns is None else published_ns
    bid = view.best_bid
    ask = view.best_ask
    return PolymarketPriceUpdate(
        market_id=view.market,
        token_id=view.instrument,
        yes_bid=bid.price if bid else None,
        yes_ask=ask.price if ask else None,
        no_bid=ONE - ask.price if ask else None,
        no_ask=ONE - bid.price if bid else None,
        liquidity=(bid.size if bid else 0) + (ask.size if ask else 0),
        timestamp_ms=now // 1_000_000,
        yes_bid_size=bid.size if bid else None,
        yes_ask_size=ask.size if ask else None,
        no_bid_size=ask.size if ask else None,
        no_ask_size=bid.size if bid else None,
        yes_asks=view.asks[:depth],
        no_asks=mirror_levels(view.bids[:depth]),
        venue_ts_ms=venue_ts_ms,
        monitor_recv_ns=received_ns,
        published_ns=now,
        seq=seq,
        stale=view.stale,
        stream_seq=stream_seq,
    )


def venue_quote(
    view: BookView,
    *,
    venue: str,
    seq: int,
    venue_ts_ms: int | None,
    received_ns: int,
    depth: int = PUBLISHED_DEPTH,
    stream_seq: int = 0,
) -> VenueQuote:
    """The venue-neutral bus message for one instrument's book on ``venue``."""
    return VenueQuote(
        venue=venue,
        instrument=view.instrument,
        timestamp_ms=now_ms(),
        bids=view.bids[:depth],
        asks=view.asks[:depth],
        venue_ts_ms=venue_ts_ms,
        monitor_recv_ns=received_ns,
        published_ns=time.time_ns(),
        seq=seq,
        stream_seq=stream_seq,
        stale=view.stale,
    )


class PolymarketMonitor:
    """Streams assigned Polymarket tokens to the bus while egress is verified (or, with
    ``venue``, another venue's instruments, see the module notes).

    Args:
        bus: where prices, alerts and health go.
        feed_factory: builds a fresh feed for a list of tokens (called after every
            egress recovery, so each verified period starts with new connections).
        guard: the egress guard (already constructed; the monitor runs it).
        instance: this instance's id for health (host name by default in the CLI).
        heartbeat_interval: seconds between health heartbeats.
        depth: ask levels carried per side in each price update (at most
            :data:`~arbees.messages.PUBLISHED_DEPTH`, the most the bus codec accepts).
        accepts: the check of a token id (the wiring passes the Polymarket venue's
            ``accepts``, the one its feed applies; by default the same check); a token it
            refuses is rejected on arrival, before any feed sees it. With
            ``None``, a token the feed itself refuses is found and dropped when the feed is
            built.
        max_tokens: tokens streamed at most (and so sockets); further assignments are
            refused, counted and alerted once, the tokens already held keep streaming.
        companions: services run beside the feed, only while egress is verified (each
            cancelled on a loss and started afresh on recovery), e.g. the sports-state
            :class:`~arbees.services.game_states.GameStateRelay`.
        venue: the venue id streamed (default ``"polymarket"``: the seed's price updates
            on ``polymarket:prices``); another id streams the instruments of that venue
            the shard assignments name, as :class:`~arbees.messages.VenueQuote` s on
            ``quotes:<venue>``.
    """

    def __init__(
        self,
        bus: Bus,
        feed_factory: Callable[[list[str]], InstrumentFeed],
        guard: EgressGuard | None,
        *,
        instance: str = "monitor",
        heartbeat_interval: float = 1.0,
        depth: int = PUBLISHED_DEPTH,
        accepts: Callable[[str], bool] | None = is_token_id,
        max_tokens: int = 2000,
        companions: Sequence[Callable[[], Awaitable[object]]] = (),
        venue: str = "polymarket",
    ) -> None:
        if not 1 <= depth <= PUBLISHED_DEPTH:
            raise ConfigError(f"depth must be in 1..{PUBLISHED_DEPTH}: {depth}")
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1: {max_tokens}")
        if guard is None and venue == "polymarket":
            raise ConfigError("the Polymarket monitor always checks its egress: give it a guard")
        self.bus = bus
        self.feed_factory = feed_factory
        self.guard = guard
        self.instance = instance
        self.heartbeat_interval = heartbeat_interval
        self.depth = depth
        self.accepts = accepts
        self.max_tokens = max_tokens
        self.stats = MonitorStats()
        self.rejections = Rejections(bus, "polymarket_monitor")
        self.tokens: dict[str, MarketAssignment] = {}
        self._feed: InstrumentFeed | None = None
        self._seq: dict[str, int] = {}
        self._feed_running = False
        # One numbered stream of price updates (see PolymarketPriceUpdate.stream_seq); the
        # stream id changes with every monitor start, so consumers notice a restart too.
        self._stream_seq = 0
        # The last number the bus has taken: the heartbeat reports this one, never a number
        # still on its way (a heartbeat ahead of its update reads as a lost update).
        self._published_seq = 0
        self.stream_id = f"{instance}-{time.time_ns()}"
        self._failed_seen = 0
        self._refused_at_start: list[tuple[str, str]] = []
        self.companions = tuple(companions)
        self.venue = venue
        self._games: dict[str, tuple[int, frozenset[str]]] = {}  # game -> epoch, instruments
        self._holders: dict[str, int] = {}  # instrument -> games naming it

    def __repr__(self) -> str:
        egress = "off" if self.guard is None else self.guard.verified
        return (
            f"PolymarketMonitor(venue={self.venue!r}, tokens={len(self.tokens)}, egress={egress})"
        )

    @property
    def _verified(self) -> bool:
        return self.guard is None or self.guard.verified

    @property
    def current_feed(self) -> InstrumentFeed | None:
        """The feed of the current verified period (``None`` while egress is unverified)."""
        return self._feed

    @property
    def healthy(self) -> bool:
        return self._verified and self._feed_running

    def coalesced(self) -> int:
        """Changes merged into a newer change of the same instrument before publishing,
        over the monitor's life (every feed's ``counters()["coalesced"]``): with
        ``published`` it accounts for every change the venue sent."""
        feed = self._feed
        now = feed.counters()["coalesced"] if feed is not None else 0
        return self.stats.coalesced_ended_feeds + now

    def status(self) -> ServiceStatus:
        if self.guard is None:
            kind, country = "none", ""
            reason = "" if self.healthy else "feed starting"
        else:
            state = self.guard.state
            kind, country = state.kind, state.country or ""
            reason = (
                "" if self.healthy else (state.reason if not state.verified else "feed starting")
            )
        details = {
            "egress": kind,
            "country": country,
            "tokens": str(len(self.tokens)),
            "published": str(self.stats.published),
            "coalesced": str(self.coalesced()),
            "stale_published": str(self.stats.stale_published),
            "rejected": str(self.rejections.total),
            "stream_id": self.stream_id,
            "stream_seq": str(self._published_seq),
        }
        if self.venue != "polymarket":  # the Polymarket monitor's heartbeat stays as it was
            details["venue"] = self.venue
        return ServiceStatus(
            service=SERVICE,
            instance=self.instance,
            healthy=self.healthy,
            timestamp_ms=now_ms(),
            reason=reason,
            details=details,
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run until cancelled. Ready once assignments are loaded, the bus is subscribed,
        the first egress check is done and — if it passed — the feed is connected."""
        async with (
            trio.open_nursery() as nursery,
            self.bus.subscribe(Channel.MARKET_ASSIGNMENTS) as assignments,
        ):
            if self.venue == "polymarket":
                await apply_stored(self.bus, TOKEN_ASSIGNMENTS_HASH, self._apply, self._reject)
            else:  # another venue: the instruments the shards' games name
                await apply_stored(self.bus, GAME_ASSIGNMENTS_HASH, self._apply_game, self._reject)
            guard = self.guard
            verified = True
            if guard is not None:
                first = await nursery.start(guard.run)
                nursery.start_soon(self._watch_egress, first)
                verified = first.verified
            if self.venue == "polymarket":
                nursery.start_soon(apply_live, assignments, "polymarket", self._apply)
            else:
                nursery.start_soon(apply_live, assignments, "kalshi", self._apply_game)
            nursery.start_soon(self._refresh_after_bus_outage, self.heartbeat_interval)
            for companion in self.companions:
                if guard is None:
                    nursery.start_soon(companion)
                else:
                    nursery.start_soon(run_while_verified, guard, companion)
            if verified:
                await nursery.start(self._feed_while_verified)
            else:
                nursery.start_soon(self._feed_while_verified)
            await nursery.start(
                lambda task_status: run_heartbeat(
                    self.bus,
                    self.status,
                    interval=self.heartbeat_interval,
                    ttl=max(10.0, 5 * self.heartbeat_interval),
                    task_status=task_status,
                )
            )
            task_status.started()
            await trio.sleep_forever()

    # -- assignments -------------------------------------------------------------------

    async def _apply(self, assignment: MarketAssignment) -> None:
        token = assignment.token_id
        current = self.tokens.get(token)
        if current is not None and assignment.epoch < current.epoch:
            return
        if assignment.platform != "polymarket":
            await self._reject(token, f"not a Polymarket assignment ({assignment.platform!r})")
            return
        self.stats.assignments += 1
        if assignment.action == "unassign":
            if self.tokens.pop(token, None) is not None:
                await self._feed_call("remove", [token])
            return
        if current is None:
            if self.accepts is not None and not self.accepts(token):
                await self._reject(token, "not a token id the venue accepts")
                return
            if len(self.tokens) >= self.max_tokens:
                await self._refuse_over_cap(token)
                return
        self.tokens[token] = assignment
        if current is None:
            await self._feed_call("add", [token])

    async def _apply_game(self, assignment: MarketAssignment) -> None:
        """A shard (game) assignment, for a monitor of a venue other than Polymarket:
        stream every instrument of this venue its contracts name (each once, however many
        games name it), stop those no game names any more."""
        game = assignment.game_id or assignment.market_id
        current = self._games.get(game)
        if current is not None and assignment.epoch < current[0]:
            return
        self.stats.assignments += 1
        wanted: frozenset[str] = frozenset()
        if assignment.action == "assign":
            wanted = frozenset(c.instrument for c in assignment.contracts if c.venue == self.venue)
        held = current[1] if current is not None else frozenset()
        gone = []
        for instrument in sorted(held - wanted):
            left = self._holders.get(instrument, 1) - 1
            if left > 0:
                self._holders[instrument] = left
            else:
                self._holders.pop(instrument, None)
                if self.tokens.pop(instrument, None) is not None:
                    gone.append(instrument)
        if gone:
            await self._feed_call("remove", gone)
        kept = set(held & wanted)
        for instrument in sorted(wanted - held):
            if instrument in self._holders:
                self._holders[instrument] += 1
                kept.add(instrument)
                continue
            if self.accepts is not None and not self.accepts(instrument):
                await self._reject(instrument, f"not an instrument {self.venue} accepts")
                continue
            if len(self.tokens) >= self.max_tokens:
                await self._refuse_over_cap(instrument)
                continue
            self._holders[instrument] = 1
            self.tokens[instrument] = assignment
            await self._feed_call("add", [instrument])
            if instrument in self.tokens:  # the feed took it (a refusal is reported)
                kept.add(instrument)
        if assignment.action == "assign":
            self._games[game] = (assignment.epoch, frozenset(kept))
        else:
            self._games.pop(game, None)

    async def _reject(self, token: str, why: str) -> None:
        self.stats.rejected_assignments += 1
        await self.rejections.reject("ASSIGNMENT_REJECTED", token, why)

    async def _refuse_over_cap(self, token: str) -> None:
        self.stats.refused_cap += 1
        text = (
            f"token cap reached: streaming {self.max_tokens} tokens, refusing more "
            f"(first refused {shorten(token)}); raise MONITOR_MAX_TOKENS or add a monitor"
        )
        await self.rejections.once("MONITOR_TOKEN_CAP", text)

    async def _feed_call(self, op: str, tokens: list[str]) -> None:
        feed = self._feed
        if feed is None:
            return  # the next feed start subscribes the current set
        try:
            if op == "add":
                await feed.add(tokens)
            else:
                await feed.remove(tokens)
        except ArbeesError as exc:
            for token in tokens:
                self.tokens.pop(token, None)
                self._holders.pop(token, None)
                await self._reject(token, str(exc))

    async def _catch_up(self, built: frozenset[str]) -> None:
        """Tell a feed just started (built for ``built``) what the assignments changed
        while it was connecting."""
        now = frozenset(self.tokens)
        if gone := sorted(built - now):
            await self._feed_call("remove", gone)
        if added := sorted(now - built):
            self.stats.caught_up += len(added)
            await self._feed_call("add", added)

    def _new_feed(self) -> InstrumentFeed:
        """A feed for the current tokens; tokens the feed refuses are dropped first.

        Without an ``accepts`` check, the feed is the judge of a token id. Building a feed
        only validates its tokens (no connection is made), so when the whole set is refused
        each token is tried alone and the refused ones are dropped: one poisoned stored
        assignment never keeps the others from streaming.
        """
        try:
            return self.feed_factory(sorted(self.tokens))
        except ArbeesError:
            pass
        for token in sorted(self.tokens):
            try:
                self.feed_factory([token])
            except ArbeesError as exc:
                self.tokens.pop(token)
                self._holders.pop(token, None)
                self._refused_at_start.append((token, str(exc)))
        return self.feed_factory(sorted(self.tokens))

    # -- egress and feed ---------------------------------------------------------------

    async def _watch_egress(self, first: EgressState) -> None:
        if not first.verified:
            await self._alert(UNHEALTHY_ALERT, _unhealthy_text(first), severity="critical")
        assert self.guard is not None  # started only with a guard
        async for state in self.guard.changes():
            if state.verified:
                log.info("egress verified (%s); resuming Polymarket", state.country)
                await self._alert(
                    "POLYMARKET_MONITOR_RECOVERED", f"egress verified: {state.reason}", "info"
                )
            else:
                self.stats.egress_losses += 1
                log.error("egress lost: %s", state.reason)
                await self._alert(UNHEALTHY_ALERT, _unhealthy_text(state), severity="critical")

    async def _feed_while_verified(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        started = [False]

        async def one_verified_period() -> None:
            feed: InstrumentFeed | None = None
            try:
                feed = self._new_feed()
                built = frozenset(self.tokens)
                while self._refused_at_start:
                    await self._reject(*self._refused_at_start.pop(0))
                self.stats.feed_starts += 1
                async with trio.open_nursery() as nursery:
                    await nursery.start(feed.run)
                    self._feed = feed
                    self._feed_running = True
                    # Assignments applied while the feed was connecting found no feed to
                    # tell: hand it the difference now, or those instruments would stay
                    # unsubscribed until the next reconnect.
                    await self._catch_up(built)
                    if not started[0]:
                        started[0] = True
                        task_status.started()
                    await self._publish_updates(feed)
            finally:
                if feed is not None:
                    self.stats.coalesced_ended_feeds += feed.counters()["coalesced"]
                self._feed = None
                self._feed_running = False

        if self.guard is None:  # a venue with no egress check: one period, for good
            await one_verified_period()
        else:
            await run_while_verified(self.guard, one_verified_period)

    async def _publish_updates(self, feed: InstrumentFeed) -> None:
        """Publish each socket read's updates as it happens, on the feed's reader task.

        The feed's driver hands every frame of one read to the feed with no checkpoint in
        between (:mod:`arbees.wsdriver`); the feed applies them to its books and hands the
        read's changed views, each token's newest once, to :meth:`_on_read_updates`,
        which encodes them and queues them on the bus as ONE write (Redis: one pipelined
        write, sent right there when the connection is idle). No channel and no task
        between the socket and the bus's outbox: a lone update goes out at once.
        Updates the feed queued before the sink was set go first, as one batch.
        """
        receive = feed.updates
        queued: list[Any] = []
        while True:
            try:
                queued.append(receive.receive_nowait())
            except (trio.WouldBlock, trio.EndOfChannel):
                break
        self._on_read_updates(queued)
        feed.set_sink(self._on_read_updates)
        try:
            await trio.sleep_forever()
        finally:
            feed.set_sink(None)

    def _on_read_updates(self, updates: list[Any]) -> None:
        """The feed's sink: one read's updates onto the bus as one write (newest per
        instrument, first-change order)."""
        batch: dict[str, Any] = {}
        for update in updates:
            self._take(update, batch)
        if batch:
            self._queue_batch([(u.view, u.venue_ts_ms, u.received_ns) for u in batch.values()])

    def _take(self, update: Any, batch: dict[str, Any]) -> None:
        if not self._verified:  # the scope is being cancelled; never leak one
            self.stats.withheld += 1
            return
        instrument = update.view.instrument
        if instrument in self.tokens:
            batch[instrument] = update  # newest wins, first-change order kept

    async def _publish_view(
        self, view: BookView, venue_ts_ms: int | None, received_ns: int
    ) -> None:
        """:meth:`_queue_batch` of one book from a task (the refresh after a bus outage),
        with a checkpoint on each side like any bus call."""
        await trio.lowlevel.checkpoint_if_cancelled()
        self._queue_batch([(view, venue_ts_ms, received_ns)])
        await trio.lowlevel.cancel_shielded_checkpoint()

    def _queue_batch(self, views: list[tuple[BookView, int | None, int]]) -> None:
        """One bus write for ``views`` (each a book, its venue time and receipt), never
        blocking: Polymarket books as :class:`PolymarketPriceUpdate` payloads on
        ``polymarket:prices`` / ``polymarket:latest_prices`` (numbered per market), any
        other venue's as :class:`~arbees.messages.VenueQuote` on ``quotes:<venue>`` /
        ``quotes:<venue>:latest`` (numbered per instrument); all numbered over the stream.
        """
        polymarket = self.venue == "polymarket"
        items: list[tuple[str, bytes]] = []
        seqs = self._seq
        stale = 0
        now = time.time_ns()
        for view, venue_ts_ms, received_ns in views:
            numbered = view.market if polymarket else view.instrument
            seq = seqs.get(numbered, 0) + 1
            seqs[numbered] = seq
            self._stream_seq += 1
            if polymarket:
                payload = codec.encode_price_view(
                    view,
                    seq=seq,
                    venue_ts_ms=venue_ts_ms,
                    received_ns=received_ns,
                    published_ns=now,
                    depth=self.depth,
                    stream_seq=self._stream_seq,
                )
            else:
                payload = codec.encode(
                    venue_quote(
                        view,
                        venue=self.venue,
                        seq=seq,
                        venue_ts_ms=venue_ts_ms,
                        received_ns=received_ns,
                        depth=self.depth,
                        stream_seq=self._stream_seq,
                    )
                )
            items.append((view.instrument, payload))
            stale += view.stale
        channel: str
        if polymarket:
            channel, key = Channel.POLYMARKET_PRICES, LATEST_PRICES_HASH
        else:
            channel, key = quotes_channel(self.venue), latest_quotes_hash(self.venue)
        self.bus.publish_and_hset_raw_nowait(channel, key, items)
        self._published_seq = max(self._published_seq, self._stream_seq)
        self.stats.published += len(items)
        self.stats.stale_published += stale

    async def _refresh_after_bus_outage(self, interval: float) -> None:
        """Republish every current book once the bus took messages again after losing some.

        Updates published while Redis was down are gone (at-most-once) and a restarted Redis
        has an empty latest-price hash; consumers also see the gap in ``stream_seq``. A full
        refresh puts the newest state of every token back on the channel and in the hash.
        """
        while True:
            await trio.sleep(interval)
            failed = self.bus.stats.publish_failed
            if failed == self._failed_seen:
                continue
            self._failed_seen = failed
            feed = self._feed
            if feed is None or not self._verified:
                continue
            self.stats.refreshes += 1
            log.info("bus lost %d messages: republishing %d books", failed, len(self.tokens))
            for token in sorted(self.tokens):
                view = feed.current_view(token)
                if view is not None:
                    await self._publish_view(view, view.venue_ts_ms, view.received_ns)

    async def _alert(self, kind: str, text: str, severity: str = "warning") -> None:
        await self.rejections.alert(kind, text, severity=severity, details=None)


def _unhealthy_text(state: EgressState) -> str:
    return (
        f"egress not verified, Polymarket paused: {state.reason}. Check the VPN credentials, "
        "the VPN container's health and the control-server API key."
    )


@asynccontextmanager
async def open_polymarket_monitor(
    bus: Bus,
    feed_factory: Callable[[list[str]], InstrumentFeed],
    guard: EgressGuard | None,
    **kwargs: Any,
) -> AsyncIterator[PolymarketMonitor]:
    """Run a monitor for the duration of the block (entered once it is ready)."""
    monitor = PolymarketMonitor(bus, feed_factory, guard, **kwargs)
    async with trio.open_nursery() as nursery:
        await nursery.start(monitor.run)
        yield monitor
        nursery.cancel_scope.cancel()
