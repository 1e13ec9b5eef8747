"""Run the demo: plan the market, start the system, play, score, summarize.

The run's ``duration`` is market time after the system reported ready (start-up —
discovery, assignment, first books — is not counted). Ctrl-C ends the market early and
still prints the summary.
"""

from __future__ import annotations

import signal
import sys
import time
from typing import Any, TextIO

import attrs
import trio

from arbees.demo.paper import settle_paper
from arbees.demo.summary import build_summary, format_summary
from arbees.demo.system import DemoSettings, open_demo_system
from arbees.demo.view import show
from arbees.sim.plan import PlanConfig, make_plan
from arbees.sim.score import Score, score_signals

__all__ = ["DemoOptions", "run_demo"]


@attrs.frozen
class DemoOptions:
    """What ``arbees demo`` was asked for.

    Attributes:
        seed: market seed.
        games: games in the slate.
        duration_s: seconds of market after start-up.
        shards: game shards.
        bus_url: ``memory://`` or a Redis URL.
        budget_ms: detection budget.
        grace_ms: how long after a window closes a signal for it is still justified.
        refresh_s: view refresh period (0: no live view).
        walk_rate: random-walk steps per second.
        paper: fill the signals on paper and settle each game by its simulated fate
            (one postponed, one cancelled), reported under ``paper`` in the summary.
        record: record everything the monitor and shards see into this file (``""``: no).
        record_max_bytes: rotate the recording after this many bytes (0: never).
        venues: the venues the shards read (:data:`arbees.demo.system.DEMO_VENUES`).
    """

    seed: int = 1
    games: int = 12
    duration_s: float = 30.0
    shards: int = 2
    bus_url: str = "memory://"
    budget_ms: float = 300.0
    grace_ms: float = 500.0
    refresh_s: float = 0.5
    walk_rate: float = 50.0
    paper: bool = False
    record: str = ""
    record_max_bytes: int = 0
    venues: tuple[str, ...] = ("kalshi", "polymarket")


async def run_demo(
    options: DemoOptions, *, out: TextIO | None = None, tty: bool = False
) -> tuple[dict[str, Any], Score]:
    """Run the whole demo; returns ``(summary dict, score)``."""
    short = options.duration_s < 10  # short runs: denser, shorter scenarios
    plan = make_plan(
        PlanConfig(
            seed=options.seed,
            games=options.games,
            duration_s=options.duration_s,
            walk_rate=options.walk_rate,
            window_s=(0.6, 1.0) if short else (0.8, 1.4),
            scenario_gap_s=(0.12, 0.3) if short else (0.25, 0.6),
            cooldown_s=0.5 if short else 0.8,
            # the event games reach the shards through discovery, which a Polymarket
            # US demo (games assigned from the plan) does not run
            event_games="polymarket-us" not in options.venues,
        )
    )
    settings = DemoSettings(
        shards=options.shards,
        bus_url=options.bus_url,
        paper=options.paper,
        record=options.record,
        record_max_bytes=options.record_max_bytes,
        venues=options.venues,
    )
    async with open_demo_system(plan, settings) as system:
        started = time.monotonic()
        with trio.CancelScope() as market:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_stop_on_sigint, market)
                if out is not None and options.refresh_s > 0:
                    nursery.start_soon(_refresh, system, out, tty, options.refresh_s, started)
                await system.player.run()
                nursery.cancel_scope.cancel()
        await trio.sleep(min(0.3, options.grace_ms / 1000))  # let in-flight signals land
        end_ns = time.time_ns()
        elapsed = time.monotonic() - started
        score = score_signals(
            plan,
            system.player,
            system.scored_signals(),
            budget_ns=int(options.budget_ms * 1e6),
            grace_ns=int(options.grace_ms * 1e6),
            end_ns=end_ns,
        )
        summary = build_summary(
            system, score, duration_s=elapsed, budget_ms=options.budget_ms, bus_url=options.bus_url
        )
        if options.paper:
            summary["paper"] = settle_paper(plan, system.player, system.shards, system.events)
    return summary, score


async def _refresh(system: Any, out: TextIO, tty: bool, period: float, started: float) -> None:
    while True:
        show(system, time.monotonic() - started, out, tty)
        await trio.sleep(period)


async def _stop_on_sigint(market: trio.CancelScope) -> None:
    try:
        with trio.open_signal_receiver(signal.SIGINT) as signals:
            async for _ in signals:
                market.cancel()
                return
    except RuntimeError:  # not the main thread: Ctrl-C is the caller's business
        await trio.sleep_forever()


def print_summary(summary: dict[str, Any], score: Score, out: TextIO = sys.stdout) -> None:
    """Print the human summary."""
    out.write(format_summary(summary, score) + "\n")
