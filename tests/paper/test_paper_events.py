"""An event game's 3-leg cover from the real shard engine, filled on paper and valued in
every settlement scenario (the path ``arbees shard --paper`` takes)."""

from __future__ import annotations

from paper_support import d
from tests.services.test_shard_engine_events import KALSHI, OPEN_DRAW, engine, quiet, quote

from arbees.book import Level
from arbees.messages import EventContract, FeeTerms, MarketAssignment
from arbees.money import ONE
from arbees.paper import PaperFill, PaperLedger, PaperTrader
from arbees.services.quotes import Quote
from arbees.services.shard_engine import ShardEngine
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


def test_a_polymarket_us_cover_from_the_engine_fills_at_the_signals_numbers() -> None:
    """Kalshi x Polymarket US event game on the engine: the ledger prices each leg from
    the assignment's fee terms (``venue_terms``) and reproduces the signal exactly; then
    a cancellation pays Kalshi at its last price and Polymarket US 50-50."""
    now = 1_000 * 1_000_000_000
    ticker, slug = "KXNBAGAME-26OCT20OKCSAS-OKC", "aec-nba-okc-sas-2026-10-20"
    assignment = MarketAssignment(
        platform="kalshi", market_id="E", token_id="", shard_id="s1", sport="NBA",
        game_id="us1", epoch=1, outcomes=("okc", "sas"),
        contracts=tuple(
            EventContract(venue, instrument, "okc", side)
            for venue, instrument in (("kalshi", ticker), ("polymarket-us", slug))
            for side in ("yes", "no")
        ),
        fees=(
            FeeTerms("kalshi", "kalshi"),
            FeeTerms("polymarket-us", "polymarket-us", rate="0.05"),
        ),
    )  # fmt: skip
    engine = ShardEngine("s1", clock=lambda: now)
    assert engine.apply(assignment).rejected == ""

    def quote(venue: str, instrument: str, yes: str, no: str) -> Quote:
        return Quote(
            venue, instrument, (Level(d(yes), 100 * ONE),), (Level(d(no), 100 * ONE),),
            stale=False, received_ns=now,
        )  # fmt: skip

    kalshi = quote("kalshi", ticker, "0.40", "0.65")
    (sig,) = engine.on_quotes([kalshi, quote("polymarket-us", slug, "0.60", "0.55")])
    assert {(leg.venue, leg.side) for leg in sig.legs} == {
        ("kalshi", "yes"),
        ("polymarket-us", "no"),
    }
    led = PaperLedger()
    fill = led.on_signal(sig, engine.leg_asks(sig), engine.venue_terms("us1"))
    assert isinstance(fill, PaperFill)
    # Kalshi 100 @ 0.40: 0.07 x 100 x 0.4 x 0.6 = 1.68. Polymarket US 100 @ 0.55: the higher
    # of 0.003 x 55 = 0.165 and 0.05 x 100 x 0.55 x 0.45 = 1.2375 -> 1.24 (cent, up).
    fees = {leg.venue: leg.fee for leg in fill.legs}
    assert fees == {"kalshi": d("1.68"), "polymarket-us": d("1.24")}
    assert (fill.size, fill.cost + fill.fees, fill.pnl) == (sig.size, sig.cost, sig.profit)
    assert fill.pnl == 100 * ONE - d("95") - d("2.92")
    paid = led.settle_game("us1", Ruling("cancelled", prices={("kalshi", ticker): d("0.45")}))
    assert paid == d("45") + d("50") - d("97.92")
