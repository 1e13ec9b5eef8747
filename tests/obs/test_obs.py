"""Observability: Prometheus exposition over a real socket, JSON logs, secret masking."""

from __future__ import annotations

import json
import logging
from functools import partial

import httpx
import trio

from arbees.obs.logs import JsonFormatter, RedactingFilter, register_secret
from arbees.obs.metrics import Registry, serve_metrics


async def test_metrics_endpoint_serves_prometheus_text() -> None:
    registry = Registry()
    count = registry.counter("frames_total", "frames", labels=("venue",))
    count.inc(3, "kalshi")
    registry.gauge("egress_verified", "1 while verified", read=lambda: 1.0)
    hist = registry.histogram("hop_us", "hop", buckets=(100, 1000))
    for v in (50, 500, 5000):
        hist.observe(v)
    async with trio.open_nursery() as nursery:
        port = await nursery.start(partial(serve_metrics, registry, 0, "127.0.0.1"))
        async with httpx.AsyncClient() as client:
            ok = await client.get(f"http://127.0.0.1:{port}/metrics")
            missing = await client.get(f"http://127.0.0.1:{port}/other")
        nursery.cancel_scope.cancel()
    assert ok.status_code == 200
    assert missing.status_code == 404
    text = ok.text
    assert "# TYPE arbees_frames_total counter" in text
    assert 'arbees_frames_total{venue="kalshi"} 3' in text
    assert "arbees_egress_verified 1.0" in text
    assert 'arbees_hop_us_bucket{le="100"} 1' in text
    assert 'arbees_hop_us_bucket{le="1000"} 2' in text
    assert 'arbees_hop_us_bucket{le="+Inf"} 3' in text
    assert "arbees_hop_us_count 3" in text


def test_json_log_lines_mask_secrets_and_url_passwords() -> None:
    register_secret("s3cr3t-api-key")
    record = logging.LogRecord(
        "arbees.test", logging.WARNING, __file__, 1,
        "connect %s with key %s", ("redis://user:hunter22@host:6379/0", "s3cr3t-api-key"), None,
    )  # fmt: skip
    assert RedactingFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING"
    assert "hunter22" not in line["msg"]
    assert "s3cr3t-api-key" not in line["msg"]
    assert "***@host:6379" in line["msg"]
