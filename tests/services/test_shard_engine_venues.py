"""A third venue on the shard engine needs no shard code: its fee terms in the assignment
(a fee kind the fee models implement) and its instrument check are all the shard reads.

The venue here is a made-up ``exchange3`` (the registry's real third venue lands with its
own package); its check is added beside the registry's own (``venues.instrument_checks``),
which is exactly what the wiring hands the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import attrs
import pytest

from arbees import venues
from arbees.book import Level
from arbees.fees import kalshi_fee, polymarket_fee
from arbees.messages import EventContract, FeeTerms, MarketAssignment
from arbees.money import ONE, Fixed, parse_fixed
from arbees.services.quotes import Quote
from arbees.services.shard_engine import ShardEngine

SEC = 1_000_000_000
NOW = 1_000 * SEC
THIRD = "exchange3"
K_TICKER = "KXNBAGAME-26OCT20OKCSAS-OKC"
P_TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
X_MARKET = "X3-OKC-SAS"


def x3_accepts(instrument: str) -> bool:
    return instrument.startswith("X3-")


def checks() -> dict[str, Callable[[str], bool]]:
    return {**venues.instrument_checks(), THIRD: x3_accepts}


def p(text: str) -> Fixed:
    return parse_fixed(text)


def binary_event(third: FeeTerms | None) -> MarketAssignment:
    """OKC wins or not, each venue's market on both sides (6 contracts, 3 venues)."""
    markets = (("kalshi", K_TICKER), ("polymarket", P_TOKEN), (THIRD, X_MARKET))
    fees = (
        FeeTerms("kalshi", "kalshi"),
        FeeTerms("polymarket", "polymarket", rate="0.05", min_order_size=5 * ONE),
    )
    return MarketAssignment(
        platform="kalshi", market_id="KXNBAGAME-26OCT20OKCSAS", token_id="", shard_id="s1",
        sport="NBA", game_id="b3", epoch=1, outcomes=("okc", "sas"),
        contracts=tuple(
            EventContract(venue, instrument, "okc", side)
            for venue, instrument in markets
            for side in ("yes", "no")
        ),
        fees=fees + ((third,) if third else ()),
    )  # fmt: skip


def quotes(third_size: int = 100) -> list[Quote]:
    """One cover only is below $1: exchange3 YES okc 0.42 + Polymarket NO okc 0.50."""

    def q(venue: str, instrument: str, yes: str, no: str, size: int = 100) -> Quote:
        return Quote(
            venue, instrument, (Level(p(yes), size * ONE),), (Level(p(no), size * ONE),),
            stale=False, received_ns=NOW,
        )  # fmt: skip

    return [
        q("kalshi", K_TICKER, "0.52", "0.60"),
        q("polymarket", P_TOKEN, "0.53", "0.50"),
        q(THIRD, X_MARKET, "0.42", "0.62", size=third_size),
    ]


X3_KINDS = [
    (
        FeeTerms(THIRD, "polymarket", rate="0.02", min_order_size=5 * ONE),
        polymarket_fee(p("0.42"), 100 * ONE, rate=Decimal("0.02")),
    ),
    (
        FeeTerms(THIRD, "kalshi", multiplier="0.5"),
        kalshi_fee(p("0.42"), 100 * ONE, multiplier=Decimal("0.5")),
    ),
    (FeeTerms(THIRD, "none"), 0),
    # Polymarket US's default: the higher of 30 bps of notional ($0.126) and
    # 0.05 x 100 x 0.42 x 0.58 ($1.218) per fill, rounded up to the cent.
    (FeeTerms(THIRD, "polymarket-us", rate="0.05"), p("1.22")),
    (FeeTerms(THIRD, "polymarket-us", schedule="notional"), p("0.13")),
]


@pytest.mark.parametrize(("terms", "x3_fee"), X3_KINDS, ids=lambda v: getattr(v, "kind", ""))
def test_a_three_venue_binary_event_signals_with_the_third_venues_own_fee_terms(
    terms: FeeTerms, x3_fee: Fixed
) -> None:
    eng = ShardEngine("s1", clock=lambda: NOW, instrument_checks=checks())
    delta = eng.apply(binary_event(terms))
    assert delta.rejected == ""
    assert delta.add[THIRD] == (X_MARKET,)
    assert eng.events["b3"].kernel_fees is not None  # the kernel scans it, whatever the kind
    (signal,) = eng.on_quotes(quotes())
    assert eng.stats.kernel_flagged == 1
    legs = {(leg.venue, leg.side): leg for leg in signal.legs}
    assert set(legs) == {(THIRD, "yes"), ("polymarket", "no")}
    poly_fee = polymarket_fee(p("0.50"), 100 * ONE, rate=Decimal("0.05"))
    assert legs[THIRD, "yes"].fee == x3_fee
    assert legs["polymarket", "no"].fee == poly_fee
    assert signal.size == 100 * ONE
    assert signal.fees == x3_fee + poly_fee
    assert signal.profit == 100 * ONE - 100 * p("0.42") - 100 * p("0.50") - x3_fee - poly_fee


def test_the_third_venues_min_order_size_is_its_own() -> None:
    eng = ShardEngine("s1", clock=lambda: NOW, instrument_checks=checks())
    eng.apply(binary_event(FeeTerms(THIRD, "polymarket", rate="0.02", min_order_size=5 * ONE)))
    assert eng.on_quotes(quotes(third_size=3)) == []  # 3 on offer, 5 the least it takes
    assert eng.on_quotes(quotes(third_size=5))[0].size == 5 * ONE


@pytest.mark.parametrize(
    ("third", "instrument_checks", "why"),
    [
        (None, checks(), f"no fee terms for venue '{THIRD}'"),
        (
            FeeTerms(THIRD, "none"),
            venues.instrument_checks(),
            f"no instrument check for venue '{THIRD}'",
        ),
    ],
    ids=["no fee terms", "no instrument check"],
)
def test_a_third_venue_without_its_terms_or_check_is_a_counted_refusal(
    third: FeeTerms | None, instrument_checks: dict[str, Callable[[str], bool]], why: str
) -> None:
    eng = ShardEngine("s1", clock=lambda: NOW, instrument_checks=instrument_checks)
    delta = eng.apply(binary_event(third))
    assert delta.rejected == why
    assert eng.stats.rejected_assignments == 1
    assert eng.game_ids() == []
    assert eng.on_quotes(quotes()) == []


def test_a_refused_third_venue_instrument_refuses_the_assignment() -> None:
    eng = ShardEngine("s1", clock=lambda: NOW, instrument_checks=checks())
    a = binary_event(FeeTerms(THIRD, "none"))
    bad = tuple(
        EventContract(c.venue, "Y3-OKC", c.outcome, c.side) if c.venue == THIRD else c
        for c in a.contracts
    )
    delta = eng.apply(attrs.evolve(a, contracts=bad))
    assert delta.rejected == f"not a {THIRD} instrument: 'Y3-OKC'"
    assert eng.stats.rejected_assignments == 1
