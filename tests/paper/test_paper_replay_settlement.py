"""A replay settles its paper ledger from the recorded game states as the live shard does:
a postponement pays Kalshi's leg at the last price of the replayed Kalshi book and keeps
Polymarket's open; the later cancellation pays Polymarket's 50-50."""

from __future__ import annotations

from pathlib import Path

import trio
from tests.cli.test_replay import MS, OKC, T0, assignment, frames

from arbees.messages import GameState
from arbees.money import ONE, parse_fixed
from arbees.recording import Recorder
from arbees.replay import ReplayInput, ReplaySettings, run_replay

SLUG = "nba-okc-sas-2026-10-20"


def report(phase: str, at_ms: int) -> GameState:
    return GameState(venue="polymarket", key=SLUG, phase=phase, timestamp_ms=T0 // MS + at_ms)


def test_a_replay_settles_postponed_then_cancelled_by_each_venues_rule(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    with Recorder(path) as recorder:
        recorder.assignment(assignment(game_keys={"polymarket": SLUG}), T0)
        for recv_ns, venue, frame in frames()[:4]:  # crossed at +3 ms: one fill
            recorder.frame(venue, frame, recv_ns)
        recorder.game_state(report("postponed", 100), T0 + 100 * MS)
        recorder.game_state(report("postponed", 130), T0 + 130 * MS)  # the relay repeats it
        recorder.game_state(report("cancelled", 200), T0 + 200 * MS)
    result = trio.run(lambda: run_replay([ReplayInput(str(path))], ReplaySettings(paper=True)))
    ledger = result.paper
    assert ledger is not None
    (position,) = ledger.positions.values()
    spent = 96_740_000  # 100 x (0.45 + 0.50) + Kalshi's 1.74 fee
    assert position.spent == spent
    paid = {c.venue: h.paid for c, h in position.holdings.items()}
    # Kalshi OKC's book: YES bid 0.40, NO bid 0.55 (a YES ask of 0.45): midpoint 0.425.
    assert paid == {"kalshi": 100 * parse_fixed("0.425"), "polymarket": 50 * ONE}
    assert position.settled
    assert position.realized == parse_fixed("42.5") + 50 * ONE - spent
    assert ledger.stats.settlements == 2  # postponed once, then cancelled
    assert ledger.settled_games == {"g1"}
    assert ("kalshi", OKC) in ledger.last_prices
