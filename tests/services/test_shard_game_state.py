"""Game state on the shard engine: a live game tightens staleness; a game that ends (or is
postponed or cancelled) closes its open signals and never reopens them."""

from __future__ import annotations

import pytest
import trio

from arbees.bus import open_bus
from arbees.messages import GAME_ASSIGNMENTS_HASH, ArbSignal, Channel, GameState, now_ms
from arbees.services.shard import open_game_shard
from arbees.services.shard_engine import ShardEngine
from tests.services.test_shard_engine import SEC, Clock, assignment, kq, pq
from tests.services.test_shard_engine_events import OPEN_DRAW, quiet, quote
from tests.services.test_shard_engine_events import engine as event_engine
from tests.services.test_shard_isolation import ScriptedSource, live


def report(phase: str, ts: int = 1, score: str = "") -> GameState:
    return GameState(
        venue="polymarket", key="nba-okc-sas-2026-10-20", phase=phase, timestamp_ms=ts, score=score
    )


def live_engine(live_age_s: int = 30) -> tuple[ShardEngine, Clock]:
    clock = Clock()
    eng = ShardEngine(
        "s1",
        max_age_ns=2 * SEC,
        max_quote_age_ns=600 * SEC,
        live_max_quote_age_ns=live_age_s * SEC,
        clock=clock,
    )
    eng.apply(assignment())
    return eng, clock


def open_signal(eng: ShardEngine, clock: Clock) -> str:
    eng.on_quote(kq(clock, "0.40", "0.62"))
    (opened,) = eng.on_quote(pq(clock, "0.52", "0.50"))
    assert opened.event == "open"
    return opened.signal_id


def keep_sources_alive(eng: ShardEngine, clock: Clock) -> None:
    for venue in ("kalshi", "polymarket"):
        eng.set_alive(venue, clock.now)


def test_a_live_game_tightens_the_maximum_quote_age() -> None:
    eng, clock = live_engine(live_age_s=30)
    signal_id = open_signal(eng, clock)
    # Not live yet: a quiet book 60 s old whose sources confirm liveness is still usable.
    clock.now += 60 * SEC
    keep_sources_alive(eng, clock)
    assert eng.sweep() == []
    assert eng.open_signals() == [signal_id]
    # The game goes live: the same 60-s-old quotes are now too old; the signal closes.
    assert eng.set_game_state("g1", report("live", score="10-8")) == []
    (close,) = eng.sweep()
    assert (close.event, close.signal_id) == ("close", signal_id)
    assert close.game_state == (report("live", score="10-8"),)
    # Fresh quotes while live open a new one, carrying the live state.
    (again,) = eng.on_quote(pq(clock, "0.52", "0.50")) + eng.on_quote(kq(clock, "0.40", "0.62"))
    assert again.event == "open"
    assert again.game_state[0].phase == "live"
    # 29 s later still usable, 31 s later not.
    clock.now += 29 * SEC
    keep_sources_alive(eng, clock)
    assert eng.sweep() == []
    clock.now += 2 * SEC
    keep_sources_alive(eng, clock)
    assert [s.event for s in eng.sweep()] == ["close"]
    assert eng.stats.suppressed_stale >= 2


def test_without_a_live_limit_a_live_game_keeps_the_normal_age() -> None:
    clock = Clock()
    eng = ShardEngine("s1", max_age_ns=2 * SEC, clock=clock)
    eng.apply(assignment())
    open_signal(eng, clock)
    eng.set_game_state("g1", report("live"))
    clock.now += 60 * SEC
    keep_sources_alive(eng, clock)
    assert eng.sweep() == []


@pytest.mark.parametrize("phase", ["ended", "postponed", "cancelled"])
def test_a_game_that_ends_closes_its_open_signal_and_never_reopens(phase: str) -> None:
    eng, clock = live_engine()
    eng.set_game_state("g1", report("live", ts=1))
    signal_id = open_signal(eng, clock)
    (close,) = eng.set_game_state("g1", report(phase, ts=2))
    assert (close.event, close.signal_id) == ("close", signal_id)
    assert close.game_state[0].phase == phase
    assert eng.open_signals() == []
    assert eng.halted("g1")
    # The same profitable books again, on both venues: nothing opens.
    clock.now += SEC
    assert eng.on_quote(kq(clock, "0.40", "0.62")) == []
    assert eng.on_quote(pq(clock, "0.52", "0.50")) == []
    # A later report saying live again (a venue's glitch) does not undo the halt.
    assert eng.set_game_state("g1", report("live", ts=3)) == []
    assert eng.on_quote(pq(clock, "0.52", "0.49")) == []
    assert eng.open_signals() == []
    assert eng.game_state("g1") == report(phase, ts=2)
    assert eng.stats.halted == 1


def test_state_of_a_game_the_shard_does_not_run_is_ignored() -> None:
    eng, _clock = live_engine()
    assert eng.set_game_state("other", report("ended")) == []
    assert eng.game_state("other") is None
    assert not eng.halted("other")


def test_signals_carry_no_state_until_one_is_known() -> None:
    eng, clock = live_engine()
    eng.on_quote(kq(clock, "0.40", "0.62"))
    (opened,) = eng.on_quote(pq(clock, "0.52", "0.50"))
    assert opened.game_state == ()
    eng.set_game_state("g1", report("scheduled"))
    (update,) = eng.on_quote(pq(clock, "0.52", "0.47"))
    assert update.game_state == (report("scheduled"),)


