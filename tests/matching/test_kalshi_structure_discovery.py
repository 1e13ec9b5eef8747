"""Discovery reads Kalshi's milestones and structured targets once per round (targets
cached on disk with an expiry) and matching uses them; a failing call degrades to the
ticker/name path, counted, never stopping discovery.

Bodies: tests/data/matching/milestones (sources in tests/data/README)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from arbees.kalshi.models import StructuredTarget
from arbees.kalshi.rest import KalshiRest, TokenBucket
from arbees.kalshi.targets import TargetCache
from arbees.matching.kalshi_structure import KalshiStructure
from arbees.matching.venue_listings import build_catalogue
from arbees.polymarket.models import parse_gamma_teams
from arbees.venues import Listing
from arbees.venues.kalshi import KalshiListings
from arbees.wiring.discovery import kalshi_targets_cache, match_inputs

DATA = Path(__file__).resolve().parent.parent / "data" / "matching" / "milestones"
MIAMI_OH = "ffe6ef6d-e8c9-4220-8368-5392592862b5"
NOW = datetime(2026, 12, 13, 12, 0, tzinfo=UTC)


def body(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"), parse_float=Decimal)


class Kalshi:
    """A scripted Kalshi REST: one series, the slate's events, milestones and targets."""

    def __init__(self) -> None:
        self.seen: list[httpx.URL] = []
        self.fail: dict[str, int] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.url)
        route = request.url.path.rsplit("/", 1)[-1]
        if route in self.fail:
            return httpx.Response(self.fail[route], json={"error": "down"})
        if route == "KXNCAAMBGAME":
            return httpx.Response(
                200, json={"series": {"ticker": "KXNCAAMBGAME", "fee_multiplier": 1}}
            )
        if route == "events":
            return httpx.Response(200, text=(DATA / "kalshi_events.json").read_text())
        if route == "milestones":
            return httpx.Response(200, text=(DATA / "kalshi_milestones.json").read_text())
        if route == "structured_targets":
            wanted = set(request.url.params.get_list("ids"))
            page = body("kalshi_targets.json")
            page["structured_targets"] = [
                t for t in page["structured_targets"] if t["id"] in wanted
            ]
            return httpx.Response(200, text=json.dumps(page))
        return httpx.Response(404, json={"error": "not found"})

    def asked(self, route: str) -> int:
        return sum(1 for u in self.seen if u.path.endswith(f"/{route}"))


async def fetch(
    kalshi: Callable[[httpx.Request], httpx.Response],
    cache: Path | None = None,
    clock: Callable[[], datetime] = lambda: NOW,
) -> tuple[KalshiListings, Listing]:
    transport = httpx.MockTransport(kalshi)
    async with httpx.AsyncClient(transport=transport) as client:
        rest = KalshiRest(client, base_url="https://k.test/trade-api/v2", limiter=TokenBucket(1e6))
        listings = KalshiListings(rest, series=["KXNCAAMBGAME"], targets_cache=cache, clock=clock)
        return listings, await listings.fetch()


def catalogue() -> Any:
    teams, _ = parse_gamma_teams(body("gamma_teams.json"))
    return build_catalogue(teams)


async def test_a_round_reads_the_slates_milestones_and_the_targets_they_name(
    tmp_path: Path,
) -> None:
    kalshi = Kalshi()
    listings, listing = await fetch(kalshi, tmp_path / "targets.json")
    assert isinstance(listing.structure, KalshiStructure)
    (milestones,) = [u for u in kalshi.seen if u.path.endswith("/milestones")]
    assert milestones.params["category"] == "Sports"
    assert milestones.params["minimum_start_date"] == "2026-12-13T00:00:00Z"
    assert milestones.params["limit"] == "500"
    (targets,) = [u for u in kalshi.seen if u.path.endswith("/structured_targets")]
    asked = set(targets.params.get_list("ids"))
    assert MIAMI_OH in asked
    assert len(asked) == 8  # both teams of the four milestones, one unknown to Kalshi
    assert listings.structure_failures == 0
    inputs = match_inputs({"kalshi": listing}, catalogue())
    college = next(g for g in inputs.listings if g.event_id == "KXNCAAMBGAME-26DEC13MIAOHKENT")
    assert college.teams[0].source == f"kalshi_target:{MIAMI_OH}"
    assert college.start_time == datetime(2026, 12, 14, 0, 0, tzinfo=UTC)


