"""The market simulator: one seeded source of truth driving both fake venues.

* :mod:`arbees.sim.books` — a game's true books and :func:`~arbees.sim.books.truth`;
* :mod:`arbees.sim.games` — the slate (real teams, venue identifiers, discovery data);
* :mod:`arbees.sim.plan` — the precomputed timeline: random walk, injected windows, traps;
* :mod:`arbees.sim.events` — the event games (3-way soccer, an NFL winner, an MLB total at a
  shared line), listed as the venues list them, with their own windows and traps;
* :mod:`arbees.sim.player` — plays a plan into :class:`~arbees.testing.fake_kalshi.FakeKalshi`
  and :class:`~arbees.testing.fake_polymarket.FakePolymarket` on trio time;
* :mod:`arbees.sim.score` — scores published signals against the truth.
"""

from __future__ import annotations

from arbees.sim.books import DEFAULT_FEES, GameBooks, KalshiBook, TokenBook, pair_asks, truth
from arbees.sim.games import SimGame, install_discovery, make_games
from arbees.sim.plan import Plan, PlanConfig, Step, Trap, Window, make_plan

__all__ = [
    "DEFAULT_FEES",
    "GameBooks",
    "KalshiBook",
    "Plan",
    "PlanConfig",
    "SimGame",
    "Step",
    "TokenBook",
    "Trap",
    "Window",
    "install_discovery",
    "make_games",
    "make_plan",
    "pair_asks",
    "truth",
]
