"""Pair Kalshi game events with Polymarket moneyline markets, refusing anything unsure.

A false pair is far more expensive than a missed one: the shard would treat two unrelated
prices as the same risk. So a pair is made only when every rule holds and the choice is
unique in BOTH directions (the Kalshi game has exactly one candidate market and that market
has exactly one candidate game). Everything else comes back as a :class:`Rejection` with a
reason, so a human can audit it with ``arbees match``.

Rules: same league (NBA/NHL); the same two canonical teams (aliases resolved within the
league); the same US-Eastern date (Kalshi's ticker date vs Polymarket's UTC ``gameStartTime``
converted to Eastern); start times within ``start_window`` where both are known; only
moneyline markets (never spreads, totals, props or partial-game lines).

The output does not depend on input order (rejection details list ids sorted), which is
what lets the orchestrator re-run it on every refresh and diff the results.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, timedelta
from typing import Final, TypeVar

import attrs

from arbees.matching.eastern import eastern
from arbees.matching.model import (
    POSTPONEMENT_NOTE,
    KalshiGame,
    KalshiTeamMarket,
    MatchedGame,
    MatchedTeam,
    MatchReport,
    PolymarketGame,
    Reason,
    Rejection,
    Venue,
)
from arbees.matching.teams import LEAGUES, Team, ambiguous_alias, resolve_team

__all__ = ["DEFAULT_START_WINDOW", "match_games"]

logger = logging.getLogger(__name__)

DEFAULT_START_WINDOW: Final = timedelta(hours=3)

# Markets that are not the full-game winner even when they name the two teams.
_NOT_FULL_GAME = re.compile(
    r"\b(spreads?|handicap|o/u|over/under|over|under|totals?|points|1h|2h|first half|"
    r"second half|1st half|2nd half|halftime|quarter|q[1-4]|1st|2nd|3rd|period|p[1-3]|"
    r"regulation|3 way|three way|draw|tie|prop)\b"
)

_T = TypeVar("_T")


class _Reject(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@attrs.frozen
class _Kalshi:
    game: KalshiGame
    away: Team
    home: Team

    @property
    def key(self) -> tuple[str, frozenset[str]]:
        return (self.game.league, frozenset((self.away.id, self.home.id)))


@attrs.frozen
class _Poly:
    game: PolymarketGame
    teams: tuple[Team, Team]
    eastern_date: date

    @property
    def key(self) -> tuple[str, frozenset[str]]:
        return (self.game.league, frozenset(t.id for t in self.teams))


def _unknown(league: str, what: str, name: str) -> _Reject:
    options = ambiguous_alias(league, name)
    if options:
        return _Reject(Reason.UNKNOWN_TEAM, f"{what} {name!r} is ambiguous in {league}: {options}")
    return _Reject(Reason.UNKNOWN_TEAM, f"{what} {name!r} is not a known {league} team")


def _kalshi_team(league: str, market: KalshiTeamMarket) -> Team:
    by_code = resolve_team(league, market.code)
    by_title = resolve_team(league, market.yes_sub_title) if market.yes_sub_title else None
    if by_code is not None and by_title is not None and by_code != by_title:
        raise _Reject(
            Reason.TEAM_CONFLICT,
            f"{market.ticker}: code {market.code!r} is {by_code.id} but yes_sub_title "
            f"{market.yes_sub_title!r} is {by_title.id}",
        )
    team = by_code or by_title
    if team is None:
        raise _unknown(league, f"{market.ticker}: code", market.code)
    return team


def _resolve_kalshi(game: KalshiGame) -> _Kalshi:
    if game.league not in LEAGUES:
        raise _Reject(Reason.UNKNOWN_LEAGUE, f"league {game.league!r} is not NBA/NHL")
    if game.start_time is not None and game.start_time.utcoffset() is None:
        raise _Reject(Reason.BAD_START_TIME, "start_time has no UTC offset")
    away = _kalshi_team(game.league, game.away)
    home = _kalshi_team(game.league, game.home)
    if away == home:
        raise _Reject(Reason.SAME_TEAM, f"both markets resolve to {away.id}")
    if game.away.ticker == game.home.ticker:
        raise _Reject(Reason.MISSING_TEAM_MARKET, f"both teams use market {game.away.ticker}")
    return _Kalshi(game, away, home)


def _resolve_poly(game: PolymarketGame) -> _Poly:
    if game.league not in LEAGUES:
        raise _Reject(Reason.UNKNOWN_LEAGUE, f"league {game.league!r} is not NBA/NHL")
    if game.closed:
        raise _Reject(Reason.CLOSED, "market is closed")
    kind = (game.sports_market_type or "").strip().lower()
    if kind and kind != "moneyline":
        raise _Reject(Reason.NOT_MONEYLINE, f"sportsMarketType is {game.sports_market_type!r}")
    text = f"{game.question} {game.market_slug.replace('-', ' ')}".lower()
    marker = _NOT_FULL_GAME.search(text)
    # A typed moneyline is trusted to carry a harmless line field; an untyped market with a
    # line is a spread or total.
    if marker is not None or (not kind and game.line is not None):
        why = f"line {game.line}" if marker is None else f"{marker.group(0)!r} in question/slug"
        raise _Reject(Reason.NOT_MONEYLINE, f"not a full-game moneyline ({why})")
    resolved = [resolve_team(game.league, o.name) for o in game.outcomes]
    if not kind and all(t is None for t in resolved):
        names = [o.name for o in game.outcomes]
        raise _Reject(
            Reason.NOT_MONEYLINE, f"no sportsMarketType and outcomes {names} aren't teams"
        )
    first, second = resolved
    if first is None or second is None:
        bad = game.outcomes[0] if first is None else game.outcomes[1]
        raise _unknown(game.league, "outcome", bad.name)
    if first == second:
        raise _Reject(Reason.SAME_TEAM, f"both outcomes resolve to {first.id}")
    tokens = [o.token_id for o in game.outcomes]
    if not all(tokens):
        raise _Reject(Reason.MISSING_TOKEN, f"outcome without token id: {tokens}")
    if tokens[0] == tokens[1]:
        raise _Reject(Reason.DUPLICATE_TOKEN, f"both outcomes have token {tokens[0]}")
    if game.start_time is not None:
        if game.start_time.utcoffset() is None:
            raise _Reject(Reason.BAD_START_TIME, "start_time has no UTC offset")
        day = game.start_time.astimezone(eastern()).date()
    elif game.slug_date is not None:
        day = game.slug_date
    else:
        raise _Reject(Reason.NO_DATE, "neither gameStartTime nor a dated slug")
    return _Poly(game, (first, second), day)


def _unique(
    items: Iterable[_T], ident: str, venue: Venue, out: list[Rejection], what: str
) -> list[_T]:
    groups: dict[str, list[_T]] = defaultdict(list)
    for item in items:
        groups[getattr(item, ident)].append(item)
    kept: list[_T] = []
    for key, group in groups.items():
        if all(g == group[0] for g in group):
            kept.append(group[0])
        else:
            detail = f"{len(group)} different {what} share this id"
            out.append(Rejection(venue, key, Reason.DUPLICATE_ID, detail))
    return kept


def _within(k: _Kalshi, p: _Poly, window: timedelta) -> bool:
    ks, ps = k.game.start_time, p.game.start_time
    return ks is None or ps is None or abs(ks - ps) <= window


def _names_resolve_to(league: str, names: Sequence[str], ids: frozenset[str]) -> bool:
    teams = [resolve_team(league, n) for n in names]
    return all(t is not None for t in teams) and {t.id for t in teams if t} == ids


def _diagnose_kalshi(
    k: _Kalshi, by_key: dict[tuple[str, frozenset[str]], list[_Poly]], polys: list[_Poly]
) -> Rejection:
    same = by_key.get(k.key, [])
    same_day = sorted(p.game.id for p in same if p.eastern_date == k.game.eastern_date)
    if same_day:
        detail = f"same teams and date on Polymarket ({', '.join(same_day)}) but start times differ"
        if k.game.start_time is not None:
            detail += f"; Kalshi start {k.game.start_time.astimezone(UTC).isoformat()}"
        return Rejection(Venue.KALSHI, k.game.event_ticker, Reason.START_WINDOW, detail)
    if same:
        days = sorted({p.eastern_date.isoformat() for p in same})
        detail = f"same teams on Polymarket only on {', '.join(days)}"
        return Rejection(Venue.KALSHI, k.game.event_ticker, Reason.DATE_MISMATCH, detail)
    other = sorted(
        p.game.id
        for p in polys
        if p.game.league != k.game.league
        and p.eastern_date == k.game.eastern_date
        and _names_resolve_to(k.game.league, [o.name for o in p.game.outcomes], k.key[1])
    )
    if other:
        detail = f"same team names on that date only in another league: {', '.join(other)}"
        return Rejection(Venue.KALSHI, k.game.event_ticker, Reason.LEAGUE_MISMATCH, detail)
    detail = f"no Polymarket moneyline for {k.away.id} @ {k.home.id} on {k.game.eastern_date}"
    return Rejection(Venue.KALSHI, k.game.event_ticker, Reason.NO_COUNTERPART, detail)


def _diagnose_poly(
    p: _Poly, by_key: dict[tuple[str, frozenset[str]], list[_Kalshi]], kalshis: list[_Kalshi]
) -> Rejection:
    same = by_key.get(p.key, [])
    same_day = sorted(k.game.event_ticker for k in same if k.game.eastern_date == p.eastern_date)
    if same_day:
        detail = f"same teams and date on Kalshi ({', '.join(same_day)}) but start times differ"
        if p.game.start_time is not None:
            detail += f"; Polymarket start {p.game.start_time.astimezone(UTC).isoformat()}"
        return Rejection(Venue.POLYMARKET, p.game.id, Reason.START_WINDOW, detail)
    if same:
        days = sorted({k.game.eastern_date.isoformat() for k in same})
        detail = f"same teams on Kalshi only on {', '.join(days)} (Polymarket: {p.eastern_date})"
        return Rejection(Venue.POLYMARKET, p.game.id, Reason.DATE_MISMATCH, detail)
    other = sorted(
        k.game.event_ticker
        for k in kalshis
        if k.game.league != p.game.league
        and k.game.eastern_date == p.eastern_date
        and _names_resolve_to(p.game.league, [k.game.away.code, k.game.home.code], p.key[1])
    )
    if other:
        detail = f"same team codes on that date only in another league: {', '.join(other)}"
        return Rejection(Venue.POLYMARKET, p.game.id, Reason.LEAGUE_MISMATCH, detail)
    a, b = (t.id for t in p.teams)
    detail = f"no Kalshi game for {a} vs {b} on {p.eastern_date}"
    return Rejection(Venue.POLYMARKET, p.game.id, Reason.NO_COUNTERPART, detail)


def _matched(k: _Kalshi, p: _Poly) -> MatchedGame:
    token = {team.id: outcome for team, outcome in zip(p.teams, p.game.outcomes, strict=True)}

    def side(team: Team, market: KalshiTeamMarket) -> MatchedTeam:
        outcome = token[team.id]
        return MatchedTeam(team.id, team.full_name, market.ticker, outcome.token_id, outcome.name)

    notes = [POSTPONEMENT_NOTE]
    start = p.game.start_time or k.game.start_time
    if start is None:
        notes.append("start time unknown on both venues: matched on teams and date only")
    if p.game.slug_date is not None and p.game.slug_date != p.eastern_date:
        notes.append(
            f"Polymarket slug date {p.game.slug_date} differs from its gameStartTime "
            f"(Eastern {p.eastern_date}); gameStartTime was used"
        )
    return MatchedGame(
        league=k.game.league,
        eastern_date=k.game.eastern_date,
        start_time=None if start is None else start.astimezone(UTC),
        away=side(k.away, k.game.away),
        home=side(k.home, k.game.home),
        kalshi_event_ticker=k.game.event_ticker,
        polymarket_condition_id=p.game.condition_id,
        polymarket_event_slug=p.game.event_slug,
        polymarket_question=p.game.question,
        polymarket_fees=p.game.fees,
        notes=tuple(notes),
    )


def match_games(
    kalshi: Sequence[KalshiGame],
    poly: Sequence[PolymarketGame],
    *,
    start_window: timedelta = DEFAULT_START_WINDOW,
) -> MatchReport:
    """Match Kalshi games to Polymarket moneyline markets.

    A pair is returned only when league, both teams, the US-Eastern date and (where both are
    known) the start time within ``start_window`` agree, and each side is the other's only
    candidate. Every other input comes back as a :class:`Rejection`. The result does not
    depend on the order of the inputs; identical duplicates count once, different inputs
    sharing one id are all rejected.

    A Kalshi team is identified by its ticker code; a ``yes_sub_title`` that resolves must
    name the same team (else ``team_conflict``) and is used alone only when the code is not
    in the alias table. A Polymarket market is eligible only when ``sportsMarketType`` is
    ``"moneyline"`` (or absent, with two team outcomes) and nothing in its question or slug
    marks it as a spread, total, prop or partial-game line.
    """
    if start_window < timedelta(0):
        raise ValueError("start_window must not be negative")
    rejections: list[Rejection] = []
    kalshis: list[_Kalshi] = []
    for kg in _unique(kalshi, "event_ticker", Venue.KALSHI, rejections, "Kalshi games"):
        try:
            kalshis.append(_resolve_kalshi(kg))
        except _Reject as rej:
            rejections.append(Rejection(Venue.KALSHI, kg.event_ticker, rej.reason, rej.detail))
    polys: list[_Poly] = []
    for pg in _unique(poly, "id", Venue.POLYMARKET, rejections, "Polymarket markets"):
        try:
            polys.append(_resolve_poly(pg))
        except _Reject as rej:
            rejections.append(Rejection(Venue.POLYMARKET, pg.id, rej.reason, rej.detail))

    poly_by_key: dict[tuple[str, frozenset[str]], list[_Poly]] = defaultdict(list)
    for p in polys:
        poly_by_key[p.key].append(p)
    kalshi_by_key: dict[tuple[str, frozenset[str]], list[_Kalshi]] = defaultdict(list)
    for k in kalshis:
        kalshi_by_key[k.key].append(k)

    k_cands: dict[str, list[_Poly]] = {}
    p_cands: dict[str, list[_Kalshi]] = defaultdict(list)
    for k in kalshis:
        cands = [
            p
            for p in poly_by_key.get(k.key, [])
            if p.eastern_date == k.game.eastern_date and _within(k, p, start_window)
        ]
        k_cands[k.game.event_ticker] = cands
        for p in cands:
            p_cands[p.game.id].append(k)

    matches: list[MatchedGame] = []
    for k in kalshis:
        cands = k_cands[k.game.event_ticker]
        ident = k.game.event_ticker
        if not cands:
            rejections.append(_diagnose_kalshi(k, poly_by_key, polys))
        elif len(cands) > 1:
            ids = ", ".join(sorted(p.game.id for p in cands))
            detail = f"{len(cands)} Polymarket candidates: {ids}"
            rejections.append(Rejection(Venue.KALSHI, ident, Reason.AMBIGUOUS, detail))
        elif len(p_cands[cands[0].game.id]) > 1:
            rivals = ", ".join(sorted(r.game.event_ticker for r in p_cands[cands[0].game.id]))
            detail = f"its only candidate {cands[0].game.id} also fits Kalshi games: {rivals}"
            rejections.append(Rejection(Venue.KALSHI, ident, Reason.AMBIGUOUS, detail))
        else:
            matches.append(_matched(k, cands[0]))
    for p in polys:
        rivals_k = p_cands.get(p.game.id, [])
        if not rivals_k:
            rejections.append(_diagnose_poly(p, kalshi_by_key, kalshis))
        elif len(rivals_k) > 1:
            ids = ", ".join(sorted(k.game.event_ticker for k in rivals_k))
            detail = f"{len(rivals_k)} Kalshi candidates: {ids}"
            rejections.append(Rejection(Venue.POLYMARKET, p.game.id, Reason.AMBIGUOUS, detail))
        elif len(k_cands[rivals_k[0].game.event_ticker]) > 1:
            only = rivals_k[0].game.event_ticker
            others = sorted(q.game.id for q in k_cands[only] if q.game.id != p.game.id)
            detail = f"its only candidate {only} also fits Polymarket markets: {', '.join(others)}"
            rejections.append(Rejection(Venue.POLYMARKET, p.game.id, Reason.AMBIGUOUS, detail))

    matches.sort(key=lambda m: (m.eastern_date, m.league, m.kalshi_event_ticker))
    rejections.sort()
    report = MatchReport(tuple(matches), tuple(rejections))
    logger.info("matched %d games; rejections %s", len(matches), report.rejection_counts())
    return report
