"""The paper ledger: exact fills with fees, same size on both legs, latency, limits, P&L."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import attrs
import pytest
from paper_support import DAY, MS, P_SAS, Clock, d, fees, ladder, signal
from tests.fee_terms import pair_terms

from arbees.messages import SystemAlert
from arbees.money import ONE
from arbees.paper import (
    PAPER_RISK_LIMIT,
    LegFill,
    PaperFill,
    PaperLedger,
    PendingFill,
    Position,
    RiskLimits,
)
from arbees.settlement import Ruling

# Detection books of the KalshiYes+PolyNo signal (leg 0 Kalshi YES, leg 1 SAS token).
KALSHI = ladder(("0.30", 10), ("0.50", 20))
POLY = ladder(("0.45", 5), ("0.48", 100))
BOOKS = (KALSHI, POLY)


def ledger(**kw: Any) -> tuple[PaperLedger, Clock, list[SystemAlert]]:
    clock = Clock()
    alerts: list[SystemAlert] = []
    return PaperLedger(clock=clock, on_alert=alerts.append, **kw), clock, alerts


def filled(result: object) -> PaperFill:
    assert isinstance(result, PaperFill)
    return result


def test_fill_walks_levels_with_whole_order_fees_exactly() -> None:
    led, _, _ = ledger()
    fill = filled(led.on_signal(signal(13), BOOKS, fees()))
    k, p = fill.legs
    # Kalshi: 10 @ 0.30 + 3 @ 0.50 = 4.50. Fee rounded ONCE for the order:
    # 0.07 x (10 x 0.21 + 3 x 0.25) = 0.1995 -> 0.20 (per level it would be 0.15 + 0.06).
    assert (k.size, k.notional, k.fee, k.worst_price) == (13 * ONE, d("4.5"), d("0.20"), d("0.5"))
    assert k.avg_price == 346_154  # 4.50 / 13, rounded up
    # Polymarket 5%: 5 @ 0.45 + 8 @ 0.48 = 6.09; fee 0.05 x (5 x 0.2475 + 8 x 0.2496)
    # = 0.161715 -> 0.16172 (5 decimals, half-up).
    assert (p.size, p.notional, p.fee, p.worst_price) == (
        13 * ONE,
        d("6.09"),
        d("0.16172"),
        d("0.48"),
    )
    assert (p.venue, p.instrument, p.side) == ("polymarket", P_SAS, "yes")
    assert fill.size == 13 * ONE
    assert fill.cost == d("10.59")
    assert fill.fees == d("0.36172")
    assert fill.payout == 13 * ONE
    assert fill.pnl == d("2.04828")  # 13 - 10.59 - 0.36172
    assert (fill.slippage, fill.latency_ns, fill.leg_risk, fill.reduced) == (0, 0, False, False)
    position = led.positions[("g1", "NBA:OKC", "KalshiYes+PolyNo")]
    assert (position.contracts, position.cost, position.fees) == (
        13 * ONE,
        d("10.59"),
        d("0.36172"),
    )
    assert position.mark_pnl == d("2.04828")
    assert led.exposure() == d("10.95172")


def test_depth_cuts_both_legs_to_the_same_size() -> None:
    led, _, _ = ledger()
    thin_poly = ladder(("0.45", 5), ("0.48", 4))  # 9 contracts only
    fill = filled(led.on_signal(signal(13), (KALSHI, thin_poly), fees()))
    assert fill.size == 9 * ONE
    assert [leg.size for leg in fill.legs] == [9 * ONE, 9 * ONE]
    assert fill.reduced
    assert fill.legs[0].notional == d("2.7")  # 9 @ 0.30 from the first level
    assert led.stats.reduced == 1


def test_fill_of_an_engine_signal_reproduces_its_numbers() -> None:
    from arbees.messages import MarketAssignment, TeamLeg
    from arbees.services.quotes import Quote
    from arbees.services.shard_engine import ShardEngine

    clock = Clock()
    engine = ShardEngine("s1", clock=clock)
    engine.apply(
        MarketAssignment(
            platform="kalshi", market_id="E", token_id="", shard_id="s1", sport="NBA",
            game_id="g1", fees=pair_terms(poly_fee_rate="0.05"), epoch=1,
            teams=(TeamLeg("NBA:OKC", "K-OKC", "111"), TeamLeg("NBA:SAS", "K-SAS", "222")),
        )
    )  # fmt: skip
    engine.on_quote(Quote("kalshi", "K-OKC", KALSHI, ladder(("0.62", 50)), False, clock.now))
    signals = engine.on_quote(
        Quote("polymarket", "111", ladder(("0.52", 50)), POLY, False, clock.now)
    )
    expected = {
        "KalshiYes+PolyNo": (KALSHI, POLY),
        "KalshiOnly": (KALSHI, ladder(("0.62", 50))),
        # both legs on Polymarket: token 111's asks, then its mirrored bids
        "PolyOnly": (ladder(("0.52", 50)), POLY),
    }
    assert sorted(s.combo for s in signals) == sorted(expected)
    led = PaperLedger(clock=clock)
    for sig in signals:
        books = engine.leg_asks(sig)
        assert books == expected[sig.combo]
        fill = filled(led.on_signal(sig, books, engine.venue_terms("g1")))
        assert fill.size == sig.size
        assert fill.cost + fill.fees == sig.cost
        assert fill.fees == sig.fees
        assert fill.pnl == sig.profit
        assert [leg.fee for leg in fill.legs] == [leg.fee for leg in sig.legs]
        assert [leg.worst_price for leg in fill.legs] == [leg.worst_price for leg in sig.legs]
    assert engine.leg_asks(attrs.evolve(signals[0], game_id="nope")) is None
    assert engine.venue_terms("nope") is None


def test_fill_fails_to_fill_when_a_leg_has_no_book() -> None:
    led, _, _ = ledger()
    assert led.on_signal(signal(13), (KALSHI, ()), fees()) is None
    assert led.on_signal(signal(13), None, fees()) is None
    assert (led.stats.missed, led.stats.no_books, led.stats.fills) == (1, 1, 0)
    assert led.positions == {}


def test_close_never_fills() -> None:
    led, _, _ = ledger()
    assert led.on_signal(signal(13, event="close"), BOOKS, fees()) is None
    assert led.stats.closes_ignored == 1
    assert led.positions == {}


def test_bad_input_is_counted_never_a_crash() -> None:
    led, _, _ = ledger()
    garbage = ((d("0.30"), 10 * ONE), (1.5, ONE), (d("1.2"), ONE), (d("0.31"), 0), "x")
    fill = filled(led.on_signal(signal(5), (garbage, POLY), fees()))  # type: ignore[arg-type]
    assert fill.size == 5 * ONE
    assert led.stats.rejected_levels == 4
    assert led.on_signal(signal(5), (KALSHI,), fees()) is None
    assert led.stats.rejected == 1


def test_a_venue_without_settlement_rules_or_fees_is_refused_with_a_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Event covers are accepted (tests/paper/test_paper_settlement.py); a leg on a venue
    the ledger cannot settle or price is counted and logged as rejected, never guessed."""
    led, _, _ = ledger()
    other_venue = attrs.evolve(
        signal(5), legs=(attrs.evolve(signal(5).legs[0], venue="betfair"), signal(5).legs[1])
    )
    with caplog.at_level("WARNING"):
        assert led.on_signal(other_venue, BOOKS, fees()) is None
    assert (led.stats.rejected, led.stats.fills) == (1, 0)
    assert led.positions == {}
    assert "no settlement rules for venue 'betfair'" in caplog.text
    # Polymarket US has settlement rules; a game whose terms do not price it is refused.
    us = attrs.evolve(
        signal(5), legs=(attrs.evolve(signal(5).legs[0], venue="polymarket-us"), signal(5).legs[1])
    )
    unpriced = {venue: t for venue, t in fees().items() if venue != "polymarket-us"}
    with caplog.at_level("WARNING"):
        assert led.on_signal(us, BOOKS, unpriced) is None
    assert (led.stats.rejected, led.stats.fills) == (2, 0)
    assert "no fee terms for venue 'polymarket-us'" in caplog.text


