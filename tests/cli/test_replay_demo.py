"""``arbees replay`` of a recording made by the demo gives the live run's signals.

The demo runs the real orchestrator, monitor and shards against the fake venues with
``record`` on: every frame the monitor's and the shards' feeds receive (with its receive
time and the service that received it) and every shard assignment go to one file. The
replay plays that file through the venues' protocols and one shard engine per shard, on
the recorded times only, so it decides what the live shards decided: the same
opportunities under the same signal ids, and the same output twice in a row.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio

from arbees.cli import main
from arbees.demo.system import DemoSettings, open_demo_system
from arbees.messages import ArbSignal
from arbees.sim.plan import PlanConfig, make_plan

# the demo's shard settings (DemoSettings.max_age_s, demo_service_settings' sweep)
REPLAY_OPTIONS = ["--max-price-age-ms", "1000", "--sweep-interval-ms", "50", "--json"]


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


def opened(signals: list[dict[str, object]]) -> set[tuple[object, ...]]:
    return {(s["game_id"], s["team"], s["combo"]) for s in signals if s["event"] == "open"}


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
    live_opened = {(s.game_id, s.team, s.combo) for s in live if s.event == "open"}
    assert opened(first["signals"]) == live_opened
    # the same shards, games and serials: every live signal id is a replayed one
    assert {s.signal_id for s in live} <= {s["signal_id"] for s in first["signals"]}
