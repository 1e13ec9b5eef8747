"""One bad record never stops a shard; no message keeps a price fresh beyond its bounds.

* an assignment with an unusable fee field ("abc", "NaN", "1e999999", "Infinity", negative
  or absurd values) used to raise out of ``fees_for`` and end the shard; now that game is
  refused (counted, alerted once) and every other game keeps producing signals;
* a liveness confirmation or a quote timed in the future counts as *now*, and a quote older
  than ``max_quote_age_ns`` is never used, whatever heartbeats say;
* beyond ``max_games`` new games are refused, the running ones keep running.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import pytest
import trio

from arbees.bus import open_bus
from arbees.errors import ConfigError, DecodeError
from arbees.messages import (
    GAME_ASSIGNMENTS_HASH,
    MAX_LIST_ITEMS,
    ArbSignal,
    Channel,
    SystemAlert,
    TeamLeg,
)
from arbees.services.quotes import Quote
from arbees.services.shard import GameShard, open_game_shard
from arbees.services.shard_engine import ShardEngine, fees_for
from arbees.services.sources import Alive, ItemSink, SourceItem
from tests.services.test_shard_engine import SEC, Clock, assignment, engine, kq, pq

HOUR = 3600 * SEC

BAD_FEES: list[dict[str, Any]] = [
    {"poly_fee_rate": "abc"},
    {"poly_fee_rate": "NaN"},
    {"poly_fee_rate": "sNaN"},
    {"poly_fee_rate": "1e999999"},
    {"poly_fee_rate": "Infinity"},
    {"poly_fee_rate": "-0.05"},
    {"poly_fee_rate": "1.5"},
    {"poly_fee_rate": "0.0000001"},
    {"poly_fee_rate": "1" * 5000},
    {"kalshi_fee_multiplier": "abc"},
    {"kalshi_fee_multiplier": "-1"},
    {"kalshi_fee_multiplier": "1e999999"},
    {"kalshi_fee_multiplier": "11"},
    {"poly_fee_exponent": -1},
    {"poly_fee_exponent": 10**6},
    {"poly_min_order_size": -1},
]


def second_game(**kw: object) -> Any:
    fields: dict[str, object] = {
        "game_id": "g2",
        "market_id": "KXNBAGAME-26OCT20LALBOS",
        "teams": (
            TeamLeg("NBA:LAL", "KXNBAGAME-26OCT20LALBOS-LAL", "333"),
            TeamLeg("NBA:BOS", "KXNBAGAME-26OCT20LALBOS-BOS", "444"),
        ),
    }
    fields.update(kw)
    return assignment(**fields)


@pytest.mark.parametrize(
    "bad", BAD_FEES, ids=lambda d: f"{next(iter(d))}={str(d[next(iter(d))])[:12]}"
)
def test_unusable_fee_refuses_that_game_and_keeps_the_others(bad: dict[str, Any]) -> None:
    eng, clock = engine()  # g1 runs, with good fees
    delta = eng.apply(second_game(**bad))
    assert delta.rejected
    assert delta.add.get("kalshi", ()) == delta.add.get("polymarket", ()) == ()
    assert "g2" not in eng.games
    assert eng.stats.rejected_assignments == 1
    # g1 still trades.
    eng.on_quote(kq(clock, "0.40", "0.62"))
    assert [s.event for s in eng.on_quote(pq(clock, "0.52", "0.50"))] == ["open"]


@pytest.mark.parametrize("bad", BAD_FEES[:5], ids=lambda d: str(next(iter(d.values())))[:12])
def test_fees_for_raises_only_a_config_error(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        fees_for(assignment(**bad))


def test_a_running_game_whose_fees_become_unreadable_stops_signalling() -> None:
    """Never keep trading on the previous fees: the orchestrator says they changed."""
    eng, clock = engine()
    eng.on_quote(kq(clock, "0.40", "0.62"))
    assert len(eng.on_quote(pq(clock, "0.52", "0.50"))) == 1
    delta = eng.apply(assignment(poly_fee_rate="NaN", epoch=2))
    assert delta.rejected
    assert [s.event for s in delta.signals] == ["close"]
    assert set(delta.remove.get("polymarket", ())) == {"111", "222"}
    assert eng.games == {}


def test_a_future_heartbeat_cannot_keep_an_old_quote_fresh() -> None:
    eng, clock = engine()
    eng.on_quote(kq(clock, "0.40", "0.62"))
    eng.on_quote(pq(clock, "0.52", "0.50"))
    eng.set_alive("polymarket", clock.now + HOUR)  # forged: an hour ahead
    eng.set_alive("kalshi", clock.now + HOUR)
    assert eng.stats.future_clamped == 2
    clock.now += 3 * SEC  # beyond max_age without any further confirmation
    assert [s.event for s in eng.sweep()] == ["close"]
    quote = eng._quotes[("polymarket", "111")]
    assert not eng.usable(quote, clock.now)


def test_an_ancient_quote_is_never_fresh_whatever_heartbeats_say() -> None:
    eng, clock = engine()
    ancient = attrs.evolve(pq(clock, "0.52", "0.50"), received_ns=0, monitor_recv_ns=0)
    eng.on_quote(kq(clock, "0.40", "0.62"))
    assert eng.on_quote(ancient) == []
    clock.now += HOUR
    assert eng.set_alive("polymarket", clock.now) == []  # a genuine heartbeat, every second
    assert eng.set_alive("kalshi", clock.now) == []
    assert not eng.usable(eng._quotes[("polymarket", "111")], clock.now)
    # A quiet but young quote is still vouched for by heartbeats (the design for quiet books).
    eng.on_quote(kq(clock, "0.40", "0.62"))
    eng.on_quote(pq(clock, "0.52", "0.50"))
    clock.now += 60 * SEC
    eng.set_alive("polymarket", clock.now)
    assert eng.usable(eng._quotes[("polymarket", "111")], clock.now)


def test_a_quote_from_the_future_counts_as_received_now() -> None:
    eng, clock = engine()
    eng.on_quote(kq(clock, "0.40", "0.62"))
    future = attrs.evolve(pq(clock, "0.52", "0.50"), received_ns=clock.now + HOUR)
    assert len(eng.on_quote(future)) == 1
    assert eng._quotes[("polymarket", "111")].received_ns == clock.now
    clock.now += 3 * SEC
    assert [s.event for s in eng.sweep()] == ["close"]


def test_game_cap_refuses_new_games_and_keeps_the_running_one() -> None:
    clock = Clock()
    eng = ShardEngine("s1", max_age_ns=2 * SEC, clock=clock, max_games=1)
    assert eng.apply(assignment()).add.get("polymarket", ())
    delta = eng.apply(second_game())
    assert delta.over_cap
    assert delta.rejected
    assert set(eng.games) == {"g1"}
    assert eng.stats.refused_cap == 1
    # An update of a running game is not a new game.
    assert not eng.apply(assignment(epoch=2)).rejected
    eng.on_quote(kq(clock, "0.40", "0.62"))
    assert len(eng.on_quote(pq(clock, "0.52", "0.50"))) == 1


@pytest.mark.parametrize("cap", [0, MAX_LIST_ITEMS + 1])
def test_game_cap_beyond_what_a_heartbeat_can_list_is_a_config_error(cap: int) -> None:
    # A shard's heartbeat lists every game it runs; the codec refuses longer lists, so a
    # larger cap would make the shard's own heartbeats undeliverable.
    with pytest.raises(ConfigError, match="max_games"):
        ShardEngine("s1", max_age_ns=2 * SEC, max_games=cap)


class ScriptedSource:
    """A quote source the test feeds by hand; ``refuse`` makes ``add`` raise like a feed."""

    def __init__(self, venue: str, refuse: Iterable[str] = ()) -> None:
        self.venue = venue
        self.refuse = set(refuse)
        self.added: set[str] = set()
        self.out: ItemSink | None = None

    async def run(
        self,
        out: ItemSink,
        *,
        task_status: Any = trio.TASK_STATUS_IGNORED,
    ) -> None:
        self.out = out
        out(Alive(self.venue, time.time_ns()))
        task_status.started()
        await trio.sleep_forever()

    async def add(self, instruments: Iterable[str]) -> None:
        new = set(instruments)
        if new & self.refuse:
            raise DecodeError(f"not an instrument: {sorted(new & self.refuse)}", field="token")
        self.added |= new

    async def remove(self, instruments: Iterable[str]) -> None:
        self.added -= set(instruments)
        await trio.lowlevel.checkpoint()

    async def send(self, quote: Quote) -> None:
        assert self.out is not None
        self.out(quote)
        await trio.lowlevel.checkpoint()


def live(q: Quote) -> Quote:
    return attrs.evolve(q, received_ns=time.time_ns())


async def test_shard_serves_the_valid_game_next_to_poisoned_ones() -> None:
    """Stored: a good game, one with a NaN fee, one whose token the Polymarket source refuses."""
    clock = Clock()
    eng = ShardEngine("s1", max_age_ns=2 * SEC)
    kalshi, poly = ScriptedSource("kalshi"), ScriptedSource("polymarket", refuse={"555"})
    refused = assignment(
        game_id="g3",
        market_id="KXNBAGAME-26OCT20MIANYK",
        teams=(
            TeamLeg("NBA:MIA", "KXNBAGAME-26OCT20MIANYK-MIA", "555"),
            TeamLeg("NBA:NYK", "KXNBAGAME-26OCT20MIANYK-NYK", "666"),
        ),
    )
    async with open_bus("memory://") as bus:
        await bus.hset(GAME_ASSIGNMENTS_HASH, "g2", second_game(poly_fee_rate="NaN"))
        await bus.hset(GAME_ASSIGNMENTS_HASH, "g1", assignment())
        await bus.hset(GAME_ASSIGNMENTS_HASH, "g3", refused)
        async with (
            bus.subscribe(Channel.SIGNALS, Channel.SYSTEM_ALERTS) as sub,
            open_game_shard(bus, eng, kalshi, poly, heartbeat_interval=0.05) as shard,
        ):
            assert set(eng.games) == {"g1"}
            assert poly.added == {"111", "222"}
            assert kalshi.added == {"KXNBAGAME-26OCT20OKCSAS-OKC", "KXNBAGAME-26OCT20OKCSAS-SAS"}
            await kalshi.send(live(kq(clock, "0.40", "0.62")))
            await poly.send(live(pq(clock, "0.52", "0.50")))
            alerts: list[SystemAlert] = []
            signals: list[ArbSignal] = []
            with trio.fail_after(5):
                while not (signals and len(alerts) >= 2):
                    m = (await sub.receive()).message
                    if isinstance(m, SystemAlert):
                        alerts.append(m)
                    elif isinstance(m, ArbSignal):
                        signals.append(m)
            assert signals[0].game_id == "g1"
            assert {a.type for a in alerts} == {"ASSIGNMENT_REJECTED"}
            assert {a.details["key"] for a in alerts} == {"g2", "g3"}
            assert shard.stats.rejected_assignments == 2
            # The same poisoned record again: counted, not alerted again.
            await bus.publish(Channel.MARKET_ASSIGNMENTS, second_game(poly_fee_rate="NaN", epoch=2))
            with trio.fail_after(5):
                while shard.stats.rejected_assignments < 3:  # noqa: ASYNC110
                    await trio.sleep(0.01)
            assert shard.rejections.alerts_sent == 2
            assert shard.status().healthy
            assert shard.status().details["rejected"] == "3"


BAD_TEAMS: list[tuple[tuple[str, str], tuple[str, str]]] = [
    (("KXA-1", "9" * 100), ("KXA-2", "444")),  # a token id the feed refuses
    (("KXA-1", "abc"), ("KXA-2", "444")),
    (("KXA-1", "333"), ("KXA-2", "333")),  # one token for both teams
    (("", "333"), ("KXA-2", "444")),  # no Kalshi ticker
    (("K" * 10_000, "333"), ("KXA-2", "444")),
    (("KXA 1", "333"), ("KXA-2", "444")),
    (("KXA-1", "333"), ("KXA-1", "444")),  # one ticker for both teams
]


@pytest.mark.parametrize("teams", BAD_TEAMS, ids=[str(i) for i in range(len(BAD_TEAMS))])
def test_instruments_no_source_could_stream_refuse_the_game(
    teams: tuple[tuple[str, str], tuple[str, str]],
) -> None:
    eng, _clock = engine()
    legs = tuple(TeamLeg(f"NBA:T{i}", k, p) for i, (k, p) in enumerate(teams))
    delta = eng.apply(second_game(teams=legs))
    assert delta.rejected
    assert delta.add.get("kalshi", ()) == delta.add.get("polymarket", ()) == ()
    assert set(eng.games) == {"g1"}


async def test_shard_game_cap_alerts_once_and_keeps_the_running_game() -> None:
    eng = ShardEngine("s1", max_age_ns=2 * SEC, max_games=1)
    kalshi, poly = ScriptedSource("kalshi"), ScriptedSource("polymarket")
    async with open_bus("memory://") as bus:
        await bus.hset(GAME_ASSIGNMENTS_HASH, "g1", assignment())
        async with (
            bus.subscribe(Channel.SYSTEM_ALERTS) as alerts,
            open_game_shard(bus, eng, kalshi, poly, heartbeat_interval=0.05) as shard,
        ):
            for i in range(3):
                await bus.publish(Channel.MARKET_ASSIGNMENTS, second_game(game_id=f"x{i}"))
            with trio.fail_after(5):
                while shard.stats.rejected_assignments < 3:  # noqa: ASYNC110
                    await trio.sleep(0.01)
                alert = (await alerts.receive()).message
            assert isinstance(alert, SystemAlert)
            assert (alert.type, alert.severity) == ("SHARD_GAME_CAP", "critical")
            assert shard.rejections.counts["SHARD_GAME_CAP"] == 3
            assert shard.rejections.alerts_sent == 1
            assert set(eng.games) == {"g1"}
            assert poly.added == {"111", "222"}


async def test_shard_takes_each_source_batch_in_one_engine_call_keeping_liveness_in_order() -> None:
    clock = Clock()
    eng = ShardEngine("s1", max_age_ns=2 * SEC)
    eng.apply(assignment())
    items: list[SourceItem] = [
        (live(kq(clock, "0.47", "0.60")), live(pq(clock, "0.60", "0.52"))),
        Alive("kalshi", time.time_ns(), healthy=False),  # everything after is unusable
        (live(kq(clock, "0.40", "0.62")), live(pq(clock, "0.52", "0.50"))),
    ]
    async with open_bus("memory://") as bus:
        shard = GameShard(bus, eng, ScriptedSource("kalshi"), ScriptedSource("polymarket"))
        for item in items:
            shard._take(item)
    assert shard.stats.quotes == eng.stats.quotes == 4
    assert eng.stats.kernel_batches == 2  # the quotes before the liveness item, then after
    assert eng.stats.kernel_scanned == 2
    assert eng.stats.opened == 0  # the arbitrage came after Kalshi went unhealthy


async def test_an_item_longer_than_an_engine_batch_is_taken_in_order_in_bounded_calls() -> None:
    # A reload of every token arrives as one item; one engine call (and one recorded
    # batch) takes at most MAX_BATCH quotes of it, in order, the newest winning.
    from arbees.services import shard as shard_module

    clock = Clock()
    eng = ShardEngine("s1", max_age_ns=2 * SEC)
    eng.apply(assignment())
    calls: list[int] = []
    on_quotes = eng.on_quotes

    def counting(quotes: Sequence[Quote]) -> list[ArbSignal]:
        calls.append(len(quotes))
        return on_quotes(quotes)

    eng.on_quotes = counting  # type: ignore[method-assign]
    item = tuple(live(pq(clock, "0.60", "0.52")) for _ in range(2 * shard_module.MAX_BATCH))
    item += (live(pq(clock, "0.55", "0.50")),)
    async with open_bus("memory://") as bus:
        shard = GameShard(bus, eng, ScriptedSource("kalshi"), ScriptedSource("polymarket"))
        shard._take(item)
    assert calls == [shard_module.MAX_BATCH, shard_module.MAX_BATCH, 1]
    assert shard.stats.quotes == len(item)
    assert eng._quotes["polymarket", item[-1].instrument] == item[-1]
