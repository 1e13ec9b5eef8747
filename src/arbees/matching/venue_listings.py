"""The venues' typed events -> :class:`~arbees.matching.events.ListedGame` s, for every league.

Like :mod:`arbees.matching.venues` (which serves the NBA/NHL team-pair matcher), this module
sees the venues' models; nothing else in :mod:`arbees.matching` does. Nothing here reads
JSON: the bodies are decoded once by :func:`arbees.kalshi.models.parse_events`,
:func:`arbees.polymarket.models.parse_gamma_events` and
:func:`arbees.polymarket.models.parse_gamma_teams`.

Kalshi: the series ticker names the league and the market type (``KXEPLGAME``,
``KXMLBTOTAL``, ``KXNFLSPREAD``; :func:`arbees.matching.leagues.kalshi_series_kind`), the
event ticker the US-Eastern date and the team codes (``KXEPLGAME-26DEC06MUNMCI``). A winner
event has one market per team (``-MUN``, ``-MCI``) and, where draws exist, ``-TIE``; the
codes must spell the ticker's code part. A total or spread event's ticker codes are split
where both halves are catalogue codes of the league (exactly one split, else the event is
refused); each market's YES pays above its ``floor_strike`` (``strike_type="greater"``).
Kalshi's own structured data comes first when given
(:class:`~arbees.matching.kalshi_structure.KalshiStructure`): the event's milestone gives
its scheduled start (``start_date``, whose US-Eastern date must be the ticker's) and its
away / home teams as structured targets, whose abbreviation and name are resolved in the
catalogue instead of the ticker codes and ``yes_sub_title``; a winner market is the
target its code (the target's abbreviation) or its ``yes_sub_title`` (a prefix of the
target's name) agrees with, exactly one way round. Without a usable milestone or targets
(see :meth:`~arbees.matching.kalshi_structure.KalshiStructure.lookup`; targets the
catalogue does not name as two teams) the ticker/name path above is the fallback, under the
same guards.

Gamma: the league comes from the slug prefix, ``seriesSlug``, tags and the event's
``sport`` code (they must agree);
the teams from the slug's codes (``epl-mun-mci-2026-12-06``) and the title ("A vs. B"); each
market's ``sportsMarketType`` says what it is: a ``moneyline`` market is either one market
with a token per team, or one Yes/No market per outcome (soccer: each team and the draw,
named by ``groupItemTitle``); ``totals`` has Over/Under tokens at ``line``; ``spreads`` names
the favourite first with a negative ``line``.

Polymarket US (its ``/v1/events`` decoded by :func:`arbees.polymarket_us.models.parse_events`):
every market is ONE two-sided instrument keyed by its slug, whose long side is the YES the
book trades. The league comes from the event slug (``aec-nfl-buf-kc-2026-12-06``: an
optional venue prefix, the league, the two team codes away first, the date),
``seriesSlug`` and the markets' ``tournament_name`` (those the league table knows must
agree); the teams from the slug codes with the markets' ``away_team_name`` /
``home_team_name`` (the title as a fallback). ``sportsMarketType`` says what a market is:
a ``moneyline`` market whose long side names a team (``marketSides[].team.name`` or
``description``) pays when that team wins and its NO when the other does (a two-team
market is refused in a league with draws: its NO would also pay on a draw the sides do
not name); a Yes/No moneyline market pays on the team its question names ("Will
Manchester United win?") or on the draw; ``totals`` has a long ``Over`` side at ``line``.
Spreads are not converted yet (reported ``not_moneyline``).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Final

from arbees.kalshi.models import Event, Market, StructuredTarget
from arbees.matching.catalogue import CatalogueRow, TeamCatalogue, builtin_rows
from arbees.matching.eastern import eastern
from arbees.matching.events import (
    ContractKind,
    EventReport,
    ListedContract,
    ListedGame,
    MarketType,
    TeamClaim,
    Unmatched,
    match_listings,
)
from arbees.matching.kalshi_structure import KalshiStructure, MilestoneLookup
from arbees.matching.leagues import (
    SeriesKind,
    gamma_league,
    kalshi_league,
    kalshi_series_kind,
)
from arbees.matching.leagues import league as league_of_key
from arbees.matching.matcher import DEFAULT_START_WINDOW
from arbees.matching.model import Reason
from arbees.matching.teams import normalize_name
from arbees.polymarket.models import GammaEvent, GammaMarket, GammaTeam
from arbees.polymarket_us.models import UsEvent, UsMarket

__all__ = [
    "build_catalogue",
    "gamma_team_rows",
    "kalshi_listings",
    "match_venue_events",
    "polymarket_listings",
    "polymarket_us_listings",
]

log = logging.getLogger(__name__)

KALSHI: Final = "kalshi"
POLYMARKET: Final = "polymarket"
POLYMARKET_US: Final = "polymarket-us"

_MONTHS: Final = {
    m: i
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
_TICKER = re.compile(
    r"^(?P<series>[A-Z0-9]+)-(?P<yy>\d{2})(?P<mon>[A-Z]{3})(?P<dd>\d{2})(?P<hhmm>\d{4})?"
    r"(?P<codes>[A-Z]{2,16})$"
)
_SPREAD_SUFFIX = re.compile(r"^(?P<code>[A-Z]+)(?P<n>\d+)$")
_HALF_POINT: Final = Decimal("0.5")
_CLOSED: Final = frozenset({"closed", "determined", "finalized", "settled"})
_TIE: Final = "TIE"
_SLUG = re.compile(
    r"^(?P<league>[a-z0-9]+)-(?P<codes>[a-z0-9-]+?)-(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:-more-markets)?$"
)
_TITLE_SUFFIX = re.compile(r"\s+-\s+more markets$", re.I)
_TYPES: Final = {
    "moneyline": MarketType.MONEYLINE,
    "totals": MarketType.TOTAL,
    "spreads": MarketType.SPREAD,
}
_YES_NO: Final = ("yes", "no")
_SPREAD_QUESTION = re.compile(r"^Spread:\s*(?P<team>.+?)\s*\((?P<line>[+-]?\d+(?:\.\d+)?)\)$", re.I)
_TOTAL_QUESTION = re.compile(r"\bO/U\s*(?P<line>\d+(?:\.\d+)?)\b", re.I)


class _Reject(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def gamma_team_rows(teams: Iterable[GammaTeam]) -> tuple[list[CatalogueRow], list[str]]:
    """Gamma ``/teams`` entries as catalogue rows; the second list names the entries left
    out (a league the league table does not know, no abbreviation)."""
    rows: list[CatalogueRow] = []
    skipped: list[str] = []
    for team in teams:
        lg = gamma_league(team.league)
        if lg is None or not team.abbreviation:
            skipped.append(f"{team.league}:{team.name}")
            continue
        aliases = (team.alias,) if team.alias else ()
        rows.append(CatalogueRow(lg.key, team.abbreviation, team.name, aliases))
    return rows, skipped


def build_catalogue(teams: Iterable[GammaTeam] = ()) -> TeamCatalogue:
    """The catalogue of Gamma's teams plus the built-in NBA/NHL tables."""
    rows, skipped = gamma_team_rows(teams)
    if skipped:
        log.info("team catalogue: %d Gamma teams left out (league or code unknown)", len(skipped))
    return TeamCatalogue([*rows, *builtin_rows("NBA"), *builtin_rows("NHL")])


