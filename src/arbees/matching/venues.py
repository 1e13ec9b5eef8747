"""The venues' typed events -> the matcher's venue-neutral games, and one call to match them.

Nothing here reads JSON: Kalshi ``/events`` bodies are decoded once by
:func:`arbees.kalshi.models.parse_events` and Gamma ``/events`` bodies once by
:func:`arbees.polymarket.models.parse_gamma_events`; discovery and ``arbees match`` hand
those typed events (and the decoders' rejections) to the functions below, so both see the
same objects and every refused item ends up, with its reason, in the same report.

Only the game structure is checked here (ticker grammar, one market per team, two outcomes
with distinct tokens, the league); whether the teams are known is the matcher's job, so a
new team code shows up as an ``unknown_team`` rejection instead of vanishing.

Kalshi's event ticker is ``{SERIES}-{YYMONDD}[HHMM]{AWAY}{HOME}`` with a US-Eastern date and
2-3 letter team codes. Guessing where AWAY ends is unsafe (``LAC`` + ``HOU`` vs ``LA`` +
...), so the codes are taken from the event's market tickers (``...-OKC``, ``...-SAS``) and
must concatenate, in some order, to the ticker's code part. ``no_sub_title`` is never read:
it often repeats the same team.

A Gamma sports event (slug ``nba-okc-sas-2026-10-20``) nests many markets: the moneyline,
spreads, totals, player props. Every two-outcome market becomes a :class:`PolymarketGame`
carrying its ``sportsMarketType``; the matcher decides which of them may match. The league
comes from the slug prefix, the tags and ``seriesSlug`` (they must agree), and only when all
are silent from the title text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Final

from arbees.errors import DecodeError, DecodeRejection
from arbees.kalshi.models import Event, Market
from arbees.matching.eastern import eastern
from arbees.matching.kalshi_structure import KalshiStructure
from arbees.matching.matcher import DEFAULT_START_WINDOW, match_games
from arbees.matching.model import (
    KalshiGame,
    KalshiTeamMarket,
    MatchReport,
    PolymarketFees,
    PolymarketGame,
    PolymarketOutcome,
    Reason,
    Rejection,
    Venue,
)
from arbees.polymarket.models import (
    TOKEN_COUNT_FIELD,
    UNMAPPED_FIELD,
    GammaEvent,
    GammaMarket,
)

__all__ = [
    "KALSHI_GAME_SERIES",
    "decode_rejections",
    "kalshi_games",
    "match_events",
    "parse_event_ticker",
    "polymarket_games",
]

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
_LEAGUE_WORDS: Final[Mapping[str, str]] = {"nba": "NBA", "nhl": "NHL"}
_SLUG_DATE = re.compile(r"-(\d{4})-(\d{2})-(\d{2})$")
_TEXT_LEAGUE = re.compile(r"\b(NBA|NHL)\b")
_DECODE_REASONS: Final[Mapping[str, Reason]] = {
    "gameStartTime": Reason.BAD_START_TIME,
    TOKEN_COUNT_FIELD: Reason.MISSING_TOKEN,
    UNMAPPED_FIELD: Reason.UNMAPPED,
}


class _Reject(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def decode_rejections(venue: Venue, rejected: Iterable[DecodeRejection]) -> list[Rejection]:
    """A decoder's refusals as report rejections (a start time or a missing token keeps its
    own reason; anything else unreadable is ``malformed``)."""
    return [
        Rejection(
            venue,
            r.item,
            _DECODE_REASONS.get(r.field or "", Reason.MALFORMED),
            r.reason,
        )
        for r in rejected
    ]


# ---- Kalshi ---------------------------------------------------------------------------


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


def _team_market(event_ticker: str, market: Market) -> KalshiTeamMarket:
    prefix = f"{event_ticker}-"
    ticker = market.ticker
    code = ticker[len(prefix) :] if ticker.startswith(prefix) else ""
    if not code.isalpha() or not code.isupper():
        raise _Reject(Reason.BAD_TICKER, f"market {ticker!r} is not {prefix}<TEAM>")
    return KalshiTeamMarket(
        ticker=ticker, code=code, yes_sub_title=market.yes_sub_title, status=market.status
    )


def _kalshi_game(event: Event, structure: KalshiStructure | None = None) -> KalshiGame:
    event_ticker = event.event_ticker
    if not event_ticker:
        raise _Reject(Reason.MALFORMED, "event_ticker is empty")
    series = event.series_ticker or event_ticker.split("-")[0]
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
    if not event.markets:
        raise _Reject(Reason.MISSING_TEAM_MARKET, "no nested markets (use with_nested_markets)")
    markets = [_team_market(event_ticker, m) for m in event.markets]
    if len(markets) != 2:
        found = ", ".join(m.code for m in markets)
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
    milestone = None if structure is None else structure.lookup(event_ticker, league).milestone
    if milestone is not None and milestone.start_date is not None:
        # the milestone's scheduled start (the teams stay the NBA/NHL table's)
        start_time = milestone.start_date
        if start_time.astimezone(eastern()).date() != day:
            raise _Reject(
                Reason.BAD_START_TIME,
                f"milestone {milestone.id} starts {start_time.isoformat()}, not on the "
                f"ticker's date {day}",
            )
    return KalshiGame(
        event_ticker=event_ticker,
        series_ticker=series,
        league=league,
        eastern_date=day,
        away=away,
        home=home,
        start_time=start_time,
        title=event.title,
    )


def kalshi_games(
    events: Iterable[Event], structure: KalshiStructure | None = None
) -> tuple[list[KalshiGame], list[Rejection]]:
    """The NBA/NHL game events among ``events``, and one :class:`Rejection` per other event;
    with ``structure``, a game's start is its Kalshi milestone's."""
    games: list[KalshiGame] = []
    rejections: list[Rejection] = []
    for event in events:
        try:
            games.append(_kalshi_game(event, structure))
        except _Reject as rej:
            ident = event.event_ticker
            rejections.append(Rejection(Venue.KALSHI, ident, rej.reason, rej.detail))
            log = logger.debug if rej.reason is Reason.UNKNOWN_LEAGUE else logger.info
            log("kalshi event %s rejected: %s (%s)", ident, rej.reason.value, rej.detail)
    logger.info("kalshi events: %d games, %d rejected", len(games), len(rejections))
    return games, rejections


# ---- Polymarket -----------------------------------------------------------------------


def _event_league(event: GammaEvent) -> str:
    votes: dict[str, str] = {}
    prefix = event.slug.split("-", 1)[0].lower()
    if prefix in _LEAGUE_WORDS:
        votes[f"slug {event.slug!r}"] = _LEAGUE_WORDS[prefix]
    series_slug = event.series_slug
    if series_slug is not None and series_slug.lower() in _LEAGUE_WORDS:
        votes[f"seriesSlug {series_slug!r}"] = _LEAGUE_WORDS[series_slug.lower()]
    for tag in event.tags:
        for value in (tag.slug, tag.label):
            if value.lower() in _LEAGUE_WORDS:
                votes[f"tag {value!r}"] = _LEAGUE_WORDS[value.lower()]
    leagues = set(votes.values())
    if len(leagues) > 1:
        detail = ", ".join(f"{src} says {lg}" for src, lg in sorted(votes.items()))
        raise _Reject(Reason.LEAGUE_MISMATCH, detail)
    if leagues:
        return leagues.pop()
    found: set[str] = set(_TEXT_LEAGUE.findall(event.title))
    if len(found) == 1:
        return found.pop()
    raise _Reject(Reason.UNKNOWN_LEAGUE, f"event {event.slug!r} is not an NBA/NHL event")


def _outcomes(market: GammaMarket) -> tuple[PolymarketOutcome, PolymarketOutcome]:
    names = [o.label for o in market.outcomes]
    if not names:
        raise _Reject(Reason.MALFORMED, "outcomes missing")
    if not all(n.strip() for n in names):
        raise _Reject(Reason.MALFORMED, f"outcomes are not non-empty strings: {names!r}")
    if len(names) != 2:
        raise _Reject(Reason.NOT_MONEYLINE, f"{len(names)} outcomes, a game market has 2")
    first, second = market.outcomes
    if first.token_id == second.token_id:
        raise _Reject(Reason.DUPLICATE_TOKEN, f"both outcomes have token {first.token_id}")
    return (
        PolymarketOutcome(first.label, first.token_id),
        PolymarketOutcome(second.label, second.token_id),
    )


def _fees(market: GammaMarket) -> PolymarketFees:
    schedule = market.fee_schedule
    if schedule is None:
        return PolymarketFees(market.fees_enabled, market.fee_type)
    return PolymarketFees(
        market.fees_enabled,
        market.fee_type,
        rate=schedule.rate,
        exponent=schedule.exponent,
        taker_only=schedule.taker_only,
        rebate_rate=schedule.rebate_rate,
    )


def _polymarket_game(
    event: GammaEvent, league: str, slug_date: date | None, market: GammaMarket
) -> PolymarketGame:
    if not market.condition_id:
        raise _Reject(Reason.MALFORMED, "conditionId missing")
    outcomes = _outcomes(market)
    if market.closed:
        raise _Reject(Reason.CLOSED, "market is closed")
    return PolymarketGame(
        event_slug=event.slug,
        market_id=market.id,
        condition_id=market.condition_id,
        question=market.question,
        league=league,
        outcomes=outcomes,
        start_time=market.game_start_time,
        slug_date=slug_date,
        sports_market_type=market.sports_market_type,
        line=market.line,
        market_slug=market.slug,
        closed=False,
        fees=_fees(market),
    )


def _slug_date(slug: str) -> date | None:
    m = _SLUG_DATE.search(slug)
    if m is None:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _reject(out: list[Rejection], ident: str, rej: _Reject, what: str) -> None:
    out.append(Rejection(Venue.POLYMARKET, ident, rej.reason, rej.detail))
    quiet = rej.reason in (Reason.UNKNOWN_LEAGUE, Reason.NOT_MONEYLINE)
    (logger.debug if quiet else logger.info)(
        "polymarket %s %s rejected: %s (%s)", what, ident, rej.reason.value, rej.detail
    )


def polymarket_games(
    events: Iterable[GammaEvent],
) -> tuple[list[PolymarketGame], list[Rejection]]:
    """Every open two-outcome market of every NBA/NHL event (in order), and one
    :class:`Rejection` per event or market that cannot be used."""
    games: list[PolymarketGame] = []
    rejections: list[Rejection] = []
    for event in events:
        ident = event.slug or f"event:{event.id}"
        try:
            if not event.slug:
                raise _Reject(Reason.MALFORMED, "event has no slug")
            league = _event_league(event)
            if not event.markets:
                raise _Reject(Reason.MISSING_TOKEN, "event has no nested markets")
        except _Reject as rej:
            _reject(rejections, ident, rej, "event")
            continue
        slug_date = _slug_date(event.slug)
        for j, market in enumerate(event.markets):
            try:
                games.append(_polymarket_game(event, league, slug_date, market))
            except _Reject as rej:
                mident = market.condition_id or f"{ident}/markets[{j}]"
                _reject(rejections, mident, rej, "market")
    logger.info("polymarket events: %d markets, %d rejected", len(games), len(rejections))
    return games, rejections


def match_events(
    kalshi: Sequence[Event],
    polymarket: Sequence[GammaEvent],
    *,
    rejected: Iterable[Rejection] = (),
    start_window: timedelta = DEFAULT_START_WINDOW,
) -> MatchReport:
    """Convert both venues' typed events and match them.

    ``rejected`` carries the decoders' refusals (see :func:`decode_rejections`); the report
    holds them with the converters' and the matcher's, sorted.
    """
    k_games, k_rej = kalshi_games(kalshi)
    p_games, p_rej = polymarket_games(polymarket)
    report = match_games(k_games, p_games, start_window=start_window)
    rejections = sorted((*rejected, *k_rej, *p_rej, *report.rejections))
    return MatchReport(report.matches, tuple(rejections))
