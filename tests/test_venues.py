"""The venue registry, and every registered venue's feed offering the one same surface."""

from __future__ import annotations

import httpx
import pytest
import trio

from arbees.errors import ConfigError
from arbees.money import parse_fixed
from arbees.polymarket.audit import AuditConfig, AuditedFeed
from arbees.polymarket.feed import FeedConfig, PolymarketFeed
from arbees.polymarket.rest import PolymarketRest
from arbees.services.interfaces import InstrumentFeed
from arbees.testing.venues import FAKE_VENUES, serve_fake
from arbees.venues import VENUES, Venue, get_venue
from arbees.wsdriver import Backoff

FAST = Backoff(base=0.05, cap=0.2, healthy_after=1.0)
TICKER = "KXNBAGAME-26OCT20OKCSAS-OKC"
TOKEN = str(10**70 + 1)
COUNTERS = {"reconnects", "rejected", "mismatches", "coalesced", "updates"}


def test_the_registry_names_each_venue_by_its_own_id() -> None:
    assert set(VENUES) == {"kalshi", "polymarket", "polymarket-us"}
    for venue_id, venue in VENUES.items():
        assert isinstance(venue, Venue)
        assert venue.id == venue_id
        assert get_venue(venue_id) is venue
    with pytest.raises(TypeError):
        VENUES["other"] = VENUES["kalshi"]  # type: ignore[index]


def test_an_unknown_venue_is_a_clear_config_error() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown venue 'betfair' \(known: kalshi, polymarket, polymarket-us\)"
    ):
        get_venue("betfair")


def test_every_registered_venue_has_a_fake() -> None:
    assert set(FAKE_VENUES) == set(VENUES)
    for venue_id, fake in FAKE_VENUES.items():
        assert fake.id == venue_id


INSTRUMENTS = {"kalshi": TICKER, "polymarket": TOKEN, "polymarket-us": "nba-okc-sas-2026-10-20"}


@pytest.mark.parametrize("venue_id", sorted(VENUES))
async def test_every_venue_feed_has_the_same_surface(venue_id: str) -> None:
    venue = get_venue(venue_id)
    instrument = INSTRUMENTS[venue_id]
    async with serve_fake(venue_id, backoff=FAST) as (fake, options):
        FAKE_VENUES[venue_id].set_top(fake, instrument, "0.41", "0.45")
        feed: InstrumentFeed = venue.feed((), **options)
        assert feed.current_view(instrument) is None
        assert set(feed.counters()) == COUNTERS
        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                await nursery.start(feed.run)
                await feed.add([instrument])
                async for update in feed.updates:
                    quote = venue.quote(update)
                    if not quote.stale:
                        break
                assert (quote.venue, quote.instrument) == (venue_id, instrument)
                assert quote.yes_asks[0].price == parse_fixed("0.45")
                assert quote.no_asks[0].price == parse_fixed("0.59")
                view = feed.current_view(instrument)
                assert view is not None
                assert view.best_ask == quote.yes_asks[0]
                assert feed.last_message_ns() > 0
                assert feed.counters()["updates"] >= 1
                await feed.remove([instrument])
                assert feed.current_view(instrument) is None
                nursery.cancel_scope.cancel()


async def test_a_polymarket_feed_is_audited_only_with_a_rest_client_and_an_enabled_audit() -> None:
    venue = get_venue("polymarket")
    config = FeedConfig()
    async with httpx.AsyncClient() as client:
        rest = PolymarketRest(client)
        audited = venue.feed([TOKEN], config=config, rest=rest)
        assert isinstance(audited, AuditedFeed)
        assert audited.auditor.feed is audited
        off = venue.feed([TOKEN], config=config, rest=rest, audit=AuditConfig(interval=0))
        plain = venue.feed([TOKEN], config=config)
    for feed in (off, plain):
        assert type(feed) is PolymarketFeed