def test_a_polymarket_us_leg_is_priced_by_its_terms_filled_and_settled() -> None:
    """Polymarket US's fee (the higher of 30 bps of the notional and 0.05 x C x p x (1-p),
    rounded up to the cent) from the game's terms, like any other venue's."""
    led, _, _ = ledger()
    sig = signal(10)
    us = attrs.evolve(sig, legs=(attrs.evolve(sig.legs[0], venue="polymarket-us"), sig.legs[1]))
    books = (ladder(("0.40", 50)), ladder(("0.55", 50)))
    fill = filled(led.on_signal(us, books, fees()))
    # US: 10 x 0.40 = 4.00; fee max(0.0030 x 4.00 = 0.012, 0.05 x 10 x 0.4 x 0.6 = 0.12) = 0.12.
    # Polymarket: 10 x 0.55 = 5.50; fee 10 x 0.05 x 0.55 x 0.45 = 0.12375.
    assert [(leg.venue, leg.notional, leg.fee) for leg in fill.legs] == [
        ("polymarket-us", d("4.00"), d("0.12")),
        ("polymarket", d("5.50"), d("0.12375")),
    ]
    assert fill.pnl == d("10") - d("9.50") - d("0.24375")
    position = led.positions[fill.key]
    # cancelled: both venues pay 50-50; postponed: both keep it open (worst played: $10)
    assert led.scenarios(position)["cancelled"] == d("10")
    assert led.settle_game("g1", Ruling("cancelled")) == d("0.25625")
    assert led.realized_pnl() == d("0.25625")