def test_unassigning_a_halted_game_forgets_it() -> None:
    eng, _clock = live_engine()
    eng.set_game_state("g1", report("ended"))
    eng.apply(assignment(action="unassign", epoch=2))
    assert not eng.halted("g1")
    assert eng.game_state("g1") is None


def test_a_live_limit_looser_than_the_normal_one_is_capped() -> None:
    eng = ShardEngine("s1", max_quote_age_ns=10 * SEC, live_max_quote_age_ns=60 * SEC)
    assert eng.live_max_quote_age_ns == 10 * SEC
    with pytest.raises(Exception, match="live_max_quote_age_ns"):
        ShardEngine("s1", live_max_quote_age_ns=0)


async def test_shard_reads_game_states_from_the_bus_and_closes_an_ended_game() -> None:
    """End to end on the memory bus: an assignment keyed by its Polymarket slug, an open
    signal, then the venue's ``ended`` report: one close carrying it, never a reopen."""
    clock = Clock()
    eng = ShardEngine("s1", max_age_ns=2 * SEC, live_max_quote_age_ns=30 * SEC)
    kalshi, poly = ScriptedSource("kalshi"), ScriptedSource("polymarket")
    keyed = assignment(game_keys={"polymarket": "nba-okc-sas-2026-10-20"})
    async with open_bus("memory://") as bus:
        await bus.hset(GAME_ASSIGNMENTS_HASH, "g1", keyed)
        async with (
            bus.subscribe(Channel.SIGNALS) as sub,
            open_game_shard(bus, eng, kalshi, poly, heartbeat_interval=0.05) as shard,
        ):
            await bus.publish(Channel.GAME_STATES, report("live", ts=now_ms(), score="3-1"))
            with trio.fail_after(5):
                while shard.stats.game_states < 1:  # noqa: ASYNC110
                    await trio.sleep(0.01)
            await kalshi.send(live(kq(clock, "0.40", "0.62")))
            await poly.send(live(pq(clock, "0.52", "0.50")))
            with trio.fail_after(5):
                opened = (await sub.receive()).message
            assert isinstance(opened, ArbSignal)
            assert opened.event == "open"
            assert [s.phase for s in opened.game_state] == ["live"]
            # another venue key, or another game's slug: no effect
            await bus.publish(
                Channel.GAME_STATES,
                GameState(venue="polymarket", key="nhl-x", phase="ended", timestamp_ms=now_ms()),
            )
            await bus.publish(Channel.GAME_STATES, report("ended", ts=now_ms(), score="99-97"))
            with trio.fail_after(5):
                closed = (await sub.receive()).message
            assert isinstance(closed, ArbSignal)
            assert (closed.event, closed.signal_id) == ("close", opened.signal_id)
            assert [(s.phase, s.score) for s in closed.game_state] == [("ended", "99-97")]
            # The profitable books again: nothing opens.
            await kalshi.send(live(kq(clock, "0.40", "0.61")))
            await poly.send(live(pq(clock, "0.52", "0.49")))
            await bus.publish(Channel.GAME_STATES, report("live", ts=now_ms() + 1))
            with trio.fail_after(5):
                while shard.stats.quotes < 4 or shard.stats.game_states < 4:  # noqa: ASYNC110
                    await trio.sleep(0.01)
            with trio.move_on_after(0.2):
                extra = (await sub.receive()).message
                raise AssertionError(f"a halted game signalled again: {extra}")
            assert eng.open_signals() == []
            assert eng.halted("g1")
            details = shard.status().details
            assert (details["game_states"], details["halted"]) == ("4", "1")


async def test_a_game_assigned_after_it_ended_starts_halted() -> None:
    eng = ShardEngine("s1", max_age_ns=2 * SEC)
    kalshi, poly = ScriptedSource("kalshi"), ScriptedSource("polymarket")
    async with (
        open_bus("memory://") as bus,
        open_game_shard(bus, eng, kalshi, poly, heartbeat_interval=0.05) as shard,
    ):
        await shard.on_game_state(report("postponed", ts=now_ms()))
        await bus.publish(
            Channel.MARKET_ASSIGNMENTS,
            assignment(game_keys={"polymarket": "nba-okc-sas-2026-10-20"}),
        )
        with trio.fail_after(5):
            while not eng.halted("g1"):  # noqa: ASYNC110
                await trio.sleep(0.01)
        state = eng.game_state("g1")
        assert state is not None
        assert state.phase == "postponed"


def test_an_event_game_that_is_cancelled_closes_its_cover_for_good() -> None:
    eng, clock = event_engine()
    quiet(eng, clock)
    (sig,) = eng.on_quote(quote(clock, "polymarket", "draw", *OPEN_DRAW))
    assert sig.event == "open"
    (close,) = eng.set_game_state("epl-1", report("cancelled"))
    assert (close.event, close.signal_id) == ("close", sig.signal_id)
    assert close.game_state == (report("cancelled"),)
    clock.now += SEC
    quiet(eng, clock)
    assert eng.on_quote(quote(clock, "polymarket", "draw", *OPEN_DRAW)) == []
    for venue in ("kalshi", "polymarket"):
        assert eng.set_alive(venue, clock.now) == []
    assert eng.open_signals() == []
