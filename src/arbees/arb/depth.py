"""Depth-aware opportunity sizing: how many contracts to buy, walking both ladders.

Why not just the top of book: the best level is often a handful of contracts, deeper levels
are worse, and Kalshi rounds its fee up to the cent once per ORDER (so a 1-contract order
pays up to 2¢ on a ~1¢ raw fee, while 100 contracts pay ~1.75¢ each at $0.50). The size that
maximizes profit is therefore neither 1 nor "all the depth".

For a size ``s`` (a multiple of ``step``) each leg buys ``s`` walking its ask levels best
first. Exactly::

    profit(s) = payout(s) − notional_a(s) − notional_b(s) − fee_a(s) − fee_b(s)

with ``payout(s) = $1 × s`` and each fee the venue's whole-order fee (raw fee of every fill
summed, rounded once; see :mod:`arbees.fees`). The search maximizes
``profit(s) − min_edge × s``: every contract taken must earn more than ``min_edge`` at the
margin, and depth walking stops at the level where that marginal profit turns negative.

How it stays exact and fast: without rounding, profit is piecewise linear in ``s`` (linear
between level boundaries). Rounding moves the true profit by less than a slack of, per leg,
one notional round-up and the most its fee model's rounding can move a fee either way
(``rounding``: a Kalshi cent up, 5 micro-units either way on Polymarket, Polymarket US's
``round_to`` up). So the exact optimum can only lie where the unrounded profit is within
that slack of its maximum; those sizes are found per linear segment and every one of them
is evaluated exactly. When that window holds more than ``MAX_EVAL`` sizes (an almost flat
edge), an evenly spread subset plus the window's ends is evaluated and the result is within
the slack of optimal; :attr:`ArbStats.truncated_searches` counts those cases.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Sequence
from typing import Final

import attrs

from arbees.arb.model import COMBOS, Combo, Leg, Opportunity, PairAsks, PairFees
from arbees.book import Level
from arbees.errors import KernelError
from arbees.fees import FeeModel
from arbees.money import ONE, Fixed, ceil_div

__all__ = ["MAX_EVAL", "ArbStats", "WalkMemo", "find_opportunities", "size_combo", "stats"]

log = logging.getLogger(__name__)

MAX_EVAL: Final = 4096
"""Most sizes evaluated exactly per combination."""
_SLACK_BASE: Final = 100  # micro-units, generous


@attrs.define
class ArbStats:
    """Counters of the depth engine (process-wide by default: :data:`stats`).

    Attributes:
        rejected_levels: ask levels dropped as invalid (price outside (0, 1), size <= 0,
            not ints).
        truncated_searches: searches whose candidate window exceeded :data:`MAX_EVAL`.
    """

    rejected_levels: int = 0
    truncated_searches: int = 0


stats = ArbStats()
"""The default counters."""


class Ladder:
    """Prefix sums of one leg's asks, so a fill of any size costs O(log levels).

    Shared with :mod:`arbees.arb.event` (not part of the public API): invalid levels are
    dropped and counted, the rest sorted best first.
    """

    __slots__ = ("cum_notional", "cum_raw", "cum_size", "model", "outcome", "prices", "venue")

    def __init__(
        self,
        venue: str,
        outcome: str,
        levels: tuple[Level, ...],
        model: FeeModel,
        counters: ArbStats,
    ) -> None:
        self.venue = venue
        self.outcome = outcome
        self.model = model
        good: list[tuple[int, int]] = []
        for lvl in levels:
            price, size = lvl
            if type(price) is int and type(size) is int and 0 < price < ONE and size > 0:
                good.append((price, size))
            else:
                counters.rejected_levels += 1
                log.warning("dropped invalid %s %s ask level %r", venue, outcome, lvl)
        good.sort()  # best first, whatever order the caller used
        self.prices = [p for p, _ in good]
        self.cum_size = [0]
        self.cum_notional = [0]
        self.cum_raw = [0]
        for price, size in good:
            self.cum_size.append(self.cum_size[-1] + size)
            self.cum_notional.append(self.cum_notional[-1] + price * size)
            self.cum_raw.append(self.cum_raw[-1] + model.raw(price, size))

    @property
    def depth(self) -> int:
        return self.cum_size[-1]

    def fill(self, s: int) -> tuple[int, int, int]:
        """``(notional at 1e-12, raw fee, worst price)`` of buying ``s`` (0 < s <= depth)."""
        i = bisect_left(self.cum_size, s) - 1
        part = s - self.cum_size[i]
        price = self.prices[i]
        return (
            self.cum_notional[i] + price * part,
            self.cum_raw[i] + self.model.raw(price, part),
            price,
        )


def _leg_result(ladder: Ladder, s: int) -> Leg:
    notional12, raw, worst = ladder.fill(s)
    notional = ceil_div(notional12, ONE)
    return Leg(
        venue=ladder.venue,
        outcome=ladder.outcome,
        size=s,
        avg_price=ceil_div(notional12, s),
        worst_price=worst,
        notional=notional,
        fee=ladder.model.round_raw(raw),
    )


def _ladders(books: PairAsks, fees: PairFees, counters: ArbStats) -> dict[tuple[str, str], Ladder]:
    result = {}
    for venue, outcome in (
        ("kalshi", "yes"),
        ("kalshi", "no"),
        ("polymarket", "yes"),
        ("polymarket", "no"),
    ):
        model: FeeModel = fees.kalshi if venue == "kalshi" else fees.poly
        result[venue, outcome] = Ladder(venue, outcome, books.leg(venue, outcome), model, counters)
    return result


def size_combo(
    combo: Combo,
    books: PairAsks,
    fees: PairFees,
    *,
    min_edge: Fixed = 0,
    max_size: Fixed | None = None,
    step: Fixed = ONE,
    counters: ArbStats | None = None,
) -> Opportunity | None:
    """The profit-maximizing opportunity of one combination, or None (see module doc)."""
    check_args(min_edge, max_size, step)
    ladders = _ladders(books, fees, stats if counters is None else counters)
    return _size(combo, ladders, fees, min_edge, max_size, step, counters or stats)


def _size(
    combo: Combo,
    ladders: dict[tuple[str, str], Ladder],
    fees: PairFees,
    min_edge: int,
    max_size: int | None,
    step: int,
    counters: ArbStats,
) -> Opportunity | None:
    a, b = (ladders[leg] for leg in combo.legs)
    min_size = step
    for ladder in (a, b):
        if ladder.venue == "polymarket" and fees.poly.min_order_size:
            min_size = max(min_size, fees.poly.min_order_size)
    cap = min(a.depth, b.depth)
    if max_size is not None:
        cap = min(cap, max_size)
    k_lo, k_hi = ceil_div(min_size, step), cap // step
    if k_hi < k_lo:
        return None
    best_k = search_size((a, b), k_lo, k_hi, step, min_edge, counters)
    if best_k is None:
        return None
    s = best_k * step
    leg_a, leg_b = _leg_result(a, s), _leg_result(b, s)
    cost = leg_a.notional + leg_b.notional
    fee_total = leg_a.fee + leg_b.fee
    profit = s - cost - fee_total
    return Opportunity(
        combo=combo,
        size=s,
        legs=(leg_a, leg_b),
        cost=cost,
        fees=fee_total,
        payout=s,
        profit=profit,
        edge_per_contract=profit * ONE // s,
    )


def search_size(
    ladders: Sequence[Ladder],
    k_lo: int,
    k_hi: int,
    step: int,
    min_edge: int,
    counters: ArbStats,
) -> int | None:
    """The multiple ``k`` of ``step`` in ``[k_lo, k_hi]`` maximizing ``profit − min_edge × s``
    when every ladder buys ``s = k × step`` (see module doc), or None when no size beats 0.

    Any number of legs: the pair engine passes two, :mod:`arbees.arb.event` one per block
    of its cover. Ties go to the smaller size. Not part of the public API.
    """
    exp = max(*(ladder.model.raw_exp for ladder in ladders), 12)
    sc_s: int = 10 ** (exp - 6)
    sc_n: int = 10 ** (exp - 12)
    # per leg: the notional's round-up (under a micro-unit) and its fee model's rounding
    slack = _SLACK_BASE + sum(1 + sum(ladder.model.rounding) for ladder in ladders)
    # bound methods and scales looked up once: these closures run per candidate size
    legs = [
        (ladder.fill, ladder.model.round_raw, 10 ** (exp - ladder.model.raw_exp))
        for ladder in ladders
    ]

    def unrounded(k: int) -> int:
        """profit - min_edge*s without rounding, in units of 10**-exp dollars."""
        s = k * step
        total = s * sc_s - min_edge * s * sc_n
        for fill, _, scale in legs:
            notional, raw, _ = fill(s)
            total -= notional * sc_n + raw * scale
        return total

    def exact(k: int) -> int:
        """profit - min_edge*s with every venue rounding, at 1e-12 dollars."""
        s = k * step
        profit = s
        for fill, round_raw, _ in legs:
            notional, raw, _ = fill(s)
            profit -= -(-notional // ONE) + round_raw(raw)  # notional rounded up
        return profit * ONE - min_edge * s

    keys = {k_lo, k_hi}
    for ladder in ladders:
        for edge in ladder.cum_size[1:-1]:
            for k in (edge // step, ceil_div(edge, step)):
                if k_lo <= k <= k_hi:
                    keys.add(k)
    points = sorted(keys)
    values = [unrounded(k) for k in points]
    threshold = max(values) - slack * sc_s
    windows: list[tuple[int, int]] = []
    for i, k0 in enumerate(points):
        v0 = values[i]
        if i + 1 == len(points):
            if v0 >= threshold:
                windows.append((k0, k0))
            break
        k1, v1 = points[i + 1], values[i + 1]
        if v0 < threshold and v1 < threshold:
            continue
        lo, hi = k0, k1
        if v1 < threshold:  # decreasing: keep the start
            hi = k0 + (v0 - threshold) * (k1 - k0) // (v0 - v1)
        elif v0 < threshold:  # increasing: keep the end
            lo = k1 - (v1 - threshold) * (k1 - k0) // (v1 - v0)
        windows.append((lo, hi))
    candidates = _candidates(windows, counters)
    best_k, best_v = 0, 0
    for k in candidates:
        v = exact(k)
        if v > best_v or (v == best_v and v > 0 and k < best_k):
            best_k, best_v = k, v
    if best_v <= 0:
        return None
    return best_k


def _candidates(windows: list[tuple[int, int]], counters: ArbStats) -> list[int]:
    total = sum(hi - lo + 1 for lo, hi in windows)
    if total <= MAX_EVAL:
        return sorted({k for lo, hi in windows for k in range(lo, hi + 1)})
    counters.truncated_searches += 1
    log.info("opportunity search window of %d sizes truncated to ~%d", total, MAX_EVAL)
    stride = ceil_div(total, MAX_EVAL)
    picked: set[int] = set()
    for lo, hi in windows:
        picked.update(range(lo, hi + 1, stride))
        picked.update((lo, hi))
    return sorted(picked)


def find_opportunities(
    books: PairAsks,
    fees: PairFees,
    *,
    min_edge: Fixed = 0,
    max_size: Fixed | None = None,
    step: Fixed = ONE,
    counters: ArbStats | None = None,
    memo: WalkMemo | None = None,
) -> tuple[Opportunity, ...]:
    """Every combination that is profitable beyond ``min_edge`` per contract, best sized.

    Args:
        books: the four ask ladders (missing legs empty; they never signal).
        fees: both markets' fee schedules.
        min_edge: required profit per contract at the margin (micro-units, >= 0); a
            reported opportunity has ``edge_per_contract > min_edge``.
        max_size: cap on the contracts per leg (micro-units), e.g. a risk limit.
        step: size granularity (micro-units; default whole contracts).
        counters: where to count rejected levels (default: module :data:`stats`).
        memo: a caller's cache of this pair's last walks (one dict per pair, kept by the
            caller; empty to start). A combination whose two legs' levels, fees and
            arguments equal those of its last walk gets that walk's result without
            walking again — exact, since the result is a function of exactly those. The
            shard keeps one per pair with an open signal: a touch of a leg the signal does
            not use no longer walks its depth again.

    Returns:
        One :class:`~arbees.arb.model.Opportunity` per profitable combination, in bit order;
        each maximizes ``profit − min_edge × size`` over sizes that are multiples of
        ``step``, at least the Polymarket ``min_order_size`` on Polymarket legs, within
        both ladders' depth and ``max_size``. Ties go to the smaller size.
    """
    check_args(min_edge, max_size, step)
    counters = stats if counters is None else counters
    best = _best_asks(books)
    ladders: dict[tuple[str, str], Ladder] = {}
    if best is None:  # an invalid level: every ladder built, so each one is counted
        ladders = _ladders(books, fees, counters)
        best = {
            leg: (ladder.prices[0] if ladder.prices else None) for leg, ladder in ladders.items()
        }
        memo = None  # each call counts and logs its bad levels: nothing is remembered
    found = []
    for combo in COMBOS:
        a, b = (best[leg] for leg in combo.legs)
        if a is None or b is None or a + b + min_edge >= ONE:
            if memo is not None:
                memo.pop(combo, None)
            continue  # exact (see _best_asks): this combination cannot beat min_edge
        if memo is not None:
            legs = combo.legs
            key = (books.leg(*legs[0]), books.leg(*legs[1]), fees, min_edge, max_size, step)
            last = memo.get(combo)
            if last is not None and last[0] == key:  # nothing it depends on changed
                if last[1] is not None:
                    found.append(last[1])
                continue
        for leg in combo.legs:  # only the legs of a combination within reach are built
            if leg not in ladders:
                model: FeeModel = fees.kalshi if leg[0] == "kalshi" else fees.poly
                ladders[leg] = Ladder(*leg, books.leg(*leg), model, counters)
        opp = _size(combo, ladders, fees, min_edge, max_size, step, counters)
        if memo is not None:
            memo[combo] = (key, opp)
        if opp is not None:
            found.append(opp)
    return tuple(found)


WalkMemo = dict[Combo, tuple[tuple[object, ...], Opportunity | None]]
"""A pair's last walk per combination: what it depended on, and what it found."""


