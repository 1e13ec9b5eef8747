"""Running a service from the CLI: logging, optional metrics, bus, Ctrl-C, exit codes."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Awaitable, Callable
from functools import partial

import trio

from arbees.bus import Bus, open_bus
from arbees.errors import ArbeesError
from arbees.obs.logs import register_secret, setup_logging
from arbees.obs.memory import MemoryKeeper
from arbees.obs.metrics import Registry, serve_metrics

__all__ = ["run_service", "run_trio", "secrets_from_env"]

log = logging.getLogger("arbees")


def run_service(
    args: argparse.Namespace,
    name: str,
    body: Callable[[Bus, trio.Nursery, Registry], Awaitable[None]],
) -> int:
    """Set up logging, open the bus, serve metrics if asked, run ``body`` until Ctrl-C.

    Exit codes: 0 on a clean stop, 1 on an arbees error (printed without secrets).
    """
    setup_logging(args.log_level, args.log_format)
    registry = Registry()
    # A process policy, so here and not in a service object (a bot importing arbees keeps
    # its own): a burst (every socket's snapshots, a reload of every quote) leaves tens of
    # MB free inside the process; handed back once it grew (see arbees.obs.memory).
    memory = MemoryKeeper()
    registry.gauge("process_memory_releases", "free memory handed back after a burst",
                   read=lambda: memory.releases)  # fmt: skip

    async def main() -> None:
        async with open_bus(args.redis_url) as bus, trio.open_nursery() as nursery:
            nursery.start_soon(memory.run)
            if args.metrics_port is not None:
                await nursery.start(
                    partial(serve_metrics, registry, args.metrics_port, args.metrics_addr)
                )
            await body(bus, nursery, registry)

    return run_trio(name, main)


def run_trio(name: str, main: Callable[[], Awaitable[None]]) -> int:
    """``trio.run(main)`` for an entry point: 0 on a clean stop or Ctrl-C/SIGINT (however
    Trio wraps it), 1 on an arbees error (logged without secrets); anything else raises."""
    try:
        trio.run(main)
    except KeyboardInterrupt:
        log.info("%s stopped", name)
        return 0
    except ArbeesError as exc:
        log.error("%s failed: %s", name, exc)
        return 1
    except BaseExceptionGroup as group:
        # Trio wraps Ctrl-C/SIGINT (docker stop) in a group when it lands in a nursery.
        _, rest = group.split(KeyboardInterrupt)
        if rest is None:
            log.info("%s stopped", name)
            return 0
        arbees_errors, other = rest.split(ArbeesError)
        if other is not None or arbees_errors is None:
            raise
        for leaf in _leaves(arbees_errors):
            log.error("%s failed: %s", name, leaf)
        return 1
    return 0


def _leaves(group: BaseException) -> list[BaseException]:
    if isinstance(group, BaseExceptionGroup):
        return [leaf for sub in group.exceptions for leaf in _leaves(sub)]
    return [group]


def secrets_from_env(*names: str) -> None:
    """Register the values of these environment variables for log redaction."""
    import os

    for name in names:
        register_secret(os.environ.get(name))
