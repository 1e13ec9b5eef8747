"""Polymarket US on the venue contract: its registry entry, fee models from its own
metadata, discovery (listings over REST, off by default) and its settings."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import httpx
import trio

from arbees.fees import PolymarketUsFeeModel
from arbees.identifiers import INSTRUMENT_CHECKS, is_market_slug
from arbees.kalshi.rest import KalshiRest
from arbees.polymarket_us.models import parse_events
from arbees.polymarket_us.rest import PolymarketUsRest, RestConfig
from arbees.testing.fake_polymarket_us import FakePolymarketUs
from arbees.venues import get_venue
from arbees.venues.polymarket_us import PolymarketUsListings
from arbees.wiring import OrchestratorSettings
from arbees.wiring.discovery import venue_game_source

DATA = Path(__file__).parent.parent / "data" / "polymarket_us"


def _events() -> dict[str, object]:
    body = json.loads((DATA / "rest_events_docs.json").read_text())
    assert isinstance(body, dict)
    return body


def test_registered_under_its_id_with_its_slug_check() -> None:
    venue = get_venue("polymarket-us")
    assert venue.accepts is is_market_slug
    assert INSTRUMENT_CHECKS["polymarket-us"] is is_market_slug
    assert venue.accepts("nba-lal-bos-2026-01-15")
    assert not venue.accepts("123 456")
    assert not venue.accepts("-leading-dash")
    assert not venue.accepts("x" * 201)


def test_fee_model_from_the_markets_own_schedule_or_the_higher_default() -> None:
    venue = get_venue("polymarket-us")
    (event,), _ = parse_events(_events())
    moneyline, total = event.markets
    defaulted = venue.fee_model(moneyline)
    assert defaulted.defaulted
    assert defaulted.model == PolymarketUsFeeModel()
    own = venue.fee_model(total)
    assert not own.defaulted
    assert own.model == PolymarketUsFeeModel(schedule="notional", taker_bps=30)
    assert own.model.fee(500_000, 100 * 1_000_000) == 150_000


async def test_listings_fetch_the_events_with_fees_by_market_slug() -> None:
    fake = FakePolymarketUs()
    fake.events.extend(_events()["events"])  # type: ignore[arg-type]
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        async with httpx.AsyncClient() as client:
            rest = PolymarketUsRest(client, RestConfig(base_url=urls.rest_url, page_size=1))
            custom = PolymarketUsFeeModel(schedule="curve", rate=Decimal("0.07"))
            listing = await PolymarketUsListings(rest, default_fees=custom).fetch()
        nursery.cancel_scope.cancel()
    assert [e.slug for e in listing.events] == ["nba-lal-bos-2026-01-15"]
    assert set(listing.fees) == {"nba-lal-bos-2026-01-15", "nba-lal-bos-2026-01-15-total-221pt5"}
    assert listing.fees["nba-lal-bos-2026-01-15"].model == custom
    # the slug-less event is named by its place on its page (page_size=1: the first)
    assert sorted(r.item for r in listing.rejected) == ["bad slug with spaces", "events[0]"]
    assert "/v1/events" in fake.requests


async def test_discovery_is_off_without_a_url_and_on_with_one() -> None:
    async with httpx.AsyncClient() as client:
        off = venue_game_source(KalshiRest(client), client, gamma_url="http://gamma")
        listings = off.listings["polymarket-us"]
        assert isinstance(listings, PolymarketUsListings)
        assert (await listings.fetch()).events == ()
        rest = PolymarketUsRest(client)
        on = venue_game_source(
            KalshiRest(client), client, gamma_url="http://gamma", polymarket_us=rest
        )
        listings = on.listings["polymarket-us"]
        assert isinstance(listings, PolymarketUsListings)
        assert listings.rest is rest


def test_orchestrator_settings_read_the_rest_url() -> None:
    env = {"POLYMARKET_EGRESS_CHECK": "off"}
    assert OrchestratorSettings.from_env(env).polymarket_us_rest_url is None
    url = "https://gateway.polymarket.us"
    settings = OrchestratorSettings.from_env({**env, "POLYMARKET_US_REST_URL": url})
    assert settings.polymarket_us_rest_url == url
