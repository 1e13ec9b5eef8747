"""The alias tables: every NBA/NHL team resolves from its names and codes, within its league."""

from __future__ import annotations

import pytest

from arbees.matching.team_table import NBA_ROWS, NHL_ROWS, TeamRow
from arbees.matching.teams import (
    _build,
    ambiguous_alias,
    normalize_name,
    resolve_team,
    team_by_id,
    teams,
)

ALL_ROWS = [("NBA", row) for row in NBA_ROWS] + [("NHL", row) for row in NHL_ROWS]


def test_every_team_is_listed_once() -> None:
    assert len(teams("NBA")) == 30
    assert len(teams("NHL")) == 32
    for league in ("NBA", "NHL"):
        codes = [t.code for t in teams(league)]
        assert len(set(codes)) == len(codes)
    assert resolve_team("NHL", "Utah Mammoth") is not None
    assert teams("MLB") == ()


@pytest.mark.parametrize(("league", "row"), ALL_ROWS, ids=[f"{lg}-{r[0]}" for lg, r in ALL_ROWS])
def test_team_resolves_from_full_name_nickname_and_codes(league: str, row: TeamRow) -> None:
    code, kalshi_code, cities, nickname, extras = row
    team = team_by_id(f"{league}:{code}")
    assert team is not None
    names = [
        f"{cities[0]} {nickname}",
        nickname,
        kalshi_code,
        code,
        code.lower(),
        f"{cities[0]} {nickname}".upper(),
        *extras,
    ]
    for name in names:
        assert resolve_team(league, name) == team, name
    assert team.full_name == f"{cities[0]} {nickname}"
    assert team.id == f"{league}:{code}"


KALSHI_CODES = [
    ("NBA", "OKC", "NBA:OKC"),
    ("NBA", "SAS", "NBA:SAS"),
    ("NBA", "LAL", "NBA:LAL"),
    ("NBA", "LAC", "NBA:LAC"),
    ("NBA", "GS", "NBA:GSW"),
    ("NBA", "GSW", "NBA:GSW"),
    ("NBA", "NO", "NBA:NOP"),
    ("NBA", "NOP", "NBA:NOP"),
    ("NBA", "NY", "NBA:NYK"),
    ("NBA", "NYK", "NBA:NYK"),
    ("NBA", "PHX", "NBA:PHX"),
    ("NBA", "PHO", "NBA:PHX"),
    ("NBA", "WSH", "NBA:WAS"),
    ("NBA", "WAS", "NBA:WAS"),
    ("NBA", "UTA", "NBA:UTA"),
    ("NBA", "BKN", "NBA:BKN"),
    ("NBA", "BRK", "NBA:BKN"),
    ("NHL", "VGK", "NHL:VGK"),
    ("NHL", "LA", "NHL:LAK"),
    ("NHL", "NYR", "NHL:NYR"),
    ("NHL", "NYI", "NHL:NYI"),
    ("NHL", "NJ", "NHL:NJD"),
    ("NHL", "TB", "NHL:TBL"),
    ("NHL", "SJ", "NHL:SJS"),
    ("NHL", "UTA", "NHL:UTA"),
    ("NHL", "CLB", "NHL:CBJ"),
    ("NHL", "CBJ", "NHL:CBJ"),
    ("NHL", "MTL", "NHL:MTL"),
    ("NHL", "MON", "NHL:MTL"),
    ("NHL", "WSH", "NHL:WSH"),
    ("NHL", "WAS", "NHL:WSH"),
]


@pytest.mark.parametrize(("league", "code", "team_id"), KALSHI_CODES)
def test_venue_codes(league: str, code: str, team_id: str) -> None:
    team = resolve_team(league, code)
    assert team is not None
    assert team.id == team_id


