"""The Polymarket US markets socket, sans-io: frames in, exact books and events out, and
the subscription state (which market on which socket, the frames each socket must send).

:class:`PolymarketUsProtocol` owns one :class:`~arbees.polymarket_us.book.MarketBook` per
tracked market slug; ``feed(frame, recv_ns)`` decodes one received message exactly once
(msgspec into :mod:`arbees.polymarket_us.wire`), applies it and returns the typed events.

Book shapes (public sources disagree, issue 17): ``"full"`` (the default) treats every
market-data message as a full replacement of both sides, levels best first; ``"delta"``
treats the first message after a subscribe as the snapshot and each later one as new
totals per listed level (``qty`` 0 deletes the level). Until a capture proves deltas,
``"full"`` is the conservative reading: a delta read as a snapshot can only hide depth,
a snapshot read as a delta would keep levels the venue dropped.

Rejection policy (never a crash, never a silently wrong book):

* a frame over ``max_frame_bytes``, not JSON, or one the decoder itself fails on is
  counted (``invalid_frames``), logged (throttled) and dropped;
* a frame of the wrong shape (a number where an object belongs, ...) or with a bad value
  (price outside (0, 1), negative or malformed quantity, more than ``max_levels`` levels,
  one price listed twice, a malformed slug) is rejected whole (``rejected``): nothing of
  it is applied, and the market it names, when tracked, goes stale until its next
  snapshot (in the delta shape it also asks for a resubscribe, :meth:`take_resyncs`);
* a book left crossed (bid >= ask) is counted (``crossed``) and goes stale the same way;
* a book whose message says the market is not open (``state`` other than ``1`` /
  ``"MARKET_STATE_OPEN"``: halted, closed, suspended...) is applied but stale
  (``not_open``) until a message says it is open again: a closed market is never traded;
* data for an untracked market is counted (``unknown_market``) and ignored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Final, Literal

import attrs
import msgspec

from arbees.book import MAX_BOOK_SIZE
from arbees.errors import HOSTILE_INPUT_ERRORS, ConfigError, DecodeError
from arbees.identifiers import is_market_slug
from arbees.money import ONE, Fixed, parse_fixed
from arbees.obs.throttle import ThrottledLog
from arbees.polymarket_us.book import MarketBook
from arbees.polymarket_us.wire import (
    DECODER,
    MAX_MARKETS_PER_SUBSCRIPTION,
    WsError,
    WsLevel,
    WsMarketData,
    subscribe_frame,
    unsubscribe_frame,
)

__all__ = [
    "DEFAULT_MAX_FRAME_BYTES",
    "DEFAULT_MAX_LEVELS",
    "BookChanged",
    "BookShape",
    "Event",
    "PolymarketUsProtocol",
    "ProtocolStats",
    "SocketPlan",
    "Subscriptions",
    "VenueErrorFrame",
]

log = logging.getLogger(__name__)

BookShape = Literal["full", "delta"]
DEFAULT_MAX_FRAME_BYTES: Final = 1024 * 1024
DEFAULT_MAX_LEVELS: Final = 1000
_OPEN_STATES: Final = frozenset({1, "1", "MARKET_STATE_OPEN"})
_NOT_OPEN: Final = "market not open"
_ISO: Final = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)")


class _BadValue(Exception):
    """A value in a frame failed validation (message names the field)."""


@attrs.frozen(slots=True)
class BookChanged:
    """A market's book changed (levels and/or staleness).

    Attributes:
        slug: the market slug.
        kind: ``"snapshot"``, ``"delta"``, ``"rejected"`` (an update was invalid, the
            book is stale), ``"crossed"`` (the book crossed and is stale) or
            ``"reconnect"`` (the feed lost the socket) or ``"not_open"`` (the venue says
            the market is not open: stale).
        venue_ts_ms: the venue's ``transact_time`` in epoch ms, when it sent a readable one.
        received_ns: ``time.time_ns()`` when the frame was received.
    """

    slug: str
    kind: str
    venue_ts_ms: int | None
    received_ns: int


@attrs.frozen(slots=True)
class VenueErrorFrame:
    """The venue reported an error on the socket (e.g. a refused subscription).

    Attributes:
        request_id: the subscription it concerns, when named.
        message: the venue's message, cut to 200 characters.
    """

    request_id: str
    message: str


Event = BookChanged | VenueErrorFrame


@attrs.define
class ProtocolStats:
    """Counters of one protocol instance.

    Attributes:
        frames: messages fed.
        snapshots: market-data messages applied as full replacements.
        deltas: market-data messages applied as deltas.
        other_frames: frames with neither market data nor an error (heartbeats, acks).
        errors: error frames from the venue.
        invalid_frames: oversized, not JSON, or undecodable frames.
        rejected: frames rejected for a bad shape or value.
        unknown_market: market data for an untracked slug (ignored).
        crossed: updates that left a book crossed.
        unsorted: snapshots whose levels were not best first (applied: order is not
            trusted, each level is keyed by its price).
        bad_timestamps: unreadable ``transact_time`` values (the update is applied
            without a venue time).
        not_open: messages saying the market is not open (its book stays stale).
    """

    frames: int = 0
    snapshots: int = 0
    deltas: int = 0
    other_frames: int = 0
    errors: int = 0
    invalid_frames: int = 0
    rejected: int = 0
    unknown_market: int = 0
    crossed: int = 0
    unsorted: int = 0
    bad_timestamps: int = 0
    not_open: int = 0


def _epoch_ms(text: str) -> int | None:
    m = _ISO.fullmatch(text)
    if m is None:
        return None
    base, frac, zone = m.groups()
    try:
        dt = datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return None
    ms = int((frac or "0").ljust(3, "0")[:3])
    return int(dt.timestamp()) * 1000 + ms


def _fixed(value: str | int | float, field: str) -> Fixed:
    if type(value) is float and value != value:  # NaN never reaches parse_fixed's checks
        raise _BadValue(f"{field}: not a number")
    try:
        return parse_fixed(value, field=field)
    except DecodeError as exc:
        raise _BadValue(str(exc)) from None


def _levels(levels: list[WsLevel] | None, field: str, limit: int) -> list[tuple[Fixed, Fixed]]:
    if levels is None:
        return []
    if len(levels) > limit:
        raise _BadValue(f"{field}: {len(levels)} levels (at most {limit})")
    out: list[tuple[Fixed, Fixed]] = []
    seen: set[Fixed] = set()
    for lvl in levels:
        price = _fixed(lvl.px.value, f"{field}.px")
        if not 0 < price < ONE:
            raise _BadValue(f"{field}.px: outside (0, 1): {price / ONE}")
        size = _fixed(lvl.qty, f"{field}.qty")
        if not 0 <= size <= MAX_BOOK_SIZE:
            raise _BadValue(f"{field}.qty: negative or over {MAX_BOOK_SIZE // ONE}")
        if price in seen:
            raise _BadValue(f"{field}: price {price / ONE} listed twice")
        seen.add(price)
        out.append((price, size))
    return out


class PolymarketUsProtocol:
    """Parse markets-socket frames and keep one exact book per tracked market.

    Args:
        shape: ``"full"`` (every message replaces the book) or ``"delta"``.
        max_frame_bytes: larger frames are rejected unread.
        max_levels: more levels on one side of one message is a rejection.
        create_on_data: create a book for data of an untracked market (replay); a feed
            tracks its markets explicitly.
    """

    def __init__(
        self,
        *,
        shape: BookShape = "full",
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        max_levels: int = DEFAULT_MAX_LEVELS,
        create_on_data: bool = False,
    ) -> None:
        if shape not in ("full", "delta"):
            raise ConfigError(f"Polymarket US book shape must be 'full' or 'delta', not {shape!r}")
        if max_frame_bytes < 1 or max_levels < 1:
            raise ConfigError("max_frame_bytes and max_levels must be >= 1")
        self.shape: BookShape = shape
        self.max_frame_bytes = max_frame_bytes
        self.max_levels = max_levels
        self.create_on_data = create_on_data
        self.books: dict[str, MarketBook] = {}
        self.stats = ProtocolStats()
        self._resync: set[str] = set()
        self._log = ThrottledLog(log, "rejection")

    # -- book management ------------------------------------------------------------------

    def track(self, slug: str) -> MarketBook:
        """Ensure a (stale until its snapshot) book exists for ``slug``."""
        book = self.books.get(slug)
        if book is None:
            if not is_market_slug(slug):
                raise DecodeError(f"not a market slug: {slug[:90]!r}", field="market_slug")
            book = self.books[slug] = MarketBook(slug)
        return book

    def forget(self, slug: str) -> None:
        """Drop a market's book."""
        self.books.pop(slug, None)
        self._resync.discard(slug)

    def mark_stale(self, slugs: Iterable[str], reason: str, recv_ns: int = 0) -> list[Event]:
        """Books void until their next snapshot (reconnect, resubscribe): one event each."""
        out: list[Event] = []
        for slug in slugs:
            book = self.books.get(slug)
            if book is not None:
                book.mark_stale(reason, resnapshot=True)
                self._resync.discard(slug)
                out.append(BookChanged(slug, "reconnect", book.venue_ts_ms, recv_ns))
        return out

    def take_resyncs(self) -> set[str]:
        """Markets whose delta stream broke (rejected or crossed): resubscribe them."""
        out, self._resync = self._resync, set()
        return out

    # -- parsing --------------------------------------------------------------------------

    def feed(self, frame: str | bytes, recv_ns: int = 0) -> list[Event]:
        """Apply one received frame; return the resulting events. Never raises."""
        stats = self.stats
        stats.frames += 1
        out: list[Event] = []
        if len(frame) > self.max_frame_bytes:
            self._invalid(frame, f"oversized ({len(frame)} > {self.max_frame_bytes})")
            return out
        try:
            msg = DECODER.decode(frame)
        except msgspec.ValidationError as exc:
            self._reject(f"bad frame: {exc}", _slug_of(frame), recv_ns, out)
            return out
        except msgspec.DecodeError:
            self._invalid(frame, "not JSON")
            return out
        except HOSTILE_INPUT_ERRORS as exc:  # nested too deep, lone surrogate, ...
            self._invalid(frame, type(exc).__name__)
            return out
        if msg.market_data is not None:
            md = msg.market_data
            try:
                self._market_data(md, recv_ns, out)
            except _BadValue as exc:
                self._reject(str(exc), md.market_slug, recv_ns, out)
        elif msg.error is not None:
            stats.errors += 1
            err = msg.error
            text = err if isinstance(err, str) else _error_text(err)
            out.append(VenueErrorFrame(msg.request_id[:100], text[:200]))
            self._log("polymarket-us: venue error on %r: %s", msg.request_id[:100], text[:200])
        else:
            stats.other_frames += 1
        return out

    def _invalid(self, frame: str | bytes, why: str) -> None:
        self.stats.invalid_frames += 1
        self._log("polymarket-us: invalid frame (%s): %r", why, frame[:80])

    def _reject(self, why: str, slug: str | None, recv_ns: int, out: list[Event]) -> None:
        self.stats.rejected += 1
        book = self.books.get(slug) if slug else None
        if book is not None:
            book.mark_stale(f"rejected update: {why[:80]}")
            if self.shape == "delta":
                self._resync.add(book.slug)
            out.append(BookChanged(book.slug, "rejected", book.venue_ts_ms, recv_ns))
        self._log(
            "polymarket-us: rejected %s (stale: %s)", why[:200], book.slug[:60] if book else "none"
        )

    def _market_data(self, md: WsMarketData, recv_ns: int, out: list[Event]) -> None:
        slug = md.market_slug
        book = self.books.get(slug)
        if book is None:
            if not is_market_slug(slug):
                raise _BadValue(f"market_slug: not a slug: {slug[:90]!r}")
            if not self.create_on_data:
                self.stats.unknown_market += 1
                return
            book = self.books[slug] = MarketBook(slug)
        bids = _levels(md.bids, "bids", self.max_levels)
        asks = _levels(md.offers, "offers", self.max_levels)
        ts = _epoch_ms(md.transact_time) if md.transact_time else None
        if md.transact_time and ts is None:
            self.stats.bad_timestamps += 1
        if self.shape == "full" or book.awaiting_snapshot:
            if _unsorted(bids, descending=True) or _unsorted(asks, descending=False):
                self.stats.unsorted += 1
            book.replace({p: s for p, s in bids if s}, {p: s for p, s in asks if s})
            self.stats.snapshots += 1
            kind = "snapshot"
        else:
            for price, size in bids:
                book.set_bid(price, size)
            for price, size in asks:
                book.set_ask(price, size)
            self.stats.deltas += 1
            kind = "delta"
            if md.state is not None and book.stale_reason.startswith(_NOT_OPEN):
                book.stale = False  # open again: the levels kept flowing as deltas
                book.stale_reason = ""
        book.venue_ts_ms = ts
        book.received_ns = recv_ns
        if md.state is not None and md.state not in _OPEN_STATES:
            self.stats.not_open += 1
            book.mark_stale(f"{_NOT_OPEN} (state {str(md.state)[:40]})")
            kind = "not_open"
        elif book.crossed:
            self.stats.crossed += 1
            book.mark_stale("crossed book")
            if self.shape == "delta":
                self._resync.add(slug)
            kind = "crossed"
        out.append(BookChanged(slug, kind, ts, recv_ns))


