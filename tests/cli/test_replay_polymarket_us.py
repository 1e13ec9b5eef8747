"""``arbees replay`` of Polymarket US frames: the demo's US-only topology (Kalshi and
Polymarket US read directly by the shards) recorded, then replayed through the venues'
replayers (:class:`arbees.polymarket_us.replay.PolymarketUsReplayer` in
``replay.REPLAYERS``) and one shard engine per shard, gives the live run's signals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio
from tests.cli.test_replay_demo import by_shard

from arbees.cli import main
from arbees.demo.system import DemoSettings, open_demo_system
from arbees.messages import ArbSignal
from arbees.polymarket_us.replay import PolymarketUsReplayer
from arbees.replay import REPLAYERS, signal_dict
from arbees.sim.plan import PlanConfig, make_plan


async def record_us_demo(path: Path) -> list[ArbSignal]:
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
    settings = DemoSettings(record=str(path), venues=("kalshi", "polymarket-us"))
    async with open_demo_system(plan, settings) as system:
        await system.player.run()
        await trio.sleep(0.3)  # let in-flight signals land
        return list(system.signals)


def test_replay_of_polymarket_us_frames_gives_the_live_signals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert REPLAYERS["polymarket-us"] is PolymarketUsReplayer
    path = tmp_path / "us.jsonl"
    live = trio.run(record_us_demo, path)
    assert any(s.event == "open" for s in live)
    assert main(["replay", str(path), "--json"]) == 0
    replayed = json.loads(capsys.readouterr().out)
    assert replayed["frames"]["polymarket-us"] > 0
    assert replayed["frames"]["kalshi"] > 0
    assert "polymarket" not in replayed["frames"]
    assert replayed["rejected"] == {}
    assert by_shard([signal_dict(s) for s in live]) == by_shard(replayed["signals"])


def test_the_replayer_hands_out_the_feeds_updates() -> None:
    replayer = PolymarketUsReplayer()
    book = {
        "market_data": {
            "market_slug": "aec-nba-okc-sas-2026-12-06",
            "bids": [{"px": {"value": "0.44", "currency": "USD"}, "qty": "12.5"}],
            "offers": [{"px": {"value": "0.465", "currency": "USD"}, "qty": "3"}],
        }
    }
    (update,) = replayer.frame(json.dumps(book), 7)
    assert (update.slug, update.kind, update.received_ns) == (
        "aec-nba-okc-sas-2026-12-06",
        "snapshot",
        7,
    )
    bid, ask = update.view.best_bid, update.view.best_ask
    assert bid is not None
    assert ask is not None
    assert (bid.price, bid.size) == (440_000, 12_500_000)  # a partial-contract size
    assert (ask.price, ask.size) == (465_000, 3_000_000)  # a half-cent tick, exact
    assert replayer.frame('{"heartbeat": {}}', 8) == []
    assert replayer.frame("not json", 9) == []
    assert replayer.rejected() == 1
