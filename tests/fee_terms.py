"""Tests' shorthand for a Kalshi x Polymarket game's fee terms.

Version-3 assignments carry fee terms keyed by venue id (``MarketAssignment.fees``). Many
tests describe a two-team game's fees by the four names versions 1 and 2 used; these
helpers turn them into the two venues' :class:`~arbees.messages.FeeTerms`, so a bad value
still reaches the same term of the same venue.
"""

from __future__ import annotations

from typing import Any, Protocol

from arbees.messages import FeeTerms

__all__ = ["PAIR_FEE_KEYS", "pair_fields", "pair_terms", "terms_of", "with_pair_terms"]

PAIR_FEE_KEYS = (
    "kalshi_fee_multiplier",
    "poly_fee_rate",
    "poly_fee_exponent",
    "poly_min_order_size",
)


def pair_terms(
    *,
    kalshi_fee_multiplier: str = "1",
    poly_fee_rate: str = "0",
    poly_fee_exponent: int = 1,
    poly_min_order_size: int | None = None,
) -> tuple[FeeTerms, FeeTerms]:
    """Kalshi's and Polymarket's fee terms (the defaults versions 1 and 2 had)."""
    return (
        FeeTerms("kalshi", "kalshi", multiplier=kalshi_fee_multiplier),
        FeeTerms(
            "polymarket",
            "polymarket",
            rate=poly_fee_rate,
            exponent=poly_fee_exponent,
            min_order_size=poly_min_order_size,
        ),
    )


def with_pair_terms(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with the legacy fee names replaced by ``fees`` (unless ``fees`` is given)."""
    out = {k: v for k, v in fields.items() if k not in PAIR_FEE_KEYS}
    if "fees" not in out:
        out["fees"] = pair_terms(**{k: v for k, v in fields.items() if k in PAIR_FEE_KEYS})
    return out


class _HasFees(Protocol):
    def fee_terms(self, venue: str) -> FeeTerms | None: ...


def terms_of(holder: _HasFees, venue: str) -> FeeTerms:
    """``venue``'s fee terms of an assignment or a game spec (it must carry them)."""
    terms = holder.fee_terms(venue)
    assert terms is not None, f"no fee terms for {venue}"
    return terms


def pair_fields(holder: _HasFees) -> tuple[str, str, int, int | None]:
    """``(kalshi multiplier, polymarket rate, exponent, min order size)``: what versions 1
    and 2 carried in their four fee fields."""
    k, p = terms_of(holder, "kalshi"), terms_of(holder, "polymarket")
    assert k.kind == "kalshi"
    assert p.kind in ("polymarket", "none")
    return k.multiplier, p.rate, p.exponent, p.min_order_size
