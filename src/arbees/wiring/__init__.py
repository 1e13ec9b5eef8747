"""Building arbees' services: the one public wiring (layer L4).

The services (:mod:`arbees.services`) see only interfaces; this package is where the
venues, the egress guard and the bus meet them, once for every entry point — the CLI,
:mod:`arbees.api` and the demo all call it:

* :mod:`~arbees.wiring.settings` — frozen settings per service, by keyword or
  ``from_env(environ)`` (the README's variables; nothing here reads ``os.environ``);
* :mod:`~arbees.wiring.build` — :func:`build_monitor`, :func:`build_shard`,
  :func:`build_orchestrator`: settings in, service out;
* the venues' feeds and quotes come from the registry, :mod:`arbees.venues`;
* :mod:`~arbees.wiring.discovery` — the venue-backed game source of the orchestrator;
* :mod:`~arbees.wiring.metrics` — the services' Prometheus gauges.
"""

from __future__ import annotations

from arbees.wiring.build import build_monitor, build_orchestrator, build_shard
from arbees.wiring.settings import (
    MonitorSettings,
    OrchestratorSettings,
    PaperSettings,
    ShardSettings,
    kalshi_keepalive_interval,
)

__all__ = [
    "MonitorSettings",
    "OrchestratorSettings",
    "PaperSettings",
    "ShardSettings",
    "build_monitor",
    "build_orchestrator",
    "build_shard",
    "kalshi_keepalive_interval",
]
