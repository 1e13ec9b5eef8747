"""End to end on the fakes, the US-only deployment (issue 17): the orchestrator discovers
Kalshi and Polymarket US only (``DISCOVERY_VENUES=kalshi,polymarket-us``: no Gamma, no
Polymarket route, no egress check), matches their NFL game with Polymarket US's own team
names and codes, assigns it over the bus to a shard reading both venues directly
(``SHARD_VENUES=kalshi,polymarket-us``), and the shard detects the cross-venue window with
exact amounts.

The Polymarket US event is the NFL Bills @ Chiefs game of
tests/data/matching/leagues/polymarket_us_events.json (one two-sided market whose long
side is the Bills: YES pays on Buffalo, NO on Kansas City); Kalshi lists the same game as
two markets on the fake's REST.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import pytest
import trio

import arbees.wiring.build as build
from arbees.bus import open_bus
from arbees.fees import PolymarketUsFeeModel, kalshi_fee
from arbees.messages import ArbSignal, Channel
from arbees.money import ONE, parse_fixed
from arbees.services.orchestrator import OrchestratorConfig
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.fake_polymarket_us import FakePolymarketUs
from arbees.wiring import OrchestratorSettings, ShardSettings, build_orchestrator, build_shard
from arbees.wsdriver import Backoff
from tests.services.e2e_support import wait_for

DATA = Path(__file__).resolve().parent.parent / "data" / "matching" / "leagues"
EVENT = "KXNFLGAME-26DEC06BUFKC"
K_BUF = f"{EVENT}-BUF"
K_KC = f"{EVENT}-KC"
SLUG = "aec-nfl-buf-kc-2026-12-06"
GAME = "NFL:20261206:BUF-KC:moneyline"
FAST = Backoff(base=0.05, cap=0.2)


def p(text: str) -> int:
    return parse_fixed(text)


def us_event() -> dict[str, Any]:
    raw = json.loads((DATA / "polymarket_us_events.json").read_text(encoding="utf-8"))
    event: dict[str, Any] = next(e for e in raw["events"] if e["slug"] == SLUG)
    return event


def set_kalshi(kalshi: FakeKalshi, ticker: str, yes_ask: str, no_ask: str) -> None:
    # Kalshi books are bids: YES ask = 1 - best NO bid, NO ask = 1 - best YES bid.
    one = Decimal(1)
    kalshi.set_book(
        ticker, yes=[(str(one - Decimal(no_ask)), 100)], no=[(str(one - Decimal(yes_ask)), 100)]
    )


def set_us(us: FakePolymarketUs, yes_ask: str, no_ask: str, size: str) -> None:
    """The Bills market: offers at ``yes_ask``, bids at ``1 - no_ask`` (its NO: the Chiefs)."""
    us.set_book(SLUG, bids=[(str(1 - Decimal(no_ask)), size)], offers=[(yes_ask, size)])


def venues() -> tuple[FakeKalshi, FakePolymarketUs]:
    kalshi = FakeKalshi(require_auth=False)
    kalshi.add_series("KXNFLGAME", fee_multiplier=1)
    for ticker, name in ((K_BUF, "Buffalo"), (K_KC, "Kansas City")):
        kalshi.add_market(ticker, title="Buffalo at Kansas City Winner?", yes_sub_title=name)
    # (YES ask, NO ask): the cheapest Bills leg (Kalshi BUF YES 0.45) and the cheapest
    # Chiefs leg (Polymarket US NO 0.56) cost 1.01: no window
    set_kalshi(kalshi, K_BUF, "0.45", "0.58")
    set_kalshi(kalshi, K_KC, "0.57", "0.49")
    us = FakePolymarketUs(heartbeat_interval=0.2)
    us.events = [us_event()]
    set_us(us, "0.48", "0.56", "40")
    return kalshi, us


async def collect(sub: Any, into: list[ArbSignal]) -> None:
    async for envelope in sub:
        if isinstance(envelope.message, ArbSignal):
            into.append(envelope.message)


async def test_us_only_orchestrator_assigns_and_the_shard_detects_a_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_route(**_: Any) -> NoReturn:
        raise AssertionError("a US-only orchestrator opened a Polymarket route")

    monkeypatch.setattr(build, "open_polymarket_route", no_route)
    kalshi, us = venues()
    async with trio.open_nursery() as fakes, open_bus("memory://") as bus:
        k_urls = await fakes.start(kalshi.run)
        us_urls = await fakes.start(us.run)
        orch_settings = OrchestratorSettings(
            kalshi_rest_url=k_urls.rest_url,
            series=("KXNFLGAME",),
            discovery_venues=("kalshi", "polymarket-us"),
            polymarket_us_rest_url=us_urls.rest_url,
            kalshi_live_interval=None,
            config=OrchestratorConfig(
                discovery_interval=60.0,
                shard_timeout=3.0,
                republish_interval=2.0,
                check_interval=0.1,
                settle_delay=0.3,
                instance="test-orchestrator",
            ),
        )
        assert orch_settings.egress is None
        shard_settings = ShardSettings(
            shard_id="s1",
            venues=("kalshi", "polymarket-us"),
            kalshi_ws_url=k_urls.ws_url,
            polymarket_us_ws_url=us_urls.ws_url,
            polymarket_us_maintenance=False,
            max_price_age_ms=2000,
            heartbeat_interval=0.1,
            sweep_interval=0.05,
            reconnect=FAST,
        )
        async with (
            build_shard(shard_settings, bus) as shard,
            build_orchestrator(orch_settings, bus) as orchestrator,
            bus.subscribe(Channel.SIGNALS) as sub,
            trio.open_nursery() as nursery,
        ):
            await nursery.start(shard.run)
            await nursery.start(orchestrator.run)
            engine = shard.engine
            await wait_for(lambda: engine.game_ids() == [GAME], deadline_s=10.0)
            assert orchestrator.owners.get(GAME) == "s1"
            keys = [("kalshi", K_BUF), ("kalshi", K_KC), ("polymarket-us", SLUG)]

            def fresh() -> bool:
                now = time.time_ns()
                return all(engine.usable(engine._quotes.get(k), now) for k in keys)

            await wait_for(fresh)
            got: list[ArbSignal] = []
            nursery.start_soon(collect, sub, got)
            await trio.sleep(0.3)
            assert got == []  # every cover costs $1.01 or more before fees
            # Polymarket US: the Bills bid rises to 0.50, so its NO (the Chiefs) costs 0.50
            set_us(us, "0.52", "0.50", "40")
            await wait_for(lambda: len(got) >= 1)
            await trio.sleep(0.5)  # nothing more may follow
            # Kalshi KC NO 0.49 + Polymarket US NO 0.50 = 0.99 pays less than its fees
            assert len(got) == 1
            sig = got[0]
            assert (sig.event, sig.game_id) == ("open", GAME)
            legs = sorted((leg.venue, leg.instrument, leg.side) for leg in sig.legs)
            assert legs == [("kalshi", K_BUF, "yes"), ("polymarket-us", SLUG, "no")]
            size = 40 * ONE  # Polymarket US bids 40
            by_venue = {leg.venue: leg for leg in sig.legs}
            assert by_venue["kalshi"].price == p("0.45")
            assert by_venue["polymarket-us"].price == p("0.50")
            assert all(leg.size == size for leg in sig.legs)
            # Kalshi: 0.07 x 40 x 0.45 x 0.55 = 0.693, up to the cent; Polymarket US (no
            # schedule of its own: discovery's default) the higher of 30 bps x 40 x 0.50 =
            # 0.06 and 0.05 x 40 x 0.50 x 0.50 = 0.50
            k_fee = kalshi_fee(p("0.45"), size)
            us_fee = PolymarketUsFeeModel().fee(p("0.50"), size)
            assert (k_fee, us_fee) == (p("0.70"), p("0.50"))
            assert by_venue["kalshi"].fee == k_fee
            assert by_venue["polymarket-us"].fee == us_fee
            assert sig.size == size
            assert sig.fees == p("1.20")
            assert sig.cost == p("39.20")  # 40 x 0.95 + fees
            assert sig.profit == p("0.80")  # 40 - 38 - 0.70 - 0.50
            nursery.cancel_scope.cancel()
        fakes.cancel_scope.cancel()
