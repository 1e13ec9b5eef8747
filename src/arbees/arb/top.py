"""Top-of-book check: the per-update hot path, and the exact reference of the batch kernel.

The shard calls :func:`check_top` on every book update with the four best asks; only when
it flags a combination does it pay for the depth walk of
:func:`arbees.arb.depth.find_opportunities`. A combination is flagged when buying ONE
contract of each leg at the best asks, each leg paying the fee of a 1-contract order, costs
strictly less than ``$1 - min_edge``. A price outside ``(0, 1)`` — in particular 0, the
seed's "missing" — is a missing leg and never flags.

:func:`reference_check` is the same computation with the fee schedule reduced to two
integers, exactly what the native batch kernel (:mod:`arbees.kernel`) computes per market:

* Kalshi leg fee = ``ceil(k_coef × P × (1 − P) / 10**16)`` cents, i.e. the 1-contract
  Kalshi fee rounded up to the cent, with ``k_coef`` = 0.07 × multiplier in micro-units
  (:attr:`arbees.fees.KalshiFeeModel.kernel_coef`; 70_000 for a standard taker).
* Polymarket leg fee = ``p_rate × P × (1 − P)`` rounded half-up to 1e-5 dollars, with
  ``p_rate`` the rate in micro-units (:attr:`arbees.fees.PolymarketFeeModel.kernel_rate`;
  0 when fees are disabled), exponent 1.
* ``edge = $1 − price_a − price_b − fee_a − fee_b`` per combination; flagged when
  ``edge > min_edge``; ``best_edge`` is the largest edge over the combinations whose two
  legs are present, or :data:`NO_EDGE` when none is.
"""

from __future__ import annotations

from typing import Final

from arbees.arb.model import PairFees
from arbees.money import ONE, Fixed

__all__ = ["NO_EDGE", "check_top", "check_top_edge", "reference_check", "unit_cost"]

NO_EDGE: Final = -(2**63)
"""``best_edge`` of a market where no combination has both legs (the int64 minimum)."""

_K_DIV: Final = 10**16
_P_DIV: Final = 10**13
_P_HALF: Final = 5 * 10**12


def check_top(
    k_yes: Fixed, k_no: Fixed, p_yes: Fixed, p_no: Fixed, fees: PairFees, min_edge: Fixed = 0
) -> int:
    """Mask of the combinations whose 1-contract all-in cost is below ``$1 - min_edge``.

    Prices are the best asks in micro-units (ints); 0 or anything outside ``(0, 1)`` means
    missing. Bits: 1 PolyYes+KalshiNo, 2 KalshiYes+PolyNo, 4 PolyOnly, 8 KalshiOnly.
    Pure Python, about 1–2 µs.
    """
    kf = fees.kalshi.unit_fee
    pf = fees.poly.unit_fee
    limit = ONE - min_edge
    mask = 0
    if 0 < p_yes < ONE:
        py = p_yes + pf(p_yes)
        if 0 < k_no < ONE and py + k_no + kf(k_no) < limit:
            mask = 1
        if 0 < p_no < ONE and py + p_no + pf(p_no) < limit:
            mask |= 4
    if 0 < k_yes < ONE:
        ky = k_yes + kf(k_yes)
        if 0 < p_no < ONE and ky + p_no + pf(p_no) < limit:
            mask |= 2
        if 0 < k_no < ONE and ky + k_no + kf(k_no) < limit:
            mask |= 8
    return mask


def check_top_edge(
    k_yes: Fixed, k_no: Fixed, p_yes: Fixed, p_no: Fixed, fees: PairFees, min_edge: Fixed = 0
) -> tuple[int, Fixed]:
    """``(mask, best_edge)`` like the kernel, for any fee schedule (uses the fee models)."""
    kf = fees.kalshi.unit_fee
    pf = fees.poly.unit_fee
    legs = [
        p + f(p) if 0 < p < ONE else None
        for p, f in ((p_yes, pf), (k_no, kf), (k_yes, kf), (p_no, pf))
    ]
    return _combine(legs[0], legs[1], legs[2], legs[3], min_edge)


def _combine(
    py: int | None, kn: int | None, ky: int | None, pn: int | None, min_edge: int
) -> tuple[int, int]:
    mask = 0
    best = NO_EDGE
    for bit, a, b in ((1, py, kn), (2, ky, pn), (4, py, pn), (8, ky, kn)):
        if a is not None and b is not None:
            edge = ONE - a - b
            if edge > min_edge:
                mask |= bit
            if edge > best:
                best = edge
    return mask, best


def _k_fee(p: int, k_coef: int) -> int:
    return -((-k_coef * p * (ONE - p)) // _K_DIV) * 10_000


def _p_fee(p: int, p_rate: int) -> int:
    return ((p_rate * p * (ONE - p) + _P_HALF) // _P_DIV) * 10


def unit_cost(price: int, k_coef: int, p_rate: int) -> int:
    """1-contract cost of a present ask: ``price`` + its Kalshi-shaped fee (``k_coef``) +
    its Polymarket-shaped fee (``p_rate``), micro-units (see the module doc).

    The event kernel (:func:`arbees.kernel.event_check`) prices every contract with this; a
    venue's schedule sets one of the two parameters and leaves the other 0.
    """
    return price + _k_fee(price, k_coef) + _p_fee(price, p_rate)


def reference_check(
    k_yes: int, k_no: int, p_yes: int, p_no: int, k_coef: int, p_rate: int, min_edge: int
) -> tuple[int, int]:
    """Exact pure-Python twin of the native kernel for one market: ``(mask, best_edge)``.

    ``k_coef`` and ``p_rate`` are micro-units in ``[0, 1_000_000]`` (see the module doc).
    """
    py = unit_cost(p_yes, 0, p_rate) if 0 < p_yes < ONE else None
    kn = unit_cost(k_no, k_coef, 0) if 0 < k_no < ONE else None
    ky = unit_cost(k_yes, k_coef, 0) if 0 < k_yes < ONE else None
    pn = unit_cost(p_no, 0, p_rate) if 0 < p_no < ONE else None
    return _combine(py, kn, ky, pn, min_edge)