SPELLINGS = [
    ("NHL", "Montréal Canadiens", "NHL:MTL"),
    ("NHL", "MONTREAL", "NHL:MTL"),
    ("NHL", "Montreal", "NHL:MTL"),
    ("NHL", "St. Louis Blues", "NHL:STL"),
    ("NHL", "St Louis", "NHL:STL"),
    ("NHL", "Saint Louis Blues", "NHL:STL"),
    ("NHL", "L.A. Kings", "NHL:LAK"),
    ("NHL", "LA Kings", "NHL:LAK"),
    ("NHL", "Los Angeles", "NHL:LAK"),
    ("NHL", "New York R", "NHL:NYR"),
    ("NHL", "New York I", "NHL:NYI"),
    ("NHL", "Utah Hockey Club", "NHL:UTA"),
    ("NHL", "Utah", "NHL:UTA"),
    ("NHL", "Kings", "NHL:LAK"),
    ("NBA", "Kings", "NBA:SAC"),
    ("NBA", "LA Clippers", "NBA:LAC"),
    ("NBA", "L.A. Clippers", "NBA:LAC"),
    ("NBA", "Los Angeles C", "NBA:LAC"),
    ("NBA", "Los Angeles L", "NBA:LAL"),
    ("NBA", "  golden   state ", "NBA:GSW"),
    ("NBA", "Portland Trail-Blazers", "NBA:POR"),
    ("NBA", "Sixers", "NBA:PHI"),
    ("NBA", "New York", "NBA:NYK"),
    ("NBA", "Utah", "NBA:UTA"),
]


@pytest.mark.parametrize(("league", "name", "team_id"), SPELLINGS)
def test_spelling_variants(league: str, name: str, team_id: str) -> None:
    team = resolve_team(league, name)
    assert team is not None
    assert team.id == team_id


@pytest.mark.parametrize(
    ("league", "name", "options"),
    [
        ("NBA", "Los Angeles", ("NBA:LAC", "NBA:LAL")),
        ("NBA", "LA", ("NBA:LAC", "NBA:LAL")),
        ("NHL", "New York", ("NHL:NYI", "NHL:NYR")),
        ("NHL", "NY", ("NHL:NYI", "NHL:NYR")),
    ],
)
def test_shared_city_never_resolves(league: str, name: str, options: tuple[str, ...]) -> None:
    assert resolve_team(league, name) is None
    assert ambiguous_alias(league, name) == options


@pytest.mark.parametrize(
    ("name", "nba", "nhl"),
    [
        ("UTA", "NBA:UTA", "NHL:UTA"),
        ("PHI", "NBA:PHI", "NHL:PHI"),
        ("CHI", "NBA:CHI", "NHL:CHI"),
        ("Utah", "NBA:UTA", "NHL:UTA"),
        ("Kings", "NBA:SAC", "NHL:LAK"),
        ("Panthers", None, "NHL:FLA"),
        ("Thunder", "NBA:OKC", None),
        ("LA", None, "NHL:LAK"),
    ],
)
def test_codes_resolve_within_league_only(name: str, nba: str | None, nhl: str | None) -> None:
    for league, expected in (("NBA", nba), ("NHL", nhl)):
        team = resolve_team(league, name)
        assert (team.id if team else None) == expected


def test_unknown_names_and_leagues() -> None:
    assert resolve_team("NBA", "SuperSonics") is None
    assert resolve_team("NBA", "") is None
    assert resolve_team("MLB", "NYY") is None
    assert ambiguous_alias("MLB", "NY") == ()
    assert team_by_id("NBA:XXX") is None


def test_normalize_name() -> None:
    assert normalize_name("Montréal  Canadiens") == "montreal canadiens"
    assert normalize_name("L.A.") == "la"
    assert normalize_name("St. Louis") == normalize_name("Saint-Louis") == "st louis"
    assert normalize_name("Portland Trail-Blazers") == "portland trail blazers"
    assert normalize_name("Brighton & Hove") == "brighton and hove"


def test_colliding_explicit_alias_is_refused() -> None:
    rows = (
        ("AAA", "AAA", ("Alpha",), "Ants", ("X",)),
        ("BBB", "BBB", ("Beta",), "Bees", ("X",)),
    )
    with pytest.raises(ValueError, match="names both"):
        _build("TST", rows)
