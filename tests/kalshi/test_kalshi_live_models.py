"""Kalshi milestones and live data: decoded once, bounded, bad items refused and counted.

Fixtures: tests/data/kalshi/rest/live/ (sources in tests/data/README)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from arbees.errors import DecodeError
from arbees.kalshi.models import (
    MAX_LIVE_DATAS,
    MAX_MILESTONES_PER_PAGE,
    LiveData,
    parse_live_datas,
    parse_milestones,
)
from arbees.kalshi.rest import KalshiRest, TokenBucket

DATA = Path(__file__).parent.parent / "data" / "kalshi" / "rest" / "live"
MILESTONE = "3f6b1c2e-8d4a-4b7e-9c1f-2a5d7e9b0c41"
EVENT = "KXNBAGAME-26OCT20OKCSAS"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def test_a_milestones_page_decodes() -> None:
    (milestone,), rejected = parse_milestones(load("milestones.json"))
    assert rejected == []
    assert milestone.id == MILESTONE
    assert (milestone.category, milestone.type) == ("Sports", "basketball_game")
    assert milestone.title == "Oklahoma City at San Antonio"
    assert milestone.start_date == datetime(2026, 10, 20, 23, 30, tzinfo=UTC)
    assert milestone.related_event_tickers[0] == EVENT
    assert len(milestone.related_event_tickers) == 3
    assert milestone.primary_event_tickers == (EVENT,)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": None}, "id"),
        ({"id": "../../portfolio/orders"}, "id"),
        ({"id": "a" * 101}, "id"),
        ({"related_event_tickers": "KXNBAGAME-26OCT20OKCSAS"}, "related_event_tickers"),
        ({"related_event_tickers": [EVENT, 7]}, "related_event_tickers"),
        ({"related_event_tickers": ["X"] * 1001}, "related_event_tickers"),
        ({"start_date": "tomorrow"}, "start_date"),
        ({"start_date": "2026-10-20T23:30:00"}, "start_date"),
        ({"title": {"en": "x"}}, "title"),
    ],
)
def test_a_bad_milestone_is_refused_alone(change: dict[str, Any], field: str) -> None:
    body = load("milestones.json")
    good = copy.deepcopy(body["milestones"][0])
    bad = body["milestones"][0] | change
    body["milestones"] = [bad, good, "not an object"]
    found, rejected = parse_milestones(body)
    assert [m.id for m in found] == [MILESTONE]
    assert len(rejected) == 2
    assert rejected[0].field == field
    assert rejected[1].item == "milestones[2]"


@pytest.mark.parametrize(
    "body",
    [[], {"events": []}, {"milestones": {}}, {"milestones": [{}] * (MAX_MILESTONES_PER_PAGE + 1)}],
)
def test_a_body_that_is_no_milestones_page_raises(body: object) -> None:
    with pytest.raises(DecodeError):
        parse_milestones(body)


def test_an_empty_page_is_empty() -> None:
    assert parse_milestones({"milestones": None, "cursor": ""}) == ([], [])
    assert parse_live_datas({"live_datas": []}) == ([], [])


@pytest.mark.parametrize(
    ("name", "status", "postponed", "away", "home"),
    [
        ("live_datas_scheduled.json", "none", False, 0, 0),
        ("live_datas_live.json", "live", False, 78, 71),
        ("live_datas_finished.json", "finished", False, 112, 104),
        ("live_datas_postponed.json", "none", True, 0, 0),
    ],
)
def test_live_data_decodes(name: str, status: str, postponed: bool, away: int, home: int) -> None:
    (live,), rejected = parse_live_datas(load(name))
    assert rejected == []
    assert live == LiveData(
        milestone_id=MILESTONE,
        type="basketball_game",
        status=status,
        postponed=postponed,
        home_points=home,
        away_points=away,
        period="",
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"postponed": "yes"}, "details.postponed"),
        ({"home_points": -1}, "details.home_points"),
        ({"home_points": 1.5}, "details.home_points"),
        ({"away_points": True}, "details.away_points"),
        ({"away_points": 10**9}, "details.away_points"),
        ({"status": ["live"]}, "details.status"),
        ({"status": "x" * 65}, "details.status"),
        ({"leg": {"q": 3}}, "details.leg"),
    ],
)
def test_a_bad_live_entry_is_refused_alone(change: dict[str, Any], field: str) -> None:
    body = load("live_datas_live.json")
    good = copy.deepcopy(body["live_datas"][0])
    bad = copy.deepcopy(good)
    bad["details"] |= change
    body["live_datas"] = [bad, good]
    found, rejected = parse_live_datas(body)
    assert [live.home_points for live in found] == [71]
    assert [(r.item, r.field) for r in rejected] == [(MILESTONE, field)]


def test_live_entries_without_a_milestone_or_details_are_refused() -> None:
    good = load("live_datas_live.json")["live_datas"][0]
    entries = [
        {k: v for k, v in good.items() if k != "milestone_id"},
        good | {"details": None},
        good | {"milestone_id": "a/b"},
        good | {"details": {"status": "live", "home_points": "71", "away_points": "78"}},
    ]
    found, rejected = parse_live_datas({"live_datas": entries})
    assert [(r.item, r.field) for r in rejected] == [
        ("live_datas[0]", "milestone_id"),
        (MILESTONE, "details"),
        ("a/b", "milestone_id"),
    ]
    # numeric strings are read as scores (a vendor's JSON numbers may come as text)
    assert [(f.away_points, f.home_points) for f in found] == [(78, 71)]


@pytest.mark.parametrize(
    "body", [[], {"live_data": {}}, {"live_datas": {}}, {"live_datas": [{}] * (MAX_LIVE_DATAS + 1)}]
)
def test_a_body_that_is_no_batch_raises(body: object) -> None:
    with pytest.raises(DecodeError):
        parse_live_datas(body)


async def test_the_client_asks_the_documented_paths_and_parameters() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        if request.url.path.endswith("/milestones"):
            return httpx.Response(200, json=load("milestones.json"))
        return httpx.Response(200, json=load("live_datas_live.json"))

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        rest = KalshiRest(client, base_url="https://k.test/trade-api/v2", limiter=TokenBucket(1e6))
        milestones, _ = await rest.get_milestones(related_event_ticker=EVENT)
        assert [m.id for m in milestones] == [MILESTONE]
        (live,), _ = await rest.get_live_datas([MILESTONE, "other-id"])
        assert live.status == "live"
        with pytest.raises(ValueError, match="milestone ids"):
            await rest.get_live_datas([])
        with pytest.raises(ValueError, match="milestone ids"):
            await rest.get_live_datas(["m"] * (MAX_LIVE_DATAS + 1))
    assert seen[0].path == "/trade-api/v2/milestones"
    assert seen[0].params["related_event_ticker"] == EVENT
    assert seen[0].params["limit"] == "100"
    assert seen[1].path == "/trade-api/v2/live_data/batch"
    assert seen[1].params.get_list("milestone_ids") == [MILESTONE, "other-id"]
    assert len(seen) == 2


async def test_milestone_pages_follow_the_cursor_within_a_bound() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        body = load("milestones.json") | {"cursor": f"c{calls}"}
        return httpx.Response(200, json=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        rest = KalshiRest(client, base_url="https://k.test/trade-api/v2", limiter=TokenBucket(1e6))
        found, _ = await rest.get_milestones(max_pages=3)
    assert calls == 3  # an endless cursor costs three pages, not forever
    assert len(found) == 3
