"""arbees: real-time cross-venue arbitrage detection between Kalshi and Polymarket, on Trio.

This package is the library's curated face: everything a custom bot needs is importable
from ``arbees`` itself, and every name here is listed in ``__all__``. A bot in a few lines::

    import trio
    import arbees

    async def main() -> None:
        async with arbees.open_bus("redis://localhost:6379/0") as bus:
            async for signal in arbees.signals(bus, events={"open"}):
                print(signal.game_id, signal.combo, arbees.format_fixed(signal.profit))

    trio.run(main)

What is here, by job:

* the bus — :func:`open_bus` (``memory://`` or ``redis://``), :class:`Bus`, :class:`Channel`;
* typed streams — :func:`signals`, :func:`price_updates`, :func:`alerts`,
  :func:`typed_stream` (:class:`MessageStream`);
* the messages — :class:`ArbSignal`, :class:`PolymarketPriceUpdate`, :class:`SystemAlert`, ...;
* the services in your own nursery — :func:`run_shard` / :func:`open_shard`,
  :func:`run_monitor` / :func:`open_monitor`, :func:`run_orchestrator` /
  :func:`open_orchestrator` (venue objects built for you, real venues by default);
* the opportunity math on your own books — :func:`event_opportunities` for any event and
  venues (:class:`Event`, :class:`Contract`, :class:`VenueTerms`, :class:`EventOpportunity`),
  :func:`find_opportunities` for one Kalshi/Polymarket pair (:class:`PairAsks`,
  :class:`PairFees`); fees are :class:`KalshiFeeModel`, :class:`PolymarketFeeModel`; money
  is exact micro-units (:func:`parse_fixed`, :func:`format_fixed`).

Submodules (``arbees.bus``, ``arbees.arb``, ``arbees.money``, ...) hold the rest; names not
re-exported here are internal or for the services' own wiring.

Importing ``arbees`` is cheap: each name is imported on first use (PEP 562), so a script
that only needs the math never loads Trio, httpx or the venue clients.
"""

# No `from __future__ import annotations`, private aliases only: every public name of this
# module is part of the API (tests/test_public_api.py checks it).
import importlib as _importlib
from typing import TYPE_CHECKING
from typing import Any as _Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # the lazy names below, for type checkers and IDEs (not runtime imports)
    from arbees.api import (
        open_monitor,
        open_orchestrator,
        open_shard,
        run_monitor,
        run_orchestrator,
        run_shard,
    )
    from arbees.arb import (
        Combo,
        Contract,
        Event,
        EventLeg,
        EventOpportunity,
        Leg,
        Opportunity,
        PairAsks,
        PairFees,
        VenueTerms,
        event_opportunities,
        find_opportunities,
    )
    from arbees.book import BookView, Level
    from arbees.bus import Bus, Envelope, Subscription, open_bus
    from arbees.errors import ArbeesError, BusError, ConfigError, DecodeError
    from arbees.fees import KalshiFeeModel, PolymarketFeeModel
    from arbees.kalshi.auth import KalshiSigner
    from arbees.messages import (
        ArbSignal,
        Channel,
        MarketAssignment,
        PolymarketPriceUpdate,
        ServiceStatus,
        ShardHeartbeat,
        SignalLeg,
        SystemAlert,
        TeamLeg,
    )
    from arbees.money import format_fixed, parse_fixed
    from arbees.services.monitor import PolymarketMonitor
    from arbees.services.orchestrator import Orchestrator, OrchestratorConfig
    from arbees.services.shard import GameShard
    from arbees.streams import MessageStream, alerts, price_updates, signals, typed_stream

__all__ = [
    "ArbSignal",
    "ArbeesError",
    "BookView",
    "Bus",
    "BusError",
    "Channel",
    "Combo",
    "ConfigError",
    "Contract",
    "DecodeError",
    "Envelope",
    "Event",
    "EventLeg",
    "EventOpportunity",
    "GameShard",
    "KalshiFeeModel",
    "KalshiSigner",
    "Leg",
    "Level",
    "MarketAssignment",
    "MessageStream",
    "Opportunity",
    "Orchestrator",
    "OrchestratorConfig",
    "PairAsks",
    "PairFees",
    "PolymarketFeeModel",
    "PolymarketMonitor",
    "PolymarketPriceUpdate",
    "ServiceStatus",
    "ShardHeartbeat",
    "SignalLeg",
    "Subscription",
    "SystemAlert",
    "TeamLeg",
    "VenueTerms",
    "__version__",
    "alerts",
    "event_opportunities",
    "find_opportunities",
    "format_fixed",
    "open_bus",
    "open_monitor",
    "open_orchestrator",
    "open_shard",
    "parse_fixed",
    "price_updates",
    "run_monitor",
    "run_orchestrator",
    "run_shard",
    "signals",
    "typed_stream",
]

_HOME: dict[str, str] = {
    "open_monitor": "arbees.api",
    "open_orchestrator": "arbees.api",
    "open_shard": "arbees.api",
    "run_monitor": "arbees.api",
    "run_orchestrator": "arbees.api",
    "run_shard": "arbees.api",
    "Combo": "arbees.arb",
    "Leg": "arbees.arb",
    "Opportunity": "arbees.arb",
    "PairAsks": "arbees.arb",
    "PairFees": "arbees.arb",
    "find_opportunities": "arbees.arb",
    "Contract": "arbees.arb",
    "Event": "arbees.arb",
    "EventLeg": "arbees.arb",
    "EventOpportunity": "arbees.arb",
    "VenueTerms": "arbees.arb",
    "event_opportunities": "arbees.arb",
    "BookView": "arbees.book",
    "Level": "arbees.book",
    "Bus": "arbees.bus",
    "Envelope": "arbees.bus",
    "Subscription": "arbees.bus",
    "open_bus": "arbees.bus",
    "ArbeesError": "arbees.errors",
    "BusError": "arbees.errors",
    "ConfigError": "arbees.errors",
    "DecodeError": "arbees.errors",
    "KalshiFeeModel": "arbees.fees",
    "PolymarketFeeModel": "arbees.fees",
    "KalshiSigner": "arbees.kalshi.auth",
    "ArbSignal": "arbees.messages",
    "Channel": "arbees.messages",
    "MarketAssignment": "arbees.messages",
    "PolymarketPriceUpdate": "arbees.messages",
    "ServiceStatus": "arbees.messages",
    "ShardHeartbeat": "arbees.messages",
    "SignalLeg": "arbees.messages",
    "SystemAlert": "arbees.messages",
    "TeamLeg": "arbees.messages",
    "format_fixed": "arbees.money",
    "parse_fixed": "arbees.money",
    "PolymarketMonitor": "arbees.services.monitor",
    "Orchestrator": "arbees.services.orchestrator",
    "OrchestratorConfig": "arbees.services.orchestrator",
    "GameShard": "arbees.services.shard",
    "MessageStream": "arbees.streams",
    "alerts": "arbees.streams",
    "price_updates": "arbees.streams",
    "signals": "arbees.streams",
    "typed_stream": "arbees.streams",
}
"""Public name -> the module that defines it (imported on first access)."""

del TYPE_CHECKING  # spelled plainly above so import-linter sees a type-checking block


def __getattr__(name: str) -> _Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'arbees' has no attribute {name!r}")
    value = getattr(_importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
