"""Sans-io Kalshi WebSocket v2 protocol: text frames in, typed events and commands out.

No sockets, no Trio: the feed feeds :meth:`KalshiProtocol.receive` with each text frame and
sends whatever :meth:`KalshiProtocol.data_to_send` returns. Everything that can go wrong on
the wire is decided here, synchronously and testably:

- command ids count up from 1 per socket (:meth:`connection_made` resets them);
- ``seq`` is tracked PER SID (one counter shared by every ticker on a subscription), and
  ``ok`` / ``unsubscribed`` frames consume a number too. A gap invalidates every book on that
  sid and queues ``update_subscription``/``get_snapshot`` for all its tickers (rate-limited;
  :meth:`poll` retries a resync whose snapshots never came). A bare re-``subscribe`` would
  only earn an ``ok`` and no snapshot, so it is never used to resync;
- errors 10 and 25 kill a subscription: its sids are unsubscribed (and remembered as
  superseded, so late frames from them are dropped and counted) and a fresh ``subscribe``
  is sent, which yields a new sid and new snapshots;
- a ``ticker`` frame is a free cross-check of the book: a mismatch marks it stale until a
  snapshot (requested at once) replaces it.

Hostile input never escapes :meth:`KalshiProtocol.receive`, the one decode boundary:
bytes that are not JSON or that make the decoder itself fail (nesting past the recursion
limit, a lone surrogate, a >4,300-digit integer) are counted in ``stats.rejected`` and
logged (throttled) before any state is touched; a malformed frame of a known type is
rejected the same way and treated as a gap on its sid. Values are validated before a book
changes (timestamps are 0..10**16 ms, counts below 10**15 contracts).

The ``orderbook_delta`` path (decode → seq check → book update → event) is the hot path;
keep it free of allocations beyond the decoded struct and one event.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import msgspec

from arbees.errors import HOSTILE_INPUT_ERRORS, DecodeError
from arbees.kalshi.book import DEFAULT_DEPTH, KalshiBook
from arbees.kalshi.commands import CommandQueue
from arbees.kalshi.convert import COUNTS, PRICES, remember, ticker_update, trade_event
from arbees.kalshi.events import (
    BookChanged,
    BooksStale,
    CommandOk,
    KalshiEvent,
    KalshiStats,
    MarketLifecycle,
    SubscriptionEnded,
    SubscriptionStarted,
    VenueErrorReply,
)
from arbees.kalshi.levels import parse_count, parse_levels, parse_price_field
from arbees.kalshi.wire import (
    FRAME_DECODER,
    DeltaFrame,
    ErrorFrame,
    EventFeeUpdateFrame,
    EventLifecycleFrame,
    LifecycleFrame,
    OkFrame,
    SnapshotFrame,
    SubscribedFrame,
    TickerFrame,
    TradeFrame,
    UnsubscribedFrame,
)
from arbees.money import ONE
from arbees.obs.throttle import ThrottledLog

__all__ = ["BOOK_CHANNEL", "KNOWN_TYPES", "TERMINAL_ERROR_CODES", "KalshiProtocol"]

log = logging.getLogger(__name__)

BOOK_CHANNEL = "orderbook_delta"
TICKER_CHANNEL = "ticker"
TERMINAL_ERROR_CODES = frozenset({10, 25})
KNOWN_TYPES = frozenset(
    {
        "orderbook_delta",
        "orderbook_snapshot",
        "ticker",
        "trade",
        "market_lifecycle_v2",
        "event_lifecycle",
        "event_fee_update",
        "subscribed",
        "ok",
        "unsubscribed",
        "error",
    }
)


class _Sub:
    """One live subscription on this socket."""

    __slots__ = ("channel", "last_resync", "last_seq", "resync_pending", "sid", "tickers")

    def __init__(self, sid: int, channel: str, tickers: Iterable[str]) -> None:
        self.sid = sid
        self.channel = channel
        self.tickers: set[str] = set(tickers)
        self.last_seq = 0
        self.last_resync = -1e18
        self.resync_pending: set[str] = set()


class KalshiProtocol:
    """The Kalshi v2 market-data state machine for one logical feed (survives reconnects).

    Args:
        tickers: market tickers to keep books for.
        cross_check: also subscribe ``ticker`` and compare it with the books.
        resync_interval: minimum seconds between two resync commands for one sid.
        resync_timeout: re-request a snapshot if it has not come after this long.
        clock: monotonic seconds (injected for tests).
        auto_track: replay mode — adopt sids and tickers first seen in frames (a recording
            holds what was received, not what was subscribed).

    Typical use (the feed does this)::

        proto = KalshiProtocol(["KXNBAGAME-26OCT20OKCSAS-OKC"])
        proto.connection_made()
        for text in proto.data_to_send(): await ws.send_message(text)
        events = proto.receive(frame_text, received_ns=time.time_ns())
    """

    def __init__(
        self,
        tickers: Iterable[str] = (),
        *,
        cross_check: bool = True,
        depth: int = DEFAULT_DEPTH,
        resync_interval: float = 1.0,
        resync_timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        auto_track: bool = False,
    ) -> None:
        self.wanted: set[str] = set(tickers)
        self.auto_track = auto_track
        self.cross_check = cross_check
        self.depth = depth
        self.resync_interval = resync_interval
        self.resync_timeout = resync_timeout
        self._clock = clock
        self.stats = KalshiStats()
        self.books: dict[str, KalshiBook] = {t: KalshiBook(t) for t in self.wanted}
        self._cmds = CommandQueue()
        self._subs: dict[int, _Sub] = {}
        self._book_sid: dict[str, int] = {}
        self._superseded: set[int] = set()
        self._connected = False
        self._log = ThrottledLog(log, "rejection")

    # ------------------------------------------------------------------ commands
    def subscribe(self, channels: Iterable[str], tickers: Iterable[str]) -> int:
        """Queue ``subscribe`` (``use_yes_price: false`` pinned); returns the command id."""
        return self._cmds.subscribe(channels, tickers)

    def unsubscribe(self, sids: Iterable[int]) -> int:
        """Queue ``unsubscribe``; the sids become superseded (late frames dropped)."""
        sid_list = sorted(sids)
        for sid in sid_list:
            self._drop_sub(sid)
        return self._cmds.unsubscribe(sid_list)

    def update_subscription(self, sid: int, tickers: Iterable[str], action: str) -> int:
        """Queue ``update_subscription`` (``add_markets``/``delete_markets``/``get_snapshot``)."""
        return self._cmds.update_subscription(sid, tickers, action)

    def list_subscriptions(self) -> int:
        """Queue ``list_subscriptions`` (a cheap keepalive whose ``ok`` proves the link lives)."""
        return self._cmds.list_subscriptions()

    def has_data_to_send(self) -> bool:
        return bool(self._cmds)

    def data_to_send(self) -> list[str]:
        """Drain the queued command frames (JSON text), oldest first."""
        return self._cmds.drain()

    def _channels(self) -> list[str]:
        return [BOOK_CHANNEL, TICKER_CHANNEL] if self.cross_check else [BOOK_CHANNEL]

    # ------------------------------------------------------------------ lifecycle
    def connection_made(self) -> list[KalshiEvent]:
        """A new socket: reset ids/sids, invalidate every book, queue the subscribe."""
        self._cmds.reset()
        self._subs.clear()
        self._book_sid.clear()
        self._superseded.clear()
        self._connected = True
        for book in self.books.values():
            book.invalidate("reconnect")
        if self.wanted:
            self.subscribe(self._channels(), self.wanted)
        return [BooksStale(0, tuple(sorted(self.books)), "reconnect")] if self.books else []

    def connection_lost(self) -> list[KalshiEvent]:
        """The socket is gone: every book is stale until the next connection's snapshots."""
        self._connected = False
        return self.invalidate_all("disconnected")

    def invalidate_all(self, reason: str) -> list[KalshiEvent]:
        """Mark every book stale and awaiting a snapshot (e.g. the link went silent)."""
        for book in self.books.values():
            book.invalidate(reason)
        return [BooksStale(0, tuple(sorted(self.books)), reason)] if self.books else []

    def add_tickers(self, tickers: Iterable[str]) -> None:
        """Track more markets (``add_markets`` on live subscriptions, else a new subscribe)."""
        new = set(tickers) - self.wanted
        if not new:
            return
        self.wanted |= new
        for t in new:
            self.books[t] = KalshiBook(t)
        if not self._connected:
            return
        subs = {s.channel: s for s in self._subs.values()}
        channels = self._channels()
        if all(ch in subs for ch in channels):
            for ch in channels:
                self.update_subscription(subs[ch].sid, new, "add_markets")
                subs[ch].tickers |= new
                if ch == BOOK_CHANNEL:
                    for t in new:
                        self._book_sid[t] = subs[ch].sid
        else:
            self.subscribe(channels, new)

    def remove_tickers(self, tickers: Iterable[str]) -> None:
        """Stop tracking markets (``delete_markets``) and drop their books."""
        gone = set(tickers) & self.wanted
        if not gone:
            return
        self.wanted -= gone
        for t in gone:
            self.books.pop(t, None)
            self._book_sid.pop(t, None)
        for sub in list(self._subs.values()):
            mine = sub.tickers & gone
            if not mine:
                continue
            sub.tickers -= mine
            if sub.tickers:
                self.update_subscription(sub.sid, mine, "delete_markets")
            else:
                self.unsubscribe([sub.sid])

    def book_sid(self, ticker: str) -> int | None:
        """The sid carrying ``ticker``'s order book on this socket, if subscribed."""
        return self._book_sid.get(ticker)

    def sid_info(self, sid: int) -> tuple[str, frozenset[str]] | None:
        """``(channel, tickers)`` of a live sid."""
        sub = self._subs.get(sid)
        return None if sub is None else (sub.channel, frozenset(sub.tickers))

    # ------------------------------------------------------------------ resync
    def _drop_sub(self, sid: int) -> None:
        sub = self._subs.pop(sid, None)
        self._superseded.add(sid)
        if sub is not None and sub.channel == BOOK_CHANNEL:
            for t in sub.tickers:
                if self._book_sid.get(t) == sid:
                    del self._book_sid[t]

    def _invalidate_sid(self, sub: _Sub, reason: str, received_ns: int) -> list[KalshiEvent]:
        tickers = sorted(t for t in sub.tickers if t in self.books)
        for t in tickers:
            self.books[t].invalidate(reason)
        self._request_snapshot(sub, tickers)
        return [BooksStale(sub.sid, tuple(tickers), reason, received_ns)]

    def _request_snapshot(self, sub: _Sub, tickers: Iterable[str]) -> None:
        sub.resync_pending.update(tickers)
        self.poll()

    def poll(self, now: float | None = None) -> None:
        """Send due resyncs (rate-limited per sid) and retry ones whose snapshots never came."""
        now = self._clock() if now is None else now
        for sub in self._subs.values():
            if sub.channel != BOOK_CHANNEL:
                continue
            if not sub.resync_pending and now - sub.last_resync >= self.resync_timeout:
                waiting = {t for t in sub.tickers if t in self.books and self.books[t].stale}
                if waiting and sub.last_seq > 0:
                    sub.resync_pending = waiting
            if sub.resync_pending and now - sub.last_resync >= self.resync_interval:
                tickers = sorted(sub.resync_pending & sub.tickers)
                sub.resync_pending = set()
                sub.last_resync = now
                if tickers:
                    self.stats.resyncs += 1
                    log.info("kalshi: resync sid %d (%d tickers)", sub.sid, len(tickers))
                    self.update_subscription(sub.sid, tickers, "get_snapshot")

    def _resubscribe(self, subs: list[_Sub], reason: str) -> list[KalshiEvent]:
        events: list[KalshiEvent] = []
        tickers: set[str] = set()
        channels: set[str] = set()
        for sub in subs:
            channels.add(sub.channel)
            tickers |= sub.tickers
            if sub.channel == BOOK_CHANNEL:
                bad = sorted(t for t in sub.tickers if t in self.books)
                for t in bad:
                    self.books[t].invalidate(reason)
                events.append(BooksStale(sub.sid, tuple(bad), reason))
        if subs:
            self.unsubscribe([s.sid for s in subs])
        tickers &= self.wanted
        if tickers and channels:
            self.stats.resyncs += 1
            self.subscribe(sorted(channels), tickers)
        return events

    # ------------------------------------------------------------------ receiving
    def receive(self, text: str | bytes, received_ns: int = 0) -> list[KalshiEvent]:
        """Process one text frame; returns the events it produced (often one, maybe none).

        Never raises on any input: this is the one decode boundary. Bytes that are not
        JSON, or that make the decoder itself fail (nesting deeper than the recursion
        limit, a lone surrogate, an integer past Python's 4,300-digit limit), are a
        counted, logged rejection before any state is touched.
        """
        self.stats.frames += 1
        try:
            try:
                frame = FRAME_DECODER.decode(text)
            except msgspec.ValidationError:
                return self._malformed(msgspec.json.decode(text), text, received_ns)
        except HOSTILE_INPUT_ERRORS as exc:  # msgspec.DecodeError is a ValueError
            self.stats.rejected += 1
            self._log("kalshi: rejected undecodable frame (%s): %.120r", type(exc).__name__, text)
            return []
        if type(frame) is DeltaFrame:
            return self._on_delta(frame, received_ns)
        return self._dispatch(frame, received_ns)

    def _on_delta(self, f: DeltaFrame, received_ns: int) -> list[KalshiEvent]:
        sub = self._subs.get(f.sid)
        if sub is None:
            sub = self._adopt(f.sid, f.seq, BOOK_CHANNEL)
            if sub is None:
                return self._orphan(f.sid)
        seq = f.seq
        events: list[KalshiEvent] = []
        if seq != sub.last_seq + 1:
            if seq <= sub.last_seq:
                self.stats.old_seq += 1
                return events
            events = self._gap(sub, seq, received_ns)
        sub.last_seq = seq
        m = f.msg
        book = self.books.get(m.market_ticker)
        if book is None:
            self.stats.unknown_ticker += 1
            if self.auto_track:
                self._track(sub, m.market_ticker)
            return events
        # Validated-value caches: a venue uses a few hundred distinct strings.
        price = PRICES.get(m.price_dollars)
        delta = COUNTS.get(m.delta_fp)
        if price is None or delta is None:
            try:
                price = parse_price_field(m.price_dollars, m.price, "price_dollars")
                delta = parse_count(m.delta_fp, m.delta, "delta_fp")
            except DecodeError as exc:
                return events + self._reject_on_sid(sub, exc, received_ns)
            remember(m.price_dollars, price, m.delta_fp, delta)
        if book.awaiting_snapshot:
            self.stats.skipped_awaiting_snapshot += 1
            return events
        if not book.apply_delta(m.side == "yes", price, delta):
            self.stats.corrupt += 1
            log.warning("kalshi: %s level %d went negative on sid %d", book.ticker, price, f.sid)
            return events + self._invalidate_sid(sub, "corrupt", received_ns)
        self.stats.deltas += 1
        book.seq = seq
        book.venue_ts_ms = m.ts_ms
        book.received_ns = received_ns
        events.append(BookChanged(book.ticker, f.sid, seq, "delta", m.ts_ms, received_ns))
        return events

    def _adopt(self, sid: int, seq: int | None, channel: str | None) -> _Sub | None:
        """Replay mode: take a never-subscribed sid at face value, seq baseline included."""
        if not self.auto_track or channel is None or sid in self._superseded:
            return None
        sub = _Sub(sid, channel, ())
        sub.last_seq = seq - 1 if seq else 0
        self._subs[sid] = sub
        return sub

    def _track(self, sub: _Sub, ticker: str) -> KalshiBook:
        book = self.books[ticker] = KalshiBook(ticker)
        self.wanted.add(ticker)
        sub.tickers.add(ticker)
        self._book_sid[ticker] = sub.sid
        return book

    def _orphan(self, sid: int) -> list[KalshiEvent]:
        if sid in self._superseded:
            self.stats.superseded += 1
        else:
            self.stats.unknown_sid += 1
        return []

    def _gap(self, sub: _Sub, seq: int, received_ns: int) -> list[KalshiEvent]:
        self.stats.gaps += 1
        log.warning(
            "kalshi: seq gap on sid %d (%s): expected %d, got %d",
            sub.sid,
            sub.channel,
            sub.last_seq + 1,
            seq,
        )
        if sub.channel != BOOK_CHANNEL:
            return []
        return self._invalidate_sid(sub, "seq gap", received_ns)

    def _seq(
        self, sid: int | None, seq: int | None, received_ns: int, channel: str | None = None
    ) -> list[KalshiEvent] | None:
        """Seq check for non-delta frames; None means drop the frame."""
        if sid is None:
            return []
        sub = self._subs.get(sid)
        if sub is None:
            sub = self._adopt(sid, seq, channel)
            if sub is None:
                self._orphan(sid)
                return None
        if seq is None:
            return []
        if seq <= sub.last_seq:
            self.stats.old_seq += 1
            return None
        events = self._gap(sub, seq, received_ns) if seq != sub.last_seq + 1 else []
        sub.last_seq = seq
        return events

    def _reject_on_sid(self, sub: _Sub, exc: Exception, received_ns: int) -> list[KalshiEvent]:
        self.stats.rejected += 1
        self._log("kalshi: rejected frame on sid %d: %s", sub.sid, exc)
        if sub.channel != BOOK_CHANNEL:
            return []
        return self._invalidate_sid(sub, "rejected frame", received_ns)

    def _malformed(self, obj: object, text: str | bytes, received_ns: int) -> list[KalshiEvent]:
        """Valid JSON the typed decode refused: unknown type (ignored) or a bad known one."""
        kind = obj.get("type") if isinstance(obj, dict) else None
        if isinstance(kind, str) and kind not in KNOWN_TYPES:
            self.stats.unknown_types += 1
            log.debug("kalshi: ignored frame of unknown type %r", kind[:40])
            return []
        self.stats.rejected += 1
        self._log("kalshi: rejected malformed %.40r frame: %.160r", kind, text)
        sid = obj.get("sid") if isinstance(obj, dict) else None
        seq = obj.get("seq") if isinstance(obj, dict) else None
        if type(sid) is int and sid in self._subs:
            sub = self._subs[sid]
            if type(seq) is int and seq > sub.last_seq:
                sub.last_seq = seq
            if sub.channel == BOOK_CHANNEL:
                return self._invalidate_sid(sub, "rejected frame", received_ns)
        return []

    def _dispatch(self, frame: object, received_ns: int) -> list[KalshiEvent]:
        if type(frame) is SnapshotFrame:
            return self._on_snapshot(frame, received_ns)
        if type(frame) is TickerFrame:
            return self._on_ticker(frame, received_ns)
        if type(frame) is TradeFrame:
            return self._on_trade(frame, received_ns)
        if type(frame) is SubscribedFrame:
            return self._on_subscribed(frame)
        if type(frame) is OkFrame:
            return self._on_ok(frame, received_ns)
        if type(frame) is UnsubscribedFrame:
            self._subs.pop(frame.sid, None)
            self._superseded.add(frame.sid)
            return [SubscriptionEnded(frame.sid, frame.id)]
        if type(frame) is ErrorFrame:
            return self._on_error(frame)
        if type(frame) in (LifecycleFrame, EventLifecycleFrame, EventFeeUpdateFrame):
            return self._on_lifecycle(frame, received_ns)  # type: ignore[arg-type]
        raise AssertionError(f"unhandled frame {type(frame).__name__}")  # pragma: no cover

    def _on_snapshot(self, f: SnapshotFrame, received_ns: int) -> list[KalshiEvent]:
        events = self._seq(f.sid, f.seq, received_ns, BOOK_CHANNEL)
        if events is None:
            return []
        m = f.msg
        sub = self._subs[f.sid]
        book = self.books.get(m.market_ticker)
        if book is None:
            if not self.auto_track:
                self.stats.unknown_ticker += 1
                return events
            book = self._track(sub, m.market_ticker)
        try:
            yes = parse_levels(m.yes_dollars_fp, m.yes_dollars, m.yes, "yes_dollars_fp")
            no = parse_levels(m.no_dollars_fp, m.no_dollars, m.no, "no_dollars_fp")
        except DecodeError as exc:
            return events + self._reject_on_sid(sub, exc, received_ns)
        book.apply_snapshot(yes, no, market_id=m.market_id)
        sub.resync_pending.discard(m.market_ticker)
        self.stats.snapshots += 1
        book.seq = f.seq
        book.venue_ts_ms = m.ts_ms
        book.received_ns = received_ns
        events.append(BookChanged(book.ticker, f.sid, f.seq, "snapshot", m.ts_ms, received_ns))
        return events

    def _on_ticker(self, f: TickerFrame, received_ns: int) -> list[KalshiEvent]:
        events = self._seq(f.sid, f.seq, received_ns, TICKER_CHANNEL)
        if events is None:
            return []
        m = f.msg
        try:
            update = ticker_update(m, received_ns)
        except DecodeError as exc:
            self.stats.rejected += 1
            self._log("kalshi: rejected ticker frame: %s", exc)
            return events
        events.append(update)
        book = self.books.get(m.market_ticker)
        if self.cross_check and book is not None and not book.stale:
            events += self._cross_check(book, update.yes_bid, update.yes_ask, received_ns)
        return events

    def _cross_check(
        self, book: KalshiBook, bid: int | None, ask: int | None, received_ns: int
    ) -> list[KalshiEvent]:
        best_bid = book.best_yes_bid
        best_ask = book.yes_ask
        bad = (bid and best_bid is not None and bid != best_bid.price) or (
            ask and ask < ONE and best_ask is not None and ask != best_ask.price
        )
        if not bad:
            return []
        self.stats.ticker_mismatches += 1
        log.warning(
            "kalshi: %s ticker says bid/ask %s/%s, book has %s/%s: marked stale",
            book.ticker,
            bid,
            ask,
            best_bid and best_bid.price,
            best_ask and best_ask.price,
        )
        book.mark_stale("ticker mismatch")
        sid = self._book_sid.get(book.ticker)
        if sid is not None and sid in self._subs:
            self._request_snapshot(self._subs[sid], [book.ticker])
        return [BooksStale(sid or 0, (book.ticker,), "ticker mismatch", received_ns)]

    def _on_trade(self, f: TradeFrame, received_ns: int) -> list[KalshiEvent]:
        events = self._seq(f.sid, f.seq, received_ns, "trade")
        if events is None:
            return []
        try:
            events.append(trade_event(f.msg, received_ns))
        except DecodeError as exc:
            self.stats.rejected += 1
            self._log("kalshi: rejected trade frame: %s", exc)
        return events

    def _on_lifecycle(
        self, f: LifecycleFrame | EventLifecycleFrame | EventFeeUpdateFrame, received_ns: int
    ) -> list[KalshiEvent]:
        events = self._seq(f.sid, f.seq, received_ns)
        if events is None:
            return []
        msg = f.msg
        ticker = msg.get("market_ticker") or msg.get("event_ticker") or ""
        event_type = msg.get("event_type") or ""
        kind = type(f).__struct_config__.tag
        events.append(MarketLifecycle(str(kind), str(ticker), str(event_type), msg))
        return events

    def _on_subscribed(self, f: SubscribedFrame) -> list[KalshiEvent]:
        sid, channel = f.msg.sid, f.msg.channel
        cmd = self._cmds.lookup(f.id)
        tickers = cmd[1].get("market_tickers", []) if cmd else []
        sub = _Sub(sid, channel, tickers)
        self._subs[sid] = sub
        self._superseded.discard(sid)
        if channel == BOOK_CHANNEL:
            for t in tickers:
                self._book_sid[t] = sid
        return [SubscriptionStarted(channel, sid, f.id)]

    def _on_ok(self, f: OkFrame, received_ns: int) -> list[KalshiEvent]:
        events = self._seq(f.sid, f.seq, received_ns)
        if events is None:
            return []
        tickers: tuple[str, ...] = ()
        if isinstance(f.msg, dict):
            raw = f.msg.get("market_tickers")
            if isinstance(raw, list):
                tickers = tuple(str(t) for t in raw)
        events.append(CommandOk(f.id, f.sid, tickers))
        return events

    def _on_error(self, f: ErrorFrame) -> list[KalshiEvent]:
        self.stats.errors += 1
        code = f.msg.code
        cmd = self._cmds.lookup(f.id)
        cmd_name = cmd[0] if cmd else "?"
        terminal = code in TERMINAL_ERROR_CODES
        events: list[KalshiEvent] = []
        if terminal:
            self.stats.terminal_errors += 1
            sid = f.sid if f.sid is not None else f.msg.sid
            if sid is not None:
                affected = [self._subs[sid]] if sid in self._subs else []
            else:
                affected = [s for s in self._subs.values() if s.channel == BOOK_CHANNEL]
            log.warning(
                "kalshi: terminal error %d (%s): resubscribing %d sids",
                code,
                f.msg.msg[:80],
                len(affected),
            )
            events = self._resubscribe(affected, f"error {code}")
        elif cmd_name == "update_subscription" and code == 7:
            # Our get_snapshot/add_markets hit a sid the server no longer has.
            sids = cmd[1].get("sids", []) if cmd else []
            affected = [self._subs[s] for s in sids if s in self._subs]
            events = self._resubscribe(affected, f"error {code}")
        elif cmd_name == "unsubscribe" and code == 7:
            log.debug("kalshi: unsubscribe of an already dead sid (error 7)")
        else:
            log.warning(
                "kalshi: error %d for %s command %s: %s", code, cmd_name, f.id, f.msg.msg[:120]
            )
        return [VenueErrorReply(f.id, code, f.msg.msg, terminal), *events]
