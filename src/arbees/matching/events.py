"""Match the games every venue lists, market type by market type, into tradable events.

The inputs are venue-neutral :class:`ListedGame` s: one venue's listing of one game for one
market type (its winner market(s), its totals or its spreads), built from the venues' typed
events by :mod:`arbees.matching.venue_listings`. Any number of venues take part; a venue is
only a name here.

Rules (a false pair costs far more than a missed one):

* Teams are resolved in the :class:`~arbees.matching.catalogue.TeamCatalogue` of the
  listing's league, code first (Kalshi ticker codes, Gamma slug abbreviations) and names
  only as a fallback; a code and a name that name different teams reject the listing.
* Listings are candidates of each other when league, market type, both teams and the
  US-Eastern date agree and the start times (where both are known) are within the window.
  A group of candidates becomes a match only when it holds at most one listing per venue
  and at least two venues; anything else is ``ambiguous``.
* Winner markets: a 2-way event (``team``, ``team``) or, in a league with draws, a 3-way
  event (``team``, ``draw``, ``team``); every venue must list every outcome, except that
  in a 2-way event one team's contract alone covers both (its NO pays on the other team:
  Polymarket US lists a game's winner as one two-sided instrument).
* Totals and spreads: one binary event per line that at least two venues list (total:
  ``over`` / ``under``; spread: the team wins by more than the line, ``cover`` /
  ``no_cover``). Half-point lines only: a whole line can push, and the venues settle a
  push differently. A line that one venue lists alone is reported as ``line_one_venue``.

Every listing or line not matched comes back as an :class:`Unmatched` with a reason; each
match carries the evidence that made it. The result does not depend on input order.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final

import attrs

from arbees.matching.catalogue import CatalogueRow, TeamCatalogue
from arbees.matching.leagues import league as league_of
from arbees.matching.matcher import DEFAULT_START_WINDOW
from arbees.matching.model import POSTPONEMENT_NOTE, Reason

__all__ = [
    "DRAW",
    "EventLeg",
    "EventReport",
    "ListedContract",
    "ListedGame",
    "MarketType",
    "MatchedEvent",
    "TeamClaim",
    "Unmatched",
    "match_listings",
]

log = logging.getLogger(__name__)

DRAW: Final = "draw"
OVER: Final = "over"
UNDER: Final = "under"
COVER: Final = "cover"
NO_COVER: Final = "no_cover"
_HALF: Final = Decimal("0.5")
TIE_NOTE: Final = (
    "a tie is possible in this league: neither team's winner contract pays then and the "
    "venues may settle it differently, so a cover of both teams is not risk-free"
)


class MarketType(StrEnum):
    """The market types matched."""

    MONEYLINE = "moneyline"
    TOTAL = "total"
    SPREAD = "spread"


class ContractKind(StrEnum):
    """What a listed contract's YES pays on."""

    TEAM = "team"
    """A team wins (moneyline) or wins by more than ``line`` (spread)."""
    DRAW = "draw"
    """The game ends level."""
    OVER = "over"
    """The total is above ``line``."""


@attrs.frozen(order=True)
class TeamClaim:
    """What a venue says about a team: its code and/or its name (either may be empty).

    Attributes:
        code: a structured code (Kalshi ticker code, Gamma slug abbreviation).
        name: a display name (Kalshi ``yes_sub_title``, a Gamma outcome label).
        source: the venue identifier the code and name came from, when they are not the
            listing's own text (``"kalshi_target:<id>"``: a Kalshi structured target's
            abbreviation and name), for the evidence.
    """

    code: str = ""
    name: str = ""
    source: str = ""


