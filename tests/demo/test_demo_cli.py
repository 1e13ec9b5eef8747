"""``arbees demo --duration 5 --json``: the whole system on the simulator, scored."""

from __future__ import annotations

import json
import subprocess
import sys


def test_short_demo_detects_every_window_and_no_false_or_trap_signal() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "arbees", "demo", "--duration", "5", "--json", "--seed", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)  # nothing but the JSON summary on stdout
    for key in ("updates", "signals", "injected", "detected", "missed", "false_signals",
                "trap_signals"):  # fmt: skip
        assert isinstance(summary[key], int)
    assert {"p50", "p99"} <= set(summary["latency_us"])
    assert summary["updates"] > 0
    assert summary["injected"] >= 1
    assert summary["eligible"] >= 1
    assert summary["detected"] == summary["eligible"]
    assert summary["missed"] == 0
    assert summary["false_signals"] == 0
    assert summary["trap_signals"] == 0
    assert summary["traps"] >= 1
    assert summary["latency_us"]["count"] >= summary["detected"]
