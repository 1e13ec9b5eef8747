"""Each venue payload is decoded once, and discovery and ``arbees match`` share the result.

Fixtures: ``tests/data/matching/slate`` (venue-shaped Kalshi ``/events`` and Gamma
``/events`` bodies of the matcher's cases) and ``tests/data/matching/
gamma_events_list_nautilus.json`` (a real Gamma ``/events`` answer, copied from
NautilusTrader's Polymarket test data).
"""

from __future__ import annotations

import copy
import json
import logging
import types
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from match_fixtures import DATA, load, match_bodies

import arbees.polymarket.models as poly_models
import arbees.venues.polymarket as venues_polymarket
import arbees.wiring.discovery as wiring_discovery
from arbees.cli import main
from arbees.errors import DecodeRejection
from arbees.kalshi.models import Event, Market, parse_events
from arbees.kalshi.rest import KalshiRest
from arbees.matching import Reason, Venue
from arbees.matching.venues import kalshi_games, polymarket_games
from arbees.polymarket.models import GammaEvent, parse_gamma_events
from arbees.services.discovery import discover_games
from arbees.testing.fake_kalshi_rest import API_ROOT, FakeKalshiRest
from arbees.testing.fake_polymarket import FakePolymarket
from arbees.venues.polymarket import GammaListings
from arbees.wiring.discovery import VenueGameSource, venue_game_source

SLATE = DATA / "slate"
NAUTILUS = DATA / "gamma_events_list_nautilus.json"
GOOD_TOKEN = "1" * 77  # 77 digits: below 2**256
TOKEN_79 = "9" * 79  # the feed refuses more than 78 digits: so must discovery


def _count(target: Callable[..., Any], calls: list[object]) -> Callable[..., Any]:
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[-1] if args else None)
        return target(*args, **kwargs)

    return counted


def _fake_kalshi(body: dict[str, Any]) -> FakeKalshiRest:
    fake = FakeKalshiRest()
    fake.add_series("KXNBAGAME", fee_multiplier=1)
    fake.add_series("KXNHLGAME", fee_multiplier="1.5")
    for event in body["events"]:
        fake.event_titles[event["event_ticker"]] = event["title"]
        for m in event["markets"]:
            fake.add_market(
                m["ticker"],
                event_ticker=event["event_ticker"],
                series_ticker=event["series_ticker"],
                yes_sub_title=m["yes_sub_title"],
                no_sub_title=m["no_sub_title"],
                status=m["status"],
            )
    return fake


@asynccontextmanager
async def _source(gamma_body: list[Any]) -> AsyncIterator[tuple[VenueGameSource, FakePolymarket]]:
    kalshi_body, _ = load("slate")
    kalshi_fake = _fake_kalshi(kalshi_body)
    gamma_fake = FakePolymarket()
    gamma_fake.events.extend(gamma_body)
    async with (
        trio.open_nursery() as nursery,
        httpx.AsyncClient(transport=kalshi_fake.mock_transport()) as kclient,
        httpx.AsyncClient() as gclient,
    ):
        urls = await nursery.start(gamma_fake.run)
        kalshi = KalshiRest(kclient, base_url=f"http://kalshi.test{API_ROOT}")
        yield venue_game_source(kalshi, gclient, gamma_url=urls.gamma_url, page_size=5), gamma_fake
        nursery.cancel_scope.cancel()


async def test_one_discovery_decodes_each_payload_once(monkeypatch: pytest.MonkeyPatch) -> None:
    kalshi_body, gamma_body = load("slate")
    loads: list[object] = []
    gamma_markets: list[object] = []
    kalshi_events: list[object] = []
    kalshi_markets: list[object] = []
    monkeypatch.setattr(
        venues_polymarket, "json", types.SimpleNamespace(loads=_count(json.loads, loads))
    )
    monkeypatch.setattr(
        poly_models, "parse_gamma_market", _count(poly_models.parse_gamma_market, gamma_markets)
    )
    monkeypatch.setattr(
        Event, "from_json", classmethod(_count(Event.from_json.__func__, kalshi_events))
    )
    monkeypatch.setattr(
        Market, "from_json", classmethod(_count(Market.from_json.__func__, kalshi_markets))
    )
    async with _source(gamma_body) as (source, gamma_fake):
        inputs = await source.discover()
    gamma_pages = [p for _m, p in gamma_fake.requests if p == "/events"]
    # One JSON parse per Gamma answer, one decode per market in it (/sports once, then
    # NBA's series in three pages of 5 and NHL's in two: the 23 markets once each); the
    # team catalogue's /teams answer (one empty page here) is parsed once too.
    teams_pages = [p for _m, p in gamma_fake.requests if p == "/teams"]
    sports_pages = [p for _m, p in gamma_fake.requests if p == "/sports"]
    assert len(teams_pages) == len(sports_pages) == 1
    assert len(gamma_pages) == 3 + 2
    assert len(loads) == len(gamma_pages) + len(teams_pages) + len(sports_pages)
    gamma = source.listings["polymarket"]
    assert isinstance(gamma, GammaListings)
    assert gamma.leagues == ("NBA", "NHL")
    assert len(gamma_markets) == 23
    # Kalshi: each event and market of the two series decoded once, never re-parsed.
    assert len(kalshi_events) == len(kalshi_body["events"]) == 16
    assert len(kalshi_markets) == 31
    assert len(discover_games(inputs).games) == 11


