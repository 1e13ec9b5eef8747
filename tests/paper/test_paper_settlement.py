"""Settlement in the paper ledger: event covers, every scenario's payout, worst case, rulings."""

from __future__ import annotations

from paper_support import K_OKC, MS, Clock, d, fees, ladder, signal

from arbees.messages import ArbSignal, SignalLeg
from arbees.money import ONE
from arbees.paper import PaperFill, PaperLedger, PendingFill
from arbees.settlement import Ruling

K_HOME = "KXEPLGAME-26SEP12ARSCHE-ARS"
K_TIE = "KXEPLGAME-26SEP12ARSCHE-TIE"
K_AWAY = "KXEPLGAME-26SEP12ARSCHE-CHE"
P_DRAW = "333"
P_AWAY = "444"


def event_signal(*legs: tuple[str, str, str, str], size: int = 10) -> ArbSignal:
    """An event cover: ``(venue, instrument, side, outcome)`` per leg."""
    label = " + ".join(f"{v} {side.upper()} {o}" for v, _, side, o in legs)
    return ArbSignal(
        signal_id=f"s1:ev1:{label}:1",
        event="open",
        shard_id="s1",
        game_id="ev1",
        combo=label,
        team="",
        legs=tuple(SignalLeg(v, i, side, 0, 0, size * ONE, 0, outcome=o) for v, i, side, o in legs),
        size=size * ONE,
        cost=0,
        fees=0,
        profit=0,
        edge=0,
        timestamp_ms=0,
    )


THREE_WAY = (
    ("kalshi", K_HOME, "yes", "home"),
    ("polymarket", P_DRAW, "yes", "draw"),
    ("polymarket", P_AWAY, "yes", "away"),
)
THREE_BOOKS = (ladder(("0.28", 50)), ladder(("0.30", 50)), ladder(("0.30", 50)))


def filled(result: object) -> PaperFill:
    assert isinstance(result, PaperFill)
    return result


def test_pair_under_postponement_kalshi_scalar_polymarket_open_until_played() -> None:
    """Kalshi YES home + Polymarket NO home (the away token): Kalshi pays its last price
    now, Polymarket keeps its leg open until the game is played."""
    led = PaperLedger(clock=Clock())
    fill = filled(led.on_signal(signal(10), (ladder(("0.30", 50)), ladder(("0.45", 50))), fees()))
    spent = fill.cost + fill.fees
    position = led.positions[fill.key]
    assert position.spent == spent
    # Last known Kalshi YES price: the fill's 0.30.
    assert led.scenarios(position) == {
        "NBA:OKC wins": 10 * ONE,
        "(other) wins": 10 * ONE,
        "postponed": d("3.0"),  # Kalshi 10 x 0.30; Polymarket open, worst when OKC wins: 0
        "cancelled": d("8.0"),  # Kalshi 3.00 + Polymarket 50-50: 5.00
    }
    assert led.worst_case(position) == d("3.0")
    assert led.divergence_exposure() == d("7.0")

    # Kalshi settles scalar at its actual last traded price, 0.29; Polymarket stays open.
    ruling = Ruling("postponed", prices={("kalshi", K_OKC): d("0.29")})
    assert led.settle_game("g1", ruling) == 0  # nothing fully settled yet
    assert not position.settled
    assert position.paid == d("2.9")
    assert led.postponed_games == {"g1"}
    assert led.scenarios(position)["NBA:OKC wins"] == d("2.9")
    assert led.scenarios(position)["(other) wins"] == d("12.9")
    # The mark (and the day's P&L) now counts the worst played result, not $1 a contract.
    assert position.pnl == d("2.9") - spent
    assert led.daily_pnl == d("2.9") - spent
    # No new fills on a postponed game (its Kalshi legs are already paid).
    assert (
        led.on_signal(signal(10, serial=2), (ladder(("0.30", 50)), ladder(("0.45", 50))), fees())
        is None
    )
    assert led.stats.rejected == 1
    # The rescheduled game is played: SAS wins, the away token pays $1 a contract.
    assert led.settle("g1", "NBA:SAS") == d("12.9") - spent
    assert position.settled
    assert position.realized == d("12.9") - spent
    assert led.postponed_games == set()
    assert led.realized_pnl() == d("12.9") - spent
    assert led.daily_pnl == d("12.9") - spent  # booked once in all: fill, re-mark, settlement
    assert led.divergence_exposure() == 0


def test_pair_cancelled_pays_scalar_and_fifty_fifty_exactly() -> None:
    led = PaperLedger(clock=Clock())
    fill = filled(led.on_signal(signal(10), (ladder(("0.30", 50)), ladder(("0.45", 50))), fees()))
    ruling = Ruling("cancelled", prices={("kalshi", K_OKC): d("0.61")})
    realized = led.settle_game("g1", ruling)
    assert realized == d("6.1") + d("5.0") - (fill.cost + fill.fees)
    assert led.positions[fill.key].settled
    assert led.settle("g1", "NBA:OKC") == 0  # a settled game is not settled twice


