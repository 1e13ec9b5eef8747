"""Team identity: one canonical id per NBA/NHL team and a per-league alias index.

Both venues name teams their own way: Kalshi puts short codes in tickers (``LA``, ``NJ``,
``GSW``) and city-ish labels in ``yes_sub_title`` ("Los Angeles C"); Polymarket names
outcomes by nickname ("Clippers") or full name. Matching the two only by way of a canonical
id keeps the comparison exact. Aliases are resolved WITHIN a league only, because the same
code means different teams across leagues (``PHI``, ``UTA``, ``CHI``...).

The index is built once at import from :mod:`arbees.matching.team_table`; an explicit alias
that would name two teams of one league is a programming error and raises at import, while
a shared city ("Los Angeles" in the NBA) is simply left out so it can never resolve.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

import attrs

from arbees.matching.team_table import NBA_ROWS, NHL_ROWS, TeamRow

__all__ = [
    "LEAGUES",
    "Team",
    "ambiguous_alias",
    "normalize_name",
    "resolve_team",
    "team_by_id",
    "teams",
]

LEAGUES: Final = ("NBA", "NHL")

_DROP = re.compile(r"[.'’`´]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalize_name(text: str) -> str:
    """Return the lookup key of a team name or code.

    Strips accents ("Montréal" -> "montreal"), case, periods and apostrophes ("L.A." ->
    "la", "St." -> "st"), turns other punctuation into spaces, collapses whitespace and
    writes "saint" as "st".
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    plain = plain.replace("&", " and ")
    plain = _NON_ALNUM.sub(" ", _DROP.sub("", plain))
    return " ".join("st" if token == "saint" else token for token in plain.split())


@attrs.frozen
class Team:
    """One NBA or NHL franchise.

    Attributes:
        league: ``"NBA"`` or ``"NHL"``.
        code: canonical abbreviation, unique within the league.
        kalshi_code: the code Kalshi uses in its game tickers.
        city: official city/region name.
        nickname: official nickname.
    """

    league: str
    code: str
    kalshi_code: str
    city: str
    nickname: str

    @property
    def id(self) -> str:
        """Canonical team id, e.g. ``"NHL:LAK"`` (unique across leagues)."""
        return f"{self.league}:{self.code}"

    @property
    def full_name(self) -> str:
        """Official full name, e.g. ``"Los Angeles Kings"``."""
        return f"{self.city} {self.nickname}"


@attrs.frozen
class _LeagueIndex:
    teams: tuple[Team, ...]
    by_alias: Mapping[str, Team]
    ambiguous: Mapping[str, tuple[str, ...]]


def _build(league: str, rows: Iterable[TeamRow]) -> _LeagueIndex:
    built: list[Team] = []
    explicit: dict[str, Team] = {}
    derived: dict[str, set[str]] = {}
    by_code: dict[str, Team] = {}
    for code, kalshi_code, cities, nickname, extras in rows:
        team = Team(league, code, kalshi_code, cities[0], nickname)
        built.append(team)
        by_code[code] = team
        names = {code, kalshi_code, nickname, *extras}
        names.update(f"{city} {nickname}" for city in cities)
        for name in names:
            key = normalize_name(name)
            other = explicit.get(key)
            if other is not None and other != team:
                raise ValueError(f"{league} alias {name!r} names both {other.id} and {team.id}")
            explicit[key] = team
        for city in cities:
            derived.setdefault(normalize_name(city), set()).add(code)
    by_alias = dict(explicit)
    ambiguous: dict[str, tuple[str, ...]] = {}
    for key, codes in derived.items():
        if key in explicit:
            continue
        if len(codes) == 1:
            by_alias[key] = by_code[next(iter(codes))]
        else:
            ambiguous[key] = tuple(sorted(f"{league}:{c}" for c in codes))
    return _LeagueIndex(tuple(built), MappingProxyType(by_alias), MappingProxyType(ambiguous))


_INDEX: Final[Mapping[str, _LeagueIndex]] = MappingProxyType(
    {"NBA": _build("NBA", NBA_ROWS), "NHL": _build("NHL", NHL_ROWS)}
)
_BY_ID: Final[Mapping[str, Team]] = MappingProxyType(
    {team.id: team for index in _INDEX.values() for team in index.teams}
)


def teams(league: str) -> tuple[Team, ...]:
    """All teams of ``league`` (empty for an unsupported league)."""
    index = _INDEX.get(league)
    return index.teams if index is not None else ()


def team_by_id(team_id: str) -> Team | None:
    """The team with canonical id ``team_id`` (``"NBA:OKC"``), or ``None``."""
    return _BY_ID.get(team_id)


def resolve_team(league: str, name: str) -> Team | None:
    """Resolve a team name, nickname or code within ``league``; ``None`` when unknown.

    Never resolves across leagues and never resolves an ambiguous alias such as the NBA's
    "Los Angeles" (use :func:`ambiguous_alias` to say why a lookup failed).
    """
    index = _INDEX.get(league)
    if index is None:
        return None
    return index.by_alias.get(normalize_name(name))


def ambiguous_alias(league: str, name: str) -> tuple[str, ...]:
    """The team ids an ambiguous alias could mean in ``league`` (empty if not ambiguous)."""
    index = _INDEX.get(league)
    if index is None:
        return ()
    return index.ambiguous.get(normalize_name(name), ())
