"""Typed Kalshi REST models (series fee model, events, markets, order books).

Converted from the REST JSON at one place (``from_json`` functions) with exact money: the
wire keeps prices as ``*_dollars`` strings, we keep micro-unit ints. Response ``status``
values are NOT the filter values (``active`` vs ``open``...), so status stays a string.
:func:`parse_events` is the one decoder of an ``/events`` body: the REST client, discovery and
``arbees match`` all use it, and its typed events are never turned back into JSON.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from arbees.book import Level
from arbees.errors import HOSTILE_INPUT_ERRORS, DecodeError, DecodeRejection
from arbees.kalshi.levels import parse_levels, parse_price_field
from arbees.money import ONE, Fixed, parse_decimal, parse_fixed

__all__ = [
    "Event",
    "KalshiOrderbook",
    "Market",
    "Series",
    "parse_events",
    "parse_orderbook",
    "parse_series_list",
    "parse_time",
]

log = logging.getLogger(__name__)


def parse_time(value: object, field: str) -> datetime | None:
    """ISO-8601 (``Z`` allowed) → aware datetime; ``None``/``""`` → ``None``."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise DecodeError("expected an ISO-8601 string", field=field)
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise DecodeError(f"not an ISO-8601 time: {value[:40]!r}", field=field) from None
    if dt.tzinfo is None:
        raise DecodeError("time without a timezone", field=field)
    return dt


