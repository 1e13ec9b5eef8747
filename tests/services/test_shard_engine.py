"""The shard's decision core: correct legs, sizes and profit; no spam; never stale."""

from __future__ import annotations

from decimal import Decimal

import attrs

from arbees.book import Level
from arbees.fees import kalshi_fee, polymarket_fee
from arbees.messages import ArbSignal, MarketAssignment, TeamLeg
from arbees.money import ONE, parse_fixed
from arbees.services.quotes import Quote
from arbees.services.shard_engine import ShardEngine
from tests.fee_terms import with_pair_terms

SEC = 1_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = 1_000 * SEC

    def __call__(self) -> int:
        return self.now


def p(text: str) -> int:
    return parse_fixed(text)


def assignment(**kw: object) -> MarketAssignment:
    fields: dict[str, object] = {
        "platform": "kalshi",
        "market_id": "KXNBAGAME-26OCT20OKCSAS",
        "token_id": "",
        "shard_id": "s1",
        "sport": "NBA",
        "game_id": "g1",
        "teams": (
            TeamLeg("NBA:OKC", "KXNBAGAME-26OCT20OKCSAS-OKC", "111"),
            TeamLeg("NBA:SAS", "KXNBAGAME-26OCT20OKCSAS-SAS", "222"),
        ),
        "poly_fee_rate": "0.05",
        "epoch": 1,
    }
    fields.update(kw)
    return MarketAssignment(**with_pair_terms(fields))


def kq(clock: Clock, yes: str | None, no: str | None, size: int = 100, **kw: object) -> Quote:
    return Quote(
        venue="kalshi",
        instrument="KXNBAGAME-26OCT20OKCSAS-OKC",
        yes_asks=(Level(p(yes), size * ONE),) if yes else (),
        no_asks=(Level(p(no), size * ONE),) if no else (),
        stale=bool(kw.get("stale", False)),
        received_ns=clock.now,
    )


def pq(clock: Clock, yes: str | None, no: str | None, size: int = 100, **kw: object) -> Quote:
    return Quote(
        venue="polymarket",
        instrument="111",
        yes_asks=(Level(p(yes), size * ONE),) if yes else (),
        no_asks=(Level(p(no), size * ONE),) if no else (),
        stale=bool(kw.get("stale", False)),
        received_ns=clock.now,
        monitor_recv_ns=clock.now - 5,
        bus_recv_ns=clock.now,
    )


def engine() -> tuple[ShardEngine, Clock]:
    clock = Clock()
    eng = ShardEngine("s1", max_age_ns=2 * SEC, clock=clock)
    delta = eng.apply(assignment())
    assert set(delta.add.get("kalshi", ())) == {
        "KXNBAGAME-26OCT20OKCSAS-OKC",
        "KXNBAGAME-26OCT20OKCSAS-SAS",
    }
    assert set(delta.add.get("polymarket", ())) == {"111", "222"}
    return eng, clock


def test_profitable_cross_venue_book_opens_one_signal_with_exact_legs() -> None:
    eng, clock = engine()
    assert eng.on_quote(kq(clock, "0.40", "0.62")) == []
    signals = eng.on_quote(pq(clock, "0.52", "0.50"))
    assert len(signals) == 1
    sig = signals[0]
    assert sig.event == "open"
    assert sig.combo == "KalshiYes+PolyNo"
    assert sig.team == "NBA:OKC"
    k_leg, p_leg = sig.legs
    assert (k_leg.venue, k_leg.instrument, k_leg.side) == (
        "kalshi",
        "KXNBAGAME-26OCT20OKCSAS-OKC",
        "yes",
    )
    # Polymarket NO of OKC's token is SAS's token: the signal names the token to buy.
    assert (p_leg.venue, p_leg.instrument, p_leg.side) == ("polymarket", "222", "yes")
    # Each leg names the outcome its instrument is about: OKC's market, SAS's token.
    assert (k_leg.outcome, p_leg.outcome) == ("NBA:OKC", "NBA:SAS")
    size = 100 * ONE
    k_fee = kalshi_fee(p("0.40"), size)
    p_fee = polymarket_fee(p("0.50"), size, rate=Decimal("0.05"))
    assert k_fee == p("1.68")
    assert p_fee == p("1.25")
    assert sig.size == size
    assert sig.fees == k_fee + p_fee
    assert sig.cost == p("90") + k_fee + p_fee
    assert sig.profit == 100 * ONE - sig.cost
    assert sig.monitor_recv_ns == clock.now - 5


