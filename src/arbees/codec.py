"""JSON wire codec for bus messages.

A payload is one JSON object: the message's fields at the top level (so
``redis-cli SUBSCRIBE polymarket:prices`` shows readable messages and consumers written
against the seed's field names keep working), plus two tags::

    {"schema": 3, "kind": "PolymarketPriceUpdate", "market_id": "0x…", "yes_bid": 0.43, …}

The encoder writes :data:`~arbees.messages.SCHEMA_VERSION`; the decoder also reads the
previous versions (:data:`~arbees.messages.READ_SCHEMA_VERSIONS`), so publishers can be
upgraded one at a time. A version-1 or -2 ``MarketAssignment`` carried Kalshi's and
Polymarket's fees in four named fields; they are read as the fee terms of ``"kalshi"`` and
``"polymarket"`` (a bad one is refused naming that field, as those versions did).

Decoding validates everything (types, required fields, prices, sizes, finite numbers;
``NaN``/``Infinity`` literals are refused) and ignores unknown extra keys; a field declared
with a default may be missing. Bad input raises :class:`~arbees.errors.DecodeError` naming
the field — never a half-valid object, never another exception.

Every payload is untrusted (anyone with bus access can publish), so decoding has limits:

* :data:`MAX_PAYLOAD_BYTES` before JSON is parsed at all, then the message type's own
  ``max_bytes`` (16 KiB for a price update, whose largest legitimate form is ~1.2 KB);
* :data:`MAX_JSON_DEPTH` levels of nesting (legitimate messages use 3);
* per field: id, text, list and map lengths, price ranges, sorted unique depth of at most
  :data:`~arbees.messages.PUBLISHED_DEPTH` levels, non-negative int64 counters, and wall
  clocks no later than now plus a skew (:class:`DecodeLimits`, see :mod:`arbees._wire`);
* per message: a fresh price update is not crossed, an assignment's fee terms are usable
  (the fee models' own rules: :mod:`arbees.fees` is not part of the message vocabulary, so
  that check lives here rather than in ``MarketAssignment.from_dict``).

JSON is read and written by msgspec (several times faster than :mod:`json`, and this runs
for every bus message). The bytes are the same as ``json`` with compact separators and
``ensure_ascii=False`` would write: floats go to msgspec pre-rendered with ``repr`` (see
:mod:`arbees._wire`), strings are escaped the same way. msgspec refuses ``NaN`` and
``Infinity`` literals, numbers beyond a double's range, and lone-surrogate escapes as
malformed JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar, overload

import msgspec

from arbees._wire import DEFAULT_LIMITS, DecodeLimits
from arbees.errors import ArbeesError, DecodeError
from arbees.fees import terms_model
from arbees.messages import (
    MESSAGE_TYPES,
    READ_SCHEMA_VERSIONS,
    SCHEMA_VERSION,
    FeeTerms,
    MarketAssignment,
    Message,
)

__all__ = [
    "DEFAULT_LIMITS",
    "KIND_KEY",
    "MAX_JSON_DEPTH",
    "MAX_PAYLOAD_BYTES",
    "SCHEMA_KEY",
    "DecodeLimits",
    "decode",
    "encode",
]

SCHEMA_KEY: Final = "schema"
KIND_KEY: Final = "kind"

MAX_PAYLOAD_BYTES: Final = 256 * 1024
"""No payload larger than this is parsed (the largest type's cap, see ``max_bytes``)."""
MAX_JSON_DEPTH: Final = 8
"""Nesting of arrays/objects (a price update's levels are at depth 3)."""

M = TypeVar("M", bound=Message)

_dumps = msgspec.json.Encoder().encode
_loads = msgspec.json.Decoder().decode


def encode(message: Message) -> bytes:
    """Serialize a message to UTF-8 JSON bytes."""
    payload: dict[str, Any] = {SCHEMA_KEY: SCHEMA_VERSION, KIND_KEY: type(message).__name__}
    message._wire_into(payload)
    return _dumps(payload)


@overload
def decode(
    data: bytes | bytearray | memoryview | str,
    expected: type[M],
    *,
    limits: DecodeLimits | None = None,
) -> M: ...
@overload
def decode(
    data: bytes | bytearray | memoryview | str,
    expected: None = None,
    *,
    limits: DecodeLimits | None = None,
) -> Message: ...
def decode(
    data: bytes | bytearray | memoryview | str,
    expected: type[Message] | None = None,
    *,
    limits: DecodeLimits | None = None,
) -> Message:
    """Parse and validate one payload.

    With ``expected`` the payload must be of that type; without, the ``kind`` tag picks it.
    ``limits`` sets the clock rules (default :data:`DEFAULT_LIMITS`: 5 s of skew).
    """
    raw: bytes | bytearray | memoryview
    if type(data) is str:
        try:
            raw = data.encode()
        except UnicodeEncodeError:
            raise DecodeError("not UTF-8 text") from None
    else:
        raw = data  # type: ignore[assignment]
    size = len(raw)
    if size > MAX_PAYLOAD_BYTES:
        raise DecodeError(f"payload of {size} bytes, over {MAX_PAYLOAD_BYTES}")
    try:
        obj = _loads(raw)
    except (msgspec.MsgspecError, ValueError, TypeError, RecursionError) as exc:
        raise DecodeError(f"not JSON: {str(exc)[:100]}") from None
    if type(obj) is not dict:
        raise DecodeError(f"expected a JSON object, got {type(obj).__name__}")
    version = obj.get(SCHEMA_KEY)
    if type(version) is not int or version not in READ_SCHEMA_VERSIONS:
        raise DecodeError(f"unsupported schema version {version!r:.20}", field=SCHEMA_KEY)
    kind = obj.get(KIND_KEY)
    cls = MESSAGE_TYPES.get(kind) if type(kind) is str else None
    if cls is None:
        raise DecodeError(f"unknown message kind {kind!r:.40}", field=KIND_KEY)
    if expected is not None and cls is not expected:
        raise DecodeError(f"expected {expected.__name__}, got {kind}", field=KIND_KEY)
    if size > cls.max_bytes:
        raise DecodeError(f"{kind} of {size} bytes, over {cls.max_bytes}")
    _check_depth(raw, obj)
    if version < _FEE_TERMS_VERSION and cls is MarketAssignment:
        obj = _legacy_fees(obj)
    message = cls.from_dict(obj, limits=limits)
    check = _CHECKS.get(cls)
    if check is not None:
        check(message)
    return message


def _check_fee_fields(a: MarketAssignment) -> None:
    """An assignment's fee terms follow the fee models' own rules (ranges of rate,
    multiplier and exponent), so a shard never meets fee terms it cannot use."""
    for terms in a.fees:
        _check_terms(terms, "fees")


def _check_terms(terms: FeeTerms, field: str) -> None:
    try:
        terms_model(terms)
    except (ArbeesError, ArithmeticError) as exc:
        raise DecodeError(f"{terms.venue}: {str(exc)[:100]}", field=field) from None


_FEE_TERMS_VERSION: Final = 3
"""The first schema version whose assignments carry ``fees`` (fee terms by venue id)."""

_LEGACY_FEE_FIELDS: Final = {
    # legacy field -> (venue, the fee terms' field, the default version 1/2 gave it)
    "kalshi_fee_multiplier": ("kalshi", "multiplier", "1"),
    "poly_fee_rate": ("polymarket", "rate", "0"),
    "poly_fee_exponent": ("polymarket", "exponent", 1),
    "poly_min_order_size": ("polymarket", "min_order_size", None),
}


def _legacy_fees(obj: dict[str, Any]) -> dict[str, Any]:
    """A version-1/2 assignment's four fee fields as version 3's fee terms of Kalshi and
    Polymarket (what those versions meant); each field is checked on its own, so a bad one
    is refused naming it."""
    obj = dict(obj)
    entries: dict[str, dict[str, Any]] = {
        "kalshi": {"venue": "kalshi", "kind": "kalshi"},
        "polymarket": {"venue": "polymarket", "kind": "polymarket"},
    }
    for name, (venue, key, default) in _LEGACY_FEE_FIELDS.items():
        value = obj.pop(name, default)
        alone = {"venue": venue, "kind": entries[venue]["kind"], key: value}
        try:
            terms = FeeTerms.from_dict(alone)
        except DecodeError as exc:
            raise DecodeError(str(exc)[:100], field=name) from None
        _check_terms(terms, name)
        entries[venue][key] = value
    obj["fees"] = list(entries.values())
    return obj


_CHECKS: Final[dict[type[Message], Callable[[Any], None]]] = {
    MarketAssignment: _check_fee_fields,
}
"""Checks that need more than the message vocabulary (here: the fee models), by type."""


def _check_depth(data: bytes | bytearray | memoryview, obj: dict[str, Any]) -> None:
    """Refuse nesting deeper than :data:`MAX_JSON_DEPTH`. Counting brackets (in C) bounds
    the depth from above, so the tree is walked only for payloads with many of them."""
    raw = bytes(data) if type(data) is memoryview else data
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise DecodeError(f"JSON nested deeper than {MAX_JSON_DEPTH}")
        children = value.values() if type(value) is dict else value
        for child in children:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))
