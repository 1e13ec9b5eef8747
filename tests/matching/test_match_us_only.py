"""Kalshi x Polymarket US with no Gamma at all (issue 17, the US-only deployment): the
teams are the built-in tables plus Polymarket US's own names and codes, under the same
strict guards; what cannot be resolved is reported, never guessed."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arbees.kalshi.models import parse_events
from arbees.matching import Reason
from arbees.matching.us_catalogue import polymarket_us_catalogue, polymarket_us_team_rows
from arbees.matching.venue_listings import match_venue_events
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
def report() -> Any:
    kalshi, bad = parse_events(body("kalshi_events.json"))
    assert bad == []
    us = us_events(body("polymarket_us_events.json"))
    return match_venue_events(kalshi, [], polymarket_us_catalogue(us), polymarket_us=us)


def test_the_venue_pairs_codes_with_names_itself() -> None:
    rows, refused = polymarket_us_team_rows(us_events(body("polymarket_us_events.json")))
    assert refused == []
    assert {(r.id, r.name) for r in rows} == {
        ("NFL:BUF", "Buffalo Bills"),
        ("NFL:KC", "Kansas City Chiefs"),
        ("MLB:NYY", "New York Yankees"),
        ("MLB:BOS", "Boston Red Sox"),
        # per-outcome markets: the slug's code + the team the question names
        ("EPL:MUN", "Manchester United"),
        ("EPL:MCI", "Manchester City"),
    }


def test_kalshi_and_polymarket_us_match_without_gamma(report: Any) -> None:
    found = {m.event_id: m for m in report.matches}
    nfl = found["NFL:20261206:BUF-KC:moneyline"]
    assert nfl.venue_events == (
        ("kalshi", "KXNFLGAME-26DEC06BUFKC"),
        (US, "aec-nfl-buf-kc-2026-12-06"),
    )
    assert nfl.outcomes == ("NFL:BUF", "NFL:KC")
    epl = found["EPL:20261206:MCI-MUN:moneyline"]
    assert epl.outcomes == ("EPL:MCI", "draw", "EPL:MUN")
    assert {v for v, _ in epl.venue_events} == {"kalshi", US}
    assert len(epl.legs) == 12  # 2 venues x 3 outcomes x yes/no
    assert {v for v, _ in found["MLB:20260926:BOS-NYY:moneyline"].venue_events} == {"kalshi", US}
    total = found["MLB:20260926:BOS-NYY:total:8.5"]
    assert {leg.instrument for leg in total.legs if leg.venue == US} == {
        "aec-mlb-nyy-bos-2026-09-26-total-8pt5"
    }
    assert all(v in ("kalshi", US) for m in report.matches for v, _ in m.venue_events)


def test_what_no_venue_names_is_reported_not_guessed(report: Any) -> None:
    # Kalshi's college / Serie A / MLS games: Polymarket US lists none of them, so no
    # catalogue row names their teams; they are reported, never matched
    matched = {e for m in report.matches for _, e in m.venue_events}
    for ticker in ("KXNCAAMBGAME-26DEC06DUKEUNC", "KXSERIEAGAME-26DEC06INTMIL"):
        assert ticker not in matched
        assert any(u.id == ticker for u in report.unmatched), ticker
    decoy = [u for u in report.unmatched if u.id == "aec-nfl-buf-kc-2026-12-20"]
    assert [u.reason for u in decoy] == [Reason.DATE_MISMATCH]


def test_a_code_two_names_claim_is_left_out() -> None:
    raw = body("polymarket_us_events.json")
    events = raw["events"] if isinstance(raw, dict) else raw
    clash = copy.deepcopy(next(e for e in events if e["slug"] == "aec-nfl-buf-kc-2026-12-20"))
    for market in clash["markets"]:
        for side in market.get("marketSides", []):
            if (side.get("team") or {}).get("abbreviation") == "BUF":
                side["team"]["name"] = "Buffalo Sabres"
    wrapped = {**raw, "events": [*events, clash]} if isinstance(raw, dict) else [*events, clash]
    rows, refused = polymarket_us_team_rows(us_events(wrapped))
    assert "NFL:BUF" not in {r.id for r in rows}
    assert refused == ["NFL:BUF: named ['Buffalo Bills', 'Buffalo Sabres']"]
    catalogue = polymarket_us_catalogue(us_events(wrapped))
    assert catalogue.by_code("NFL", "BUF").team is None
    assert catalogue.by_code("NFL", "KC").team is not None
