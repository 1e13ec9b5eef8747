"""The orchestrator's discovery runs over the registry: every registered venue's own
``Venue.listings``, whose events, refusals and fee models all reach the match inputs."""

from __future__ import annotations

from decimal import Decimal
from types import MappingProxyType

import attrs
import httpx
import pytest

import arbees.wiring.discovery as wiring_discovery
from arbees.errors import ConfigError, DecodeRejection
from arbees.fees import MarketFees, PolymarketFeeModel
from arbees.kalshi.rest import KalshiRest
from arbees.venues import VENUES, Listing, get_venue
from arbees.venues.kalshi import KalshiListings
from arbees.venues.polymarket import GammaListings
from arbees.wiring.discovery import VenueGameSource, venue_game_source


class Scripted:
    def __init__(self, listing: Listing) -> None:
        self.listing = listing
        self.calls = 0

    async def fetch(self) -> Listing:
        self.calls += 1
        return self.listing


async def test_the_orchestrators_source_has_every_registered_venues_own_listings() -> None:
    async with httpx.AsyncClient() as client:
        source = venue_game_source(
            KalshiRest(client), client, gamma_url="http://gamma/", series=["KXNHLGAME"]
        )
    assert list(source.listings) == list(VENUES)
    kalshi, gamma = source.listings["kalshi"], source.listings["polymarket"]
    assert isinstance(kalshi, KalshiListings)
    assert kalshi.series == ("KXNHLGAME",)
    assert isinstance(gamma, GammaListings)
    assert (gamma.url, gamma.leagues) == ("http://gamma", ("NHL",))


async def test_a_registered_venue_without_discovery_options_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    third = attrs.evolve(get_venue("polymarket"), id="betfair")
    monkeypatch.setattr(wiring_discovery, "VENUES", MappingProxyType({**VENUES, "betfair": third}))
    async with httpx.AsyncClient() as client:
        with pytest.raises(ConfigError, match=r"no discovery options for venue\(s\) betfair"):
            venue_game_source(KalshiRest(client), client, gamma_url="http://gamma")


async def test_every_venues_listing_reaches_the_match_inputs() -> None:
    fees = MarketFees(PolymarketFeeModel(Decimal("0.02")))
    listings = {
        "kalshi": Scripted(Listing((), (DecodeRejection("KXNBAGAME-X", "bad", "ticker"),))),
        "polymarket": Scripted(Listing(())),
        "betfair": Scripted(Listing((), fees={"1.234": fees})),
    }
    inputs = await VenueGameSource(listings).discover()
    assert all(s.calls == 1 for s in listings.values())
    assert inputs.fees["betfair"] == {"1.234": fees}
    assert [(r.id, r.detail) for r in inputs.rejections] == [("KXNBAGAME-X", "bad")]
