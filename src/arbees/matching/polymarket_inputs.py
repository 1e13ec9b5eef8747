"""Convert a Polymarket Gamma ``GET /events`` body into :class:`PolymarketGame` s.

A Gamma sports event (slug ``nba-okc-sas-2026-10-20``) nests many markets: the moneyline,
spreads, totals, player props. Every structurally sound two-outcome market becomes a
:class:`PolymarketGame` carrying its ``sportsMarketType``; the matcher, not this module,
decides which of them may match, so the choice is made (and reported) in one place.

Gamma quirks handled here: ``outcomes`` and ``clobTokenIds`` are JSON arrays encoded as
strings (decoded twice; real arrays are accepted too); ``gameStartTime`` is
``"2026-10-21 00:00:00+00"`` (UTC, not RFC 3339); fee fields are passed through raw.
The league comes from the slug prefix, the tags and ``seriesSlug`` (they must agree), and
only when all are silent from the title text.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Final

from arbees.errors import HOSTILE_INPUT_ERRORS, DecodeError
from arbees.identifiers import is_token_id
from arbees.matching.model import (
    PolymarketFees,
    PolymarketGame,
    PolymarketOutcome,
    Reason,
    Rejection,
    Venue,
)

__all__ = ["parse_game_start_time", "polymarket_games_from_events_json"]

logger = logging.getLogger(__name__)

_LEAGUE_WORDS: Final[Mapping[str, str]] = {"nba": "NBA", "nhl": "NHL"}
_SLUG_DATE = re.compile(r"-(\d{4})-(\d{2})-(\d{2})$")
_TEXT_LEAGUE = re.compile(r"\b(NBA|NHL)\b")


class _Reject(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def parse_game_start_time(text: str) -> datetime:
    """Parse Gamma's ``gameStartTime`` (``"2026-10-21 00:00:00+00"``) into an aware UTC time.

    Also accepts RFC 3339 (``T`` separator, ``Z``). A time without an offset is refused
    rather than guessed. Raises :class:`DecodeError`.
    """
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise DecodeError(f"bad gameStartTime {text!r}", field="gameStartTime") from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise DecodeError(f"gameStartTime {text!r} has no UTC offset", field="gameStartTime")
    return parsed.astimezone(UTC)


def _event_league(event: Mapping[str, Any], slug: str) -> str:
    votes: dict[str, str] = {}
    prefix = slug.split("-", 1)[0].lower()
    if prefix in _LEAGUE_WORDS:
        votes[f"slug {slug!r}"] = _LEAGUE_WORDS[prefix]
    series_slug = event.get("seriesSlug")
    if isinstance(series_slug, str) and series_slug.lower() in _LEAGUE_WORDS:
        votes[f"seriesSlug {series_slug!r}"] = _LEAGUE_WORDS[series_slug.lower()]
    tags = event.get("tags")
    if isinstance(tags, list):
        for tag in tags:
            if not isinstance(tag, dict):
                continue
            for key in ("slug", "label"):
                value = tag.get(key)
                if isinstance(value, str) and value.lower() in _LEAGUE_WORDS:
                    votes[f"tag {value!r}"] = _LEAGUE_WORDS[value.lower()]
    leagues = set(votes.values())
    if len(leagues) > 1:
        detail = ", ".join(f"{src} says {lg}" for src, lg in sorted(votes.items()))
        raise _Reject(Reason.LEAGUE_MISMATCH, detail)
    if leagues:
        return leagues.pop()
    title = event.get("title")
    found: set[str] = set(_TEXT_LEAGUE.findall(title)) if isinstance(title, str) else set()
    if len(found) == 1:
        return found.pop()
    raise _Reject(Reason.UNKNOWN_LEAGUE, f"event {slug!r} is not an NBA/NHL event")


def _json_list(market: Mapping[str, Any], key: str) -> list[Any] | None:
    raw = market.get(key)
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except HOSTILE_INPUT_ERRORS as exc:  # not JSON, nested too deep, huge integer
            raise _Reject(Reason.MALFORMED, f"{key} is not a JSON array: {raw[:80]!r}") from exc
    if not isinstance(raw, list):
        raise _Reject(Reason.MALFORMED, f"{key} is not an array: {type(raw).__name__}")
    return raw


def _outcomes(market: Mapping[str, Any]) -> tuple[PolymarketOutcome, PolymarketOutcome]:
    names = _json_list(market, "outcomes")
    if names is None:
        raise _Reject(Reason.MALFORMED, "outcomes missing")
    if not all(isinstance(n, str) and n.strip() for n in names):
        raise _Reject(Reason.MALFORMED, f"outcomes are not non-empty strings: {names!r}")
    if len(names) != 2:
        raise _Reject(Reason.NOT_MONEYLINE, f"{len(names)} outcomes, a game market has 2")
    tokens = _json_list(market, "clobTokenIds")
    if tokens is None or len(tokens) != 2 or not all(isinstance(t, str) and t for t in tokens):
        raise _Reject(Reason.MISSING_TOKEN, f"clobTokenIds {tokens!r} for outcomes {names!r}")
    if not all(is_token_id(t) for t in tokens):
        # The same check as the feed's: a token it would refuse is never assigned.
        shown = [t if len(t) <= 90 else f"{t[:90]}...({len(t)} chars)" for t in tokens]
        raise _Reject(Reason.MALFORMED, f"clobTokenIds are not uint256 decimals: {shown!r}")
    if tokens[0] == tokens[1]:
        raise _Reject(Reason.DUPLICATE_TOKEN, f"both outcomes have token {tokens[0]}")
    return (PolymarketOutcome(names[0], tokens[0]), PolymarketOutcome(names[1], tokens[1]))


def _fees(market: Mapping[str, Any]) -> PolymarketFees:
    enabled = market.get("feesEnabled")
    fee_type = market.get("feeType")
    schedule = market.get("feeSchedule")
    return PolymarketFees(
        fees_enabled=enabled if isinstance(enabled, bool) else None,
        fee_type=fee_type if isinstance(fee_type, str) else None,
        fee_schedule_json=None if schedule is None else json.dumps(schedule, sort_keys=True),
    )


def _optional_text(market: Mapping[str, Any], key: str) -> str | None:
    value = market.get(key)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str | int | float):
        return str(value)
    raise _Reject(Reason.MALFORMED, f"{key} has type {type(value).__name__}")


def _game(event_slug: str, league: str, slug_date: date | None, raw: object) -> PolymarketGame:
    if not isinstance(raw, dict):
        raise _Reject(Reason.MALFORMED, f"market is not an object: {type(raw).__name__}")
    condition_id = raw.get("conditionId")
    market_id = raw.get("id")
    if not isinstance(condition_id, str) or not condition_id:
        raise _Reject(Reason.MALFORMED, "conditionId missing")
    outcomes = _outcomes(raw)
    start_text = raw.get("gameStartTime")
    start_time = None
    if start_text is not None:
        if not isinstance(start_text, str):
            raise _Reject(Reason.BAD_START_TIME, f"gameStartTime is {start_text!r}")
        try:
            start_time = parse_game_start_time(start_text)
        except DecodeError as exc:
            raise _Reject(Reason.BAD_START_TIME, str(exc)) from exc
    if raw.get("closed") is True:
        raise _Reject(Reason.CLOSED, "market is closed")
    question = raw.get("question")
    market_slug = raw.get("slug")
    return PolymarketGame(
        event_slug=event_slug,
        market_id=str(market_id) if isinstance(market_id, str | int) else "",
        condition_id=condition_id,
        question=question if isinstance(question, str) else "",
        league=league,
        outcomes=outcomes,
        start_time=start_time,
        slug_date=slug_date,
        sports_market_type=_optional_text(raw, "sportsMarketType"),
        line=_optional_text(raw, "line"),
        market_slug=market_slug if isinstance(market_slug, str) else "",
        closed=False,
        fees=_fees(raw),
    )


def _slug_date(slug: str) -> date | None:
    m = _SLUG_DATE.search(slug)
    if m is None:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _events(body: object) -> list[Any]:
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        if isinstance(body.get("data"), list):  # /events/pagination
            return list(body["data"])
        if isinstance(body.get("markets"), list):  # /events/{id}
            return [body]
    raise DecodeError("Gamma body is not a list of events", field="events")


def _reject(out: list[Rejection], ident: str, rej: _Reject, what: str) -> None:
    out.append(Rejection(Venue.POLYMARKET, ident, rej.reason, rej.detail))
    quiet = rej.reason in (Reason.UNKNOWN_LEAGUE, Reason.NOT_MONEYLINE)
    (logger.debug if quiet else logger.info)(
        "polymarket %s %s rejected: %s (%s)", what, ident, rej.reason.value, rej.detail
    )


def polymarket_games_from_events_json(
    body: object,
) -> tuple[list[PolymarketGame], list[Rejection]]:
    """Convert a Gamma ``/events`` body (a list of events with nested ``markets``).

    Also accepts one event object and the ``{"data": [...]}`` pagination shape. Returns
    every two-outcome market of every NBA/NHL event (moneyline or not, in body order) and one
    :class:`Rejection` per event or market that cannot be used. Raises
    :class:`DecodeError` only when the body itself has the wrong shape.
    """
    games: list[PolymarketGame] = []
    rejections: list[Rejection] = []
    for i, event in enumerate(_events(body)):
        slug = event.get("slug") if isinstance(event, dict) else None
        ident = slug if isinstance(slug, str) and slug else f"events[{i}]"
        try:
            if not isinstance(event, dict) or not isinstance(slug, str) or not slug:
                raise _Reject(Reason.MALFORMED, "event is not an object with a slug")
            league = _event_league(event, slug)
            markets = event.get("markets")
            if not isinstance(markets, list) or not markets:
                raise _Reject(Reason.MISSING_TOKEN, "event has no nested markets")
        except _Reject as rej:
            _reject(rejections, ident, rej, "event")
            continue
        slug_date = _slug_date(slug)
        for j, raw in enumerate(markets):
            try:
                games.append(_game(slug, league, slug_date, raw))
            except _Reject as rej:
                cid = raw.get("conditionId") if isinstance(raw, dict) else None
                mident = cid if isinstance(cid, str) and cid else f"{ident}/markets[{j}]"
                _reject(rejections, mident, rej, "market")
    logger.info("polymarket events: %d markets, %d rejected", len(games), len(rejections))
    return games, rejections
