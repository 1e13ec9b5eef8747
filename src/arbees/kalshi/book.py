"""Kalshi's bids-only order book for one market, with exact sizes and derived asks.

Kalshi publishes BIDS ONLY, for YES and for NO. An ask is the other side's bid mirrored:
YES ask = 1 − best NO bid (with that NO level's size) and NO ask = 1 − best YES bid. An
empty NO side means there is NO YES ask (never an ask at $1.00).

Deltas are signed changes. A level reaching 0 disappears; a level going below 0 means we
missed something, so the book flags itself ``corrupt`` and the protocol resyncs the whole
subscription. Prices and sizes are micro-unit ints (:mod:`arbees.money`); the best bid of
each side is cached so the hot path (one delta → top of book) avoids sorting.
"""

from __future__ import annotations

from arbees.book import BookView, Level
from arbees.money import ONE, Fixed

__all__ = ["DEFAULT_DEPTH", "KalshiBook"]

DEFAULT_DEPTH = 10
_EMPTY = -1


def _top(levels: dict[Fixed, Fixed], depth: int) -> tuple[Level, ...]:
    return tuple(Level(p, levels[p]) for p in sorted(levels, reverse=True)[:depth])


class KalshiBook:
    """Bids-only YES and NO books of one market ticker.

    Attributes:
        ticker: the market ticker.
        market_id: the venue's market id (may be ``""``).
        yes: YES bids, price → size (micro-units).
        no: NO bids, price → size.
        stale: the book cannot be trusted (no snapshot yet, gap, corruption, cross-check
            mismatch); cleared only by the next snapshot.
        stale_reason: why it is stale (``""`` when fresh).
        corrupt: a delta drove a level negative since the last snapshot.
        awaiting_snapshot: the levels are unknown (no snapshot yet, or a gap/corruption
            since); deltas are not applied until the next snapshot.
        venue_ts_ms: the venue timestamp of the last change, when sent.
        received_ns: receive time of the frame behind the last change.
        seq: the sid sequence number of the last applied frame.
    """

    __slots__ = (
        "_best_no",
        "_best_yes",
        "awaiting_snapshot",
        "corrupt",
        "market_id",
        "no",
        "received_ns",
        "seq",
        "stale",
        "stale_reason",
        "ticker",
        "venue_ts_ms",
        "yes",
    )

    def __init__(self, ticker: str, market_id: str = "") -> None:
        self.ticker = ticker
        self.market_id = market_id
        self.yes: dict[Fixed, Fixed] = {}
        self.no: dict[Fixed, Fixed] = {}
        self._best_yes = _EMPTY
        self._best_no = _EMPTY
        self.stale = True
        self.stale_reason = "no snapshot yet"
        self.corrupt = False
        self.awaiting_snapshot = True
        self.venue_ts_ms: int | None = None
        self.received_ns = 0
        self.seq = 0

    def __repr__(self) -> str:
        return (
            f"KalshiBook({self.ticker!r}, yes={len(self.yes)} levels, no={len(self.no)} levels,"
            f" stale={self.stale})"
        )

    # -- mutation ---------------------------------------------------------------------
    def apply_snapshot(
        self, yes: dict[Fixed, Fixed], no: dict[Fixed, Fixed], *, market_id: str = ""
    ) -> None:
        """Replace both sides (levels with size ≤ 0 must already be filtered out)."""
        self.yes = yes
        self.no = no
        self._best_yes = max(yes) if yes else _EMPTY
        self._best_no = max(no) if no else _EMPTY
        if market_id:
            self.market_id = market_id
        self.stale = False
        self.stale_reason = ""
        self.corrupt = False
        self.awaiting_snapshot = False

    def apply_delta(self, side_is_yes: bool, price: Fixed, delta: Fixed) -> bool:
        """Apply a signed size change; returns False (and marks corrupt+stale) if it goes < 0."""
        levels = self.yes if side_is_yes else self.no
        new = levels.get(price, 0) + delta
        if new > 0:
            levels[price] = new
            if side_is_yes:
                if price > self._best_yes:
                    self._best_yes = price
            elif price > self._best_no:
                self._best_no = price
            return True
        if new == 0:
            if price in levels:
                del levels[price]
                if side_is_yes:
                    if price == self._best_yes:
                        self._best_yes = max(levels) if levels else _EMPTY
                elif price == self._best_no:
                    self._best_no = max(levels) if levels else _EMPTY
            return True
        self.corrupt = True
        self.invalidate("level went negative")
        return False

    def mark_stale(self, reason: str) -> None:
        """Suspect (e.g. ticker mismatch): deltas still apply, fresh again at the next snapshot."""
        self.stale = True
        if not self.stale_reason:
            self.stale_reason = reason

    def invalidate(self, reason: str) -> None:
        """Levels unknown (gap, corruption, reconnect): stale and awaiting a snapshot."""
        self.mark_stale(reason)
        self.awaiting_snapshot = True

    # -- reading ----------------------------------------------------------------------
    @property
    def best_yes_bid(self) -> Level | None:
        p = self._best_yes
        return None if p == _EMPTY else Level(p, self.yes[p])

    @property
    def best_no_bid(self) -> Level | None:
        p = self._best_no
        return None if p == _EMPTY else Level(p, self.no[p])

    @property
    def yes_ask(self) -> Level | None:
        """Best YES ask = 1 − best NO bid (size of that NO level); None if NO is empty."""
        p = self._best_no
        return None if p == _EMPTY else Level(ONE - p, self.no[p])

    @property
    def no_ask(self) -> Level | None:
        """Best NO ask = 1 − best YES bid; None if YES is empty."""
        p = self._best_yes
        return None if p == _EMPTY else Level(ONE - p, self.yes[p])

    def yes_view(
        self, *, depth: int = DEFAULT_DEPTH, received_ns: int | None = None, market: str = ""
    ) -> BookView:
        """The YES side as a :class:`BookView`: YES bids and asks derived from NO bids."""
        return BookView(
            "kalshi",
            self.ticker,
            bids=_top(self.yes, depth),
            asks=tuple(Level(ONE - lvl.price, lvl.size) for lvl in _top(self.no, depth)),
            stale=self.stale,
            venue_ts_ms=self.venue_ts_ms,
            received_ns=self.received_ns if received_ns is None else received_ns,
            market=market,
        )

    def no_view(
        self, *, depth: int = DEFAULT_DEPTH, received_ns: int | None = None, market: str = ""
    ) -> BookView:
        """The NO side: NO bids and NO asks derived from YES bids (instrument ``TICKER:NO``)."""
        return BookView(
            "kalshi",
            f"{self.ticker}:NO",
            bids=_top(self.no, depth),
            asks=tuple(Level(ONE - lvl.price, lvl.size) for lvl in _top(self.yes, depth)),
            stale=self.stale,
            venue_ts_ms=self.venue_ts_ms,
            received_ns=self.received_ns if received_ns is None else received_ns,
            market=market,
        )