def test_event_cover_of_three_legs_is_filled_and_locked_on_every_result() -> None:
    led = PaperLedger(clock=Clock())
    fill = filled(led.on_signal(event_signal(*THREE_WAY), THREE_BOOKS, fees(poly_rate="0")))
    assert fill.size == 10 * ONE
    assert [leg.size for leg in fill.legs] == [10 * ONE] * 3
    assert fill.cost == d("8.8")  # 2.80 + 3.00 + 3.00
    # Kalshi fee 0.07 x 10 x 0.28 x 0.72 = 0.14112 -> 0.15 (rounded up to the cent).
    assert fill.fees == d("0.15")
    assert fill.pnl == 10 * ONE - d("8.95")
    position = led.positions[fill.key]
    assert position.key == ("ev1", "", event_signal(*THREE_WAY).combo)
    payouts = led.scenarios(position)
    assert payouts == {
        "away wins": 10 * ONE,
        "draw wins": 10 * ONE,
        "home wins": 10 * ONE,
        "postponed": d("2.8"),  # Kalshi at 0.28; both Polymarket legs lose if home wins
        "cancelled": d("12.8"),  # 2.80 + 5.00 + 5.00
    }
    assert led.worst_case(position) == d("2.8")
    # A winner none of the cover's outcomes is refused, counted; nothing is paid.
    assert led.settle("ev1", "Home") == 0
    assert (led.stats.rejected, position.settled, position.paid) == (1, False, 0)
    assert "ev1" not in led.settled_games
    # Played to a result the cover pays $1 a contract, whoever wins.
    assert led.settle("ev1", "draw") == 10 * ONE - d("8.95")
    assert position.realized == 10 * ONE - d("8.95")


def test_event_cover_postponed_then_cancelled_each_venue_by_its_rule() -> None:
    led = PaperLedger(clock=Clock())
    fill = filled(led.on_signal(event_signal(*THREE_WAY), THREE_BOOKS, fees(poly_rate="0")))
    position = led.positions[fill.key]
    led.settle_game("ev1", Ruling("postponed", prices={("kalshi", K_HOME): d("0.29")}))
    assert position.paid == d("2.9")
    assert not position.settled
    # Never played: Polymarket pays 50-50 on each of its legs; Kalshi was paid already.
    assert led.settle_game("ev1", Ruling("cancelled")) == d("12.9") - d("8.95")
    assert position.paid == d("12.9")


def test_all_kalshi_three_way_scalar_pays_its_last_prices_exactly() -> None:
    """Issue 20's game: Kalshi settled home 0.29, draw 0.43, away 0.28 — the cover is
    paid 1.00 a contract, no divergence when every leg is on one venue."""
    legs = (
        ("kalshi", K_HOME, "yes", "home"),
        ("kalshi", K_TIE, "yes", "draw"),
        ("kalshi", K_AWAY, "yes", "away"),
    )
    books = (ladder(("0.28", 50)), ladder(("0.30", 50)), ladder(("0.30", 50)))
    led = PaperLedger(clock=Clock())
    fill = filled(led.on_signal(event_signal(*legs), books, fees()))
    position = led.positions[fill.key]
    prices = {("kalshi", K_HOME): d("0.29"), ("kalshi", K_TIE): d("0.43")}
    prices[("kalshi", K_AWAY)] = d("0.28")
    realized = led.settle_game("ev1", Ruling("postponed", prices=prices))
    assert position.paid == d("2.9") + d("4.3") + d("2.8") == 10 * ONE
    assert realized == 10 * ONE - fill.cost - fill.fees
    assert position.settled  # no leg stays open: Kalshi settled them all


def test_an_event_leg_that_gets_nothing_leaves_the_others_unhedged() -> None:
    clock = Clock()
    led = PaperLedger(clock=clock, latency_ns=50 * MS)
    pending = led.on_signal(event_signal(*THREE_WAY), THREE_BOOKS, fees(poly_rate="0"))
    assert isinstance(pending, PendingFill)
    clock.now += 50 * MS
    gone = ladder(("0.90", 50))  # the draw leg's book moved above its limit
    fill = filled(led.complete(pending, (THREE_BOOKS[0], gone, THREE_BOOKS[2])))
    assert fill.leg_risk
    assert [leg.size for leg in fill.legs] == [10 * ONE, 0, 10 * ONE]
    position = led.positions[fill.key]
    assert position.naked == [10 * ONE, 0, 10 * ONE]
    assert led.scenarios(position)["draw wins"] == 0
    assert led.scenarios(position)["home wins"] == 10 * ONE
    assert led.worst_case(position) == 0
    assert led.settle("ev1", "away") == 10 * ONE - position.spent


def test_summary_reports_realized_pnl_and_divergence_apart() -> None:
    led = PaperLedger(clock=Clock())
    books = (ladder(("0.30", 50)), ladder(("0.45", 50)))
    first = filled(led.on_signal(signal(10, game_id="g1"), books, fees()))
    second = filled(led.on_signal(signal(10, game_id="g2"), books, fees()))
    led.settle("g1", "NBA:OKC")
    totals = led.summary()["totals"]
    assert totals["realized_pnl"] == str(first.pnl / ONE)
    # Only g2 is open: its worst case is the postponement (Kalshi 3.00, Polymarket 0).
    assert totals["divergence_exposure"] == "7"
    assert totals["worst_case_pnl"] == str((d("3.0") - second.cost - second.fees) / ONE)
    open_position = next(p for p in led.summary()["positions"] if not p["settled"])
    assert open_position["worst_case"] == "3"
    assert open_position["scenarios"]["cancelled"] == "8"
    assert "settlement divergence 7" in led.summary_line()
    rules = led.summary()["settlement_rules"]
    assert rules["kalshi"]["postponed"] == "last_price"
    assert rules["polymarket-us"]["confirmed"] is False
