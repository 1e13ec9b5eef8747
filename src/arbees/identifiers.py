"""Venue identifiers checked the same way wherever they enter arbees (layer 0, no I/O).

Discovery, the monitor's and the shard's assignment checks, the orchestrator's restore and
the venues' feeds must agree on what an instrument id is: an id discovery accepts but a
feed refuses would be assigned and then fail where it is streamed. Each venue's check is
its :class:`~arbees.venues.base.Venue`'s ``accepts``; the wiring hands it to the services.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

__all__ = [
    "INSTRUMENT_CHECKS",
    "MAX_SLUG_CHARS",
    "MAX_TICKER_CHARS",
    "MAX_UINT256",
    "InstrumentChecks",
    "is_kalshi_ticker",
    "is_market_slug",
    "is_token_id",
]

MAX_UINT256: Final = 2**256 - 1
MAX_TICKER_CHARS: Final = 100
"""A Kalshi market ticker is ~30 characters; anything past this is not one."""


def is_token_id(value: object) -> bool:
    """True for a decimal uint256 string (1..78 ASCII digits, value < 2**256)."""
    if type(value) is not str or not value or len(value) > 78:
        return False
    if not (value.isascii() and value.isdigit()):
        return False
    return len(value) < 78 or int(value) <= MAX_UINT256


def is_kalshi_ticker(value: object) -> bool:
    """True for a Kalshi market ticker: 1..100 printable ASCII characters, no space."""
    return (
        type(value) is str
        and 0 < len(value) <= MAX_TICKER_CHARS
        and value.isascii()
        and value.isprintable()
        and " " not in value
    )


MAX_SLUG_CHARS: Final = 200
"""A Polymarket US market slug is ~20-60 characters; anything past this is not one."""


def is_market_slug(value: object) -> bool:
    """True for a Polymarket US market slug: 1..200 of ``[A-Za-z0-9._-]``, alphanumeric first.

    Slugs key every Polymarket US market (REST paths, WebSocket subscriptions); the check
    keeps them safe to put in a URL path and a JSON frame unescaped.
    """
    return (
        type(value) is str
        and 0 < len(value) <= MAX_SLUG_CHARS
        and value.isascii()
        and value[0].isalnum()
        and all(c.isalnum() or c in "._-" for c in value)
    )


InstrumentChecks = Mapping[str, Callable[[str], bool]]
"""Venue id -> that venue's instrument-id check."""

INSTRUMENT_CHECKS: Final[InstrumentChecks] = MappingProxyType(
    {"kalshi": is_kalshi_ticker, "polymarket": is_token_id}
)
"""The built-in venues' checks: what a service uses when built without the wiring, which
passes every registered venue's own (:func:`arbees.venues.instrument_checks`)."""
