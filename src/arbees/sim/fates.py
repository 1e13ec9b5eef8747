"""How each simulated game ends: played to a result, postponed, or cancelled.

Why: a "locked" cross-venue pair pays $1 only when both venues settle on the same result.
The demo's paper ledger (``arbees demo --paper``) settles every game of the slate by its
fate, so one postponed and one cancelled game exercise each venue's rule
(:mod:`arbees.settlement`): Kalshi pays its legs at their last traded price, Polymarket
keeps a postponed game open until played and pays 50-50 on a cancelled one. The games
chosen are those with the most arbitrage windows (so the ledger holds positions on them);
the other games get a winner drawn from the seed. Deterministic: same plan, same fates.

The event games (:attr:`arbees.sim.plan.Plan.events`) get fates of their own
(:func:`event_fates`): the 3-way soccer game with the most windows is postponed and the
total cancelled (a Kalshi scalar on every leg of a soccer game against Polymarket's
open-until-played, and Kalshi's last price on a line against Polymarket's 50-50), the
others played to a seeded outcome (a 3-way game may end in a draw).
"""

from __future__ import annotations

import random
from collections import Counter

import attrs

from arbees.money import Fixed
from arbees.sim.books import KalshiBook
from arbees.sim.plan import Plan

__all__ = ["Fate", "event_fates", "game_fates", "kalshi_last_price"]


@attrs.frozen
class Fate:
    """One game's end.

    Attributes:
        game_id: the game (its Kalshi event ticker; an event game: its matched id).
        scenario: ``"result"``, ``"postponed"`` or ``"cancelled"``.
        winner: the winning team's id, or the event outcome that happened (a result
            only; ``""`` otherwise).
    """

    game_id: str
    scenario: str
    winner: str = ""


def game_fates(plan: Plan) -> tuple[Fate, ...]:
    """Every game's fate: the game with the most windows is postponed, the next one
    cancelled (a slate of one game: postponed only), the others played."""
    rng = random.Random(f"fates:{plan.config.seed}")
    windows = Counter(w.game for w in plan.windows)
    ranked = sorted(range(len(plan.games)), key=lambda i: (-windows[i], i))
    special = dict(zip(ranked, ("postponed", "cancelled"), strict=False))
    fates = []
    for game in plan.games:
        scenario = special.get(game.index)
        if scenario is None:
            fates.append(Fate(game.game_id, "result", winner=rng.choice(game.team_ids)))
        else:
            fates.append(Fate(game.game_id, scenario))
    return tuple(fates)


def event_fates(plan: Plan) -> tuple[Fate, ...]:
    """Every event game's fate: the 3-way game with the most windows postponed, the first
    total cancelled, the others played to an outcome drawn from the seed."""
    events = plan.events
    rng = random.Random(f"event-fates:{plan.config.seed}")
    windows = Counter(w.event for w in events.windows)
    special: dict[int, str] = {}
    three_way = [e.index for e in events.events if e.kind == "3-way"]
    if three_way:
        special[min(three_way, key=lambda i: (-windows[i], i))] = "postponed"
    total = next((e.index for e in events.events if e.kind == "total"), None)
    if total is not None:
        special[total] = "cancelled"
    fates = []
    for event in events.events:
        scenario = special.get(event.index)
        if scenario is None:
            fates.append(Fate(event.game_id, "result", winner=rng.choice(event.outcomes)))
        else:
            fates.append(Fate(event.game_id, scenario))
    return tuple(fates)


def kalshi_last_price(book: KalshiBook) -> Fixed:
    """The simulated last traded YES price of a Kalshi market: the midpoint of its best
    YES bid and ask (rounded down to the micro-unit); 0 when one side is empty."""
    if not book.yes_bids or not book.yes_asks:
        return 0
    return (book.yes_bids[0].price + book.yes_asks[0].price) // 2
