"""Polymarket US REST bodies, decoded once into typed values (the one decoder of each).

Sources: the Polymarket US API reference (docs.polymarket.us: "Get events", "Get market
book", "Get market BBO"); the sports fields from issue 17. Bodies:

- ``GET /v1/events`` -> ``{"events": [event, ...]}``; ``GET /v1/markets`` ->
  ``{"markets": [market, ...]}``. An event carries ``slug``, ``title``, ``seriesSlug``,
  ``startTime``/``startDate`` and its ``markets``; a market carries ``slug``, ``question``,
  ``active``/``closed``, ``marketType``, ``sportsMarketType`` (mandatory since mid-2026),
  ``orderPriceMinTickSize``, ``gameStartTime``/``startDate``, ``marketSides`` (the
  outcomes: ``description``, ``long``, ``team.name``) and the sports names
  ``home_team_name``, ``away_team_name``, ``tournament_name`` (camelCase spellings are
  read too: the reference is camelCase, the issue quotes snake_case).
- Fee schedule: no documented field was found. A market's optional ``feeSchedule``
  object is read when present (``{"type": "notional", "takerBps": 30}`` or
  ``{"type": "curve", "rate": "0.05"}``); without one the venue's configured default
  applies (:class:`~arbees.fees.PolymarketUsFeeModel`, the higher of the two published).
- ``GET /v1/markets/{slug}/book`` -> ``{"marketData": {"marketSlug", "bids", "offers",
  "transactTime", ...}}`` with levels ``{"px": {"value", "currency"}, "qty"}``.
- ``GET /v1/markets/{slug}/bbo`` -> ``{"marketData": {"marketSlug", "bestBid",
  "bestAsk", "bidDepth", "askDepth", ...}}``: ``bidDepth``/``askDepth`` COUNT LEVELS, they
  are not sizes, so a BBO gives prices and never a size to trade.

Every money value is exact fixed point; a bad event or market is one
:class:`~arbees.errors.DecodeRejection` and costs only itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Final

import attrs

from arbees.book import BookView, Level
from arbees.errors import DecodeError, DecodeRejection
from arbees.identifiers import is_market_slug
from arbees.money import ONE, Fixed, parse_fixed
from arbees.polymarket_us.book import VENUE

__all__ = [
    "Bbo",
    "FeeSchedule",
    "RestBook",
    "UsEvent",
    "UsMarket",
    "UsOutcome",
    "parse_bbo",
    "parse_book",
    "parse_events",
    "parse_markets",
]

MAX_ITEMS: Final = 10_000
MAX_LEVELS: Final = 1000


@attrs.frozen
class FeeSchedule:
    """A market's own fee schedule, when its metadata has one.

    Attributes:
        kind: ``"notional"`` (basis points of the notional) or ``"curve"``
            (``rate × C × p × (1 − p)``).
        taker_bps: the notional fee in basis points (``kind == "notional"``).
        rate: the curve coefficient (``kind == "curve"``).
    """

    kind: str
    taker_bps: int | None = None
    rate: Decimal | None = None


@attrs.frozen
class UsOutcome:
    """One side of a market (``marketSides``).

    Attributes:
        label: the side's description (e.g. a team name).
        long: True for the side the book's bids/offers trade (YES).
        team: the side's team name, when given.
    """

    label: str
    long: bool
    team: str = ""


@attrs.frozen
class UsMarket:
    """One Polymarket US market.

    Attributes:
        slug: the market slug (its instrument id everywhere in arbees).
        question: the market's question.
        active: trading is open.
        closed: the market closed.
        market_type: ``marketType``.
        sports_market_type: ``sportsMarketType`` (``""`` when absent).
        home_team: ``home_team_name`` (``""`` when absent).
        away_team: ``away_team_name``.
        tournament: ``tournament_name``.
        start_time: the game's start (aware UTC) when given.
        tick_size: ``orderPriceMinTickSize`` in micro-units, when given.
        outcomes: its sides, in the venue's order.
        fee_schedule: its own fee schedule, when its metadata has one.
        line: a totals or spreads market's ``line`` (exact), when given.
    """

    slug: str
    question: str
    active: bool
    closed: bool
    market_type: str
    sports_market_type: str
    home_team: str
    away_team: str
    tournament: str
    start_time: datetime | None
    tick_size: Fixed | None
    outcomes: tuple[UsOutcome, ...]
    fee_schedule: FeeSchedule | None
    line: Decimal | None = None


@attrs.frozen
class UsEvent:
    """One Polymarket US event (a game) with its markets.

    Attributes:
        slug: the event slug.
        title: its title.
        series_slug: ``seriesSlug`` (``""`` when absent).
        start_time: the event's start (aware UTC) when given.
        markets: the markets that decoded (refused ones are rejections).
    """

    slug: str
    title: str
    series_slug: str
    start_time: datetime | None
    markets: tuple[UsMarket, ...]


@attrs.frozen
class RestBook:
    """A ``/v1/markets/{slug}/book`` answer.

    Attributes:
        slug: the market.
        bids: levels best (highest) first.
        asks: levels best (lowest) first.
        venue_ts_ms: ``transactTime`` in epoch ms, when readable.
    """

    slug: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    venue_ts_ms: int | None

    def view(self, depth: int = 10, received_ns: int = 0) -> BookView:
        """As a fresh :class:`~arbees.book.BookView`."""
        return BookView(
            VENUE,
            self.slug,
            self.bids[:depth],
            self.asks[:depth],
            False,
            self.venue_ts_ms,
            received_ns,
        )


@attrs.frozen
class Bbo:
    """A ``/v1/markets/{slug}/bbo`` answer.

    Attributes:
        slug: the market.
        best_bid: best bid price, ``None`` when there is none.
        best_ask: best ask price, ``None`` when there is none.
        bid_levels: ``bidDepth``: how many bid LEVELS there are (not a size).
        ask_levels: ``askDepth``: how many ask levels there are (not a size).
    """

    slug: str
    best_bid: Fixed | None
    best_ask: Fixed | None
    bid_levels: int
    ask_levels: int


# -- helpers ------------------------------------------------------------------------------


def _obj(value: object, field: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise DecodeError(f"expected an object, got {type(value).__name__}", field=field)
    return value


def _text(obj: Mapping[str, object], *keys: str) -> str:
    for key in keys:
        value = obj.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise DecodeError(f"expected a string, got {type(value).__name__}", field=key)
        return value[:500]
    return ""


def _flag(obj: Mapping[str, object], key: str, default: bool) -> bool:
    value = obj.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise DecodeError(f"expected a boolean, got {type(value).__name__}", field=key)
    return value


def _slug(obj: Mapping[str, object], key: str) -> str:
    value = obj.get(key)
    if not is_market_slug(value):
        raise DecodeError(f"not a slug: {str(value)[:90]!r}", field=key)
    assert isinstance(value, str)
    return value


def _when(obj: Mapping[str, object], *keys: str) -> datetime | None:
    for key in keys:
        value = obj.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise DecodeError(f"expected a string, got {type(value).__name__}", field=key)
        try:
            dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise DecodeError(f"not a date/time: {value[:40]!r}", field=key) from None
        if dt.tzinfo is None:
            raise DecodeError(f"no UTC offset: {value[:40]!r}", field=key)
        return dt.astimezone(UTC)
    return None


def _money(value: object, field: str) -> Fixed:
    if isinstance(value, Decimal):  # the REST client parses JSON numbers as Decimal
        value = format(value, "f") if value.is_finite() else str(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise DecodeError(f"expected a number, got {type(value).__name__}", field=field)
    return parse_fixed(value, field=field)


def _px(value: object, field: str) -> Fixed | None:
    """A ``{"value", "currency"}`` price (``None`` when absent); strictly inside (0, 1)."""
    if value is None:
        return None
    px = _money(_obj(value, field).get("value"), f"{field}.value")
    if not 0 < px < ONE:
        raise DecodeError(f"outside (0, 1): {px / ONE}", field=field)
    return px


def _fee_schedule(value: object) -> FeeSchedule | None:
    if value is None:
        return None
    obj = _obj(value, "feeSchedule")
    kind = obj.get("type")
    if kind == "notional":
        bps = obj.get("takerBps")
        if type(bps) is not int or not 0 <= bps <= 10_000:
            raise DecodeError(f"not whole basis points: {bps!r:.20}", field="feeSchedule.takerBps")
        return FeeSchedule("notional", taker_bps=bps)
    if kind == "curve":
        rate = obj.get("rate")
        try:
            d = Decimal(rate) if isinstance(rate, str | Decimal) else None
        except InvalidOperation:
            d = None
        if d is None or not d.is_finite() or not 0 <= d < 1:
            raise DecodeError(f"not a rate in [0, 1): {rate!r:.20}", field="feeSchedule.rate")
        return FeeSchedule("curve", rate=d)
    raise DecodeError(f"unknown fee schedule type {kind!r:.30}", field="feeSchedule.type")


def _line(value: object) -> Decimal | None:
    """A market's ``line`` as an exact decimal (``None`` when absent)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise DecodeError(f"expected a number, got {type(value).__name__}", field="line")
    try:
        line = Decimal(str(value)[:40])
    except InvalidOperation:
        line = None
    if line is None or not line.is_finite():
        raise DecodeError(f"not a number: {str(value)[:40]!r}", field="line")
    return line


