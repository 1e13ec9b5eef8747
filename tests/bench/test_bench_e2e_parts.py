"""The pieces of ``arbees bench e2e`` / ``soak`` that need no process: books, matching,
the fault timetable, /proc sampling; plus one tiny end-to-end run of ``bench e2e``."""

from __future__ import annotations

import argparse
import os
from typing import Any

import attrs
import pytest
from tests.fee_terms import pair_fields

from arbees.bench._e2e_load import Toggle, make_games
from arbees.bench._e2e_measure import growing, match_toggles
from arbees.bench._e2e_procs import proc_sample
from arbees.bench._e2e_soak_plan import (
    FAULT_KINDS,
    canary_games,
    quiet_spans,
    schedule_faults,
)
from arbees.bench._e2e_stack import ReceivedSignal, assignments_for
from arbees.bench.soak import canary_stale
from arbees.book import Level
from arbees.messages import ArbSignal
from arbees.money import ONE, parse_fixed
from arbees.sim.books import GameBooks, KalshiBook, TokenBook, truth
from arbees.sim.plan import PlanConfig, make_plan


def _levels(pairs: list[tuple[str, str]], *, best_high: bool) -> tuple[Level, ...]:
    levels = [Level(parse_fixed(p), parse_fixed(s)) for p, s in pairs]
    return tuple(sorted(levels, key=lambda lvl: lvl.price, reverse=best_high))


def _books(
    ka: tuple[list[tuple[str, str]], list[tuple[str, str]]],
    kb: tuple[list[tuple[str, str]], list[tuple[str, str]]],
    pa: tuple[list[tuple[str, str]], list[tuple[str, str]]],
) -> GameBooks:
    return GameBooks(
        KalshiBook(_levels(ka[0], best_high=True), _levels(ka[1], best_high=True)),
        KalshiBook(_levels(kb[0], best_high=True), _levels(kb[1], best_high=True)),
        TokenBook(_levels(pa[0], best_high=True), _levels(pa[1], best_high=False)),
    )


E2E_KA = ([("0.38", "100"), ("0.37", "100"), ("0.36", "100")],
          [("0.58", "100"), ("0.57", "100"), ("0.56", "100")])  # fmt: skip
E2E_KB = ([("0.56", "100"), ("0.55", "100"), ("0.54", "100")],
          [("0.40", "100"), ("0.39", "100"), ("0.38", "100")])  # fmt: skip
E2E_PA_BIDS = [("0.40", "100"), ("0.39", "100"), ("0.38", "100")]
E2E_PA_ASKS = [("0.60", "100"), ("0.61", "100"), ("0.62", "100")]


def test_e2e_books_are_quiet_and_the_toggle_opens_exactly_one_opportunity() -> None:
    assert truth(_books(E2E_KA, E2E_KB, (E2E_PA_BIDS, E2E_PA_ASKS))) == {}
    toggled = _books(E2E_KA, E2E_KB, ([("0.55", "100"), *E2E_PA_BIDS], E2E_PA_ASKS))
    # team 0 reads token A; team 1 reads token B, which the toggle leaves alone (truth()
    # mirrors token A into B, so only team 0's verdict applies here)
    assert {key for key in truth(toggled) if key[0] == 0} == {(0, "KalshiYes+PolyNo")}
    # the background update (size of the 0.62 ask) never opens anything
    bg = _books(E2E_KA, E2E_KB, (E2E_PA_BIDS, [*E2E_PA_ASKS[:2], ("0.62", "150")]))
    assert truth(bg) == {}


def test_canary_books_are_quiet_and_their_toggles_open() -> None:
    for canary in canary_games():
        quiet = _books(canary.kalshi_a, canary.kalshi_b, canary.poly_a)
        # token B is token A's mirror, as GameBooks assumes
        assert quiet.poly_b == TokenBook(
            _levels(canary.poly_b[0], best_high=True), _levels(canary.poly_b[1], best_high=False)
        )
        assert truth(quiet) == {}
        _side, price, size = canary.toggle
        if canary.venue == "kalshi":
            yes, no = canary.kalshi_a
            toggled = _books((yes, [*no, (price, size)]), canary.kalshi_b, canary.poly_a)
        else:
            bids, asks = canary.poly_a
            toggled = _books(canary.kalshi_a, canary.kalshi_b, ([*bids, (price, size)], asks))
        assert truth(toggled), canary.venue


