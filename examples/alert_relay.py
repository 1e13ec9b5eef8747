"""Forward arbees' alerts and new signals to a webhook (Slack, Discord, ntfy, your own).

Each ``system:alerts`` alert (at or above ``--min-severity``) and each ``open`` signal is
POSTed as JSON ``{"text": "...", "kind": "alert"|"signal", "message": {...}}``. A failed
POST (network error, HTTP 429 or 5xx) is retried with exponential backoff up to
``--retries`` times; other HTTP errors are not retried. Messages wait in a bounded queue
while the webhook is slow; beyond it the newest are dropped and counted.

A webhook URL is a credential (Slack and Discord put the token in the path), so pass it in
the ``ALERT_WEBHOOK_URL`` environment variable rather than on the command line, and this
script never logs or prints it: only its scheme and host appear (``https://hooks.slack.com/***``).

    ALERT_WEBHOOK_URL=https://hooks.slack.com/services/T000/B000/XXXX \\
        python examples/alert_relay.py --redis-url redis://localhost:6379/0

Output::

    relaying system:alerts (>= warning) and new signals to https://hooks.slack.com/***
    sent alert POLYMARKET_MONITOR_UNHEALTHY
    sent signal KXNBAGAME-26NOV26OKCSAS NBA:OKC KalshiYes+PolyNo profit $7.07
    summary: 2 sent, 0 failed, 1 retries, 0 dropped
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import random
import sys
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import attrs
import httpx
import trio

import arbees

__all__ = ["RelayStats", "Webhook", "build_parser", "main", "redact_webhook", "relay"]

log = logging.getLogger("alert_relay")

Printer = Callable[[str], None]


def redact_webhook(url: str) -> str:
    """Only the scheme and host of a webhook URL: its path, query and userinfo hide tokens."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid url>"
    return f"{parts.scheme or '?'}://{host}{port}/***"


@attrs.define
class RelayStats:
    """Counters.

    Attributes:
        sent: messages the webhook accepted.
        failed: messages given up after the retries (or refused with a 4xx).
        retries: extra attempts made.
        dropped: messages dropped because the queue was full.
    """

    sent: int = 0
    failed: int = 0
    retries: int = 0
    dropped: int = 0