def test_size_cut_that_loses_after_fees_is_not_taken() -> None:
    led, _, _ = ledger(limits=RiskLimits(max_contracts_per_pair=ONE))
    # 1 contract: 0.49 + 0.50 = 0.99, plus a 2c Kalshi fee (rounded up) -> a loss.
    books = (ladder(("0.49", 100)), ladder(("0.50", 100)))
    assert led.on_signal(signal(100), books, fees(poly_rate="0")) is None
    assert led.stats.unprofitable == 1


def test_latency_fills_on_the_later_books_and_reports_slippage() -> None:
    led, clock, _ = ledger(latency_ns=250 * MS)
    pending = led.on_signal(signal(13), BOOKS, fees())
    assert isinstance(pending, PendingFill)
    assert pending.due_ns == clock.now + 250 * MS
    assert pending.limits == (d("0.5"), d("0.48"))
    assert led.stats.pending == 1
    assert led.reserved() == d("10.95172")  # held against the limits while in flight
    clock.now += 250 * MS
    later_kalshi = ladder(("0.30", 5), ("0.50", 20))  # the cheap level shrank
    fill = filled(led.complete(pending, (later_kalshi, POLY)))
    assert fill.latency_ns == 250 * MS
    assert fill.size == 13 * ONE
    k, p = fill.legs
    # 5 @ 0.30 + 8 @ 0.50 = 5.50; fee 0.07 x (1.05 + 2.00) = 0.2135 -> 0.22.
    assert (k.notional, k.fee) == (d("5.5"), d("0.22"))
    assert k.slippage == d("5.72") - d("4.70")
    assert p.slippage == 0
    assert fill.slippage == d("1.02")
    assert fill.pnl == d("2.04828") - d("1.02")
    assert led.reserved() == 0
    assert led.stats.pending == 0
    assert led.positions[fill.key].slippage == d("1.02")


def test_latency_limit_price_cuts_both_legs_to_what_both_got() -> None:
    led, clock, _ = ledger(latency_ns=100 * MS)
    pending = led.on_signal(signal(13), BOOKS, fees())
    assert isinstance(pending, PendingFill)
    clock.now += 100 * MS
    moved = ladder(("0.30", 5), ("0.55", 20))  # above the 0.50 limit
    fill = filled(led.complete(pending, (moved, POLY)))
    assert fill.size == 5 * ONE
    assert [leg.size for leg in fill.legs] == [5 * ONE, 5 * ONE]
    assert fill.reduced


def test_one_legged_fill_is_leg_risk_and_settles_on_the_winner() -> None:
    led, clock, _ = ledger(latency_ns=100 * MS)
    pending = led.on_signal(signal(13), BOOKS, fees())
    assert isinstance(pending, PendingFill)
    clock.now += 100 * MS
    fill = filled(led.complete(pending, (ladder(("0.60", 50)), POLY)))
    assert fill.leg_risk
    assert fill.size == 0
    assert [leg.size for leg in fill.legs] == [0, 13 * ONE]
    assert fill.pnl == -(d("6.09") + d("0.16172"))  # the naked leg is marked at 0
    assert led.stats.leg_risk == 1
    position = led.positions[fill.key]
    assert position.naked == [0, 13 * ONE]
    assert position.mark_pnl == -d("6.25172")
    # The Polymarket leg is SAS's token: it pays when OKC (the pair's team) loses.
    assert led.settle("g1", "NBA:SAS") == 13 * ONE - d("6.25172")
    assert position.settled
    assert position.pnl == d("6.74828")


