"""A whole arbees deployment in one Trio run, on loopback, for end-to-end tests.

Fake Kalshi, fake Polymarket and a fake Gluetun control server; a bus (memory or Redis);
the Polymarket monitor behind the egress guard; one game shard. One NBA game is assigned
through the stored assignment hashes (as the orchestrator would leave them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import attrs
import httpx
import trio

from arbees.bus import Bus, open_bus
from arbees.egress import EgressChecker, EgressGuard
from arbees.messages import (
    GAME_ASSIGNMENTS_HASH,
    TOKEN_ASSIGNMENTS_HASH,
    MarketAssignment,
    TeamLeg,
)
from arbees.polymarket.feed import FeedConfig
from arbees.services.monitor import PolymarketMonitor
from arbees.services.shard import GameShard
from arbees.services.shard_engine import ShardEngine
from arbees.services.sources import BusPolymarketSource, QuoteSource
from arbees.testing.fake_gluetun import FakeGluetun
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.fake_polymarket import FakePolymarket
from arbees.venues.polymarket import polymarket_feed
from arbees.wiring.build import venue_source
from arbees.wsdriver import Backoff
from tests.fee_terms import pair_terms

K_OKC = "KXNBAGAME-26OCT20OKCSAS-OKC"
K_SAS = "KXNBAGAME-26OCT20OKCSAS-SAS"
P_OKC = "1" * 40
P_SAS = "2" * 40
CONDITION = "0x" + "ab" * 32
FAST = Backoff(base=0.05, cap=0.2)


def game_assignments(shard_id: str = "s1", epoch: int = 1) -> list[MarketAssignment]:
    teams = (TeamLeg("NBA:OKC", K_OKC, P_OKC), TeamLeg("NBA:SAS", K_SAS, P_SAS))
    shard = MarketAssignment(
        platform="kalshi",
        market_id="KXNBAGAME-26OCT20OKCSAS",
        token_id="",
        shard_id=shard_id,
        sport="NBA",
        game_id="g1",
        teams=teams,
        fees=pair_terms(poly_fee_rate="0.05"),
        epoch=epoch,
    )
    monitor = [
        MarketAssignment(
            platform="polymarket",
            market_id=CONDITION,
            token_id=token,
            shard_id=shard_id,
            sport="NBA",
            game_id="g1",
            epoch=epoch,
        )
        for token in (P_OKC, P_SAS)
    ]
    return [shard, *monitor]


def quiet_books(kalshi: FakeKalshi, poly: FakePolymarket) -> None:
    """Books with no arbitrage after fees (see test_e2e for the arithmetic)."""
    # Kalshi OKC: YES ask 0.40 (= 1 - NO bid 0.60), NO ask 0.62 (= 1 - YES bid 0.38).
    kalshi.set_book(K_OKC, yes=[("0.38", 100)], no=[("0.60", 100)])
    # Kalshi SAS: YES ask 0.60, NO ask 0.50.
    kalshi.set_book(K_SAS, yes=[("0.50", 100)], no=[("0.40", 100)])
    poly.set_book(P_OKC, [("0.38", "100")], [("0.45", "100")], market=CONDITION)
    poly.set_book(P_SAS, [("0.55", "100")], [("0.62", "100")], market=CONDITION)


def open_arb(poly: FakePolymarket) -> None:
    """SAS token ask falls to 0.50: Kalshi YES OKC 0.40 + Polymarket SAS 0.50 = 0.90."""
    poly.set_book(P_OKC, [("0.50", "100")], [("0.52", "100")], market=CONDITION)
    poly.set_book(P_SAS, [("0.48", "100")], [("0.50", "100")], market=CONDITION)


@attrs.define
class Stack:
    bus: Bus
    kalshi: FakeKalshi
    poly: FakePolymarket
    gluetun: FakeGluetun
    monitor: PolymarketMonitor | None
    shard: GameShard
    nursery: trio.Nursery


async def wait_for(predicate: Callable[[], bool], deadline_s: float = 5.0) -> None:
    """Poll a condition over real sockets (no event exists for "the books look fresh")."""
    with trio.fail_after(deadline_s):
        while not predicate():  # noqa: ASYNC110
            await trio.sleep(0.01)


@asynccontextmanager
async def open_stack(
    bus_url: str = "memory://",
    *,
    via_bus: bool = True,
    max_age_s: float = 2.0,
    check_interval: float = 0.1,
    assignments: Callable[[], list[MarketAssignment]] = game_assignments,
    books: Callable[[FakeKalshi, FakePolymarket], None] = quiet_books,
    others: Sequence[QuoteSource] = (),
) -> AsyncIterator[Stack]:
    kalshi = FakeKalshi(require_auth=False)
    poly = FakePolymarket()
    gluetun = FakeGluetun(country="United Kingdom", api_key="control-key")
    books(kalshi, poly)
    async with trio.open_nursery() as nursery, httpx.AsyncClient() as client:
        k_urls = await nursery.start(kalshi.run)
        p_urls = await nursery.start(poly.run)
        g_url = await nursery.start(gluetun.run)
        feed_config = FeedConfig(url=p_urls.ws_url, backoff=FAST, silence_timeout=5.0)
        async with open_bus(bus_url) as bus:
            for a in assignments():
                if a.platform == "kalshi":
                    await bus.hset(GAME_ASSIGNMENTS_HASH, a.game_id, a)
                else:
                    await bus.hset(TOKEN_ASSIGNMENTS_HASH, a.token_id, a)
            monitor = None
            if via_bus:
                checker = EgressChecker(client, f"{g_url}/v1/publicip/ip", api_key="control-key")
                guard = EgressGuard(checker, interval=check_interval, name="test")
                monitor = PolymarketMonitor(
                    bus,
                    lambda tokens: polymarket_feed(tokens, config=feed_config),
                    guard,
                    heartbeat_interval=0.1,
                )
                await nursery.start(monitor.run)
                poly_source: Any = BusPolymarketSource(bus)
            else:
                poly_source = venue_source("polymarket", config=feed_config)
            engine = ShardEngine("s1", max_age_ns=int(max_age_s * 1e9))
            shard = GameShard(
                bus,
                engine,
                venue_source("kalshi", url=k_urls.ws_url, backoff=FAST, silence_timeout=3.0),
                poly_source,
                others=others,
                heartbeat_interval=0.1,
                sweep_interval=0.05,
            )
            await nursery.start(shard.run)
            yield Stack(bus, kalshi, poly, gluetun, monitor, shard, nursery)
            nursery.cancel_scope.cancel()