def _unsorted(levels: list[tuple[Fixed, Fixed]], *, descending: bool) -> bool:
    prices = [p for p, _ in levels]
    return prices != sorted(prices, reverse=descending)


def _error_text(err: WsError) -> str:
    return f"{err.code}: {err.message}" if err.code is not None else err.message


def _slug_of(frame: str | bytes) -> str | None:
    """The slug a wrongly typed frame names, so the right book goes stale."""
    try:
        raw = msgspec.json.decode(frame)
    except (msgspec.DecodeError, *HOSTILE_INPUT_ERRORS):
        return None
    md = raw.get("market_data") if isinstance(raw, dict) else None
    slug = md.get("market_slug") if isinstance(md, dict) else None
    return slug if isinstance(slug, str) else None


# -- subscriptions ------------------------------------------------------------------------


@attrs.frozen
class SocketPlan:
    """What one socket must send now.

    Attributes:
        socket: the socket's index.
        frames: frames to send, in order (an unsubscribe of the old subscription, then a
            subscribe of the socket's whole market set).
        snapshot: markets whose books are void until their next snapshot (the feed passes
            them to :meth:`PolymarketUsProtocol.mark_stale`).
        request_id: the socket's subscription after the frames, ``""`` when none.
    """

    socket: int
    frames: tuple[str, ...]
    snapshot: tuple[str, ...]
    request_id: str


