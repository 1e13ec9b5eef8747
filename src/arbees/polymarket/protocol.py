"""The Polymarket market channel, sans-io: raw frames in, books and typed events out.

:class:`PolymarketProtocol` is a plain object (no sockets, no Trio) that owns one
:class:`~arbees.polymarket.book.TokenBook` per token. ``feed(frame, recv_ns)`` parses one
received WebSocket message — a JSON object, a JSON array of objects, or plain text such as
``PONG`` / ``NO NEW ASSETS`` — applies it to the books and returns the typed events
(:mod:`arbees.polymarket.events`). Everything is testable synchronously from sample frames,
and the same class folds recordings offline.

Fast path: msgspec decodes the frame straight into :class:`~arbees.polymarket.wire.WsEvent`
structs; price strings go through a small validated cache. If the typed decode fails (a
number where a string belongs, a list where an object belongs, ...), a slow path decodes the
frame generically and converts element by element, so one bad event in an array never
costs the valid ones.

Rejection policy (never a crash, never a silently wrong book, nothing valid lost):

* A frame that is not JSON (truncated, NaN literal, ...) and not a known text frame is
  counted (``invalid_frames``), logged and dropped. It cannot be attributed to a token, so
  no book changes. So is a hostile one that makes the decoder itself fail (nesting deeper
  than the recursion limit, a lone surrogate, an integer past Python's 4,300-digit limit):
  :meth:`PolymarketProtocol.feed` is the one decode boundary and never raises
  (:data:`~arbees.errors.HOSTILE_INPUT_ERRORS`). Decoding happens before any book is
  touched, and every event is validated whole before it is applied.
* An event with a bad value (price outside (0, 1), negative or malformed size, unknown
  side, non-digit id or timestamp, a snapshot listing one price twice) is rejected **for
  the tokens it touches**: none of its entries for that token are applied (no partial
  update), and that token's book is marked stale until its next ``book`` snapshot, since
  the venue's state moved on without us.
  Entries for *other* tokens in the same ``price_change`` are valid and applied. The
  rejection is counted (``rejected``), logged, and surfaced as a ``BookChanged(kind=
  "rejected")`` so a consumer sees the stale view.
* Unknown event types are counted (``unknown_events``) and ignored; ``price_change`` for a
  token without a book is counted (``unknown_asset``) and ignored.
* After a ``price_change``, the local top of book is compared with the ``best_bid`` /
  ``best_ask`` the venue attached to the token's last entry (``"0"`` = no bid, ``"1"`` = no
  ask). A mismatch is counted (``mismatches``) and marks the book stale.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Final

import attrs
import msgspec

from arbees.errors import HOSTILE_INPUT_ERRORS, DecodeError
from arbees.money import Fixed
from arbees.obs.throttle import ThrottledLog
from arbees.polymarket.book import TokenBook
from arbees.polymarket.events import (
    BestBidAsk,
    BookChanged,
    Event,
    LastTrade,
    MarketResolved,
    NewMarket,
    TickSizeChanged,
)
from arbees.polymarket.values import (
    TEXT_FRAMES,
    BadValue,
    best_price,
    epoch_ms,
    is_token_id,
    level_price,
    level_prices,
    optional_fixed,
    required_fixed,
    sizes,
)
from arbees.polymarket.values import size as parse_size
from arbees.polymarket.wire import DECODER, WsChange, WsEvent, WsLevel

__all__ = ["TEXT_FRAMES", "PolymarketProtocol", "ProtocolStats", "is_token_id"]

log = logging.getLogger(__name__)

_BOOK_EVENTS: Final = frozenset({"book", "price_change", "tick_size_change"})
_MAX_BPS_DIGITS: Final = 5  # 10000 bps = 100 %


@attrs.define
class ProtocolStats:
    """Counters of one protocol instance.

    Attributes:
        frames: messages fed.
        text_frames: plain-text frames (``PONG``, ``NO NEW ASSETS``).
        events: JSON events dispatched (valid or not).
        books: ``book`` snapshots applied.
        price_changes: ``price_change`` events applied (current format).
        legacy_price_changes: pre-2025 ``price_change`` events applied.
        last_trades: ``last_trade_price`` events.
        tick_size_changes: ``tick_size_change`` events.
        best_bid_asks: ``best_bid_ask`` events.
        new_markets: ``new_market`` events.
        resolved: ``market_resolved`` events.
        unknown_events: events of an unknown type (ignored).
        invalid_frames: frames that are neither JSON nor a known text frame.
        rejected: events (or a token's part of one) rejected for a bad value.
        unknown_asset: ``price_change`` entries for a token without a book.
        mismatches: best bid/ask cross-check failures.
        crossed: updates that left a book crossed (bid >= ask).
        slow_path: frames that needed the per-element slow path.
    """

    frames: int = 0
    text_frames: int = 0
    events: int = 0
    books: int = 0
    price_changes: int = 0
    legacy_price_changes: int = 0
    last_trades: int = 0
    tick_size_changes: int = 0
    best_bid_asks: int = 0
    new_markets: int = 0
    resolved: int = 0
    unknown_events: int = 0
    invalid_frames: int = 0
    rejected: int = 0
    unknown_asset: int = 0
    mismatches: int = 0
    crossed: int = 0
    slow_path: int = 0


class PolymarketProtocol:
    """Parse market-channel frames and keep one book per token.

    Args:
        check_best: cross-check each ``price_change`` against the venue's best bid/ask.
        create_on_book: create a book for a ``book`` snapshot of an untracked token
            (True for replay; a feed tracks its tokens explicitly either way).
    """

    def __init__(self, *, check_best: bool = True, create_on_book: bool = True) -> None:
        self.books: dict[str, TokenBook] = {}
        self.stats = ProtocolStats()
        self.check_best = check_best
        self.create_on_book = create_on_book
        self._log = ThrottledLog(log, "rejection")

    # -- book management ------------------------------------------------------------------

    def track(self, token: str, market: str = "") -> TokenBook:
        """Ensure a (stale, empty until its snapshot) book exists for ``token``."""
        book = self.books.get(token)
        if book is None:
            if not is_token_id(token):
                raise DecodeError(f"not a token id: {token[:90]!r}", field="asset_id")
            book = self.books[token] = TokenBook(token, market)
        return book

    def forget(self, token: str) -> None:
        """Drop a token's book."""
        self.books.pop(token, None)

    def mark_stale(self, tokens: Iterable[str], reason: str, recv_ns: int = 0) -> list[Event]:
        """Mark books stale (e.g. on reconnect); returns a ``BookChanged`` per known token."""
        out: list[Event] = []
        for token in tokens:
            book = self.books.get(token)
            if book is not None:
                book.mark_stale(reason)
                out.append(BookChanged(token, "reconnect", book.venue_ts_ms, recv_ns))
        return out

    # -- parsing --------------------------------------------------------------------------

    def feed(self, frame: str | bytes, recv_ns: int = 0) -> list[Event]:
        """Apply one received frame; return the resulting events (possibly none).

        Never raises on any input: this is the one decode boundary of the protocol.
        """
        stats = self.stats
        stats.frames += 1
        out: list[Event] = []
        try:
            try:
                decoded = DECODER.decode(frame)
            except msgspec.ValidationError:
                stats.slow_path += 1
                raw = msgspec.json.decode(frame)
                decoded = None
        except msgspec.DecodeError:
            self._not_json(frame)
            return out
        except HOSTILE_INPUT_ERRORS as exc:  # nested too deep, lone surrogate, ...
            self._undecodable(frame, exc)
            return out
        if decoded is None:
            self._slow_path(raw, recv_ns, out)
        elif type(decoded) is list:
            for ev in decoded:
                self._dispatch(ev, recv_ns, out)
        else:
            self._dispatch(decoded, recv_ns, out)  # type: ignore[arg-type]
        return out

    def _not_json(self, frame: str | bytes) -> None:
        text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
        if text.strip() in TEXT_FRAMES:
            self.stats.text_frames += 1
            return
        self.stats.invalid_frames += 1
        self._log("polymarket: invalid frame (not JSON): %r", text[:80])

    def _undecodable(self, frame: str | bytes, exc: Exception) -> None:
        self.stats.invalid_frames += 1
        self._log(
            "polymarket: invalid frame (%s, %d chars): %r",
            type(exc).__name__,
            len(frame),
            frame[:80],
        )

    def _slow_path(self, raw: object, recv_ns: int, out: list[Event]) -> None:
        for item in raw if isinstance(raw, list) else [raw]:
            if not isinstance(item, dict):
                self.stats.events += 1
                self._reject(f"event is not an object: {type(item).__name__}", (), recv_ns, out)
                continue
            try:
                ev = msgspec.convert(item, WsEvent)
            except msgspec.ValidationError as exc:
                self.stats.events += 1
                tokens = _tokens_of(item) if _is_book_event(item.get("event_type")) else ()
                self._reject(f"bad event: {exc}", tokens, recv_ns, out)
                continue
            self._dispatch(ev, recv_ns, out)

    def _reject(self, why: str, tokens: Iterable[str], recv_ns: int, out: list[Event]) -> None:
        self.stats.rejected += 1
        hit = []
        for token in tokens:
            book = self.books.get(token)
            if book is not None:
                book.mark_stale(f"rejected update: {why[:80]}")
                out.append(BookChanged(token, "rejected", book.venue_ts_ms, recv_ns))
                hit.append(token[:12])
        self._log("polymarket: rejected %s (books marked stale: %s)", why[:200], hit or "none")

    def _dispatch(self, ev: WsEvent, recv_ns: int, out: list[Event]) -> None:
        self.stats.events += 1
        et = ev.event_type
        try:
            if et == "price_change":
                if ev.price_changes is not None:
                    self._price_change(ev, recv_ns, out)
                elif ev.changes is not None:
                    self._legacy_price_change(ev, recv_ns, out)
                else:
                    raise BadValue("price_change without price_changes/changes")
            elif et == "book":
                self._book(ev, recv_ns, out)
            elif et == "last_trade_price":
                self._last_trade(ev, out)
            elif et == "tick_size_change":
                self._tick_size_change(ev, recv_ns, out)
            elif et == "best_bid_ask":
                self._best_bid_ask(ev, out)
            elif et == "new_market":
                self._new_market(ev, out)
            elif et == "market_resolved":
                self._market_resolved(ev, recv_ns, out)
            else:
                self.stats.unknown_events += 1
                log.debug("polymarket: ignoring unknown event type %r", et[:40])
        except BadValue as exc:
            tokens = _event_tokens(ev) if et in _BOOK_EVENTS else ()
            self._reject(f"{et or '?'}: {exc}", tokens, recv_ns, out)

    def _book(self, ev: WsEvent, recv_ns: int, out: list[Event]) -> None:
        token = ev.asset_id
        book = self.books.get(token)
        if book is None:
            if not is_token_id(token):
                raise BadValue(f"asset_id: not a token id: {token[:90]!r}")
            if not self.create_on_book:
                self.stats.unknown_asset += 1
                return
        ts = epoch_ms(ev.timestamp)
        bids = _snapshot_side(ev.bids, "bids")
        asks = _snapshot_side(ev.asks, "asks")
        tick = optional_fixed(ev.tick_size, "tick_size")
        last = optional_fixed(ev.last_trade_price, "last_trade_price")
        if book is None:
            book = self.books[token] = TokenBook(token, ev.market)
        book.replace(bids, asks)
        if ev.market and ev.market != book.market:  # (the same id: keep the string held)
            book.market = ev.market
        if tick is not None:
            book.tick_size = tick
        if last is not None:
            book.last_trade_price = last
        book.venue_ts_ms = ts
        book.received_ns = recv_ns
        self.stats.books += 1
        if book.crossed:
            self.stats.crossed += 1
            book.mark_stale("crossed snapshot")
            self._log("polymarket: crossed snapshot for %s…", token[:12])
        out.append(BookChanged(token, "book", ts, recv_ns))

    def _price_change(self, ev: WsEvent, recv_ns: int, out: list[Event]) -> None:
        # The hot path: validate every entry first (no partial update), then apply.
        t = ev.timestamp
        ts = int(t) if len(t) <= 16 and t.isdigit() and t.isascii() else epoch_ms(t)
        books = self.books
        prices = level_prices
        size_cache = sizes
        parsed: list[tuple[TokenBook, bool, Fixed, Fixed, WsChange]] = []
        try:
            for ch in ev.price_changes or ():
                book = books.get(ch.asset_id)
                if book is None:
                    self.stats.unknown_asset += 1
                    continue
                price = prices.get(ch.price)
                if price is None:
                    price = level_price(ch.price, "price")
                size = size_cache.get(ch.size)
                if size is None:
                    size = parse_size(ch.size, "size")
                side = ch.side
                if side == "BUY":
                    parsed.append((book, True, price, size, ch))
                elif side == "SELL":
                    parsed.append((book, False, price, size, ch))
                else:
                    raise BadValue(f"side: {side[:10]!r}")
        except BadValue:
            self._price_change_careful(ev, ts, recv_ns, out)
            return
        last: dict[TokenBook, WsChange] = {}
        for book, is_bid, price, size, ch in parsed:
            if is_bid:
                book.set_bid(price, size)
            else:
                book.set_ask(price, size)
            last[book] = ch
        check = self.check_best
        for book, ch in last.items():
            book.venue_ts_ms = ts
            book.received_ns = recv_ns
            if check and not book.stale:
                self._cross_check(book, ch)
            out.append(BookChanged(book.token, "price_change", ts, recv_ns))
        self.stats.price_changes += 1

    def _price_change_careful(
        self, ev: WsEvent, ts: int | None, recv_ns: int, out: list[Event]
    ) -> None:
        """Entry-by-entry variant: reject only the tokens whose entries are bad."""
        books = self.books
        parsed: list[tuple[TokenBook, bool, Fixed, Fixed]] = []
        last: dict[str, tuple[TokenBook, WsChange]] = {}
        bad: dict[str, str] | None = None
        for ch in ev.price_changes or ():
            token = ch.asset_id
            book = books.get(token)
            if book is None:
                continue  # counted by the fast path
            try:
                side = ch.side
                if side == "BUY":
                    is_bid = True
                elif side == "SELL":
                    is_bid = False
                else:
                    raise BadValue(f"side: {side[:10]!r}")
                parsed.append(
                    (
                        book,
                        is_bid,
                        level_price(ch.price, "price"),
                        parse_size(ch.size, "size"),
                    )
                )
                last[token] = (book, ch)
            except BadValue as exc:
                if bad is None:
                    bad = {}
                bad.setdefault(token, str(exc))
        for book, is_bid, price, size in parsed:
            if bad is not None and book.token in bad:
                continue
            if is_bid:
                book.set_bid(price, size)
            else:
                book.set_ask(price, size)
        check = self.check_best
        applied = 0
        for token, (book, ch) in last.items():
            if bad is not None and token in bad:
                continue
            applied += 1
            book.venue_ts_ms = ts
            book.received_ns = recv_ns
            if check and not book.stale:
                self._cross_check(book, ch)
            out.append(BookChanged(token, "price_change", ts, recv_ns))
        if applied:
            self.stats.price_changes += 1
        if bad is not None:
            for token, why in bad.items():
                self._reject(f"price_change: {why}", (token,), recv_ns, out)

    def _cross_check(self, book: TokenBook, ch: WsChange) -> None:
        bb, ba = ch.best_bid, ch.best_ask
        prices = level_prices
        try:
            if bb is None:
                ok = True
            elif bb == "0":
                ok = book.best_bid is None
            else:
                want = prices.get(bb)
                ok = (
                    want if want is not None else best_price(bb, "0", "best_bid")
                ) == book.best_bid
            if ok and ba is not None:
                if ba == "1":
                    ok = book.best_ask is None
                else:
                    want = prices.get(ba)
                    ok = (
                        want if want is not None else best_price(ba, "1", "best_ask")
                    ) == book.best_ask
        except BadValue as exc:
            self._reject(f"price_change: {exc}", (), 0, [])
            book.mark_stale("unreadable best_bid/best_ask")
            return
        if not ok:
            self.stats.mismatches += 1
            book.mark_stale("top of book disagrees with the venue's best_bid/best_ask")
            self._log(
                "polymarket: best bid/ask mismatch on %s…: local %s/%s venue %s/%s",
                book.token[:12],
                book.best_bid,
                book.best_ask,
                bb,
                ba,
            )
        elif book.crossed:
            self.stats.crossed += 1
            book.mark_stale("crossed book")

    def _legacy_price_change(self, ev: WsEvent, recv_ns: int, out: list[Event]) -> None:
        token = ev.asset_id
        book = self.books.get(token)
        if book is None:
            self.stats.unknown_asset += 1
            return
        ts = epoch_ms(ev.timestamp)
        parsed: list[tuple[bool, Fixed, Fixed]] = []
        for ch in ev.changes or ():
            if ch.side not in ("BUY", "SELL"):
                raise BadValue(f"side: {ch.side[:10]!r}")
            parsed.append(
                (ch.side == "BUY", level_price(ch.price, "price"), parse_size(ch.size, "size"))
            )
        for is_bid, price, size in parsed:
            if is_bid:
                book.set_bid(price, size)
            else:
                book.set_ask(price, size)
        book.venue_ts_ms = ts
        book.received_ns = recv_ns
        self.stats.legacy_price_changes += 1
        if book.crossed and not book.stale:
            self.stats.crossed += 1
            book.mark_stale("crossed book")
        out.append(BookChanged(token, "price_change", ts, recv_ns))

    def _last_trade(self, ev: WsEvent, out: list[Event]) -> None:
        ts = epoch_ms(ev.timestamp)
        price = level_price(ev.price, "price")
        size = parse_size(ev.size, "size")
        if ev.side not in ("BUY", "SELL"):
            raise BadValue(f"side: {ev.side[:10]!r}")
        fee: int | None = None
        bps = ev.fee_rate_bps
        if bps:
            if not (len(bps) <= _MAX_BPS_DIGITS and bps.isascii() and bps.isdigit()):
                raise BadValue(f"fee_rate_bps: {bps[:20]!r}")
            fee = int(bps)
        book = self.books.get(ev.asset_id)
        if book is not None:
            book.last_trade_price = price
        self.stats.last_trades += 1
        out.append(LastTrade(ev.asset_id, ev.market, price, size, ev.side, fee, ts))

    def _tick_size_change(self, ev: WsEvent, recv_ns: int, out: list[Event]) -> None:
        ts = epoch_ms(ev.timestamp)
        old = required_fixed(ev.old_tick_size, "old_tick_size")
        new = required_fixed(ev.new_tick_size, "new_tick_size")
        self.stats.tick_size_changes += 1
        out.append(TickSizeChanged(ev.asset_id, ev.market, old, new, ts))
        book = self.books.get(ev.asset_id)
        if book is not None:
            book.tick_size = new
            book.mark_stale("tick size changed; waiting for a snapshot")
            out.append(BookChanged(ev.asset_id, "tick_size_change", ts, recv_ns))

    def _best_bid_ask(self, ev: WsEvent, out: list[Event]) -> None:
        ts = epoch_ms(ev.timestamp)
        bid = best_price(ev.best_bid or None, "0", "best_bid")
        ask = best_price(ev.best_ask or None, "1", "best_ask")
        self.stats.best_bid_asks += 1
        out.append(BestBidAsk(ev.asset_id, ev.market, bid, ask, ts))

    def _new_market(self, ev: WsEvent, out: list[Event]) -> None:
        ts = epoch_ms(ev.timestamp)
        tokens = tuple(ev.assets_ids or ())
        if not all(is_token_id(t) for t in tokens):
            raise BadValue("assets_ids: not token ids")
        self.stats.new_markets += 1
        out.append(
            NewMarket(ev.market, ev.id, ev.question, ev.slug, tokens, tuple(ev.outcomes or ()), ts)
        )

    def _market_resolved(self, ev: WsEvent, recv_ns: int, out: list[Event]) -> None:
        ts = epoch_ms(ev.timestamp)
        tokens = tuple(ev.assets_ids or ())
        self.stats.resolved += 1
        out.append(
            MarketResolved(ev.market, ev.id, tokens, ev.winning_asset_id, ev.winning_outcome, ts)
        )
        for token in tokens:
            book = self.books.get(token)
            if book is not None:
                book.clear("market resolved")
                out.append(BookChanged(token, "market_resolved", ts, recv_ns))


def _snapshot_side(levels: list[WsLevel] | None, side: str) -> dict[Fixed, Fixed]:
    """One side of a ``book`` snapshot as ``{price: size}`` without its zero sizes.

    A price listed twice (however spelled) is rejected: which size is right is unknowable.
    """
    out: dict[Fixed, Fixed] = {}
    if not levels:
        return out
    size_field, price_field = _FIELDS[side]
    prices, size_cache = level_prices, sizes
    for lvl in levels:
        size = size_cache.get(lvl.size)
        if size is None:
            size = parse_size(lvl.size, size_field)
        price = prices.get(lvl.price)
        if price is None:
            price = level_price(lvl.price, price_field)
        out[price] = size
    if len(out) != len(levels):
        raise BadValue(f"{side}: a price level is listed twice")
    if 0 in out.values():
        return {p: q for p, q in out.items() if q}
    return out


_FIELDS: Final = {"bids": ("bids.size", "bids.price"), "asks": ("asks.size", "asks.price")}


def _is_book_event(event_type: object) -> bool:
    return type(event_type) is str and event_type in _BOOK_EVENTS


def _event_tokens(ev: WsEvent) -> list[str]:
    tokens = [ev.asset_id] if ev.asset_id else []
    for ch in ev.price_changes or ():
        if ch.asset_id:
            tokens.append(ch.asset_id)
    return tokens


def _tokens_of(item: dict[object, object]) -> list[str]:
    """Best-effort token ids named by a raw (undecodable) event, to mark them stale."""
    tokens: list[str] = []
    asset = item.get("asset_id")
    if isinstance(asset, str):
        tokens.append(asset)
    changes = item.get("price_changes")
    if isinstance(changes, list):
        for ch in changes:
            if isinstance(ch, dict) and isinstance(ch.get("asset_id"), str):
                tokens.append(ch["asset_id"])
    return tokens