def test_assignments_carry_the_simulators_fees() -> None:
    game = make_games(1)[0]
    shard, *tokens = assignments_for(game, "s1")
    assert shard.platform == "kalshi"
    assert shard.teams == game.teams
    assert pair_fields(shard)[:2] == ("1", "0.05")
    assert [t.token_id for t in tokens] == [t.poly_token for t in game.teams]


def _signal(game_id: str, event: str, published_ns: int, ts: int = 0) -> ReceivedSignal:
    sig = ArbSignal(
        signal_id="x", event=event, shard_id="s", game_id=game_id, combo="KalshiYes+PolyNo",
        team="T", legs=(), size=0, cost=0, fees=0, profit=0, edge=0, timestamp_ms=0,
        venue_ts_ms=ts, published_ns=published_ns,
    )  # fmt: skip
    return ReceivedSignal(sig, published_ns)


def test_toggles_match_per_game_in_order_even_when_coalesced() -> None:
    toggles = [
        Toggle(1, 0, "open", "p", sent_ns=1_000),
        Toggle(2, 1, "open", "p", sent_ns=2_000),
        Toggle(3, 0, "close", "p", sent_ns=3_000),
        Toggle(4, 1, "close", "p", sent_ns=4_000),  # never signalled: lost
        Toggle(5, 0, "open", "p", sent_ns=5_000, burst=True),  # matched, no latency
    ]
    signals = [
        _signal("g0", "open", 1_500, ts=1),
        _signal("g1", "open", 2_600, ts=99),  # coalesced with a later frame: still matched
        _signal("g0", "close", 3_200, ts=3),
        _signal("g0", "open", 9_000, ts=5),
        _signal("g0", "open", 9_500, ts=77),  # no toggle: unexpected
    ]
    result = match_toggles(toggles, ["g0", "g1"], signals)
    assert (result.expected, result.received, result.lost, result.unexpected) == (5, 4, 1, 1)
    assert result.latency_us == [0.5, 0.6, 0.2]


def test_growing_lag_is_a_rising_median() -> None:
    assert not growing([1000.0] * 30)
    assert growing([1000.0] * 10 + [5000.0] * 10 + [20_000.0] * 10)


def test_proc_sample_reads_cpu_and_memory_of_a_live_process() -> None:
    sample = proc_sample(os.getpid())
    assert sample is not None
    assert sample.cpu_s > 0
    assert sample.hwm_kb >= sample.rss_kb > 0
    assert proc_sample(2**22 + 12345) is None


def test_proc_sample_sees_a_few_milliseconds_of_cpu_not_whole_ticks() -> None:
    # The relay floor's short phase in the end-to-end test costs a few ms: clock ticks
    # (10 ms) read it as 0.0; the scheduler's own time does not.
    import subprocess
    import sys

    spin = (
        "import sys, time\n"
        "sys.stdin.readline()\n"
        "end = time.thread_time() + 0.003\n"
        "while time.thread_time() < end: pass\n"
        "print('done', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", spin], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdin is not None
        assert child.stdout is not None
        try:
            before = proc_sample(child.pid)
            child.stdin.write("go\n")
            child.stdin.flush()
            assert child.stdout.readline() == "done\n"
            after = proc_sample(child.pid)
        finally:
            child.kill()
    assert before is not None
    assert after is not None
    assert 0.003 <= after.cpu_s - before.cpu_s < 0.5


def test_faults_cover_every_kind_and_avoid_the_plans_kalshi_stalls() -> None:
    config = PlanConfig(seed=3, games=6, duration_s=34.0, walk_rate=20.0, stale_after_s=2.6,
                        stale_every_s=30.0)  # fmt: skip
    base = make_plan(config)
    faults = schedule_faults(base, start_s=1.0, margin_s=1.5, lead_s=0.3, gap_s=2.0)
    assert {f.kind for f in faults} == set(FAULT_KINDS)
    stalls = [s.at for s in base.steps if s.action in ("stall", "resume")]
    assert stalls, "the plan has a stale trap"
    for f in faults:
        assert all(not (f.at - 1.0 <= t <= f.quiet_until + 1.0) for t in stalls)
    plan = make_plan(attrs.evolve(config, quiet_spans=quiet_spans(faults, lead_s=0.3)))
    for step in plan.steps:  # frozen market: no game step inside a fault's span
        if step.game >= 0:
            assert not any(f.at - 0.3 <= step.at <= f.quiet_until for f in faults), step
    for w in plan.windows:
        assert not any(f.at - 0.3 <= w.opened_at <= f.quiet_until for f in faults)
    # the stale trap is still there, at the same time
    assert [s.at for s in plan.steps if s.action == "stall"] == [
        s.at for s in base.steps if s.action == "stall"
    ]


