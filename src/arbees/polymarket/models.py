"""Typed Polymarket REST objects (CLOB books, Gamma markets/events) and their decoders.

Gamma is loose: ``outcomes`` / ``clobTokenIds`` / ``outcomePrices`` are JSON arrays encoded
as strings, numbers come as strings or numbers, ``gameStartTime`` is ``"2026-04-05
15:10:00+00"`` (not RFC 3339). The decoders here turn one such object into exact, typed
values (Decimals for fees and ticks, aware UTC datetimes, outcome -> token mapping) and
raise :class:`~arbees.errors.DecodeError` naming the field when something is unusable.
Bodies should be parsed with ``json.loads(..., parse_float=Decimal)`` so numbers stay exact.

This is the one place Gamma JSON is decoded: :func:`parse_gamma_events` turns a whole
``/events`` body into typed :class:`GammaEvent` s plus one
:class:`~arbees.errors.DecodeRejection` per event or market it had to refuse; discovery and
``arbees match`` consume those typed values, and the REST client decodes single events and
markets with the same functions.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

import attrs

from arbees.book import BookView, Level
from arbees.errors import HOSTILE_INPUT_ERRORS, DecodeError, DecodeRejection
from arbees.money import ONE, Fixed, parse_decimal, parse_fixed
from arbees.polymarket.protocol import is_token_id

__all__ = [
    "TOKEN_COUNT_FIELD",
    "UNMAPPED_FIELD",
    "FeeSchedule",
    "GammaEvent",
    "GammaMarket",
    "GammaSport",
    "GammaTag",
    "GammaTeam",
    "Geoblock",
    "Outcome",
    "RestBook",
    "parse_datetime",
    "parse_fee_rate_bps",
    "parse_gamma_event",
    "parse_gamma_events",
    "parse_gamma_market",
    "parse_gamma_sports",
    "parse_gamma_teams",
    "parse_geoblock",
    "parse_midpoint",
    "parse_price_response",
    "parse_rest_book",
]

log = logging.getLogger(__name__)

_MAX_TS_DIGITS = 16  # epoch milliseconds, as on the WebSocket

TOKEN_COUNT_FIELD = "clobTokenIds.length"
"""The field a market is refused under when its token ids do not pair with its outcomes."""

UNMAPPED_FIELD = "unmapped"
"""The field a ``/sports`` entry no league maps (or a league no entry names) is refused
under by discovery (reported ``unmapped``)."""


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
        game_start_time: sports start time (aware UTC) when given (refused without an
            offset: a start time is never guessed).
        sports_market_type: e.g. ``"moneyline"`` when given.
        fees_enabled: ``feesEnabled``; ``None`` when absent (fees are then not assumed off).
        fee_type: venue fee category when given.
        fee_schedule: the fee schedule when given.
        tick_size: minimum price increment when given.
        min_order_size: minimum order size when given.
        end_date: end date (aware UTC) when given.
        line: the spread/total line as text when given.
        group_item_title: ``groupItemTitle`` (the outcome a market of a multi-market event
            stands for, e.g. ``"Arsenal"`` or ``"Draw (Arsenal vs. Chelsea)"``), ``""`` when
            absent.
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
    fees_enabled: bool | None = None
    fee_type: str | None = None
    fee_schedule: FeeSchedule | None = None
    tick_size: Decimal | None = None
    min_order_size: Decimal | None = None
    end_date: datetime | None = None
    line: str | None = None
    group_item_title: str = ""

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
class GammaTag:
    """One tag of a Gamma event (``{"id": "745", "label": "NBA", "slug": "nba"}``).

    Attributes:
        id: tag id (``""`` when absent).
        label: display label (``""`` when absent).
        slug: tag slug (``""`` when absent).
    """

    id: str
    label: str
    slug: str


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
        tags: the event's tags, in venue order.
        series_slug: ``seriesSlug`` when given (``"nba"``...).
        game_id: ``gameId`` (the sports data provider's game id) as text, when given.
        sport: the Gamma sport code of the event (its ``sport`` object's ``sport``, lower
            case), when given.
    """

    id: str
    title: str
    slug: str
    active: bool
    closed: bool
    markets: tuple[GammaMarket, ...]
    tags: tuple[GammaTag, ...] = ()
    series_slug: str | None = None
    game_id: str | None = None
    sport: str | None = None


