"""Every league both venues list: the multi-league slate in tests/data/matching/leagues.

An NFL game (winner + a spread at a shared line), college basketball (and a rematch three
days later that only Kalshi lists), EPL / Serie A / MLS 3-way winners (clubs sharing a city,
"Inter" and "Inter Miami"), an MLB winner and totals (8.5 on both venues, 7.5/9.5 on Kalshi
only, 10.5 on Polymarket only), decoys: the same teams on another date, a spread whose
question reads like the moneyline.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from arbees.kalshi.models import parse_events
from arbees.matching import Reason
from arbees.matching.catalogue import CatalogueRow, TeamCatalogue
from arbees.matching.events import (
    ContractKind,
    ListedContract,
    ListedGame,
    MarketType,
    TeamClaim,
    match_listings,
)
from arbees.matching.venue_listings import (
    build_catalogue,
    kalshi_listings,
    match_venue_events,
    polymarket_listings,
)
from arbees.polymarket.models import parse_gamma_events, parse_gamma_teams

DATA = Path(__file__).resolve().parent.parent / "data" / "matching" / "leagues"


def body(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"), parse_float=Decimal)


@pytest.fixture(scope="module")
def slate() -> Any:
    teams, bad_teams = parse_gamma_teams(body("gamma_teams.json"))
    assert bad_teams == []
    catalogue = build_catalogue(teams)
    kalshi, k_bad = parse_events(body("kalshi_events.json"))
    gamma, g_bad = parse_gamma_events(body("gamma_events.json"))
    assert k_bad == []
    assert g_bad == []
    return catalogue, kalshi, gamma


def gamma_token(gamma_body: Any, slug: str, question: str, outcome: str) -> str:
    for event in gamma_body:
        for market in event["markets"]:
            if event["slug"] == slug and market["question"] == question:
                labels = json.loads(market["outcomes"])
                return str(json.loads(market["clobTokenIds"])[labels.index(outcome)])
    raise KeyError((slug, question))


EXPECTED = {
    "MLB:20260926:BOS-NYY:moneyline",
    "MLB:20260926:BOS-NYY:total:8.5",
    "EPL:20261206:MCI-MUN:moneyline",
    "MLS:20261206:MIA-VAN:moneyline",
    "NCAAB:20261206:DUKE-UNC:moneyline",
    "NCAAB:20261206:NCST-WAKE:moneyline",
    "NFL:20261206:BUF-KC:moneyline",
    "NFL:20261206:BUF-KC:spread:KC:2.5",
    "SERIEA:20261206:INT-MIL:moneyline",
}


def test_slate_pairs_every_game_both_venues_list_and_reports_the_rest(slate: Any) -> None:
    catalogue, kalshi, gamma = slate
    report = match_venue_events(kalshi, gamma, catalogue)
    assert {m.event_id for m in report.matches} == EXPECTED
    unmatched = {(u.venue, u.id, u.reason) for u in report.unmatched}
    assert unmatched == {
        (
            "kalshi",
            "KXMLBTOTAL-26SEP261910NYYBOS@KXMLBTOTAL-26SEP261910NYYBOS-8",
            Reason.LINE_ONE_VENUE,
        ),
        (
            "kalshi",
            "KXMLBTOTAL-26SEP261910NYYBOS@KXMLBTOTAL-26SEP261910NYYBOS-10",
            Reason.LINE_ONE_VENUE,
        ),
        ("kalshi", "KXNFLSPREAD-26DEC06BUFKC@KXNFLSPREAD-26DEC06BUFKC-KC6", Reason.LINE_ONE_VENUE),
        ("kalshi", "KXNCAAMBGAME-26DEC09UNCDUKE", Reason.DATE_MISMATCH),
        ("polymarket", "nfl-buf-kc-2027-01-17", Reason.DATE_MISMATCH),
        (
            "polymarket",
            "mlb-nyy-bos-2026-09-26@"
            + next(
                m["conditionId"]
                for e in body("gamma_events.json")
                for m in e["markets"]
                if m["question"] == "Yankees vs. Red Sox: O/U 10.5"
            ),
            Reason.LINE_ONE_VENUE,
        ),
        (  # the spread whose question reads like the moneyline: whose line is it?
            next(
                ("polymarket", m["conditionId"], Reason.MALFORMED)
                for e in body("gamma_events.json")
                for m in e["markets"]
                if m["slug"] == "nfl-buf-kc-2026-12-06-spread-away-1pt5"
            )
        ),
    }
    counts = report.counts()
    assert counts[("MLB", "total")] == {"matched": 1, "unmatched": 3, "ambiguous": 0}
    assert counts[("NCAAB", "moneyline")] == {"matched": 2, "unmatched": 1, "ambiguous": 0}


def test_three_way_soccer_pairs_each_outcome_with_its_own_contracts(slate: Any) -> None:
    catalogue, kalshi, gamma = slate
    report = match_venue_events(kalshi, gamma, catalogue)
    event = next(m for m in report.matches if m.event_id == "EPL:20261206:MCI-MUN:moneyline")
    assert event.outcomes == ("EPL:MCI", "draw", "EPL:MUN")
    raw = body("gamma_events.json")
    slug = "epl-mun-mci-2026-12-06"
    expected = {
        ("kalshi", "KXEPLGAME-26DEC06MUNMCI-MUN", "EPL:MUN"),
        ("kalshi", "KXEPLGAME-26DEC06MUNMCI-MCI", "EPL:MCI"),
        ("kalshi", "KXEPLGAME-26DEC06MUNMCI-TIE", "draw"),
        (
            "polymarket",
            gamma_token(raw, slug, "Will Manchester United win on 2026-12-06?", "Yes"),
            "EPL:MUN",
        ),
        (
            "polymarket",
            gamma_token(raw, slug, "Will Manchester City win on 2026-12-06?", "Yes"),
            "EPL:MCI",
        ),
        (
            "polymarket",
            gamma_token(
                raw, slug, "Will Manchester United vs. Manchester City end in a draw?", "Yes"
            ),
            "draw",
        ),
    }
    assert {(leg.venue, leg.instrument, leg.outcome) for leg in event.legs} == expected
    assert {leg.side for leg in event.legs} == {"yes", "no"}
    assert len(event.legs) == 12
    assert any("game id 90005" in line for line in event.evidence)


def test_totals_and_spreads_use_the_over_and_the_favourite(slate: Any) -> None:
    catalogue, kalshi, gamma = slate
    report = match_venue_events(kalshi, gamma, catalogue)
    raw = body("gamma_events.json")
    total = next(m for m in report.matches if m.event_id.endswith("total:8.5"))
    assert total.outcomes == ("over", "under")
    assert total.line == Decimal("8.5")
    over = gamma_token(raw, "mlb-nyy-bos-2026-09-26", "Yankees vs. Red Sox: O/U 8.5", "Over")
    assert {(leg.venue, leg.instrument) for leg in total.legs} == {
        ("kalshi", "KXMLBTOTAL-26SEP261910NYYBOS-9"),
        ("polymarket", over),
    }
    assert {leg.outcome for leg in total.legs} == {"over"}
    spread = next(m for m in report.matches if m.market_type is MarketType.SPREAD)
    chiefs = gamma_token(raw, "nfl-buf-kc-2026-12-06", "Spread: Chiefs (-2.5)", "Chiefs")
    assert {(leg.venue, leg.instrument) for leg in spread.legs} == {
        ("kalshi", "KXNFLSPREAD-26DEC06BUFKC-KC3"),
        ("polymarket", chiefs),
    }


def test_the_spread_that_reads_like_a_moneyline_never_enters_the_winner_event(
    slate: Any,
) -> None:
    catalogue, kalshi, gamma = slate
    report = match_venue_events(kalshi, gamma, catalogue)
    raw = body("gamma_events.json")
    markets = {m["slug"]: m for e in raw for m in e["markets"]}
    moneyline = markets["nfl-buf-kc-2026-12-06"]
    decoy = markets["nfl-buf-kc-2026-12-06-spread-away-1pt5"]
    assert decoy["question"] == moneyline["question"] == "Bills vs. Chiefs"
    winner = next(m for m in report.matches if m.event_id == "NFL:20261206:BUF-KC:moneyline")
    poly = {leg.instrument for leg in winner.legs if leg.venue == "polymarket"}
    assert poly == set(json.loads(moneyline["clobTokenIds"]))
    assert not poly & set(json.loads(decoy["clobTokenIds"]))


def test_an_nfl_winner_notes_that_a_tie_pays_neither_team(slate: Any) -> None:
    catalogue, kalshi, gamma = slate
    report = match_venue_events(kalshi, gamma, catalogue)
    by_id = {m.event_id: m for m in report.matches}
    assert any("tie is possible" in n for n in by_id["NFL:20261206:BUF-KC:moneyline"].notes)
    assert not any("tie" in n for n in by_id["NCAAB:20261206:DUKE-UNC:moneyline"].notes)


def test_result_does_not_depend_on_input_order(slate: Any) -> None:
    catalogue, kalshi, gamma = slate
    a = match_venue_events(kalshi, gamma, catalogue)
    b = match_venue_events(list(reversed(kalshi)), list(reversed(gamma)), catalogue)
    assert a == b


def test_league_and_market_type_filters(slate: Any) -> None:
    catalogue, kalshi, gamma = slate
    report = match_venue_events(
        kalshi, gamma, catalogue, leagues=("NFL",), market_types=("spread",)
    )
    assert [m.event_id for m in report.matches] == ["NFL:20261206:BUF-KC:spread:KC:2.5"]
    assert {(u.league, u.market_type) for u in report.unmatched} == {("NFL", "spread")}
    assert report.counts()[("NFL", "spread")] == {"matched": 1, "unmatched": 2, "ambiguous": 0}


# ---- the catalogue's hard cases ---------------------------------------------------------


def test_clubs_sharing_a_city_or_a_short_name_never_resolve_by_it(slate: Any) -> None:
    catalogue = slate[0]
    assert catalogue.by_name("EPL", "Manchester").team is None
    assert catalogue.by_name("EPL", "Man United").team.id == "EPL:MUN"
    assert catalogue.by_name("SERIEA", "Inter").team.id == "SERIEA:INT"
    assert catalogue.by_name("MLS", "Inter").team is None  # only "Inter Miami" in MLS
    assert catalogue.by_name("MLS", "Inter Miami").team.id == "MLS:MIA"
    assert catalogue.by_name("NCAAB", "North Carolina").team.id == "NCAAB:UNC"
    assert catalogue.by_name("NCAAB", "NC State").team.id == "NCAAB:NCST"


def test_a_name_two_teams_share_is_ambiguous_never_guessed() -> None:
    catalogue = TeamCatalogue(
        [
            CatalogueRow("EPL", "MUN", "Manchester United", ("United",)),
            CatalogueRow("EPL", "NEW", "Newcastle United", ("United",)),
        ]
    )
    found = catalogue.by_name("EPL", "United")
    assert found.team is None
    assert found.ambiguous == ("EPL:MUN", "EPL:NEW")


def listing(venue: str, event: str, **kw: Any) -> ListedGame:
    base = ListedGame(
        venue=venue,
        event_id=event,
        league="EPL",
        market_type=MarketType.MONEYLINE,
        eastern_date=__import__("datetime").date(2026, 12, 6),
        start_time=None,
        teams=(TeamClaim("MUN"), TeamClaim("MCI")),
        contracts=tuple(
            ListedContract(f"{event}-{o}", f"{event}-{o}", k, TeamClaim(c))
            for o, k, c in (
                ("MUN", ContractKind.TEAM, "MUN"),
                ("MCI", ContractKind.TEAM, "MCI"),
                ("TIE", ContractKind.DRAW, ""),
            )
        ),
    )
    return attrs.evolve(base, **kw)


CAT = TeamCatalogue(
    [
        CatalogueRow("EPL", "MUN", "Manchester United", ("Man United",)),
        CatalogueRow("EPL", "MCI", "Manchester City", ("Man City",)),
    ]
)


def test_a_third_venue_joins_the_same_event() -> None:
    games = [listing("kalshi", "K"), listing("polymarket", "P"), listing("polymarket-us", "U")]
    report = match_listings(games, CAT)
    (event,) = report.matches
    assert tuple(v for v, _ in event.venue_events) == ("kalshi", "polymarket", "polymarket-us")
    assert len(event.legs) == 18


def test_two_candidates_on_one_venue_are_ambiguous() -> None:
    games = [listing("kalshi", "K"), listing("polymarket", "P1"), listing("polymarket", "P2")]
    report = match_listings(games, CAT)
    assert report.matches == ()
    assert {(u.id, u.reason) for u in report.unmatched} == {
        ("K", Reason.AMBIGUOUS),
        ("P1", Reason.AMBIGUOUS),
        ("P2", Reason.AMBIGUOUS),
    }


def test_a_two_way_winner_never_pairs_with_a_three_way_one() -> None:
    two_way = listing("polymarket", "P")
    two_way = attrs.evolve(two_way, contracts=two_way.contracts[:2])
    report = match_listings([listing("kalshi", "K"), two_way], CAT)
    assert report.matches == ()
    assert ("P", Reason.OUTCOMES_DIFFER) in {(u.id, u.reason) for u in report.unmatched}


def test_code_and_name_naming_different_teams_is_a_conflict() -> None:
    bad = listing("polymarket", "P", teams=(TeamClaim("MUN", "Man City"), TeamClaim("MCI")))
    report = match_listings([listing("kalshi", "K"), bad], CAT)
    assert report.matches == ()
    assert ("P", Reason.TEAM_CONFLICT) in {(u.id, u.reason) for u in report.unmatched}


def test_whole_number_lines_are_refused() -> None:
    def totals(venue: str, line: str) -> ListedGame:
        return listing(
            venue,
            venue[0].upper(),
            market_type=MarketType.TOTAL,
            contracts=(
                ListedContract(f"{venue}-o", f"{venue}-m", ContractKind.OVER, line=Decimal(line)),
            ),
        )

    report = match_listings([totals("kalshi", "3"), totals("polymarket", "3")], CAT)
    assert report.matches == ()
    assert {u.reason for u in report.unmatched} == {Reason.PUSH_LINE}
    report = match_listings([totals("kalshi", "2.5"), totals("polymarket", "2.5")], CAT)
    assert [m.outcomes for m in report.matches] == [("over", "under")]


def test_start_times_too_far_apart_do_not_pair() -> None:
    from datetime import UTC, datetime

    k = listing("kalshi", "K", start_time=datetime(2026, 12, 6, 15, 0, tzinfo=UTC))
    p = listing("polymarket", "P", start_time=datetime(2026, 12, 6, 20, 0, tzinfo=UTC))
    report = match_listings([k, p], CAT)
    assert report.matches == ()
    assert {u.reason for u in report.unmatched} == {Reason.START_WINDOW}


def test_kalshi_total_codes_split_only_one_way(slate: Any) -> None:
    catalogue = TeamCatalogue(
        [
            CatalogueRow("MLB", "NY", "Team NY"),
            CatalogueRow("MLB", "YBOS", "Team YBOS"),
            CatalogueRow("MLB", "NYY", "Yankees"),
            CatalogueRow("MLB", "BOS", "Red Sox"),
        ]
    )
    kalshi = [e for e in slate[1] if e.series_ticker == "KXMLBTOTAL"]
    games, refused = kalshi_listings(kalshi, catalogue)
    assert games == []
    assert [u.reason for u in refused] == [Reason.UNKNOWN_TEAM]
    games, refused = kalshi_listings(kalshi, slate[0])
    assert refused == []
    assert games[0].teams == (TeamClaim("NYY"), TeamClaim("BOS"))


def test_unknown_series_and_leagues_are_reported(slate: Any) -> None:
    raw = body("gamma_events.json")
    raw[0]["slug"] = "xfl-buf-kc-2026-12-06"
    raw[0]["seriesSlug"] = "xfl"
    raw[0]["tags"] = []
    events, _ = parse_gamma_events(raw)
    games, refused = polymarket_listings(events[:1])
    assert games == []
    assert [u.reason for u in refused] == [Reason.UNKNOWN_LEAGUE]


def test_cli_audits_every_league_with_counts_and_evidence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from arbees.cli import main

    args = [
        "match",
        "--kalshi",
        str(DATA / "kalshi_events.json"),
        "--polymarket",
        str(DATA / "gamma_events.json"),
        "--teams",
        str(DATA / "gamma_teams.json"),
    ]
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {m["event_id"] for m in doc["matches"]} == EXPECTED
    summary = {(s["league"], s["market_type"]): s for s in doc["summary"]}
    assert summary[("MLB", "total")]["matched"] == 1
    assert summary[("MLB", "total")]["unmatched"] == 3
    epl = next(m for m in doc["matches"] if m["league"] == "EPL")
    assert any("by code ('mun')" in line for line in epl["evidence"])
    assert len(epl["contracts"]) == 12
    assert main([*args, "--league", "EPL"]) == 0
    text = capsys.readouterr().out
    assert "EPL:20261206:MCI-MUN:moneyline" in text
    assert "NFL" not in text
    with pytest.raises(SystemExit):
        main([*args, "--league", "XFL"])
    assert main([*args[:-1], str(DATA / "missing.json")]) == 2


def _nfl_event_with(question: str, line: str, smt: str = "spreads") -> Any:
    raw = [e for e in body("gamma_events.json") if e["slug"] == "nfl-buf-kc-2026-12-06"]
    market = next(m for m in raw[0]["markets"] if m["slug"].endswith("home-2pt5"))
    market.update(question=question, line=line, sportsMarketType=smt)
    if smt == "totals":
        market["outcomes"] = '["Over", "Under"]'
    raw[0]["markets"] = [market]
    events, bad = parse_gamma_events(raw)
    assert bad == []
    return events


def test_a_spread_or_total_whose_question_disagrees_with_its_line_is_refused() -> None:
    for question, line, smt in (
        ("Spread: Bills (-2.5)", "-2.5", "spreads"),  # the line is the Chiefs' (first outcome)
        ("Spread: Chiefs (-3.5)", "-2.5", "spreads"),
        ("Bills vs. Chiefs: O/U 47.5", "46.5", "totals"),
    ):
        games, refused = polymarket_listings(_nfl_event_with(question, line, smt))
        assert games == [], question
        assert [u.reason for u in refused] == [Reason.MALFORMED], question


def test_a_positive_spread_line_makes_the_other_outcome_the_favourite() -> None:
    # outcomes are ["Chiefs", "Bills"]: Chiefs +2.5 means the Bills must win by more than 2.5
    games, refused = polymarket_listings(_nfl_event_with("Spread: Chiefs (+2.5)", "2.5"))
    assert refused == []
    (contract,) = games[0].contracts
    assert contract.team == TeamClaim(name="Bills")
    assert contract.line == Decimal("2.5")


def test_cli_takes_one_body_per_series(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from arbees.cli import main

    raw = json.loads((DATA / "kalshi_events.json").read_text(encoding="utf-8"))
    files = []
    for series in sorted({e["series_ticker"] for e in raw["events"]}):
        path = tmp_path / f"{series}.json"
        events = [e for e in raw["events"] if e["series_ticker"] == series]
        path.write_text(json.dumps({"events": events, "cursor": ""}), encoding="utf-8")
        files += ["--kalshi", str(path)]
    args = ["match", *files, "--polymarket", str(DATA / "gamma_events.json")]
    assert len(files) > 4
    assert main([*args, "--teams", str(DATA / "gamma_teams.json"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {m["event_id"] for m in doc["matches"]} == EXPECTED


def test_a_doubleheader_pairs_by_start_time_and_a_kalshi_hhmm_is_its_start(slate: Any) -> None:
    from datetime import UTC, datetime

    catalogue, kalshi, _ = slate
    game = next(e for e in kalshi if e.event_ticker == "KXMLBGAME-26SEP261910NYYBOS")
    ticker = "KXMLBGAME-26SEP261310NYYBOS"
    early = attrs.evolve(
        game,
        event_ticker=ticker,
        markets=tuple(
            attrs.evolve(m, ticker=m.ticker.replace(game.event_ticker, ticker))
            for m in game.markets
        ),
    )
    (listed,), refused = kalshi_listings([early], catalogue)
    assert refused == []
    assert listed.start_time == datetime(2026, 9, 26, 17, 10, tzinfo=UTC)
    first = attrs.evolve(
        listed,
        venue="polymarket",
        event_id="G1",
        start_time=datetime(2026, 9, 26, 17, 5, tzinfo=UTC),
    )
    second = attrs.evolve(
        first, event_id="G2", start_time=datetime(2026, 9, 26, 23, 10, tzinfo=UTC)
    )
    report = match_listings([listed, first, second], catalogue)
    (event,) = report.matches
    assert dict(event.venue_events)["polymarket"] == "G1"
    assert {(u.id, u.reason) for u in report.unmatched} == {("G2", Reason.START_WINDOW)}


def test_a_soccer_yes_no_spread_in_a_more_markets_event_pairs_with_kalshis(slate: Any) -> None:
    # shapes as Gamma lists soccer spreads: a separate "... - More Markets" event whose
    # spread markets are Yes/No, the team and line in the question
    catalogue = slate[0]
    raw = next(e for e in body("gamma_events.json") if e["slug"] == "epl-mun-mci-2026-12-06")
    more = dict(raw, slug="epl-mun-mci-2026-12-06-more-markets", id="1")
    more["title"] = "Manchester United vs. Manchester City - More Markets"
    market = dict(raw["markets"][2])  # a Yes/No market of the event, re-purposed
    market.update(question="Spread: Manchester City (-1.5)", sportsMarketType="spreads", line=-1.5)
    more["markets"] = [market]
    gamma, bad = parse_gamma_events([more])
    assert bad == []
    k_raw = next(
        e for e in body("kalshi_events.json")["events"] if e["series_ticker"] == "KXEPLGAME"
    )
    event = "KXEPLSPREAD-26DEC06MUNMCI"
    k_market = dict(
        k_raw["markets"][1],
        ticker=f"{event}-MCI2",
        event_ticker=event,
        strike_type="greater",
        floor_strike=Decimal("1.5"),
    )
    kalshi, _ = parse_events(
        {
            "events": [
                dict(k_raw, event_ticker=event, series_ticker="KXEPLSPREAD", markets=[k_market])
            ]
        }
    )
    report = match_venue_events(kalshi, gamma, catalogue)
    (match,) = report.matches
    assert match.event_id == "EPL:20261206:MCI-MUN:spread:MCI:1.5"
    yes_token = json.loads(market["clobTokenIds"])[0]
    assert {(leg.venue, leg.instrument) for leg in match.legs} == {
        ("kalshi", f"{event}-MCI2"),
        ("polymarket", yes_token),
    }


def test_a_kalshi_line_whose_ticker_suffix_disagrees_with_its_strike_is_refused(
    slate: Any,
) -> None:
    catalogue, kalshi, _ = slate
    total = next(e for e in kalshi if e.series_ticker == "KXMLBTOTAL")
    wrong = attrs.evolve(
        total,
        markets=(attrs.evolve(total.markets[0], floor_strike=Decimal("8.5")),),  # "-8" is 7.5
    )
    games, refused = kalshi_listings([wrong], catalogue)
    assert games == []
    assert [u.reason for u in refused] == [Reason.BAD_TICKER]
