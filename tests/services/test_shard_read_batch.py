"""One bus read is one batch, end to end in the shard.

The Redis bus hands each socket read's messages to the subscriptions at once; the
Polymarket bus source takes them on the reader's own call (its subscription's sink) and
hands their quotes to the shard as ONE item, so the engine stores them and runs its
kernel once over the pairs they touched. These tests deliver a read's payloads exactly
as the bus's fan-out does (``deliver_raw`` per message, with no await between, then the
end of the read) and check what the engine made of them.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence

import attrs
import pytest
import trio
import trio.testing

from arbees import codec
from arbees.book import Level
from arbees.bus import MemoryBus
from arbees.bus.base import deliver_raw
from arbees.messages import Channel, PolymarketPriceUpdate
from arbees.money import ONE, parse_fixed
from arbees.services.shard import GameShard, open_game_shard
from arbees.services.shard_engine import ShardEngine
from arbees.services.sources import BusPolymarketSource
from tests.services.test_shard_engine import SEC, Clock, assignment, kq
from tests.services.test_shard_isolation import ScriptedSource, live


def update(token: str, ask: str, stream_seq: int) -> PolymarketPriceUpdate:
    """A fresh book of ``token``: YES asks from ``ask``, NO at 0.80 (bid 0.20)."""
    now = time.time_ns()
    price = parse_fixed(ask)
    return PolymarketPriceUpdate(
        market_id="0xm",
        token_id=token,
        yes_bid=200_000,
        yes_ask=price,
        no_bid=ONE - price,
        no_ask=800_000,
        liquidity=0,
        timestamp_ms=now // 1_000_000,
        yes_ask_size=100 * ONE,
        no_ask_size=100 * ONE,
        yes_asks=(Level(price, 100 * ONE),),
        no_asks=(Level(800_000, 100 * ONE),),
        monitor_recv_ns=now,
        stream_seq=stream_seq,
    )


@attrs.define
class Rig:
    bus: MemoryBus
    engine: ShardEngine
    shard: GameShard
    poly: BusPolymarketSource

    async def read(self, payloads: Sequence[bytes]) -> None:
        """Deliver ``payloads`` as one socket read: the bus's fan-out, message by message,
        without yielding, then the end of the read (the subscriptions' sinks take it);
        then let every task settle."""
        subs = self.bus._subs[Channel.POLYMARKET_PRICES]
        now = time.time_ns()
        for payload in payloads:
            deliver_raw(subs, Channel.POLYMARKET_PRICES, payload, now, self.bus.stats)
        for sub in subs:
            sub._end_read()
        await trio.testing.wait_all_tasks_blocked()


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    bus = MemoryBus()
    engine = ShardEngine("s1", max_age_ns=2 * SEC)
    kalshi = ScriptedSource("kalshi")
    poly = BusPolymarketSource(bus)
    await bus.hset("orchestrator:game_assignments", "g1", assignment())
    async with open_game_shard(bus, engine, kalshi, poly, heartbeat_interval=60) as shard:
        # Kalshi OKC: YES 0.40, NO 0.62 (a Polymarket YES at 0.30 makes an arbitrage)
        await kalshi.send(live(kq(Clock(), "0.40", "0.62")))
        await trio.testing.wait_all_tasks_blocked()
        yield Rig(bus, engine, shard, poly)


async def test_several_updates_of_one_token_in_a_read_are_one_evaluation_newest_wins(
    rig: Rig,
) -> None:
    stats = rig.engine.stats
    batches, scanned, evaluations = stats.kernel_batches, stats.kernel_scanned, stats.evaluations
    async with rig.bus.subscribe(Channel.SIGNALS) as signals:
        # 0.60 and 0.45 make no arbitrage against Kalshi's NO at 0.62; the newest, 0.30, does
        await rig.read([codec.encode(update("111", a, n)) for n, a in enumerate(
            ("0.60", "0.45", "0.30"), start=1)])  # fmt: skip
        assert rig.shard.stats.quotes == 4  # Kalshi's and the three
        assert stats.kernel_batches == batches + 1
        assert stats.kernel_scanned == scanned + 1  # the one pair the token feeds
        assert stats.evaluations == evaluations + 1
        stored = rig.engine._quotes["polymarket", "111"]
        assert stored.yes_asks[0].price == parse_fixed("0.30")
        signal = (await signals.receive()).message
    assert signal.event == "open"  # type: ignore[attr-defined]
    poly_leg = next(leg for leg in signal.legs if leg.venue == "polymarket")  # type: ignore[attr-defined]
    assert poly_leg.worst_price == parse_fixed("0.30")


async def test_a_read_mixing_good_and_malformed_messages_applies_the_good_ones(rig: Rig) -> None:
    good_a = codec.encode(update("111", "0.60", 1))
    good_b = codec.encode(update("222", "0.55", 2))
    fine = codec.encode(update("222", "0.70", 0))
    bad_price = fine.replace(
        b'"yes_ask":0.7,"yes_ask_exact":"0.7"', b'"yes_ask":1.5,"yes_ask_exact":"1.5"'
    )
    assert bad_price != fine  # the mutation took
    batches = rig.engine.stats.kernel_batches
    await rig.read([good_a, b"{not json", good_b, bad_price])
    assert rig.bus.stats.decode_errors == 2
    assert rig.shard.stats.quotes == 3  # Kalshi's and the two good ones
    assert rig.engine.stats.kernel_batches == batches + 1
    assert rig.engine._quotes["polymarket", "111"].yes_asks[0].price == parse_fixed("0.60")
    assert rig.engine._quotes["polymarket", "222"].yes_asks[0].price == parse_fixed("0.55")
    assert rig.poly.gaps == 0
    assert rig.poly.rejected_updates == 0