@attrs.frozen
class GammaTeam:
    """One team of Gamma's ``/teams`` catalogue.

    Attributes:
        id: Gamma team id as text.
        name: team name (``"Manchester United"``, ``"Lakers"``).
        league: the league slug (``"epl"``, ``"nba"``...), lower case.
        abbreviation: the team's code (``"mun"``), lower case, ``""`` when absent.
        alias: a short name (``"Man United"``), ``""`` when absent.
    """

    id: str
    name: str
    league: str
    abbreviation: str = ""
    alias: str = ""


def parse_gamma_teams(body: object) -> tuple[list[GammaTeam], list[DecodeRejection]]:
    """Decode a Gamma ``/teams`` body (a list of teams): each team once.

    A team without a name or a league, or with a field of the wrong type, is refused alone
    (named by its id, else its position). Raises :class:`DecodeError` only when the body
    is not a list.
    """
    if not isinstance(body, list):
        raise DecodeError("Gamma /teams body is not a list", field="teams")
    teams: list[GammaTeam] = []
    rejected: list[DecodeRejection] = []
    for i, obj in enumerate(body):
        raw_id = obj.get("id") if isinstance(obj, Mapping) else None
        ident = f"team:{raw_id}" if isinstance(raw_id, int | str) else f"teams[{i}]"
        try:
            if not isinstance(obj, Mapping):
                raise DecodeError("team is not an object")
            name = _str(obj, "name", "").strip()
            league = _str(obj, "league", "").strip().lower()
            if not name or not league:
                raise DecodeError("a team needs a name and a league", field="name")
            teams.append(
                GammaTeam(
                    id="" if raw_id is None else str(raw_id),
                    name=name,
                    league=league,
                    abbreviation=_str(obj, "abbreviation", "").strip().lower(),
                    alias=_str(obj, "alias", "").strip(),
                )
            )
        except HOSTILE_INPUT_ERRORS as exc:
            rejected.append(_refuse(DecodeRejection.of(ident, exc), "team"))
    return teams, rejected


MAX_GAMMA_SPORTS = 1000
"""Entries of one ``/sports`` body decoded at most (about 150 in public 2026 samples); the
rest are refused as one item."""

_SPORT_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_ID_DIGITS = re.compile(r"^[0-9]{1,20}$")
_MAX_SPORT_TAGS = 64


@attrs.frozen
class GammaSport:
    """One entry of Gamma's ``/sports`` (a league or competition Polymarket lists games of).

    Attributes:
        sport: the sport code, lower case (``"epl"``, ``"nba"``, ``"ncaab"``).
        series: the id of the Gamma series its games belong to (``/events?series_id=``).
        tags: the tag ids it lists (``"1,82,306,100639,100350"``), in venue order.
        ordering: ``"home"`` or ``"away"`` (which team its titles name first), ``""`` when
            absent.
        id: the entry's id as text, ``""`` when absent.
    """

    sport: str
    series: str
    tags: tuple[str, ...] = ()
    ordering: str = ""
    id: str = ""


def _id_text(obj: Mapping[str, object], key: str) -> str:
    """An id Gamma sends as a number or as decimal text -> text (``""`` when absent)."""
    value = obj.get(key)
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise DecodeError(f"expected an id, got {type(value).__name__}", field=key)
    text = str(value).strip()
    if not _ID_DIGITS.match(text):
        raise DecodeError(f"not a decimal id: {text[:40]!r}", field=key)
    return text


def _sport(obj: object) -> GammaSport:
    if not isinstance(obj, Mapping):
        raise DecodeError("sport entry is not an object")
    code = _str(obj, "sport", "").strip().lower()
    if not _SPORT_CODE.match(code):
        raise DecodeError(f"not a sport code: {code[:40]!r}", field="sport")
    series = _id_text(obj, "series")
    if not series:
        raise DecodeError("no series id", field="series")
    raw_tags = [t.strip() for t in _str(obj, "tags", "").split(",") if t.strip()]
    if len(raw_tags) > _MAX_SPORT_TAGS or not all(_ID_DIGITS.match(t) for t in raw_tags):
        raise DecodeError("tags is not a short list of decimal ids", field="tags")
    ordering = _str(obj, "ordering", "").strip().lower()
    if ordering not in ("", "home", "away"):
        raise DecodeError(f"ordering {ordering[:20]!r} is neither home nor away", field="ordering")
    return GammaSport(code, series, tuple(raw_tags), ordering, _id_text(obj, "id"))


