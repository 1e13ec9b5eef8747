"""Exact conversion of Kalshi ``ticker``/``trade`` messages, and the hot-path value caches.

Kept out of the protocol state machine: these are pure functions of one message. The
``PRICES``/``COUNTS`` caches map wire strings to VALIDATED micro-unit values (a venue uses
a few hundred distinct strings), so the ``orderbook_delta`` path skips regex parsing and
range checks for strings it has already accepted.
"""

from __future__ import annotations

from arbees.kalshi.events import TickerUpdate, Trade
from arbees.kalshi.levels import parse_count, parse_price_field
from arbees.kalshi.wire import TickerMsg, TradeMsg
from arbees.money import CONVERSION_CACHE_MAX as _CACHE_MAX

__all__ = ["COUNTS", "PRICES", "remember", "ticker_update", "trade_event"]

PRICES: dict[object, int] = {}
COUNTS: dict[object, int] = {}


def remember(price_key: object, price: int, count_key: object, count: int) -> None:
    """Cache validated conversions of wire strings (floats are not cached)."""
    if type(price_key) is str:
        if len(PRICES) >= _CACHE_MAX:
            PRICES.clear()
        PRICES[price_key] = price
    if type(count_key) is str:
        if len(COUNTS) >= _CACHE_MAX:
            COUNTS.clear()
        COUNTS[count_key] = count


def _opt_price(value: object, legacy_cents: int | None, field: str) -> int | None:
    if value is None and legacy_cents is None:
        return None
    return parse_price_field(value, legacy_cents, field, allow_bounds=True)


def _opt_count(value: object, field: str) -> int | None:
    return None if value is None else parse_count(value, None, field)


def ticker_update(m: TickerMsg, received_ns: int) -> TickerUpdate:
    """A ``ticker`` message (omitted fields → ``None``); raises ``DecodeError``."""
    return TickerUpdate(
        m.market_ticker,
        _opt_price(m.yes_bid_dollars, m.yes_bid, "yes_bid_dollars"),
        _opt_price(m.yes_ask_dollars, m.yes_ask, "yes_ask_dollars"),
        _opt_count(m.yes_bid_size_fp, "yes_bid_size_fp"),
        _opt_count(m.yes_ask_size_fp, "yes_ask_size_fp"),
        _opt_price(m.price_dollars, None, "price_dollars"),
        m.ts_ms,
        received_ns,
    )


def trade_event(m: TradeMsg, received_ns: int) -> Trade:
    """A ``trade`` message (legacy cent/int fields as fallbacks); raises ``DecodeError``."""
    return Trade(
        m.market_ticker,
        _opt_price(m.yes_price_dollars, m.yes_price, "yes_price_dollars"),
        _opt_price(m.no_price_dollars, None, "no_price_dollars"),
        _opt_count(m.count_fp if m.count_fp is not None else m.count, "count_fp"),
        m.taker_outcome_side or m.taker_side,
        m.taker_book_side,
        m.ts_ms,
        received_ns,
    )