def test_leg_risk_loses_everything_when_the_other_side_wins() -> None:
    led, clock, _ = ledger(latency_ns=1)
    pending = led.on_signal(signal(13), BOOKS, fees())
    assert isinstance(pending, PendingFill)
    clock.now += 1
    filled(led.complete(pending, (ladder(("0.60", 50)), POLY)))
    assert led.settle("g1", "NBA:OKC") == -d("6.25172")


def test_settle_makes_the_hedged_pnl_realized_whoever_wins() -> None:
    for winner in ("NBA:OKC", "NBA:SAS"):
        led, _, _ = ledger()
        filled(led.on_signal(signal(13), BOOKS, fees()))
        filled(led.on_signal(signal(13, combo="PolyYes+KalshiNo", serial=2), BOOKS, fees()))
        assert led.settle("g1", winner) == 2 * d("2.04828")
        assert led.exposure() == 0
        assert led.pnl() == 2 * d("2.04828")
        summary = led.summary()
        assert summary["totals"]["realized_pnl"] == "4.09656"
        assert summary["totals"]["mark_pnl"] == "0"
        # a settled game takes no more fills, and settles once
        assert led.on_signal(signal(13, serial=3), BOOKS, fees()) is None
        assert led.settle("g1", winner) == 0


def test_max_contracts_per_pair_cuts_then_mutes_and_alerts_once() -> None:
    led, _, alerts = ledger(limits=RiskLimits(max_contracts_per_pair=20 * ONE))
    assert filled(led.on_signal(signal(13), BOOKS, fees())).size == 13 * ONE
    second = filled(led.on_signal(signal(13, event="update"), BOOKS, fees()))
    assert second.size == 7 * ONE
    assert second.reduced
    assert led.on_signal(signal(13, event="update"), BOOKS, fees()) is None
    assert led.on_signal(signal(13, event="update"), BOOKS, fees()) is None
    assert led.stats.muted_pair_contracts == 2
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.type == PAPER_RISK_LIMIT
    assert alert.details["limit"] == "max_contracts_per_pair"
    assert alert.details["scope"] == "g1 NBA:OKC KalshiYes+PolyNo"
    assert alert.details["value"] == "20"
    # another pair is not muted
    other = signal(13, combo="PolyYes+KalshiNo", serial=9)
    assert filled(led.on_signal(other, BOOKS, fees())).size == 13 * ONE


def test_max_exposure_cuts_to_the_room_then_mutes() -> None:
    led, _, alerts = ledger(limits=RiskLimits(max_exposure=d("15")))
    filled(led.on_signal(signal(13), BOOKS, fees()))  # 10.95172 tied up
    # Room 4.04828: 5 contracts cost 1.50 + 2.25 + fees 0.08 + 0.06188 = 3.89188;
    # 6 would cost 4.53 before fees.
    second = filled(led.on_signal(signal(13, serial=2), BOOKS, fees()))
    assert second.size == 5 * ONE
    assert led.exposure() == d("10.95172") + d("3.89188")
    assert led.on_signal(signal(13, serial=3), BOOKS, fees()) is None
    assert led.stats.muted_exposure == 1
    assert [a.details["limit"] for a in alerts] == ["max_exposure"]
    assert led.exposure() <= d("15")
    # settlement frees the exposure: signals of other games fill again
    led.settle("g1", "NBA:OKC")
    assert filled(led.on_signal(signal(13, game_id="g2"), BOOKS, fees())).size == 13 * ONE


def test_in_flight_orders_count_against_the_limits() -> None:
    led, _, _ = ledger(latency_ns=MS, limits=RiskLimits(max_contracts_per_pair=20 * ONE))
    assert isinstance(led.on_signal(signal(13), BOOKS, fees()), PendingFill)
    second = led.on_signal(signal(13, serial=2), BOOKS, fees())
    assert isinstance(second, PendingFill)
    assert second.size == 7 * ONE
    assert led.on_signal(signal(13, serial=3), BOOKS, fees()) is None
    assert led.stats.muted_pair_contracts == 1


