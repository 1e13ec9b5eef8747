"""The shard's metrics show the event kernel scanning every batch of quotes."""

from __future__ import annotations

from tests.services.test_shard_engine import engine, kq, pq
from tests.services.test_shard_isolation import ScriptedSource

from arbees.bus.memory import MemoryBus
from arbees.obs.metrics import Registry
from arbees.services.shard import GameShard
from arbees.wiring.metrics import shard_gauges


def gauge(text: str, name: str) -> float:
    (line,) = [ln for ln in text.splitlines() if ln.startswith(f"arbees_{name} ")]
    return float(line.split()[1])


def test_kernel_gauges_count_batches_scans_and_flags() -> None:
    eng, clock = engine()
    shard = GameShard(MemoryBus(), eng, ScriptedSource("kalshi"), ScriptedSource("polymarket"))
    registry = Registry()
    shard_gauges(registry, shard.bus, shard)
    eng.on_quotes([kq(clock, "0.47", "0.60"), pq(clock, "0.60", "0.52")])  # no arbitrage
    eng.on_quotes([kq(clock, "0.40", "0.62"), pq(clock, "0.52", "0.50")])  # an arbitrage
    text = registry.render()
    assert gauge(text, "shard_quotes") == 4
    assert gauge(text, "shard_kernel_batches") == 2
    assert gauge(text, "shard_kernel_scanned") == 2
    assert gauge(text, "shard_kernel_flagged") == 1
    assert gauge(text, "shard_signals_opened") == 1