# ---- Kalshi ---------------------------------------------------------------------------


def _ticker(event_ticker: str) -> tuple[str, date, time | None, str]:
    m = _TICKER.match(event_ticker)
    month = None if m is None else _MONTHS.get(m["mon"])
    if m is None or month is None:
        raise _Reject(Reason.BAD_TICKER, f"not a game event ticker: {event_ticker!r}")
    try:
        day = date(2000 + int(m["yy"]), month, int(m["dd"]))
        hhmm = m["hhmm"]
        start = None if hhmm is None else time(int(hhmm[:2]), int(hhmm[2:]))
    except ValueError as exc:
        raise _Reject(Reason.BAD_TICKER, f"bad date in {event_ticker!r}: {exc}") from exc
    return m["series"], day, start, m["codes"]


def _split_codes(catalogue: TeamCatalogue, league: str, codes: str) -> tuple[str, str]:
    splits = [
        (codes[:i], codes[i:])
        for i in range(2, len(codes) - 1)
        if catalogue.has_code(league, codes[:i]) and catalogue.has_code(league, codes[i:])
    ]
    if len(splits) != 1:
        found = " or ".join("+".join(s) for s in splits) or "no split into two known codes"
        raise _Reject(Reason.UNKNOWN_TEAM, f"ticker codes {codes!r} in {league}: {found}")
    return splits[0]


