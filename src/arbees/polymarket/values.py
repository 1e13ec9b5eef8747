"""Validated value parsing for the Polymarket protocol (exact, cached, strict).

Split from :mod:`arbees.polymarket.protocol` to keep that file about dispatch and books.
Everything raises :class:`BadValue` (cheap, internal) which the protocol turns into a
counted, logged rejection. Price and size strings repeat a lot on the wire, so validated
results are cached in small bounded dicts the hot path reads directly.
"""

from __future__ import annotations

from typing import Final

from arbees.book import MAX_BOOK_SIZE
from arbees.errors import DecodeError
from arbees.identifiers import is_token_id
from arbees.money import CONVERSION_CACHE_MAX, ONE, Fixed, parse_fixed

__all__ = [
    "CACHE_MAX",
    "TEXT_FRAMES",
    "BadValue",
    "best_price",
    "epoch_ms",
    "is_token_id",
    "level_price",
    "level_prices",
    "optional_fixed",
    "required_fixed",
    "size",
    "sizes",
]

TEXT_FRAMES: Final = frozenset({"PONG", "NO NEW ASSETS", "PING"})
CACHE_MAX: Final = CONVERSION_CACHE_MAX
"""Entries per cache of this module (level prices, sizes): the codec's bound, one for every
conversion cache (a size cache of 65,536 held about 8 MB in a monitor of 10,000 deep books)."""

level_prices: dict[str, Fixed] = {}
sizes: dict[str, Fixed] = {}


class BadValue(Exception):
    """A wire value failed validation (the message says which field and why)."""


def level_price(text: str, field: str) -> Fixed:
    """A level price: exact, strictly inside (0, 1). Cached (few distinct strings)."""
    p = level_prices.get(text)
    if p is not None:
        return p
    try:
        p = parse_fixed(text, field=field)
    except DecodeError as exc:
        raise BadValue(str(exc)) from None
    if not 0 < p < ONE:
        raise BadValue(f"{field}: price outside (0, 1): {text[:20]!r}")
    if len(level_prices) >= CACHE_MAX:
        level_prices.clear()
    level_prices[text] = p
    return p


def size(text: str, field: str) -> Fixed:
    """A size: exact, >= 0 and at most :data:`~arbees.book.MAX_BOOK_SIZE`. Cached (round
    sizes repeat a lot)."""
    s = sizes.get(text)
    if s is not None:
        return s
    try:
        s = parse_fixed(text, field=field)
    except DecodeError as exc:
        raise BadValue(str(exc)) from None
    if s < 0:
        raise BadValue(f"{field}: negative size {text[:20]!r}")
    if s > MAX_BOOK_SIZE:
        raise BadValue(f"{field}: size over {MAX_BOOK_SIZE // ONE} {text[:20]!r}")
    if len(sizes) >= CACHE_MAX:
        sizes.clear()
    sizes[text] = s
    return s


def best_price(text: str | None, sentinel: str, field: str) -> Fixed | None:
    """A venue best bid/ask: ``sentinel`` ("0" bid / "1" ask) means none."""
    if text is None or text == sentinel:
        return None
    try:
        return level_price(text, field)
    except BadValue:
        if _fixed_or_none(text) in (0, ONE):  # "0.00", "1.0": sentinels spelled long
            return None
        raise


def _fixed_or_none(text: str) -> Fixed | None:
    try:
        return parse_fixed(text)
    except DecodeError:
        return None


def epoch_ms(text: str) -> int | None:
    """Epoch-ms timestamp string -> int; ``""`` (absent) -> None."""
    if not text:
        return None
    if len(text) > 16 or not (text.isascii() and text.isdigit()):
        raise BadValue(f"timestamp: not epoch milliseconds: {text[:20]!r}")
    return int(text)


def optional_fixed(text: str, field: str) -> Fixed | None:
    if not text:
        return None
    return required_fixed(text, field)


def required_fixed(text: str, field: str) -> Fixed:
    try:
        value = parse_fixed(text, field=field)
    except DecodeError as exc:
        raise BadValue(str(exc)) from None
    if not 0 <= value <= ONE:
        raise BadValue(f"{field}: outside [0, 1]: {text[:20]!r}")
    return value