def test_same_book_again_does_not_spam_and_material_change_updates() -> None:
    eng, clock = engine()
    eng.on_quote(kq(clock, "0.40", "0.62"))
    assert len(eng.on_quote(pq(clock, "0.52", "0.50"))) == 1
    assert eng.on_quote(pq(clock, "0.52", "0.50")) == []
    assert eng.on_quote(kq(clock, "0.40", "0.62")) == []
    # (0.52 + 0.47 = 0.99 on Polymarket alone is not an arb after its fees.)
    (update,) = eng.on_quote(pq(clock, "0.52", "0.47"))
    assert update.event == "update"
    (close,) = eng.on_quote(pq(clock, "0.52", "0.61"))
    assert close.event == "close"
    assert close.signal_id == update.signal_id
    assert eng.open_signals() == []


def test_fees_turn_a_raw_arb_into_no_signal() -> None:
    """0.47 + 0.52 = 0.99 < $1 before fees, but fees on both legs exceed the cent."""
    eng, clock = engine()
    eng.on_quote(kq(clock, "0.47", "0.60"))
    assert eng.on_quote(pq(clock, "0.60", "0.52")) == []


def test_missing_prices_never_signal() -> None:
    eng, clock = engine()
    eng.on_quote(kq(clock, "0.40", None))
    assert eng.on_quote(pq(clock, None, None)) == []
    eng.on_quote(kq(clock, None, None))
    # Only Polymarket's own YES+NO can trade when Kalshi has no asks at all.
    signals = eng.on_quote(pq(clock, "0.30", "0.30"))
    assert [s.combo for s in signals] == ["PolyOnly"]


def test_stale_side_closes_and_suppresses_until_fresh() -> None:
    eng, clock = engine()
    eng.on_quote(kq(clock, "0.40", "0.62"))
    (opened,) = eng.on_quote(pq(clock, "0.52", "0.50"))
    (closed,) = eng.on_quote(kq(clock, "0.40", "0.62", stale=True))
    assert closed.event == "close"
    assert closed.signal_id == opened.signal_id
    assert eng.on_quote(pq(clock, "0.52", "0.49")) == []
    (reopened,) = eng.on_quote(kq(clock, "0.40", "0.62"))
    assert reopened.event == "open"
    assert reopened.signal_id != opened.signal_id


def test_old_prices_are_not_used_unless_the_source_confirms_liveness() -> None:
    eng, clock = engine()
    eng.on_quote(kq(clock, "0.40", "0.62"))
    clock.now += 3 * SEC  # the Kalshi quote is now 3 s old, max age is 2 s
    assert eng.on_quote(pq(clock, "0.52", "0.50")) == []
    # e.g. an answer on the ordered socket proving the stream is complete
    assert [s.event for s in eng.set_alive("kalshi", clock.now)] == ["open"]
    clock.now += 3 * SEC
    closes = eng.sweep()
    assert [s.event for s in closes] == ["close"]


def test_assignments_for_other_shards_and_old_epochs_are_ignored() -> None:
    eng, clock = engine()
    eng.on_quote(kq(clock, "0.40", "0.62"))
    eng.on_quote(pq(clock, "0.52", "0.50"))
    assert eng.apply(assignment(game_id="g2", shard_id="s2")).add.get("kalshi", ()) == ()
    assert "g2" not in eng.games
    assert eng.apply(assignment(epoch=0, action="unassign")).remove.get("kalshi", ()) == ()
    assert "g1" in eng.games


def test_unassign_closes_open_signals_and_releases_instruments() -> None:
    eng, clock = engine()
    eng.on_quote(kq(clock, "0.40", "0.62"))
    eng.on_quote(pq(clock, "0.52", "0.50"))
    delta = eng.apply(assignment(action="unassign", epoch=2))
    assert [s.event for s in delta.signals] == ["close"]
    assert set(delta.remove.get("polymarket", ())) == {"111", "222"}
    assert eng.games == {}
    assert eng.on_quote(pq(clock, "0.52", "0.50")) == []


