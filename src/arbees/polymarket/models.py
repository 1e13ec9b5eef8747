"""Typed Polymarket REST objects (CLOB books, Gamma markets/events) and their decoders.

Gamma is loose: ``outcomes`` / ``clobTokenIds`` / ``outcomePrices`` are JSON arrays encoded
as strings, numbers come as strings or numbers, ``gameStartTime`` is ``"2026-04-05
15:10:00+00"`` (not RFC 3339). The decoders here turn one such object into exact, typed
values (Decimals for fees and ticks, aware UTC datetimes, outcome -> token mapping) and
raise :class:`~arbees.errors.DecodeError` naming the field when something is unusable.
Bodies should be parsed with ``json.loads(..., parse_float=Decimal)`` so numbers stay exact.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import attrs

from arbees.book import BookView, Level
from arbees.errors import HOSTILE_INPUT_ERRORS, DecodeError
from arbees.money import ONE, Fixed, parse_fixed
from arbees.polymarket.protocol import is_token_id

__all__ = [
    "FeeSchedule",
    "GammaEvent",
    "GammaMarket",
    "Geoblock",
    "Outcome",
    "RestBook",
    "parse_datetime",
    "parse_fee_rate_bps",
    "parse_gamma_event",
    "parse_gamma_market",
    "parse_geoblock",
    "parse_midpoint",
    "parse_price_response",
    "parse_rest_book",
]

_MAX_TS_DIGITS = 16  # epoch milliseconds, as on the WebSocket


@attrs.frozen
class FeeSchedule:
    """A market's taker fee schedule: ``fee = shares * rate * (p * (1 - p)) ** exponent``.

    Attributes:
        rate: fee rate (exact).
        exponent: exponent (exact; 1 in late 2026).
        taker_only: fees charged to takers only.
        rebate_rate: maker rebate rate (exact).
    """

    rate: Decimal
    exponent: Decimal
    taker_only: bool
    rebate_rate: Decimal


@attrs.frozen
class Outcome:
    """One outcome of a market and the token that pays on it.

    Attributes:
        label: outcome label (``"Yes"``, a team name, ...).
        token_id: CLOB token id.
    """

    label: str
    token_id: str


@attrs.frozen
class GammaMarket:
    """A Gamma market.

    Attributes:
        id: Gamma market id.
        question: the market's question.
        condition_id: CLOB condition id (``0x`` + 64 hex).
        slug: URL slug.
        outcomes: outcomes in venue order, each mapped to its token id.
        active: market active.
        closed: market closed.
        neg_risk: part of a neg-risk event.
        game_start_time: sports start time (aware UTC) when given.
        sports_market_type: e.g. ``"moneyline"`` when given.
        fees_enabled: whether taker fees apply.
        fee_type: venue fee category when given.
        fee_schedule: the fee schedule when given.
        tick_size: minimum price increment when given.
        min_order_size: minimum order size when given.
        end_date: end date (aware UTC) when given.
    """

    id: str
    question: str
    condition_id: str
    slug: str
    outcomes: tuple[Outcome, ...]
    active: bool
    closed: bool
    neg_risk: bool = False
    game_start_time: datetime | None = None
    sports_market_type: str | None = None
    fees_enabled: bool = False
    fee_type: str | None = None
    fee_schedule: FeeSchedule | None = None
    tick_size: Decimal | None = None
    min_order_size: Decimal | None = None
    end_date: datetime | None = None

    @property
    def token_ids(self) -> tuple[str, ...]:
        return tuple(o.token_id for o in self.outcomes)

    def token_for(self, label: str) -> str:
        """Token id of an outcome label (case-insensitive); ``KeyError`` if absent."""
        for o in self.outcomes:
            if o.label.casefold() == label.casefold():
                return o.token_id
        raise KeyError(label)


@attrs.frozen
class GammaEvent:
    """A Gamma event with its markets.

    Attributes:
        id: Gamma event id.
        title: event title.
        slug: URL slug.
        active: event active.
        closed: event closed.
        markets: the event's markets that could be decoded.
    """

    id: str
    title: str
    slug: str
    active: bool
    closed: bool
    markets: tuple[GammaMarket, ...]


@attrs.frozen
class RestBook:
    """A CLOB ``/book`` answer.

    Attributes:
        token_id: the token.
        market: condition id.
        bids: levels best (highest) first.
        asks: levels best (lowest) first.
        timestamp_ms: venue timestamp.
        tick_size: tick size when given.
        min_order_size: minimum order size when given.
        neg_risk: neg-risk flag.
        last_trade_price: last trade price when given.
    """

    token_id: str
    market: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    timestamp_ms: int | None
    tick_size: Fixed | None
    min_order_size: Fixed | None
    neg_risk: bool
    last_trade_price: Fixed | None

    def view(self, depth: int = 10, received_ns: int = 0) -> BookView:
        """As a (fresh) :class:`~arbees.book.BookView`."""
        return BookView(
            "polymarket",
            self.token_id,
            self.bids[:depth],
            self.asks[:depth],
            False,
            self.timestamp_ms,
            received_ns,
            self.market,
        )


# -- helpers --------------------------------------------------------------------------------


def _str(obj: Mapping[str, object], key: str, default: str | None = None) -> str:
    value = obj.get(key, default)
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise DecodeError(f"expected a string, got {type(value).__name__}", field=key)
    return value


def _bool(obj: Mapping[str, object], key: str, default: bool = False) -> bool:
    value = obj.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise DecodeError(f"expected a boolean, got {type(value).__name__}", field=key)
    return value


def _decimal(value: object, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise DecodeError(f"expected a number, got {type(value).__name__}", field=field)
    try:
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise DecodeError(f"not a number: {str(value)[:40]!r}", field=field) from None
    if not d.is_finite():
        raise DecodeError(f"not a finite number: {value!r}", field=field)
    return d


def _string_list(value: object, field: str) -> list[str]:
    """A JSON array that Gamma may encode as a string (decode twice)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except HOSTILE_INPUT_ERRORS:  # not JSON, nested too deep, huge integer
            raise DecodeError("not a JSON array", field=field) from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DecodeError("expected an array of strings", field=field)
    return value


