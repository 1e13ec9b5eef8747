"""``arbees demo --venues kalshi,polymarket-us``: the shards read Kalshi and Polymarket US
directly, with no VPN stand-in at all (no fake Gluetun, no monitor, no egress check)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

import arbees.demo.system as demo_system
import arbees.egress as egress
import arbees.wiring.build as build_module
from arbees.demo.run import DemoOptions, run_demo

US = ("kalshi", "polymarket-us")


async def test_kalshi_and_polymarket_us_run_with_no_vpn_stand_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def forbidden(*_: Any, **__: Any) -> Any:
        raise AssertionError("no VPN stand-in, monitor or egress check with Polymarket US")

    monkeypatch.setattr(demo_system, "FakeGluetun", forbidden)
    monkeypatch.setattr(demo_system, "PolymarketMonitor", forbidden)
    monkeypatch.setattr(demo_system, "build_monitor", forbidden)
    monkeypatch.setattr(demo_system, "build_orchestrator", forbidden)
    monkeypatch.setattr(build_module, "open_polymarket_route", forbidden)
    monkeypatch.setattr(egress, "open_polymarket_route", forbidden)
    summary, score = await run_demo(DemoOptions(seed=3, duration_s=5, venues=US, refresh_s=0))
    assert summary["updates"] > 0
    assert summary["price_updates"] == 0  # nothing came over the bus from a monitor
    assert score.injected >= 1
    assert score.eligible >= 1
    assert score.detected == score.eligible
    assert score.missed == 0
    assert score.false_signals == 0
    assert score.trap_signals == 0
    assert summary["traps"] >= 1
    # every detected window was a Kalshi x Polymarket US cover, signalled by the event game
    # of its team, at the simulator's own profit
    assert score.profit_matches == score.detected


def test_the_cli_takes_venues_and_refuses_an_unknown_set() -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "arbees", "demo", "--venues", "polymarket-us", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert "kalshi,polymarket-us" in bad.stderr
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "arbees",
            "demo",
            "--duration",
            "3",
            "--json",
            "--seed",
            "5",
            "--venues",
            "kalshi,polymarket-us",
            "--shards",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["shards"] == 1
    assert summary["updates"] > 0
    assert summary["false_signals"] == 0
