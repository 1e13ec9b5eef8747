"""``arbees shard``: a game shard (Kalshi direct; Polymarket from the bus or direct)."""

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
from arbees.errors import ConfigError
from arbees.obs.metrics import Registry
from arbees.recording import AssignmentTap
from arbees.wiring import PaperSettings, ShardSettings, build_shard
from arbees.wiring.settings import parse_amount, parse_cents, parse_on_off, parse_venues

__all__ = ["add_options", "add_paper_options", "register", "run", "settings_from_args"]

# Options that override a ShardSettings field of the same name (and so its variable).
OPTIONS = (
    "shard_id",
    "kalshi_ws_url",
    "via_bus",
    "polymarket_ws_url",
    "polymarket_proxy",
    "max_price_age_ms",
    "max_quote_age_s",
    "max_games",
    "min_edge",
    "kalshi_silence_timeout",
    "venues",
)
# Options that override a PaperSettings field: option dest -> field.
PAPER_OPTIONS = {
    "paper": "enabled",
    "paper_latency_ms": "latency_ms",
    "max_contracts_per_pair": "max_contracts_per_pair",
    "max_exposure": "max_exposure",
    "daily_loss_stop": "daily_loss_stop",
    "paper_log_interval": "log_interval",
    "paper_settlement_rules": "settlement_rules",
}


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "shard",
        help="run a game shard: Kalshi direct, Polymarket via the bus, signals out",
        description="Runs the games the orchestrator assigns to this shard id: subscribes their "
        "Kalshi markets directly, reads Polymarket prices from the bus (or directly with "
        "POLYMARKET_VIA_REDIS=false) and publishes arbitrage signals on arbees:signals. "
        "Places no orders.",
    )
    add_options(p)
    p.set_defaults(handler=run)


def add_options(p: argparse.ArgumentParser) -> None:
    """The service's options (shared with ``arbees record shard``)."""
    add_service_options(p)
    p.add_argument(
        "--shard-id",
        help="this shard's id (env SHARD_ID; default: host name, unique per container)",
    )
    p.add_argument(
        "--kalshi-ws-url",
        help="Kalshi WebSocket (env KALSHI_WS_URL; KALSHI_ENV=demo picks the demo host)",
    )
    p.add_argument(
        "--polymarket-via-redis",
        dest="via_bus",
        type=parse_on_off,
        help="true: Polymarket prices from the monitor over the bus; false: this shard reads "
        "Polymarket itself (rollback; env POLYMARKET_VIA_REDIS; default true)",
    )
    p.add_argument(
        "--polymarket-ws-url",
        help="Polymarket WebSocket for the direct mode (env POLYMARKET_WS_URL)",
    )
    p.add_argument(
        "--proxy",
        dest="polymarket_proxy",
        help="HTTP CONNECT proxy for direct Polymarket traffic and its egress check "
        "(EGRESS_CHECK_URL over the same route; POLYMARKET_EGRESS_CHECK=off opts out, "
        "loudly), e.g. Gluetun's http://vpn:8888 (env POLYMARKET_PROXY_URL)",
    )
    p.add_argument(
        "--max-price-age-ms",
        type=int,
        help="never use a price whose source has not confirmed liveness this recently; "
        "Kalshi keepalives run every half of it, at most 4 a second "
        "(env MAX_PRICE_AGE_MS; default 2000)",
    )
    p.add_argument(
        "--max-quote-age-s",
        type=float,
        help="never use a quote older than this, whatever its source confirms "
        "(env MAX_QUOTE_AGE_S; default 600)",
    )
    p.add_argument(
        "--max-games",
        type=int,
        help="games run at most; further assignments are refused and alerted "
        "(env SHARD_MAX_GAMES; default 1000)",
    )
    p.add_argument(
        "--min-edge-cents",
        dest="min_edge",
        type=parse_cents,
        help="minimum profit per contract after fees, in cents, an exact decimal "
        "(env MIN_EDGE_CENTS; default 0)",
    )
    p.add_argument(
        "--kalshi-silence-timeout",
        type=float,
        help="reconnect Kalshi after this long without a frame (env KALSHI_SILENCE_TIMEOUT; "
        "default 30)",
    )
    p.add_argument(
        "--venues",
        type=_venues,
        help="the venues this shard reads: kalshi and polymarket and/or polymarket-us, e.g. "
        "kalshi,polymarket-us (Polymarket US directly: no VPN, no egress check; its key from "
        "POLYMARKET_US_KEY_ID + POLYMARKET_US_PRIVATE_KEY_PATH) (env SHARD_VENUES; default "
        "kalshi,polymarket)",
    )
    add_paper_options(p)


def _venues(text: str) -> tuple[str, ...]:
    try:
        return parse_venues(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_paper_options(p: argparse.ArgumentParser) -> None:
    """``--paper`` and its risk limits (env PAPER_*)."""
    g = p.add_argument_group("paper ledger (places no orders)")
    g.add_argument(
        "--paper",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fill every signal on paper and track positions and P&L (env PAPER; off)",
    )
    g.add_argument(
        "--paper-latency-ms",
        type=int,
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
            type=parse_amount,
            help=f"paper risk limit: most {what}; signals are muted once hit "
            f"(env {var}; empty = no limit)",
        )
    g.add_argument(
        "--paper-log-interval",
        type=float,
        help="seconds between paper summary log lines (env PAPER_LOG_INTERVAL; 0 = never; "
        "default 60)",
    )
    g.add_argument(
        "--paper-settlement-rules",
        help="override venues' settlement rules, e.g. 'polymarket-us:postponed=last_price,"
        "cancelled=fifty_fifty' (env PAPER_SETTLEMENT_RULES; payoffs: result, "
        "open_until_played, last_price, fifty_fifty)",
    )


def settings_from_args(args: argparse.Namespace, environ: Mapping[str, str]) -> ShardSettings:
    """The shard's settings: ``environ``'s variables, overridden by the given options."""
    paper_overrides = {
        field: getattr(args, dest)
        for dest, field in PAPER_OPTIONS.items()
        if getattr(args, dest) is not None
    }
    paper = PaperSettings.from_env(environ, **paper_overrides)
    return ShardSettings.from_env(environ, paper=paper, **given(args, OPTIONS))


def run(args: argparse.Namespace) -> int:
    secrets_from_env(
        "REDIS_PASSWORD", "KALSHI_API_KEY", "EGRESS_CHECK_API_KEY", "POLYMARKET_US_KEY_ID"
    )
    try:
        settings = settings_from_args(args, secret_environ())
    except ConfigError as exc:
        print(f"arbees shard: {exc}", file=sys.stderr)
        return 2

    recorder = open_recorder(args, "shard")  # ``arbees record shard``
    if recorder is False:
        return 2

    async def body(bus: Bus, nursery: trio.Nursery, registry: Registry) -> None:
        if recorder is None:
            async with build_shard(settings, bus, registry=registry) as shard:
                await shard.run()
            return
        async with trio.open_nursery() as inner:
            # the assignments first: the shard's first ones are the stored ones
            await inner.start(AssignmentTap(bus, recorder).run)
            async with build_shard(settings, bus, registry=registry, recorder=recorder) as shard:
                await shard.run()

    with recorder or contextlib.nullcontext():
        return run_service(args, "shard", body)