async def test_targets_are_cached_on_disk_until_they_expire(tmp_path: Path) -> None:
    cache = tmp_path / "targets.json"
    await fetch(Kalshi(), cache)
    saved = json.loads(cache.read_text())
    assert {t["id"] for t in saved["targets"]} >= {MIAMI_OH}
    again = Kalshi()
    _, listing = await fetch(again, cache)  # a restart: the file answers
    assert isinstance(listing.structure, KalshiStructure)
    assert MIAMI_OH in listing.structure.targets
    # only the id Kalshi never returned is asked again
    (asked,) = [u for u in again.seen if u.path.endswith("/structured_targets")]
    assert len(asked.params.get_list("ids")) == 1


async def test_an_expired_target_is_asked_again() -> None:
    calls: list[list[str]] = []
    clock = [1000.0]

    async def ask(ids: list[str]) -> Any:
        calls.append(ids)
        return [StructuredTarget(i, f"Team {i}", "soccer_team") for i in ids], []

    cache = TargetCache(ask, max_age=60, clock=lambda: clock[0])
    assert [t.id for t in (await cache.get(["a", "b"]))[0]] == ["a", "b"]
    clock[0] += 59
    await cache.get(["b", "a"])
    clock[0] += 2
    await cache.get(["a"])
    assert calls == [["a", "b"], ["a"]]
    with pytest.raises(ValueError, match="max_age"):
        TargetCache(ask, max_age=0)


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"targets": {}}',
        '{"targets": [{"id": "x"}]}',
        '{"targets": [{"id": "x", "name": "X", "fetched_at": "yesterday"}]}',
    ],
)
async def test_a_broken_cache_file_is_ignored(tmp_path: Path, content: str) -> None:
    path = tmp_path / "targets.json"
    path.write_text(content)
    kalshi = Kalshi()
    _, listing = await fetch(kalshi, path)
    assert MIAMI_OH in listing.structure.targets
    assert kalshi.asked("structured_targets") == 1


@pytest.mark.parametrize(("route", "status"), [("milestones", 500), ("structured_targets", 503)])
async def test_a_failing_call_degrades_to_names_counted_never_stopping_discovery(
    route: str, status: int
) -> None:
    kalshi = Kalshi()
    kalshi.fail[route] = status
    listings, listing = await fetch(kalshi)
    assert listing.structure is None
    assert listings.structure_failures == 1
    assert len(listing.events) == 4  # the round's events are all there
    inputs = match_inputs({"kalshi": listing}, catalogue())
    college = next(g for g in inputs.listings if g.event_id == "KXNCAAMBGAME-26DEC13MIAOHKENT")
    assert college.teams[0].source == ""
    assert college.teams[0].code == "MIAOH"


@pytest.mark.parametrize(
    ("route", "page"),
    [
        ("milestones", {"milestones": [{"id": f"m{i}"} for i in range(501)], "cursor": ""}),
        ("milestones", ["garbage"]),
        ("structured_targets", {"structured_targets": [{"id": "t", "name": "T"}] * 2001}),
        ("structured_targets", {"targets": []}),
    ],
)
async def test_a_garbage_or_oversized_page_is_refused_and_counted(route: str, page: Any) -> None:
    kalshi = Kalshi()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(f"/{route}"):
            return httpx.Response(200, text=json.dumps(page))
        return kalshi(request)

    listings, listing = await fetch(handler)
    assert listing.structure is None
    assert listings.structure_failures == 1
    assert len(listing.events) == 4


async def test_a_venue_without_milestones_is_not_a_failure() -> None:
    kalshi = Kalshi()
    kalshi.fail["milestones"] = 404
    listings, listing = await fetch(kalshi)
    assert listing.structure is None
    assert listings.structure_failures == 0
    assert kalshi.asked("structured_targets") == 0


async def test_a_refused_milestone_or_target_is_reported_with_the_rounds_refusals() -> None:
    kalshi = Kalshi()
    milestones = body("kalshi_milestones.json")
    milestones["milestones"].append({"id": "broken", "start_date": "soon"})

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/milestones"):
            return httpx.Response(200, text=json.dumps(milestones))
        return kalshi(request)

    _, listing = await fetch(handler)
    assert [r.item for r in listing.rejected] == ["broken"]
    assert listing.structure is not None


def test_the_targets_cache_lives_next_to_the_team_catalogue(tmp_path: Path) -> None:
    assert kalshi_targets_cache(None) is None
    assert kalshi_targets_cache(tmp_path / "teams.json") == tmp_path / "teams.kalshi-targets.json"
