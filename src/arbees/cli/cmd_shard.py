"""``arbees shard``: a game shard (Kalshi direct; Polymarket from the bus or direct)."""

from __future__ import annotations

import argparse
import os
import socket
from typing import Any

import trio

from arbees.bus import Bus
from arbees.cli._common import add_service_options, env, env_float, env_int
from arbees.cli._run import run_service, secrets_from_env
from arbees.cli._wiring import kalshi_source, polymarket_direct_source
from arbees.config import env_bool
from arbees.kalshi.auth import KalshiSigner
from arbees.kalshi.feed import DEMO_WS_URL, PROD_WS_URL
from arbees.money import CENT
from arbees.obs.metrics import Registry
from arbees.polymarket.feed import DEFAULT_WS_URL, FeedConfig
from arbees.services.shard import GameShard
from arbees.services.shard_engine import ShardEngine
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
        help="HTTP CONNECT proxy for direct Polymarket traffic, e.g. Gluetun's "
        "http://vpn:8888 (env POLYMARKET_PROXY_URL)",
    )
    p.add_argument(
        "--max-price-age-ms",
        type=int,
        default=env_int("MAX_PRICE_AGE_MS", 2000),
        help="never use a price whose source has not confirmed liveness this recently "
        "(env MAX_PRICE_AGE_MS)",
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
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    secrets_from_env("REDIS_PASSWORD", "KALSHI_API_KEY")
    via_bus = env_bool(args.polymarket_via_redis, True)
    signer = KalshiSigner.from_env(os.environ)
    min_edge = round(args.min_edge_cents * CENT)

    async def body(bus: Bus, nursery: trio.Nursery, registry: Registry) -> None:
        engine = ShardEngine(
            args.shard_id, max_age_ns=args.max_price_age_ms * 1_000_000, min_edge=min_edge
        )
        polymarket: QuoteSource
        if via_bus:
            polymarket = BusPolymarketSource(bus)
        else:
            polymarket = polymarket_direct_source(
                FeedConfig(url=args.polymarket_ws_url, proxy=args.proxy)
            )
        shard = GameShard(
            bus,
            engine,
            kalshi_source(args.kalshi_ws_url, signer, silence_timeout=args.kalshi_silence_timeout),
            polymarket,
        )
        stats = engine.stats
        registry.gauge("shard_games", "games assigned", read=lambda: len(engine.games))
        registry.gauge("shard_quotes", "quotes processed", read=lambda: stats.quotes)
        registry.gauge("shard_signals_opened", "signals opened", read=lambda: stats.opened)
        registry.gauge("shard_suppressed_stale", "evaluations held back by stale/old books",
                       read=lambda: stats.suppressed_stale)  # fmt: skip
        await shard.run()

    return run_service(args, "shard", body)
