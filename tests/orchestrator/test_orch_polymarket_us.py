"""Polymarket US in the orchestrator's event specs (issue 17): its contracts and fee terms
go into the shard assignment (the shard streams its slugs directly), never into a monitor
assignment; a two-team Kalshi x Polymarket game that Polymarket US also lists becomes one
three-venue event."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from arbees.codec import decode, encode
from arbees.fees import KalshiFeeModel, MarketFees, PolymarketFeeModel, terms_model
from arbees.kalshi.models import parse_events
from arbees.matching.venue_listings import build_catalogue
from arbees.polymarket.models import parse_gamma_events, parse_gamma_teams
from arbees.polymarket_us.models import parse_events as parse_us_events
from arbees.polymarket_us.rest import PolymarketUsRest, RestConfig
from arbees.services.discovery import discover_games
from arbees.venues import Listing
from arbees.venues.polymarket_us import PolymarketUsListings, polymarket_us_fee_model
from arbees.wiring.discovery import match_inputs

DATA = Path(__file__).resolve().parent.parent / "data" / "matching"
US = "polymarket-us"
NFL = "NFL:20261206:BUF-KC:moneyline"
EPL = "EPL:20261206:MCI-MUN:moneyline"


def body(path: str) -> Any:
    return json.loads((DATA / path).read_text(encoding="utf-8"), parse_float=Decimal)


def us_listing(raw: Any) -> Listing:
    events, refused = parse_us_events(raw)
    assert refused == []
    fees = {m.slug: polymarket_us_fee_model(m) for e in events for m in e.markets}
    return Listing(tuple(events), (), fees)


def slate_inputs(gamma_teams: Any, kalshi: Any, gamma: Any, us: Any) -> Any:
    k_events, _ = parse_events(kalshi)
    g_events, _ = parse_gamma_events(gamma)
    teams, _ = parse_gamma_teams(gamma_teams)
    listings = {
        "kalshi": Listing(
            tuple(k_events), (), {e.event_ticker: MarketFees(KalshiFeeModel("1")) for e in k_events}
        ),
        "polymarket": Listing(
            tuple(g_events),
            (),
            {
                m.condition_id: MarketFees(PolymarketFeeModel(Decimal("0.05")))
                for e in g_events
                for m in e.markets
            },
        ),
        US: us_listing(us),
    }
    return match_inputs(listings, build_catalogue(teams))


def leagues_inputs() -> Any:
    return slate_inputs(
        body("leagues/gamma_teams.json"),
        body("leagues/kalshi_events.json"),
        body("leagues/gamma_events.json"),
        body("leagues/polymarket_us_events.json"),
    )


def test_event_specs_carry_polymarket_us_contracts_and_fee_terms() -> None:
    found = discover_games(leagues_inputs())
    spec = found.games[NFL]
    slug = "aec-nfl-buf-kc-2026-12-06"
    assert spec.venue_instruments()[US] == (slug,)
    terms = spec.fee_terms(US)
    assert terms is not None
    assert terms.kind == "polymarket-us"
    assert terms.schedule == "higher"  # no feeSchedule in its metadata: the higher default
    shard = spec.shard_assignment("s1", action="assign", epoch=1, timestamp_ms=1)
    assert shard.event_problem() is None
    assert decode(encode(shard)) == shard
    assert {(c.venue, c.instrument, c.side) for c in shard.contracts if c.venue == US} == {
        (US, slug, "yes"),
        (US, slug, "no"),
    }
    # streamed by the shard directly: no monitor assignment names a Polymarket US slug
    monitor = spec.monitor_assignments("s1", action="assign", epoch=1, timestamp_ms=1)
    assert monitor
    assert all(m.token_id.isdigit() for m in monitor)
    assert slug not in {m.token_id for m in monitor} | {m.market_id for m in monitor}
    assert found.fee_defaults >= 1


def test_markets_with_different_schedules_are_priced_at_the_highest_of_each() -> None:
    found = discover_games(leagues_inputs())
    terms = found.games[EPL].fee_terms(US)
    assert terms is not None
    model = terms_model(terms)
    # curve 0.05 on the team markets, notional 30 bps on the draw: the higher of both
    assert (terms.schedule, terms.taker_bps, terms.rate) == ("higher", 30, "0.05")
    assert model.fee(900_000, 100 * 1_000_000) == 450_000  # curve 0.05 x 100 x .9 x .1
    assert model.fee(990_000, 100 * 1_000_000) == 300_000  # 30 bps x 99 = 0.297, cent up


def test_a_kalshi_and_polymarket_us_event_has_no_monitor_assignment() -> None:
    found = discover_games(leagues_inputs())
    spec = found.games["MLB:20260926:BOS-NYY:total:9.5"]
    assert set(spec.venue_instruments()) == {"kalshi", US}
    assert spec.monitor_assignments("s1", action="assign", epoch=1, timestamp_ms=1) == []


def _nba_us_event() -> dict[str, Any]:
    """The straightforward case's NBA game on Polymarket US (the docs' event shape)."""
    start = "2026-10-21T00:00:00Z"
    return {
        "events": [
            {
                "id": "13001",
                "slug": "aec-nba-okc-sas-2026-10-20",
                "title": "Thunder vs. Spurs",
                "seriesSlug": "nba",
                "startTime": start,
                "markets": [
                    {
                        "id": "51001",
                        "slug": "aec-nba-okc-sas-2026-10-20",
                        "question": "Thunder vs. Spurs",
                        "active": True,
                        "closed": False,
                        "sportsMarketType": "moneyline",
                        "home_team_name": "San Antonio Spurs",
                        "away_team_name": "Oklahoma City Thunder",
                        "tournament_name": "NBA",
                        "gameStartTime": start,
                        "marketSides": [
                            {"description": "Thunder", "long": True},
                            {"description": "Spurs", "long": False},
                        ],
                    }
                ],
            }
        ]
    }


def test_a_two_team_game_polymarket_us_also_lists_becomes_one_three_venue_event() -> None:
    pair_only = slate_inputs(
        [],
        body("straightforward/kalshi_events.json"),
        body("straightforward/gamma_events.json"),
        {"events": []},
    )
    before = discover_games(pair_only)
    assert list(before.games) == ["KXNBAGAME-26OCT20OKCSAS"]  # the NBA/NBA pair game
    three = slate_inputs(
        [],
        body("straightforward/kalshi_events.json"),
        body("straightforward/gamma_events.json"),
        _nba_us_event(),
    )
    after = discover_games(three)
    assert list(after.games) == ["NBA:20261020:OKC-SAS:moneyline"]
    spec = after.games["NBA:20261020:OKC-SAS:moneyline"]
    assert set(spec.venue_instruments()) == {"kalshi", "polymarket", US}
    assert spec.kalshi_event_ticker == "KXNBAGAME-26OCT20OKCSAS"
    # the Polymarket tokens the pair game streamed are still the monitor's
    pair_tokens = set(before.games["KXNBAGAME-26OCT20OKCSAS"].tokens)
    assert set(spec.tokens) == pair_tokens


async def test_polymarket_us_discovery_over_rest_reaches_the_events(autojump_clock: object) -> None:
    """The venue's own listings (REST pages decoded once, fee models, refusals) through
    match_inputs: its games join the slate's events and its refusals the match report."""
    raw = json.loads((DATA / "leagues" / "polymarket_us_events.json").read_bytes())
    raw["events"].append({"id": "9", "title": "no slug", "markets": []})
    content = json.dumps(raw).encode()
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(200, content=content)

    transport = httpx.MockTransport(handler)
    async with httpx.AsyncClient(transport=transport) as client:
        rest = PolymarketUsRest(client, RestConfig(base_url="http://pmus", page_size=100))
        listing = await PolymarketUsListings(rest).fetch()
    assert paths == ["/v1/events"]
    leagues = leagues_inputs()
    listings = {
        "kalshi": Listing(leagues_kalshi(), (), {}),
        "polymarket": Listing(leagues_gamma(), (), {}),
        US: listing,
    }
    teams, _ = parse_gamma_teams(body("leagues/gamma_teams.json"))
    found = discover_games(match_inputs(listings, build_catalogue(teams)))
    assert set(found.games) == set(discover_games(leagues).games)
    assert set(found.games[EPL].venue_instruments()) == {"kalshi", "polymarket", US}
    assert [(r.venue, r.id) for r in found.report.rejections if r.venue == US] == [
        (US, "events[4]")
    ]


def leagues_kalshi() -> tuple[Any, ...]:
    events, _ = parse_events(body("leagues/kalshi_events.json"))
    return tuple(events)


def leagues_gamma() -> tuple[Any, ...]:
    events, _ = parse_gamma_events(body("leagues/gamma_events.json"))
    return tuple(events)


def test_an_event_without_kalshi_is_still_one_runnable_assignment() -> None:
    inputs = slate_inputs(
        body("leagues/gamma_teams.json"),
        {"events": []},
        body("leagues/gamma_events.json"),
        body("leagues/polymarket_us_events.json"),
    )
    spec = discover_games(inputs).games[EPL]
    assert set(spec.venue_instruments()) == {"polymarket", US}
    shard = spec.shard_assignment("s1", action="assign", epoch=1, timestamp_ms=1)
    assert shard.event_problem() is None
    assert decode(encode(shard)) == shard
    monitor = spec.monitor_assignments("s1", action="assign", epoch=1, timestamp_ms=1)
    assert {m.token_id for m in monitor} == set(spec.venue_instruments()["polymarket"])
