"""``arbees match --polymarket-us FILE``: each venue's file optional, any two or three."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arbees.cli import main

DATA = Path(__file__).resolve().parent.parent / "data" / "matching" / "leagues"
KALSHI = ["--kalshi", str(DATA / "kalshi_events.json")]
GAMMA = ["--polymarket", str(DATA / "gamma_events.json")]
US = ["--polymarket-us", str(DATA / "polymarket_us_events.json")]
TEAMS = ["--teams", str(DATA / "gamma_teams.json")]


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["match", *args, "--json"]) == 0
    doc: dict[str, object] = json.loads(capsys.readouterr().out)
    return doc


def venues_of(doc: dict[str, object], event_id: str) -> set[str]:
    matches = doc["matches"]
    assert isinstance(matches, list)
    found = next(m for m in matches if m["event_id"] == event_id)
    return {v["venue"] for v in found["venue_events"]}


def test_three_venues_together(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, *KALSHI, *GAMMA, *US, *TEAMS)
    assert venues_of(doc, "EPL:20261206:MCI-MUN:moneyline") == {
        "kalshi",
        "polymarket",
        "polymarket-us",
    }
    assert venues_of(doc, "NFL:20261206:BUF-KC:moneyline") == {
        "kalshi",
        "polymarket",
        "polymarket-us",
    }
    unmatched = doc["unmatched"]
    assert isinstance(unmatched, list)
    decoy = [u for u in unmatched if u["id"] == "aec-nfl-buf-kc-2026-12-20"]
    assert [u["reason"] for u in decoy] == ["date_mismatch"]


def test_any_two_venues(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, *KALSHI, *US, *TEAMS)
    assert venues_of(doc, "MLB:20260926:BOS-NYY:total:9.5") == {"kalshi", "polymarket-us"}
    doc = run_json(capsys, *GAMMA, *US, *TEAMS, "--league", "EPL")
    assert venues_of(doc, "EPL:20261206:MCI-MUN:moneyline") == {"polymarket", "polymarket-us"}
    matches = doc["matches"]
    assert isinstance(matches, list)
    assert {m["league"] for m in matches} == {"EPL"}


def test_text_report_counts_per_league_and_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", *KALSHI, *GAMMA, *US, *TEAMS, "--league", "MLB"]) == 0
    out = capsys.readouterr().out
    rows = {tuple(line.split()[:2]): line.split()[2:] for line in out.splitlines()[1:3]}
    assert rows[("MLB", "moneyline")] == ["1", "0", "0"]
    assert rows[("MLB", "total")][0] == "2"  # 8.5 on three venues, 9.5 on two
    assert "polymarket-us: aec-mlb-nyy-bos-2026-09-26-total-8pt5" in out
    # the one two-sided winner market: its NO is shown paying on the other team
    assert "MLB:BOS        polymarket-us: aec-mlb-nyy-bos-2026-09-26 (NO)" in out


def test_one_venue_alone_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", *US]) == 2
    assert "two venues or three" in capsys.readouterr().err


def test_unreadable_polymarket_us_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "us.json"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["match", *KALSHI, "--polymarket-us", str(bad)]) == 2
    assert "Polymarket US" in capsys.readouterr().err


def test_a_bad_polymarket_us_event_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = json.loads((DATA / "polymarket_us_events.json").read_text(encoding="utf-8"))
    raw["events"].append({"id": "1", "title": "no slug"})
    path = tmp_path / "us.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    doc = run_json(capsys, *KALSHI, "--polymarket-us", str(path), *TEAMS)
    unmatched = doc["unmatched"]
    assert isinstance(unmatched, list)
    refused = [u for u in unmatched if u["venue"] == "polymarket-us" and u["reason"] == "malformed"]
    assert [u["id"] for u in refused] == ["events[4]"]