async def test_discovery_and_match_see_the_same_typed_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kalshi_body, gamma_body = load("slate")
    seen: dict[str, list[Any]] = {}

    def spy(name: str, convert: Callable[..., Any]) -> Callable[..., Any]:
        def spied(events: Any, *rest: Any) -> Any:
            seen[name] = list(events)
            return convert(seen[name], *rest)

        return spied

    monkeypatch.setattr(wiring_discovery, "kalshi_games", spy("kalshi", kalshi_games))
    monkeypatch.setattr(wiring_discovery, "polymarket_games", spy("gamma", polymarket_games))
    async with _source(gamma_body) as (source, _gamma_fake):
        inputs = await source.discover()
    assert all(isinstance(e, Event) for e in seen["kalshi"])
    assert all(isinstance(e, GammaEvent) for e in seen["gamma"])
    decoded, refused = parse_gamma_events(gamma_body)
    assert len(refused) == 1  # the slate's market with one token for two outcomes
    assert sorted(seen["gamma"], key=lambda e: e.id) == sorted(decoded, key=lambda e: e.id)
    k_events, _ = parse_events(kalshi_body)
    assert set(kalshi_games(seen["kalshi"])[0]) == set(kalshi_games(k_events)[0])
    # `arbees match` on the same bodies pairs exactly what discovery pairs.
    assert discover_games(inputs).report.matches == match_bodies(kalshi_body, gamma_body).matches


def test_real_gamma_answer_decodes_without_rejections() -> None:
    body = json.loads(NAUTILUS.read_text(encoding="utf-8"))
    events, refused = parse_gamma_events(body)
    assert refused == []
    (event,) = events
    assert event.slug == "democratic-presidential-nominee-2028"
    assert len(event.markets) == len(body[0]["markets"])
    assert all(len(m.outcomes) == 2 for m in event.markets)


# ---- rejections: counted, logged, never a crash, nothing valid lost --------------------------


def _okc_event() -> dict[str, Any]:
    _, gamma = load("straightforward")
    return copy.deepcopy(gamma[0])


