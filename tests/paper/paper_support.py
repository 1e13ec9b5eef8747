"""Shared builders for the paper ledger tests: a clock, fee models, books and signals."""

from __future__ import annotations

from decimal import Decimal

from arbees.arb import VenueTerms
from arbees.book import Level
from arbees.fees import KalshiFeeModel, PolymarketFeeModel, PolymarketUsFeeModel
from arbees.messages import ArbSignal, SignalLeg
from arbees.money import ONE, parse_fixed

MS = 1_000_000
DAY = 86_400 * 1_000_000_000
K_OKC = "KXNBAGAME-26OCT20OKCSAS-OKC"
P_OKC = "111"
P_SAS = "222"


class Clock:
    """Wall clock in ns, set by hand (starts at 2026-10-20 12:00 UTC)."""

    def __init__(self, now: int = 20_381 * DAY + DAY // 2) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def d(text: str) -> int:
    return parse_fixed(text)


def ladder(*levels: tuple[str, int]) -> tuple[Level, ...]:
    """``ladder(("0.30", 10), ...)``: prices as decimal strings, sizes in contracts."""
    return tuple(Level(d(price), size * ONE) for price, size in levels)


def fees(
    poly_rate: str = "0.05", multiplier: str = "1", min_order: int | None = None
) -> dict[str, VenueTerms]:
    """Fee terms by venue id, as a shard's engine gives them to the ledger (Polymarket US
    at its default "higher" schedule: 30 bps or 0.05 x p x (1 - p), per fill)."""
    return {
        "kalshi": VenueTerms(KalshiFeeModel(multiplier=Decimal(multiplier))),
        "polymarket": VenueTerms(
            PolymarketFeeModel(rate=Decimal(poly_rate), min_order_size=min_order),
            min_order_size=min_order or 0,
        ),
        "polymarket-us": VenueTerms(PolymarketUsFeeModel(), min_order_size=ONE // 100),
    }


def signal(
    size: int = 13,
    *,
    event: str = "open",
    game_id: str = "g1",
    team: str = "NBA:OKC",
    combo: str = "KalshiYes+PolyNo",
    serial: int = 1,
) -> ArbSignal:
    """A KalshiYes+PolyNo signal: YES of OKC on Kalshi, SAS's token on Polymarket.

    Only ``size`` and the legs' identities matter to the ledger (it re-walks the books).
    """
    legs = (
        SignalLeg("kalshi", K_OKC, "yes", d("0.4"), d("0.5"), size * ONE, 0),
        SignalLeg("polymarket", P_SAS, "yes", d("0.47"), d("0.48"), size * ONE, 0),
    )
    return ArbSignal(
        signal_id=f"s1:{game_id}:{team}:{combo}:{serial}",
        event=event,
        shard_id="s1",
        game_id=game_id,
        combo=combo,
        team=team,
        legs=legs,
        size=size * ONE,
        cost=0,
        fees=0,
        profit=0,
        edge=0,
        timestamp_ms=0,
    )
