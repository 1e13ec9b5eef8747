"""End to end on the fakes: a 3-outcome soccer event covered across Kalshi and Polymarket.

Kalshi lists three markets (home, draw, away); Polymarket one binary market per outcome
(the shard reads each market's YES token: its asks, and its bids mirrored as the NO). The
monitor publishes Polymarket over the bus behind the egress guard; the shard gets the
event assignment from the stored hash, scans every batch with the event kernel and
signals the one cover that pays after fees.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import trio

from arbees.fees import kalshi_fee, polymarket_fee
from arbees.messages import ArbSignal, Channel, EventContract, MarketAssignment
from arbees.money import ONE, parse_fixed
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.fake_polymarket import FakePolymarket
from tests.fee_terms import pair_terms
from tests.services.e2e_support import open_stack, wait_for

OUTCOMES = ("home", "draw", "away")
KALSHI = {o: f"KXEPLGAME-26DEC06ARSCHE-{o.upper()}" for o in OUTCOMES}
POLY = {o: str(7 + i) * 40 for i, o in enumerate(OUTCOMES)}  # each market's YES token
CONDITION = {o: "0x" + str(c) * 64 for o, c in zip(OUTCOMES, "def", strict=True)}
LABEL = "kalshi YES home + polymarket YES draw + polymarket YES away"

# (YES ask, NO ask, size) per outcome, as in tests/services/test_shard_engine_events.py:
# every cover's best asks sum to $1.00 or more until Polymarket's draw falls to 0.26.
K_BOOKS = {"home": ("0.40", "0.64"), "draw": ("0.34", "0.76"), "away": ("0.34", "0.74")}
P_BOOKS = {"home": ("0.44", "0.62"), "draw": ("0.32", "0.70"), "away": ("0.28", "0.76")}
P_SIZES = {"home": "100", "draw": "100", "away": "80"}


def d(text: str) -> Decimal:
    return Decimal(text)


def assignments() -> list[MarketAssignment]:
    contracts = tuple(
        EventContract(venue, instrument, o, side)
        for o in OUTCOMES
        for venue, instrument in (("kalshi", KALSHI[o]), ("polymarket", POLY[o]))
        for side in ("yes", "no")
    )
    shard = MarketAssignment(
        platform="kalshi",
        market_id="KXEPLGAME-26DEC06ARSCHE",
        token_id="",
        shard_id="s1",
        sport="EPL",
        game_id="epl-ars-che",
        fees=pair_terms(poly_fee_rate="0.05"),
        epoch=1,
        outcomes=OUTCOMES,
        contracts=contracts,
    )
    monitor = [
        MarketAssignment(
            platform="polymarket",
            market_id=CONDITION[o],
            token_id=POLY[o],
            shard_id="s1",
            sport="EPL",
            game_id="epl-ars-che",
            epoch=1,
        )
        for o in OUTCOMES
    ]
    return [shard, *monitor]


def set_poly(poly: FakePolymarket, outcome: str, yes_ask: str, no_ask: str) -> None:
    """A Polymarket market's YES token: asks at ``yes_ask``, bids at ``1 - no_ask`` (so its
    NO, the other token, is bought at ``no_ask``)."""
    size = P_SIZES[outcome]
    bid = str(1 - d(no_ask))
    poly.set_book(POLY[outcome], [(bid, size)], [(yes_ask, size)], market=CONDITION[outcome])


def books(kalshi: FakeKalshi, poly: FakePolymarket) -> None:
    for o in OUTCOMES:
        yes_ask, no_ask = K_BOOKS[o]
        # Kalshi books are bids: YES ask = 1 - best NO bid, NO ask = 1 - best YES bid.
        kalshi.set_book(KALSHI[o], yes=[(str(1 - d(no_ask)), 100)], no=[(str(1 - d(yes_ask)), 100)])
        set_poly(poly, o, *P_BOOKS[o])


def fresh(stack: Any) -> bool:
    engine = stack.shard.engine
    now = time.time_ns()
    keys = [("kalshi", KALSHI[o]) for o in OUTCOMES] + [("polymarket", POLY[o]) for o in OUTCOMES]
    return all(engine.usable(engine._quotes.get(k), now) for k in keys)


async def collect(sub: Any, into: list[ArbSignal]) -> None:
    async for envelope in sub:
        if isinstance(envelope.message, ArbSignal):
            into.append(envelope.message)


async def test_three_outcome_soccer_event_end_to_end() -> None:
    async with (
        open_stack(assignments=assignments, books=books) as stack,
        stack.bus.subscribe(Channel.SIGNALS) as sub,
    ):
        await wait_for(lambda: fresh(stack))
        engine = stack.shard.engine
        assert engine.game_ids() == ["epl-ars-che"]
        got: list[ArbSignal] = []
        stack.nursery.start_soon(collect, sub, got)
        await trio.sleep(0.3)
        assert got == []  # quiet books: no cover pays after fees
        batches = engine.stats.kernel_batches
        assert batches >= 1
        assert engine.stats.kernel_flagged == 0  # ... and the kernel flagged none
        set_poly(stack.poly, "draw", "0.26", "0.76")
        await wait_for(lambda: len(got) >= 1)
        await trio.sleep(0.5)  # nothing more may follow
        assert len(got) == 1
        sig = got[0]
        assert (sig.event, sig.combo, sig.team, sig.game_id) == ("open", LABEL, "", "epl-ars-che")
        size = 80 * ONE  # Polymarket's away market offers 80
        legs = [(leg.venue, leg.instrument, leg.side, leg.outcome) for leg in sig.legs]
        assert legs == [
            ("kalshi", KALSHI["home"], "yes", "home"),
            ("polymarket", POLY["draw"], "yes", "draw"),
            ("polymarket", POLY["away"], "yes", "away"),
        ]
        prices = [parse_fixed(x) for x in ("0.40", "0.26", "0.28")]
        assert [leg.price for leg in sig.legs] == prices
        assert [leg.worst_price for leg in sig.legs] == prices
        assert all(leg.size == size for leg in sig.legs)
        fees = [
            kalshi_fee(prices[0], size),
            polymarket_fee(prices[1], size, rate=Decimal("0.05")),
            polymarket_fee(prices[2], size, rate=Decimal("0.05")),
        ]
        assert fees == [parse_fixed("1.35"), parse_fixed("0.7696"), parse_fixed("0.8064")]
        assert [leg.fee for leg in sig.legs] == fees
        assert sig.size == size
        assert sig.fees == parse_fixed("2.926")
        assert sig.cost == parse_fixed("78.126")  # 80 x 0.94 + fees
        # 80 - 75.20 - 1.35 - 0.7696 - 0.8064
        assert sig.profit == parse_fixed("1.874")
        assert sig.monitor_recv_ns > 0
        assert sig.published_ns >= sig.detect_ns >= sig.bus_recv_ns > 0
        # The kernel scanned every batch of quotes and flagged the one that opened it.
        stats = engine.stats
        assert stats.kernel_batches > batches
        assert stats.kernel_scanned == stats.kernel_batches  # one game, in every batch
        assert stats.kernel_flagged >= 1
