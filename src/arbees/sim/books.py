"""The simulator's books: one game's true order books on both venues, and their ground truth.

Why a model of its own: the simulator is the *source of truth* the demo and the benchmarks
score the system against, so the books it drives the fake venues with must be plain values
that can be evaluated with the very same arithmetic the shard uses
(:func:`arbees.arb.find_opportunities`), without any socket in between.

One game has three books:

* Kalshi market of team A (``...-OKC``): YES bids and NO bids (Kalshi books are bids-only;
  a YES ask is ``1 - best NO bid``);
* Kalshi market of team B (``...-SAS``): likewise;
* Polymarket token A: bids and asks. Token B's book is its exact mirror (token B asks =
  ``1 - token A bids``), so only token A is stored.

:func:`pair_asks` builds, per team, exactly the four ladders the shard builds from the
venues' quotes, and :func:`truth` evaluates them. All prices and sizes are micro-units.
"""

from __future__ import annotations

from typing import Final

import attrs

from arbees.arb import ArbStats, Combo, Opportunity, PairAsks, PairFees, find_opportunities
from arbees.book import Level, mirror_levels
from arbees.fees import KalshiFeeModel, PolymarketFeeModel
from arbees.money import CENT, ONE, Fixed

__all__ = [
    "DEFAULT_FEES",
    "POLY_FEE_RATE",
    "POLY_MIN_ORDER",
    "SUB_TICK",
    "TICK",
    "GameBooks",
    "KalshiBook",
    "TokenBook",
    "TruthKey",
    "pair_asks",
    "tick_for",
    "truth",
]

TICK: Final = CENT
"""The normal price tick ($0.01)."""
SUB_TICK: Final = CENT // 10
"""Polymarket's sub-cent tick ($0.001), used near 0 and 1."""
POLY_FEE_RATE: Final = "0.05"
"""The simulated Polymarket markets' taker fee rate (Gamma ``feeSchedule.rate``)."""
POLY_MIN_ORDER: Final = 5 * ONE
"""The simulated Polymarket markets' ``orderMinSize`` (5 shares)."""
DEFAULT_FEES: Final = PairFees(
    kalshi=KalshiFeeModel(multiplier=1),
    poly=PolymarketFeeModel(rate=POLY_FEE_RATE, exponent=1, min_order_size=POLY_MIN_ORDER),
)
"""What the orchestrator derives from the simulated venues' discovery data."""

TruthKey = tuple[int, str]
"""``(team index, combo label)`` of one opportunity inside a game."""

_COUNTERS = ArbStats()  # keep the simulator's evaluations out of the process-wide counters


def tick_for(price: Fixed) -> Fixed:
    """Polymarket's tick at ``price``: $0.001 below $0.04 and above $0.96, else $0.01."""
    return SUB_TICK if price < 4 * CENT or price > ONE - 4 * CENT else TICK


@attrs.frozen(slots=True)
class TokenBook:
    """A Polymarket token's book.

    Attributes:
        bids: best (highest) first.
        asks: best (lowest) first.
    """

    bids: tuple[Level, ...]
    asks: tuple[Level, ...]

    def mirror(self) -> TokenBook:
        """The complementary token's book (bids become ``1 - asks`` and vice versa)."""
        return TokenBook(bids=mirror_levels(self.asks), asks=mirror_levels(self.bids))


@attrs.frozen(slots=True)
class KalshiBook:
    """A Kalshi market's book (bids only, as the venue sends it).

    Attributes:
        yes_bids: YES bids, best (highest) first.
        no_bids: NO bids, best (highest) first.
    """

    yes_bids: tuple[Level, ...]
    no_bids: tuple[Level, ...]

    @property
    def yes_asks(self) -> tuple[Level, ...]:
        return mirror_levels(self.no_bids)

    @property
    def no_asks(self) -> tuple[Level, ...]:
        return mirror_levels(self.yes_bids)


@attrs.frozen(slots=True)
class GameBooks:
    """The true books of one game.

    Attributes:
        kalshi_a: Kalshi market "team A wins".
        kalshi_b: Kalshi market "team B wins".
        poly_a: Polymarket token of team A (token B is its mirror).
    """

    kalshi_a: KalshiBook
    kalshi_b: KalshiBook
    poly_a: TokenBook

    @property
    def poly_b(self) -> TokenBook:
        return self.poly_a.mirror()


def pair_asks(books: GameBooks, team: int) -> PairAsks:
    """The four ask ladders of ``team``'s pair, as the shard assembles them from quotes."""
    kalshi = books.kalshi_a if team == 0 else books.kalshi_b
    own = books.poly_a if team == 0 else books.poly_b
    return PairAsks(
        kalshi_yes=kalshi.yes_asks,
        kalshi_no=kalshi.no_asks,
        poly_yes=own.asks,
        poly_no=mirror_levels(own.bids),
    )


def _maybe_profitable(asks: PairAsks) -> bool:
    for yes, no in (
        (asks.poly_yes, asks.kalshi_no),
        (asks.kalshi_yes, asks.poly_no),
        (asks.poly_yes, asks.poly_no),
        (asks.kalshi_yes, asks.kalshi_no),
    ):
        if yes and no and min(lvl.price for lvl in yes) + min(lvl.price for lvl in no) < ONE:
            return True
    return False


def truth(books: GameBooks, fees: PairFees = DEFAULT_FEES) -> dict[TruthKey, Opportunity]:
    """Every opportunity in the game's books, keyed like the shard's signals.

    ``PolyOnly`` is the same trade for both teams and, as in the shard, only reported on
    team 0. A pair whose every combination costs at least $1 at the best prices before fees
    cannot be profitable at any size, so the full search is skipped for it (same result).
    """
    out: dict[TruthKey, Opportunity] = {}
    for team in (0, 1):
        asks = pair_asks(books, team)
        if not _maybe_profitable(asks):
            continue
        for opp in find_opportunities(asks, fees, counters=_COUNTERS):
            if opp.combo is Combo.POLY_ONLY and team != 0:
                continue
            out[(team, opp.combo.label)] = opp
    return out
