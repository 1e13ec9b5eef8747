"""Typed Kalshi REST models (series fee model, events, markets, order books, milestones,
their live game data and the structured targets they name).

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
    "LiveData",
    "Market",
    "Milestone",
    "Series",
    "StructuredTarget",
    "parse_events",
    "parse_live_datas",
    "parse_milestones",
    "parse_orderbook",
    "parse_series_list",
    "parse_structured_targets",
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


# --------------------------------------------------------------------------- milestones
# docs.kalshi.com: "Targets & Milestones" (getting_started/targets_and_milestones), "Get
# Milestones" (GET /milestones: limit 1..500, cursor, related_event_ticker, category...),
# "Get Multiple Live Data" (GET /live_data/batch?milestone_ids=...: at most 100 ids ->
# {"live_datas": [...]}); the live ``details`` fields as described by pond.dflow.net
# ("Live Data Response Details"), which passes Kalshi's bodies through. tests/data/README
# names every source.

MAX_MILESTONES_PER_PAGE = 500
"""The documented maximum ``limit`` of ``GET /milestones``; a page holding more is refused."""
MAX_EVENT_TICKERS = 1000
"""Event tickers one milestone may name (a game names a handful; an election a few dozen)."""
MAX_LIVE_DATAS = 100
"""The documented maximum of milestone ids per ``GET /live_data/batch``: an answer holding
more entries than that is refused whole."""
MAX_DETAIL_CHARS = 64
"""Longest status or period text kept from a live-data ``details`` object."""
MAX_POINTS = 100_000
"""A score above this is refused (no sport scores that much)."""

_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


def _milestone_id(value: object, field: str) -> str:
    """A milestone id safe to put in a URL path (Kalshi's are UUIDs)."""
    if not isinstance(value, str) or not value:
        raise DecodeError("missing or not a string", field=field)
    if len(value) > 100 or not set(value) <= _ID_CHARS or value.strip(".") == "":
        raise DecodeError(f"not a milestone id: {value[:40]!r}", field=field)
    return value


def _tickers(obj: dict[str, Any], key: str) -> tuple[str, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DecodeError("expected a list", field=key)
    if len(value) > MAX_EVENT_TICKERS:
        raise DecodeError(f"{len(value)} tickers (> {MAX_EVENT_TICKERS})", field=key)
    if not all(isinstance(t, str) and 0 < len(t) <= 200 for t in value):
        raise DecodeError("expected event tickers", field=key)
    return tuple(value)


def _details(obj: dict[str, Any]) -> dict[str, Any]:
    details = obj.get("details")
    if details is None:
        return {}
    if not isinstance(details, dict):
        raise DecodeError("expected an object", field="details")
    return details


def _target_ref(details: dict[str, Any], key: str) -> str:
    """A structured target id named in ``details`` (``""`` when absent)."""
    value = details.get(key)
    if value is None or value == "":
        return ""
    return _milestone_id(value, f"details.{key}")


@attrs.frozen
class Milestone:
    """A real-world occurrence (a game) that Kalshi ties events to.

    Attributes:
        id: the milestone id (the key of its live data).
        category: ``Sports``, ``Elections``...
        type: ``basketball_game``, ``football_game``, ``hockey_match``...
        title: display title.
        start_date: scheduled start, when given.
        related_event_tickers: every event tied to the occurrence (a superset of the
            primary ones, per Kalshi's docs).
        primary_event_tickers: the occurrence's core events.
        home_team_id: ``details.home_team_id``, the home team's structured target id
            (``""`` when not given).
        away_team_id: ``details.away_team_id``, likewise.
    """

    id: str
    category: str
    type: str
    title: str
    start_date: datetime | None
    related_event_tickers: tuple[str, ...]
    primary_event_tickers: tuple[str, ...] = ()
    home_team_id: str = ""
    away_team_id: str = ""

    @classmethod
    def from_json(cls, obj: object) -> Milestone:
        if not isinstance(obj, dict):
            raise DecodeError(f"milestone is not an object: {type(obj).__name__}")
        details = _details(obj)
        return cls(
            _milestone_id(obj.get("id"), "id"),
            _str(obj, "category"),
            _str(obj, "type"),
            _str(obj, "title"),
            parse_time(obj.get("start_date"), "start_date"),
            _tickers(obj, "related_event_tickers"),
            _tickers(obj, "primary_event_tickers"),
            _target_ref(details, "home_team_id"),
            _target_ref(details, "away_team_id"),
        )


def parse_milestones(body: object) -> tuple[list[Milestone], list[DecodeRejection]]:
    """Decode a ``GET /milestones`` page (``{"milestones": [...], "cursor": ...}``).

    A milestone that cannot be decoded is refused alone (named by its id, else its
    position). Raises :class:`DecodeError` when the body is not a milestones page or holds
    more than :data:`MAX_MILESTONES_PER_PAGE`.
    """
    raw = body.get("milestones") if isinstance(body, dict) else None
    if raw is None and isinstance(body, dict) and "milestones" in body:
        raw = []  # an empty page may come as null
    if not isinstance(raw, list):
        raise DecodeError("Kalshi body is not {'milestones': [...]}", field="milestones")
    if len(raw) > MAX_MILESTONES_PER_PAGE:
        raise DecodeError(
            f"{len(raw)} milestones in one page (> {MAX_MILESTONES_PER_PAGE})", field="milestones"
        )
    found: list[Milestone] = []
    rejected: list[DecodeRejection] = []
    for i, item in enumerate(raw):
        try:
            found.append(Milestone.from_json(item))
        except HOSTILE_INPUT_ERRORS as exc:
            ident = item.get("id") if isinstance(item, dict) else None
            name = ident[:100] if isinstance(ident, str) and ident else f"milestones[{i}]"
            rejected.append(DecodeRejection.of(name, exc))
            log.info("kalshi milestone %s rejected", name)
    return found, rejected


def _detail_text(details: dict[str, Any], key: str) -> str:
    value = details.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise DecodeError(f"expected a string, got {type(value).__name__}", field=f"details.{key}")
    text = str(value)
    if len(text) > MAX_DETAIL_CHARS:
        raise DecodeError(f"longer than {MAX_DETAIL_CHARS} characters", field=f"details.{key}")
    return text


def _points(details: dict[str, Any], key: str) -> int | None:
    value = details.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.isdigit() and len(value) <= 6:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise DecodeError(f"not a score: {str(value)[:20]!r}", field=f"details.{key}")
    if not 0 <= value <= MAX_POINTS:
        raise DecodeError(f"score out of range: {value}", field=f"details.{key}")
    return value


@attrs.frozen
class LiveData:
    """A milestone's live data, the fields arbees reads from its ``details``.

    Attributes:
        milestone_id: the milestone.
        type: the live data's type (the milestone type, e.g. ``basketball_game``).
        status: ``details.status`` as sent, lower-cased (documented: ``none`` before the
            game, ``live``, ``finished``), ``""`` when absent.
        postponed: ``details.postponed`` (``False`` when absent).
        home_points: the home side's score, when sent.
        away_points: the away side's score, when sent.
        period: the current period as sent (``details.leg``, documented for football),
            ``""`` when absent.
    """

    milestone_id: str
    type: str
    status: str
    postponed: bool
    home_points: int | None
    away_points: int | None
    period: str

    @classmethod
    def from_json(cls, obj: object) -> LiveData:
        """Decode one entry of a batch (it names its milestone)."""
        if not isinstance(obj, dict):
            raise DecodeError(f"live data is not an object: {type(obj).__name__}")
        ident = _milestone_id(obj.get("milestone_id"), "milestone_id")
        details = obj.get("details")
        if not isinstance(details, dict):
            raise DecodeError("expected an object", field="details")
        postponed = details.get("postponed", False)
        if postponed is None:
            postponed = False
        if not isinstance(postponed, bool):
            raise DecodeError("expected a boolean", field="details.postponed")
        return cls(
            ident,
            _str(obj, "type"),
            _detail_text(details, "status").strip().lower(),
            postponed,
            _points(details, "home_points"),
            _points(details, "away_points"),
            _detail_text(details, "leg"),
        )


def parse_live_datas(body: object) -> tuple[list[LiveData], list[DecodeRejection]]:
    """Decode a ``GET /live_data/batch`` body (``{"live_datas": [...]}``): each entry once.

    An entry that cannot be decoded is refused alone; raises :class:`DecodeError` when the
    body is not a batch or holds more than :data:`MAX_LIVE_DATAS` entries.
    """
    raw = body.get("live_datas") if isinstance(body, dict) else None
    if raw is None and isinstance(body, dict) and "live_datas" in body:
        raw = []
    if not isinstance(raw, list):
        raise DecodeError("Kalshi body is not {'live_datas': [...]}", field="live_datas")
    if len(raw) > MAX_LIVE_DATAS:
        raise DecodeError(f"{len(raw)} entries (> {MAX_LIVE_DATAS})", field="live_datas")
    found: list[LiveData] = []
    rejected: list[DecodeRejection] = []
    for i, item in enumerate(raw):
        try:
            found.append(LiveData.from_json(item))
        except HOSTILE_INPUT_ERRORS as exc:
            ident = item.get("milestone_id") if isinstance(item, dict) else None
            name = ident[:100] if isinstance(ident, str) and ident else f"live_datas[{i}]"
            rejected.append(DecodeRejection.of(name, exc))
            log.info("kalshi live data %s rejected", name)
    return found, rejected


# --------------------------------------------------------------------------- targets
# docs.kalshi.com: "Targets & Milestones" (a structured target is a real-world entity: id,
# name, type, details, source_id(s)), "Get Structured Targets" (GET /structured_targets:
# ids repeated, type, competition, page_size 1..2000, cursor -> {"structured_targets":
# [...], "cursor"}); the kalshi-typescript SDK's StructuredTarget model. ``details`` is
# free-form per type; arbees reads ``league`` and ``abbreviation`` (the ``competition``
# filter matches ``details.league``, per the reference).

MAX_TARGETS_PER_PAGE = 2000
"""The documented maximum ``page_size`` of ``GET /structured_targets``; a page holding more
is refused whole."""
MAX_TARGET_TEXT = 200
"""Longest name, type, league or abbreviation kept from a structured target."""


def _short(obj: dict[str, Any], key: str, field: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DecodeError(f"expected a string, got {type(value).__name__}", field=field)
    if len(value) > MAX_TARGET_TEXT:
        raise DecodeError(f"longer than {MAX_TARGET_TEXT} characters", field=field)
    return value.strip()


@attrs.frozen
class StructuredTarget:
    """A real-world entity (a team) that milestones and markets name by id.

    Attributes:
        id: the target id (a milestone's ``details.home_team_id`` names it).
        name: display name (``"Miami (OH) RedHawks"``).
        type: the target type as sent (``basketball_team``, ``soccer_team``...).
        league: ``details.league`` as sent (``"NBA"``, ``"Serie A"``), ``""`` when absent.
        abbreviation: ``details.abbreviation`` as sent, ``""`` when absent.
    """

    id: str
    name: str
    type: str
    league: str = ""
    abbreviation: str = ""

    @classmethod
    def from_json(cls, obj: object) -> StructuredTarget:
        if not isinstance(obj, dict):
            raise DecodeError(f"structured target is not an object: {type(obj).__name__}")
        details = _details(obj)
        name = _short(obj, "name", "name")
        if not name:
            raise DecodeError("missing", field="name")
        return cls(
            _milestone_id(obj.get("id"), "id"),
            name,
            _short(obj, "type", "type"),
            _short(details, "league", "details.league"),
            _short(details, "abbreviation", "details.abbreviation"),
        )


def parse_structured_targets(
    body: object,
) -> tuple[list[StructuredTarget], list[DecodeRejection]]:
    """Decode a ``GET /structured_targets`` page (``{"structured_targets": [...], "cursor"}``).

    A target that cannot be decoded is refused alone (named by its id, else its position).
    Raises :class:`DecodeError` when the body is not such a page or holds more than
    :data:`MAX_TARGETS_PER_PAGE` targets.
    """
    raw = body.get("structured_targets") if isinstance(body, dict) else None
    if raw is None and isinstance(body, dict) and "structured_targets" in body:
        raw = []
    if not isinstance(raw, list):
        raise DecodeError(
            "Kalshi body is not {'structured_targets': [...]}", field="structured_targets"
        )
    if len(raw) > MAX_TARGETS_PER_PAGE:
        raise DecodeError(
            f"{len(raw)} structured targets in one page (> {MAX_TARGETS_PER_PAGE})",
            field="structured_targets",
        )
    found: list[StructuredTarget] = []
    rejected: list[DecodeRejection] = []
    for i, item in enumerate(raw):
        try:
            found.append(StructuredTarget.from_json(item))
        except HOSTILE_INPUT_ERRORS as exc:
            ident = item.get("id") if isinstance(item, dict) else None
            name = ident[:100] if isinstance(ident, str) and ident else f"structured_targets[{i}]"
            rejected.append(DecodeRejection.of(name, exc))
            log.info("kalshi structured target %s rejected", name)
    return found, rejected
