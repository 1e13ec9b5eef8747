"""The sports channel's sans-io protocol against the documented messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arbees.polymarket.sports import (
    MAX_FRAME_BYTES,
    MAX_RESULTS_PER_FRAME,
    SportsProtocol,
    phase_of,
)

DATA = Path(__file__).parent.parent / "data" / "polymarket" / "sports"


def sample(name: str) -> str:
    return (DATA / name).read_text()


def test_documented_in_progress_result() -> None:
    proto = SportsProtocol()
    [result] = proto.receive(sample("nfl_in_progress_docs.json"), 7_000_000)
    assert result.slug == "nfl-lac-buf-2025-01-26"
    assert result.phase == "live"
    assert (result.score, result.period, result.elapsed) == ("3-16", "Q4", "5:18")
    assert (result.league, result.game_id, result.status) == ("nfl", 19439, "InProgress")
    state = result.game_state()
    assert (state.venue, state.key, state.phase, state.timestamp_ms) == (
        "polymarket",
        "nfl-lac-buf-2025-01-26",
        "live",
        7,
    )


def test_documented_finished_result_is_ended() -> None:
    [result] = SportsProtocol().receive(sample("cs2_finished_docs.json"), 1)
    assert result.phase == "ended"
    assert result.ended
    assert result.score == "000-000|2-0|Bo3"


def test_documented_asyncapi_example_without_status() -> None:
    [result] = SportsProtocol().receive(sample("soccer_live_asyncapi.json").encode(), 1)
    assert (result.slug, result.phase, result.period) == ("mci-liv-2025-02-03", "live", "1H")


def test_every_ping_is_answered_with_one_pong() -> None:
    proto = SportsProtocol()
    assert proto.data_to_send() == []
    assert proto.receive("ping", 1) == []
    assert proto.receive("ping", 2) == []
    assert proto.data_to_send() == ["pong", "pong"]
    assert proto.data_to_send() == []  # drained
    assert proto.stats.pings == 2
    assert proto.stats.rejected_total == 0


@pytest.mark.parametrize(
    ("status", "live", "ended", "phase"),
    [
        ("Scheduled", False, False, "scheduled"),
        ("InProgress", True, False, "live"),
        ("InProgress", False, False, "live"),  # the status alone makes it live
        ("Final", False, False, "ended"),  # the status alone ends it
        ("F/OT", False, True, "ended"),
        ("Postponed", False, False, "postponed"),
        ("Postponed", True, False, "postponed"),  # postponed outranks a live flag
        ("Canceled", False, True, "cancelled"),
        ("Cancelled", False, False, "cancelled"),
        ("", False, True, "ended"),
        ("Awarded", False, False, "ended"),
        ("Break", False, False, "live"),  # half time in soccer
        ("PenaltyShootout", True, False, "live"),
        ("Suspended", False, False, "live"),  # paused mid-game: prices still move
        ("Delayed", False, False, "scheduled"),
    ],
)
def test_phase_is_read_conservatively(status: str, live: bool, ended: bool, phase: str) -> None:
    assert phase_of(status=status, live=live, ended=ended) == phase


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("{not json", "not_json"),
        ('{"slug": "", "live": true}', "bad_slug"),
        ('{"slug": 5, "live": true}', "bad_slug"),
        ('{"slug": "a b", "live": true}', "bad_slug"),
        ('{"slug": "nba-x", "live": "yes"}', "bad_field"),
        ('{"slug": "nba-x", "score": 3}', "bad_field"),
        ('{"slug": "nba-x", "period": "' + "Q" * 100 + '"}', "bad_field"),
        ('{"slug": "nba-x", "gameId": "12"}', "bad_field"),
        ("[1]", "not_object"),
        ("[" + ",".join(['{"slug":"a"}'] * (MAX_RESULTS_PER_FRAME + 1)) + "]", "too_many"),
        ("x" * (MAX_FRAME_BYTES + 1), "oversized"),
        (b"\xff\xfe", "not_utf8"),
        ("[" * MAX_FRAME_BYTES + "]" * MAX_FRAME_BYTES, "oversized"),
    ],
)
def test_bad_frames_are_counted_by_reason_never_raised(frame: str | bytes, reason: str) -> None:
    proto = SportsProtocol()
    assert proto.receive(frame, 1) == []
    assert proto.stats.rejected == {reason: 1}


def test_deep_nesting_within_the_size_cap_is_a_rejection() -> None:
    proto = SportsProtocol()
    assert proto.receive("[" * 30_000 + "]" * 30_000, 1) == []
    assert proto.stats.rejected_total == 1


def test_one_bad_result_costs_only_itself() -> None:
    good = json.loads(sample("nfl_in_progress_docs.json"))
    frame = json.dumps([good, {"slug": "x", "ended": "no"}, {"type": "hello"}])
    proto = SportsProtocol()
    results = proto.receive(frame, 1)
    assert [r.slug for r in results] == ["nfl-lac-buf-2025-01-26"]
    assert proto.stats.rejected == {"bad_field": 1}
    assert proto.stats.ignored == 1  # an object of another kind
