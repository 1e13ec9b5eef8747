"""Quiet (arbitrage-free) books around a fair probability, and the moves that break them.

Why separate from the planner: these are the only functions that *invent prices*; keeping
them small and pure makes the simulator's promises checkable one by one — ticks (a cent,
or a tenth of a cent on Polymarket near 0 and 1), 3-5 levels of depth, a positive spread on
every book, and no opportunity at all after fees in a quiet state.
"""

from __future__ import annotations

import random

from arbees.book import Level
from arbees.money import CENT, ONE, Fixed
from arbees.sim.books import TICK, KalshiBook, TokenBook, tick_for

__all__ = [
    "floor_to",
    "kalshi_book",
    "ladder",
    "lower_ask",
    "raise_bid",
    "token_book",
]


def floor_to(price: int, tick: Fixed) -> Fixed:
    """``price`` rounded down to a multiple of ``tick``."""
    return (price // tick) * tick


def ladder(
    best: Fixed, step: Fixed, count: int, rng: random.Random, size_range: tuple[int, int]
) -> tuple[Level, ...]:
    """``count`` levels from ``best`` moving by ``step`` (negative: downwards), inside (0, 1)."""
    out = []
    price = best
    for _ in range(count):
        if not 0 < price < ONE:
            break
        out.append(Level(price, rng.randint(*size_range) * ONE))
        price += step
    return tuple(out)


def token_book(p: Fixed, rng: random.Random) -> TokenBook:
    """A Polymarket token book around probability ``p``: spread 2-3 ticks, 3-5 levels."""
    tick = tick_for(p)
    spread = rng.choice((2, 3)) * tick
    bid = floor_to(p - spread // 2 - rng.choice((0, tick)), tick)
    bid = max(bid, tick)
    ask = min(bid + spread, ONE - tick)
    return TokenBook(
        bids=ladder(bid, -tick, rng.randint(3, 5), rng, (20, 400)),
        asks=ladder(ask, tick, rng.randint(3, 5), rng, (20, 400)),
    )


def kalshi_book(p: Fixed, rng: random.Random) -> KalshiBook:
    """A Kalshi market book for an outcome of probability ``p``: bids 1-2 cents inside."""
    yes = max(floor_to(p - rng.choice((1, 2)) * CENT, TICK), CENT)
    no = max(floor_to(ONE - p - rng.choice((1, 2)) * CENT, TICK), CENT)
    return KalshiBook(
        yes_bids=ladder(yes, -TICK, rng.randint(3, 5), rng, (10, 300)),
        no_bids=ladder(no, -TICK, rng.randint(3, 5), rng, (10, 300)),
    )


def raise_bid(
    bids: tuple[Level, ...], asks: tuple[Level, ...], price: Fixed, size: Fixed, tick: Fixed
) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
    """A new best bid at ``price`` (asks pushed above it, keeping a positive spread)."""
    new_bids = (Level(price, size), *(lvl for lvl in bids if lvl.price < price))
    floor = price + tick
    new_asks = []
    for i, lvl in enumerate(asks):
        new_asks.append(Level(max(lvl.price, floor + i * tick), lvl.size))
    return new_bids, tuple(lvl for lvl in new_asks if lvl.price < ONE)


def lower_ask(
    bids: tuple[Level, ...], asks: tuple[Level, ...], price: Fixed, size: Fixed, tick: Fixed
) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
    """A new best ask at ``price`` (bids pushed below it, keeping a positive spread)."""
    new_asks = (Level(price, size), *(lvl for lvl in asks if lvl.price > price))
    ceiling = price - tick
    new_bids = []
    for i, lvl in enumerate(bids):
        new_bids.append(Level(min(lvl.price, ceiling - i * tick), lvl.size))
    return tuple(lvl for lvl in new_bids if lvl.price > 0), new_asks
