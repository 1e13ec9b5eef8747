"""``arbees match --kalshi-milestones/--kalshi-targets``: Kalshi's structured data in the audit
of saved bodies (tests/data/matching/milestones, sources in tests/data/README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from arbees.cli import main
from arbees.kalshi.models import MAX_TARGETS_PER_PAGE

DATA = Path(__file__).resolve().parent.parent / "data" / "matching" / "milestones"
MIAMI_OH = "ffe6ef6d-e8c9-4220-8368-5392592862b5"
M_COLLEGE = "a229fe69-5224-4f51-8fe7-85b2d353e2d0"


def args(*extra: str) -> list[str]:
    return [
        "match",
        "--kalshi",
        str(DATA / "kalshi_events.json"),
        "--polymarket",
        str(DATA / "gamma_events.json"),
        "--teams",
        str(DATA / "gamma_teams.json"),
        "--json",
        *extra,
    ]


def structured() -> list[str]:
    return [
        "--kalshi-milestones",
        str(DATA / "kalshi_milestones.json"),
        "--kalshi-targets",
        str(DATA / "kalshi_targets.json"),
    ]


def report(capsys: pytest.CaptureFixture[str], argv: list[str]) -> Any:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def matched(out: Any) -> set[str]:
    return {m["event_id"] for m in out["matches"]}


def test_milestones_and_targets_pair_what_the_ticker_path_cannot(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = report(capsys, args())
    after = report(capsys, args(*structured()))
    assert matched(before) == {"NFL:20261213:BUF-KC:moneyline", "NFL:20261213:NYG-NYJ:moneyline"}
    assert matched(after) == {
        "NCAAB:20261213:KENT-MOH:moneyline",
        "EPL:20261213:MCI-MUN:moneyline",
        "NFL:20261213:NYG-NYJ:moneyline",
    }
    college = next(m for m in after["matches"] if m["league"] == "NCAAB")
    evidence = " ".join(college["evidence"])
    assert f"kalshi_target:{MIAMI_OH}" in evidence
    assert f"kalshi_milestone:{M_COLLEGE}" in evidence
    window = [u for u in after["unmatched"] if u["id"] == "KXNFLGAME-26DEC13BUFKC"]
    assert [u["reason"] for u in window] == ["start_window"]


def test_milestones_carried_by_the_events_body_are_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    events = json.loads((DATA / "kalshi_events.json").read_text())
    events["milestones"] = json.loads((DATA / "kalshi_milestones.json").read_text())["milestones"]
    carried = tmp_path / "events_with_milestones.json"
    carried.write_text(json.dumps(events))
    argv = args("--kalshi-targets", str(DATA / "kalshi_targets.json"))
    argv[2] = str(carried)
    assert "NCAAB:20261213:KENT-MOH:moneyline" in matched(report(capsys, argv))


def test_a_bad_milestone_or_target_is_reported_and_the_rest_still_used(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    milestones = json.loads((DATA / "kalshi_milestones.json").read_text())
    milestones["milestones"].append({"id": "broken", "start_date": "soon"})
    targets = json.loads((DATA / "kalshi_targets.json").read_text())
    targets["structured_targets"].append({"id": "nameless", "details": {}})
    (tmp_path / "m.json").write_text(json.dumps(milestones))
    (tmp_path / "t.json").write_text(json.dumps(targets))
    out = report(
        capsys,
        args(
            "--kalshi-milestones",
            str(tmp_path / "m.json"),
            "--kalshi-targets",
            str(tmp_path / "t.json"),
        ),
    )
    refused = {u["id"]: u for u in out["unmatched"] if u["reason"] == "malformed"}
    assert set(refused) == {"broken", "nameless"}
    assert refused["broken"]["venue"] == "kalshi"
    assert "NCAAB:20261213:KENT-MOH:moneyline" in matched(out)


@pytest.mark.parametrize(
    "body",
    [
        {
            "structured_targets": [
                {"id": f"t{i}", "name": "x"} for i in range(MAX_TARGETS_PER_PAGE + 1)
            ]
        },
        {"targets": []},
        ["garbage"],
    ],
)
def test_an_oversized_or_garbage_targets_page_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, body: object
) -> None:
    bad = tmp_path / "targets.json"
    bad.write_text(json.dumps(body))
    assert main(args("--kalshi-targets", str(bad))) == 2
    assert "unexpected input shape" in capsys.readouterr().err


def test_an_unreadable_milestones_file_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(args("--kalshi-milestones", str(tmp_path / "missing.json"))) == 2
    assert "Kalshi /milestones" in capsys.readouterr().err