def _suffix(event_ticker: str, market: Market) -> str:
    prefix = f"{event_ticker}-"
    if not market.ticker.startswith(prefix) or not market.ticker[len(prefix) :].isalnum():
        raise _Reject(Reason.BAD_TICKER, f"market {market.ticker!r} is not {prefix}<CODE>")
    return market.ticker[len(prefix) :]


def _over_line(market: Market) -> Decimal:
    if market.strike_type != "greater" or market.floor_strike is None:
        raise _Reject(
            Reason.MALFORMED,
            f"market {market.ticker}: strike_type {market.strike_type!r} with floor_strike "
            f"{market.floor_strike} is not 'above a line'",
        )
    return market.floor_strike


def _target_claim(target: StructuredTarget) -> TeamClaim:
    return TeamClaim(target.abbreviation, target.name, f"kalshi_target:{target.id}")


def _agrees(code: str, name: str, target: StructuredTarget) -> bool:
    """A market's code or ``yes_sub_title`` says it is ``target``: the code is the target's
    abbreviation, or the sub-title is (a prefix of) its name ("Miami" of "Miami (OH)
    RedHawks", "Manchester U" of "Manchester United")."""
    if target.abbreviation and code.upper() == target.abbreviation.strip().upper():
        return True
    said, full = normalize_name(name), normalize_name(target.name)
    return bool(said) and full.startswith(said)


def _catalogued(catalogue: TeamCatalogue, league: str, target: StructuredTarget) -> str | None:
    """The catalogue team a target names (its abbreviation, else its name; the two must
    not name different teams), or ``None``: then the ticker/name path decides."""
    by_code = catalogue.by_code(league, target.abbreviation).team if target.abbreviation else None
    by_name = catalogue.by_name(league, target.name).team
    if by_code is not None and by_name is not None and by_code.id != by_name.id:
        return None
    found = by_code or by_name
    return None if found is None else found.id


def _assign_targets(
    names: dict[str, str], pair: tuple[StructuredTarget, StructuredTarget]
) -> dict[str, StructuredTarget] | None:
    """Each team market's target (by its code), when exactly one way round agrees."""
    codes = list(names)
    if len(codes) != 2:
        return None
    ways = [dict(zip(codes, way, strict=True)) for way in (pair, pair[::-1])]
    fits = [w for w in ways if all(_agrees(c, names[c], t) for c, t in w.items())]
    return fits[0] if len(fits) == 1 else None


