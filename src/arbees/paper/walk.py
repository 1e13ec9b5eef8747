"""Walking an ask ladder for a paper fill: exact notional and the venue's whole-order fee.

Why a module of its own: the ledger fills the SAME size on both legs, and that size can be
cut by depth, by risk limits, or (with simulated latency) by a limit price on a book that
moved. Every one of those cases needs "what would buying ``s`` on this ladder cost, fees
included", computed exactly as :mod:`arbees.arb.depth` does it (notional at 1e-12 rounded
up to the micro-unit, the venue fee rounded once per order), so that a fill at detection of
the signal's own size reproduces the signal's numbers to the micro-dollar.

Nothing here does I/O or reads a clock; amounts are micro-units (:mod:`arbees.money`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import attrs

from arbees.book import Level
from arbees.fees import FeeModel
from arbees.money import ONE, Fixed, ceil_div

__all__ = ["FeeModel", "LegQuote", "clean_levels", "depth", "largest_size", "quote_leg"]

log = logging.getLogger(__name__)


@attrs.frozen(slots=True)
class LegQuote:
    """What buying up to a size on one ladder costs (micro-units).

    Attributes:
        size: contracts obtained (may be less than asked: depth or limit price).
        notional: sum of price × size over the levels taken, rounded up to the micro-unit.
        fee: the venue fee for this whole order (rounded once, the venue's way).
        avg_price: ``notional / size`` rounded up (0 when nothing was taken).
        worst_price: price of the deepest level taken (0 when nothing was taken).
    """

    size: Fixed
    notional: Fixed
    fee: Fixed
    avg_price: Fixed
    worst_price: Fixed

    @property
    def total(self) -> Fixed:
        """Notional plus fee: the cash this order uses."""
        return self.notional + self.fee


def clean_levels(levels: Iterable[object]) -> tuple[tuple[Level, ...], int]:
    """Valid ask levels sorted best (lowest) first, and how many were rejected.

    A valid level is an ``(int price, int size)`` pair with ``0 < price < $1`` and
    ``size > 0`` (bools, floats and anything else are rejected, never coerced).
    """
    good: list[Level] = []
    rejected = 0
    for lvl in levels:
        if isinstance(lvl, tuple) and len(lvl) == 2:
            price, size = lvl
            if type(price) is int and type(size) is int and 0 < price < ONE and size > 0:
                good.append(Level(price, size))
                continue
        rejected += 1
        log.warning("paper: dropped invalid ask level %r", lvl)
    good.sort()
    return tuple(good), rejected


def depth(levels: tuple[Level, ...], *, limit: Fixed | None = None) -> Fixed:
    """Total size offered at or below ``limit`` (all levels when ``limit`` is None)."""
    return sum(size for price, size in levels if limit is None or price <= limit)


def quote_leg(
    levels: tuple[Level, ...], size: Fixed, model: FeeModel, *, limit: Fixed | None = None
) -> LegQuote:
    """Buy up to ``size`` walking ``levels`` (clean, best first) at prices <= ``limit``.

    The fee is the model's ``order_fee`` over the pieces taken: one order, rounded once.
    """
    remaining = size
    notional12 = 0
    pieces: list[tuple[Fixed, Fixed]] = []
    worst = 0
    for price, available in levels:
        if remaining <= 0 or (limit is not None and price > limit):
            break
        take = min(available, remaining)
        pieces.append((price, take))
        notional12 += price * take
        remaining -= take
        worst = price
    taken = size - max(remaining, 0)
    if taken <= 0:
        return LegQuote(size=0, notional=0, fee=0, avg_price=0, worst_price=0)
    return LegQuote(
        size=taken,
        notional=ceil_div(notional12, ONE),
        fee=model.order_fee(pieces),
        avg_price=ceil_div(notional12, taken),
        worst_price=worst,
    )


def largest_size(
    ladders: tuple[tuple[Level, ...], ...],
    models: tuple[FeeModel, ...],
    size: Fixed,
    room: Fixed,
    step: Fixed,
) -> Fixed:
    """The largest cover size — ``size`` itself, or a multiple of ``step`` below it — whose
    cash (every leg's notional plus fees) fits in ``room``; 0 if none does.

    Cash never falls as size grows (levels are walked best first and fees only grow), so a
    binary search over multiples of ``step`` is exact.
    """

    def cash(s: Fixed) -> Fixed:
        return sum(quote_leg(lad, s, m).total for lad, m in zip(ladders, models, strict=True))

    if cash(size) <= room:
        return size
    lo, hi = 0, (size - 1) // step
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if cash(mid * step) <= room:
            lo = mid
        else:
            hi = mid - 1
    return lo * step
