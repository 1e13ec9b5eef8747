"""Venue identifiers checked the same way wherever they enter arbees (layer 0, no I/O).

Discovery, the monitor's assignment check and the Polymarket feed must agree on what a
token id is: an id discovery accepts but the feed refuses would be assigned and then fail
where it is streamed.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_UINT256", "is_token_id"]

MAX_UINT256: Final = 2**256 - 1


def is_token_id(value: object) -> bool:
    """True for a decimal uint256 string (1..78 ASCII digits, value < 2**256)."""
    if type(value) is not str or not value or len(value) > 78:
        return False
    if not (value.isascii() and value.isdigit()):
        return False
    return len(value) < 78 or int(value) <= MAX_UINT256
