"""An independent brute force for the event arbitrage math, in Decimal, from the venues'
published fee formulas (not from :mod:`arbees.fees`): every subset of contracts that
partitions the outcomes, every size 1..depth in whole contracts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from itertools import combinations

import attrs

CENT = Decimal("0.01")
MICRO = Decimal("0.000001")


@attrs.frozen
class Venue:
    """``kind`` is "kalshi" (factor = multiplier), "polymarket" (factor = rate),
    "polymarket-us" (factor = the curve rate; ``schedule`` and ``taker_bps``) or "none"."""

    kind: str
    factor: Decimal = Decimal(0)
    exponent: int = 1
    min_order: int = 0  # whole contracts
    schedule: str = "higher"
    taker_bps: int = 30

    def fee(self, fills: Sequence[tuple[Decimal, int]]) -> Decimal:
        if self.kind == "kalshi":
            raw = sum(
                (Decimal("0.07") * self.factor * c * p * (1 - p) for p, c in fills), Decimal()
            )
            return (raw / CENT).to_integral_value(rounding=ROUND_CEILING) * CENT
        if self.kind == "polymarket":
            raw = sum(
                (c * self.factor * (p * (1 - p)) ** self.exponent for p, c in fills), Decimal()
            )
            return raw.quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP)
        if self.kind == "polymarket-us":  # per fill the schedule's fee (or the higher), then
            # the order's total rounded up to the cent
            notional = Decimal(self.taker_bps) / 10_000 if self.schedule != "curve" else 0
            curve = self.factor if self.schedule != "notional" else 0
            raw = sum((max(notional * c * p, curve * c * p * (1 - p)) for p, c in fills), Decimal())
            return (raw / CENT).to_integral_value(rounding=ROUND_CEILING) * CENT
        return Decimal(0)


@attrs.frozen
class Spec:
    """``asks`` are (price, whole contracts)."""

    venue: str
    instrument: str
    outcome: str
    side: str
    asks: tuple[tuple[Decimal, int], ...]

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.venue, self.instrument, self.outcome, self.side)


@attrs.frozen
class Best:
    """The best size of one cover: ``objective = profit - min_edge * size``."""

    legs: frozenset[tuple[str, str, str, str]]
    size: int
    cost: Decimal
    fees: Decimal
    profit: Decimal
    objective: Decimal


def _fills(asks: Sequence[tuple[Decimal, int]], size: int) -> list[tuple[Decimal, int]]:
    fills, left = [], size
    for price, count in sorted(asks):
        take = min(count, left)
        if take:
            fills.append((price, take))
        left -= take
    assert left == 0
    return fills


def brute_force(
    outcomes: Sequence[str],
    venues: Mapping[str, Venue],
    specs: Sequence[Spec],
    min_edge: Decimal,
) -> dict[frozenset[tuple[str, str, str, str]], Best]:
    """Every profitable cover's best (highest objective, then smallest size)."""
    everything = frozenset(outcomes)
    legs_at: dict[tuple[Spec, int], tuple[Decimal, Decimal]] = {}
    for spec in specs:
        for size in range(1, sum(c for _, c in spec.asks) + 1):
            fills = _fills(spec.asks, size)
            notional = sum((p * c for p, c in fills), Decimal())
            legs_at[spec, size] = (notional, venues[spec.venue].fee(fills))
    result = {}
    for n in range(1, len(outcomes) + 1):
        for cover in combinations(specs, n):
            sets = [
                frozenset({s.outcome}) if s.side == "yes" else everything - {s.outcome}
                for s in cover
            ]
            if (
                sum(len(x) for x in sets) != len(everything)
                or frozenset().union(*sets) != everything
            ):
                continue
            depth = min(sum(c for _, c in s.asks) for s in cover)
            best = None
            for size in range(1, depth + 1):
                if any(size < venues[s.venue].min_order for s in cover):
                    continue
                cost = fees = Decimal(0)
                for s in cover:
                    notional, fee = legs_at[s, size]
                    cost += notional
                    fees += fee
                profit = size - cost - fees
                objective = profit - min_edge * size
                if objective > 0 and (best is None or objective > best.objective):
                    legs = frozenset(s.key for s in cover)
                    best = Best(legs, size, cost, fees, profit, objective)
            if best is not None:
                result[best.legs] = best
    return result
