"""``arbees shard``: a game shard (Kalshi direct; Polymarket from the bus or direct)."""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

import trio

from arbees.bus import Bus
from arbees.cli._bus_metrics import bus_gauges
from arbees.cli._common import add_service_options, env, env_float, env_int, secret_environ
from arbees.cli._run import run_service, secrets_from_env
from arbees.cli._wiring import kalshi_source, polymarket_direct_source
from arbees.config import env_bool
from arbees.egress import open_polymarket_route
from arbees.egress.gate import check_route_settings
from arbees.errors import ConfigError, DecodeError
from arbees.kalshi.auth import KalshiSigner
from arbees.kalshi.feed import DEMO_WS_URL, PROD_WS_URL
from arbees.messages import ArbSignal
from arbees.money import CENT, Fixed, parse_fixed, to_float
from arbees.obs.metrics import Registry
from arbees.paper import PaperLedger, PaperTrader, RiskLimits
from arbees.polymarket.feed import DEFAULT_WS_URL, FeedConfig
from arbees.polymarket.rest import USER_AGENT
from arbees.services.shard import GameShard
from arbees.services.shard_engine import ShardEngine

__all__ = ["add_paper_options", "paper_trader", "register", "run"]
from arbees.services.sources import BusPolymarketSource, QuoteSource


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "shard",
        help="run a game shard: Kalshi direct, Polymarket via the bus, signals out",
        description="Runs the games the orchestrator assigns to this shard id: subscribes their "
        "Kalshi markets directly, reads Polymarket prices from the bus (or directly with "
        "POLYMARKET_VIA_REDIS=false) and publishes arbitrage signals on arbees:signals. "
        "Places no orders.",
    )
    add_service_options(p)
    p.add_argument(
        "--shard-id",
        default=env("SHARD_ID", socket.gethostname()),
        help="this shard's id (env SHARD_ID; default: host name, unique per container)",
    )
    kalshi_env = env("KALSHI_ENV", "prod")
    p.add_argument(
        "--kalshi-ws-url",
        default=env("KALSHI_WS_URL", DEMO_WS_URL if kalshi_env == "demo" else PROD_WS_URL),
        help="Kalshi WebSocket (env KALSHI_WS_URL; KALSHI_ENV=demo picks the demo host)",
    )
    p.add_argument(
        "--polymarket-via-redis",
        default=env("POLYMARKET_VIA_REDIS", "true"),
        help="true: Polymarket prices from the monitor over the bus; false: this shard reads "
        "Polymarket itself (rollback; env POLYMARKET_VIA_REDIS)",
    )
    p.add_argument(
        "--polymarket-ws-url",
        default=env("POLYMARKET_WS_URL", DEFAULT_WS_URL),
        help="Polymarket WebSocket for the direct mode (env POLYMARKET_WS_URL)",
    )
    p.add_argument(
        "--proxy",
        default=env("POLYMARKET_PROXY_URL", "") or None,
        help="HTTP CONNECT proxy for direct Polymarket traffic and its egress check "
        "(EGRESS_CHECK_URL over the same route; POLYMARKET_EGRESS_CHECK=off opts out, "
        "loudly), e.g. Gluetun's http://vpn:8888 (env POLYMARKET_PROXY_URL)",
    )
    p.add_argument(
        "--max-price-age-ms",
        type=int,
        default=env_int("MAX_PRICE_AGE_MS", 2000),
        help="never use a price whose source has not confirmed liveness this recently "
        "(env MAX_PRICE_AGE_MS)",
    )
    p.add_argument(
        "--max-quote-age-s",
        type=float,
        default=env_float("MAX_QUOTE_AGE_S", 600.0),
        help="never use a quote older than this, whatever its source confirms "
        "(env MAX_QUOTE_AGE_S)",
    )
    p.add_argument(
        "--max-games",
        type=int,
        default=env_int("SHARD_MAX_GAMES", 1000),
        help="games run at most; further assignments are refused and alerted (env SHARD_MAX_GAMES)",
    )
    p.add_argument(
        "--min-edge-cents",
        type=float,
        default=env_float("MIN_EDGE_CENTS", 0.0),
        help="minimum profit per contract after fees, in cents (env MIN_EDGE_CENTS)",
    )
    p.add_argument(
        "--kalshi-silence-timeout",
        type=float,
        default=env_float("KALSHI_SILENCE_TIMEOUT", 30.0),
        help="reconnect Kalshi after this long without a frame (env KALSHI_SILENCE_TIMEOUT)",
    )
    add_paper_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    secrets_from_env("REDIS_PASSWORD", "KALSHI_API_KEY", "EGRESS_CHECK_API_KEY")
    via_bus = env_bool(args.polymarket_via_redis, True)
    if not via_bus:  # direct Polymarket needs its own egress guard (or the explicit opt-out)
        try:
            check_route_settings(secret_environ())
        except ConfigError as exc:
            print(f"arbees shard: {exc}", file=sys.stderr)
            return 2
    signer = KalshiSigner.from_env(os.environ)
    min_edge = round(args.min_edge_cents * CENT)

    async def body(bus: Bus, nursery: trio.Nursery, registry: Registry) -> None:
        async with contextlib.AsyncExitStack() as stack:
            polymarket: QuoteSource
            if via_bus:
                polymarket = BusPolymarketSource(bus)
            else:
                route = await stack.enter_async_context(
                    open_polymarket_route(
                        name="shard-polymarket",
                        user_agent=USER_AGENT,
                        proxy=args.proxy,
                        env=secret_environ(),
                    )
                )
                polymarket = polymarket_direct_source(
                    FeedConfig(url=args.polymarket_ws_url, proxy=args.proxy, gate=route.gate)
                )
            await serve_shard(polymarket, bus, registry)

    async def serve_shard(polymarket: QuoteSource, bus: Bus, registry: Registry) -> None:
        engine = ShardEngine(
            args.shard_id,
            max_age_ns=args.max_price_age_ms * 1_000_000,
            max_quote_age_ns=int(args.max_quote_age_s * 1e9),
            max_games=args.max_games,
            min_edge=min_edge,
        )
        paper = paper_trader(args, engine, bus, registry)
        shard = GameShard(
            bus,
            engine,
            kalshi_source(
                args.kalshi_ws_url,
                signer,
                silence_timeout=args.kalshi_silence_timeout,
                # A round trip per half max-age keeps quiet books provably complete.
                keepalive_interval=max(0.25, args.max_price_age_ms / 2000),
            ),
            polymarket,
            paper=paper,
            on_signal=_latency_metrics(registry),
        )
        stats = engine.stats
        registry.gauge("shard_games", "games assigned", read=lambda: len(engine.games))
        registry.gauge("shard_quotes", "quotes processed", read=lambda: stats.quotes)
        registry.gauge("shard_signals_opened", "signals opened", read=lambda: stats.opened)
        registry.gauge("shard_suppressed_stale", "evaluations held back by stale/old books",
                       read=lambda: stats.suppressed_stale)  # fmt: skip
        registry.gauge("shard_signals_closed", "signals closed", read=lambda: stats.closed)
        bus_gauges(registry, bus)
        registry.gauge("shard_rejected_assignments", "assignments refused (fees, cap, source)",
                       read=lambda: shard.stats.rejected_assignments)  # fmt: skip
        registry.gauge("shard_future_clamped", "heartbeats or quotes timed in the future",
                       read=lambda: stats.future_clamped)  # fmt: skip
        await shard.run()

    return run_service(args, "shard", body)


