"""An event game's 3-leg cover from the real shard engine, filled on paper and valued in
every settlement scenario (the path ``arbees shard --paper`` takes)."""

from __future__ import annotations

from paper_support import d
from tests.services.test_shard_engine_events import KALSHI, OPEN_DRAW, engine, quiet, quote

from arbees.money import ONE
from arbees.paper import PaperFill, PaperLedger, PaperTrader
from arbees.settlement import Ruling


def test_shard_event_cover_fills_on_paper_exactly_and_shows_every_scenario() -> None:
    eng, clock = engine()
    quiet(eng, clock)
    (sig,) = eng.on_quote(quote(clock, "polymarket", "draw", *OPEN_DRAW))
    ledger = PaperLedger(clock=lambda: 20_000 * 86_400 * 10**9)
    trader = PaperTrader(ledger, eng, log_interval=0)
    fill = trader.submit(sig)
    assert isinstance(fill, PaperFill)
    # The fill at detection reproduces the signal to the micro-dollar.
    assert (fill.size, fill.cost + fill.fees, fill.pnl) == (sig.size, sig.cost, sig.profit)
    (position,) = ledger.positions.values()
    assert ledger.scenarios(position) == {
        "away wins": 80 * ONE,
        "draw wins": 80 * ONE,
        "home wins": 80 * ONE,
        "postponed": d("32"),  # Kalshi YES home 80 x 0.40; Polymarket open, 0 if home wins
        "cancelled": d("112"),  # 32 + Polymarket 50-50 on draw and away: 40 + 40
    }
    assert ledger.divergence_exposure() == 48 * ONE
    ruling = Ruling("cancelled", prices={("kalshi", KALSHI["home"]): d("0.45")})
    assert ledger.settle_game("epl-1", ruling) == d("36") + 80 * ONE - sig.cost