def _kalshi_game(
    event: Event, catalogue: TeamCatalogue, structure: KalshiStructure | None = None
) -> ListedGame:
    series = event.series_ticker or event.event_ticker.split("-")[0]
    parsed = kalshi_series_kind(series)
    if parsed is None:
        raise _Reject(Reason.UNKNOWN_LEAGUE, f"series {series!r} is not a game/total/spread series")
    code, kind = parsed
    lg = kalshi_league(code)
    if lg is None:
        raise _Reject(
            Reason.UNKNOWN_LEAGUE, f"league code {code!r} of {series} is not in the league table"
        )
    ticker_series, day, start, codes = _ticker(event.event_ticker)
    if ticker_series != series:
        raise _Reject(Reason.LEAGUE_MISMATCH, f"ticker series {ticker_series!r} != {series!r}")
    if not event.markets:
        raise _Reject(Reason.MISSING_TEAM_MARKET, "no nested markets (use with_nested_markets)")
    closed = sorted({m.status for m in event.markets} & _CLOSED)
    if closed:
        raise _Reject(Reason.CLOSED, f"market status {', '.join(closed)}")
    look = (
        MilestoneLookup(None) if structure is None else structure.lookup(event.event_ticker, lg.key)
    )
    if look.note:
        log.debug("kalshi %s: %s: ticker/name path", event.event_ticker, look.note)
    sources: tuple[str, ...] = ()
    begins = None if start is None else datetime.combine(day, start, tzinfo=eastern())
    if look.milestone is not None and look.milestone.start_date is not None:
        begins = look.milestone.start_date
        if begins.astimezone(eastern()).date() != day:
            raise _Reject(
                Reason.BAD_START_TIME,
                f"milestone {look.milestone.id} starts {begins.isoformat()}, not on the "
                f"ticker's date {day}",
            )
        sources = (f"kalshi_milestone:{look.milestone.id}",)
    pair = None if look.away is None or look.home is None else (look.away, look.home)
    if pair is not None:
        known = [_catalogued(catalogue, lg.key, t) for t in pair]
        if None in known or known[0] == known[1]:
            log.info(
                "kalshi %s: the catalogue does not name milestone %s's two targets (%s): "
                "ticker/name path",
                event.event_ticker,
                look.milestone.id if look.milestone is not None else "",
                ", ".join(f"{t.abbreviation or '-'} {t.name!r}" for t in pair),
            )
            pair = None
    contracts: list[ListedContract] = []
    if kind == SeriesKind.GAME:
        names: dict[str, str] = {}
        tickers: dict[str, str] = {}
        for market in event.markets:
            suffix = _suffix(event.event_ticker, market)
            if suffix == _TIE:
                contracts.append(ListedContract(market.ticker, market.ticker, ContractKind.DRAW))
                continue
            names[suffix] = market.yes_sub_title
            tickers[suffix] = market.ticker
        order = [(a, b) for a in names for b in names if a != b and a + b == codes]
        if len(order) != 1:
            raise _Reject(
                Reason.BAD_TICKER,
                f"market codes {sorted(names)} do not spell ticker codes {codes!r}",
            )
        away, home = order[0]
        assigned = None if pair is None else _assign_targets(names, pair)
        if pair is not None and assigned is None:
            log.info(
                "kalshi %s: the markets do not tell which of milestone %s's targets is "
                "which: ticker/name path",
                event.event_ticker,
                look.milestone.id if look.milestone is not None else "",
            )
        claims = {
            code: (
                _target_claim(assigned[code])
                if assigned is not None
                else TeamClaim(code, names[code])
            )
            for code in names
        }
        for code in names:
            contracts.append(
                ListedContract(tickers[code], tickers[code], ContractKind.TEAM, claims[code])
            )
        if assigned is not None and pair is not None:
            teams = (_target_claim(pair[0]), _target_claim(pair[1]))
        else:
            teams = (claims[away], claims[home])
        market_type = MarketType.MONEYLINE
    else:
        targets: tuple[StructuredTarget, ...] = ()
        if pair is not None:
            targets = pair
            teams = (_target_claim(pair[0]), _target_claim(pair[1]))
            try:
                away, home = _split_codes(catalogue, lg.key, codes)
            except _Reject:
                away = home = ""
        else:
            away, home = _split_codes(catalogue, lg.key, codes)
            teams = (TeamClaim(away), TeamClaim(home))
        for market in event.markets:
            line = _over_line(market)
            suffix = _suffix(event.event_ticker, market)
            digits = suffix.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            if digits.isdigit() and Decimal(digits) - line != _HALF_POINT:
                raise _Reject(
                    Reason.BAD_TICKER,
                    f"market {market.ticker!r}: suffix {digits} disagrees with floor_strike {line}",
                )
            if kind == SeriesKind.TOTAL:
                contracts.append(
                    ListedContract(market.ticker, market.ticker, ContractKind.OVER, line=line)
                )
                continue
            m = _SPREAD_SUFFIX.match(suffix)
            owners = [t for t in targets if m is not None and _agrees(m["code"], "", t)]
            if len(owners) == 1:
                claim = _target_claim(owners[0])
            elif m is None or m["code"] not in (away, home):
                raise _Reject(
                    Reason.BAD_TICKER, f"spread market {market.ticker!r} names no team of {codes!r}"
                )
            else:
                claim = TeamClaim(m["code"])
            contracts.append(
                ListedContract(market.ticker, market.ticker, ContractKind.TEAM, claim, line)
            )
        market_type = MarketType.TOTAL if kind == SeriesKind.TOTAL else MarketType.SPREAD
    return ListedGame(
        venue=KALSHI,
        event_id=event.event_ticker,
        league=lg.key,
        market_type=market_type,
        eastern_date=day,
        start_time=begins,
        teams=teams,
        contracts=tuple(contracts),
        sources=sources,
    )


def kalshi_listings(
    events: Iterable[Event],
    catalogue: TeamCatalogue,
    structure: KalshiStructure | None = None,
) -> tuple[list[ListedGame], list[Unmatched]]:
    """Every Kalshi game / total / spread event as a listing; one :class:`Unmatched` per
    event that cannot be one. With ``structure`` (Kalshi's milestones and structured
    targets), an event's start and teams come from its milestone first."""
    games: list[ListedGame] = []
    refused: list[Unmatched] = []
    for event in events:
        try:
            games.append(_kalshi_game(event, catalogue, structure))
        except _Reject as rej:
            refused.append(Unmatched(KALSHI, event.event_ticker, "", "", rej.reason, rej.detail))
    return games, refused


# ---- Polymarket -----------------------------------------------------------------------


