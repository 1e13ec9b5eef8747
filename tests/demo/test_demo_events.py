"""``arbees demo`` with the event games: injected 3-way soccer and over/under windows are
detected through the real discovery -> event matcher -> orchestrator -> shard path, with no
false and no trap signal."""

from __future__ import annotations

import json
import subprocess
import sys


def test_demo_detects_three_way_and_over_under_windows_without_false_or_trap_signals() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "arbees", "demo", "--duration", "5", "--json", "--seed", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    kinds = summary["kinds"]
    assert set(kinds) == {"moneyline", "3-way", "total"}
    for kind in ("3-way", "total"):
        counts = kinds[kind]
        assert counts["eligible"] >= 1, kind
        assert counts["detected"] == counts["eligible"], kind
        assert counts["missed"] == 0, kind
        assert counts["false_signals"] == 0, kind
        assert counts["trap_signals"] == 0, kind
    assert kinds["3-way"]["traps"] >= 1  # a soccer cover cheap before fees, not after
    # and, while Kalshi is stalled, a cover crossing only a stale Kalshi copy (seed 3: on a
    # soccer game): one trap more than the fee trap, still no trap signal
    assert kinds["3-way"]["traps"] >= 2
    # the per-kind counts add up to the totals the existing demo contract reports
    for key in ("injected", "eligible", "detected", "missed", "false_signals", "trap_signals",
                "traps"):  # fmt: skip
        assert sum(c[key] for c in kinds.values()) == summary[key], key
    assert summary["false_signals"] == 0
    assert summary["trap_signals"] == 0
    assert summary["event_games"] == 4
