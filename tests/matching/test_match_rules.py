"""Matcher rules on hand-built inputs, and the order-independence property."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from match_fixtures import kalshi_games_of, load, polymarket_games_of

from arbees.matching import (
    POSTPONEMENT_NOTE,
    KalshiGame,
    KalshiTeamMarket,
    MatchReport,
    PolymarketGame,
    PolymarketOutcome,
    Reason,
    Venue,
    match_games,
)
from arbees.matching.eastern import eastern

DAY = date(2026, 10, 20)
START = datetime(2026, 10, 21, 0, 0, tzinfo=UTC)  # 8pm ET on DAY


def kalshi(
    away: str = "OKC",
    home: str = "SAS",
    *,
    day: date = DAY,
    league: str = "NBA",
    start: datetime | None = None,
    away_title: str = "",
    home_title: str = "",
) -> KalshiGame:
    series = f"KX{league}GAME"
    event = f"{series}-{day.strftime('%y%b%d').upper()}{away}{home}"
    return KalshiGame(
        event_ticker=event,
        series_ticker=series,
        league=league,
        eastern_date=day,
        away=KalshiTeamMarket(f"{event}-{away}", away, away_title, "active"),
        home=KalshiTeamMarket(f"{event}-{home}", home, home_title, "active"),
        start_time=start,
    )


def poly(
    a: str = "Thunder",
    b: str = "Spurs",
    *,
    cid: str = "0xc1",
    league: str = "NBA",
    start: datetime | None = START,
    slug_date: date | None = DAY,
    kind: str | None = "moneyline",
    question: str | None = None,
    tokens: tuple[str, str] = ("111", "222"),
    line: str | None = None,
) -> PolymarketGame:
    return PolymarketGame(
        event_slug=f"{league.lower()}-x-y-{DAY.isoformat()}",
        market_id=cid,
        condition_id=cid,
        question=question if question is not None else f"{a} vs. {b}",
        league=league,
        outcomes=(PolymarketOutcome(a, tokens[0]), PolymarketOutcome(b, tokens[1])),
        start_time=start,
        slug_date=slug_date,
        sports_market_type=kind,
        line=line,
    )


def reasons(report: MatchReport) -> set[tuple[str, str, str]]:
    return {(r.venue.value, r.id, r.reason_code.value) for r in report.rejections}


def test_basic_pairing_and_yes_no_equivalence() -> None:
    report = match_games([kalshi()], [poly(b="Spurs", a="Thunder", tokens=("7", "8"))])
    assert report.rejections == ()
    (game,) = report.matches
    assert game.away.team_id == "NBA:OKC"
    assert game.away.kalshi_ticker == "KXNBAGAME-26OCT20OKCSAS-OKC"
    assert game.away.polymarket_token_id == "7"
    assert game.team("NBA:SAS").polymarket_token_id == "8"
    assert game.opponent("NBA:OKC").team_id == "NBA:SAS"
    assert game.opponent("NBA:SAS").team_id == "NBA:OKC"
    with pytest.raises(KeyError):
        game.team("NBA:BOS")
    assert game.notes[0] == POSTPONEMENT_NOTE
    assert game.start_time == START
    assert game.eastern_date == DAY


@pytest.mark.parametrize(
    ("kalshi_start", "window", "matched"),
    [
        (datetime(2026, 10, 20, 20, 0, tzinfo=eastern()), timedelta(hours=3), True),
        (datetime(2026, 10, 20, 22, 59, tzinfo=eastern()), timedelta(hours=3), True),
        (datetime(2026, 10, 20, 23, 30, tzinfo=eastern()), timedelta(hours=3), False),
        (datetime(2026, 10, 20, 13, 0, tzinfo=eastern()), timedelta(hours=3), False),
        (datetime(2026, 10, 20, 19, 0, tzinfo=eastern()), timedelta(minutes=30), False),
        (None, timedelta(0), True),
    ],
)
def test_start_window(kalshi_start: datetime | None, window: timedelta, matched: bool) -> None:
    report = match_games([kalshi(start=kalshi_start)], [poly()], start_window=window)
    assert bool(report.matches) is matched
    if not matched:
        assert {r.reason_code for r in report.rejections} == {Reason.START_WINDOW}


def test_start_window_separates_two_games_on_one_day() -> None:
    early = datetime(2026, 10, 20, 17, 0, tzinfo=UTC)
    late = datetime(2026, 10, 21, 0, 0, tzinfo=UTC)
    ks = [
        attrs.evolve(kalshi(start=early), event_ticker="E1"),
        attrs.evolve(kalshi(start=late), event_ticker="E2"),
    ]
    ps = [poly(cid="0xa", start=late), poly(cid="0xb", start=early, tokens=("3", "4"))]
    report = match_games(ks, ps)
    pairs = {(m.kalshi_event_ticker, m.polymarket_condition_id) for m in report.matches}
    assert pairs == {("E1", "0xb"), ("E2", "0xa")}


def test_date_comes_from_gamestarttime_in_eastern_not_utc() -> None:
    # 00:30 UTC on Oct 21 is 8:30pm ET on Oct 20
    late = datetime(2026, 10, 21, 0, 30, tzinfo=UTC)
    assert match_games([kalshi()], [poly(start=late, slug_date=None)]).matches
    nxt = kalshi(day=date(2026, 10, 21))
    report = match_games([nxt], [poly(start=late, slug_date=None)])
    assert report.matches == ()
    assert reasons(report) == {
        ("kalshi", nxt.event_ticker, "date_mismatch"),
        ("polymarket", "0xc1", "date_mismatch"),
    }


def test_slug_date_is_the_fallback_and_no_date_rejects() -> None:
    assert match_games([kalshi()], [poly(start=None)]).matches
    report = match_games([kalshi()], [poly(start=None, slug_date=None)])
    assert ("polymarket", "0xc1", "no_date") in reasons(report)


def test_yes_sub_title_conflict_and_fallback() -> None:
    conflict = kalshi(away_title="Boston")
    report = match_games([conflict], [poly()])
    assert reasons(report) >= {("kalshi", conflict.event_ticker, "team_conflict")}
    # an unknown code resolves through yes_sub_title; both agreeing is fine
    fallback = kalshi(away="OKL", away_title="Oklahoma City")
    assert match_games([fallback], [poly()]).matches
    agree = kalshi(away_title="Oklahoma City", home_title="San Antonio")
    assert match_games([agree], [poly()]).matches


def test_unknown_and_ambiguous_team_names() -> None:
    report = match_games([kalshi(away="ZZZ")], [poly(a="Los Angeles")])
    details = {r.id: r.detail for r in report.rejections if r.reason_code is Reason.UNKNOWN_TEAM}
    assert "ZZZ" in details["KXNBAGAME-26OCT20ZZZSAS"]
    assert "ambiguous" in details["0xc1"]
    assert "NBA:LAC" in details["0xc1"]


def test_codes_resolve_within_league() -> None:
    nhl = kalshi("UTA", "PHI", league="NHL")
    nba = kalshi("UTA", "PHI", league="NBA")
    ps = [
        poly("Flyers", "Mammoth", cid="0xnhl", league="NHL"),
        poly("76ers", "Jazz", cid="0xnba", tokens=("5", "6")),
    ]
    report = match_games([nhl, nba], ps)
    assert report.rejections == ()
    pairs = {(m.league, m.kalshi_event_ticker, m.polymarket_condition_id) for m in report.matches}
    assert pairs == {("NHL", nhl.event_ticker, "0xnhl"), ("NBA", nba.event_ticker, "0xnba")}


def test_league_mismatch_is_diagnosed() -> None:
    # An NBA game on Kalshi, filed under NHL on Polymarket with city names as outcomes:
    # never paired across leagues, but the report says what it saw.
    k = kalshi("UTA", "PHI")
    p = poly("Utah", "Philadelphia", league="NHL")
    report = match_games([k], [p])
    assert report.matches == ()
    assert reasons(report) == {
        ("kalshi", k.event_ticker, "league_mismatch"),
        ("polymarket", "0xc1", "league_mismatch"),
    }


@pytest.mark.parametrize(
    ("game", "reason"),
    [
        (poly(kind="spreads"), Reason.NOT_MONEYLINE),
        (poly(kind=None, question="Spread: Thunder (-5.5)"), Reason.NOT_MONEYLINE),
        (poly(kind=None, line="-5.5"), Reason.NOT_MONEYLINE),
        (poly(question="Thunder vs. Spurs: 1H Moneyline"), Reason.NOT_MONEYLINE),
        (poly("Over", "Under", kind=None), Reason.NOT_MONEYLINE),
        (poly("Thunder", "Thunder"), Reason.SAME_TEAM),
        (poly(tokens=("9", "9")), Reason.DUPLICATE_TOKEN),
        (poly(tokens=("", "9")), Reason.MISSING_TOKEN),
        (poly(league="MLB"), Reason.UNKNOWN_LEAGUE),
        (poly(start=datetime(2026, 10, 21)), Reason.BAD_START_TIME),
    ],
)
def test_polymarket_market_rules(game: PolymarketGame, reason: Reason) -> None:
    report = match_games([kalshi()], [game])
    assert report.matches == ()
    assert (Venue.POLYMARKET, game.id, reason) in {
        (r.venue, r.id, r.reason_code) for r in report.rejections
    }


def test_untyped_market_with_two_teams_is_a_moneyline() -> None:
    assert match_games([kalshi()], [poly(kind=None)]).matches
    assert match_games([kalshi()], [poly(line="0")]).matches  # typed: a line field is harmless


@pytest.mark.parametrize(
    ("game", "reason"),
    [
        (kalshi("OKC", "OKC"), Reason.SAME_TEAM),
        (kalshi(league="MLB"), Reason.UNKNOWN_LEAGUE),
        (kalshi(start=datetime(2026, 10, 20, 20, 0)), Reason.BAD_START_TIME),
    ],
)
def test_kalshi_game_rules(game: KalshiGame, reason: Reason) -> None:
    report = match_games([game], [poly()])
    assert report.matches == ()
    assert (Venue.KALSHI, game.event_ticker, reason) in {
        (r.venue, r.id, r.reason_code) for r in report.rejections
    }


def test_ambiguity_in_both_directions() -> None:
    k1 = kalshi()
    k2 = attrs.evolve(k1, event_ticker="OTHER")
    report = match_games([k1, k2], [poly()])
    assert report.matches == ()
    assert reasons(report) == {
        ("kalshi", k1.event_ticker, "ambiguous"),
        ("kalshi", "OTHER", "ambiguous"),
        ("polymarket", "0xc1", "ambiguous"),
    }


def test_duplicates_identical_are_merged_different_are_rejected() -> None:
    assert len(match_games([kalshi(), kalshi()], [poly(), poly()]).matches) == 1
    report = match_games([kalshi()], [poly(), poly(tokens=("3", "4"))])
    assert report.matches == ()
    assert ("polymarket", "0xc1", "duplicate_id") in reasons(report)


def test_negative_window_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="negative"):
        match_games([], [], start_window=timedelta(minutes=-1))


def _slate() -> tuple[list[KalshiGame], list[PolymarketGame]]:
    kalshi_body, gamma_body = load("slate")
    ks, _ = kalshi_games_of(kalshi_body)
    ps, _ = polymarket_games_of(gamma_body)
    return ks, ps


SLATE_K, SLATE_P = _slate()
BASELINE = match_games(SLATE_K, SLATE_P)


@settings(max_examples=60, deadline=None)
@given(st.permutations(SLATE_K), st.permutations(SLATE_P))
def test_shuffling_inputs_does_not_change_the_report(
    ks: list[KalshiGame], ps: list[PolymarketGame]
) -> None:
    assert match_games(ks, ps) == BASELINE


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_duplicated_inputs_do_not_change_the_matches(data: st.DataObject) -> None:
    extra_k = data.draw(st.lists(st.sampled_from(SLATE_K), max_size=5))
    extra_p = data.draw(st.lists(st.sampled_from(SLATE_P), max_size=5))
    ks = data.draw(st.permutations(SLATE_K + extra_k))
    ps = data.draw(st.permutations(SLATE_P + extra_p))
    assert match_games(ks, ps) == BASELINE


def test_baseline_is_non_trivial() -> None:
    assert len(BASELINE.matches) == 11
    assert len(BASELINE.rejections) > 5
