"""A shard whose scheduler stalls holds new signals until its books are confirmed after the
stall, records the episode as an engine input, and replays to the same decisions."""

from __future__ import annotations

import time
from pathlib import Path

import attrs
import pytest
import trio
import trio.testing

from arbees.bus import open_bus
from arbees.messages import GAME_ASSIGNMENTS_HASH, ArbSignal
from arbees.recording import Recorder, read_records
from arbees.replay import Replay, ReplayInput, ReplaySettings, run_replay
from arbees.services.shard import open_game_shard
from arbees.services.shard_engine import ShardEngine
from arbees.services.sources import Alive
from tests.services.test_shard_engine import SEC, Clock, assignment, kq, pq
from tests.services.test_shard_isolation import ScriptedSource, live


async def test_a_stalled_shard_holds_signals_until_its_books_are_confirmed(
    mock_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    clock = Clock()
    eng = ShardEngine("s1", max_age_ns=2 * SEC)
    kalshi, poly = ScriptedSource("kalshi"), ScriptedSource("polymarket")
    path = tmp_path / "shard.jsonl"
    signals: list[ArbSignal] = []
    with Recorder(path) as recorder:
        async with open_bus("memory://") as bus:
            await bus.hset(GAME_ASSIGNMENTS_HASH, "g1", assignment())
            async with open_game_shard(
                bus,
                eng,
                kalshi,
                poly,
                on_signal=signals.append,
                recorder=recorder,
                lag_threshold=0.25,
                lag_interval=0.05,
            ) as shard:
                assert shard.lag_guard is not None
                mock_clock.jump(0.6)  # the process stalls: the guard wakes 0.55 s late
                await trio.testing.wait_all_tasks_blocked()
                assert eng.lagging
                assert shard.status().details["lagging"] == "true"
                # Read during the stall: no signal, whatever the books say.
                await kalshi.send(live(kq(clock, "0.40", "0.62")))
                await poly.send(live(pq(clock, "0.52", "0.50")))
                await trio.testing.wait_all_tasks_blocked()
                assert signals == []
                assert eng.stats.lag_held == 1
                mock_clock.jump(0.05)  # on time again: the episode is over
                await trio.testing.wait_all_tasks_blocked()
                assert not eng.lagging
                assert signals == []  # its books wait for a confirmation from after it
                assert shard.lag_guard.stats.episodes == 1
                for source in (kalshi, poly):
                    assert source.out is not None
                    source.out(Alive(source.venue, time.time_ns()))
                await trio.testing.wait_all_tasks_blocked()
                assert [s.event for s in signals] == ["open"]
    calls = [r.engine["call"] for r in read_records(path) if r.engine is not None]
    assert calls.count("lag") == 2
    result = await run_replay([ReplayInput(str(path))], ReplaySettings())
    # opened at the same call, not at the quotes read during the stall
    assert [(s.event, s.signal_id, s.detect_ns) for s in result.signals] == [
        (s.event, s.signal_id, s.detect_ns) for s in signals
    ]


async def test_a_late_frame_is_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    eng = ShardEngine("s1", max_age_ns=2 * SEC)
    kalshi, poly = ScriptedSource("kalshi"), ScriptedSource("polymarket")
    async with open_bus("memory://") as bus:
        await bus.hset(GAME_ASSIGNMENTS_HASH, "g1", assignment())
        async with open_game_shard(bus, eng, kalshi, poly) as shard:
            now_ms = time.time_ns() // 1_000_000
            await poly.send(attrs.evolve(live(pq(clock, "0.60", "0.60")), venue_ts_ms=now_ms))
            await poly.send(
                attrs.evolve(live(pq(clock, "0.60", "0.60")), venue_ts_ms=now_ms - 5_000)
            )
            with trio.fail_after(5):
                while shard.stats.quotes < 2:  # noqa: ASYNC110
                    await trio.sleep(0.01)
    assert eng.stats.late_quotes == 1
    assert "1 quote(s) arrived older than the price age limit" in caplog.text


async def test_a_replay_ages_quotes_by_the_venues_the_live_shard_did(tmp_path: Path) -> None:
    path = tmp_path / "shard.jsonl"
    eng = ShardEngine("s1", max_age_ns=2 * SEC, send_time_venues=("kalshi",))
    kalshi, poly = ScriptedSource("kalshi"), ScriptedSource("polymarket")
    with Recorder(path) as recorder:
        async with (
            open_bus("memory://") as bus,
            open_game_shard(bus, eng, kalshi, poly, recorder=recorder),
        ):
            pass
    replay = Replay(ReplaySettings())
    for record in read_records(path):
        replay.play(record.recv_ns, record)
    assert replay.engines["s1"].send_time_venues == ("kalshi",)
