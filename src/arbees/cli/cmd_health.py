"""``arbees health``: exit 0 when a service's heartbeat is present, fresh and healthy."""

from __future__ import annotations

import argparse
from typing import Any

import trio

from arbees.bus import open_bus
from arbees.cli._common import add_bus_options, env
from arbees.errors import ArbeesError
from arbees.obs.health import default_instance, read_health


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "health",
        help="check a service's health heartbeat (exit 0 healthy, 1 not)",
        description="Reads the heartbeat a service writes to the bus with a TTL. Exit 0 when "
        "present and healthy, 1 otherwise. For container HEALTHCHECKs.",
    )
    p.add_argument(
        "--service",
        default=env("ARBEES_SERVICE", ""),
        choices=("monitor", "shard", "orchestrator"),
        required=not env("ARBEES_SERVICE", ""),
        help="which service (env ARBEES_SERVICE)",
    )
    p.add_argument(
        "--instance",
        default=None,
        help="instance id (default: env SHARD_ID for shards, else this host name)",
    )
    add_bus_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    instance = args.instance
    if instance is None:
        instance = env("SHARD_ID", default_instance()) if args.service == "shard" else None
        instance = instance or default_instance()

    async def check() -> int:
        async with open_bus(args.redis_url) as bus:
            status = await read_health(bus, args.service, instance)
        if status is None:
            print(f"{args.service}/{instance}: no heartbeat (dead, hung or not started)")
            return 1
        if not status.healthy:
            print(f"{args.service}/{instance}: UNHEALTHY: {status.reason}")
            return 1
        print(f"{args.service}/{instance}: healthy")
        return 0

    try:
        return trio.run(check)
    except ArbeesError as exc:
        print(f"{args.service}/{instance}: cannot read health: {exc}")
        return 1
