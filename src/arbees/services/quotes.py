"""What the shard's arbitrage logic consumes: one instrument's asks for both outcomes.

Sources (the bus, a venue feed) convert their own formats into :class:`Quote`, so the
shard never learns where a price came from. Sizes and prices are micro-units.

A price update from the bus is checked before it becomes a quote: its ladders are cut to
``MAX_QUOTE_LEVELS`` (no decision reads deeper, and one message must not cost a shard a
walk over 200,000 levels), and a ladder that is not a book — prices outside (0, 1), not
strictly ascending, a level without size — makes the quote stale with no asks: the token
is unusable until a sound update arrives, and is never priced from a malformed one.
"""

from __future__ import annotations

from typing import Any, Final

import attrs

from arbees.book import BookView, Level, mirror_levels
from arbees.messages import PolymarketPriceUpdate, VenueQuote
from arbees.money import ONE

__all__ = [
    "MAX_JSON_LEVELS",
    "MAX_QUOTE_LEVELS",
    "Quote",
    "checked_quote",
    "checked_venue_quote",
    "ladder_problem",
    "quote_from_json",
    "quote_from_price_update",
    "quote_from_view",
    "quote_json",
]

MAX_QUOTE_LEVELS: Final = 64
MAX_JSON_LEVELS: Final = 1000
"""Most levels :func:`quote_from_json` takes in a ladder (a venue book has at most 999
prices); a longer one is refused."""


@attrs.frozen(slots=True)
class Quote:
    """Asks to buy each outcome of one instrument, with freshness data.

    Attributes:
        venue: ``"kalshi"`` or ``"polymarket"``.
        instrument: Kalshi market ticker or Polymarket token id.
        yes_asks: asks for this instrument's own outcome, best first.
        no_asks: asks for the complementary outcome, best first.
        stale: the source says the book cannot be trusted right now.
        received_ns: wall clock when the venue data entered arbees (feed receive time).
        venue_ts_ms: the venue's timestamp, when it sent one.
        monitor_recv_ns: receive time at the Polymarket monitor (0 for direct feeds).
        bus_recv_ns: when the shard received it from the bus (0 for direct feeds).
    """

    venue: str
    instrument: str
    yes_asks: tuple[Level, ...]
    no_asks: tuple[Level, ...]
    stale: bool
    received_ns: int
    venue_ts_ms: int | None = None
    monitor_recv_ns: int = 0
    bus_recv_ns: int = 0


def quote_from_view(yes: BookView, no_asks: tuple[Level, ...] | None = None) -> Quote:
    """A quote from a venue book view.

    ``no_asks`` defaults to the mirror of the view's bids (true for a binary outcome whose
    complementary book is the mirror, e.g. a Polymarket token or a Kalshi market's YES side).
    """
    return Quote(
        venue=yes.venue,
        instrument=yes.instrument,
        yes_asks=yes.asks,
        no_asks=mirror_levels(yes.bids) if no_asks is None else no_asks,
        stale=yes.stale,
        received_ns=yes.received_ns,
        venue_ts_ms=yes.venue_ts_ms,
    )


def _top_only(price: int | None, size: int | None) -> tuple[Level, ...]:
    if price is None or not size:
        return ()
    return (Level(price, size),)


def ladder_problem(asks: tuple[Level, ...]) -> str | None:
    """Why ``asks`` (best first) is not an ask ladder, or ``None`` when it is one."""
    previous = 0
    for level in asks:
        if not 0 < level.price < ONE:
            return f"ask price {level.price} outside (0, 1)"
        if level.size <= 0:
            return f"ask level {level.price} without size"
        if level.price <= previous:
            return "asks not strictly ascending"
        previous = level.price
    return None


def quote_from_price_update(update: PolymarketPriceUpdate, bus_recv_ns: int) -> Quote:
    """A quote from the monitor's bus message (see :func:`checked_quote`)."""
    return checked_quote(update, bus_recv_ns)[0]