def _gamma_league(event: GammaEvent) -> str:
    votes: dict[str, str] = {}
    sources = [("slug", event.slug.split("-", 1)[0]), ("seriesSlug", event.series_slug or "")]
    sources += [("tag", tag.slug) for tag in event.tags]
    sources.append(("sport", event.sport or ""))
    for what, value in sources:
        lg = gamma_league(value) if value else None
        if lg is not None:
            votes[f"{what} {value!r}"] = lg.key
    if len(set(votes.values())) > 1:
        detail = ", ".join(f"{src} says {lg}" for src, lg in sorted(votes.items()))
        raise _Reject(Reason.LEAGUE_MISMATCH, detail)
    if not votes:
        raise _Reject(Reason.UNKNOWN_LEAGUE, f"event {event.slug!r}: no league the table knows")
    return next(iter(votes.values()))


def _gamma_teams(event: GammaEvent) -> tuple[TeamClaim, TeamClaim]:
    m = _SLUG.match(event.slug)
    codes = m["codes"].split("-") if m is not None else []
    title = _TITLE_SUFFIX.sub("", event.title.strip())
    names = re.split(r"\s+vs\.?\s+", title, flags=re.IGNORECASE)
    if len(codes) != 2:
        codes = ["", ""]
    if len(names) != 2:
        names = ["", ""]
    if not all(codes[i] or names[i] for i in (0, 1)):
        raise _Reject(Reason.UNKNOWN_TEAM, f"event {event.slug!r}: no two teams in slug or title")
    return TeamClaim(codes[0], names[0]), TeamClaim(codes[1], names[1])


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _line(market: GammaMarket) -> Decimal:
    try:
        value = Decimal(market.line) if market.line is not None else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value == 0:
        raise _Reject(Reason.MALFORMED, f"line {market.line!r} is not a non-zero number")
    return value


def _gamma_contracts(kind: MarketType, market: GammaMarket) -> list[ListedContract]:
    outcomes = market.outcomes
    if len(outcomes) != 2 or outcomes[0].token_id == outcomes[1].token_id:
        raise _Reject(Reason.MALFORMED, "a game market needs two outcomes with distinct tokens")
    labels = tuple(o.label.strip().lower() for o in outcomes)
    cid = market.condition_id
    if kind is MarketType.MONEYLINE:
        if labels == _YES_NO:
            title = market.group_item_title.strip()
            if title.lower().startswith(("draw", "tie")) or re.search(
                r"\bdraw\b", market.question, re.I
            ):
                return [ListedContract(outcomes[0].token_id, cid, ContractKind.DRAW)]
            if not title:
                raise _Reject(Reason.MALFORMED, "a Yes/No winner market without groupItemTitle")
            return [
                ListedContract(outcomes[0].token_id, cid, ContractKind.TEAM, TeamClaim(name=title))
            ]
        return [
            ListedContract(o.token_id, cid, ContractKind.TEAM, TeamClaim(name=o.label))
            for o in outcomes
        ]
    line = _line(market)
    if kind is MarketType.TOTAL:
        if labels != ("over", "under"):
            raise _Reject(Reason.MALFORMED, f"a totals market with outcomes {labels}")
        said = _TOTAL_QUESTION.search(market.question)
        if said is not None and _number(said["line"]) != line:
            raise _Reject(
                Reason.MALFORMED, f"question {market.question!r} disagrees with line {line}"
            )
        return [ListedContract(outcomes[0].token_id, cid, ContractKind.OVER, line=line)]
    # spreads: the line is the first outcome's handicap, which the question must confirm
    # ("Spread: Chiefs (-2.5)"); a spread that does not say whose line it is is refused.
    # A Yes/No spread (soccer's "more markets") names its team in the question only.
    said = _SPREAD_QUESTION.match(market.question.strip())
    if labels == _YES_NO:
        if said is None or _number(said["line"]) != line or line > 0:
            raise _Reject(
                Reason.MALFORMED,
                f"Yes/No spread {market.question!r} is not 'Spread: TEAM (-line)' at {line}",
            )
        claim = TeamClaim(name=said["team"])
        return [ListedContract(outcomes[0].token_id, cid, ContractKind.TEAM, claim, -line)]
    if (
        said is None
        or normalize_name(said["team"]) != normalize_name(outcomes[0].label)
        or _number(said["line"]) != line
    ):
        raise _Reject(
            Reason.MALFORMED,
            f"spread question {market.question!r} does not confirm {outcomes[0].label} at {line}",
        )
    fav, margin = (outcomes[0], -line) if line < 0 else (outcomes[1], line)
    return [ListedContract(fav.token_id, cid, ContractKind.TEAM, TeamClaim(name=fav.label), margin)]