def _str(obj: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            raise DecodeError("missing", field=key)
        return ""
    if not isinstance(value, str):
        raise DecodeError(f"expected a string, got {type(value).__name__}", field=key)
    return value


@attrs.frozen
class Series:
    """A series and its fee model.

    Attributes:
        ticker: e.g. ``KXNBAGAME``.
        title: display title.
        fee_type: ``quadratic``, ``quadratic_with_maker_fees``, ``flat``...
        fee_multiplier: exact multiplier in micro-units (1 → 1_000_000).
    """

    ticker: str
    title: str
    fee_type: str
    fee_multiplier: Fixed

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Series:
        raw = obj.get("fee_multiplier", 1)
        return cls(
            _str(obj, "ticker", required=True),
            _str(obj, "title"),
            _str(obj, "fee_type") or "quadratic",
            parse_fixed(raw, field="fee_multiplier"),
        )


def parse_series_list(body: object) -> tuple[list[Series], list[DecodeRejection]]:
    """Decode a ``GET /series`` body (``{"series": [...]}``): each series once.

    A series that cannot be decoded is refused alone (named by its ticker, else its
    position). Raises :class:`DecodeError` only when the body is not a series list.
    """
    raw_series = body.get("series") if isinstance(body, dict) else None
    if not isinstance(raw_series, list):
        raise DecodeError("Kalshi body is not {'series': [...]}", field="series")
    found: list[Series] = []
    rejected: list[DecodeRejection] = []
    for i, raw in enumerate(raw_series):
        try:
            if not isinstance(raw, dict):
                raise DecodeError("series is not an object")
            found.append(Series.from_json(raw))
        except HOSTILE_INPUT_ERRORS as exc:
            ticker = raw.get("ticker") if isinstance(raw, dict) else None
            ident = ticker[:100] if isinstance(ticker, str) and ticker else f"series[{i}]"
            rejected.append(DecodeRejection.of(ident, exc))
            log.info("kalshi series %s rejected", ident)
    return found, rejected


def _strike(obj: dict[str, Any], key: str) -> Decimal | None:
    return parse_decimal(obj.get(key), field=key)


@attrs.frozen
class Market:
    """One binary market.

    Attributes:
        ticker: market ticker (``KXNBAGAME-26OCT20OKCSAS-OKC``).
        event_ticker: its event.
        title: market title.
        yes_sub_title: the outcome YES pays on (the team name for game markets).
        no_sub_title: as sent (often the SAME team — never read the opponent from it).
        status: response status (``active``, ``closed``, ``determined``, ``finalized``...).
        close_time: padded close time (not the game start).
        expected_expiration_time: when known.
        fee_waiver_expiration_time: fees are waived until then, when set.
        yes_bid: best YES bid from the listing, when sent.
        yes_ask: best YES ask from the listing, when sent.
        strike_type: ``"greater"``, ``"less"``, ``"between"``... for a market on a number
            (a total, a spread), ``""`` otherwise (only ``"greater"`` is matched).
        floor_strike: YES pays when the number is above it (``strike_type="greater"``).
    """

    ticker: str
    event_ticker: str
    title: str
    yes_sub_title: str
    no_sub_title: str
    status: str
    close_time: datetime | None
    expected_expiration_time: datetime | None
    fee_waiver_expiration_time: datetime | None
    yes_bid: Fixed | None
    yes_ask: Fixed | None
    strike_type: str = ""
    floor_strike: Decimal | None = None

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Market:
        def price(key: str) -> Fixed | None:
            v = obj.get(key)
            return None if v is None else parse_price_field(v, None, key, allow_bounds=True)

        return cls(
            _str(obj, "ticker", required=True),
            _str(obj, "event_ticker"),
            _str(obj, "title"),
            _str(obj, "yes_sub_title"),
            _str(obj, "no_sub_title"),
            _str(obj, "status"),
            parse_time(obj.get("close_time"), "close_time"),
            parse_time(obj.get("expected_expiration_time"), "expected_expiration_time"),
            parse_time(obj.get("fee_waiver_expiration_time"), "fee_waiver_expiration_time"),
            price("yes_bid_dollars"),
            price("yes_ask_dollars"),
            _str(obj, "strike_type"),
            _strike(obj, "floor_strike"),
        )

    def fees_waived(self, now: datetime) -> bool:
        """True while a fee waiver is in force."""
        return self.fee_waiver_expiration_time is not None and now < self.fee_waiver_expiration_time


@attrs.frozen
class Event:
    """An event and (when asked for) its markets.

    Attributes:
        event_ticker: e.g. ``KXNBAGAME-26OCT20OKCSAS``.
        series_ticker: e.g. ``KXNBAGAME``.
        title: display title.
        sub_title: display sub-title.
        markets: nested markets (empty unless ``with_nested_markets``).
    """

    event_ticker: str
    series_ticker: str
    title: str
    sub_title: str
    markets: tuple[Market, ...] = ()

    @classmethod
    def from_json(cls, obj: object) -> Event:
        if not isinstance(obj, dict):
            raise DecodeError(f"event is not an object: {type(obj).__name__}")
        markets = obj.get("markets") or []
        if not isinstance(markets, list):
            raise DecodeError("expected a list", field="markets")
        if not all(isinstance(m, dict) for m in markets):
            raise DecodeError("market is not an object", field="markets")
        return cls(
            _str(obj, "event_ticker", required=True),
            _str(obj, "series_ticker"),
            _str(obj, "title"),
            _str(obj, "sub_title"),
            tuple(Market.from_json(m) for m in markets),
        )


def parse_events(
    body: object, *, first_index: int = 0
) -> tuple[list[Event], list[DecodeRejection]]:
    """Decode an ``/events`` body (``{"events": [...], "cursor": ...}``): each event once.

    An event that cannot be decoded (with any of its markets) is refused alone, logged and
    returned as a :class:`~arbees.errors.DecodeRejection`; one without a readable ticker is
    named by its position, counted from ``first_index`` (the events on earlier pages).
    Raises :class:`DecodeError` only when the body itself is not an events response.
    """
    raw_events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(raw_events, list):
        raise DecodeError("Kalshi body is not {'events': [...]}", field="events")
    events: list[Event] = []
    rejected: list[DecodeRejection] = []
    for i, raw in enumerate(raw_events):
        try:
            events.append(Event.from_json(raw))
        except HOSTILE_INPUT_ERRORS as exc:
            ticker = raw.get("event_ticker") if isinstance(raw, dict) else None
            ident = (
                ticker[:100] if isinstance(ticker, str) and ticker else f"events[{first_index + i}]"
            )
            rejection = DecodeRejection.of(ident, exc)
            log.info("kalshi event %s rejected: %s", ident, rejection.reason[:200])
            rejected.append(rejection)
    return events, rejected


@attrs.frozen
class KalshiOrderbook:
    """A REST order book: bids only, best first.

    Attributes:
        yes_bids: YES bids, best (highest) first.
        no_bids: NO bids, best first.
    """

    yes_bids: tuple[Level, ...]
    no_bids: tuple[Level, ...]

    @property
    def yes_ask(self) -> Level | None:
        """1 − best NO bid (None when NO is empty)."""
        return Level(ONE - self.no_bids[0].price, self.no_bids[0].size) if self.no_bids else None

    @property
    def no_ask(self) -> Level | None:
        """1 − best YES bid (None when YES is empty)."""
        return Level(ONE - self.yes_bids[0].price, self.yes_bids[0].size) if self.yes_bids else None


def parse_orderbook(body: dict[str, Any]) -> KalshiOrderbook:
    """``{"orderbook_fp": {"yes_dollars", "no_dollars"}}`` (or the legacy cents shape)."""
    fp = body.get("orderbook_fp")
    if isinstance(fp, dict):
        yes = parse_levels(fp.get("yes_dollars"), None, None, "orderbook_fp.yes_dollars")
        no = parse_levels(fp.get("no_dollars"), None, None, "orderbook_fp.no_dollars")
    else:
        legacy = body.get("orderbook")
        if not isinstance(legacy, dict):
            raise DecodeError("missing", field="orderbook_fp")
        yes = parse_levels(None, None, legacy.get("yes"), "orderbook.yes")
        no = parse_levels(None, None, legacy.get("no"), "orderbook.no")

    def best_first(levels: dict[Fixed, Fixed]) -> tuple[Level, ...]:
        return tuple(Level(p, levels[p]) for p in sorted(levels, reverse=True))

    return KalshiOrderbook(best_first(yes), best_first(no))
