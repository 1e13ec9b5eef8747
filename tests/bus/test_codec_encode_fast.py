"""The codec's price-update encoder writes exactly what the table-driven one writes.

``codec.encode`` writes a :class:`~arbees.messages.PolymarketPriceUpdate` field by field
(``codec._encode_price_update``, the monitor encodes one per update); every other message
goes through ``Message._wire_into``. The two must give the same bytes, so a field added to
the message (or a changed wire form) fails here until the fast encoder follows.
"""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st
from test_codec import price_updates

from arbees import codec
from arbees.messages import PolymarketPriceUpdate


def table_driven(message: PolymarketPriceUpdate) -> bytes:
    payload: dict[str, Any] = {
        codec.SCHEMA_KEY: codec.SCHEMA_VERSION,
        codec.KIND_KEY: "PolymarketPriceUpdate",
    }
    message._wire_into(payload)
    return codec._dumps(payload)


@given(price_updates, st.booleans())
def test_the_fast_encoder_writes_the_table_driven_bytes(
    message: PolymarketPriceUpdate, stale: bool
) -> None:
    if stale:
        message = attrs.evolve(message, stale=True)
    data = codec.encode(message)
    assert data == table_driven(message)
    assert codec.decode(data, PolymarketPriceUpdate) == message


def test_empty_sides_sizes_and_a_stale_book_are_written_as_the_table_does() -> None:
    message = PolymarketPriceUpdate(
        market_id="0x" + "ab" * 32,
        token_id="12345",
        yes_bid=None,
        yes_ask=440_000,
        no_bid=560_000,
        no_ask=None,
        liquidity=1_000_000,
        timestamp_ms=1,
        yes_ask_size=5_000_000,
        no_bid_size=5_000_000,
        yes_asks=((440_000, 5_000_000), (450_000, 1_000_000)),
        tick_size=10_000,
        stale=True,
    )
    data = codec.encode(message)
    assert data == table_driven(message)
    assert b'"yes_bid":null,"yes_bid_exact":null' in data
    assert b'"stale":true' in data
