"""examples/alert_relay.py: alerts and new signals POSTed to a webhook with retries, and the
webhook's token never shown (logs, output, repr)."""

from __future__ import annotations

import json
import logging
from functools import partial

import httpx
import pytest
import trio
from alert_relay import Webhook, main, redact_webhook, relay
from example_support import make_signal, wait_for

import arbees
from arbees.testing.fake_polymarket_http import serve_http

TOKEN = "T0KEN-abc123-SECRET"


def test_redact_webhook_keeps_only_scheme_and_host() -> None:
    assert redact_webhook(f"https://hooks.slack.com/services/T0/B0/{TOKEN}") == (
        "https://hooks.slack.com/***"
    )
    assert redact_webhook(f"http://user:{TOKEN}@127.0.0.1:8080/hook?key={TOKEN}") == (
        "http://127.0.0.1:8080/***"
    )
    assert TOKEN not in redact_webhook(f"https://discord.com/api/webhooks/1/{TOKEN}")


async def test_relay_retries_and_never_reveals_the_url(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    received: list[dict[str, object]] = []
    calls: list[str] = []

    def route(
        method: str, path: str, query: dict[str, list[str]], body: bytes
    ) -> tuple[int, object]:
        calls.append(path)
        if len(calls) <= 2:
            return 503, {"error": "busy"}  # the first two attempts fail: retried
        received.append(json.loads(body))
        return 200, {"ok": True}

    lines: list[str] = []
    async with trio.open_nursery() as servers:
        port = await servers.start(serve_http, route)
        url = f"http://127.0.0.1:{port}/hooks/{TOKEN}?token={TOKEN}"
        async with httpx.AsyncClient() as client, arbees.open_bus("memory://") as bus:
            webhook = Webhook(client, url, retries=3, backoff=0.01)
            async with trio.open_nursery() as nursery:
                await nursery.start(partial(relay, bus, webhook, out=lines.append))
                alert = arbees.SystemAlert(
                    "POLYMARKET_MONITOR_UNHEALTHY", "polymarket_monitor", "egress lost", 1,
                    severity="critical",
                )  # fmt: skip
                await bus.publish(arbees.Channel.SYSTEM_ALERTS, alert)
                info = arbees.SystemAlert("NOTE", "x", "below the minimum severity", 2, "info")
                await bus.publish(arbees.Channel.SYSTEM_ALERTS, info)
                await bus.publish(arbees.Channel.SIGNALS, make_signal("a"))
                await bus.publish(arbees.Channel.SIGNALS, make_signal("a", event="close"))
                # Done when the relay has read both answers, not when the server has both
                # requests: cancelling in between lost the second "sent" under load.
                await wait_for(lambda: len(received) == 2 and len(lines) == 2)
                nursery.cancel_scope.cancel()
        servers.cancel_scope.cancel()
    assert webhook.stats.sent == 2
    assert webhook.stats.retries == 2
    assert webhook.stats.failed == 0
    by_kind = {str(r["kind"]): r for r in received}  # the two streams race: any order
    assert set(by_kind) == {"alert", "signal"}
    assert "POLYMARKET_MONITOR_UNHEALTHY from polymarket_monitor: egress lost" in str(
        by_kind["alert"]["text"]
    )
    assert "profit $7" in str(by_kind["signal"]["text"])
    assert sorted(lines) == [
        "sent alert POLYMARKET_MONITOR_UNHEALTHY",
        "sent signal KXNBAGAME-26NOV26OKCSAS NBA:OKC KalshiYes+PolyNo profit $7",
    ]
    # The failed attempts were logged -- with the redacted URL only.
    warnings = [r.getMessage() for r in caplog.records if r.name == "alert_relay"]
    assert any("http://127.0.0.1" in w and "HTTP 503" in w for w in warnings)
    everything = "\n".join([*lines, repr(webhook), *(r.getMessage() for r in caplog.records)])
    assert TOKEN not in everything


async def test_refused_payload_is_not_retried_and_unreachable_webhook_fails() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": "bad payload"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        webhook = Webhook(client, f"https://hooks.test/{TOKEN}", retries=3, backoff=0.01)
        assert await webhook.post({"text": "x"}) is False
        assert (webhook.stats.failed, webhook.stats.retries) == (1, 0)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {request.url}")

    async with httpx.AsyncClient(transport=httpx.MockTransport(down)) as client:
        webhook = Webhook(client, f"https://hooks.test/{TOKEN}", retries=2, backoff=0.01)
        assert await webhook.post({"text": "x"}) is False
        assert (webhook.stats.failed, webhook.stats.retries) == (1, 2)


def test_no_webhook_url_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ALERT_WEBHOOK_URL", raising=False)
    assert main(["--redis-url", "memory://"]) == 2
    assert "ALERT_WEBHOOK_URL" in capsys.readouterr().err


def test_main_runs_for_its_duration(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALERT_WEBHOOK_URL", f"https://hooks.test/services/{TOKEN}")
    lines: list[str] = []
    assert main(["--redis-url", "memory://", "--duration", "0.2"], out=lines.append) == 0
    assert lines == [
        "relaying system:alerts (>= warning) and new signals to https://hooks.test/***",
        "summary: 0 sent, 0 failed, 0 retries, 0 dropped",
    ]
    assert TOKEN not in capsys.readouterr().err