def _latency_metrics(registry: Registry) -> Callable[[ArbSignal], None]:
    """Histograms of each opening/updating signal's hops, in microseconds."""
    detect = registry.histogram(
        "shard_detect_latency_us", "shard receive of the triggering update -> signal publish"
    )
    monitor_to_signal = registry.histogram(
        "monitor_to_signal_latency_us", "Polymarket receive at the monitor -> signal publish"
    )

    def observe(signal: ArbSignal) -> None:
        if signal.event == "close":
            return
        if signal.bus_recv_ns:
            detect.observe((signal.published_ns - signal.bus_recv_ns) / 1000)
        if signal.monitor_recv_ns:
            monitor_to_signal.observe((signal.published_ns - signal.monitor_recv_ns) / 1000)

    return observe


# -- paper ledger (off by default) ---------------------------------------------------------


def _amount(text: str) -> Fixed | None:
    """An exact decimal >= 0 (contracts or dollars) in micro-units; empty = no limit."""
    if text.strip() == "":
        return None
    try:
        value = parse_fixed(text.strip())
    except DecodeError as exc:
        raise argparse.ArgumentTypeError(f"not an exact decimal: {text!r}") from exc
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def add_paper_options(p: argparse.ArgumentParser) -> None:
    """``--paper`` and its risk limits (env PAPER_*)."""
    g = p.add_argument_group("paper ledger (places no orders)")
    g.add_argument(
        "--paper",
        action=argparse.BooleanOptionalAction,
        default=env_bool(env("PAPER", "false"), False),
        help="fill every signal on paper and track positions and P&L (env PAPER; off)",
    )
    g.add_argument(
        "--paper-latency-ms",
        type=int,
        default=env_int("PAPER_LATENCY_MS", 0),
        help="simulated latency: fill against the books this much later, recording "
        "slippage and one-legged fills (env PAPER_LATENCY_MS; 0 = at detection)",
    )
    for flag, var, what in (
        ("--max-contracts-per-pair", "PAPER_MAX_CONTRACTS_PER_PAIR", "contracts per pair"),
        ("--max-exposure", "PAPER_MAX_EXPOSURE", "dollars tied up in open positions"),
        ("--daily-loss-stop", "PAPER_DAILY_LOSS_STOP", "dollars lost in a UTC day"),
    ):
        g.add_argument(
            flag,
            type=_amount,
            default=env(var, ""),
            help=f"paper risk limit: most {what}; signals are muted once hit "
            f"(env {var}; empty = no limit)",
        )
    g.add_argument(
        "--paper-log-interval",
        type=float,
        default=env_float("PAPER_LOG_INTERVAL", 60.0),
        help="seconds between paper summary log lines (env PAPER_LOG_INTERVAL; 0 = never)",
    )


