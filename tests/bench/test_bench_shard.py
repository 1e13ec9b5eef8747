"""``arbees bench shard``: its pre-rendered load is what the monitor would publish, and a
short run accounts for every update and signal (figures sane, never timed)."""

from __future__ import annotations

import argparse
import time

from arbees import codec
from arbees.bench._e2e_load import make_games
from arbees.bench.shard import ShardLoad
from arbees.messages import PolymarketPriceUpdate
from arbees.money import parse_fixed
from arbees.services.quotes import checked_quote


def test_rendered_updates_decode_stamped_numbered_and_toggle_one_game() -> None:
    games = make_games(1)
    load = ShardLoad(games, toggle_every=4)
    now = time.time_ns()
    updates = []
    for _ in range(8):
        message = codec.decode(load.next_payload(now))
        assert isinstance(message, PolymarketPriceUpdate)
        updates.append(message)
    assert [u.stream_seq for u in updates] == list(range(1, 9))
    assert all(u.monitor_recv_ns == now and u.venue_ts_ms == now // 1_000_000 for u in updates)
    assert load.toggles == 2
    # the 4th update toggles game 0 on (a 0.55 bid on its first token: NO at 0.45) ...
    on, off = updates[3], updates[7]
    assert on.token_id == off.token_id == games[0].teams[0].poly_token
    quote, problem = checked_quote(on, now)
    assert problem is None
    assert quote.no_asks[0].price == parse_fixed("0.45")
    # ... and the 8th toggles it off again (the only game: toggles alternate on it)
    assert off.no_asks[0].price == parse_fixed("0.60")
    # background updates are quiet: asks from 0.60 and the NO side from 0.60
    for u in updates[:3]:
        assert u.yes_asks[0].price == u.no_asks[0].price == parse_fixed("0.60")


def test_bench_shard_runs_and_accounts_for_every_update() -> None:
    from arbees.bench.shard import run_bench

    args = argparse.Namespace(
        json=True, rate=200.0, per_write=4, tokens=20, duration=1.5, warmup=0.5,
        toggle_every=10, services_src="", no_stages=False,
    )  # fmt: skip
    result = run_bench(args)
    sent = result["updates_sent_total"]
    assert sent >= 300
    assert result["shard_processed_total"] == sent
    assert result["floor_received_total"] == sent
    assert result["toggles"] > 0
    assert result["signals"] == result["toggles"]
    assert result["signals_lost"] == 0
    cpu = result["cpu_us_per_update"]
    assert cpu["shard"] > 0
    assert cpu["floor"] > 0
    assert result["shard_over_floor"] > 0
    stages = result["stages_us"]
    assert {"decode", "to_quote", "floor_msgspec_decode", "engine_batch_1"} <= set(stages)
    assert all(v > 0 for v in stages.values())


def test_engine_stage_is_measured_under_the_runs_toggles() -> None:
    """The engine stage reads the load the run sends: with toggles its measured window
    opens and closes signals (about half the games open on average), without it reads quiet
    books and signals nothing."""
    from arbees.bench.shard import stages

    games = make_games(10)
    toggled = stages(games, 4, toggle_every=10, number=200)
    quiet = stages(games, 4, toggle_every=0, number=200)
    # a whole cycle is 2 x 10 games x 10 updates: the measured half toggles each game once
    assert toggled["engine_signals"] >= 10
    assert quiet["engine_signals"] == 0
    assert {"engine_batch_1", "engine_batch_4"} <= set(toggled)
