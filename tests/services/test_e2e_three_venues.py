"""End to end on the fakes: events listed on all three venues, detected by one shard.

Kalshi and Polymarket US are read directly by the shard (Polymarket US through the
registry's feed, signed sockets, no VPN route); Polymarket comes from the monitor over the
bus, behind the egress guard. The assignments are built here, as the orchestrator would
leave them once matching pairs the three venues (each venue's fee terms by venue id). Two
events: a binary NBA game (two outcomes) and a 3-way soccer game (home/draw/away), each
quiet until one Polymarket US book moves, then exactly one cover, with its size, cost and
profit exact.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from functools import partial
from typing import Any

import trio

from arbees.fees import PolymarketUsFeeModel, fee_terms, kalshi_fee, polymarket_fee
from arbees.messages import ArbSignal, Channel, EventContract, FeeTerms, MarketAssignment
from arbees.money import ONE, parse_fixed
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.fake_polymarket import FakePolymarket
from arbees.testing.fake_polymarket_us import FakePolymarketUs
from arbees.wiring.build import venue_source
from tests.services.e2e_support import FAST, Stack, open_stack, wait_for

VENUES = ("kalshi", "polymarket", "polymarket-us")
US_FEES = PolymarketUsFeeModel()
TERMS = (
    FeeTerms("kalshi", "kalshi", multiplier="1"),
    FeeTerms("polymarket", "polymarket", rate="0.05", exponent=1),
    # Polymarket US without a schedule of its own: discovery's default, the higher of the
    # two published fees per fill
    fee_terms("polymarket-us", US_FEES),
)


def d(text: str) -> Decimal:
    return Decimal(text)


def p(text: str) -> int:
    return parse_fixed(text)


def event_assignments(
    game: str, outcomes: tuple[str, ...], instruments: dict[str, dict[str, str]], sport: str
) -> list[MarketAssignment]:
    """The shard's event assignment (every venue's market of every outcome, both sides)
    and the monitor's token assignments (the Polymarket YES tokens)."""
    contracts = tuple(
        EventContract(venue, instruments[venue][o], o, side)
        for o in instruments["kalshi"]
        for venue in VENUES
        for side in ("yes", "no")
    )
    shard = MarketAssignment(
        platform="kalshi",
        market_id=game.upper(),
        token_id="",
        shard_id="s1",
        sport=sport,
        game_id=game,
        fees=TERMS,
        epoch=1,
        outcomes=outcomes,
        contracts=contracts,
    )
    monitor = [
        MarketAssignment(
            platform="polymarket",
            market_id="0x" + f"{n + 1:064x}",
            token_id=token,
            shard_id="s1",
            sport=sport,
            game_id=game,
            epoch=1,
        )
        for n, token in enumerate(instruments["polymarket"].values())
    ]
    return [shard, *monitor]


def set_kalshi(kalshi: FakeKalshi, ticker: str, yes_ask: str, no_ask: str) -> None:
    # Kalshi books are bids: YES ask = 1 - best NO bid, NO ask = 1 - best YES bid.
    kalshi.set_book(ticker, yes=[(str(1 - d(no_ask)), 100)], no=[(str(1 - d(yes_ask)), 100)])


def set_poly(poly: FakePolymarket, token: str, yes_ask: str, no_ask: str) -> None:
    """A market's YES token: asks at ``yes_ask``, bids at ``1 - no_ask`` (its NO)."""
    poly.set_book(token, [(str(1 - d(no_ask)), "100")], [(yes_ask, "100")])


def set_us(us: FakePolymarketUs, slug: str, yes_ask: str, no_ask: str, size: str) -> None:
    """A Polymarket US market: offers at ``yes_ask``, bids at ``1 - no_ask`` (its NO)."""
    us.set_book(slug, bids=[(str(1 - d(no_ask)), size)], offers=[(yes_ask, size)])


@asynccontextmanager
async def three_venues(
    assignments: Callable[[], list[MarketAssignment]],
    books: Callable[[FakeKalshi, FakePolymarket], None],
    us: FakePolymarketUs,
) -> AsyncIterator[Stack]:
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(us.run)
        # The registry's Polymarket US feed, pointed at the fake: direct, no route.
        source = venue_source("polymarket-us", url=urls.ws_url, backoff=FAST, maintenance=None)
        async with open_stack(assignments=assignments, books=books, others=[source]) as stack:
            yield stack
        nursery.cancel_scope.cancel()


def fresh(stack: Stack, keys: list[tuple[str, str]]) -> bool:
    engine = stack.shard.engine
    now = time.time_ns()
    return all(engine.usable(engine._quotes.get(k), now) for k in keys)