def checked_quote(update: PolymarketPriceUpdate, bus_recv_ns: int) -> tuple[Quote, str | None]:
    """A quote from the monitor's bus message, and why it was distrusted (or ``None``).

    Depth when present, else the top level. A top-of-book price without a size is not
    usable depth and yields no ask: a missing size never becomes an assumed one.
    """
    yes_asks = update.yes_asks or _top_only(update.yes_ask, update.yes_ask_size)
    no_asks = update.no_asks or _top_only(update.no_ask, update.no_ask_size)
    yes_asks, no_asks = yes_asks[:MAX_QUOTE_LEVELS], no_asks[:MAX_QUOTE_LEVELS]
    problem = ladder_problem(yes_asks) or ladder_problem(no_asks)
    if problem is not None:
        yes_asks = no_asks = ()
    quote = Quote(
        venue="polymarket",
        instrument=update.token_id,
        yes_asks=yes_asks,
        no_asks=no_asks,
        stale=update.stale or problem is not None,
        received_ns=update.monitor_recv_ns or bus_recv_ns,
        venue_ts_ms=update.venue_ts_ms,
        monitor_recv_ns=update.monitor_recv_ns,
        bus_recv_ns=bus_recv_ns,
    )
    return quote, problem


def checked_venue_quote(update: VenueQuote, bus_recv_ns: int) -> tuple[Quote, str | None]:
    """A quote from a monitor's :class:`~arbees.messages.VenueQuote`, and why it was
    distrusted (or ``None``): the instrument's asks, and its NO asks as the mirror of its
    bids (a binary instrument, as :func:`quote_from_view` reads a direct feed's view), each
    cut to ``MAX_QUOTE_LEVELS``; a ladder that is not a book makes the quote stale with no
    asks, as for :func:`checked_quote`."""
    yes_asks = update.asks[:MAX_QUOTE_LEVELS]
    no_asks = mirror_levels(update.bids[:MAX_QUOTE_LEVELS])
    problem = ladder_problem(yes_asks) or ladder_problem(no_asks)
    if problem is not None:
        yes_asks = no_asks = ()
    quote = Quote(
        venue=update.venue,
        instrument=update.instrument,
        yes_asks=yes_asks,
        no_asks=no_asks,
        stale=update.stale or problem is not None,
        received_ns=update.monitor_recv_ns or bus_recv_ns,
        venue_ts_ms=update.venue_ts_ms,
        monitor_recv_ns=update.monitor_recv_ns,
        bus_recv_ns=bus_recv_ns,
    )
    return quote, problem


def quote_json(quote: Quote) -> list[Any]:
    """A quote as a JSON list, every field kept: ``[venue, instrument, yes_asks, no_asks,
    stale, received_ns, venue_ts_ms, monitor_recv_ns, bus_recv_ns]``, ladders as ``[[price,
    size], ...]`` in micro-units (a shard's recorded engine inputs, :mod:`arbees.recording`)."""
    return [
        quote.venue,
        quote.instrument,
        [[level.price, level.size] for level in quote.yes_asks],
        [[level.price, level.size] for level in quote.no_asks],
        quote.stale,
        quote.received_ns,
        quote.venue_ts_ms,
        quote.monitor_recv_ns,
        quote.bus_recv_ns,
    ]


def _int(value: object) -> int:
    if type(value) is not int:
        raise ValueError(f"not an integer: {str(value)[:20]!r}")
    return value


def _ladder(value: object) -> tuple[Level, ...]:
    if not isinstance(value, list) or len(value) > MAX_JSON_LEVELS:
        raise ValueError("a ladder is a list of at most 1000 levels")
    out: list[Level] = []
    for level in value:
        if not isinstance(level, list) or len(level) != 2:
            raise ValueError("a level is [price, size]")
        out.append(Level(_int(level[0]), _int(level[1])))
    return tuple(out)


def quote_from_json(value: object) -> Quote:
    """The quote :func:`quote_json` wrote; :class:`ValueError` when ``value`` is not one."""
    if not isinstance(value, list) or len(value) != 9:
        raise ValueError("a recorded quote is a list of 9 fields")
    venue, instrument, yes, no, stale, received, venue_ts, monitor, bus = value
    if not isinstance(venue, str) or not isinstance(instrument, str) or type(stale) is not bool:
        raise ValueError("a recorded quote's venue, instrument or stale flag is malformed")
    return Quote(
        venue=venue,
        instrument=instrument,
        yes_asks=_ladder(yes),
        no_asks=_ladder(no),
        stale=stale,
        received_ns=_int(received),
        venue_ts_ms=None if venue_ts is None else _int(venue_ts),
        monitor_recv_ns=_int(monitor),
        bus_recv_ns=_int(bus),
    )