def _with_second_market(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    bad = dict(event["markets"][0], conditionId="0x" + "ab" * 32, **changes)
    event["markets"].append(bad)
    return event


BAD_MARKETS = [
    ("token of 79 digits", {"clobTokenIds": json.dumps([TOKEN_79, GOOD_TOKEN])}, "clobTokenIds"),
    ("token of 10k digits", {"clobTokenIds": json.dumps(["7" * 10_000, "1"])}, "clobTokenIds"),
    ("token not decimal", {"clobTokenIds": '["0xab", "12"]'}, "clobTokenIds"),
    ("outcomes garbage", {"outcomes": "[Thunder"}, "outcomes"),
    ("outcomes nested deep", {"outcomes": "[" * 100_000}, "outcomes"),
    ("outcomes of numbers", {"outcomes": "[1, 2]"}, "outcomes"),
    ("question a list", {"question": ["x"]}, "question"),
    ("closed a string", {"closed": "no"}, "closed"),
    ("fee rate NaN", {"feeSchedule": {"rate": "NaN"}}, "feeSchedule.rate"),
    ("start naive", {"gameStartTime": "2026-10-21 00:00:00"}, "gameStartTime"),
    ("line an object", {"line": {"x": 1}}, "line"),
]


@pytest.mark.parametrize(
    ("changes", "field"), [c[1:] for c in BAD_MARKETS], ids=[c[0] for c in BAD_MARKETS]
)
def test_a_bad_market_is_refused_alone(
    changes: dict[str, Any], field: str, caplog: pytest.LogCaptureFixture
) -> None:
    event = _with_second_market(_okc_event(), **changes)
    good_cid = event["markets"][0]["conditionId"]
    with caplog.at_level(logging.INFO, logger="arbees.polymarket.models"):
        events, refused = parse_gamma_events([event])
    ((decoded,),) = [[m.condition_id for m in e.markets] for e in events]
    assert decoded == good_cid  # its neighbour survives
    (rejection,) = refused
    assert rejection.item == "0x" + "ab" * 32
    assert rejection.field == field
    assert any(rejection.item in r.getMessage() for r in caplog.records)
    assert "1 items rejected" in caplog.text


def test_garbage_events_are_counted_and_named_by_position() -> None:
    good = _okc_event()
    body = [3, "x", None, {"slug": ""}, {"slug": 7}, good, {"slug": "e", "tags": "nba"}]
    events, refused = parse_gamma_events(body)
    assert [e.slug for e in events] == [good["slug"]]
    positions = [f"events[{i}]" for i in range(5)]
    assert [r.item for r in refused] == [*positions, "e"]
    assert refused[-1].field == "tags"


def test_an_event_whose_every_market_is_refused_is_left_out() -> None:
    event = _okc_event()
    event["markets"][0]["clobTokenIds"] = json.dumps([TOKEN_79, GOOD_TOKEN])
    events, refused = parse_gamma_events([event])
    assert events == []
    assert [r.item for r in refused] == [event["markets"][0]["conditionId"]]


def test_kalshi_garbage_events_are_refused_alone(caplog: pytest.LogCaptureFixture) -> None:
    kalshi, _ = load("straightforward")
    good = kalshi["events"][0]
    bad_market = copy.deepcopy(good)
    bad_market["event_ticker"] = "KXNBAGAME-26OCT21OKCSAS"
    bad_market["markets"][0]["close_time"] = "soon"
    body = {"events": [7, {"title": "no ticker"}, bad_market, good, {**good, "markets": [1]}]}
    with caplog.at_level(logging.INFO, logger="arbees.kalshi.models"):
        events, refused = parse_events(body)
    assert [e.event_ticker for e in events] == [good["event_ticker"]]
    assert [r.item for r in refused] == [
        "events[0]",
        "events[1]",
        "KXNBAGAME-26OCT21OKCSAS",
        good["event_ticker"],
    ]
    assert refused[2].field == "close_time"
    assert sum("rejected" in r.getMessage() for r in caplog.records) == 4


def test_decoder_rejections_reach_the_match_report() -> None:
    kalshi, gamma = load("straightforward")
    kalshi["events"].append({"event_ticker": 5})
    gamma = [_with_second_market(gamma[0], clobTokenIds=json.dumps([TOKEN_79, GOOD_TOKEN]))]
    report = match_bodies(kalshi, gamma)
    assert len(report.matches) == 1  # the valid pair is still matched
    assert (Venue.KALSHI, "events[1]", Reason.MALFORMED) in {
        (r.venue, r.id, r.reason_code) for r in report.rejections
    }
    assert (Venue.POLYMARKET, "0x" + "ab" * 32, Reason.MALFORMED) in {
        (r.venue, r.id, r.reason_code) for r in report.rejections
    }


def test_arbees_match_reports_decoder_rejections(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kalshi, gamma = load("straightforward")
    kalshi["events"].append("garbage")
    gamma = [_with_second_market(gamma[0], clobTokenIds=json.dumps([TOKEN_79, GOOD_TOKEN]))]
    (tmp_path / "k.json").write_text(json.dumps(kalshi), encoding="utf-8")
    (tmp_path / "g.json").write_text(json.dumps(gamma), encoding="utf-8")
    args = ["match", "--kalshi", str(tmp_path / "k.json"), "--polymarket", str(tmp_path / "g.json")]
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["matches"]) == 1
    rows = {(r["venue"], r["id"], r["reason"]) for r in doc["rejections"]}
    assert ("kalshi", "events[1]", "malformed") in rows
    assert ("polymarket", "0x" + "ab" * 32, "malformed") in rows


async def test_discovery_reports_refused_gamma_items() -> None:
    _, gamma_body = load("slate")
    poisoned = [*copy.deepcopy(gamma_body), {"slug": 3, "seriesSlug": "nba"}]
    _with_second_market(poisoned[0], clobTokenIds=json.dumps([TOKEN_79, GOOD_TOKEN]))
    async with _source(poisoned) as (source, _gamma_fake):
        inputs = await source.discover()
    found = discover_games(inputs)
    assert len(found.games) == 11  # every valid game still found
    refused = {(r.venue, r.id, r.reason_code) for r in found.report.rejections}
    assert (Venue.POLYMARKET, "0x" + "ab" * 32, Reason.MALFORMED) in refused
    # the NBA series' 12th event, counted over its pages
    assert (Venue.POLYMARKET, "events[11]", Reason.MALFORMED) in refused
    # reported once
    assert [r.id for r in found.report.rejections].count("0x" + "ab" * 32) == 1


def test_decode_rejection_names_item_and_field() -> None:
    events, refused = parse_gamma_events([{"slug": "x", "markets": [{"active": "yes"}]}])
    assert events == []
    assert refused == [
        DecodeRejection("x/markets[0]", "active: expected a boolean, got str", "active")
    ]


async def test_kalshi_pages_name_refused_events_across_pages() -> None:
    kalshi, _ = load("straightforward")
    good = kalshi["events"][0]
    pages = {"": {"events": [good], "cursor": "p2"}, "p2": {"events": [7], "cursor": ""}}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[request.url.params.get("cursor", "")])

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        rest = KalshiRest(client, base_url=f"http://kalshi.test{API_ROOT}")
        got = [page async for page in rest.iter_event_pages(series_ticker="KXNBAGAME")]
        events = [e async for e in rest.iter_events(series_ticker="KXNBAGAME")]
    assert [([e.event_ticker for e in es], [r.item for r in rs]) for es, rs in got] == [
        ([good["event_ticker"]], []),
        ([], ["events[1]"]),  # the second event of the series, not of its page
    ]
    assert [e.event_ticker for e in events] == [good["event_ticker"]]
