"""Convert a Kalshi ``GET /events?with_nested_markets=true`` body into :class:`KalshiGame` s.

Only the structure is checked here (types, ticker grammar, one market per team); whether the
teams are known is the matcher's job, so a new team code shows up as an ``unknown_team``
rejection in the match report instead of vanishing.

The event ticker is ``{SERIES}-{YYMONDD}[HHMM]{AWAY}{HOME}`` with a US-Eastern date and 2-3
letter team codes. Guessing where AWAY ends is unsafe (``LAC`` + ``HOU`` vs ``LA`` + ...), so
the codes are taken from the event's market tickers (``...-OKC``, ``...-SAS``) and must
concatenate, in some order, to the ticker's code part. ``no_sub_title`` is never read: it
often repeats the same team.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any, Final

from arbees.errors import DecodeError
from arbees.matching.eastern import eastern
from arbees.matching.model import KalshiGame, KalshiTeamMarket, Reason, Rejection, Venue

__all__ = ["KALSHI_GAME_SERIES", "kalshi_games_from_events_json", "parse_event_ticker"]

logger = logging.getLogger(__name__)

KALSHI_GAME_SERIES: Final[Mapping[str, str]] = {"KXNBAGAME": "NBA", "KXNHLGAME": "NHL"}

_MONTHS: Final = {
    m: i
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
_EVENT_TICKER = re.compile(
    r"^(?P<series>[A-Z0-9]+)-(?P<yy>\d{2})(?P<mon>[A-Z]{3})(?P<dd>\d{2})(?P<hhmm>\d{4})?"
    r"(?P<codes>[A-Z]{4,6})$"
)
_CLOSED_STATUSES: Final = frozenset({"closed", "determined", "finalized", "settled"})


class _Reject(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def parse_event_ticker(event_ticker: str) -> tuple[str, date, time | None, str]:
    """Split a game event ticker into ``(series, eastern_date, eastern_start, codes)``.

    ``eastern_start`` is the optional ``HHMM`` some series put after the date. Raises
    :class:`DecodeError` when the ticker does not have the game grammar.
    """
    m = _EVENT_TICKER.match(event_ticker)
    if m is None:
        raise DecodeError(f"not a game event ticker: {event_ticker!r}", field="event_ticker")
    month = _MONTHS.get(m["mon"])
    if month is None:
        raise DecodeError(f"bad month in {event_ticker!r}", field="event_ticker")
    try:
        day = date(2000 + int(m["yy"]), month, int(m["dd"]))
        start = None
        if m["hhmm"] is not None:
            start = time(int(m["hhmm"][:2]), int(m["hhmm"][2:]))
    except ValueError as exc:
        raise DecodeError(f"bad date in {event_ticker!r}: {exc}", field="event_ticker") from exc
    return m["series"], day, start, m["codes"]


def _str_field(obj: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise _Reject(Reason.MALFORMED, f"{key} missing or not a string: {value!r}")
    return value


def _team_market(event_ticker: str, raw: object) -> KalshiTeamMarket:
    if not isinstance(raw, dict):
        raise _Reject(Reason.MALFORMED, f"market is not an object: {type(raw).__name__}")
    ticker = _str_field(raw, "ticker")
    prefix = f"{event_ticker}-"
    code = ticker[len(prefix) :] if ticker.startswith(prefix) else ""
    if not code.isalpha() or not code.isupper():
        raise _Reject(Reason.BAD_TICKER, f"market {ticker!r} is not {prefix}<TEAM>")
    return KalshiTeamMarket(
        ticker=ticker,
        code=code,
        yes_sub_title=_str_field(raw, "yes_sub_title", required=False),
        status=_str_field(raw, "status", required=False),
    )


def _game(event: object) -> KalshiGame:
    if not isinstance(event, dict):
        raise _Reject(Reason.MALFORMED, f"event is not an object: {type(event).__name__}")
    event_ticker = _str_field(event, "event_ticker")
    series = _str_field(event, "series_ticker", required=False) or event_ticker.split("-")[0]
    league = KALSHI_GAME_SERIES.get(series)
    if league is None:
        raise _Reject(Reason.UNKNOWN_LEAGUE, f"series {series!r} is not an NBA/NHL game series")
    try:
        ticker_series, day, start, codes = parse_event_ticker(event_ticker)
    except DecodeError as exc:
        raise _Reject(Reason.BAD_TICKER, str(exc)) from exc
    if ticker_series != series:
        raise _Reject(
            Reason.LEAGUE_MISMATCH, f"ticker series {ticker_series!r} != series {series!r}"
        )
    raw_markets = event.get("markets")
    if not isinstance(raw_markets, list):
        raise _Reject(Reason.MISSING_TEAM_MARKET, "no nested markets (use with_nested_markets)")
    markets = [_team_market(event_ticker, raw) for raw in raw_markets]
    if len(markets) != 2:
        found = ", ".join(m.code for m in markets) or "none"
        raise _Reject(Reason.MISSING_TEAM_MARKET, f"expected 2 team markets, found: {found}")
    first, second = markets
    if first.code == second.code:
        raise _Reject(Reason.SAME_TEAM, f"both markets are for {first.code}")
    if first.code + second.code == codes:
        away, home = first, second
    elif second.code + first.code == codes:
        away, home = second, first
    else:
        raise _Reject(
            Reason.BAD_TICKER,
            f"market codes {first.code}/{second.code} do not spell ticker codes {codes!r}",
        )
    closed = sorted({m.status for m in markets} & _CLOSED_STATUSES)
    if closed:
        raise _Reject(Reason.CLOSED, f"market status {', '.join(closed)}")
    start_time = None if start is None else datetime.combine(day, start, tzinfo=eastern())
    return KalshiGame(
        event_ticker=event_ticker,
        series_ticker=series,
        league=league,
        eastern_date=day,
        away=away,
        home=home,
        start_time=start_time,
        title=_str_field(event, "title", required=False),
    )


def kalshi_games_from_events_json(
    body: object,
) -> tuple[list[KalshiGame], list[Rejection]]:
    """Convert a Kalshi ``/events`` body (``{"events": [...], "cursor": ...}``).

    Returns the games in body order and one :class:`Rejection` per event that is not a
    well-formed NBA/NHL game. Raises :class:`DecodeError` only when the body itself is not an
    events response.
    """
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise DecodeError("Kalshi body is not {'events': [...]}", field="events")
    games: list[KalshiGame] = []
    rejections: list[Rejection] = []
    for i, event in enumerate(body["events"]):
        try:
            games.append(_game(event))
        except _Reject as rej:
            ident = event.get("event_ticker") if isinstance(event, dict) else None
            ident = ident if isinstance(ident, str) and ident else f"events[{i}]"
            rejections.append(Rejection(Venue.KALSHI, ident, rej.reason, rej.detail))
            log = logger.debug if rej.reason is Reason.UNKNOWN_LEAGUE else logger.info
            log("kalshi event %s rejected: %s (%s)", ident, rej.reason.value, rej.detail)
    logger.info("kalshi events: %d games, %d rejected", len(games), len(rejections))
    return games, rejections
