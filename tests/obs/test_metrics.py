"""The metrics endpoint: prometheus_client exposition, h11 parsing, loopback by default."""

from __future__ import annotations

import argparse
import logging
from functools import partial

import httpx
import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families

from arbees.cli._common import add_service_options
from arbees.obs.metrics import Registry, serve_metrics


def _families(text: str) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    """Parse the exposition with prometheus_client's own parser (fails on malformed text)."""
    return {
        family.name: [(s.name, dict(s.labels), s.value) for s in family.samples]
        for family in text_string_to_metric_families(text)
    }


def test_exposition_is_valid_and_escapes_hostile_label_values() -> None:
    registry = Registry()
    count = registry.counter("frames_total", "frames", labels=("venue",))
    hostile = 'kal"shi\\x\nmetric_injected 666'
    count.inc(2, hostile)
    count.inc(1, "polymarket")
    text = registry.render()
    # A raw newline in a label value would start a forged series on its own line.
    assert "\nmetric_injected" not in text
    samples = _families(text)["arbees_frames"]
    assert ("arbees_frames_total", {"venue": hostile}, 2.0) in samples
    assert ("arbees_frames_total", {"venue": "polymarket"}, 1.0) in samples
    assert "metric_injected" not in _families(text)


def test_a_failing_gauge_callback_skips_that_gauge_only(caplog: pytest.LogCaptureFixture) -> None:
    registry = Registry()
    registry.gauge("broken", "reads a feed that is gone", read=lambda: 1 / 0)
    registry.gauge("fine", "still here", read=lambda: 2.0)
    first = registry.render()
    second = registry.render()
    assert "arbees_fine 2.0" in first
    assert "arbees_broken" not in first
    assert registry.collect_errors == 2
    assert second == first
    warnings = [r for r in caplog.records if "arbees_broken" in r.getMessage()]
    assert len(warnings) == 1  # logged once, counted every time


def test_counter_names_must_end_in_total() -> None:
    # The format appends _total to a counter's samples: the name would silently change.
    with pytest.raises(ValueError, match="_total"):
        Registry().counter("frames", "frames")


def test_names_labels_and_bucket_bounds_are_kept() -> None:
    registry = Registry()
    registry.counter("orchestrator_assignments_sent_total", "sent").inc(4)
    rejections = registry.gauge("orchestrator_rejections", "by reason", ("reason",))
    rejections.values = {("no_match",): 2.0}
    hist = registry.histogram("shard_detect_latency_us", "hop", buckets=(50, 250.5))
    hist.observe(10)
    hist.observe(100)
    text = registry.render()
    for line in (
        "# TYPE arbees_orchestrator_assignments_sent_total counter",
        "arbees_orchestrator_assignments_sent_total 4.0",
        "# TYPE arbees_orchestrator_rejections gauge",
        'arbees_orchestrator_rejections{reason="no_match"} 2.0',
        "# TYPE arbees_shard_detect_latency_us histogram",
        'arbees_shard_detect_latency_us_bucket{le="50"} 1.0',
        'arbees_shard_detect_latency_us_bucket{le="250.5"} 2.0',
        'arbees_shard_detect_latency_us_bucket{le="+Inf"} 2.0',
        "arbees_shard_detect_latency_us_count 2.0",
        "arbees_shard_detect_latency_us_sum 110.0",
    ):
        assert line in text.splitlines(), line


async def test_default_bind_is_loopback_only() -> None:
    registry = Registry()
    registry.gauge("up", "1", read=lambda: 1.0)
    async with trio.open_nursery() as nursery:
        port = await nursery.start(serve_metrics, registry, 0)
        async with httpx.AsyncClient() as client:
            ok = await client.get(f"http://127.0.0.1:{port}/metrics")
            # Bound to 0.0.0.0 this would answer too (127.0.0.2 is another local address).
            with pytest.raises(httpx.ConnectError):
                await client.get(f"http://127.0.0.2:{port}/metrics")
        nursery.cancel_scope.cancel()
    assert ok.status_code == 200
    assert "arbees_up 1.0" in ok.text


