"""The arbitrage math for one Kalshi/Polymarket pair of binary markets.

* :func:`check_top` — the per-update hot path: 1-contract, top-of-book, fee-adjusted mask.
* :func:`find_opportunities` — depth-aware sizing of every profitable combination.
* :mod:`arbees.kernel` — the same top-of-book check for many markets at once (native C).

All prices, sizes and amounts are exact micro-units (:mod:`arbees.money`); fees come from
each market's own schedule (:mod:`arbees.fees`).
"""

from __future__ import annotations

from arbees.arb.depth import MAX_EVAL, ArbStats, find_opportunities, size_combo, stats
from arbees.arb.model import (
    COMBOS,
    Combo,
    Leg,
    Opportunity,
    PairAsks,
    PairFees,
    decode_mask,
)
from arbees.arb.top import NO_EDGE, check_top, check_top_edge, reference_check

__all__ = [
    "COMBOS",
    "MAX_EVAL",
    "NO_EDGE",
    "ArbStats",
    "Combo",
    "Leg",
    "Opportunity",
    "PairAsks",
    "PairFees",
    "check_top",
    "check_top_edge",
    "decode_mask",
    "find_opportunities",
    "reference_check",
    "size_combo",
    "stats",
]
