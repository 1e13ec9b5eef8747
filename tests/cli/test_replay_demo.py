"""``arbees replay`` of a recording made by the demo gives the live run's signals.

The demo runs the real orchestrator, monitor and shards against the fake venues with
``record`` on: every frame the monitor's and the shards' feeds receive (with its receive
time and the service that received it), every shard assignment and every input of each
shard's engine (each batch of quotes as the shard took it, at the engine's clock) go to one
file. The replay runs one shard engine per shard on those inputs, so it decides what the
live shards decided however loaded the machine was (coalesced books, batches, late sweeps):
each shard's signals in the same order with the same ids, legs, sizes and amounts, and the
same output twice in a row.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio

from arbees.cli import main
from arbees.demo.system import DemoSettings, open_demo_system
from arbees.messages import ArbSignal
from arbees.replay import signal_dict
from arbees.sim.plan import PlanConfig, make_plan

# nothing but the file: the demo shards' settings (1 s price age, 50 ms sweeps) are recorded
REPLAY_OPTIONS = ["--json"]


async def record_demo(path: Path) -> list[ArbSignal]:
    plan = make_plan(
        PlanConfig(
            seed=3,
            games=4,
            duration_s=4.0,
            window_s=(0.6, 1.0),
            scenario_gap_s=(0.12, 0.3),
            cooldown_s=0.5,
        )
    )
    async with open_demo_system(plan, DemoSettings(record=str(path))) as system:
        await system.player.run()
        await trio.sleep(0.3)  # let in-flight signals land
        return list(system.signals)


def test_replay_of_a_demo_recording_gives_the_live_signals_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo.jsonl"
    live = trio.run(record_demo, path)
    assert any(s.event == "open" for s in live)

    assert main(["replay", str(path), *REPLAY_OPTIONS]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["replay", str(path), *REPLAY_OPTIONS]) == 0
    second = json.loads(capsys.readouterr().out)
    assert first == second  # deterministic, to the nanosecond

    assert first["assignments"] >= 4
    assert first["frames"]["kalshi"] > 0
    assert first["frames"]["polymarket"] > 0
    assert first["rejected"] == {}
    assert first["engine_inputs"] > 0  # the shards replayed from their engines' inputs
    assert first["checked"] > 0  # their quotes cross-checked against the frames' books
    # every one a book the frames went through (a Polymarket book over the bus is its
    # frames' top PUBLISHED_DEPTH levels: a deeper book is no mismatch)
    assert first["mismatched"] == 0
    # each shard's signals, in its own order (the bus interleaves the shards), field by field
    assert by_shard([signal_dict(s) for s in live]) == by_shard(first["signals"])


def by_shard(signals: list[dict[str, object]]) -> dict[object, list[tuple[object, ...]]]:
    """Each shard's signals in order, without the times (the live ones are wall clock)."""
    out: dict[object, list[tuple[object, ...]]] = {}
    for s in signals:
        fields = ("event", "signal_id", "combo", "size", "cost", "fees", "profit", "legs")
        out.setdefault(s["shard_id"], []).append(tuple(json.dumps(s[f]) for f in fields))
    return out
