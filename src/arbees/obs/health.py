"""Service health: each service writes a :class:`ServiceStatus` with a TTL; ``arbees health``
reads it back (for container health checks).

The key is ``arbees:health:<service>:<instance>``; a status older than its TTL has expired, so
a hung or dead service reads as unhealthy without anyone having to notice the death.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import trio

from arbees.bus.base import Bus
from arbees.errors import BusError
from arbees.messages import Channel, ServiceStatus, now_ms

__all__ = ["default_instance", "health_key", "read_health", "run_heartbeat"]

log = logging.getLogger(__name__)


def health_key(service: str, instance: str) -> str:
    return f"arbees:health:{service}:{instance}"


def default_instance() -> str:
    """The host name: in a container, the container's id-derived host name."""
    return socket.gethostname()


async def run_heartbeat(
    bus: Bus,
    status: Callable[[], ServiceStatus],
    *,
    interval: float = 2.0,
    ttl: float = 10.0,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Write ``status()`` to the health key (with ``ttl``) and publish it, every ``interval``."""
    started = False
    while True:
        current = status()
        try:
            await bus.set(health_key(current.service, current.instance), current, ttl_s=ttl)
            await bus.publish(Channel.SERVICE_STATUS, current)
        except BusError as exc:
            log.warning("could not write health heartbeat: %s", exc)
        if not started:
            task_status.started()
            started = True
        await trio.sleep(interval)


async def read_health(bus: Bus, service: str, instance: str) -> ServiceStatus | None:
    """The service's last unexpired status, or ``None``."""
    message = await bus.get(health_key(service, instance))
    if isinstance(message, ServiceStatus):
        return message
    return None


def status_now(service: str, instance: str, healthy: bool, reason: str = "") -> ServiceStatus:
    return ServiceStatus(service, instance, healthy, now_ms(), reason)
