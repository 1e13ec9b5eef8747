"""``arbees demo --paper --venues kalshi,polymarket-us``: each simulated game runs as two
event games (one per team), and both are settled by the game's fate."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from arbees.demo.us import EventKey
from arbees.errors import ConfigError
from arbees.settlement import Ruling

AWAY = EventKey("G", 0, "NBA:MIA", (("kalshi", "G-MIA"), ("polymarket-us", "slug")))
HOME = EventKey("G", 1, "NBA:MEM", (("kalshi", "G-MEM"), ("polymarket-us", "slug")))


def test_a_result_is_the_teams_outcome_or_the_other_one() -> None:
    away_won = Ruling.result("NBA:MIA")
    assert AWAY.ruling(away_won) == Ruling.result("NBA:MIA")
    assert HOME.ruling(away_won) == Ruling.result("other")
    home_won = Ruling.result("NBA:MEM")
    assert AWAY.ruling(home_won) == Ruling.result("other")
    assert HOME.ruling(home_won) == Ruling.result("NBA:MEM")


@pytest.mark.parametrize("scenario", ["postponed", "cancelled"])
def test_a_postponement_or_cancellation_is_the_games_own_with_its_last_prices(
    scenario: str,
) -> None:
    game = Ruling(scenario, prices={("kalshi", "G-MIA"): 410_000, ("kalshi", "G-MEM"): 600_000})
    assert AWAY.ruling(game) == game
    assert HOME.ruling(game) == game


def test_a_ruling_the_ledger_cannot_know_stays_refused() -> None:
    with pytest.raises(ConfigError):
        AWAY.ruling(Ruling("abandoned"))


def test_demo_paper_with_polymarket_us_settles_every_game_by_its_fate() -> None:
    args = ["demo", "--duration", "5", "--json", "--seed", "3", "--paper"]
    proc = subprocess.run(
        [sys.executable, "-m", "arbees", *args, "--venues", "kalshi,polymarket-us"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "cannot settle" not in proc.stderr
    paper = json.loads(proc.stdout)["paper"]
    (postponed,) = paper["postponed"]
    (cancelled,) = paper["cancelled"]
    positions = [p for ledger in paper["ledgers"] for p in ledger["positions"]]
    assert len(positions) == paper["positions"] > 0
    # Every position sits on one team's event game of a simulated game.
    game_of = {p["game_id"]: p["game_id"].rsplit("-", 1) for p in positions}
    assert all(side in ("AWAY", "HOME") for _, side in game_of.values())
    on_postponed = [p for p in positions if game_of[p["game_id"]][0] == postponed]
    on_cancelled = [p for p in positions if game_of[p["game_id"]][0] == cancelled]
    played = [p for p in positions if game_of[p["game_id"]][0] not in (postponed, cancelled)]
    assert on_postponed  # the busiest games: the ledger holds positions on them
    assert on_cancelled
    assert played
    for p in played:
        # A locked pair on a played game pays exactly $1 a contract: a result translated to
        # an outcome the event game does not have would pay nothing or leave it open.
        assert p["settled"]
        assert Decimal(p["paid"]) == Decimal(p["contracts"])
    for p in on_postponed:
        # Kalshi paid its leg at the last price; Polymarket US keeps its leg open until
        # played (its conservative default rule), so the position stays open, valued.
        assert not p["settled"]
        assert 0 < Decimal(p["paid"]) < Decimal(p["contracts"])
        assert set(p["scenarios"]) >= {"postponed", "cancelled"}
    for p in on_cancelled:
        # Kalshi at its last price, Polymarket US 50-50: not the $1 a contract locked in.
        assert p["settled"]
        assert Decimal(p["paid"]) != Decimal(p["contracts"])
    settled = [Decimal(p["pnl"]) for p in positions if p["settled"]]
    assert Decimal(paper["realized_pnl"]) == sum(settled)
    assert paper["open"] == len(on_postponed)
    reports = {r["game_id"]: r for r in paper["fates"]}
    assert set(reports) == {postponed, cancelled}
    for game_id, mine in ((postponed, on_postponed), (cancelled, on_cancelled)):
        assert reports[game_id]["positions"] == len(mine)
        assert Decimal(reports[game_id]["paid"]) == sum(Decimal(p["paid"]) for p in mine)
    for ledger in paper["ledgers"]:
        assert ledger["stats"]["settlements"] == ledger["stats"]["fills"]
