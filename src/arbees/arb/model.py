"""Value objects of the arbitrage engine: combinations, a pair's asks and fees, results.

One binary event listed on both venues pays $1 on exactly one of YES/NO. Buying one YES and
one NO (on either venue) for less than $1 all-in is a locked profit. The four combinations
keep the seed's bit encoding and names, so masks stay compatible with its consumers.
"""

from __future__ import annotations

import enum
from typing import Final

import attrs

from arbees.book import BookView, Level, mirror_levels
from arbees.fees import KalshiFeeModel, PolymarketFeeModel
from arbees.money import Fixed

__all__ = [
    "COMBOS",
    "Combo",
    "Leg",
    "Opportunity",
    "PairAsks",
    "PairFees",
    "decode_mask",
]


class Combo(enum.IntEnum):
    """The four ways to buy both outcomes; the value is the seed's mask bit."""

    POLY_YES_KALSHI_NO = 1
    KALSHI_YES_POLY_NO = 2
    POLY_ONLY = 4
    KALSHI_ONLY = 8

    @property
    def label(self) -> str:
        """The seed's name: ``"PolyYes+KalshiNo"``, ``"KalshiYes+PolyNo"``, ..."""
        return _LABELS[self]

    @property
    def legs(self) -> tuple[tuple[str, str], tuple[str, str]]:
        """``((venue, outcome), (venue, outcome))`` bought by this combination (YES leg first)."""
        return _LEGS[self]


_LABELS: Final = {
    Combo.POLY_YES_KALSHI_NO: "PolyYes+KalshiNo",
    Combo.KALSHI_YES_POLY_NO: "KalshiYes+PolyNo",
    Combo.POLY_ONLY: "PolyOnly",
    Combo.KALSHI_ONLY: "KalshiOnly",
}
_LEGS: Final = {
    Combo.POLY_YES_KALSHI_NO: (("polymarket", "yes"), ("kalshi", "no")),
    Combo.KALSHI_YES_POLY_NO: (("kalshi", "yes"), ("polymarket", "no")),
    Combo.POLY_ONLY: (("polymarket", "yes"), ("polymarket", "no")),
    Combo.KALSHI_ONLY: (("kalshi", "yes"), ("kalshi", "no")),
}
COMBOS: Final = tuple(Combo)
"""All combinations in bit order."""

_DECODED: Final = tuple(
    [c.label for c in COMBOS if mask & c] for mask in range(16)
)  # precomputed: decoding is on the per-update path


def decode_mask(mask: int) -> list[str]:
    """Names of the set bits, in bit order; bits above 8 are ignored."""
    return list(_DECODED[mask & 15])


@attrs.frozen(slots=True)
class PairAsks:
    """Ask ladders (best = lowest first, micro-units) of the four legs of one pair.

    An empty tuple means the leg is missing (no book, stale book, no asks): combinations
    using it never signal.

    Attributes:
        kalshi_yes: Kalshi YES asks.
        kalshi_no: Kalshi NO asks (the mirror of the YES bids: ``1 - bid``).
        poly_yes: asks of the Polymarket token that pays on YES.
        poly_no: asks of the Polymarket token that pays on NO.
    """

    kalshi_yes: tuple[Level, ...] = ()
    kalshi_no: tuple[Level, ...] = ()
    poly_yes: tuple[Level, ...] = ()
    poly_no: tuple[Level, ...] = ()

    @classmethod
    def from_views(
        cls,
        kalshi: BookView | None,
        poly_yes: BookView | None,
        poly_no: BookView | None,
    ) -> PairAsks:
        """Build from the feeds' views; a missing or stale view contributes no asks.

        A Kalshi view is the YES side, so its NO asks are its YES bids mirrored.
        """
        k_ok = kalshi is not None and not kalshi.stale
        return cls(
            kalshi_yes=kalshi.asks if k_ok and kalshi is not None else (),
            kalshi_no=mirror_levels(kalshi.bids) if k_ok and kalshi is not None else (),
            poly_yes=poly_yes.asks if poly_yes is not None and not poly_yes.stale else (),
            poly_no=poly_no.asks if poly_no is not None and not poly_no.stale else (),
        )

    def leg(self, venue: str, outcome: str) -> tuple[Level, ...]:
        """The ladder of one leg, e.g. ``leg("kalshi", "no")``."""
        return {
            ("kalshi", "yes"): self.kalshi_yes,
            ("kalshi", "no"): self.kalshi_no,
            ("polymarket", "yes"): self.poly_yes,
            ("polymarket", "no"): self.poly_no,
        }[(venue, outcome)]


@attrs.frozen(slots=True)
class PairFees:
    """The fee schedules of the two markets of a pair.

    Attributes:
        kalshi: the Kalshi market's schedule.
        poly: the Polymarket market's schedule (never assume it is fee-free).
    """

    kalshi: KalshiFeeModel
    poly: PolymarketFeeModel


@attrs.frozen(slots=True)
class Leg:
    """One order of an opportunity (all amounts in micro-units).

    Attributes:
        venue: ``"kalshi"`` or ``"polymarket"``.
        outcome: ``"yes"`` or ``"no"``.
        size: contracts/shares bought.
        avg_price: ``notional / size``, rounded up to the micro-unit.
        worst_price: the price of the last (worst) level touched — the limit price to use.
        notional: sum of price × size over the levels walked (rounded up to the micro-unit).
        fee: the venue fee for this whole order.
    """

    venue: str
    outcome: str
    size: Fixed
    avg_price: Fixed
    worst_price: Fixed
    notional: Fixed
    fee: Fixed


@attrs.frozen(slots=True)
class Opportunity:
    """A fee-adjusted, depth-aware arbitrage for one combination (micro-units).

    ``profit`` is exactly ``payout - cost - fees``: the $1-per-contract payout of the
    winning leg times ``size``, minus both legs' notionals, minus both legs' whole-order
    fees. It is locked in whichever outcome happens (settlement/postponement rules aside).

    Attributes:
        combo: which two legs.
        size: contracts bought on EACH leg.
        legs: the YES leg then the NO leg.
        cost: sum of the legs' notionals.
        fees: sum of the legs' fees.
        payout: ``size`` contracts × $1 (equal to ``size`` in micro-units).
        profit: ``payout - cost - fees`` (> 0 for a reported opportunity).
        edge_per_contract: ``profit / size`` in micro-dollars per contract, rounded down.
    """

    combo: Combo
    size: Fixed
    legs: tuple[Leg, Leg]
    cost: Fixed
    fees: Fixed
    payout: Fixed
    profit: Fixed
    edge_per_contract: Fixed