@attrs.frozen
class ListedContract:
    """One binary contract a venue lists for a game.

    Attributes:
        instrument: what the venue's quotes are keyed by (Kalshi market ticker, Polymarket
            YES token); its YES pays on ``kind`` (and ``team``/``line``).
        market: the venue's market id (Kalshi ticker, Polymarket condition id).
        kind: what YES pays on.
        team: the team, for ``kind=team``.
        line: the total's line (``over``), or the margin the team must win by (spread).
    """

    instrument: str
    market: str
    kind: ContractKind
    team: TeamClaim = TeamClaim()
    line: Decimal | None = None


@attrs.frozen
class ListedGame:
    """One venue's listing of one game for one market type.

    Attributes:
        venue: venue id (``"kalshi"``, ``"polymarket"``...).
        event_id: the venue's event id (Kalshi event ticker, Gamma event slug).
        league: canonical league key.
        market_type: which markets these are.
        eastern_date: the game's US-Eastern date.
        start_time: tz-aware scheduled start, when the venue gives one.
        teams: the two teams as the venue lists them.
        contracts: the contracts of this market type.
        game_ref: the venue's own game id when it has one (Gamma ``gameId``), for reports.
        sources: the venue identifiers the date and start came from, when they are not the
            listing's own (``"kalshi_milestone:<id>"``), for the evidence.
    """

    venue: str
    event_id: str
    league: str
    market_type: MarketType
    eastern_date: date
    start_time: datetime | None
    teams: tuple[TeamClaim, TeamClaim]
    contracts: tuple[ListedContract, ...]
    game_ref: str = ""
    sources: tuple[str, ...] = ()


@attrs.frozen(order=True)
class Unmatched:
    """A listing, a venue's item or a line not matched, and why.

    Attributes:
        venue: venue id.
        id: the venue's id of the item (event ticker, slug, condition id, ``event@line``).
        league: canonical league key (``""`` when unknown).
        market_type: market type (``""`` when unknown).
        reason: machine-readable reason.
        detail: human-readable explanation.
    """

    venue: str
    id: str
    league: str
    market_type: str
    reason: Reason
    detail: str


@attrs.frozen(order=True)
class EventLeg:
    """One contract of a matched event: buying ``side`` of ``instrument`` pays when
    ``outcome`` happens (``yes``) or when any other outcome does (``no``).

    Attributes:
        venue: venue id.
        instrument: market ticker / YES token.
        market: the venue market (fees).
        outcome: one of the event's outcomes.
        side: ``"yes"`` or ``"no"``.
    """

    venue: str
    instrument: str
    market: str
    outcome: str
    side: str


@attrs.frozen
class MatchedEvent:
    """An event listed on two or more venues, ready to assign.

    Attributes:
        event_id: stable id (league, date, teams, market type, line).
        league: canonical league key.
        market_type: moneyline / total / spread.
        eastern_date: the game date (US-Eastern).
        start_time: UTC start when a venue gives one.
        teams: the two canonical team ids, sorted.
        line: the total or spread line, else ``None``.
        outcomes: mutually exclusive, exhaustive outcomes.
        legs: every contract on every venue.
        venue_events: ``(venue, venue event id)`` of each listing matched.
        evidence: which identifiers agreed, one line each.
        notes: caveats (always the postponement note).
    """

    event_id: str
    league: str
    market_type: MarketType
    eastern_date: date
    start_time: datetime | None
    teams: tuple[str, str]
    line: Decimal | None
    outcomes: tuple[str, ...]
    legs: tuple[EventLeg, ...]
    venue_events: tuple[tuple[str, str], ...]
    evidence: tuple[str, ...]
    notes: tuple[str, ...] = (POSTPONEMENT_NOTE,)


