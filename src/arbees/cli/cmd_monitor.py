"""``arbees monitor``: the Polymarket monitor (run it inside the VPN's network namespace)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Mapping
from typing import Any

import trio

from arbees.bus import Bus
from arbees.cli._common import add_service_options, given, secret_environ
from arbees.cli._run import run_service, secrets_from_env
from arbees.cli.cmd_record import open_recorder
from arbees.egress import EgressSettings
from arbees.errors import ConfigError
from arbees.obs.metrics import Registry
from arbees.wiring import MonitorSettings, build_monitor
from arbees.wiring.settings import MONITOR_VENUES

__all__ = ["add_options", "register", "run", "settings_from_args"]

# Options that override a MonitorSettings field of the same name (and so its variable).
OPTIONS = (
    "ws_url",
    "clob_url",
    "audit_interval",
    "proxy",
    "tokens_per_socket",
    "max_tokens",
    "silence_timeout",
    "instance",
    "venue",
)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "monitor",
        help="run the Polymarket monitor: verify egress, stream prices to the bus",
        description="Verifies where traffic leaves (Gluetun control server or an ipinfo-style "
        "URL) before connecting to Polymarket and every EGRESS_CHECK_INTERVAL; streams the "
        "assigned tokens and publishes prices on polymarket:prices and the "
        "polymarket:latest_prices hash. Fails closed when egress is not verified.",
    )
    add_options(p)
    p.set_defaults(handler=run)


def add_options(p: argparse.ArgumentParser) -> None:
    """The service's options (shared with ``arbees record monitor``)."""
    add_service_options(p)
    p.add_argument(
        "--ws-url",
        help="Polymarket market-channel WebSocket (env POLYMARKET_WS_URL; default the venue's)",
    )
    p.add_argument(
        "--clob-url",
        help="Polymarket CLOB REST root for the book audit (env POLYMARKET_CLOB_URL; default "
        "the venue's)",
    )
    p.add_argument(
        "--audit-interval",
        type=float,
        help="seconds between REST audits of the live books (POST /books, <= 50 tokens "
        "each), catching a socket that silently stopped delivering; 0 disables "
        "(env POLYMARKET_AUDIT_INTERVAL; default 5)",
    )
    p.add_argument(
        "--proxy",
        help="HTTP CONNECT proxy for Polymarket traffic (env POLYMARKET_PROXY_URL)",
    )
    p.add_argument(
        "--egress-url",
        default=None,
        help="egress check URL (env EGRESS_CHECK_URL; in the VPN namespace "
        "http://localhost:8000/v1/publicip/ip). The API key comes from env "
        "EGRESS_CHECK_API_KEY only; policy from EGRESS_FORBIDDEN_COUNTRIES (default US) "
        "and EGRESS_REQUIRED_COUNTRIES",
    )
    p.add_argument(
        "--egress-interval",
        type=float,
        help="seconds between egress checks (env EGRESS_CHECK_INTERVAL; default 60)",
    )
    p.add_argument(
        "--tokens-per-socket",
        type=int,
        help="tokens per WebSocket connection, at most 500 (env POLYMARKET_TOKENS_PER_SOCKET; "
        "default 250)",
    )
    p.add_argument(
        "--max-tokens",
        type=int,
        help="tokens streamed at most; further assignments are refused and alerted "
        "(env MONITOR_MAX_TOKENS; default 2000)",
    )
    p.add_argument(
        "--silence-timeout",
        type=float,
        help="reconnect a socket silent this long (env POLYMARKET_SILENCE_TIMEOUT; default 60)",
    )
    p.add_argument(
        "--instance",
        help="instance id for health (env MONITOR_ID; default: host name)",
    )
    p.add_argument(
        "--venue",
        choices=MONITOR_VENUES,
        help="the venue streamed (env MONITOR_VENUE; default polymarket). polymarket-us: "
        "VenueQuotes on quotes:polymarket-us for every shard, its sockets and key held here "
        "(POLYMARKET_US_*), reached directly: no egress check",
    )


def settings_from_args(args: argparse.Namespace, environ: Mapping[str, str]) -> MonitorSettings:
    """The monitor's settings: ``environ``'s variables, overridden by the given options."""
    venue = getattr(args, "venue", None) or environ.get("MONITOR_VENUE", "").strip().lower()
    if venue and venue != "polymarket":  # a venue not behind the VPN: no egress check
        return MonitorSettings.from_env(environ, **given(args, OPTIONS))
    egress = EgressSettings.from_env(environ, url=args.egress_url, interval=args.egress_interval)
    return MonitorSettings.from_env(environ, egress=egress, **given(args, OPTIONS))


def run(args: argparse.Namespace) -> int:
    secrets_from_env("EGRESS_CHECK_API_KEY", "REDIS_PASSWORD")
    try:
        settings = settings_from_args(args, secret_environ())
    except ConfigError as exc:
        print(f"arbees monitor: {exc}", file=sys.stderr)
        return 2

    recorder = open_recorder(args, "monitor")  # ``arbees record monitor``
    if recorder is False:
        return 2

    async def body(bus: Bus, nursery: trio.Nursery, registry: Registry) -> None:
        async with build_monitor(
            settings, bus, registry=registry, recorder=recorder or None
        ) as monitor:
            await monitor.run()

    with recorder or contextlib.nullcontext():
        return run_service(args, "monitor", body)
