"""Kalshi's milestones and structured targets, indexed for matching.

A Kalshi sports milestone is one real-world game: it names the game's events
(``primary_event_tickers``, and the wider ``related_event_tickers``), its scheduled start
(``start_date``) and its two teams as structured target ids (``details.home_team_id`` /
``away_team_id``); a structured target names the team (``name``, ``details.abbreviation``,
``details.league``). :func:`arbees.matching.venue_listings.kalshi_listings` reads an event's
teams and start from here first and falls back to its ticker codes and ``yes_sub_title``
when the event has no usable milestone (none, two of them, a target id Kalshi did not
return, a target of another league).

Pure: the REST client (:meth:`arbees.kalshi.rest.KalshiRest.get_milestones`,
:meth:`~arbees.kalshi.rest.KalshiRest.get_structured_targets`) or ``arbees match`` (saved
bodies) supplies the decoded milestones and targets.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import attrs

from arbees.kalshi.models import Milestone, StructuredTarget
from arbees.matching.leagues import League, gamma_league, kalshi_league
from arbees.matching.leagues import league as league_of_key

__all__ = ["KalshiStructure", "MilestoneLookup", "target_league"]

_NON_ALNUM = re.compile(r"[^A-Z0-9]")


def target_league(text: str) -> League | None:
    """The league a structured target's ``details.league`` names (``"NCAAB"``,
    ``"Serie A"``, ``"NCAAMB"``, ``"epl"``), or ``None`` when the league table does not
    know the text (it then neither confirms nor vetoes anything)."""
    squashed = _NON_ALNUM.sub("", text.upper())
    if not squashed:
        return None
    return league_of_key(squashed) or kalshi_league(squashed) or gamma_league(text.strip())


@attrs.frozen
class MilestoneLookup:
    """The milestone of one event, and its teams' targets when both are known.

    Attributes:
        milestone: the event's one milestone, or ``None``.
        away: the away team's target (``None`` when its id is missing or unknown).
        home: the home team's target, likewise.
        note: why a milestone or its targets cannot be used (``""`` when they can).
    """

    milestone: Milestone | None
    away: StructuredTarget | None = None
    home: StructuredTarget | None = None
    note: str = ""


@attrs.frozen
class KalshiStructure:
    """Milestones by the events they name, and targets by id.

    Attributes:
        primary: event ticker -> the milestones naming it among their primary events.
        related: event ticker -> the milestones naming it among their related events.
        targets: structured target id -> target.
    """

    primary: Mapping[str, tuple[Milestone, ...]] = attrs.field(factory=dict)
    related: Mapping[str, tuple[Milestone, ...]] = attrs.field(factory=dict)
    targets: Mapping[str, StructuredTarget] = attrs.field(factory=dict)

    @classmethod
    def of(
        cls, milestones: Iterable[Milestone], targets: Iterable[StructuredTarget] = ()
    ) -> KalshiStructure:
        """Index ``milestones`` (one per id, the last seen) and ``targets``."""
        unique = {m.id: m for m in milestones}
        primary: dict[str, list[Milestone]] = defaultdict(list)
        related: dict[str, list[Milestone]] = defaultdict(list)
        for m in unique.values():
            for ticker in m.primary_event_tickers:
                primary[ticker].append(m)
            for ticker in m.related_event_tickers:
                related[ticker].append(m)
        return cls(
            MappingProxyType({k: tuple(v) for k, v in primary.items()}),
            MappingProxyType({k: tuple(v) for k, v in related.items()}),
            MappingProxyType({t.id: t for t in targets}),
        )

    def team_ids(self, event_tickers: Iterable[str]) -> set[str]:
        """The target ids the milestones of ``event_tickers`` name."""
        wanted = set(event_tickers)
        ids: set[str] = set()
        for index in (self.primary, self.related):
            for ticker, found in index.items():
                if ticker in wanted:
                    for m in found:
                        ids.update(i for i in (m.home_team_id, m.away_team_id) if i)
        return ids

    def lookup(self, event_ticker: str, league: str) -> MilestoneLookup:
        """The milestone of ``event_ticker`` (a primary one first, else a related one;
        two of them: none) and, when both are known and of ``league``, its targets."""
        found = self.primary.get(event_ticker) or self.related.get(event_ticker) or ()
        if not found:
            return MilestoneLookup(None, note="no milestone names this event")
        if len(found) > 1:
            ids = ", ".join(sorted(m.id for m in found))
            return MilestoneLookup(None, note=f"{len(found)} milestones name this event: {ids}")
        milestone = found[0]
        away = self.targets.get(milestone.away_team_id) if milestone.away_team_id else None
        home = self.targets.get(milestone.home_team_id) if milestone.home_team_id else None
        for target in (away, home):
            lg = None if target is None else target_league(target.league)
            if target is not None and lg is not None and lg.key != league:
                return MilestoneLookup(
                    None,
                    note=f"milestone {milestone.id}: target {target.id} is of league "
                    f"{target.league!r}, not {league}",
                )
        if away is None or home is None or away.id == home.id:
            missing = [
                f"{side} {ident or '(none)'}"
                for side, ident, target in (
                    ("away", milestone.away_team_id, away),
                    ("home", milestone.home_team_id, home),
                )
                if target is None
            ]
            note = (
                f"milestone {milestone.id}: unknown team target(s): {', '.join(missing)}"
                if missing
                else f"milestone {milestone.id}: home and away are one target"
            )
            return MilestoneLookup(milestone, note=note)
        return MilestoneLookup(milestone, away, home)