async def _raw(port: int, data: bytes) -> bytes:
    """Send ``data``, half-close, read the answer until the server closes.

    A server that answers before reading everything resets the connection (the unread
    bytes), so a reset ends the answer too."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    answer = b""
    async with stream:
        try:
            await stream.send_all(data)
            await stream.send_eof()
            with trio.fail_after(10):
                while chunk := await stream.receive_some(65536):
                    answer += chunk
        except trio.BrokenResourceError:
            pass
    return answer


async def test_hostile_requests_are_counted_rejections_and_serving_continues(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="arbees.obs.metrics")
    registry = Registry()
    registry.gauge("up", "1", read=lambda: 1.0)
    async with trio.open_nursery() as nursery:
        port = await nursery.start(partial(serve_metrics, registry, 0, "127.0.0.1"))
        garbage = await _raw(port, b"\x00\xff not http at all\r\n\r\n")
        huge = await _raw(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000)
        post = await _raw(port, b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        elsewhere = await _raw(port, b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n")
        silent = await _raw(port, b"")
        head = await _raw(port, b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        async with httpx.AsyncClient() as client:
            ok = await client.get(f"http://127.0.0.1:{port}/metrics?x=1")
        nursery.cancel_scope.cancel()
    assert garbage.startswith(b"HTTP/1.1 400 ")
    assert huge == b"" or huge.startswith(b"HTTP/1.1 400 ")  # the reset may come first
    assert post.startswith(b"HTTP/1.1 405 ")
    assert elsewhere.startswith(b"HTTP/1.1 404 ")
    assert silent == b""
    assert head.startswith(b"HTTP/1.1 200 ")
    assert head.endswith(b"\r\n\r\n")
    assert ok.status_code == 200
    rejected = {
        labels["reason"]: value
        for name, labels, value in _families(ok.text)["arbees_metrics_requests_rejected"]
        if name.endswith("_total")
    }
    assert rejected == {"bad_request": 2.0, "method": 1.0, "not_found": 1.0}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3  # the first of each reason; the repeat is at DEBUG


async def test_slow_clients_time_out_and_a_flood_is_refused_not_queued() -> None:
    registry = Registry()
    async with trio.open_nursery() as nursery:
        port = await nursery.start(
            partial(serve_metrics, registry, 0, request_timeout=0.2, max_connections=2)
        )
        idle = [await trio.open_tcp_stream("127.0.0.1", port) for _ in range(2)]
        with trio.fail_after(10):
            # Both slots are held by silent clients: a third connection is closed at once.
            extra = await trio.open_tcp_stream("127.0.0.1", port)
            assert await extra.receive_some(1024) == b""
            for stream in idle:  # the silent ones are dropped once their time is up
                assert await stream.receive_some(1024) == b""
            async with httpx.AsyncClient() as client:
                ok = await client.get(f"http://127.0.0.1:{port}/metrics")
        for stream in [*idle, extra]:
            await stream.aclose()
        nursery.cancel_scope.cancel()
    assert ok.status_code == 200
    rejected = {
        labels["reason"]: value
        for name, labels, value in _families(ok.text)["arbees_metrics_requests_rejected"]
        if name.endswith("_total")
    }
    assert rejected == {"busy": 1.0, "timeout": 2.0}


def test_metrics_address_comes_from_metrics_addr(monkeypatch: pytest.MonkeyPatch) -> None:
    def parse(*argv: str) -> argparse.Namespace:
        parser = argparse.ArgumentParser()
        add_service_options(parser)
        return parser.parse_args(list(argv))

    monkeypatch.delenv("METRICS_ADDR", raising=False)
    assert parse().metrics_addr == "127.0.0.1"
    monkeypatch.setenv("METRICS_ADDR", "0.0.0.0")
    assert parse().metrics_addr == "0.0.0.0"
    assert parse("--metrics-addr", "::1").metrics_addr == "::1"