def _slug_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def polymarket_listings(
    events: Iterable[GammaEvent],
) -> tuple[list[ListedGame], list[Unmatched]]:
    """Each Gamma sports event as one listing per market type it has; one
    :class:`Unmatched` per event or market that cannot be used."""
    games: list[ListedGame] = []
    refused: list[Unmatched] = []
    for event in events:
        ident = event.slug or f"event:{event.id}"
        try:
            lg = _gamma_league(event)
            teams = _gamma_teams(event)
        except _Reject as rej:
            refused.append(Unmatched(POLYMARKET, ident, "", "", rej.reason, rej.detail))
            continue
        by_type: dict[MarketType, list[ListedContract]] = defaultdict(list)
        starts: set[datetime] = set()
        for market in event.markets:
            mid = market.condition_id or f"{ident}/market:{market.id}"
            kind = _TYPES.get((market.sports_market_type or "").strip().lower())
            try:
                if kind is None:
                    raise _Reject(
                        Reason.NOT_MONEYLINE,
                        f"sportsMarketType {market.sports_market_type!r} is not matched",
                    )
                if market.closed:
                    raise _Reject(Reason.CLOSED, "market is closed")
                contracts = _gamma_contracts(kind, market)
                by_type[kind].extend(contracts)
            except _Reject as rej:
                shown = "" if kind is None else kind.value
                refused.append(Unmatched(POLYMARKET, mid, lg, shown, rej.reason, rej.detail))
                continue
            if market.game_start_time is not None:
                starts.add(market.game_start_time)
        if len(starts) > 1:
            detail = f"markets disagree on gameStartTime: {sorted(s.isoformat() for s in starts)}"
            refused.append(Unmatched(POLYMARKET, ident, lg, "", Reason.BAD_START_TIME, detail))
            continue
        start = next(iter(starts)) if starts else None
        m = _SLUG.match(event.slug)
        if start is not None:
            day = start.astimezone(eastern()).date()
        elif m is not None and (slug_day := _slug_day(m["date"])) is not None:
            day = slug_day
        else:
            refused.append(
                Unmatched(POLYMARKET, ident, lg, "", Reason.NO_DATE, "no start time, no dated slug")
            )
            continue
        for kind, contracts in sorted(by_type.items()):
            games.append(
                ListedGame(
                    venue=POLYMARKET,
                    event_id=ident,
                    league=lg,
                    market_type=kind,
                    eastern_date=day,
                    start_time=start,
                    teams=teams,
                    contracts=tuple(contracts),
                    game_ref=event.game_id or "",
                )
            )
    return games, refused


# ---- Polymarket US --------------------------------------------------------------------

_US_SLUG = re.compile(
    r"^(?:(?P<prefix>[a-z]{2,5})-)?(?P<league>[a-z0-9]+)-(?P<away>[a-z0-9]+)-(?P<home>[a-z0-9]+)"
    r"-(?P<date>\d{4}-\d{2}-\d{2})$"
)
_US_TYPES: Final = {"moneyline": MarketType.MONEYLINE, "totals": MarketType.TOTAL}
_US_SHOWN: Final = {**{k: v.value for k, v in _US_TYPES.items()}, "spreads": "spread"}
_WILL_WIN = re.compile(r"^will\s+(?:the\s+)?(?P<team>.+?)\s+win\b", re.I)
_DRAW_WORDS = re.compile(r"\b(draw|tie)\b", re.I)


def _us_league(event: UsEvent, slug_league: str) -> str:
    votes: dict[str, str] = {}
    sources = [("slug", slug_league), ("seriesSlug", event.series_slug.split("-", 1)[0])]
    sources += [("tournament", m.tournament) for m in event.markets if m.tournament]
    for what, value in sources:
        lg = gamma_league(value.strip()) if value.strip() else None
        if lg is not None:
            votes[f"{what} {value!r}"] = lg.key
    if len(set(votes.values())) > 1:
        detail = ", ".join(f"{src} says {lg}" for src, lg in sorted(votes.items()))
        raise _Reject(Reason.LEAGUE_MISMATCH, detail)
    if not votes:
        raise _Reject(Reason.UNKNOWN_LEAGUE, f"event {event.slug!r}: no league the table knows")
    return next(iter(votes.values()))