def parse_datetime(value: object, field: str = "datetime") -> datetime | None:
    """Gamma dates -> aware UTC: ``"2026-04-05 15:10:00+00"``, ISO with ``Z``, or a date."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise DecodeError(f"expected a string, got {type(value).__name__}", field=field)
    text = value.strip().replace("Z", "+00:00")
    if (
        len(text) >= 3
        and text[-3] in "+-"
        and text[-3:].replace("+", "").replace("-", "").isdigit()
    ):
        text += ":00"  # "+00" -> "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise DecodeError(f"not a date/time: {value[:40]!r}", field=field) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _fee_schedule(value: object) -> FeeSchedule | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise DecodeError("expected an object", field="feeSchedule")
    rate = _decimal(value.get("rate"), "feeSchedule.rate")
    exponent = _decimal(value.get("exponent", 1), "feeSchedule.exponent")
    rebate = _decimal(value.get("rebateRate", 0), "feeSchedule.rebateRate")
    if rate is None or rate < 0:
        raise DecodeError("missing or negative rate", field="feeSchedule.rate")
    return FeeSchedule(
        rate=rate,
        exponent=exponent if exponent is not None else Decimal(1),
        taker_only=_bool(value, "takerOnly", True),
        rebate_rate=rebate if rebate is not None else Decimal(0),
    )


def parse_gamma_market(obj: object) -> GammaMarket:
    """Decode one Gamma market object."""
    if not isinstance(obj, Mapping):
        raise DecodeError("market is not an object")
    labels = _string_list(obj.get("outcomes", "[]"), "outcomes")
    tokens = _string_list(obj.get("clobTokenIds", "[]"), "clobTokenIds")
    if len(labels) != len(tokens):
        raise DecodeError(f"{len(labels)} outcomes for {len(tokens)} tokens", field="clobTokenIds")
    for t in tokens:
        if not is_token_id(t):
            raise DecodeError(f"not a token id: {t[:90]!r}", field="clobTokenIds")
    sports = obj.get("sportsMarketType")
    fee_type = obj.get("feeType")
    return GammaMarket(
        id=str(obj.get("id", "")),
        question=_str(obj, "question", ""),
        condition_id=_str(obj, "conditionId", ""),
        slug=_str(obj, "slug", ""),
        outcomes=tuple(Outcome(lbl, tok) for lbl, tok in zip(labels, tokens, strict=True)),
        active=_bool(obj, "active"),
        closed=_bool(obj, "closed"),
        neg_risk=_bool(obj, "negRisk"),
        game_start_time=parse_datetime(obj.get("gameStartTime"), "gameStartTime"),
        sports_market_type=sports if isinstance(sports, str) and sports else None,
        fees_enabled=_bool(obj, "feesEnabled"),
        fee_type=fee_type if isinstance(fee_type, str) and fee_type else None,
        fee_schedule=_fee_schedule(obj.get("feeSchedule")),
        tick_size=_decimal(obj.get("orderPriceMinTickSize"), "orderPriceMinTickSize"),
        min_order_size=_decimal(obj.get("orderMinSize"), "orderMinSize"),
        end_date=parse_datetime(obj.get("endDate"), "endDate"),
    )


def parse_gamma_event(obj: object) -> GammaEvent:
    """Decode one Gamma event and its markets (undecodable markets raise)."""
    if not isinstance(obj, Mapping):
        raise DecodeError("event is not an object")
    markets = obj.get("markets") or []
    if not isinstance(markets, list):
        raise DecodeError("expected an array", field="markets")
    return GammaEvent(
        id=str(obj.get("id", "")),
        title=_str(obj, "title", ""),
        slug=_str(obj, "slug", ""),
        active=_bool(obj, "active"),
        closed=_bool(obj, "closed"),
        markets=tuple(parse_gamma_market(m) for m in markets),
    )


def _levels(value: object, field: str, best_high: bool) -> tuple[Level, ...]:
    if not isinstance(value, list):
        raise DecodeError("expected an array", field=field)
    levels: dict[Fixed, Fixed] = {}
    for lvl in value:
        if not isinstance(lvl, Mapping):
            raise DecodeError("level is not an object", field=field)
        price = _opt_fixed(lvl.get("price"), f"{field}.price")
        size = _opt_fixed(lvl.get("size"), f"{field}.size")
        if price is None or size is None or not 0 < price < ONE or size < 0:
            raise DecodeError(f"bad level {price}/{size}", field=field)
        if price in levels:
            raise DecodeError(f"duplicate price level {price}", field=field)
        levels[price] = size
    for price in [p for p, s in levels.items() if not s]:
        del levels[price]
    return tuple(Level(p, levels[p]) for p in sorted(levels, reverse=best_high))


def _opt_fixed(value: object, field: str) -> Fixed | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        value = str(value)
    return parse_fixed(value, field=field)


def parse_rest_book(obj: object) -> RestBook:
    """Decode a CLOB ``/book`` answer (levels in any order; best first on output)."""
    if not isinstance(obj, Mapping):
        raise DecodeError("book is not an object")
    ts = obj.get("timestamp")
    if ts is not None and not (
        isinstance(ts, str) and len(ts) <= _MAX_TS_DIGITS and ts.isascii() and ts.isdigit()
    ):
        raise DecodeError("not epoch milliseconds", field="timestamp")
    tick = _opt_fixed(obj.get("tick_size"), "tick_size")
    mos = _opt_fixed(obj.get("min_order_size"), "min_order_size")
    ltp = _opt_fixed(obj.get("last_trade_price"), "last_trade_price")
    bids = _levels(obj.get("bids", []), "bids", best_high=True)
    asks = _levels(obj.get("asks", []), "asks", best_high=False)
    if bids and asks and bids[0].price >= asks[0].price:
        raise DecodeError(f"crossed book {bids[0].price}/{asks[0].price}")
    return RestBook(
        token_id=_str(obj, "asset_id"),
        market=_str(obj, "market", ""),
        bids=bids,
        asks=asks,
        timestamp_ms=int(ts) if ts else None,
        tick_size=tick,
        min_order_size=mos,
        neg_risk=_bool(obj, "neg_risk"),
        last_trade_price=ltp,
    )


@attrs.frozen
class Geoblock:
    """``GET /api/geoblock``: whether this IP may trade (reads are public either way).

    Attributes:
        blocked: trading blocked for this IP.
        ip: the IP the venue saw.
        country: ISO country code.
        region: region code.
    """

    blocked: bool
    ip: str
    country: str
    region: str


def parse_geoblock(obj: object) -> Geoblock:
    """Decode a geoblock answer."""
    if not isinstance(obj, Mapping):
        raise DecodeError("geoblock is not an object")
    return Geoblock(
        blocked=_bool(obj, "blocked"),
        ip=_str(obj, "ip", ""),
        country=_str(obj, "country", ""),
        region=_str(obj, "region", ""),
    )


def parse_midpoint(obj: object) -> Fixed:
    """``/midpoint``: live answers ``{"mid": ...}``, newer docs ``{"mid_price": ...}``."""
    if not isinstance(obj, Mapping):
        raise DecodeError("midpoint is not an object")
    key = "mid" if "mid" in obj else "mid_price"
    value = _opt_fixed(obj.get(key), key)
    if value is None:
        raise DecodeError("missing", field=key)
    return value


def parse_price_response(obj: object) -> Fixed:
    """``/price``: ``{"price": ".512"}``."""
    if not isinstance(obj, Mapping):
        raise DecodeError("price is not an object")
    value = _opt_fixed(obj.get("price"), "price")
    if value is None:
        raise DecodeError("missing", field="price")
    return value


def parse_fee_rate_bps(obj: object) -> int:
    """``/fee-rate``: ``{"base_fee": 0}`` -> basis points."""
    if not isinstance(obj, Mapping):
        raise DecodeError("fee rate is not an object")
    value = obj.get("base_fee")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DecodeError("expected a non-negative integer", field="base_fee")
    return value
