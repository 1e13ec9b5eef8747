"""The arbitrage math: venue-neutral covers of an event, and the Kalshi/Polymarket pair.

* :func:`event_opportunities` — any event (2, 3, ... outcomes), any venues: every set of
  contracts whose covered outcomes partition the event, depth-sized over k legs
  (:mod:`arbees.arb.event`; ``arbees arb FILE`` is its command line).
* :func:`check_top` — the per-update hot path: 1-contract, top-of-book, fee-adjusted mask.
* :func:`find_opportunities` — depth-aware sizing of every profitable combination of one
  binary Kalshi/Polymarket pair (the seed's four; the binary two-venue case of
  :func:`event_opportunities`, which a property test holds equal).
* :mod:`arbees.kernel` — the same top-of-book check for many markets at once (native C).

All prices, sizes and amounts are exact micro-units (:mod:`arbees.money`); fees come from
each market's own schedule (:mod:`arbees.fees`).
"""

from __future__ import annotations

from arbees.arb.depth import MAX_EVAL, ArbStats, find_opportunities, size_combo, stats
from arbees.arb.event import (
    MAX_COVERS,
    Contract,
    Event,
    EventLeg,
    EventOpportunity,
    Side,
    VenueTerms,
    event_opportunities,
)
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
    "MAX_COVERS",
    "MAX_EVAL",
    "NO_EDGE",
    "ArbStats",
    "Combo",
    "Contract",
    "Event",
    "EventLeg",
    "EventOpportunity",
    "Leg",
    "Opportunity",
    "PairAsks",
    "PairFees",
    "Side",
    "VenueTerms",
    "check_top",
    "check_top_edge",
    "decode_mask",
    "event_opportunities",
    "find_opportunities",
    "reference_check",
    "size_combo",
    "stats",
]