def _us_teams(
    event: UsEvent, codes: tuple[str, str], league: str, catalogue: TeamCatalogue
) -> tuple[TeamClaim, TeamClaim]:
    """``(away, home)``: the slug's codes with the markets' team names (or the title's)."""
    pairs = {(m.away_team.strip(), m.home_team.strip()) for m in event.markets if m.away_team}
    if len(pairs) > 1:
        raise _Reject(Reason.TEAM_CONFLICT, f"markets disagree on the teams: {sorted(pairs)}")
    if pairs:
        away, home = next(iter(pairs))
    else:
        names = re.split(r"\s+(?:vs\.?|@|at)\s+", event.title.strip(), flags=re.IGNORECASE)
        away, home = (names[0], names[1]) if len(names) == 2 else ("", "")

    def team_of(claim: TeamClaim) -> str | None:
        found = catalogue.by_code(league, claim.code) if claim.code else None
        if found is None or found.team is None:
            found = catalogue.by_name(league, claim.name) if claim.name else None
        return None if found is None or found.team is None else found.team.id

    # a venue listing home first: the codes say so when the names resolve the other way
    straight = (TeamClaim(codes[0], away), TeamClaim(codes[1], home))
    crossed = (TeamClaim(codes[0], home), TeamClaim(codes[1], away))
    by_code = [team_of(TeamClaim(code=c)) for c in codes]
    by_name = [team_of(TeamClaim(name=n)) for n in (away, home)]
    if None not in by_code and by_code == by_name[::-1] and by_code != by_name:
        return crossed
    if not all(c.code or c.name for c in straight):
        raise _Reject(Reason.UNKNOWN_TEAM, f"event {event.slug!r}: no two teams in slug or names")
    return straight


def _us_team(names: Iterable[str], teams: tuple[TeamClaim, TeamClaim]) -> TeamClaim:
    """The team a side names: one of the event's teams (its code too, ``"Buffalo Bills"``
    -> ``buf``, so it resolves code first like the event), else the first name alone."""
    given = [n.strip() for n in names if n.strip()]
    wanted = {normalize_name(n) for n in given}
    found = [t for t in teams if t.name and normalize_name(t.name) in wanted]
    return found[0] if len(found) == 1 else TeamClaim(name=given[0] if given else "")


def _us_contract(
    kind: MarketType, market: UsMarket, draws: bool, teams: tuple[TeamClaim, TeamClaim]
) -> ListedContract:
    sides = market.outcomes
    longs = [s for s in sides if s.long]
    if len(sides) != 2 or len(longs) != 1:
        raise _Reject(Reason.MALFORMED, "a game market needs two sides, exactly one of them long")
    long = longs[0]
    short = next(s for s in sides if not s.long)
    labels = (long.label.strip().lower(), short.label.strip().lower())
    if kind is MarketType.TOTAL:
        if labels != ("over", "under"):
            raise _Reject(Reason.MALFORMED, f"a totals market with long/short sides {labels}")
        if market.line is None or not market.line.is_finite() or market.line <= 0:
            raise _Reject(Reason.MALFORMED, f"line {market.line} is not a positive number")
        said = _TOTAL_QUESTION.search(market.question)
        if said is not None and _number(said["line"]) != market.line:
            raise _Reject(
                Reason.MALFORMED, f"question {market.question!r} disagrees with line {market.line}"
            )
        return ListedContract(market.slug, market.slug, ContractKind.OVER, line=market.line)
    if labels == _YES_NO:
        said = _WILL_WIN.match(market.question.strip())
        if said is None and not long.team and _DRAW_WORDS.search(market.question):
            return ListedContract(market.slug, market.slug, ContractKind.DRAW)
        claim = _us_team((long.team, said["team"] if said is not None else ""), teams)
        if not claim.name:
            raise _Reject(
                Reason.MALFORMED, f"a Yes/No winner market naming no team: {market.question!r}"
            )
        return ListedContract(market.slug, market.slug, ContractKind.TEAM, claim)
    if labels[0].startswith(("draw", "tie")):
        return ListedContract(market.slug, market.slug, ContractKind.DRAW)
    if draws and labels[1] not in ("no",):
        raise _Reject(
            Reason.OUTCOMES_DIFFER,
            f"a two-team market ({long.label} / {short.label}) in a league with draws: "
            "its NO would also pay on a draw",
        )
    claim = _us_team((long.team, long.label), teams)
    return ListedContract(market.slug, market.slug, ContractKind.TEAM, claim)