def parse_gamma_sports(body: object) -> tuple[list[GammaSport], list[DecodeRejection]]:
    """Decode a Gamma ``/sports`` body (a list of sport entries): each entry once.

    An entry that is not an object, has no sport code or series id, or a field of the wrong
    type is refused alone (named ``sport:<code>``, else by its position), as is a second
    entry with a sport code already seen. At most :data:`MAX_GAMMA_SPORTS` entries are read;
    the rest are refused as one item. Raises :class:`DecodeError` only when the body is not
    a list.
    """
    if not isinstance(body, list):
        raise DecodeError("Gamma /sports body is not a list", field="sports")
    sports: list[GammaSport] = []
    rejected: list[DecodeRejection] = []
    seen: set[str] = set()
    for i, obj in enumerate(body[:MAX_GAMMA_SPORTS]):
        raw = obj.get("sport") if isinstance(obj, Mapping) else None
        ident = f"sport:{raw[:32]}" if isinstance(raw, str) and raw.strip() else f"sports[{i}]"
        try:
            entry = _sport(obj)
            if entry.sport in seen:
                raise DecodeError("a second entry for this sport code", field="sport")
        except HOSTILE_INPUT_ERRORS as exc:
            rejected.append(_refuse(DecodeRejection.of(ident, exc), "sport"))
            continue
        seen.add(entry.sport)
        sports.append(entry)
    if len(body) > MAX_GAMMA_SPORTS:
        extra = len(body) - MAX_GAMMA_SPORTS
        reason = f"{extra} entries over the limit of {MAX_GAMMA_SPORTS}"
        rejected.append(
            _refuse(DecodeRejection(f"sports[{MAX_GAMMA_SPORTS}:]", reason, "sports"), "sport")
        )
    return sports, rejected


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


def parse_datetime(
    value: object, field: str = "datetime", *, require_offset: bool = False
) -> datetime | None:
    """Gamma dates -> aware UTC: ``"2026-04-05 15:10:00+00"``, ISO with ``Z``, or a date.

    A value without an offset is taken as UTC, unless ``require_offset`` (start times): then
    it is refused rather than guessed.
    """
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
    if dt.tzinfo is None or dt.utcoffset() is None:
        if require_offset:
            raise DecodeError(f"no UTC offset: {value[:40]!r}", field=field)
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _fee_schedule(value: object) -> FeeSchedule | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise DecodeError("expected an object", field="feeSchedule")
    rate = parse_decimal(value.get("rate"), field="feeSchedule.rate")
    exponent = parse_decimal(value.get("exponent", 1), field="feeSchedule.exponent")
    rebate = parse_decimal(value.get("rebateRate", 0), field="feeSchedule.rebateRate")
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
    for t in tokens:
        if not is_token_id(t):  # the feed's own check: a token it would refuse is never kept
            shown = t if len(t) <= 90 else f"{t[:90]}...({len(t)} chars)"
            raise DecodeError(f"not a uint256 decimal token id: {shown!r}", field="clobTokenIds")
    if len(labels) != len(tokens):
        raise DecodeError(
            f"{len(labels)} outcomes for {len(tokens)} tokens", field=TOKEN_COUNT_FIELD
        )
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
        game_start_time=parse_datetime(
            obj.get("gameStartTime"), "gameStartTime", require_offset=True
        ),
        sports_market_type=sports if isinstance(sports, str) and sports else None,
        fees_enabled=_bool(obj, "feesEnabled"),
        fee_type=fee_type if isinstance(fee_type, str) and fee_type else None,
        fee_schedule=_fee_schedule(obj.get("feeSchedule")),
        tick_size=parse_decimal(obj.get("orderPriceMinTickSize"), field="orderPriceMinTickSize"),
        min_order_size=parse_decimal(obj.get("orderMinSize"), field="orderMinSize"),
        end_date=parse_datetime(obj.get("endDate"), "endDate"),
        line=_text(obj.get("line"), "line"),
        group_item_title=_str(obj, "groupItemTitle", ""),
    )