def _outcomes(value: object) -> tuple[UsOutcome, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DecodeError("expected a list", field="marketSides")
    out = []
    for i, side in enumerate(value[:10]):
        obj = _obj(side, f"marketSides[{i}]")
        team = obj.get("team")
        team_name = _text(_obj(team, "team"), "name") if team is not None else ""
        out.append(UsOutcome(_text(obj, "description"), _flag(obj, "long", False), team_name))
    return tuple(out)


def _market(obj: Mapping[str, object]) -> UsMarket:
    tick = obj.get("orderPriceMinTickSize")
    return UsMarket(
        slug=_slug(obj, "slug"),
        question=_text(obj, "question"),
        active=_flag(obj, "active", True),
        closed=_flag(obj, "closed", False),
        market_type=_text(obj, "marketType"),
        sports_market_type=_text(obj, "sportsMarketType", "sports_market_type"),
        home_team=_text(obj, "home_team_name", "homeTeamName"),
        away_team=_text(obj, "away_team_name", "awayTeamName"),
        tournament=_text(obj, "tournament_name", "tournamentName"),
        start_time=_when(obj, "gameStartTime", "startDate"),
        tick_size=None if tick is None else _money(tick, "orderPriceMinTickSize"),
        outcomes=_outcomes(obj.get("marketSides")),
        fee_schedule=_fee_schedule(obj.get("feeSchedule")),
        line=_line(obj.get("line")),
    )


def _items(body: object, key: str) -> list[object]:
    items = body.get(key) if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise DecodeError(f"expected {{{key!r}: [...]}} or a list", field=key)
    if len(items) > MAX_ITEMS:
        raise DecodeError(f"{len(items)} items (at most {MAX_ITEMS})", field=key)
    return items


def _name(obj: object, key: str, fallback: str) -> str:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value[:100] if isinstance(value, str) and value else fallback


# -- bodies -------------------------------------------------------------------------------


def parse_markets(body: object) -> tuple[list[UsMarket], list[DecodeRejection]]:
    """A ``/v1/markets`` body (decoded JSON): the markets, and one rejection per bad one."""
    markets: list[UsMarket] = []
    refused: list[DecodeRejection] = []
    for i, item in enumerate(_items(body, "markets")):
        try:
            markets.append(_market(_obj(item, "market")))
        except DecodeError as exc:
            refused.append(DecodeRejection.of(_name(item, "slug", f"markets[{i}]"), exc))
    return markets, refused


def parse_events(body: object) -> tuple[list[UsEvent], list[DecodeRejection]]:
    """A ``/v1/events`` body: the events (with the markets that decoded), and the refusals.

    A bad market costs only itself; a bad event (no slug, a bad start time) costs itself
    and its markets.
    """
    events: list[UsEvent] = []
    refused: list[DecodeRejection] = []
    for i, item in enumerate(_items(body, "events")):
        name = _name(item, "slug", f"events[{i}]")
        try:
            obj = _obj(item, "event")
            slug = _slug(obj, "slug")
            raw_markets = obj.get("markets") or []
            if not isinstance(raw_markets, list):
                raise DecodeError("expected a list", field="markets")
            markets = []
            for j, raw in enumerate(raw_markets[:MAX_ITEMS]):
                try:
                    markets.append(_market(_obj(raw, "market")))
                except DecodeError as exc:
                    item_name = _name(raw, "slug", f"{slug}/markets[{j}]")
                    refused.append(DecodeRejection.of(item_name, exc))
            events.append(
                UsEvent(
                    slug=slug,
                    title=_text(obj, "title"),
                    series_slug=_text(obj, "seriesSlug"),
                    start_time=_when(obj, "startTime", "startDate"),
                    markets=tuple(markets),
                )
            )
        except DecodeError as exc:
            refused.append(DecodeRejection.of(name, exc))
    return events, refused


def _levels(value: object, field: str, best_high: bool) -> tuple[Level, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_LEVELS:
        raise DecodeError(f"expected a list of at most {MAX_LEVELS} levels", field=field)
    book: dict[Fixed, Fixed] = {}
    for i, raw in enumerate(value):
        lvl = _obj(raw, f"{field}[{i}]")
        price = _px(lvl.get("px"), f"{field}[{i}].px")
        size = _money(lvl.get("qty"), f"{field}[{i}].qty")
        if price is None or size < 0:
            raise DecodeError("a level needs a price and a size >= 0", field=f"{field}[{i}]")
        if price in book:
            raise DecodeError(f"price {price / ONE} listed twice", field=field)
        if size:
            book[price] = size
    return tuple(Level(p, book[p]) for p in sorted(book, reverse=best_high))


def _market_data(body: object) -> Mapping[str, object]:
    return _obj(_obj(body, "body").get("marketData"), "marketData")


def parse_book(body: object) -> RestBook:
    """A ``/v1/markets/{slug}/book`` body -> :class:`RestBook` (levels sorted best first)."""
    md = _market_data(body)
    ts = _when(md, "transactTime")
    return RestBook(
        slug=_slug(md, "marketSlug"),
        bids=_levels(md.get("bids"), "bids", best_high=True),
        asks=_levels(md.get("offers"), "offers", best_high=False),
        venue_ts_ms=None if ts is None else int(ts.timestamp() * 1000),
    )


def parse_bbo(body: object) -> Bbo:
    """A ``/v1/markets/{slug}/bbo`` body -> :class:`Bbo` (depths are level counts)."""
    md = _market_data(body)
    depths = []
    for key in ("bidDepth", "askDepth"):
        value = md.get(key, 0)
        if type(value) is not int or not 0 <= value <= 1_000_000:
            raise DecodeError(f"not a level count: {value!r:.20}", field=key)
        depths.append(value)
    return Bbo(
        slug=_slug(md, "marketSlug"),
        best_bid=_px(md.get("bestBid"), "bestBid"),
        best_ask=_px(md.get("bestAsk"), "bestAsk"),
        bid_levels=depths[0],
        ask_levels=depths[1],
    )