class _Socket:
    __slots__ = ("active", "dirty", "generation", "sent", "slugs")

    def __init__(self) -> None:
        self.slugs: dict[str, None] = {}  # insertion-ordered set
        self.active = ""  # the venue-side subscription's request id
        self.sent: tuple[str, ...] = ()
        self.generation = 0
        self.dirty = False


class Subscriptions:
    """Which market is on which socket, and what each socket must send (sans-io).

    Each socket carries one subscription of at most ``per_socket`` (<= 100) markets, so
    101 markets are two subscriptions on two sockets. A change to a socket's set (or a
    resync) is sent as an unsubscribe of its old subscription and one subscribe of its
    whole set; a new connection starts with none.

    Args:
        per_socket: markets per socket and subscription (1..100).
        debounce: ask the venue for debounced updates (the documented optional flag).
    """

    def __init__(self, *, per_socket: int = MAX_MARKETS_PER_SUBSCRIPTION, debounce: bool = False):
        if not 0 < per_socket <= MAX_MARKETS_PER_SUBSCRIPTION:
            raise ConfigError(
                f"markets per Polymarket US subscription must be 1..100: {per_socket}"
            )
        self.per_socket = per_socket
        self.debounce = debounce
        self._sockets: list[_Socket] = []
        self._where: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, slug: object) -> bool:
        return slug in self._where

    @property
    def socket_count(self) -> int:
        """Sockets in use (including ones emptied by removals)."""
        return len(self._sockets)

    def socket_of(self, slug: str) -> int | None:
        """The socket ``slug`` is on, if any."""
        return self._where.get(slug)

    def markets(self, socket: int) -> tuple[str, ...]:
        """The markets wanted on ``socket``."""
        return tuple(self._sockets[socket].slugs)

    def add(self, slugs: Iterable[str]) -> set[int]:
        """Place new markets on the first sockets with room; returns the sockets changed."""
        changed: set[int] = set()
        for slug in slugs:
            if slug in self._where:
                continue
            if not is_market_slug(slug):
                raise DecodeError(f"not a market slug: {slug[:90]!r}", field="market_slug")
            index = next(
                (i for i, s in enumerate(self._sockets) if len(s.slugs) < self.per_socket),
                None,
            )
            if index is None:
                index = len(self._sockets)
                self._sockets.append(_Socket())
            self._sockets[index].slugs[slug] = None
            self._where[slug] = index
            changed.add(index)
        return changed

    def remove(self, slugs: Iterable[str]) -> set[int]:
        """Take markets off their sockets; returns the sockets changed."""
        changed: set[int] = set()
        for slug in slugs:
            index = self._where.pop(slug, None)
            if index is not None:
                del self._sockets[index].slugs[slug]
                changed.add(index)
        return changed

    def resync(self, slugs: Iterable[str]) -> set[int]:
        """Force a fresh subscription (and snapshots) for these markets' sockets."""
        changed: set[int] = set()
        for slug in slugs:
            index = self._where.get(slug)
            if index is not None:
                self._sockets[index].dirty = True
                changed.add(index)
        return changed

    def connected(self, socket: int) -> SocketPlan:
        """A (re)connected socket: no subscription on the venue yet; subscribe its set."""
        sock = self._sockets[socket]
        sock.active = ""
        sock.sent = ()
        return self.plan(socket)

    def plan(self, socket: int) -> SocketPlan:
        """The frames that bring ``socket``'s venue-side subscription to its wanted set."""
        sock = self._sockets[socket]
        wanted = tuple(sock.slugs)
        if wanted == sock.sent and not sock.dirty and (sock.active or not wanted):
            return SocketPlan(socket, (), (), sock.active)
        frames: list[str] = []
        if sock.active:
            frames.append(unsubscribe_frame(sock.active))
            sock.active = ""
        if wanted:
            sock.generation += 1
            sock.active = f"md-{socket}-{sock.generation}"
            frames.append(subscribe_frame(sock.active, wanted, debounce=self.debounce))
        sock.sent = wanted
        sock.dirty = False
        return SocketPlan(socket, tuple(frames), wanted, sock.active)
