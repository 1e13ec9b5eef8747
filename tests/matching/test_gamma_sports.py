"""Polymarket leagues from Gamma's ``/sports``: each entry decoded alone, each league's games
read by its series id, a sport no league maps reported, a failing league leaving the others.

``tests/data/polymarket/gamma_sports.json`` is a faithful fake of ``GET /sports`` (see
``tests/data/README``); the discovery tests run against the fake Gamma server, which serves
``/sports`` and ``/events?series_id=``, or an ``httpx.MockTransport`` where a body must be
broken on purpose.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from arbees.errors import DecodeError, DecodeRejection
from arbees.matching import Reason, Venue
from arbees.matching.leagues import GAMMA_SLUG_OVERRIDES, LEAGUE_TABLE, gamma_league
from arbees.matching.venues import decode_rejections
from arbees.polymarket.models import (
    MAX_GAMMA_SPORTS,
    UNMAPPED_FIELD,
    parse_gamma_events,
    parse_gamma_sports,
)
from arbees.testing.fake_polymarket import DEFAULT_SPORTS, FakePolymarket
from arbees.venues.polymarket import LEAGUE_FAILED_FIELD, GammaListings, unmapped_sports
from arbees.wiring.discovery import gamma_unavailable, match_inputs

DATA = Path(__file__).resolve().parent.parent / "data"
SPORTS = json.loads((DATA / "polymarket" / "gamma_sports.json").read_text(encoding="utf-8"))
LEAGUES = DATA / "matching" / "leagues"


def _gamma_events() -> list[Any]:
    text = (LEAGUES / "gamma_events.json").read_text(encoding="utf-8")
    events: list[Any] = json.loads(text)
    return events


def test_the_sports_body_decodes_every_entry() -> None:
    sports, refused = parse_gamma_sports(SPORTS)
    assert refused == []
    assert len(sports) == len(SPORTS) == 15
    epl = next(s for s in sports if s.sport == "epl")
    assert (epl.series, epl.tags, epl.ordering, epl.id) == (
        "10188",
        ("1", "82", "306", "100639", "100350"),
        "home",
        "2",
    )
    # every league of the table is one sport code of this list: bun and ucl included
    by_code = {s.sport: s for s in sports}
    for league in LEAGUE_TABLE:
        if league.key != "MLB":  # not in the February list (no MLB games then)
            assert any(code in by_code for code in league.gamma), league.key
    assert gamma_league("bun") is not None
    assert gamma_league("bun").key == "BUNDESLIGA"
    assert by_code["bun"].series == "10194"
    assert by_code["ucl"].series == "10204"
    # the sports the table does not map are reported, never silently ignored
    assert [r.item for r in unmapped_sports(sports)] == ["sport:atp", "sport:ipl", "sport:cs2"]


def test_a_bad_entry_is_refused_alone_and_counted() -> None:
    good = SPORTS[1]
    body = [
        7,
        {**good, "sport": "nba", "series": ""},  # no series id: nothing to ask for
        {**good, "sport": "Ü ber"},
        {**good, "sport": "nhl", "tags": "1,x"},
        {**good, "sport": "nfl", "series": True},
        {**good, "sport": "mls", "ordering": "middle"},
        {**good, "sport": "lal", "series": "1" * 21},
        good,
        {**good, "series": "1"},  # epl twice
    ]
    sports, refused = parse_gamma_sports(body)
    assert [s.sport for s in sports] == ["epl"]
    assert [(r.item, r.field) for r in refused] == [
        ("sports[0]", None),
        ("sport:nba", "series"),
        ("sport:Ü ber", "sport"),
        ("sport:nhl", "tags"),
        ("sport:nfl", "series"),
        ("sport:mls", "ordering"),
        ("sport:lal", "series"),
        ("sport:epl", "sport"),
    ]
    with pytest.raises(DecodeError):
        parse_gamma_sports({"sports": body})


def test_an_oversized_sports_list_is_cut_and_the_rest_refused_as_one() -> None:
    body = [{"sport": f"s{i}", "series": str(i)} for i in range(MAX_GAMMA_SPORTS + 5)]
    sports, refused = parse_gamma_sports(body)
    assert len(sports) == MAX_GAMMA_SPORTS
    assert [(r.item, r.field) for r in refused] == [(f"sports[{MAX_GAMMA_SPORTS}:]", "sports")]
    assert "5 entries" in refused[0].reason


def test_the_overrides_name_a_league_of_the_table() -> None:
    keys = {lg.key for lg in LEAGUE_TABLE}
    assert set(GAMMA_SLUG_OVERRIDES.values()) <= keys
    assert gamma_league("cbb") == gamma_league("ncaab") is not None


def test_an_event_sport_votes_on_its_league() -> None:
    raw = json.loads((LEAGUES / "gamma_events.json").read_text(), parse_float=Decimal)
    raw = [e for e in raw if e["slug"].startswith("epl-")][:1]
    raw[0]["sport"] = {"sport": "nba", "series": "10345"}
    from arbees.matching.venue_listings import polymarket_listings

    events, bad = parse_gamma_events(raw)
    assert bad == []
    assert events[0].sport == "nba"
    games, refused = polymarket_listings(events)
    assert games == []
    assert [u.reason for u in refused] == [Reason.LEAGUE_MISMATCH]
    raw[0]["sport"] = {"sport": "not a code!"}
    events, bad = parse_gamma_events(raw)
    assert events == []
    assert [r.field for r in bad] == ["sport"]


@asynccontextmanager
async def _fake(events: list[Any]) -> AsyncIterator[tuple[FakePolymarket, str]]:
    fake = FakePolymarket()
    fake.events.extend(events)
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        yield fake, urls.gamma_url
        nursery.cancel_scope.cancel()


def _asked(fake: FakePolymarket) -> list[str]:
    return [p for _m, p in fake.requests]


async def test_each_league_is_reached_by_its_series_id() -> None:
    async with _fake(_gamma_events()) as (fake, url), httpx.AsyncClient() as client:
        gamma = GammaListings(client, url=url, leagues=("EPL", "NFL", "BUNDESLIGA"))
        listing = await gamma.fetch()
    # /sports once, then the three leagues' series in table order (one page each)
    assert _asked(fake)[0] == "/sports"
    assert fake.series_asked == ["10187", "10188", "10194"]
    assert {e.slug.split("-")[0] for e in listing.events} == {"nfl", "epl"}
    # the sports no league maps are reported (and counted), the leagues asked for are not
    unmapped = [r.item for r in listing.rejected if r.field == UNMAPPED_FIELD]
    assert unmapped == ["sport:atp", "sport:cs2"]
    assert gamma.stats.unmapped == 2
    assert gamma.stats.sports == len(DEFAULT_SPORTS)
    report = decode_rejections(Venue.POLYMARKET, listing.rejected)
    assert {r.id for r in report if r.reason_code is Reason.UNMAPPED} == set(unmapped)


async def test_a_league_with_no_sports_entry_is_reported() -> None:
    async with _fake(_gamma_events()) as (fake, url), httpx.AsyncClient() as client:
        fake.sports = [s for s in fake.sports if s["sport"] != "bun"]
        listing = await GammaListings(client, url=url, leagues=("BUNDESLIGA", "EPL")).fetch()
    assert (
        DecodeRejection(
            "league:BUNDESLIGA", "no Gamma /sports entry for league BUNDESLIGA", UNMAPPED_FIELD
        )
        in listing.rejected
    )
    assert {e.slug.split("-")[0] for e in listing.events} == {"epl"}


async def test_a_failing_league_does_not_stop_the_others() -> None:
    async with _fake(_gamma_events()) as (fake, url), httpx.AsyncClient() as client:
        gamma = GammaListings(client, url=url, leagues=("NFL", "EPL", "MLB"))
        fake.fail_next(503, path="/events")  # NFL's first page
        listing = await gamma.fetch()
    failed = [r for r in listing.rejected if r.field == LEAGUE_FAILED_FIELD]
    assert [r.item for r in failed] == ["sport:nfl"]
    assert "HTTP 503" in failed[0].reason
    assert {e.slug.split("-")[0] for e in listing.events} == {"epl", "mlb"}
    assert gamma.stats.failed_leagues == 1
    # the failed league's games are kept by the orchestrator this round, not retired
    assert gamma_unavailable(listing.rejected) == ["KXNFLGAME-", "KXNFLSPREAD-", "KXNFLTOTAL-"]
    assert match_inputs({"polymarket": listing}).unavailable == (
        "KXNFLGAME-",
        "KXNFLSPREAD-",
        "KXNFLTOTAL-",
    )


def _transport(
    sports: Callable[[], httpx.Response], events: dict[str, Callable[[], httpx.Response]]
) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/sports"):
            return sports()
        return events[request.url.params["series_id"]]()

    return httpx.MockTransport(handler)


def _ok(body: object) -> Callable[[], httpx.Response]:
    return lambda: httpx.Response(200, json=body)


async def test_garbage_and_oversized_bodies_are_refused_and_counted() -> None:
    sports = [{"sport": "epl", "series": "1"}, {"sport": "nfl", "series": "2"}]
    nfl = [{"id": "7", "slug": "nfl-buf-kc-2026-12-06", "title": "Bills vs. Chiefs"}]
    for bad in (
        lambda: httpx.Response(200, content=b"<html>not json</html>"),
        _ok({"error": "not a list"}),
        lambda: httpx.Response(200, content=b"[" + b" " * 5000 + b"]"),  # over max_body
    ):
        transport = _transport(_ok(sports), {"1": bad, "2": _ok(nfl)})
        async with httpx.AsyncClient(transport=transport) as client:
            gamma = GammaListings(client, url="http://gamma", max_body=4096)
            listing = await gamma.fetch()
        failed = [r.item for r in listing.rejected if r.field == LEAGUE_FAILED_FIELD]
        assert failed == ["sport:epl"]
        assert [e.slug for e in listing.events] == ["nfl-buf-kc-2026-12-06"]
        assert gamma.stats.failed_leagues == 1


async def test_garbage_sports_body_fails_the_round() -> None:
    for bad in (
        lambda: httpx.Response(200, content=b"{"),
        _ok({"sports": []}),
        lambda: httpx.Response(200, content=b"[" + b" " * 5000 + b"]"),
    ):
        transport = _transport(bad, {})
        async with httpx.AsyncClient(transport=transport) as client:
            with pytest.raises(DecodeError):
                await GammaListings(client, url="http://gamma", max_body=4096).fetch()


async def test_a_rate_limit_is_waited_out_then_fails_the_league() -> None:
    answers = iter(
        [httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, json=[])]
    )
    limited = lambda: httpx.Response(429, headers={"Retry-After": "0"})  # noqa: E731
    transport = _transport(
        _ok([{"sport": "epl", "series": "1"}, {"sport": "nfl", "series": "2"}]),
        {"1": lambda: next(answers), "2": limited},
    )
    async with httpx.AsyncClient(transport=transport) as client:
        gamma = GammaListings(client, url="http://gamma", leagues=("EPL", "NFL"))
        listing = await gamma.fetch()
    # EPL: one 429 waited out; NFL: 429 every time, refused after the retries
    (failed,) = [r for r in listing.rejected if r.field == LEAGUE_FAILED_FIELD]
    assert failed.item == "sport:nfl"
    assert "429" in failed.reason
    assert gamma.stats.rate_limited == 1 + 4
    assert "after 3 retries" in failed.reason


def test_arbees_match_shows_the_unmapped_sports(capsys: pytest.CaptureFixture[str]) -> None:
    from arbees.cli import main

    args = [
        "match",
        "--kalshi",
        str(LEAGUES / "kalshi_events.json"),
        "--polymarket",
        str(LEAGUES / "gamma_events.json"),
        "--sports",
        str(DATA / "polymarket" / "gamma_sports.json"),
    ]
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    unmapped = [u for u in doc["unmatched"] if u["reason"] == "unmapped"]
    assert sorted(u["id"] for u in unmapped) == ["sport:atp", "sport:cs2", "sport:ipl"]
    assert main(args) == 0
    assert "unmapped" in capsys.readouterr().out