def _best_asks(books: PairAsks) -> dict[tuple[str, str], int | None] | None:
    """Each leg's best ask (``None``: an empty leg), or ``None`` when a level is invalid.

    A combination whose two best asks plus ``min_edge`` reach $1 cannot beat it — exact,
    not a heuristic: a contract costs at least the best asks, deeper levels cost more and
    fees are never negative — so its ladders are never built. Most evaluations of a quiet
    market end here (the shard re-evaluates a pair on every quote), and a pair with an
    open signal builds the two ladders of what it holds, not all four. Books with an
    invalid level take the full path, so those levels are counted and logged as always."""
    best: dict[tuple[str, str], int | None] = {}
    for combo in COMBOS:
        for leg in combo.legs:
            if leg in best:
                continue
            low = None
            for lvl in books.leg(*leg):
                price, size = lvl
                if not (type(price) is int and type(size) is int and 0 < price < ONE and size > 0):
                    return None
                if low is None or price < low:
                    low = price
            best[leg] = low
    return best


def check_args(min_edge: object, max_size: object, step: object) -> None:
    """Validate the sizing arguments (shared with :mod:`arbees.arb.event`)."""
    if type(min_edge) is not int or not 0 <= min_edge < ONE:
        raise KernelError(f"min_edge must be micro-units in [0, 1): {min_edge!r}")
    if type(step) is not int or step <= 0:
        raise KernelError(f"step must be a positive number of micro-units: {step!r}")
    if max_size is not None and (type(max_size) is not int or max_size < 0):
        raise KernelError(f"max_size must be micro-units >= 0: {max_size!r}")
