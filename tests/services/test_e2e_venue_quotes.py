"""End to end on the fakes: a Polymarket US monitor -> Redis -> a shard (issue 15 item 5).

The monitor runs for Polymarket US (``MONITOR_VENUE=polymarket-us``): it holds the venue's
socket, streams the market the shard's game names and publishes ``VenueQuote`` s on
``quotes:polymarket-us`` of a real redis-server. The shard (``SHARD_VENUES=kalshi,
polymarket-us``, ``POLYMARKET_US_VIA_REDIS=true``) reads Kalshi directly and Polymarket US
from the bus, exactly as it takes Polymarket from ``polymarket:prices``. Both are built by
the wiring from their environment, and neither takes the VPN route or an egress check.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
import trio

import arbees.wiring.build as build_module
from arbees.bus import open_bus
from arbees.fees import PolymarketUsFeeModel, fee_terms, kalshi_fee
from arbees.messages import (
    GAME_ASSIGNMENTS_HASH,
    ArbSignal,
    Channel,
    EventContract,
    FeeTerms,
    MarketAssignment,
    VenueQuote,
    latest_quotes_hash,
)
from arbees.money import ONE, parse_fixed
from arbees.services.sources import BusVenueSource
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.fake_polymarket_us import FakePolymarketUs
from arbees.testing.redis_server import RedisServer
from arbees.wiring import MonitorSettings, ShardSettings, build_monitor, build_shard
from arbees.wsdriver import Backoff
from tests.services.e2e_support import wait_for

K_MARKET = "KXNBAGAME-26DEC06OKCSAS-OKC"
US_MARKET = "aec-nba-okc-sas-2026-12-06"
US_FEES = PolymarketUsFeeModel()
FAST = Backoff(base=0.05, cap=0.2)


def p(text: str) -> int:
    return parse_fixed(text)


def event() -> MarketAssignment:
    contracts = (
        EventContract("kalshi", K_MARKET, "okc", "yes"),
        EventContract("kalshi", K_MARKET, "okc", "no"),  # NO of OKC: pays when SAS wins
        EventContract("polymarket-us", US_MARKET, "okc", "yes"),
        EventContract("polymarket-us", US_MARKET, "okc", "no"),
    )
    return MarketAssignment(
        platform="kalshi",
        market_id="KXNBAGAME-26DEC06OKCSAS",
        token_id="",
        shard_id="s1",
        sport="NBA",
        game_id="okc-sas",
        fees=(FeeTerms("kalshi", "kalshi", multiplier="1"), fee_terms("polymarket-us", US_FEES)),
        epoch=1,
        outcomes=("okc", "sas"),
        contracts=contracts,
    )


def set_us(us: FakePolymarketUs, yes_ask: str, no_ask: str, size: str) -> None:
    """Offers at ``yes_ask``, bids at ``1 - no_ask`` (the market's NO)."""
    us.set_book(US_MARKET, bids=[(str(1 - Decimal(no_ask)), size)], offers=[(yes_ask, size)])


async def collect(sub: Any, into: list[ArbSignal]) -> None:
    async for envelope in sub:
        if isinstance(envelope.message, ArbSignal):
            into.append(envelope.message)


async def test_a_polymarket_us_monitor_feeds_a_shard_over_redis(
    private_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_route(**_: Any) -> Any:
        raise AssertionError("Polymarket US must not take the VPN route or the egress check")

    monkeypatch.setattr(build_module, "open_polymarket_route", no_route)
    us = FakePolymarketUs(heartbeat_interval=0.2)
    set_us(us, "0.47", "0.56", "40")
    kalshi = FakeKalshi(require_auth=False)
    # Kalshi books are bids: YES ask 0.45 = 1 - the NO bid, NO ask 0.58 = 1 - the YES bid.
    kalshi.set_book(K_MARKET, yes=[("0.42", 100)], no=[("0.55", 100)])
    async with (
        trio.open_nursery() as nursery,
        open_bus(private_redis.url) as monitor_bus,
        open_bus(private_redis.url) as shard_bus,
    ):
        k_urls = await nursery.start(kalshi.run)
        us_urls = await nursery.start(us.run)
        await shard_bus.hset(GAME_ASSIGNMENTS_HASH, "okc-sas", event())
        monitor_settings = MonitorSettings.from_env(
            {
                "MONITOR_VENUE": "polymarket-us",
                "MONITOR_ID": "us-monitor",
                "POLYMARKET_US_WS_URL": us_urls.ws_url,
                "POLYMARKET_US_MAINTENANCE": "off",
            },
            reconnect=FAST,
            heartbeat_interval=0.1,
        )
        assert monitor_settings.egress is None
        shard_settings = ShardSettings.from_env(
            {
                "SHARD_ID": "s1",
                "SHARD_VENUES": "kalshi,polymarket-us",
                "POLYMARKET_US_VIA_REDIS": "true",
                "KALSHI_WS_URL": k_urls.ws_url,
            },
            reconnect=FAST,
            heartbeat_interval=0.1,
        )
        async with (
            build_monitor(monitor_settings, monitor_bus) as monitor,
            build_shard(shard_settings, shard_bus) as shard,
            shard_bus.subscribe(Channel.SIGNALS) as sub,
        ):
            assert isinstance(shard.sources["polymarket-us"], BusVenueSource)
            assert monitor.guard is None
            await nursery.start(monitor.run)
            await nursery.start(shard.run)
            assert sorted(monitor.tokens) == [US_MARKET]  # from the shard's game
            engine = shard.engine
            keys = [("kalshi", K_MARKET), ("polymarket-us", US_MARKET)]

            def fresh() -> bool:
                now = time.time_ns()
                return all(engine.usable(engine._quotes.get(k), now) for k in keys)

            await wait_for(fresh)
            got: list[ArbSignal] = []
            nursery.start_soon(collect, sub, got)
            await trio.sleep(0.3)
            assert got == []  # Kalshi YES 0.45 + US NO 0.56 = 1.01: no cover
            # Polymarket US: the bid rises to 0.50, so its NO costs 0.50.
            set_us(us, "0.52", "0.50", "40")
            await wait_for(lambda: len(got) >= 1)
            await trio.sleep(0.5)  # nothing more may follow
            assert len(got) == 1
            sig = got[0]
            assert (sig.event, sig.game_id, sig.shard_id) == ("open", "okc-sas", "s1")
            legs = sorted((leg.venue, leg.instrument, leg.side) for leg in sig.legs)
            assert legs == [("kalshi", K_MARKET, "yes"), ("polymarket-us", US_MARKET, "no")]
            size = 40 * ONE
            by_venue = {leg.venue: leg for leg in sig.legs}
            assert by_venue["kalshi"].price == p("0.45")
            assert by_venue["polymarket-us"].price == p("0.50")
            assert all(leg.size == size for leg in sig.legs)
            # Kalshi: 0.07 x 40 x 0.45 x 0.55 = 0.693, up to the cent; Polymarket US: the
            # higher of 30 bps x 40 x 0.50 = 0.06 and 0.05 x 40 x 0.50 x 0.50 = 0.50.
            assert by_venue["kalshi"].fee == kalshi_fee(p("0.45"), size) == p("0.70")
            assert by_venue["polymarket-us"].fee == US_FEES.fee(p("0.50"), size) == p("0.50")
            assert (sig.size, sig.fees, sig.cost, sig.profit) == (
                size,
                p("1.20"),
                p("39.20"),  # 40 x 0.95 + fees
                p("0.80"),  # 40 - 38 - 0.70 - 0.50
            )
            assert sig.monitor_recv_ns > 0  # the Polymarket US leg came through the monitor
            latest = await shard_bus.hget(latest_quotes_hash("polymarket-us"), US_MARKET)
            assert isinstance(latest, VenueQuote)
            assert latest.bids[0].price == p("0.50")
            assert us.rejected_upgrades == 0
        nursery.cancel_scope.cancel()
