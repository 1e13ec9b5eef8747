"""The shortened soak: ~34 s of simulated market with one fault of each kind.

Monitor and shard run as processes on a private redis-server (the soak starts its own);
the harness restarts Redis, drops every venue socket, stalls Polymarket and Kalshi, burns
a Kalshi seq and flips the egress check to a forbidden country and back. Asserted: no
service died, no signal that the ground truth does not justify (stale), and signals flow
again after every fault.
"""

from __future__ import annotations

from arbees.bench._e2e_soak_plan import FAULT_KINDS
from arbees.bench._e2e_soak_run import SoakOptions
from arbees.bench.soak import format_report, run_soak


def test_short_soak_survives_every_fault_without_stale_signals() -> None:
    options = SoakOptions(duration_s=34.0, seed=7, games=6, fault_gap_s=2.0)
    result = run_soak(options)
    text = format_report(result)
    assert result["crashes"] == 0, text
    assert result["stale_signals"] == 0, text
    assert all(result["fault_kinds"][kind] >= 1 for kind in FAULT_KINDS), text
    for fault in result["faults"]:
        assert fault["recovered"], f"{fault}\n{text}"
    egress = [f for f in result["faults"] if f["kind"] == "egress_flip"]
    assert all(f["observed"] for f in egress), text  # the monitor did report egress lost
    assert result["canary_signals"] > 0
    assert result["detected"] >= 1 or result["eligible_windows"] == 0, text
    assert set(result["memory"]) >= {"monitor", "shard"}
