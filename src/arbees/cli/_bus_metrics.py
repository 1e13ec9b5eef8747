"""The bus counters every service exports (one definition for the monitor, shard and
orchestrator commands)."""

from __future__ import annotations

from arbees.bus import Bus
from arbees.obs.metrics import Registry

__all__ = ["bus_gauges"]


def bus_gauges(registry: Registry, bus: Bus) -> None:
    """Refused payloads, drops and reconnects of ``bus``, read at scrape time. The refusals
    by field are in ``bus.stats.decode_errors_by_field`` and in the logs."""
    stats = bus.stats
    registry.gauge("bus_decode_errors", "bus payloads the codec refused (counted, skipped)",
                   read=lambda: stats.decode_errors)  # fmt: skip
    registry.gauge("bus_dropped", "messages dropped from full subscriber buffers",
                   read=lambda: stats.dropped)  # fmt: skip
    registry.gauge("bus_reconnects", "bus reconnections", read=lambda: stats.reconnects)