def test_daily_loss_stop_mutes_until_utc_midnight() -> None:
    led, clock, alerts = ledger(latency_ns=MS, limits=RiskLimits(daily_loss_stop=d("5")))
    pending = led.on_signal(signal(13), BOOKS, fees())
    assert isinstance(pending, PendingFill)
    clock.now += MS
    filled(led.complete(pending, (ladder(("0.60", 50)), POLY)))  # leg risk: -6.25172
    assert led.daily_pnl == -d("6.25172")
    assert led.daily_stopped
    assert [(a.details["limit"], a.severity) for a in alerts] == [("daily_loss_stop", "critical")]
    assert led.on_signal(signal(13, game_id="g2"), BOOKS, fees()) is None
    assert led.on_signal(signal(13, game_id="g3"), BOOKS, fees()) is None
    assert led.stats.muted_daily_loss == 2
    assert len(alerts) == 1
    # one ns before midnight: still stopped; at midnight UTC: a new day
    clock.now = (clock.now // DAY + 1) * DAY - 1
    assert led.on_signal(signal(13, game_id="g4"), BOOKS, fees()) is None
    clock.now += 1
    assert not led.daily_stopped
    assert led.daily_pnl == 0
    assert isinstance(led.on_signal(signal(13, game_id="g5"), BOOKS, fees()), PendingFill)
    assert led.stats.muted_daily_loss == 3


def test_limits_reject_floats_and_negatives() -> None:
    from arbees.errors import ConfigError

    with pytest.raises(ConfigError):
        RiskLimits(max_exposure=1.5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        RiskLimits(daily_loss_stop=-1)
    with pytest.raises(ConfigError):
        RiskLimits(max_contracts_per_pair=Decimal(3))  # type: ignore[arg-type]


def _no_floats(value: object, path: str = "") -> None:
    assert not isinstance(value, float), path
    if isinstance(value, dict):
        for k, v in value.items():
            _no_floats(v, f"{path}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _no_floats(v, f"{path}[{i}]")


def test_summary_is_json_ready_with_exact_strings_and_no_floats() -> None:
    led, clock, _ = ledger(latency_ns=5 * MS, limits=RiskLimits(max_exposure=d("100")))
    pending = led.on_signal(signal(13), BOOKS, fees())
    assert isinstance(pending, PendingFill)
    clock.now += 5 * MS
    fill = filled(led.complete(pending, (ladder(("0.30", 5), ("0.50", 20)), POLY)))
    for field in attrs.fields(PaperFill):
        _no_floats(getattr(fill, field.name), field.name)
    for leg in fill.legs:
        for field in attrs.fields(LegFill):
            assert type(getattr(leg, field.name)) in (int, str), field.name
    for position in led.positions.values():
        for field in attrs.fields(Position):
            _no_floats(getattr(position, field.name), field.name)
    summary = led.summary()
    _no_floats(summary)
    assert json.loads(json.dumps(summary)) == summary
    assert summary["totals"]["pnl"] == "1.02828"
    assert summary["totals"]["slippage"] == "1.02"
    assert summary["limits"]["max_exposure"] == "100"
    assert summary["latency_ms"] == "5"
    assert summary["positions"][0]["contracts"] == "13"
    line = led.summary_line()
    assert "pnl 1.02828" in line
    assert "fills 1" in line


def test_cut_below_the_polymarket_minimum_order_is_not_taken() -> None:
    led, _, _ = ledger(limits=RiskLimits(max_contracts_per_pair=4 * ONE))
    assert led.on_signal(signal(13), BOOKS, fees(min_order=5 * ONE)) is None
    assert led.stats.below_min_size == 1
    assert filled(led.on_signal(signal(13), BOOKS, fees(min_order=4 * ONE))).size == 4 * ONE


def test_a_failing_alert_callback_never_breaks_the_ledger(caplog: pytest.LogCaptureFixture) -> None:
    def broken(alert: SystemAlert) -> None:
        raise RuntimeError("reporter down")

    led = PaperLedger(RiskLimits(max_contracts_per_pair=0), clock=Clock(), on_alert=broken)
    assert led.on_signal(signal(13), BOOKS, fees()) is None
    assert led.stats.muted_pair_contracts == 1
    assert led.stats.alerts == 1
    assert "alert callback failed" in caplog.text