@attrs.frozen
class EventReport:
    """The event matcher's answer.

    Attributes:
        matches: matched events, ordered by (date, league, event id).
        unmatched: everything else with a reason, sorted.
    """

    matches: tuple[MatchedEvent, ...]
    unmatched: tuple[Unmatched, ...]

    def counts(self) -> dict[tuple[str, str], dict[str, int]]:
        """Per ``(league, market type)``: ``matched``, ``unmatched`` and ``ambiguous``
        counts (an unmatched item counted once per venue item)."""
        out: dict[tuple[str, str], dict[str, int]] = defaultdict(
            lambda: {"matched": 0, "unmatched": 0, "ambiguous": 0}
        )
        for m in self.matches:
            out[(m.league, m.market_type.value)]["matched"] += 1
        for u in self.unmatched:
            key = "ambiguous" if u.reason is Reason.AMBIGUOUS else "unmatched"
            out[(u.league, u.market_type)][key] += 1
        return dict(sorted(out.items()))


class _Reject(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@attrs.frozen
class _Resolved:
    game: ListedGame
    teams: tuple[CatalogueRow, CatalogueRow]
    how: tuple[str, str]

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(t.id for t in self.teams)

    @property
    def key(self) -> tuple[str, MarketType, frozenset[str]]:
        return (self.game.league, self.game.market_type, self.ids)


def _resolve_claim(
    catalogue: TeamCatalogue, league: str, claim: TeamClaim
) -> tuple[CatalogueRow, str]:
    by_code = catalogue.by_code(league, claim.code) if claim.code else None
    by_name = catalogue.by_name(league, claim.name) if claim.name else None
    code_team = by_code.team if by_code is not None else None
    name_team = by_name.team if by_name is not None else None
    if code_team is not None and name_team is not None and code_team.id != name_team.id:
        raise _Reject(
            Reason.TEAM_CONFLICT,
            f"code {claim.code!r} is {code_team.id} but name {claim.name!r} is {name_team.id}",
        )
    if code_team is not None:
        return code_team, "code"
    if name_team is not None:
        return name_team, "name"
    options = sorted(
        {*(by_code.ambiguous if by_code else ()), *(by_name.ambiguous if by_name else ())}
    )
    shown = claim.code or claim.name
    if options:
        raise _Reject(Reason.UNKNOWN_TEAM, f"{shown!r} is ambiguous in {league}: {options}")
    raise _Reject(Reason.UNKNOWN_TEAM, f"{shown!r} is not a known {league} team")


def _resolve(catalogue: TeamCatalogue, game: ListedGame) -> _Resolved:
    if league_of(game.league) is None:
        raise _Reject(Reason.UNKNOWN_LEAGUE, f"league {game.league!r} is not in the league table")
    if game.start_time is not None and game.start_time.utcoffset() is None:
        raise _Reject(Reason.BAD_START_TIME, "start_time has no UTC offset")
    first, how_a = _resolve_claim(catalogue, game.league, game.teams[0])
    second, how_b = _resolve_claim(catalogue, game.league, game.teams[1])
    if first.id == second.id:
        raise _Reject(Reason.SAME_TEAM, f"both teams resolve to {first.id}")
    return _Resolved(game, (first, second), (how_a, how_b))


def _within(a: ListedGame, b: ListedGame, window: timedelta) -> bool:
    return (
        a.start_time is None or b.start_time is None or abs(a.start_time - b.start_time) <= window
    )


def _unmatched(game: ListedGame, reason: Reason, detail: str, ident: str = "") -> Unmatched:
    return Unmatched(
        game.venue, ident or game.event_id, game.league, game.market_type.value, reason, detail
    )


def _components(items: list[_Resolved], window: timedelta) -> list[list[_Resolved]]:
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(items):
        for j in range(i + 1, len(items)):
            b = items[j]
            if a.game.venue != b.game.venue and _within(a.game, b.game, window):
                parent[find(i)] = find(j)
    groups: dict[int, list[_Resolved]] = defaultdict(list)
    for i, item in enumerate(items):
        groups[find(i)].append(item)
    return list(groups.values())


def _diagnose(r: _Resolved, same_key: list[_Resolved]) -> Unmatched:
    others = [o for o in same_key if o.game.venue != r.game.venue]
    same_day = sorted(
        f"{o.game.venue}:{o.game.event_id}"
        for o in others
        if o.game.eastern_date == r.game.eastern_date
    )
    names = " vs ".join(t.id for t in r.teams)
    if same_day:
        return _unmatched(
            r.game,
            Reason.START_WINDOW,
            f"{names}: same teams and date at {', '.join(same_day)} but start times differ",
        )
    if others:
        days = sorted({o.game.eastern_date.isoformat() for o in others})
        return _unmatched(
            r.game, Reason.DATE_MISMATCH, f"{names}: same teams elsewhere only on {', '.join(days)}"
        )
    return _unmatched(
        r.game, Reason.NO_COUNTERPART, f"no other venue lists {names} on {r.game.eastern_date}"
    )


def _evidence(group: list[_Resolved]) -> list[str]:
    lines = []
    for r in group:
        g = r.game
        parts = [
            f"{t.id} by {how} ({c.code or c.name!r})" + (f" of {c.source}" if c.source else "")
            for t, how, c in zip(r.teams, r.how, g.teams, strict=True)
        ]
        ref = f", game id {g.game_ref}" if g.game_ref else ""
        start = (
            ""
            if g.start_time is None
            else f", start {g.start_time.astimezone(UTC):%Y-%m-%dT%H:%MZ}"
        )
        if g.sources:
            start += f" from {', '.join(g.sources)}"
        lines.append(
            f"{g.venue} {g.event_id}: {'; '.join(parts)}{ref}; date {g.eastern_date}{start}"
        )
    return lines


def _team_of(catalogue: TeamCatalogue, r: _Resolved, claim: TeamClaim) -> str:
    """The id of the team a contract names: it must be one of the game's two teams."""
    team, _ = _resolve_claim(catalogue, r.game.league, claim)
    if team.id not in r.ids:
        raise _Reject(Reason.TEAM_CONFLICT, f"a contract names {team.id}, not a team of this game")
    return team.id


def _legs(venue: str, contract: ListedContract, outcome: str) -> list[EventLeg]:
    return [
        EventLeg(venue, contract.instrument, contract.market, outcome, side)
        for side in ("yes", "no")
    ]


def _event_id(group: list[_Resolved], kind: MarketType, suffix: str = "") -> str:
    r = group[0]
    codes = "-".join(sorted(t.code for t in r.teams))
    return f"{r.game.league}:{r.game.eastern_date:%Y%m%d}:{codes}:{kind.value}{suffix}"


def _start(group: list[_Resolved]) -> datetime | None:
    starts = sorted(
        r.game.start_time.astimezone(UTC) for r in group if r.game.start_time is not None
    )
    return starts[0] if starts else None


def _moneyline(
    catalogue: TeamCatalogue, group: list[_Resolved], out: list[Unmatched]
) -> MatchedEvent | None:
    first = group[0]
    lg = league_of(first.game.league)
    draws = lg is not None and lg.draws
    team_ids = tuple(sorted(first.ids))
    outcomes = (team_ids[0], DRAW, team_ids[1]) if draws else team_ids
    legs: list[EventLeg] = []
    ok: list[_Resolved] = []
    for r in group:
        try:
            by_outcome: dict[str, ListedContract] = {}
            for c in r.game.contracts:
                if c.kind is ContractKind.DRAW:
                    outcome = DRAW
                elif c.kind is ContractKind.TEAM:
                    outcome = _team_of(catalogue, r, c.team)
                else:
                    raise _Reject(
                        Reason.INCOMPLETE, f"a {c.kind.value} contract in a winner market"
                    )
                if outcome in by_outcome:
                    raise _Reject(Reason.INCOMPLETE, f"two contracts pay on {outcome}")
                by_outcome[outcome] = c
            if DRAW in by_outcome and not draws:
                raise _Reject(
                    Reason.OUTCOMES_DIFFER,
                    f"a draw market in {first.game.league}, which has no draws",
                )
            missing = [o for o in outcomes if o not in by_outcome]
            if not draws and len(missing) == 1 and len(by_outcome) == 1:
                # one two-sided instrument (Polymarket US): its NO pays on the other team
                missing = []
            if missing:
                reason = Reason.OUTCOMES_DIFFER if missing == [DRAW] else Reason.INCOMPLETE
                raise _Reject(reason, f"no contract for {', '.join(missing)}")
        except _Reject as rej:
            out.append(_unmatched(r.game, rej.reason, rej.detail))
            continue
        ok.append(r)
        for outcome in outcomes:
            if outcome in by_outcome:
                legs.extend(_legs(r.game.venue, by_outcome[outcome], outcome))
    if len({r.game.venue for r in ok}) < 2:
        for r in ok:
            out.append(
                _unmatched(
                    r.game, Reason.NO_COUNTERPART, "the other venues' winner markets were refused"
                )
            )
        return None
    return MatchedEvent(
        event_id=_event_id(ok, MarketType.MONEYLINE),
        league=first.game.league,
        market_type=MarketType.MONEYLINE,
        eastern_date=first.game.eastern_date,
        start_time=_start(ok),
        teams=(team_ids[0], team_ids[1]),
        line=None,
        outcomes=outcomes,
        legs=tuple(sorted(legs)),
        venue_events=tuple(sorted((r.game.venue, r.game.event_id) for r in ok)),
        evidence=(*_evidence(ok), f"outcomes {' / '.join(outcomes)} covered on every venue"),
        notes=(POSTPONEMENT_NOTE, TIE_NOTE)
        if lg is not None and lg.rare_ties
        else (POSTPONEMENT_NOTE,),
    )


def _lines(
    catalogue: TeamCatalogue, group: list[_Resolved], out: list[Unmatched]
) -> list[MatchedEvent]:
    first = group[0]
    kind = first.game.market_type
    by_line: dict[tuple[str, Decimal], dict[str, tuple[_Resolved, ListedContract]]] = defaultdict(
        dict
    )
    for r in group:
        for c in r.game.contracts:
            ident = f"{r.game.event_id}@{c.market}"
            try:
                if c.line is None or c.line <= 0:
                    raise _Reject(Reason.MALFORMED, f"line {c.line} is not a positive number")
                if c.line % 1 != _HALF:
                    raise _Reject(
                        Reason.PUSH_LINE,
                        f"line {c.line} is not a half point: a push settles differently per venue",
                    )
                if kind is MarketType.TOTAL:
                    if c.kind is not ContractKind.OVER:
                        raise _Reject(Reason.MALFORMED, f"a {c.kind.value} contract among totals")
                    who = ""
                else:
                    if c.kind is not ContractKind.TEAM:
                        raise _Reject(Reason.MALFORMED, f"a {c.kind.value} contract among spreads")
                    who = _team_of(catalogue, r, c.team)
                if r.game.venue in by_line[(who, c.line)]:
                    raise _Reject(Reason.AMBIGUOUS, f"{r.game.venue} lists line {c.line} twice")
            except _Reject as rej:
                out.append(_unmatched(r.game, rej.reason, rej.detail, ident))
                continue
            by_line[(who, c.line)][r.game.venue] = (r, c)
    events: list[MatchedEvent] = []
    for (who, line), per_venue in sorted(by_line.items()):
        label = f"{who} by more than {line}" if who else f"total over {line}"
        if len(per_venue) < 2:
            for venue, (r, c) in per_venue.items():
                others = sorted(v for v in {x.game.venue for x in group} if v != venue)
                out.append(
                    _unmatched(
                        r.game,
                        Reason.LINE_ONE_VENUE,
                        f"{label}: not listed on {', '.join(others)}",
                        f"{r.game.event_id}@{c.market}",
                    )
                )
            continue
        outcomes = (OVER, UNDER) if kind is MarketType.TOTAL else (COVER, NO_COVER)
        members = [r for r, _ in per_venue.values()]
        legs = [leg for venue, (_, c) in per_venue.items() for leg in _legs(venue, c, outcomes[0])]
        suffix = f":{line}" if not who else f":{who.split(':', 1)[1]}:{line}"
        events.append(
            MatchedEvent(
                event_id=_event_id(members, kind, suffix),
                league=first.game.league,
                market_type=kind,
                eastern_date=first.game.eastern_date,
                start_time=_start(members),
                teams=tuple(sorted(first.ids)),  # type: ignore[arg-type]
                line=line,
                outcomes=outcomes,
                legs=tuple(sorted(legs)),
                venue_events=tuple(sorted((r.game.venue, r.game.event_id) for r in members)),
                evidence=(*_evidence(members), f"{label} listed on {', '.join(sorted(per_venue))}"),
            )
        )
    return events


def match_listings(
    listings: Iterable[ListedGame],
    catalogue: TeamCatalogue,
    *,
    start_window: timedelta = DEFAULT_START_WINDOW,
    leagues: Sequence[str] = (),
    market_types: Sequence[str] = (),
) -> EventReport:
    """Match ``listings`` across venues (see the module for the rules).

    ``leagues`` / ``market_types`` (empty: all) narrow what is matched; the rest is left
    out of the report (counted in the log).
    """
    if start_window < timedelta(0):
        raise ValueError("start_window must not be negative")
    unmatched: list[Unmatched] = []
    resolved: list[_Resolved] = []
    seen: dict[tuple[str, str, MarketType], ListedGame] = {}
    filtered = 0
    for game in listings:
        if (leagues and game.league not in leagues) or (
            market_types and game.market_type.value not in market_types
        ):
            filtered += 1
            continue
        ident = (game.venue, game.event_id, game.market_type)
        if ident in seen:
            if seen[ident] != game:
                unmatched.append(
                    _unmatched(game, Reason.DUPLICATE_ID, "two different listings share this id")
                )
            continue
        seen[ident] = game
        try:
            resolved.append(_resolve(catalogue, game))
        except _Reject as rej:
            unmatched.append(_unmatched(game, rej.reason, rej.detail))
    by_key: dict[tuple[str, MarketType, frozenset[str]], list[_Resolved]] = defaultdict(list)
    for r in resolved:
        by_key[r.key].append(r)
    matches: list[MatchedEvent] = []
    for same_key in by_key.values():
        by_day: dict[date, list[_Resolved]] = defaultdict(list)
        for r in same_key:
            by_day[r.game.eastern_date].append(r)
        for day_items in by_day.values():
            day_items.sort(key=lambda r: (r.game.venue, r.game.event_id))
            for group in _components(day_items, start_window):
                venues = [r.game.venue for r in group]
                if len(group) == 1:
                    unmatched.append(_diagnose(group[0], same_key))
                elif len(set(venues)) != len(venues):
                    ids = ", ".join(f"{r.game.venue}:{r.game.event_id}" for r in group)
                    for r in group:
                        unmatched.append(
                            _unmatched(r.game, Reason.AMBIGUOUS, f"{len(group)} candidates: {ids}")
                        )
                elif group[0].game.market_type is MarketType.MONEYLINE:
                    event = _moneyline(catalogue, group, unmatched)
                    if event is not None:
                        matches.append(event)
                else:
                    matches.extend(_lines(catalogue, group, unmatched))
    matches.sort(key=lambda m: (m.eastern_date, m.league, m.event_id))
    unmatched.sort()
    report = EventReport(tuple(matches), tuple(unmatched))
    log.info(
        "matched %d events (%d listings filtered out); %s",
        len(matches),
        filtered,
        {f"{k[0]}/{k[1]}": v for k, v in report.counts().items()},
    )
    return report
