"""``arbees orchestrator``: discover matched games and assign them to the live shards.

The options (each overriding the environment variable named in ``--help``) become
:class:`~arbees.wiring.OrchestratorSettings`; :func:`arbees.wiring.build_orchestrator`
builds the Kalshi REST client (signed when a key is configured), the Gamma route and the
:class:`~arbees.services.orchestrator.Orchestrator`, which runs until interrupted.

Gamma is Polymarket, so it goes through the guarded Polymarket route
(:func:`arbees.egress.open_polymarket_route`): through ``POLYMARKET_PROXY_URL`` when set,
and only while a fresh ``EGRESS_CHECK_URL`` check over that same route is verified
(``POLYMARKET_EGRESS_CHECK=off`` is the loudly logged opt-out). Kalshi REST uses its own
client on the host network.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping
from functools import partial
from typing import Any

import trio

from arbees.bus import open_bus
from arbees.cli._common import add_service_options, given, secret_environ
from arbees.cli._run import run_trio, secrets_from_env
from arbees.errors import ConfigError
from arbees.kalshi.auth import KalshiSigner
from arbees.obs.logs import setup_logging
from arbees.obs.metrics import Registry, serve_metrics
from arbees.services.orchestrator import Orchestrator
from arbees.wiring import OrchestratorSettings, build_orchestrator

__all__ = ["register", "serve", "settings_from_args"]

log = logging.getLogger(__name__)

# Options that override an OrchestratorSettings field (or timing) of the same name.
OPTIONS = (
    "kalshi_rest_url",
    "gamma_url",
    "polymarket_proxy",
    "discovery_deadline",
    "series",
    "discovery_interval",
    "shard_timeout",
    "republish_interval",
    "settle_delay",
    "start_window_minutes",
    "instance",
)


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
        help="Kalshi REST API root (env KALSHI_REST_URL; KALSHI_ENV=demo picks the demo host)",
    )
    p.add_argument(
        "--gamma-url",
        help="Polymarket Gamma API root (env POLYMARKET_GAMMA_URL; default the venue's)",
    )
    p.add_argument(
        "--proxy",
        dest="polymarket_proxy",
        help="HTTP CONNECT proxy for Gamma (Polymarket) traffic and its egress check, e.g. "
        "Gluetun's http://vpn:8888 (env POLYMARKET_PROXY_URL)",
    )
    p.add_argument(
        "--discovery-deadline",
        type=float,
        metavar="SEC",
        help="a discovery round that takes longer fails (counted, state kept) "
        "(env DISCOVERY_DEADLINE; default 120)",
    )
    p.add_argument(
        "--series",
        help="comma-separated Kalshi game series (env KALSHI_SERIES; default KXNBAGAME,KXNHLGAME)",
    )
    p.add_argument(
        "--discovery-interval",
        type=float,
        metavar="SEC",
        help="seconds between discoveries (env DISCOVERY_INTERVAL; default 300)",
    )
    p.add_argument(
        "--shard-timeout",
        type=float,
        metavar="SEC",
        help="a shard silent this long loses its games (env SHARD_TIMEOUT; default 30)",
    )
    p.add_argument(
        "--republish-interval",
        type=float,
        metavar="SEC",
        help="republish the full assignment state this often (env REPUBLISH_INTERVAL; default 5)",
    )
    p.add_argument(
        "--settle-delay",
        type=float,
        metavar="SEC",
        help="after start, wait this long for shard heartbeats before placing games "
        "(env SETTLE_DELAY; default 3)",
    )
    p.add_argument(
        "--start-window-minutes",
        type=float,
        metavar="MIN",
        help="max start-time difference between the venues for a match "
        "(env START_WINDOW_MINUTES; default 180)",
    )
    p.add_argument(
        "--instance",
        help="instance id of the health heartbeat (env ORCHESTRATOR_ID; default: host name)",
    )
    p.set_defaults(handler=run)


def settings_from_args(
    args: argparse.Namespace, environ: Mapping[str, str], **overrides: Any
) -> OrchestratorSettings:
    """The orchestrator's settings: ``environ``'s variables, overridden by the given options
    (and by ``overrides``)."""
    return OrchestratorSettings.from_env(environ, **given(args, OPTIONS), **overrides)


async def serve(
    args: argparse.Namespace,
    signer: KalshiSigner | None,
    *,
    task_status: trio.TaskStatus[Orchestrator] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the orchestrator from parsed options until cancelled (``started`` when ready)."""
    settings = settings_from_args(args, secret_environ(), kalshi_signer=signer)
    registry = Registry()
    async with (
        open_bus(args.redis_url) as bus,
        build_orchestrator(settings, bus, registry=registry) as orchestrator,
        trio.open_nursery() as nursery,
    ):
        if args.metrics_port is not None:
            await nursery.start(serve_metrics, registry, args.metrics_port, args.metrics_addr)
        await nursery.start(orchestrator.run)
        task_status.started(orchestrator)


def run(args: argparse.Namespace) -> int:
    setup_logging(args.log_level, args.log_format)
    secrets_from_env("EGRESS_CHECK_API_KEY", "REDIS_PASSWORD")
    try:
        signer = settings_from_args(args, secret_environ()).kalshi_signer
    except ConfigError as exc:
        print(f"arbees orchestrator: {exc}", file=sys.stderr)
        return 2
    return run_trio("orchestrator", partial(serve, args, signer))
