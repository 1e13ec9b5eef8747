"""The codec's price-update encoders write exactly what the table-driven one writes.

``codec.encode`` writes a :class:`~arbees.messages.PolymarketPriceUpdate` field by field
(``codec._encode_price_update``, the monitor encodes one per update); every other message
goes through ``Message._wire_into``. The two must give the same bytes, so a field added to
the message (or a changed wire form) fails here until the fast encoder follows. The monitor
goes further: ``codec.encode_price_view`` writes a book view's update without building the
message at all, and must give the bytes of ``encode(price_update(view, ...))``.
"""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st
from test_codec import price_updates

from arbees import codec
from arbees._wire import PUBLISHED_DEPTH
from arbees.book import BookView, Level
from arbees.messages import PolymarketPriceUpdate
from arbees.services.monitor import price_update


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


# -- the monitor's encoder: straight from a book's view, no message object ---------------

_prices = st.integers(min_value=1, max_value=999_999)
_sizes = st.integers(min_value=1, max_value=10**15)


@st.composite
def _views(draw: st.DrawFn) -> BookView:
    """A book view as a monitor's book gives it: unique prices, best first, maybe empty
    sides, deeper than the published depth."""
    bid_prices = sorted(draw(st.sets(_prices, max_size=8)), reverse=True)
    ask_prices = sorted(draw(st.sets(_prices, max_size=8)))
    return BookView(
        "polymarket",
        str(draw(st.integers(min_value=1, max_value=10**77))),
        tuple(Level(p, draw(_sizes)) for p in bid_prices),
        tuple(Level(p, draw(_sizes)) for p in ask_prices),
        draw(st.booleans()),
        None,
        0,
        "0x" + draw(st.text("0123456789abcdef", min_size=64, max_size=64)),
    )


@given(
    _views(),
    st.integers(min_value=0, max_value=2**40),
    st.none() | st.integers(min_value=0, max_value=2**45),
    st.integers(min_value=0, max_value=2**62),
    st.integers(min_value=0, max_value=2**62),
    st.integers(min_value=0, max_value=PUBLISHED_DEPTH),
)
def test_the_view_encoder_writes_the_bytes_of_the_message_it_skips(
    view: BookView, seq: int, venue_ts_ms: int | None, received_ns: int, now: int, depth: int
) -> None:
    kwargs: dict[str, Any] = {
        "seq": seq,
        "venue_ts_ms": venue_ts_ms,
        "received_ns": received_ns,
        "published_ns": now,
        "depth": depth,
        "stream_seq": seq + 7,
    }
    message = price_update(view, **kwargs)
    assert codec.encode_price_view(view, **kwargs) == codec.encode(message)


def test_the_view_encoder_mirrors_bids_into_no_asks_and_keeps_one_clock() -> None:
    view = BookView(
        "polymarket",
        "12345",
        (Level(400_000, 3_000_000), Level(390_000, 1_500_000)),
        (Level(440_000, 5_000_000),),
        False,
        17,
        9,
        "0x" + "ab" * 32,
    )
    data = codec.encode_price_view(
        view, seq=2, venue_ts_ms=17, received_ns=9, published_ns=1_760_000_000_123_456_789
    )
    message = codec.decode(data, PolymarketPriceUpdate)
    assert message.no_asks == ((600_000, 3_000_000), (610_000, 1_500_000))
    assert message.yes_asks == ((440_000, 5_000_000),)
    assert (message.no_bid, message.no_ask) == (560_000, 600_000)
    assert message.liquidity == 8_000_000
    assert (message.timestamp_ms, message.published_ns) == (
        1_760_000_000_123,
        1_760_000_000_123_456_789,
    )
