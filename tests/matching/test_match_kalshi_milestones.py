"""Kalshi's milestones and structured targets drive matching; names are the fallback.

The slate in tests/data/matching/milestones (sources in tests/data/README), 2026-12-13:
a college game whose ticker code and sub-title ("MIAOH", "Miami") are ambiguous in the
catalogue (Miami Hurricanes and Miami (OH) RedHawks) but whose milestone's target ids name
Miami (OH); a Manchester derby whose Kalshi codes and city-style sub-titles ("Manchester C",
"Manchester U") no catalogue entry knows, resolved by target ids; an NFL game whose
milestone starts 7 h after Polymarket's game (not paired, reported); a milestone naming a
target Kalshi did not return (the ticker codes decide, the milestone still gives the start).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from arbees.kalshi.models import parse_events, parse_milestones, parse_structured_targets
from arbees.matching import Reason
from arbees.matching.events import EventReport, TeamClaim
from arbees.matching.kalshi_structure import KalshiStructure, target_league
from arbees.matching.venue_listings import build_catalogue, kalshi_listings, match_venue_events
from arbees.matching.venues import kalshi_games
from arbees.polymarket.models import parse_gamma_events, parse_gamma_teams

DATA = Path(__file__).resolve().parent.parent / "data" / "matching" / "milestones"
MIAMI_OH = "ffe6ef6d-e8c9-4220-8368-5392592862b5"
KENT = "bfd87b68-bf7f-46e0-8394-89d9d8f35198"
MUN = "d0851edf-daa1-49ae-8d9d-2c335b4d44cf"
MCI = "8f6dda12-3f6a-4686-8b7f-03b3c67eb383"
M_COLLEGE = "a229fe69-5224-4f51-8fe7-85b2d353e2d0"
M_DERBY = "8e22e136-7108-4a4b-8507-8122520cc7ff"
M_NFL = "ecf2028d-8645-414c-8222-a3a106e93c90"
M_NY = "f6701fe8-d63e-42c2-808a-31233322d785"


def body(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"), parse_float=Decimal)


@pytest.fixture(scope="module")
def slate() -> Any:
    teams, bad = parse_gamma_teams(body("gamma_teams.json"))
    kalshi, k_bad = parse_events(body("kalshi_events.json"))
    gamma, g_bad = parse_gamma_events(body("gamma_events.json"))
    milestones, m_bad = parse_milestones(body("kalshi_milestones.json"))
    targets, t_bad = parse_structured_targets(body("kalshi_targets.json"))
    assert bad == k_bad == g_bad == m_bad == t_bad == []
    return build_catalogue(teams), kalshi, gamma, KalshiStructure.of(milestones, targets)


def run(slate: Any, structure: KalshiStructure | None) -> EventReport:
    catalogue, kalshi, gamma, _ = slate
    return match_venue_events(kalshi, gamma, catalogue, kalshi_structure=structure)


def by_kalshi(report: EventReport) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for m in report.matches:
        for venue, ident in m.venue_events:
            if venue == "kalshi":
                found[ident] = m
    for u in report.unmatched:
        if u.venue == "kalshi":
            found[u.id] = u
    return found


def test_without_milestones_the_ticker_path_refuses_or_misses(slate: Any) -> None:
    found = by_kalshi(run(slate, None))
    college = found["KXNCAAMBGAME-26DEC13MIAOHKENT"]
    assert college.reason is Reason.UNKNOWN_TEAM
    assert "ambiguous" in college.detail
    assert "NCAAB:MIA" in college.detail
    assert "NCAAB:MOH" in college.detail
    assert found["KXEPLGAME-26DEC13MANCMANU"].reason is Reason.UNKNOWN_TEAM
    # without a start in the ticker the NFL game pairs on the date alone
    assert found["KXNFLGAME-26DEC13BUFKC"].event_id == "NFL:20261213:BUF-KC:moneyline"


def test_target_ids_resolve_a_college_game_the_ticker_codes_cannot(slate: Any) -> None:
    found = by_kalshi(run(slate, slate[3]))
    match = found["KXNCAAMBGAME-26DEC13MIAOHKENT"]
    assert match.event_id == "NCAAB:20261213:KENT-MOH:moneyline"
    assert match.teams == ("NCAAB:KENT", "NCAAB:MOH")
    assert match.venue_events == (
        ("kalshi", "KXNCAAMBGAME-26DEC13MIAOHKENT"),
        ("polymarket", "cbb-moh-kent-2026-12-13"),
    )
    legs = {(leg.instrument, leg.outcome) for leg in match.legs if leg.venue == "kalshi"}
    assert legs == {
        ("KXNCAAMBGAME-26DEC13MIAOHKENT-MIAOH", "NCAAB:MOH"),
        ("KXNCAAMBGAME-26DEC13MIAOHKENT-KENT", "NCAAB:KENT"),
    }
    (line,) = [e for e in match.evidence if e.startswith("kalshi ")]
    assert f"NCAAB:MOH by code ('MOH') of kalshi_target:{MIAMI_OH}" in line
    assert f"NCAAB:KENT by code ('KENT') of kalshi_target:{KENT}" in line
    assert f"start 2026-12-14T00:00Z from kalshi_milestone:{M_COLLEGE}" in line


def test_target_ids_resolve_two_clubs_sharing_a_city(slate: Any) -> None:
    found = by_kalshi(run(slate, slate[3]))
    match = found["KXEPLGAME-26DEC13MANCMANU"]
    assert match.event_id == "EPL:20261213:MCI-MUN:moneyline"
    assert match.outcomes == ("EPL:MCI", "draw", "EPL:MUN")
    kalshi_legs = {(leg.instrument, leg.outcome) for leg in match.legs if leg.venue == "kalshi"}
    assert kalshi_legs == {
        ("KXEPLGAME-26DEC13MANCMANU-MANC", "EPL:MCI"),
        ("KXEPLGAME-26DEC13MANCMANU-MANU", "EPL:MUN"),
        ("KXEPLGAME-26DEC13MANCMANU-TIE", "draw"),
    }
    (line,) = [e for e in match.evidence if e.startswith("kalshi ")]
    assert f"kalshi_target:{MCI}" in line
    assert f"kalshi_target:{MUN}" in line
    assert f"kalshi_milestone:{M_DERBY}" in line


def test_a_milestone_start_outside_the_window_is_not_paired_and_says_why(slate: Any) -> None:
    report = run(slate, slate[3])
    found = by_kalshi(report)
    refused = found["KXNFLGAME-26DEC13BUFKC"]
    assert refused.reason is Reason.START_WINDOW
    assert "start times differ" in refused.detail
    assert not any(m.event_id.startswith("NFL:20261213:BUF-KC") for m in report.matches)
    (gamma,) = [u for u in report.unmatched if u.id == "nfl-buf-kc-2026-12-13"]
    assert gamma.reason is Reason.START_WINDOW


def test_a_milestone_naming_an_unknown_target_falls_back_to_codes_and_names(
    slate: Any,
) -> None:
    found = by_kalshi(run(slate, slate[3]))
    match = found["KXNFLGAME-26DEC13NYJNYG"]
    assert match.event_id == "NFL:20261213:NYG-NYJ:moneyline"
    (line,) = [e for e in match.evidence if e.startswith("kalshi ")]
    assert "NFL:NYJ by code ('NYJ')" in line
    assert "kalshi_target" not in line
    assert f"from kalshi_milestone:{M_NY}" in line  # the start is still the milestone's


def test_a_milestone_on_another_date_than_the_ticker_refuses_the_event(slate: Any) -> None:
    catalogue, kalshi, _, structure = slate
    raw = body("kalshi_milestones.json")
    raw["milestones"][0]["start_date"] = "2026-12-15T00:00:00Z"
    milestones, _ = parse_milestones(raw)
    moved = KalshiStructure.of(milestones, structure.targets.values())
    games, refused = kalshi_listings(kalshi, catalogue, moved)
    (bad,) = [u for u in refused if u.id == "KXNCAAMBGAME-26DEC13MIAOHKENT"]
    assert bad.reason is Reason.BAD_START_TIME
    assert "2026-12-13" in bad.detail
    assert len(games) == 3


def test_targets_of_another_league_are_not_used(slate: Any) -> None:
    catalogue, kalshi, _, structure = slate
    nfl = {t.id: attrs.evolve(t, league="NFL") for t in structure.targets.values()}
    wrong = attrs.evolve(structure, targets=nfl)
    look = wrong.lookup("KXNCAAMBGAME-26DEC13MIAOHKENT", "NCAAB")
    assert look.milestone is None
    assert "not NCAAB" in look.note
    games, _ = kalshi_listings(kalshi, catalogue, wrong)
    college = next(g for g in games if g.event_id == "KXNCAAMBGAME-26DEC13MIAOHKENT")
    # back on the ticker path (ambiguous in the catalogue), no milestone start either
    assert college.teams == (TeamClaim("MIAOH", "Miami"), TeamClaim("KENT", "Kent State"))
    assert college.sources == ()
    assert college.start_time is None


def test_an_event_two_milestones_name_uses_neither(slate: Any) -> None:
    _, _, _, structure = slate
    (college, *rest) = parse_milestones(body("kalshi_milestones.json"))[0]
    twin = attrs.evolve(college, id="twin-milestone")
    doubled = KalshiStructure.of([college, twin, *rest], structure.targets.values())
    look = doubled.lookup("KXNCAAMBGAME-26DEC13MIAOHKENT", "NCAAB")
    assert look.milestone is None
    assert "2 milestones" in look.note


def test_markets_that_fit_both_targets_either_way_round_fall_back(slate: Any) -> None:
    catalogue, kalshi, _, structure = slate
    # both targets are catalogued (Miami (OH), Miami Hurricanes), both markets say "Miami"
    hurricanes = attrs.evolve(structure.targets[KENT], name="Miami Hurricanes", abbreviation="MIA")
    two_miamis = attrs.evolve(structure, targets={**structure.targets, KENT: hurricanes})
    event = next(e for e in kalshi if e.event_ticker == "KXNCAAMBGAME-26DEC13MIAOHKENT")
    renamed = attrs.evolve(
        event, markets=tuple(attrs.evolve(m, yes_sub_title="Miami") for m in event.markets)
    )
    (game,), _ = kalshi_listings([renamed], catalogue, two_miamis)
    assert game.teams == (TeamClaim("MIAOH", "Miami"), TeamClaim("KENT", "Miami"))
    assert all(not c.team.source for c in game.contracts)
    assert game.sources == (f"kalshi_milestone:{M_COLLEGE}",)  # its start is still used


def test_the_structure_names_the_target_ids_of_the_events_asked() -> None:
    milestones, _ = parse_milestones(body("kalshi_milestones.json"))
    structure = KalshiStructure.of(milestones)
    assert structure.team_ids(["KXNCAAMBGAME-26DEC13MIAOHKENT"]) == {MIAMI_OH, KENT}
    everything = [t for m in milestones for t in m.related_event_tickers]
    assert len(structure.team_ids(everything)) == 8
    assert structure.team_ids(["KXNBAGAME-26DEC13OKCSAS"]) == set()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("NCAAB", "NCAAB"),
        ("NCAAMB", "NCAAB"),
        ("Serie A", "SERIEA"),
        ("epl", "EPL"),
        ("cbb", "NCAAB"),
    ],
)
def test_a_target_league_is_read_through_the_league_table(text: str, key: str) -> None:
    found = target_league(text)
    assert found is not None
    assert found.key == key


@pytest.mark.parametrize("text", ["", "Premier League", "College Basketball", "--"])
def test_a_target_league_the_table_does_not_know_vetoes_nothing(text: str) -> None:
    assert target_league(text) is None


def test_the_milestone_start_replaces_the_ticker_start(slate: Any) -> None:
    catalogue, kalshi, _, structure = slate
    games, _ = kalshi_listings(kalshi, catalogue, structure)
    nfl = next(g for g in games if g.event_id == "KXNFLGAME-26DEC13BUFKC")
    assert nfl.start_time == datetime(2026, 12, 14, 1, 20, tzinfo=UTC)
    assert nfl.sources == (f"kalshi_milestone:{M_NFL}",)


def test_targets_the_catalogue_does_not_know_fall_back_to_the_ticker(slate: Any) -> None:
    catalogue, kalshi, _, structure = slate
    renamed = {
        t.id: attrs.evolve(t, name=f"{t.name} FC", abbreviation=f"X{t.abbreviation}")
        for t in structure.targets.values()
    }
    games, _ = kalshi_listings(kalshi, catalogue, attrs.evolve(structure, targets=renamed))
    nfl = next(g for g in games if g.event_id == "KXNFLGAME-26DEC13BUFKC")
    assert nfl.teams == (TeamClaim("BUF", "Buffalo"), TeamClaim("KC", "Kansas City"))
    assert nfl.sources == (f"kalshi_milestone:{M_NFL}",)  # the start is still the milestone's


def test_the_nba_nhl_pair_matcher_takes_the_milestones_start() -> None:
    root = DATA.parent.parent
    events, _ = parse_events(
        json.loads((root / "matching" / "straightforward" / "kalshi_events.json").read_text())
    )
    live = json.loads((root / "kalshi" / "rest" / "live" / "milestones.json").read_text())
    milestones, _ = parse_milestones(live)
    (game,), _ = kalshi_games(events, KalshiStructure.of(milestones))
    assert game.start_time == datetime(2026, 10, 20, 23, 30, tzinfo=UTC)
    (plain,), _ = kalshi_games(events)
    assert plain.start_time is None
    live["milestones"][0]["start_date"] = "2026-10-22T23:30:00Z"
    moved, _ = parse_milestones(live)
    games, (refused,) = kalshi_games(events, KalshiStructure.of(moved))
    assert games == []
    assert refused.reason_code is Reason.BAD_START_TIME