def test_canary_signals_are_stale_only_outside_their_open_spans() -> None:
    truth_changes = {"c": [(1_000, True), (2_000, False), (10_000, True)]}
    grace = 500
    ok = [_signal("c", "open", 1_200).signal, _signal("c", "update", 2_300).signal]
    stale = _signal("c", "open", 5_000).signal
    closing = _signal("c", "close", 5_000).signal
    assert canary_stale([*ok, stale, closing], truth_changes, grace) == [stale]


def test_the_big_phase_books_are_deep_varied_and_the_same_every_run() -> None:
    from arbees.bench._e2e_load import (
        GAME_LEVELS,
        VARIED_SIZES,
        LoadPolymarket,
        deep_book,
        install_token_books,
    )

    bids, asks = deep_book(7, 16)
    assert (len(bids), len(asks)) == (16, 16)
    assert bids == deep_book(7, 16)[0]  # seeded by the token's index
    assert bids != deep_book(8, 16)[0]
    prices = [parse_fixed(p) for p, _ in bids + asks]
    sizes = [parse_fixed(s) for _, s in bids + asks]
    assert max(prices[:16]) == parse_fixed("0.40")
    assert min(prices[16:]) == parse_fixed("0.60")
    assert len(set(prices)) == 32  # a cent apart, never crossed
    assert len(set(sizes)) > 28
    assert all(10 * ONE <= s <= 50_000 * ONE for s in sizes)
    assert len(set(VARIED_SIZES)) == 4096
    with pytest.raises(ValueError, match="levels"):
        deep_book(0, 41)
    # the phase's load cycles through the sizes the books were installed for
    poly = LoadPolymarket()
    assert install_token_books(["1" * 40], poly, 16) == VARIED_SIZES
    assert len(poly.books["1" * 40].asks) == 16
    assert len(install_token_books(["2" * 40], poly, GAME_LEVELS)) == 2
    assert len(poly.books["2" * 40].asks) == GAME_LEVELS == 3


def test_bench_e2e_runs_end_to_end_and_reports_the_contract() -> None:
    from arbees.bench.e2e import run_bench

    args = argparse.Namespace(
        json=True, rate=100.0, tokens=20, duration=1.5, toggle_every=5, ramp_step=1.0,
        max_rate=100.0, no_ramp=False, big_tokens=2_100, big_levels=16, big_duration=1.0,
        floor_count=200,
        timeout=0.0, warmup=0.3, relay_duration=1.0, services_src="",
    )  # fmt: skip
    result = run_bench(args)
    for key in ("tick_to_signal_us", "floor_us"):
        assert {"p50", "p99", "max"} <= set(result[key])
    assert result["tick_to_signal_us"]["count"] > 0
    assert result["lost"]["signals_expected"] > 0
    assert result["lost"]["signals_lost"] == 0, result["lost"]
    assert "max_throughput_per_s" in result
    assert result["ramp"]
    assert result["lost"]["updates_not_published"] == 0, result["lost"]
    assert set(result["processes"]) == {"monitor", "shard", "redis", "bench"}
    assert result["cpu_us_per_update"]["monitor"] > 0
    assert result["cpu_us_per_update"]["shard"] > 0
    assert result["monitor_cpu_us_per_published"] > 0
    # the bench's own share: the load loop and the venues' writers, by a Trio instrument
    assert result["bench_tasks"]["driver_pct"] > 0
    assert "arbees.bench._e2e_load.LoadPolymarket._writer" in result["bench_tasks"]["tasks_pct"]
    # the big phase streams EVERY token: over the monitor's default cap of 2,000 it once
    # streamed 2,000, refused the rest, and its count of updates read as all ready
    big = result["big"]
    assert big["tokens"] == big["tokens_streamed"] == big["monitor_tokens"] == 2_100
    assert big["sockets"] == 9  # 250 tokens per socket
    assert big["levels"] == 16
    assert big["load_s"] == 1.0
    assert 0 < big["monitor_rss_mb_ready"] <= big["monitor_peak_rss_mb"]
    assert big["monitor_rss_mb"] > 0
    from arbees.bench.e2e import _format

    assert "offering the load" in _format(result)  # the human report renders every part
    relay = result["relay"]
    # the relay floor read the same frames and wrote them to Redis, once per update at most
    assert relay["updates_sent"] > 0
    assert 0 < relay["relay_counts"]["updates"] <= relay["updates_sent"]
    assert relay["relay_counts"]["writes"] <= relay["relay_counts"]["reads"]
    assert relay["cpu_us_per_update"]["relay"] > 0
    assert relay["monitor_vs_relay"] > 0
    assert result["events"]["venue_writes_to_closed"] == 0


