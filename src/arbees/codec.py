"""JSON wire codec for bus messages.

A payload is one JSON object: the message's fields at the top level (so
``redis-cli SUBSCRIBE polymarket:prices`` shows readable messages and consumers written
against the seed's field names keep working), plus two tags::

    {"schema": 1, "kind": "PolymarketPriceUpdate", "market_id": "0x…", "yes_bid": 0.43, …}

Decoding validates everything (types, required fields, prices within [0, 1], sizes ≥ 0,
finite numbers; ``NaN``/``Infinity`` literals are refused) and ignores unknown extra keys.
Bad input raises :class:`~arbees.errors.DecodeError` naming the field — never a
half-valid object.

JSON is read and written by msgspec (several times faster than :mod:`json`, and this runs
for every bus message). The bytes are the same as ``json`` with compact separators and
``ensure_ascii=False`` would write: floats go to msgspec pre-rendered with ``repr`` (see
:mod:`arbees._wire`), strings are escaped the same way. msgspec refuses ``NaN`` and
``Infinity`` literals, numbers beyond a double's range, and lone-surrogate escapes as
malformed JSON.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar, overload

import msgspec

from arbees.errors import DecodeError
from arbees.messages import MESSAGE_TYPES, SCHEMA_VERSION, Message

__all__ = ["KIND_KEY", "SCHEMA_KEY", "decode", "encode"]

SCHEMA_KEY: Final = "schema"
KIND_KEY: Final = "kind"

M = TypeVar("M", bound=Message)

_dumps = msgspec.json.Encoder().encode
_loads = msgspec.json.Decoder().decode


def encode(message: Message) -> bytes:
    """Serialize a message to UTF-8 JSON bytes."""
    payload: dict[str, Any] = {SCHEMA_KEY: SCHEMA_VERSION, KIND_KEY: type(message).__name__}
    message._wire_into(payload)
    return _dumps(payload)


@overload
def decode(data: bytes | str, expected: type[M]) -> M: ...
@overload
def decode(data: bytes | str, expected: None = None) -> Message: ...
def decode(data: bytes | str, expected: type[Message] | None = None) -> Message:
    """Parse and validate one payload.

    With ``expected`` the payload must be of that type; without, the ``kind`` tag picks it.
    """
    try:
        obj = _loads(data)
    except (msgspec.MsgspecError, ValueError, TypeError, RecursionError) as exc:
        raise DecodeError(f"not JSON: {exc}") from None
    if type(obj) is not dict:
        raise DecodeError(f"expected a JSON object, got {type(obj).__name__}")
    version = obj.get(SCHEMA_KEY)
    if version != SCHEMA_VERSION or type(version) is not int:
        raise DecodeError(f"unsupported schema version {version!r:.20}", field=SCHEMA_KEY)
    kind = obj.get(KIND_KEY)
    cls = MESSAGE_TYPES.get(kind) if type(kind) is str else None
    if cls is None:
        raise DecodeError(f"unknown message kind {kind!r:.40}", field=KIND_KEY)
    if expected is not None and cls is not expected:
        raise DecodeError(f"expected {expected.__name__}, got {kind}", field=KIND_KEY)
    return cls.from_dict(obj)