def _text(value: object, field: str) -> str | None:
    """A free-form scalar (Gamma sends ``line`` as a number or a string) as text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str | int | float | Decimal):
        return str(value)
    raise DecodeError(f"expected a number or a string, got {type(value).__name__}", field=field)


def _tags(value: object) -> tuple[GammaTag, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DecodeError("expected an array", field="tags")
    tags = []
    for tag in value:
        if not isinstance(tag, Mapping):
            raise DecodeError("tag is not an object", field="tags")
        tag_id = tag.get("id")
        tags.append(
            GammaTag(
                id="" if tag_id is None else str(tag_id),
                label=_str(tag, "label", ""),
                slug=_str(tag, "slug", ""),
            )
        )
    return tuple(tags)


def _event(obj: Mapping[str, object], markets: tuple[GammaMarket, ...]) -> GammaEvent:
    series_slug = obj.get("seriesSlug")
    if series_slug is not None and not isinstance(series_slug, str):
        raise DecodeError(
            f"expected a string, got {type(series_slug).__name__}", field="seriesSlug"
        )
    return GammaEvent(
        id=str(obj.get("id", "")),
        title=_str(obj, "title", ""),
        slug=_str(obj, "slug", ""),
        active=_bool(obj, "active"),
        closed=_bool(obj, "closed"),
        markets=markets,
        tags=_tags(obj.get("tags")),
        series_slug=series_slug or None,
        game_id=_text(obj.get("gameId"), "gameId") or None,
        sport=_event_sport(obj.get("sport")),
    )


def _event_sport(value: object) -> str | None:
    """An event's ``sport`` (an object with a ``sport`` code, or the code itself)."""
    if isinstance(value, Mapping):
        value = value.get("sport")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _SPORT_CODE.match(value.strip().lower()):
        raise DecodeError("not a sport code", field="sport")
    return value.strip().lower()


def _raw_markets(obj: Mapping[str, object]) -> list[object]:
    markets = obj.get("markets") or []
    if not isinstance(markets, list):
        raise DecodeError("expected an array", field="markets")
    return markets


def parse_gamma_event(obj: object) -> GammaEvent:
    """Decode one Gamma event and its markets (undecodable markets raise)."""
    if not isinstance(obj, Mapping):
        raise DecodeError("event is not an object")
    return _event(obj, tuple(parse_gamma_market(m) for m in _raw_markets(obj)))


def _events_of(body: object) -> list[object]:
    if isinstance(body, list):
        return body
    if isinstance(body, Mapping):
        data = body.get("data")
        if isinstance(data, list):  # /events/pagination
            return data
        if isinstance(body.get("markets"), list):  # /events/{id}
            return [body]
    raise DecodeError("Gamma body is not a list of events", field="events")


def parse_gamma_events(
    body: object, *, first_index: int = 0
) -> tuple[list[GammaEvent], list[DecodeRejection]]:
    """Decode a Gamma ``/events`` body: every event and market that can be, once.

    Accepts a list of events, the ``{"data": [...]}`` pagination shape and one event object.
    An event that is not an object, has no slug or has an unreadable field is refused whole;
    a market that cannot be decoded is refused alone and its event keeps the others (an
    event whose every market was refused is left out: its markets' rejections say why).
    Each refusal is logged and returned as a :class:`~arbees.errors.DecodeRejection`.
    An item without a readable id is named by its position, counted from ``first_index``
    (the page's offset). Raises :class:`DecodeError` only when the body itself has the wrong
    shape.
    """
    events: list[GammaEvent] = []
    rejected: list[DecodeRejection] = []
    for i, obj in enumerate(_events_of(body)):
        slug = obj.get("slug") if isinstance(obj, Mapping) else None
        ident = slug if isinstance(slug, str) and slug else f"events[{first_index + i}]"
        try:
            if not isinstance(obj, Mapping) or not isinstance(slug, str) or not slug:
                raise DecodeError("event is not an object with a slug", field="slug")
            raw_markets = _raw_markets(obj)
            event = _event(obj, ())
        except HOSTILE_INPUT_ERRORS as exc:
            rejected.append(_refuse(DecodeRejection.of(ident, exc), "event"))
            continue
        markets: list[GammaMarket] = []
        for j, raw in enumerate(raw_markets):
            try:
                markets.append(parse_gamma_market(raw))
            except HOSTILE_INPUT_ERRORS as exc:
                cid = raw.get("conditionId") if isinstance(raw, Mapping) else None
                mident = cid if isinstance(cid, str) and cid else f"{ident}/markets[{j}]"
                rejected.append(_refuse(DecodeRejection.of(mident, exc), "market"))
        if raw_markets and not markets:
            continue
        events.append(attrs.evolve(event, markets=tuple(markets)))
    log.info("gamma events: %d decoded, %d items rejected", len(events), len(rejected))
    return events, rejected


def _refuse(rejection: DecodeRejection, what: str) -> DecodeRejection:
    log.info("gamma %s %s rejected: %s", what, rejection.item[:100], rejection.reason[:200])
    return rejection


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
