"""How monitor and shard read their assignments: the stored hash first, then the channel.

Delivery on the bus is at-most-once, so a consumer starts from what the orchestrator stored
(subscribing *before* reading it, so nothing published in between is lost) and then applies
the live messages for its platform. Applying is idempotent on both consumers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from arbees.bus.base import Bus, Subscription
from arbees.errors import BusError, DecodeError
from arbees.messages import MarketAssignment

__all__ = ["apply_live", "apply_stored"]

log = logging.getLogger(__name__)

Apply = Callable[[MarketAssignment], Awaitable[None]]
Refused = Callable[[str, str], Awaitable[None]]


async def apply_stored(bus: Bus, key: str, apply: Apply, refused: Refused) -> None:
    """Apply every assignment stored under hash ``key`` (a bus failure only logs).

    A stored record the codec refuses is reported through ``refused(field, why)``: a
    poisoned entry outlives restarts, so it must be seen, not only skipped.
    """
    undecodable: dict[str, DecodeError] = {}
    try:
        stored = await bus.hgetall(key, refused=undecodable)
    except BusError as exc:
        log.warning("could not load stored assignments (%s); waiting for live ones", exc)
        return
    for field, error in undecodable.items():
        await refused(field, f"stored record refused: {error}")
    for message in stored.values():
        if isinstance(message, MarketAssignment):
            await apply(message)


async def apply_live(sub: Subscription, platform: str, apply: Apply) -> None:
    """Apply the assignments for ``platform`` arriving on a subscription, until it ends."""
    async for envelope in sub:
        message = envelope.message
        if isinstance(message, MarketAssignment) and message.platform == platform:
            await apply(message)
