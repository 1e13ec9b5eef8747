"""The team catalogue: every team of every league, built at run time from the venues' data.

Structured identifiers come first: a team is found by its code (Gamma's ``abbreviation``,
which Kalshi's ticker codes mostly share; the checked-in :data:`CODE_OVERRIDES` maps the
known disagreements) and only then by a name (Gamma's ``name`` and ``alias``, the built-in
NBA/NHL tables). Every lookup stays inside one league, and a code or a name that two teams
of a league share ("Manchester" for United and City, "North Carolina" when the catalogue has
both UNC and NC State under that alias) is kept as ambiguous and never resolves, so a
lookup either names exactly one team or says why not.

Rows come from :func:`arbees.matching.venue_listings.gamma_team_rows` (Gamma ``/teams``) and
from the built-in NBA/NHL tables (:func:`builtin_rows`, used for a league Gamma's catalogue
does not cover). The catalogue is pure; saving it to disk with an expiry is the caller's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

import attrs

from arbees.matching.teams import normalize_name, teams

__all__ = [
    "CODE_OVERRIDES",
    "CatalogueRow",
    "Lookup",
    "TeamCatalogue",
    "builtin_rows",
]

CODE_OVERRIDES: Final[Mapping[tuple[str, str], str]] = MappingProxyType(
    {
        # (league, a venue's code) -> the catalogue code of the same team, where the venues
        # are known to disagree.
        ("NFL", "JAC"): "JAX",
        ("NFL", "WSH"): "WAS",
        ("NFL", "LA"): "LAR",
        ("MLB", "CWS"): "CHW",
        ("MLB", "AZ"): "ARI",
        ("EPL", "MNU"): "MUN",
        ("EPL", "MNC"): "MCI",
    }
)


def _upper(code: str) -> str:
    return code.strip().upper()


@attrs.frozen
class CatalogueRow:
    """One team as a source knows it.

    Attributes:
        league: canonical league key (:mod:`arbees.matching.leagues`).
        code: the team's code, unique within the league (upper case).
        name: its full name.
        aliases: other names (short names, nicknames) the venues use.
        source: where the row came from (``"gamma"``, ``"builtin"``), for reports.
        extra_codes: other codes a venue uses for the team (Kalshi's ``LA`` for ``LAK``).
    """

    league: str
    code: str = attrs.field(converter=_upper)
    name: str
    aliases: tuple[str, ...] = ()
    source: str = "gamma"
    extra_codes: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """The canonical team id, ``"{league}:{code}"``."""
        return f"{self.league}:{self.code}"


@attrs.frozen
class Lookup:
    """What one lookup found.

    Attributes:
        team: the one team it names, else ``None``.
        ambiguous: the team ids it could mean when it names several (never resolved).
    """

    team: CatalogueRow | None
    ambiguous: tuple[str, ...] = ()


def builtin_rows(league: str) -> tuple[CatalogueRow, ...]:
    """The checked-in NBA/NHL table as catalogue rows (empty for other leagues)."""
    rows = []
    for team in teams(league):
        aliases = {team.nickname, team.city}
        extra = (team.kalshi_code,) if team.kalshi_code != team.code else ()
        rows.append(
            CatalogueRow(
                league, team.code, team.full_name, tuple(sorted(aliases)), "builtin", extra
            )
        )
    return tuple(rows)


class TeamCatalogue:
    """Teams by league, found by code first and by name as a fallback (see the module).

    Args:
        rows: every team; a league's rows all come from one source, the first seen
            (two rows with one id are merged, their names pooled).
    """

    def __init__(self, rows: Iterable[CatalogueRow]) -> None:
        merged: dict[str, CatalogueRow] = {}
        for row in rows:
            seen = merged.get(row.id)
            if seen is None:
                merged[row.id] = row
            else:
                pooled = tuple(sorted({*seen.aliases, *row.aliases, row.name} - {seen.name}))
                extra = tuple(sorted({*seen.extra_codes, *row.extra_codes}))
                merged[row.id] = attrs.evolve(seen, aliases=pooled, extra_codes=extra)
        self._teams: dict[str, CatalogueRow] = merged
        codes: dict[tuple[str, str], set[str]] = defaultdict(set)
        names: dict[tuple[str, str], set[str]] = defaultdict(set)
        for team in merged.values():
            for code in (team.code, *team.extra_codes):
                codes[(team.league, code.upper())].add(team.id)
            for name in (team.name, *team.aliases):
                key = normalize_name(name)
                if key:
                    names[(team.league, key)].add(team.id)
        for (league, code), target in CODE_OVERRIDES.items():
            if f"{league}:{target}" in merged and (league, code) not in codes:
                codes[(league, code)].add(f"{league}:{target}")
        self._codes = {k: tuple(sorted(v)) for k, v in codes.items()}
        self._names = {k: tuple(sorted(v)) for k, v in names.items()}

    def __repr__(self) -> str:
        return f"<TeamCatalogue {len(self._teams)} teams in {len(self.leagues())} leagues>"

    def leagues(self) -> tuple[str, ...]:
        """The leagues with at least one team."""
        return tuple(sorted({t.league for t in self._teams.values()}))

    def has_code(self, league: str, code: str) -> bool:
        """``code`` names exactly one team of ``league``."""
        return len(self._codes.get((league, code.upper()), ())) == 1

    def by_code(self, league: str, code: str) -> Lookup:
        """The team of ``league`` whose code (or overridden venue code) is ``code``."""
        return self._pick(self._codes.get((league, code.strip().upper()), ()))

    def by_name(self, league: str, name: str) -> Lookup:
        """The team of ``league`` with this name or alias (normalized)."""
        return self._pick(self._names.get((league, normalize_name(name)), ()))

    def _pick(self, ids: tuple[str, ...]) -> Lookup:
        if len(ids) == 1:
            return Lookup(self._teams[ids[0]])
        return Lookup(None, ids)