def paper_trader(
    args: argparse.Namespace, engine: ShardEngine, bus: Bus, registry: Registry
) -> PaperTrader | None:
    """The paper trader asked for by ``args`` (None without ``--paper``)."""
    if not args.paper:
        return None
    if args.paper_latency_ms < 0:
        raise ConfigError(f"--paper-latency-ms must be >= 0: {args.paper_latency_ms}")
    limits = RiskLimits(
        max_contracts_per_pair=args.max_contracts_per_pair,
        max_exposure=args.max_exposure,
        daily_loss_stop=args.daily_loss_stop,
    )
    ledger = PaperLedger(limits, latency_ns=args.paper_latency_ms * 1_000_000)
    stats = ledger.stats
    registry.gauge("paper_fills", "paper fills", read=lambda: stats.fills)
    registry.gauge("paper_pnl_dollars", "paper P&L (display only)",
                   read=lambda: to_float(ledger.pnl()))  # fmt: skip
    registry.gauge("paper_exposure_dollars", "paper exposure (display only)",
                   read=lambda: to_float(ledger.exposure()))  # fmt: skip
    registry.gauge(
        "paper_muted",
        "signals muted by paper risk limits",
        read=lambda: stats.muted_pair_contracts + stats.muted_exposure + stats.muted_daily_loss,
    )
    registry.gauge("paper_leg_risk", "one-legged paper fills", read=lambda: stats.leg_risk)
    return PaperTrader(ledger, engine, bus=bus, log_interval=args.paper_log_interval)