async def collect(sub: Any, into: list[ArbSignal]) -> None:
    async for envelope in sub:
        if isinstance(envelope.message, ArbSignal):
            into.append(envelope.message)


# -- a binary NBA game on three venues -------------------------------------------------

TEAMS = ("okc", "sas")
NBA = {
    "kalshi": {"okc": "KXNBAGAME-26DEC06OKCSAS-OKC"},
    "polymarket": {"okc": "3" * 40},  # the OKC token (its NO: the SAS token)
    "polymarket-us": {"okc": "aec-nba-okc-sas-2026-12-06"},
}


def nba_books(kalshi: FakeKalshi, poly: FakePolymarket) -> None:
    # (YES ask, NO ask): the cheapest YES (0.45) + the cheapest NO (0.56) cost 1.01.
    set_kalshi(kalshi, NBA["kalshi"]["okc"], "0.45", "0.58")
    set_poly(poly, NBA["polymarket"]["okc"], "0.48", "0.57")


async def test_a_binary_event_on_three_venues_end_to_end() -> None:
    us = FakePolymarketUs(heartbeat_interval=0.2)
    slug = NBA["polymarket-us"]["okc"]
    set_us(us, slug, "0.47", "0.56", "40")
    nba = partial(event_assignments, "nba-okc-sas", TEAMS, NBA, "NBA")
    async with (
        three_venues(nba, nba_books, us) as stack,
        stack.bus.subscribe(Channel.SIGNALS) as sub,
    ):
        keys = [(venue, NBA[venue]["okc"]) for venue in VENUES]
        await wait_for(lambda: fresh(stack, keys))
        assert stack.shard.engine.game_ids() == ["nba-okc-sas"]
        got: list[ArbSignal] = []
        stack.nursery.start_soon(collect, sub, got)
        await trio.sleep(0.3)
        assert got == []  # every cover costs $1.01 or more before fees
        # Polymarket US: the OKC bid rises to 0.50, so its NO (SAS) costs 0.50.
        set_us(us, slug, "0.52", "0.50", "40")
        await wait_for(lambda: len(got) >= 1)
        await trio.sleep(0.5)  # nothing more may follow
        # Polymarket YES 0.48 + Polymarket US NO 0.50 pays 0.80 before fees and 0.4992 +
        # 0.50 in fees: only one cover signals.
        assert len(got) == 1
        sig = got[0]
        assert (sig.event, sig.game_id) == ("open", "nba-okc-sas")
        legs = sorted((leg.venue, leg.instrument, leg.side, leg.outcome) for leg in sig.legs)
        assert legs == [
            ("kalshi", NBA["kalshi"]["okc"], "yes", "okc"),
            ("polymarket-us", slug, "no", "okc"),
        ]
        size = 40 * ONE  # Polymarket US bids 40
        by_venue = {leg.venue: leg for leg in sig.legs}
        assert by_venue["kalshi"].price == p("0.45")
        assert by_venue["polymarket-us"].price == p("0.50")
        assert all(leg.size == size for leg in sig.legs)
        k_fee = kalshi_fee(p("0.45"), size)
        us_fee = US_FEES.fee(p("0.50"), size)
        # Kalshi: 0.07 x 40 x 0.45 x 0.55 = 0.693, up to the cent; Polymarket US: the
        # higher of 30 bps x 40 x 0.50 = 0.06 and 0.05 x 40 x 0.50 x 0.50 = 0.50.
        assert (k_fee, us_fee) == (p("0.70"), p("0.50"))
        assert by_venue["kalshi"].fee == k_fee
        assert by_venue["polymarket-us"].fee == us_fee
        assert sig.size == size
        assert sig.fees == p("1.20")
        assert sig.cost == p("39.20")  # 40 x 0.95 + fees
        assert sig.profit == p("0.80")  # 40 - 38 - 0.70 - 0.50


# -- a 3-way soccer game on three venues -----------------------------------------------