def polymarket_us_listings(
    events: Iterable[UsEvent], catalogue: TeamCatalogue
) -> tuple[list[ListedGame], list[Unmatched]]:
    """Each Polymarket US sports event as one listing per market type it has; one
    :class:`Unmatched` per event or market that cannot be used."""
    games: list[ListedGame] = []
    refused: list[Unmatched] = []
    for event in events:
        ident = event.slug
        m = _US_SLUG.match(event.slug)
        try:
            if m is None:
                raise _Reject(
                    Reason.UNKNOWN_TEAM,
                    f"event slug {event.slug!r} is not [prefix-]league-away-home-YYYY-MM-DD",
                )
            lg = _us_league(event, m["league"])
            teams = _us_teams(event, (m["away"], m["home"]), lg, catalogue)
        except _Reject as rej:
            refused.append(Unmatched(POLYMARKET_US, ident, "", "", rej.reason, rej.detail))
            continue
        league = league_of_key(lg)
        draws = league is not None and league.draws
        by_type: dict[MarketType, list[ListedContract]] = defaultdict(list)
        starts: set[datetime] = set()
        for market in event.markets:
            kind = _US_TYPES.get(market.sports_market_type.strip().lower())
            shown = _US_SHOWN.get(market.sports_market_type.strip().lower(), "")
            try:
                if kind is None:
                    raise _Reject(
                        Reason.NOT_MONEYLINE,
                        f"sportsMarketType {market.sports_market_type!r} is not matched"
                        + (" (Polymarket US spreads are not converted yet)" if shown else ""),
                    )
                if market.closed or not market.active:
                    raise _Reject(Reason.CLOSED, "market is closed or not active")
                by_type[kind].append(_us_contract(kind, market, draws, teams))
            except _Reject as rej:
                refused.append(
                    Unmatched(POLYMARKET_US, market.slug, lg, shown, rej.reason, rej.detail)
                )
                continue
            if market.start_time is not None:
                starts.add(market.start_time)
        if len(starts) > 1:
            detail = f"markets disagree on gameStartTime: {sorted(s.isoformat() for s in starts)}"
            refused.append(Unmatched(POLYMARKET_US, ident, lg, "", Reason.BAD_START_TIME, detail))
            continue
        start = next(iter(starts)) if starts else event.start_time
        if start is not None:
            day = start.astimezone(eastern()).date()
        elif (slug_day := _slug_day(m["date"])) is not None:
            day = slug_day
        else:
            refused.append(
                Unmatched(
                    POLYMARKET_US, ident, lg, "", Reason.NO_DATE, "no start time, no dated slug"
                )
            )
            continue
        for kind, contracts in sorted(by_type.items()):
            games.append(
                ListedGame(
                    venue=POLYMARKET_US,
                    event_id=ident,
                    league=lg,
                    market_type=kind,
                    eastern_date=day,
                    start_time=start,
                    teams=teams,
                    contracts=tuple(contracts),
                )
            )
    return games, refused


def match_venue_events(
    kalshi: Iterable[Event],
    polymarket: Iterable[GammaEvent],
    catalogue: TeamCatalogue,
    *,
    polymarket_us: Iterable[UsEvent] = (),
    refused: Iterable[Unmatched] = (),
    start_window: timedelta = DEFAULT_START_WINDOW,
    leagues: Sequence[str] = (),
    market_types: Sequence[str] = (),
    kalshi_structure: KalshiStructure | None = None,
) -> EventReport:
    """Convert every venue's typed events and match them; the report holds the converters'
    refusals (and ``refused``: the decoders') with the matcher's. ``kalshi_structure``:
    Kalshi's milestones and structured targets, read before the ticker codes and names."""
    k_games, k_refused = kalshi_listings(kalshi, catalogue, kalshi_structure)
    p_games, p_refused = polymarket_listings(polymarket)
    u_games, u_refused = polymarket_us_listings(polymarket_us, catalogue)
    report = match_listings(
        [*k_games, *p_games, *u_games],
        catalogue,
        start_window=start_window,
        leagues=leagues,
        market_types=market_types,
    )
    kept = [
        u
        for u in (*refused, *k_refused, *p_refused, *u_refused)
        if (not leagues or not u.league or u.league in leagues)
        and (not market_types or not u.market_type or u.market_type in market_types)
    ]
    return EventReport(report.matches, tuple(sorted((*kept, *report.unmatched))))
