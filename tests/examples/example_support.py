"""Helpers for the examples' tests: signals to publish, and a stack to watch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import trio

import arbees
from arbees.messages import SignalLeg

__all__ = ["EXAMPLES", "ONE", "make_signal", "wait_for"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ONE = 1_000_000


def make_signal(
    signal_id: str = "s-1",
    *,
    event: str = "open",
    team: str = "NBA:OKC",
    profit: int = 7 * ONE,
    size: int = 100 * ONE,
) -> arbees.ArbSignal:
    """A plausible ArbSignal (Kalshi YES 0.40 + Polymarket NO 0.50 on 100 contracts)."""
    legs = (
        SignalLeg("kalshi", "KXNBAGAME-26NOV26OKCSAS-OKC", "yes", 400_000, 400_000, size, 2 * ONE),
        SignalLeg("polymarket", "8" * 40, "no", 500_000, 500_000, size, ONE),
    )
    signal = arbees.ArbSignal(
        signal_id=signal_id,
        event=event,
        shard_id="s1",
        game_id="KXNBAGAME-26NOV26OKCSAS",
        combo="KalshiYes+PolyNo",
        team=team,
        legs=legs,
        size=size,
        cost=size - profit,
        fees=3 * ONE,
        profit=profit,
        edge=profit * ONE // size if size else 0,
        timestamp_ms=0,
    )
    return signal


async def wait_for(predicate: Callable[[], bool], deadline_s: float = 10.0) -> None:
    """Poll a condition that has no event of its own (e.g. lines printed by an example)."""
    with trio.fail_after(deadline_s):
        while not predicate():  # noqa: ASYNC110
            await trio.sleep(0.02)
