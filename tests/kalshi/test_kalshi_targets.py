"""Kalshi structured targets and the milestone fields matching reads: decoded once,
bounded, a bad target refused alone and counted.

Fixtures: tests/data/kalshi/rest/targets/ and rest/live/ (sources in tests/data/README)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from arbees.errors import DecodeError
from arbees.kalshi.models import (
    MAX_TARGETS_PER_PAGE,
    parse_milestones,
    parse_structured_targets,
)
from arbees.kalshi.rest import TARGET_IDS_PER_REQUEST, KalshiRest, TokenBucket

DATA = Path(__file__).parent.parent / "data" / "kalshi" / "rest"
MIAMI_OH = "6f0b2d1c-3e4a-4c5b-8d9e-0a1b2c3d4e01"
KENT = "6f0b2d1c-3e4a-4c5b-8d9e-0a1b2c3d4e02"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def test_a_targets_page_decodes_name_type_league_and_abbreviation() -> None:
    targets, rejected = parse_structured_targets(load("targets/structured_targets.json"))
    assert rejected == []
    assert [(t.id, t.name, t.type, t.league, t.abbreviation) for t in targets] == [
        (MIAMI_OH, "Miami (OH) RedHawks", "basketball_team", "NCAAB", "MOH"),
        (KENT, "Kent State Golden Flashes", "basketball_team", "NCAAB", "KENT"),
    ]


def test_a_milestone_names_its_home_and_away_targets() -> None:
    (milestone,), _ = parse_milestones(load("live/milestones.json"))
    assert milestone.home_team_id == "b8e1e3f0-5c1d-4f7a-a1a0-5a3c2d1e0f17"
    assert milestone.away_team_id == "0d2c4e6a-7b9f-41d3-8e5a-6c4b2a1f9e08"


@pytest.mark.parametrize(
    "details",
    [
        {"home_team_id": 12},
        {"home_team_id": "../orders"},
        {"away_team_id": "x" * 101},
        "home_team_id=abc",
    ],
)
def test_a_milestone_with_a_bad_team_id_is_refused_alone(details: object) -> None:
    body = load("live/milestones.json")
    bad = copy.deepcopy(body["milestones"][0]) | {"id": "bad-one", "details": details}
    body["milestones"].append(bad)
    found, rejected = parse_milestones(body)
    assert [m.id for m in found] == ["3f6b1c2e-8d4a-4b7e-9c1f-2a5d7e9b0c41"]
    assert [r.item for r in rejected] == ["bad-one"]
    assert rejected[0].field is not None
    assert rejected[0].field.startswith("details")


def test_a_milestone_without_team_ids_has_none() -> None:
    body = load("live/milestones.json")
    body["milestones"][0]["details"] = {}
    (milestone,), _ = parse_milestones(body)
    assert (milestone.home_team_id, milestone.away_team_id) == ("", "")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": None}, "id"),
        ({"id": "a/b"}, "id"),
        ({"name": None}, "name"),
        ({"name": ["Ohio"]}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"details": []}, "details"),
        ({"details": {"league": 7}}, "details.league"),
        ({"details": {"abbreviation": "A" * 201}}, "details.abbreviation"),
    ],
)
def test_a_bad_target_is_refused_alone_and_named(change: dict[str, Any], field: str) -> None:
    body = load("targets/structured_targets.json")
    body["structured_targets"][0] |= change
    found, rejected = parse_structured_targets(body)
    assert [t.id for t in found] == [KENT]
    assert len(rejected) == 1
    assert rejected[0].field == field
    if isinstance(change.get("id"), str):
        assert rejected[0].item == change["id"]


def test_a_target_that_is_no_object_is_named_by_position() -> None:
    body = load("targets/structured_targets.json")
    body["structured_targets"].insert(0, "Ohio")
    found, rejected = parse_structured_targets(body)
    assert len(found) == 2
    assert [r.item for r in rejected] == ["structured_targets[0]"]


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"targets": []},
        {"structured_targets": {}},
        {"structured_targets": [{}] * (MAX_TARGETS_PER_PAGE + 1)},
    ],
)
def test_a_body_that_is_no_targets_page_or_is_oversized_raises(body: object) -> None:
    with pytest.raises(DecodeError):
        parse_structured_targets(body)


def test_an_empty_page_may_come_as_null() -> None:
    assert parse_structured_targets({"structured_targets": None, "cursor": ""}) == ([], [])


async def test_targets_are_asked_by_id_in_bounded_chunks_following_the_cursor() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        body = load("targets/structured_targets.json")
        if request.url.params.get("cursor") is None and len(seen) == 1:
            body["cursor"] = "next"
        return httpx.Response(200, json=body)

    ids = [f"id-{i:03d}" for i in range(TARGET_IDS_PER_REQUEST + 5)]
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        rest = KalshiRest(client, base_url="https://k.test/trade-api/v2", limiter=TokenBucket(1e6))
        found, rejected = await rest.get_structured_targets([*ids, ids[0]], page_size=5000)
    assert rejected == []
    assert len(seen) == 3  # first chunk: two pages (cursor), second chunk: one
    assert {u.path for u in seen} == {"/trade-api/v2/structured_targets"}
    assert seen[0].params.get_list("ids") == ids[:TARGET_IDS_PER_REQUEST]
    assert seen[1].params["cursor"] == "next"
    assert seen[2].params.get_list("ids") == ids[TARGET_IDS_PER_REQUEST:]
    assert seen[0].params["page_size"] == str(MAX_TARGETS_PER_PAGE)
    assert len(found) == 6


async def test_milestones_of_a_slate_are_asked_by_category_and_start() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json=load("live/milestones.json"))

    since = datetime(2026, 12, 6, 7, 0, tzinfo=timezone(timedelta(hours=-5)))
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        rest = KalshiRest(client, base_url="https://k.test/trade-api/v2", limiter=TokenBucket(1e6))
        found, _ = await rest.get_milestones(category="Sports", minimum_start_date=since, limit=500)
        with pytest.raises(ValueError, match="timezone"):
            await rest.get_milestones(minimum_start_date=datetime(2026, 12, 6))
    assert len(found) == 1
    assert seen[0].params["category"] == "Sports"
    assert seen[0].params["minimum_start_date"] == "2026-12-06T12:00:00Z"
    assert seen[0].params["limit"] == "500"
    assert since.astimezone(UTC).hour == 12