def test_moved_game_is_dropped_by_its_old_owner() -> None:
    eng, _clock = engine()
    delta = eng.apply(assignment(shard_id="s2", epoch=2))
    assert set(delta.remove.get("kalshi", ())) == {
        "KXNBAGAME-26OCT20OKCSAS-OKC",
        "KXNBAGAME-26OCT20OKCSAS-SAS",
    }


def test_signals_round_trip_the_codec() -> None:
    from arbees import codec

    eng, clock = engine()
    eng.on_quote(kq(clock, "0.40", "0.62"))
    (sig,) = eng.on_quote(pq(clock, "0.52", "0.50"))
    assert codec.decode(codec.encode(sig), ArbSignal) == sig


def test_unhealthy_source_closes_signals_until_healthy_again() -> None:
    eng, clock = engine()
    eng.on_quote(kq(clock, "0.40", "0.62"))
    eng.on_quote(pq(clock, "0.52", "0.50"))
    closes = eng.set_alive("polymarket", clock.now, healthy=False)
    assert [s.event for s in closes] == ["close"]
    assert eng.on_quote(pq(clock, "0.52", "0.50")) == []
    # Coming back re-evaluates the held-back pair: no new quote is needed.
    assert [s.event for s in eng.set_alive("polymarket", clock.now, healthy=True)] == ["open"]


def test_kernel_scans_each_batch_and_walks_depth_only_where_it_flags() -> None:
    eng, clock = engine()
    # no arbitrage: scanned, not flagged, no exact walk
    assert eng.on_quotes([kq(clock, "0.47", "0.60"), pq(clock, "0.60", "0.52")]) == []
    assert (eng.stats.kernel_batches, eng.stats.kernel_scanned) == (1, 1)
    assert (eng.stats.kernel_flagged, eng.stats.evaluations) == (0, 0)
    # one batch, two instruments of the same pair: one scan of that pair, one signal
    (opened,) = eng.on_quotes([kq(clock, "0.40", "0.62"), pq(clock, "0.52", "0.50")])
    assert opened.event == "open"
    assert (eng.stats.kernel_batches, eng.stats.kernel_scanned) == (2, 2)
    assert (eng.stats.kernel_flagged, eng.stats.evaluations) == (1, 1)
    # the edge vanishes: the kernel does not flag the pair, but its open signal closes
    (closed,) = eng.on_quote(pq(clock, "0.90", "0.90"))
    assert (closed.event, closed.signal_id) == ("close", opened.signal_id)
    assert (eng.stats.kernel_flagged, eng.stats.evaluations) == (1, 2)
    # a quote of an instrument nobody watches is counted, not scanned
    assert eng.on_quotes([attrs.evolve(pq(clock, "0.1", "0.1"), instrument="999")]) == []
    assert (eng.stats.quotes, eng.stats.kernel_batches) == (6, 3)


def test_stale_side_is_held_back_even_when_the_kernel_skips_it() -> None:
    eng, clock = engine()
    eng.on_quote(kq(clock, "0.40", "0.62"))
    clock.now += 3 * SEC  # the Kalshi quote is no longer confirmed live
    assert eng.on_quote(pq(clock, "0.52", "0.50")) == []
    assert eng.stats.suppressed_stale == 1
    eng.set_alive("kalshi", clock.now)  # a quiet book confirmed: the held pair is retried
    assert eng.stats.opened == 1


def test_unsupported_fee_schedule_is_walked_exactly() -> None:
    clock = Clock()
    eng = ShardEngine("s1", max_age_ns=2 * SEC, clock=clock)
    eng.apply(assignment(poly_fee_exponent=2))  # beyond the kernel: never skipped
    eng.on_quote(kq(clock, "0.47", "0.60"))
    assert eng.on_quote(pq(clock, "0.60", "0.52")) == []
    assert (eng.stats.kernel_flagged, eng.stats.evaluations) == (0, 2)
