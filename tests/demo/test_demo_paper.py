"""``arbees demo --paper``: a postponed and a cancelled game settle each venue by its rule."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal


def test_demo_paper_settles_a_postponed_and_a_cancelled_game() -> None:
    args = ["demo", "--duration", "5", "--json", "--seed", "3", "--paper"]
    proc = subprocess.run(
        [sys.executable, "-m", "arbees", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    paper = json.loads(proc.stdout)["paper"]
    (postponed,) = paper["postponed"]
    (cancelled,) = paper["cancelled"]
    positions = [p for ledger in paper["ledgers"] for p in ledger["positions"]]
    assert len(positions) == paper["positions"] > 0
    on_postponed = [p for p in positions if p["game_id"] == postponed]
    on_cancelled = [p for p in positions if p["game_id"] == cancelled]
    assert on_postponed  # the busiest games: the ledger holds positions on them
    assert on_cancelled
    for p in on_postponed:
        # Kalshi paid its legs at the last price; Polymarket keeps its leg open until
        # played, so the position is still open, valued in every scenario.
        assert not p["settled"]
        assert Decimal(p["paid"]) > 0
        assert Decimal(p["worst_case"]) == min(Decimal(v) for v in p["scenarios"].values())
    for p in on_cancelled:
        # Kalshi at its last price, Polymarket 50-50: far from the $1 a contract locked in.
        assert p["settled"]
        assert Decimal(p["paid"]) < Decimal(p["contracts"])
    settled = [Decimal(p["pnl"]) for p in positions if p["settled"]]
    assert Decimal(paper["realized_pnl"]) == sum(settled)
    assert Decimal(paper["divergence_before_settlement"]) > 0
    # The event games have fates too: a soccer game postponed, the total cancelled.
    (event_postponed,) = paper["event_postponed"]
    (event_cancelled,) = paper["event_cancelled"]
    assert event_postponed.startswith("EPL:")
    assert ":total:" in event_cancelled
    on_soccer = [p for p in positions if p["game_id"] == event_postponed]
    on_total = [p for p in positions if p["game_id"] == event_cancelled]
    assert on_soccer
    assert on_total
    for p in on_soccer:
        assert not p["settled"]  # Polymarket keeps its legs open until played
        assert set(p["scenarios"]) >= {"postponed", "cancelled"}
        kalshi_legs = "kalshi" in p["combo"]
        assert (Decimal(p["paid"]) > 0) == kalshi_legs  # Kalshi paid at its last prices
    for p in on_total:
        assert p["settled"]
        assert Decimal(p["paid"]) < Decimal(p["contracts"])
    reports = {r["game_id"]: r for r in paper["fates"]}
    assert set(reports) == {postponed, cancelled, event_postponed, event_cancelled}
    for game_id, report in reports.items():
        mine = [p for p in positions if p["game_id"] == game_id]
        assert report["positions"] == len(mine)
        assert Decimal(report["paid"]) == sum(Decimal(p["paid"]) for p in mine)
        assert Decimal(report["realized_pnl"]) == sum(
            Decimal(p["pnl"]) for p in mine if p["settled"]
        )
    assert reports[event_cancelled]["settled"] == len(on_total)
