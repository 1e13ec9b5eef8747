"""Sample bus messages shared by the bus suites: one of every type, price updates by seq."""

from __future__ import annotations

from arbees.book import Level
from arbees.messages import (
    ArbSignal,
    FeeTerms,
    GameState,
    MarketAssignment,
    Message,
    PolymarketPriceUpdate,
    ShardHeartbeat,
    SignalLeg,
    SystemAlert,
    TeamLeg,
    VenueQuote,
)

__all__ = ["MARKET", "TOKEN", "every_message", "price_update"]

MARKET = "0x" + "ab" * 32
TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"


def price_update(seq: int = 1, *, token: str = TOKEN) -> PolymarketPriceUpdate:
    return PolymarketPriceUpdate(
        market_id=MARKET,
        token_id=token,
        yes_bid=430_000,
        yes_ask=440_000,
        no_bid=560_000,
        no_ask=570_000,
        liquidity=1_250_500_000,
        timestamp_ms=1_700_000_000_000 + seq,
        yes_bid_size=100_000_000,
        yes_ask_size=50_000_000,
        yes_asks=(Level(440_000, 50_000_000), Level(450_000, 10_000_000)),
        no_asks=(Level(570_000, 100_000_000),),
        venue_ts_ms=1_700_000_000_000,
        seq=seq,
    )


def every_message() -> list[Message]:
    """One of each top-level message type, with nested and optional fields filled in."""
    leg = SignalLeg(
        venue="kalshi",
        instrument="KXNBAGAME-25JAN01OKCDEN-OKC",
        side="no",
        price=550_000,
        worst_price=560_000,
        size=10_000_000,
        fee=120_000,
    )
    return [
        price_update(),
        MarketAssignment(
            platform="kalshi",
            market_id="KXNBAGAME-25JAN01OKCDEN",
            token_id="",
            shard_id="shard-1",
            sport="NBA",
            game_id="nba:okc-den:2025-01-01",
            teams=(TeamLeg(team="NBA:OKC", kalshi_ticker="KX-OKC", poly_token=TOKEN),),
            fees=(
                FeeTerms("kalshi", "kalshi", multiplier="1.5"),
                FeeTerms("polymarket", "polymarket", rate="0.03", min_order_size=5_000_000),
                FeeTerms("exchange", "none", min_order_size=2_000_000),
            ),
            start_time_ms=1_700_000_000_000,
            epoch=3,
        ),
        SystemAlert(
            type="TEST",
            service="tests",
            error="hello",
            timestamp=1,
            severity="critical",
            details={"country": "GB", "n": "3"},
        ),
        ArbSignal(
            signal_id="sig-1",
            event="open",
            shard_id="shard-1",
            game_id="nba:okc-den:2025-01-01",
            combo="PolyYes+KalshiNo",
            team="NBA:OKC",
            legs=(leg, leg),
            size=10_000_000,
            cost=9_870_000,
            fees=240_000,
            profit=130_000,
            edge=13_000,
            timestamp_ms=1_700_000_000_001,
            venue_ts_ms=None,
        ),
        ShardHeartbeat(shard_id="shard-1", timestamp_ms=5, games=("g1", "g2"), capacity=4),
        GameState(
            venue="polymarket",
            key="nba-okc-den-2025-01-01",
            phase="live",
            timestamp_ms=1_700_000_000_002,
            score="54-50",
            period="Q3",
            elapsed="5:18",
            status="InProgress",
        ),
        VenueQuote(
            venue="polymarket-us",
            instrument="aec-nba-okc-den-2025-01-01",
            timestamp_ms=1_700_000_000_003,
            bids=(Level(430_000, 100_000_000), Level(420_000, 5_500_000)),
            asks=(Level(440_000, 50_000_000),),
            venue_ts_ms=1_700_000_000_000,
            monitor_recv_ns=1_700_000_000_001_000_000,
            published_ns=1_700_000_000_002_000_000,
            seq=7,
            stream_seq=12,
        ),
    ]
