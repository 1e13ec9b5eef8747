"""Polymarket US joins the matched events (issue 17): the slate of
tests/data/matching/leagues with its ``/v1/events`` body beside Kalshi's and Gamma's.

A game all three venues list is ONE event with three venues' contracts (NFL moneyline,
EPL 3-way, the MLB total at 8.5); a line two venues share is matched on those two; the
same teams on another date (a decoy) and a line only Polymarket US lists are reported.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arbees.kalshi.models import parse_events
from arbees.matching import Reason
from arbees.matching.catalogue import TeamCatalogue
from arbees.matching.events import (
    ContractKind,
    EventLeg,
    ListedContract,
    ListedGame,
    MarketType,
    TeamClaim,
    match_listings,
)
from arbees.matching.venue_listings import (
    build_catalogue,
    match_venue_events,
    polymarket_us_listings,
)
from arbees.polymarket.models import parse_gamma_events, parse_gamma_teams
from arbees.polymarket_us.models import UsEvent
from arbees.polymarket_us.models import parse_events as parse_us_events

DATA = Path(__file__).resolve().parent.parent / "data" / "matching" / "leagues"
US = "polymarket-us"


def body(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"), parse_float=Decimal)


def us_events(raw: Any) -> list[UsEvent]:
    events, refused = parse_us_events(raw)
    assert refused == []
    return events


@pytest.fixture(scope="module")
def catalogue() -> TeamCatalogue:
    teams, bad = parse_gamma_teams(body("gamma_teams.json"))
    assert bad == []
    return build_catalogue(teams)


@pytest.fixture(scope="module")
def report(catalogue: TeamCatalogue) -> Any:
    kalshi, k_bad = parse_events(body("kalshi_events.json"))
    gamma, g_bad = parse_gamma_events(body("gamma_events.json"))
    assert k_bad == []
    assert g_bad == []
    us = us_events(body("polymarket_us_events.json"))
    return match_venue_events(kalshi, gamma, catalogue, polymarket_us=us)


def match(report: Any, event_id: str) -> Any:
    return next(m for m in report.matches if m.event_id == event_id)


def us_legs(event: Any) -> list[EventLeg]:
    return [leg for leg in event.legs if leg.venue == US]


def test_a_three_venue_moneyline_is_one_event(report: Any) -> None:
    nfl = match(report, "NFL:20261206:BUF-KC:moneyline")
    assert nfl.venue_events == (
        ("kalshi", "KXNFLGAME-26DEC06BUFKC"),
        ("polymarket", "nfl-buf-kc-2026-12-06"),
        (US, "aec-nfl-buf-kc-2026-12-06"),
    )
    assert nfl.outcomes == ("NFL:BUF", "NFL:KC")
    # one two-sided instrument: YES pays on the Bills (its long side), NO on the Chiefs
    slug = "aec-nfl-buf-kc-2026-12-06"
    assert us_legs(nfl) == [
        EventLeg(US, slug, slug, "NFL:BUF", "no"),
        EventLeg(US, slug, slug, "NFL:BUF", "yes"),
    ]
    assert {leg.venue for leg in nfl.legs} == {"kalshi", "polymarket", US}
    evidence = next(e for e in nfl.evidence if e.startswith(US))
    assert "NFL:BUF by code ('buf')" in evidence
    assert "start 2026-12-06T21:25Z" in evidence


def test_a_three_venue_three_way_soccer_event(report: Any) -> None:
    epl = match(report, "EPL:20261206:MCI-MUN:moneyline")
    assert epl.outcomes == ("EPL:MCI", "draw", "EPL:MUN")
    assert {v for v, _ in epl.venue_events} == {"kalshi", "polymarket", US}
    yes = {leg.outcome: leg.instrument for leg in us_legs(epl) if leg.side == "yes"}
    assert yes == {
        "EPL:MUN": "aec-epl-mun-mci-2026-12-06-mun",
        "draw": "aec-epl-mun-mci-2026-12-06-draw",
        "EPL:MCI": "aec-epl-mun-mci-2026-12-06-mci",
    }
    assert len(epl.legs) == 18  # 3 venues x 3 outcomes x yes/no


def test_totals_at_shared_lines_and_a_line_one_venue_lists(report: Any) -> None:
    total = match(report, "MLB:20260926:BOS-NYY:total:8.5")
    assert {v for v, _ in total.venue_events} == {"kalshi", "polymarket", US}
    assert {leg.instrument for leg in us_legs(total)} == {"aec-mlb-nyy-bos-2026-09-26-total-8pt5"}
    nine = match(report, "MLB:20260926:BOS-NYY:total:9.5")
    assert {leg.venue for leg in nine.legs} == {"kalshi", US}
    alone = [u for u in report.unmatched if u.id.endswith("total-11pt5")]
    assert [(u.venue, u.reason) for u in alone] == [(US, Reason.LINE_ONE_VENUE)]
    ml = match(report, "MLB:20260926:BOS-NYY:moneyline")
    assert {v for v, _ in ml.venue_events} == {"kalshi", "polymarket", US}


def test_the_decoy_same_teams_another_date_is_reported_not_paired(report: Any) -> None:
    decoy = "aec-nfl-buf-kc-2026-12-20"
    assert all((US, decoy) not in m.venue_events for m in report.matches)
    found = [u for u in report.unmatched if u.id == decoy]
    assert [(u.reason, u.market_type) for u in found] == [(Reason.DATE_MISMATCH, "moneyline")]
    assert "2026-12-06" in found[0].detail


def test_spreads_are_reported_not_converted(report: Any) -> None:
    spread = [u for u in report.unmatched if u.id == "aec-nfl-buf-kc-2026-12-06-spread-kc-2pt5"]
    assert [(u.reason, u.market_type) for u in spread] == [(Reason.NOT_MONEYLINE, "spread")]


def test_polymarket_us_pairs_with_either_venue_alone(catalogue: TeamCatalogue) -> None:
    us = us_events(body("polymarket_us_events.json"))
    kalshi, _ = parse_events(body("kalshi_events.json"))
    gamma, _ = parse_gamma_events(body("gamma_events.json"))
    with_kalshi = match_venue_events(kalshi, [], catalogue, polymarket_us=us)
    with_gamma = match_venue_events([], gamma, catalogue, polymarket_us=us)
    for found, other in ((with_kalshi, "kalshi"), (with_gamma, "polymarket")):
        epl = match(found, "EPL:20261206:MCI-MUN:moneyline")
        assert {v for v, _ in epl.venue_events} == {other, US}
    assert "MLB:20260926:BOS-NYY:total:9.5" not in {m.event_id for m in with_gamma.matches}


def _slate_event(slug: str) -> dict[str, Any]:
    raw = body("polymarket_us_events.json")
    return copy.deepcopy(next(e for e in raw["events"] if e["slug"] == slug))


def test_names_listed_home_first_still_resolve(catalogue: TeamCatalogue) -> None:
    event = _slate_event("aec-mlb-nyy-bos-2026-09-26")
    for market in event["markets"]:  # the names crossed against the slug's codes
        market["away_team_name"], market["home_team_name"] = "Boston Red Sox", "New York Yankees"
    games, refused = polymarket_us_listings(us_events({"events": [event]}), catalogue)
    assert refused == []
    assert {(c.code, c.name) for c in games[0].teams} == {
        ("nyy", "New York Yankees"),
        ("bos", "Boston Red Sox"),
    }


def test_a_two_team_market_in_a_league_with_draws_is_refused(catalogue: TeamCatalogue) -> None:
    event = _slate_event("aec-epl-mun-mci-2026-12-06")
    market = event["markets"][0]
    market["marketSides"] = [
        {"description": "Manchester United", "long": True},
        {"description": "Manchester City", "long": False},
    ]
    games, refused = polymarket_us_listings(us_events({"events": [event]}), catalogue)
    assert [(u.id, u.reason) for u in refused] == [
        ("aec-epl-mun-mci-2026-12-06-mun", Reason.OUTCOMES_DIFFER)
    ]
    assert len(games[0].contracts) == 2  # draw and City: not a complete 3-way listing


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"marketSides": [{"description": "Over", "long": True}]}, Reason.MALFORMED),
        ({"question": "Yankees vs. Red Sox: O/U 7.5"}, Reason.MALFORMED),
        ({"closed": True}, Reason.CLOSED),
        ({"gameStartTime": "2026-09-27T23:10:00Z"}, Reason.BAD_START_TIME),
    ],
)
def test_bad_markets_are_refused_with_a_reason(
    catalogue: TeamCatalogue, change: dict[str, Any], reason: Reason
) -> None:
    event = _slate_event("aec-mlb-nyy-bos-2026-09-26")
    event["markets"][1].update(change)
    _, refused = polymarket_us_listings(us_events({"events": [event]}), catalogue)
    assert [u.reason for u in refused] == [reason]


def test_league_sources_must_agree(catalogue: TeamCatalogue) -> None:
    event = _slate_event("aec-nfl-buf-kc-2026-12-06")
    event["seriesSlug"] = "cfb"
    games, refused = polymarket_us_listings(us_events({"events": [event]}), catalogue)
    assert games == []
    assert [u.reason for u in refused] == [Reason.LEAGUE_MISMATCH]


def _game(venue: str, contracts: tuple[ListedContract, ...], league: str = "EPL") -> ListedGame:
    return ListedGame(
        venue=venue,
        event_id=f"{venue}-ev",
        league=league,
        market_type=MarketType.MONEYLINE,
        eastern_date=date(2026, 12, 6),
        start_time=None,
        teams=(TeamClaim("mun"), TeamClaim("mci")),
        contracts=contracts,
    )


def test_one_team_contract_covers_a_two_way_game_only(catalogue: TeamCatalogue) -> None:
    mun = ListedContract("a", "a", ContractKind.TEAM, TeamClaim("mun"))
    mci = ListedContract("b", "b", ContractKind.TEAM, TeamClaim("mci"))
    draw = ListedContract("c", "c", ContractKind.DRAW)
    full = _game("kalshi", (mun, mci, draw))
    lone = _game(US, (ListedContract("s", "s", ContractKind.TEAM, TeamClaim("mun")),))
    found = match_listings([full, lone], catalogue)
    assert found.matches == ()  # soccer: the lone contract's NO also pays on the draw
    assert {u.reason for u in found.unmatched} >= {Reason.INCOMPLETE}


def test_a_team_question_mentioning_the_draw_is_still_the_teams(
    catalogue: TeamCatalogue,
) -> None:
    event = _slate_event("aec-epl-mun-mci-2026-12-06")
    event["markets"][0]["question"] = "Will Manchester United win? A draw resolves No."
    event["markets"][2]["question"] = "Who wins the derby?"  # Yes/No naming no team
    games, refused = polymarket_us_listings(us_events({"events": [event]}), catalogue)
    assert [(u.id, u.reason) for u in refused] == [
        ("aec-epl-mun-mci-2026-12-06-mci", Reason.MALFORMED)
    ]
    kinds = sorted((c.kind.value, c.team.code) for c in games[0].contracts)
    assert kinds == [("draw", ""), ("team", "mun")]