OUTCOMES = ("home", "draw", "away")
EPL = {
    "kalshi": {o: f"KXEPLGAME-26DEC06ARSCHE-{o.upper()}" for o in OUTCOMES},
    "polymarket": {o: str(4 + i) * 40 for i, o in enumerate(OUTCOMES)},
    "polymarket-us": {o: f"aec-epl-ars-che-2026-12-06-{o}" for o in OUTCOMES},
}
# (YES ask, NO ask) per venue and outcome. The cheapest YES of each outcome (Kalshi home
# 0.40, Polymarket draw 0.32, Polymarket away 0.30) sum to 1.02; each YES + NO pair of one
# outcome costs 1.02 or more.
EPL_BOOKS = {
    "kalshi": {"home": ("0.40", "0.64"), "draw": ("0.34", "0.76"), "away": ("0.34", "0.80")},
    "polymarket": {"home": ("0.44", "0.62"), "draw": ("0.32", "0.70"), "away": ("0.30", "0.82")},
    "polymarket-us": {
        "home": ("0.45", "0.63"),
        "draw": ("0.35", "0.72"),
        "away": ("0.31", "0.81"),
    },
}


def epl_books(kalshi: FakeKalshi, poly: FakePolymarket) -> None:
    for o in OUTCOMES:
        set_kalshi(kalshi, EPL["kalshi"][o], *EPL_BOOKS["kalshi"][o])
        set_poly(poly, EPL["polymarket"][o], *EPL_BOOKS["polymarket"][o])


async def test_a_three_way_soccer_event_on_three_venues_end_to_end() -> None:
    us = FakePolymarketUs(heartbeat_interval=0.2)
    for o in OUTCOMES:
        set_us(us, EPL["polymarket-us"][o], *EPL_BOOKS["polymarket-us"][o], "100")
    epl = partial(event_assignments, "epl-ars-che", OUTCOMES, EPL, "EPL")
    async with (
        three_venues(epl, epl_books, us) as stack,
        stack.bus.subscribe(Channel.SIGNALS) as sub,
    ):
        keys = [(venue, EPL[venue][o]) for venue in VENUES for o in OUTCOMES]
        await wait_for(lambda: fresh(stack, keys))
        engine = stack.shard.engine
        assert engine.game_ids() == ["epl-ars-che"]
        got: list[ArbSignal] = []
        stack.nursery.start_soon(collect, sub, got)
        await trio.sleep(0.3)
        assert got == []
        # Polymarket US's away market falls to 0.22 (50 offered): Kalshi home 0.40 +
        # Polymarket draw 0.32 + Polymarket US away 0.22 = 0.94, one leg on each venue.
        # Away YES 0.22 + the cheapest away NO (Kalshi, 0.80) still costs 1.02, and every
        # other cover with it (0.96 to 0.99) pays less than its fees.
        set_us(us, EPL["polymarket-us"]["away"], "0.22", "0.81", "50")
        await wait_for(lambda: len(got) >= 1)
        await trio.sleep(0.5)  # nothing more may follow
        assert len(got) == 1
        sig = got[0]
        assert (sig.event, sig.game_id) == ("open", "epl-ars-che")
        legs = [(leg.venue, leg.instrument, leg.side, leg.outcome) for leg in sig.legs]
        assert sorted(legs) == [
            ("kalshi", EPL["kalshi"]["home"], "yes", "home"),
            ("polymarket", EPL["polymarket"]["draw"], "yes", "draw"),
            ("polymarket-us", EPL["polymarket-us"]["away"], "yes", "away"),
        ]
        size = 50 * ONE  # Polymarket US's away market offers 50
        by_venue = {leg.venue: leg for leg in sig.legs}
        prices = {"kalshi": p("0.40"), "polymarket": p("0.32"), "polymarket-us": p("0.22")}
        assert {v: leg.price for v, leg in by_venue.items()} == prices
        assert {v: leg.worst_price for v, leg in by_venue.items()} == prices
        assert all(leg.size == size for leg in sig.legs)
        fees = {
            "kalshi": kalshi_fee(prices["kalshi"], size),
            "polymarket": polymarket_fee(prices["polymarket"], size, rate=d("0.05")),
            "polymarket-us": US_FEES.fee(prices["polymarket-us"], size),
        }
        # 0.07 x 50 x 0.4 x 0.6 = 0.84; 0.05 x 50 x 0.32 x 0.68 = 0.544; Polymarket US:
        # the higher of 30 bps x 50 x 0.22 = 0.033 and 0.05 x 50 x 0.22 x 0.78 = 0.429,
        # up to the cent.
        assert fees == {"kalshi": p("0.84"), "polymarket": p("0.544"), "polymarket-us": p("0.43")}
        assert {v: leg.fee for v, leg in by_venue.items()} == fees
        assert sig.size == size
        assert sig.fees == p("1.814")
        assert sig.cost == p("48.814")  # 50 x 0.94 + fees
        assert sig.profit == p("1.186")  # 50 - 47 - 1.814
        assert sig.monitor_recv_ns > 0  # the Polymarket leg came over the bus
        assert engine.stats.kernel_flagged >= 1
