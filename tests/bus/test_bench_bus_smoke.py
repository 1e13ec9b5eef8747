"""`arbees bench bus` runs end to end on tiny counts (figures are not asserted: speed claims
come from the benchmark itself, never from tests)."""

from __future__ import annotations

import argparse

import pytest

from arbees.bench.bus import run_bench
from arbees.testing.redis_server import RedisServer


def test_bench_bus_reports_every_figure(redis_server: RedisServer) -> None:
    del redis_server  # only proves redis-server is installed (fails in CI otherwise)
    args = argparse.Namespace(
        count=50,
        warmup=10,
        throughput_count=500,
        memory_count=1000,
        ab_rate=2000,
        ab_batch=4,
        ab_seconds=0.1,
        ab_pairs=2,
    )
    result = run_bench(args)
    for key in ("redis_latency_us", "floor_latency_us"):
        assert set(result[key]) == {"p50", "p99", "max"}
        assert 0 < result[key]["p50"] <= result[key]["p99"] <= result[key]["max"]
    assert result["redis_received"] == 500
    assert result["redis_unbatched_received"] == 100
    assert result["memory_received"] == 1000
    assert result["codec_us"]["encode"] > 0
    assert result["codec_us"]["decode"] > 0
    assert result["codec_us"]["decode_generic"] > 0
    assert result["codec_us"]["json_floor"] > 0
    for name in ("publish_ab", "subscribe_ab"):
        ab = result[name]
        # both sides got every update through (sent, or received and decoded)
        assert ab["count"] == {"redis_bus": [200, 200], "floor": [200, 200]}
        assert ab["redis_bus_us"] > 0
        assert ab["floor_us"] > 0
        assert ab["redis_bus_over_floor"] == pytest.approx(
            ab["redis_bus_us"] / ab["floor_us"], abs=0.01
        )
        assert len(ab["redis_bus_over_floor_per_round"]) == 2
    assert result["ratio_p50"] == pytest.approx(
        result["redis_latency_us"]["p50"] / result["floor_latency_us"]["p50"], abs=0.01
    )