class Webhook:
    """POSTs JSON to one URL with retries; never reveals the URL (see :func:`redact_webhook`).

    Args:
        client: the HTTP client (inject one with a mock transport in tests).
        url: the webhook URL (a secret).
        retries: extra attempts after the first.
        backoff: first retry delay in seconds (doubles, capped at ``backoff_cap``, jittered).
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        url: str,
        *,
        retries: int = 5,
        backoff: float = 0.5,
        backoff_cap: float = 30.0,
    ) -> None:
        self.client = client
        self._url = url
        self.safe_url = redact_webhook(url)
        self.retries = retries
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.stats = RelayStats()
        # httpx logs every request's full URL at INFO: keep that off for this secret URL.
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.WARNING)

    def __repr__(self) -> str:
        return f"Webhook({self.safe_url!r}, sent={self.stats.sent})"

    async def post(self, payload: dict[str, Any]) -> bool:
        """Deliver one payload; True when accepted (2xx)."""
        delay = self.backoff
        for attempt in range(self.retries + 1):
            if attempt:
                self.stats.retries += 1
                await trio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, self.backoff_cap)
            try:
                response = await self.client.post(self._url, json=payload, timeout=10.0)
            except httpx.HTTPError as exc:  # the message may hold the URL: name the type only
                log.warning(
                    "webhook %s: %s (attempt %d)", self.safe_url, type(exc).__name__, attempt + 1
                )
                continue
            if response.is_success:
                self.stats.sent += 1
                return True
            status = response.status_code
            log.warning("webhook %s: HTTP %d (attempt %d)", self.safe_url, status, attempt + 1)
            if status != 429 and status < 500:
                break  # the webhook refuses this payload; retrying will not help
        self.stats.failed += 1
        return False


def alert_payload(alert: arbees.SystemAlert) -> dict[str, Any]:
    text = f"[{alert.severity}] {alert.type} from {alert.service}: {alert.error}"
    return {"text": text, "kind": "alert", "message": alert.to_dict()}


def signal_payload(signal: arbees.ArbSignal) -> dict[str, Any]:
    text = (
        f"arbitrage {signal.game_id} {signal.team} {signal.combo}: size "
        f"{arbees.format_fixed(signal.size)}, profit ${arbees.format_fixed(signal.profit)}"
    )
    return {"text": text, "kind": "signal", "message": signal.to_dict()}


async def relay(
    bus: arbees.Bus,
    webhook: Webhook,
    *,
    min_severity: str = "warning",
    forward_signals: bool = True,
    queue_size: int = 1000,
    out: Printer = print,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Forward alerts (and new signals) until cancelled; ``started`` once subscribed."""
    send, receive = trio.open_memory_channel[tuple[str, str, dict[str, Any]]](queue_size)

    def enqueue(kind: str, label: str, payload: dict[str, Any]) -> None:
        try:
            send.send_nowait((kind, label, payload))
        except trio.WouldBlock:
            webhook.stats.dropped += 1
            log.warning("webhook queue full: dropped %s %s", kind, label)

    async def sender() -> None:
        async for kind, label, payload in receive:
            ok = await webhook.post(payload)
            out(f"{'sent' if ok else 'FAILED'} {kind} {label}")

    async def alerts(stream: arbees.MessageStream[arbees.SystemAlert]) -> None:
        async for alert in stream:
            enqueue("alert", alert.type, alert_payload(alert))

    async def signals(stream: arbees.MessageStream[arbees.ArbSignal]) -> None:
        async for signal in stream:
            profit = arbees.format_fixed(signal.profit)
            label = f"{signal.game_id} {signal.team} {signal.combo} profit ${profit}"
            enqueue("signal", label, signal_payload(signal))

    async with (
        arbees.alerts(bus, min_severity=min_severity) as alert_stream,
        arbees.signals(bus, events={"open"}) as signal_stream,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(sender)
        nursery.start_soon(alerts, alert_stream)
        if forward_signals:
            nursery.start_soon(signals, signal_stream)
        task_status.started()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Forward arbees alerts and new signals to a webhook (JSON POST, retried)."
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", "redis://localhost:6379/0"),
        help="the stack's bus (env REDIS_URL)",
    )
    parser.add_argument(
        "--webhook-url",
        default=os.environ.get("ALERT_WEBHOOK_URL", ""),
        help="where to POST (prefer env ALERT_WEBHOOK_URL: the URL holds a token)",
    )
    parser.add_argument(
        "--min-severity", default="warning", choices=("info", "warning", "critical")
    )
    parser.add_argument("--no-signals", action="store_true", help="forward alerts only")
    parser.add_argument("--retries", type=int, default=5, help="retries per message (default 5)")
    parser.add_argument("--duration", type=float, default=0.0, help="stop after N s (0: Ctrl-C)")
    return parser


async def _main(args: argparse.Namespace, webhook_url: str, out: Printer) -> RelayStats:
    async with httpx.AsyncClient() as client:
        webhook = Webhook(client, webhook_url, retries=args.retries)
        with trio.move_on_after(args.duration if args.duration > 0 else math.inf):
            async with arbees.open_bus(args.redis_url) as bus, trio.open_nursery() as nursery:
                await nursery.start(
                    lambda task_status: relay(
                        bus,
                        webhook,
                        min_severity=args.min_severity,
                        forward_signals=not args.no_signals,
                        out=out,
                        task_status=task_status,
                    )
                )
                what = "" if args.no_signals else " and new signals"
                out(f"relaying system:alerts (>= {args.min_severity}){what} to {webhook.safe_url}")
        return webhook.stats


def main(argv: Sequence[str] | None = None, *, out: Printer = print) -> int:
    """Exit code 0 on a clean stop, 2 without a webhook URL, 1 when the bus fails."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    url = args.webhook_url.strip()
    if not url.startswith(("http://", "https://")):
        print("alert_relay: set ALERT_WEBHOOK_URL (or --webhook-url) to an http(s) URL",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        stats = trio.run(_main, args, url, out)
    except KeyboardInterrupt:
        return 0
    except (arbees.ArbeesError, ExceptionGroup) as exc:
        print(f"alert_relay: stopped: {type(exc).__name__}", file=sys.stderr)
        return 1
    out(
        f"summary: {stats.sent} sent, {stats.failed} failed, {stats.retries} retries, "
        f"{stats.dropped} dropped"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(out=lambda line: print(line, flush=True)))
