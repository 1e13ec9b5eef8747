"""``arbees match`` on the fixture files: the table, the JSON, and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from match_fixtures import case_dir, gamma_market, load, token_of

from arbees.cli import main
from arbees.matching import POSTPONEMENT_NOTE


def _args(case: str) -> list[str]:
    d = case_dir(case)
    return [
        "match",
        "--kalshi",
        str(d / "kalshi_events.json"),
        "--polymarket",
        str(d / "gamma_events.json"),
    ]


def test_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args("third_market")) == 0
    out = capsys.readouterr().out
    _, gamma = load("third_market")
    market = gamma_market(gamma, "nba-dal-hou-2026-10-25", "Mavericks vs. Rockets")
    assert out.startswith("MATCHES (1)\n")
    assert "KXNBAGAME-26OCT25DALHOU" in out
    assert market["conditionId"] in out
    assert "KXNBAGAME-26OCT25DALHOU-DAL" in out
    assert token_of(market, "Mavericks") in out
    assert token_of(market, "Rockets") in out
    assert "2026-10-26 00:00" in out
    assert "REJECTIONS (6)" in out
    assert out.count("not_moneyline") == 7  # six rows plus the summary
    assert "SUMMARY: 1 matched, 6 rejected (not_moneyline: 6)" in out
    assert f"note: {POSTPONEMENT_NOTE}" in out


def test_text_report_of_the_slate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args("slate")) == 0
    out = capsys.readouterr().out
    assert "MATCHES (11)" in out
    for reason in ("ambiguous", "date_mismatch", "missing_team_market", "unknown_team"):
        assert reason in out
    row = next(line for line in out.splitlines() if line.startswith("kalshi ") and "NYRNYI" in line)
    assert "ambiguous" in row
    assert "2 Polymarket candidates" in row


def test_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*_args("alias_spelling"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    _, gamma = load("alias_spelling")
    market = gamma_market(gamma, "nba-lac-lal-2026-10-24", "Los Angeles Lakers vs. LA Clippers")
    assert doc["summary"] == {"matches": 2, "rejections": 0, "rejections_by_reason": {}}
    lac = next(m for m in doc["matches"] if m["league"] == "NBA")
    assert lac["kalshi_event_ticker"] == "KXNBAGAME-26OCT24LACLAL"
    assert lac["polymarket_condition_id"] == market["conditionId"]
    assert lac["eastern_date"] == "2026-10-24"
    assert lac["start_time"] == "2026-10-25T02:30:00+00:00"
    assert lac["teams"] == [
        {
            "role": "away",
            "team_id": "NBA:LAC",
            "name": "Los Angeles Clippers",
            "kalshi_ticker": "KXNBAGAME-26OCT24LACLAL-LAC",
            "polymarket_token_id": token_of(market, "LA Clippers"),
            "polymarket_outcome": "LA Clippers",
        },
        {
            "role": "home",
            "team_id": "NBA:LAL",
            "name": "Los Angeles Lakers",
            "kalshi_ticker": "KXNBAGAME-26OCT24LACLAL-LAL",
            "polymarket_token_id": token_of(market, "Los Angeles Lakers"),
            "polymarket_outcome": "Los Angeles Lakers",
        },
    ]
    # exact decimals as text: a JSON float would round them
    assert lac["polymarket_fees"]["feeSchedule"]["rate"] == "0.05"
    assert POSTPONEMENT_NOTE in lac["notes"]


def test_json_rejections(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*_args("missing_team"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["matches"] == []
    assert doc["summary"]["rejections_by_reason"] == {
        "missing_team_market": 1,
        "missing_token": 1,
        "no_counterpart": 2,
    }
    kalshi = [r for r in doc["rejections"] if r["venue"] == "kalshi"]
    assert {(r["id"], r["reason"]) for r in kalshi} == {
        ("KXNBAGAME-26OCT26BOSNYK", "missing_team_market"),
        ("KXNBAGAME-26OCT26MIAORL", "no_counterpart"),
    }
    assert all(r["detail"] for r in doc["rejections"])


def test_window_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*_args("straightforward"), "--start-window-minutes", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["matches"] == 1
    assert main([*_args("straightforward"), "--start-window-minutes", "-5"]) == 2


def test_unreadable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = str(case_dir("straightforward") / "gamma_events.json")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", encoding="utf-8")
    wrong_shape = tmp_path / "list.json"
    wrong_shape.write_text("[]", encoding="utf-8")
    for kalshi in (tmp_path / "missing.json", garbage, wrong_shape):
        assert main(["match", "--kalshi", str(kalshi), "--polymarket", good]) == 2
        err = capsys.readouterr().err
        assert "arbees match:" in err