def _step(sent: int, published: int, merged: int, **over: Any) -> dict[str, Any]:
    step: dict[str, Any] = {
        "rate": 5_000.0,
        "achieved_rate": 5_000,
        "updates_sent": sent,
        "monitor_published": published,
        "monitor_coalesced": merged,
        "signals_lost": 0,
        "tick_to_signal_us": {"p99": 2_000.0},
        "growing_lag": False,
    }
    return step | over


def test_a_ramp_step_holds_when_every_update_is_published_or_merged_in_its_read() -> None:
    from arbees.bench.e2e import step_problems

    # the 5,000/s step of session 9: 29 of 19,993 updates merged into a newer one of their
    # token from the same socket read: accounted for, the step holds
    assert step_problems(_step(19_993, 19_964, 29)) == []
    # the same step with those 29 neither published nor merged: lost, it does not hold
    (problem,) = step_problems(_step(19_993, 19_964, 0))
    assert "29 update(s) neither published nor merged" in problem
    assert step_problems(_step(10_000, 9_000, 989))  # 11 lost in 10,000: over 0.1 %
    assert step_problems(_step(10_000, 9_000, 990)) == []  # 10: 99.9 % accounted for
    # falling behind is caught by the lag and the p99, whatever was merged
    assert step_problems(_step(10_000, 5_000, 5_000, growing_lag=True)) == [
        "lag grew during the step"
    ]
    assert step_problems(_step(10_000, 10_000, 0, tick_to_signal_us={"p99": 100_001.0}))
    assert step_problems(_step(10_000, 10_000, 0, signals_lost=1)) == ["1 signal(s) lost"]
    assert "driver-limited" in step_problems(_step(10_000, 10_000, 0, achieved_rate=4_800))[0]


def test_the_task_clock_charges_each_task_its_own_cpu_and_not_the_idle_wait() -> None:
    import time

    import trio

    from arbees.bench._e2e_measure import DRIVER_TASKS, TaskClock, task_cpu

    clock = TaskClock()

    async def spin() -> None:  # ~60 ms of CPU in 3 steps
        for _ in range(3):
            end = time.thread_time() + 0.02
            while time.thread_time() < end:
                pass
            await trio.lowlevel.checkpoint()

    async def idle() -> None:
        await trio.sleep(0.15)

    async def main() -> None:
        trio.lowlevel.add_instrument(clock)
        before = clock.snapshot()
        started = time.monotonic()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(spin)
            nursery.start_soon(idle)
        figures = task_cpu(before, clock.snapshot(), time.monotonic() - started)
        spin_ns = clock.cpu_ns[f"{__name__}.{spin.__qualname__}"]
        idle_ns = clock.cpu_ns[f"{__name__}.{idle.__qualname__}"]
        assert 55_000_000 <= spin_ns < 150_000_000
        assert idle_ns < 10_000_000  # 150 ms asleep is not CPU
        assert figures["driver_pct"] == 0.0  # none of these is a driver task
        assert figures["other_pct"] > 0
        assert f"{__name__}.{spin.__qualname__}" in figures["tasks_pct"]

    trio.run(main)
    assert "arbees.bench._e2e_load.LoadPolymarket._writer" in DRIVER_TASKS
