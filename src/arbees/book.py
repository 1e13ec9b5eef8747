"""Venue-neutral views of an order book, as feeds hand them to services.

Both venue feeds (Kalshi, Polymarket) turn their own wire books into :class:`BookView`
values, so the shard's arbitrage logic never needs to know where a book came from.
Prices and sizes are exact micro-units (see :mod:`arbees.money`).

For a Kalshi market the view is the YES side: ``bids`` are YES bids and ``asks`` are the
YES asks derived from NO bids (``1 - no_bid`` with that level's size). For a Polymarket
token the view is that token's own book.
"""

from __future__ import annotations

from typing import NamedTuple

import attrs

from arbees.money import ONE, Fixed

__all__ = ["BookView", "Level", "mirror_levels"]


class Level(NamedTuple):
    """One price level: ``price`` and ``size`` in micro-units."""

    price: Fixed
    size: Fixed


def mirror_levels(levels: tuple[Level, ...]) -> tuple[Level, ...]:
    """Bids of one outcome as asks of the other (``p -> 1 - p``), order preserved."""
    return tuple(Level(ONE - lvl.price, lvl.size) for lvl in levels)


@attrs.frozen(slots=True)
class BookView:
    """An immutable snapshot of one instrument's book.

    Attributes:
        venue: ``"kalshi"`` or ``"polymarket"``.
        instrument: Kalshi market ticker or Polymarket token id.
        bids: levels best (highest) first.
        asks: levels best (lowest) first.
        stale: True while the book cannot be trusted (gap, reconnect, tick-size change,
            cross-check mismatch, ...). A stale view must never produce a signal.
        venue_ts_ms: the venue's own timestamp of the last change, when it sent one.
        received_ns: wall-clock ``time.time_ns()`` when the frame that produced this view
            was received (comparable across processes on one machine).
        market: the venue's market grouping (Polymarket condition id, Kalshi event ticker)
            when known, else ``""``.

    Example::

        view = BookView("polymarket", "123", bids=(Level(480000, 10_000000),),
                        asks=(Level(520000, 5_000000),), stale=False,
                        venue_ts_ms=None, received_ns=0)
        view.best_ask  # Level(price=520000, size=5000000)
    """

    venue: str
    instrument: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    stale: bool
    venue_ts_ms: int | None
    received_ns: int
    market: str = ""

    @property
    def best_bid(self) -> Level | None:
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> Level | None:
        return self.asks[0] if self.asks else None
