"""The matcher on venue-shaped fixtures: one table row per real-world trap.

Each case in tests/data/matching/<case>/ holds a Kalshi ``/events?with_nested_markets=true``
body and a Gamma ``/events`` body. The expected matches name, per team, the Kalshi market
and the Polymarket outcome whose token must be paired with it; the expected rejections name
the input and the reason. ``slate`` is all cases in one pair of bodies and must give the
union of the answers (the cases do not interfere).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
from match_fixtures import gamma_market, load, match_bodies, token_of

from arbees.matching import (
    POSTPONEMENT_NOTE,
    MatchReport,
    Reason,
    Venue,
)

PolyRef = tuple[str, str]  # (event slug, market question)


@attrs.frozen
class M:
    kalshi_event: str
    poly: PolyRef
    day: date
    start: datetime
    away: tuple[str, str]  # (team id, Polymarket outcome label)
    home: tuple[str, str]


@attrs.frozen
class R:
    venue: Venue
    ref: str | PolyRef  # Kalshi event ticker, or a Polymarket market reference
    reason: Reason


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


K, P = Venue.KALSHI, Venue.POLYMARKET
DAL = ("nba-dal-hou-2026-10-25", "Mavericks vs. Rockets")

CASES: dict[str, tuple[list[M], list[R]]] = {
    "straightforward": (
        [
            M(
                "KXNBAGAME-26OCT20OKCSAS",
                ("nba-okc-sas-2026-10-20", "Thunder vs. Spurs"),
                date(2026, 10, 20),
                _utc(2026, 10, 21, 0, 0),
                ("NBA:OKC", "Thunder"),
                ("NBA:SAS", "Spurs"),
            )
        ],
        [],
    ),
    "order_swapped": (
        [
            M(
                "KXNBAGAME-26OCT21CHIMIL",
                ("nba-chi-mil-2026-10-21", "Bucks vs. Bulls"),
                date(2026, 10, 21),
                _utc(2026, 10, 22, 0, 0),
                ("NBA:CHI", "Bulls"),
                ("NBA:MIL", "Bucks"),
            )
        ],
        [],
    ),
    # 10:30pm ET on Oct 22 is Oct 23 in UTC; the same teams play again on Oct 23.
    "eastern_boundary": (
        [
            M(
                "KXNBAGAME-26OCT22PHXPOR",
                ("nba-phx-por-2026-10-22", "Suns vs. Trail Blazers"),
                date(2026, 10, 22),
                _utc(2026, 10, 23, 2, 30),
                ("NBA:PHX", "Suns"),
                ("NBA:POR", "Trail Blazers"),
            ),
            M(
                "KXNBAGAME-26OCT23PHXPOR",
                ("nba-phx-por-2026-10-23", "Suns vs. Trail Blazers"),
                date(2026, 10, 23),
                _utc(2026, 10, 24, 2, 0),
                ("NBA:PHX", "Suns"),
                ("NBA:POR", "Trail Blazers"),
            ),
        ],
        [],
    ),
    "twice_in_week": (
        [
            M(
                "KXNHLGAME-26OCT22MTLTOR",
                ("nhl-mtl-tor-2026-10-22", "Canadiens vs. Maple Leafs"),
                date(2026, 10, 22),
                _utc(2026, 10, 22, 23, 0),
                ("NHL:MTL", "Canadiens"),
                ("NHL:TOR", "Maple Leafs"),
            ),
            M(
                "KXNHLGAME-26OCT25TORMTL",
                ("nhl-tor-mtl-2026-10-25", "Maple Leafs vs. Montréal Canadiens"),
                date(2026, 10, 25),
                _utc(2026, 10, 25, 23, 0),
                ("NHL:TOR", "Maple Leafs"),
                ("NHL:MTL", "Montréal Canadiens"),
            ),
        ],
        [],
    ),
    # "Los Angeles C" (Kalshi) vs "LA Clippers" (Polymarket, no sportsMarketType);
    # "Montreal"/"St Louis" vs "Montréal Canadiens"/"St. Louis Blues".
    "alias_spelling": (
        [
            M(
                "KXNBAGAME-26OCT24LACLAL",
                ("nba-lac-lal-2026-10-24", "Los Angeles Lakers vs. LA Clippers"),
                date(2026, 10, 24),
                _utc(2026, 10, 25, 2, 30),
                ("NBA:LAC", "LA Clippers"),
                ("NBA:LAL", "Los Angeles Lakers"),
            ),
            M(
                "KXNHLGAME-26OCT24MTLSTL",
                ("nhl-mtl-stl-2026-10-24", "Montréal Canadiens vs. St. Louis Blues"),
                date(2026, 10, 24),
                _utc(2026, 10, 25, 0, 0),
                ("NHL:MTL", "Montréal Canadiens"),
                ("NHL:STL", "St. Louis Blues"),
            ),
        ],
        [],
    ),
    # Spread (typed, and untyped with the two teams as outcomes), total, 1H moneyline,
    # a "1st Half Winner" mislabelled as moneyline, and a player prop: none may be taken.
    "third_market": (
        [
            M(
                "KXNBAGAME-26OCT25DALHOU",
                DAL,
                date(2026, 10, 25),
                _utc(2026, 10, 26, 0, 0),
                ("NBA:DAL", "Mavericks"),
                ("NBA:HOU", "Rockets"),
            )
        ],
        [
            R(P, (DAL[0], "Spread: Mavericks (-4.5)"), Reason.NOT_MONEYLINE),
            R(P, (DAL[0], "Spread: Rockets (+6.5)"), Reason.NOT_MONEYLINE),
            R(P, (DAL[0], "Mavericks vs. Rockets: O/U 224.5"), Reason.NOT_MONEYLINE),
            R(P, (DAL[0], "Mavericks vs. Rockets: 1H Moneyline"), Reason.NOT_MONEYLINE),
            R(P, (DAL[0], "Mavericks vs. Rockets: 1st Half Winner"), Reason.NOT_MONEYLINE),
            R(P, (DAL[0], "Luka Dončić: Points O/U 31.5"), Reason.NOT_MONEYLINE),
        ],
    ),
    "missing_team": (
        [],
        [
            R(K, "KXNBAGAME-26OCT26BOSNYK", Reason.MISSING_TEAM_MARKET),
            R(P, ("nba-bos-nyk-2026-10-26", "Celtics vs. Knicks"), Reason.NO_COUNTERPART),
            R(P, ("nba-mia-orl-2026-10-26", "Heat vs. Magic"), Reason.MISSING_TOKEN),
            R(K, "KXNBAGAME-26OCT26MIAORL", Reason.NO_COUNTERPART),
        ],
    ),
    "ambiguous": (
        [],
        [
            R(K, "KXNHLGAME-26OCT27NYRNYI", Reason.AMBIGUOUS),
            R(P, ("nhl-nyr-nyi-2026-10-27", "Rangers vs. Islanders"), Reason.AMBIGUOUS),
            R(
                P,
                ("nhl-nyr-nyi-2026-10-27-2", "New York Rangers vs. New York Islanders"),
                Reason.AMBIGUOUS,
            ),
        ],
    ),
    # UTA and PHI are codes in both leagues; both games are on the same night.
    "league_collision": (
        [
            M(
                "KXNBAGAME-26OCT28UTAPHI",
                ("nba-uta-phi-2026-10-28", "Jazz vs. 76ers"),
                date(2026, 10, 28),
                _utc(2026, 10, 28, 23, 0),
                ("NBA:UTA", "Jazz"),
                ("NBA:PHI", "76ers"),
            ),
            M(
                "KXNHLGAME-26OCT28UTAPHI",
                ("nhl-uta-phi-2026-10-28", "Mammoth vs. Flyers"),
                date(2026, 10, 28),
                _utc(2026, 10, 28, 23, 0),
                ("NHL:UTA", "Mammoth"),
                ("NHL:PHI", "Flyers"),
            ),
        ],
        [],
    ),
    "date_and_alias": (
        [],
        [
            R(K, "KXNBAGAME-26OCT29DENGSW", Reason.DATE_MISMATCH),
            R(P, ("nba-den-gsw-2026-10-30", "Nuggets vs. Warriors"), Reason.DATE_MISMATCH),
            R(K, "KXNBAGAME-26OCT29SACPOR", Reason.NO_COUNTERPART),
            R(P, ("nba-sac-por-2026-10-29", "Kings vs. Trailblazerz"), Reason.UNKNOWN_TEAM),
        ],
    ),
}


def _expected_matches(gamma: Any, matches: list[M]) -> set[tuple[Any, ...]]:
    out = set()
    for m in matches:
        market = gamma_market(gamma, *m.poly)
        sides = []
        for team_id, outcome in (m.away, m.home):
            # the fixtures use our canonical codes as Kalshi codes ("<event>-<code>")
            ticker = f"{m.kalshi_event}-{team_id.split(':')[1]}"
            sides.append((team_id, ticker, token_of(market, outcome), outcome))
        out.add((m.kalshi_event, market["conditionId"], m.poly[0], m.day, m.start, *sides))
    return out


def _actual_matches(report: MatchReport) -> set[tuple[Any, ...]]:
    out = set()
    for g in report.matches:
        sides = [
            (s.team_id, s.kalshi_ticker, s.polymarket_token_id, s.polymarket_outcome)
            for s in (g.away, g.home)
        ]
        out.add(
            (
                g.kalshi_event_ticker,
                g.polymarket_condition_id,
                g.polymarket_event_slug,
                g.eastern_date,
                g.start_time,
                *sides,
            )
        )
    return out


def _rejection_keys(gamma: Any, rejections: list[R]) -> set[tuple[str, str, str]]:
    out = set()
    for r in rejections:
        ident = r.ref if isinstance(r.ref, str) else gamma_market(gamma, *r.ref)["conditionId"]
        out.add((r.venue.value, ident, r.reason.value))
    return out


def _check(case_name: str, matches: list[M], rejections: list[R]) -> MatchReport:
    kalshi, gamma = load(case_name)
    report = match_bodies(kalshi, gamma)
    assert _actual_matches(report) == _expected_matches(gamma, matches)
    got = {(r.venue.value, r.id, r.reason_code.value) for r in report.rejections}
    assert got == _rejection_keys(gamma, rejections)
    for game in report.matches:
        assert POSTPONEMENT_NOTE in game.notes
        assert game.away.polymarket_token_id != game.home.polymarket_token_id
        assert game.opponent(game.away.team_id) == game.home
    return report


@pytest.mark.parametrize("case_name", sorted(CASES))
def test_case(case_name: str) -> None:
    matches, rejections = CASES[case_name]
    _check(case_name, matches, rejections)


def test_slate_is_the_union_of_the_cases() -> None:
    all_matches = [m for ms, _ in CASES.values() for m in ms]
    all_rejections = [r for _, rs in CASES.values() for r in rs]
    report = _check("slate", all_matches, all_rejections)
    assert len(report.matches) == 11
    keys = [(m.eastern_date, m.league, m.kalshi_event_ticker) for m in report.matches]
    assert keys == sorted(keys)
    assert list(report.rejections) == sorted(report.rejections)


def test_ambiguity_lists_the_candidates() -> None:
    kalshi, gamma = load("ambiguous")
    report = match_bodies(kalshi, gamma)
    k = next(r for r in report.rejections if r.venue is Venue.KALSHI)
    for slug, question in (
        ("nhl-nyr-nyi-2026-10-27", "Rangers vs. Islanders"),
        ("nhl-nyr-nyi-2026-10-27-2", "New York Rangers vs. New York Islanders"),
    ):
        assert gamma_market(gamma, slug, question)["conditionId"] in k.detail


def test_fees_are_decoded_exactly() -> None:
    kalshi, gamma = load("straightforward")
    (game,) = match_bodies(kalshi, gamma).matches
    fees = game.polymarket_fees
    assert fees.fees_enabled is True
    assert fees.fee_type == "sports_fees_v2"
    assert (fees.rate, fees.exponent) == (Decimal("0.05"), Decimal(1))
    assert (fees.taker_only, fees.rebate_rate) == (True, Decimal("0.25"))
