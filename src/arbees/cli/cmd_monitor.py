"""``arbees monitor``: the Polymarket monitor (run it inside the VPN's network namespace)."""

from __future__ import annotations

import argparse
import socket
from collections.abc import Callable
from typing import Any

import attrs
import trio

from arbees.bus import Bus
from arbees.cli._bus_metrics import bus_gauges
from arbees.cli._common import add_service_options, env, env_float, env_int, secret_environ
from arbees.cli._run import run_service, secrets_from_env
from arbees.cli._wiring import PolymarketFeedAdapter
from arbees.egress import EgressSettings, open_polymarket_route
from arbees.errors import ConfigError
from arbees.obs.metrics import Registry
from arbees.polymarket.audit import AuditConfig, AuditStats
from arbees.polymarket.feed import DEFAULT_WS_URL, FeedConfig, PolymarketFeed
from arbees.polymarket.rest import DEFAULT_CLOB_URL, USER_AGENT, PolymarketRest, RestConfig
from arbees.services.monitor import PolymarketMonitor


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "monitor",
        help="run the Polymarket monitor: verify egress, stream prices to the bus",
        description="Verifies where traffic leaves (Gluetun control server or an ipinfo-style "
        "URL) before connecting to Polymarket and every EGRESS_CHECK_INTERVAL; streams the "
        "assigned tokens and publishes prices on polymarket:prices and the "
        "polymarket:latest_prices hash. Fails closed when egress is not verified.",
    )
    add_service_options(p)
    p.add_argument(
        "--ws-url",
        default=env("POLYMARKET_WS_URL", DEFAULT_WS_URL),
        help="Polymarket market-channel WebSocket (env POLYMARKET_WS_URL)",
    )
    p.add_argument(
        "--clob-url",
        default=env("POLYMARKET_CLOB_URL", DEFAULT_CLOB_URL),
        help="Polymarket CLOB REST root for the book audit (env POLYMARKET_CLOB_URL)",
    )
    p.add_argument(
        "--audit-interval",
        type=float,
        default=env_float("POLYMARKET_AUDIT_INTERVAL", 5.0),
        help="seconds between REST audits of the live books (POST /books, <= 50 tokens "
        "each), catching a socket that silently stopped delivering; 0 disables "
        "(env POLYMARKET_AUDIT_INTERVAL)",
    )
    p.add_argument(
        "--proxy",
        default=env("POLYMARKET_PROXY_URL", "") or None,
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
        default=env_float("EGRESS_CHECK_INTERVAL", 60.0),
        help="seconds between egress checks (env EGRESS_CHECK_INTERVAL)",
    )
    p.add_argument(
        "--tokens-per-socket",
        type=int,
        default=env_int("POLYMARKET_TOKENS_PER_SOCKET", 250),
        help="tokens per WebSocket connection, at most 500 (env POLYMARKET_TOKENS_PER_SOCKET)",
    )
    p.add_argument(
        "--max-tokens",
        type=int,
        default=env_int("MONITOR_MAX_TOKENS", 2000),
        help="tokens streamed at most; further assignments are refused and alerted "
        "(env MONITOR_MAX_TOKENS)",
    )
    p.add_argument(
        "--silence-timeout",
        type=float,
        default=env_float("POLYMARKET_SILENCE_TIMEOUT", 60.0),
        help="reconnect a socket silent this long (env POLYMARKET_SILENCE_TIMEOUT)",
    )
    p.add_argument(
        "--instance",
        default=env("MONITOR_ID", socket.gethostname()),
        help="instance id for health (env MONITOR_ID; default: host name)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    secrets_from_env("EGRESS_CHECK_API_KEY", "REDIS_PASSWORD")
    settings = EgressSettings.from_env(
        secret_environ(), url=args.egress_url, interval=args.egress_interval
    )
    base_config = FeedConfig(
        url=args.ws_url,
        tokens_per_socket=args.tokens_per_socket,
        silence_timeout=args.silence_timeout,
        proxy=args.proxy,
    )
    audit_stats = AuditStats()  # shared by the auditor of every verified period

    async def body(bus: Bus, nursery: trio.Nursery, registry: Registry) -> None:
        audit = AuditConfig(interval=args.audit_interval)  # ConfigError -> exit 1, logged
        if audit.enabled and not args.clob_url.startswith(("http://", "https://")):
            raise ConfigError("--clob-url must be an http(s):// URL")
        # The egress check uses the same route (proxy) as the Polymarket traffic it guards,
        # and so does the REST audit: one client for both. The monitor runs the guard.
        async with open_polymarket_route(
            name="polymarket-monitor",
            user_agent=USER_AGENT,
            proxy=args.proxy,
            settings=settings,
            check=True,
            run_guard=False,
        ) as route:
            guard = route.guard
            assert guard is not None  # check=True
            config = attrs.evolve(base_config, gate=route.gate)
            rest = PolymarketRest(
                route.client, RestConfig(clob_url=args.clob_url, retries=0), gate=route.gate
            )

            def feed_factory(tokens: list[str]) -> PolymarketFeedAdapter:
                return PolymarketFeedAdapter(
                    tokens,
                    config,
                    rest=rest if audit.enabled else None,
                    audit=audit,
                    allowed=lambda: guard.verified,
                    audit_stats=audit_stats,
                )

            monitor = PolymarketMonitor(
                bus, feed_factory, guard, instance=args.instance, max_tokens=args.max_tokens
            )
            registry.gauge("monitor_audit_invalidated", "books distrusted by the REST audit",
                           read=lambda: audit_stats.invalidated)  # fmt: skip
            registry.gauge("monitor_audit_failures", "failed REST audit requests",
                           read=lambda: audit_stats.failures)  # fmt: skip
            registry.gauge("monitor_audit_matches", "books confirmed by the REST audit",
                           read=lambda: audit_stats.matches)  # fmt: skip
            registry.gauge("monitor_published", "price updates published",
                           read=lambda: monitor.stats.published)  # fmt: skip
            registry.gauge("monitor_egress_verified", "1 while egress is verified",
                           read=lambda: float(guard.verified))  # fmt: skip
            registry.gauge("monitor_tokens", "assigned tokens", read=lambda: len(monitor.tokens))
            registry.gauge("monitor_egress_losses", "egress losses",
                           read=lambda: monitor.stats.egress_losses)  # fmt: skip
            registry.gauge("bus_publish_failed", "messages the bus could not send",
                           read=lambda: bus.stats.publish_failed)  # fmt: skip
            bus_gauges(registry, bus)
            registry.gauge("monitor_stale_published", "updates published with stale=True",
                           read=lambda: monitor.stats.stale_published)  # fmt: skip
            registry.gauge("monitor_rejected_assignments", "assignments refused",
                           read=lambda: monitor.stats.rejected_assignments)  # fmt: skip
            registry.gauge("monitor_refused_cap", "tokens refused at MONITOR_MAX_TOKENS",
                           read=lambda: monitor.stats.refused_cap)  # fmt: skip
            _feed_gauges(registry, monitor)
            await monitor.run()

    return run_service(args, "monitor", body)


def _feed_gauges(registry: Registry, monitor: PolymarketMonitor) -> None:
    """Counters of the current feed (a new feed starts with every verified egress period)."""

    def of_feed(read: Callable[[PolymarketFeed], float]) -> Callable[[], float]:
        def value() -> float:
            adapter = monitor.current_feed
            return read(adapter.feed) if isinstance(adapter, PolymarketFeedAdapter) else 0.0

        return value

    registry.gauge("feed_reconnects", "WebSocket reconnects in this egress period",
                   read=of_feed(lambda f: sum(d.stats.reconnects for d in f.drivers)))  # fmt: skip
    registry.gauge("feed_rejected", "frames/events rejected as invalid (counted, dropped)",
                   read=of_feed(lambda f: f.protocol.stats.invalid_frames
                                + f.protocol.stats.rejected))  # fmt: skip
    registry.gauge("feed_mismatches", "best bid/ask cross-check failures (book marked stale)",
                   read=of_feed(lambda f: f.protocol.stats.mismatches))  # fmt: skip
    registry.gauge("feed_coalesced", "changes merged for a slow consumer (newest kept)",
                   read=of_feed(lambda f: f.stats.coalesced))  # fmt: skip
