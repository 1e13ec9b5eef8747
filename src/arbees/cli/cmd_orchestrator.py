"""``arbees orchestrator``: discover matched games and assign them to the live shards.

This is the only place that picks the venues for the orchestrator: it builds the Kalshi
REST client (signed when a key is configured), the Gamma HTTP client and the bus from the
options (each defaulting to an environment variable named in ``--help``), then runs
:class:`~arbees.services.orchestrator.Orchestrator` until interrupted.

Gamma is Polymarket, so it goes through the guarded Polymarket route
(:func:`arbees.egress.open_polymarket_route`): through ``POLYMARKET_PROXY_URL`` when set,
and only while a fresh ``EGRESS_CHECK_URL`` check over that same route is verified
(``POLYMARKET_EGRESS_CHECK=off`` is the loudly logged opt-out). Kalshi REST uses its own
client on the host network.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import trio

from arbees.bus import open_bus
from arbees.cli._bus_metrics import bus_gauges
from arbees.cli._common import add_service_options, env, secret_environ
from arbees.cli._run import run_trio, secrets_from_env
from arbees.cli._venue_source import DEFAULT_DISCOVERY_DEADLINE, DEFAULT_SERIES, VenueGameSource
from arbees.egress import open_polymarket_route
from arbees.egress.gate import check_route_settings
from arbees.errors import ConfigError
from arbees.kalshi.auth import KalshiSigner
from arbees.kalshi.rest import PROD_REST_URL, KalshiRest
from arbees.obs.health import default_instance
from arbees.obs.logs import setup_logging
from arbees.obs.metrics import Registry, serve_metrics
from arbees.polymarket.rest import DEFAULT_GAMMA_URL, USER_AGENT
from arbees.services.orchestrator import Orchestrator, OrchestratorConfig

__all__ = ["config_from_args", "register", "serve"]

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "orchestrator",
        help="discover matched games and assign them to the live shards",
        description="Discovers NBA/NHL games on Kalshi and Polymarket, matches them, and "
        "assigns each matched game to the least-loaded live shard over the bus; rebalances "
        "when a shard joins or stops sending heartbeats. Kalshi signing is optional: set "
        "KALSHI_API_KEY with KALSHI_PRIVATE_KEY_PATH.",
    )
    add_service_options(p)
    p.add_argument(
        "--kalshi-rest-url",
        default=env("KALSHI_REST_URL", PROD_REST_URL),
        help="Kalshi REST API root (env KALSHI_REST_URL; default %(default)s)",
    )
    p.add_argument(
        "--gamma-url",
        default=env("POLYMARKET_GAMMA_URL", DEFAULT_GAMMA_URL),
        help="Polymarket Gamma API root (env POLYMARKET_GAMMA_URL; default %(default)s)",
    )
    p.add_argument(
        "--proxy",
        default=env("POLYMARKET_PROXY_URL", "") or None,
        help="HTTP CONNECT proxy for Gamma (Polymarket) traffic and its egress check, e.g. "
        "Gluetun's http://vpn:8888 (env POLYMARKET_PROXY_URL)",
    )
    p.add_argument(
        "--discovery-deadline",
        type=float,
        default=env("DISCOVERY_DEADLINE", str(DEFAULT_DISCOVERY_DEADLINE)),
        metavar="SEC",
        help="a discovery round that takes longer fails (counted, state kept) "
        "(env DISCOVERY_DEADLINE; default %(default)s)",
    )
    p.add_argument(
        "--series",
        default=env("KALSHI_SERIES", ",".join(DEFAULT_SERIES)),
        help="comma-separated Kalshi game series (env KALSHI_SERIES; default %(default)s)",
    )
    p.add_argument(
        "--discovery-interval",
        type=float,
        default=env("DISCOVERY_INTERVAL", "300.0"),  # argparse applies type=float
        metavar="SEC",
        help="seconds between discoveries (env DISCOVERY_INTERVAL; default %(default)s)",
    )
    p.add_argument(
        "--shard-timeout",
        type=float,
        default=env("SHARD_TIMEOUT", "30.0"),  # argparse applies type=float
        metavar="SEC",
        help="a shard silent this long loses its games (env SHARD_TIMEOUT; default %(default)s)",
    )
    p.add_argument(
        "--republish-interval",
        type=float,
        default=env("REPUBLISH_INTERVAL", "5.0"),  # argparse applies type=float
        metavar="SEC",
        help="republish the full assignment state this often (env REPUBLISH_INTERVAL; "
        "default %(default)s)",
    )
    p.add_argument(
        "--settle-delay",
        type=float,
        default=env("SETTLE_DELAY", "3.0"),  # argparse applies type=float
        metavar="SEC",
        help="after start, wait this long for shard heartbeats before placing games "
        "(env SETTLE_DELAY; default %(default)s)",
    )
    p.add_argument(
        "--start-window-minutes",
        type=float,
        default=env("START_WINDOW_MINUTES", "180.0"),  # argparse applies type=float
        metavar="MIN",
        help="max start-time difference between the venues for a match "
        "(env START_WINDOW_MINUTES; default %(default)s)",
    )
    p.add_argument(
        "--instance",
        default=env("ORCHESTRATOR_ID", default_instance()),
        help="instance id of the health heartbeat (env ORCHESTRATOR_ID; default: host name)",
    )
    p.set_defaults(handler=run)


def config_from_args(args: argparse.Namespace) -> OrchestratorConfig:
    """The service config; raises :class:`ConfigError` on a non-positive interval."""
    for name in ("discovery_interval", "shard_timeout", "republish_interval", "discovery_deadline"):
        if not getattr(args, name) > 0:
            raise ConfigError(f"--{name.replace('_', '-')} must be > 0")
    if not args.settle_delay >= 0 or not args.start_window_minutes >= 0:
        raise ConfigError("--settle-delay and --start-window-minutes must be >= 0")
    return OrchestratorConfig(
        discovery_interval=args.discovery_interval,
        shard_timeout=args.shard_timeout,
        republish_interval=args.republish_interval,
        check_interval=min(1.0, args.shard_timeout / 4),
        settle_delay=args.settle_delay,
        start_window=timedelta(minutes=args.start_window_minutes),
        instance=args.instance,
    )


def _series(text: str) -> tuple[str, ...]:
    series = tuple(s.strip().upper() for s in text.split(",") if s.strip())
    if not series:
        raise ConfigError("--series is empty")
    return series


def _signer() -> KalshiSigner | None:
    return KalshiSigner.from_env(os.environ)


async def serve(
    args: argparse.Namespace,
    signer: KalshiSigner | None,
    *,
    task_status: trio.TaskStatus[Orchestrator] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the orchestrator from parsed options until cancelled (``started`` when ready)."""
    config = config_from_args(args)
    series = _series(args.series)
    registry = Registry()
    async with (
        open_bus(args.redis_url) as bus,
        httpx.AsyncClient(
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"}, timeout=20.0
        ) as kalshi_client,
        open_polymarket_route(
            name="orchestrator-gamma", user_agent=USER_AGENT, proxy=args.proxy, env=secret_environ()
        ) as gamma,
        trio.open_nursery() as nursery,
    ):
        if args.metrics_port is not None:
            await nursery.start(serve_metrics, registry, args.metrics_port, args.metrics_addr)
        kalshi = KalshiRest(kalshi_client, base_url=args.kalshi_rest_url, signer=signer)
        source = VenueGameSource(
            kalshi,
            gamma.client,
            gamma_url=args.gamma_url,
            series=series,
            gamma_gate=gamma.gate,
            deadline=args.discovery_deadline,
        )
        bus_gauges(registry, bus)
        orchestrator = Orchestrator(bus, source, config, registry=registry)
        await nursery.start(orchestrator.run)
        task_status.started(orchestrator)


def run(args: argparse.Namespace) -> int:
    setup_logging(args.log_level, args.log_format)
    secrets_from_env("EGRESS_CHECK_API_KEY", "REDIS_PASSWORD")
    try:
        config_from_args(args)
        _series(args.series)
        check_route_settings(secret_environ())
        signer = _signer()
    except ConfigError as exc:
        print(f"arbees orchestrator: {exc}", file=sys.stderr)
        return 2
    return run_trio("orchestrator", partial(serve, args, signer))
