"""Kalshi sports series discovered from the venue (``GET /series?category=Sports``), not a
hard-coded list: every game / total / spread series of a known league, narrowed by league
and market type; a series that fails does not stop the others."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from arbees.errors import RateLimitedError
from arbees.kalshi.models import parse_series_list
from arbees.kalshi.rest import KalshiRest
from arbees.matching.leagues import gamma_leagues, select_series
from arbees.venues.kalshi import KalshiListings
from arbees.wiring.discovery import gamma_leagues_for, venue_game_source

DATA = Path(__file__).resolve().parent.parent / "data" / "matching" / "leagues"
SERIES = json.loads((DATA / "kalshi_series.json").read_text(encoding="utf-8"), parse_float=Decimal)
EVENTS = json.loads((DATA / "kalshi_events.json").read_text(encoding="utf-8"), parse_float=Decimal)


def test_series_list_decodes_each_series_with_its_fees() -> None:
    series, refused = parse_series_list(SERIES)
    assert refused == []
    nfl = next(s for s in series if s.ticker == "KXNFLGAME")
    assert (nfl.title, nfl.fee_type, nfl.fee_multiplier) == (
        "Pro Football Game",
        "quadratic",
        1_000_000,
    )
    bad = {"series": [{"ticker": "KXBAD", "fee_multiplier": "x"}, 7, *SERIES["series"][:1]]}
    series, refused = parse_series_list(bad)
    assert [s.ticker for s in series] == ["KXNFLGAME"]
    assert [r.item for r in refused] == ["KXBAD", "series[1]"]


def test_select_series_by_league_and_market_type() -> None:
    tickers = [s["ticker"] for s in SERIES["series"]]
    assert "KXNFLMVP" not in select_series(tickers)  # futures are no games
    assert select_series(tickers, leagues=["MLB"]) == ["KXMLBGAME", "KXMLBTOTAL"]
    assert select_series(tickers, leagues=["MLB"], market_types=["total"]) == ["KXMLBTOTAL"]
    assert "KXEPLGAME" not in select_series(tickers, exclude_leagues=["EPL"])
    assert gamma_leagues_for(["KXNCAAMBGAME", "KXNFLSPREAD", "KXNFLMVP"]) == ("NCAAB", "NFL")
    assert gamma_leagues(["NFL", "EPL"]) == ["NFL", "EPL"]  # table order
    assert "EPL" not in gamma_leagues(exclude_leagues=["EPL"])


def kalshi_handler(fail: set[str]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/series"):
            assert request.url.params["category"] == "Sports"
            return httpx.Response(200, json=json.loads(json.dumps(SERIES, default=str)))
        if path.endswith("/events"):
            series = request.url.params["series_ticker"]
            if series in fail:
                return httpx.Response(500, json={"error": "boom"})
            events = [e for e in EVENTS["events"] if e["series_ticker"] == series]
            body = {"events": events, "cursor": ""}
            return httpx.Response(200, json=json.loads(json.dumps(body, default=str)))
        return httpx.Response(404, json={"error": "not found"})

    return handler


async def test_a_failing_series_does_not_stop_the_others() -> None:
    transport = httpx.MockTransport(kalshi_handler({"KXEPLGAME"}))
    async with httpx.AsyncClient(transport=transport) as client:
        rest = KalshiRest(client, base_url="http://fake/trade-api/v2", max_retries=0)
        listing = await KalshiListings(rest).fetch()
    tickers = {e.event_ticker for e in listing.events}
    assert "KXNFLGAME-26DEC06BUFKC" in tickers
    assert "KXMLBTOTAL-26SEP261910NYYBOS" in tickers
    assert not any(t.startswith("KXEPLGAME") for t in tickers)
    assert [r.item for r in listing.rejected] == ["KXEPLGAME"]
    assert set(listing.fees) == tickers


async def test_leagues_narrow_discovery_on_both_venues() -> None:
    transport = httpx.MockTransport(kalshi_handler(set()))
    async with httpx.AsyncClient(transport=transport) as client:
        rest = KalshiRest(client, base_url="http://fake/trade-api/v2")
        source = venue_game_source(
            rest, client, gamma_url="http://gamma", series=(), leagues=("EPL", "MLB")
        )
        listing = await source.listings["kalshi"].fetch()
    assert {e.series_ticker for e in listing.events} == {"KXEPLGAME", "KXMLBGAME", "KXMLBTOTAL"}
    assert source.listings["polymarket"].leagues == ("MLB", "EPL")  # table order


async def test_a_rate_limit_stops_the_round() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path.endswith("/events"):
            return httpx.Response(429, json={"error": "too many requests"})
        return kalshi_handler(set())(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        rest = KalshiRest(client, base_url="http://fake/trade-api/v2", max_retries=0)
        with pytest.raises(RateLimitedError):
            await KalshiListings(rest).fetch()
    assert sum(p.endswith("/events") for p in calls) == 1


async def test_gamma_teams_are_fetched_page_by_page_for_the_catalogue() -> None:
    teams = json.loads((DATA / "gamma_teams.json").read_text(encoding="utf-8"))
    offsets: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/teams"
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        offsets.append(str(offset))
        return httpx.Response(200, json=teams[offset : offset + limit])

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        rest = KalshiRest(client, base_url="http://fake/trade-api/v2")
        source = venue_game_source(rest, client, gamma_url="http://gamma", page_size=10)
        assert source.teams is not None
        catalogue = await source.teams.catalogue()
    assert offsets == ["0", "10"]
    assert catalogue.by_name("NCAAB", "North Carolina").team is not None


def test_settings_default_to_every_league_and_narrow_by_env(tmp_path: Path) -> None:
    from arbees.errors import ConfigError
    from arbees.wiring.settings import OrchestratorSettings

    base = {"POLYMARKET_EGRESS_CHECK": "off"}
    default = OrchestratorSettings.from_env(base)
    assert (default.series, default.leagues, default.market_types) == ((), (), ())
    assert OrchestratorSettings.from_env({**base, "KALSHI_SERIES": "sports"}).series == ()
    narrowed = OrchestratorSettings.from_env(
        {
            **base,
            "LEAGUES": "nfl, epl",
            "EXCLUDE_LEAGUES": "MLS",
            "MARKET_TYPES": "Moneyline,total",
            "TEAM_CATALOGUE_CACHE": str(tmp_path / "teams.json"),
        }
    )
    assert narrowed.leagues == ("NFL", "EPL")
    assert narrowed.exclude_leagues == ("MLS",)
    assert narrowed.market_types == ("moneyline", "total")
    assert narrowed.teams_cache == tmp_path / "teams.json"
    with pytest.raises(ConfigError, match="XFL"):
        OrchestratorSettings.from_env({**base, "LEAGUES": "XFL"})
    with pytest.raises(ConfigError, match="props"):
        OrchestratorSettings.from_env({**base, "MARKET_TYPES": "props"})
