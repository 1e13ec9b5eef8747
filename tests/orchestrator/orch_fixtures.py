"""Venue-neutral matcher inputs for orchestrator tests: N distinct NBA games that match."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from arbees.fees import KalshiFeeModel, MarketFees, PolymarketFeeModel
from arbees.matching import (
    KalshiGame,
    KalshiTeamMarket,
    PolymarketFees,
    PolymarketGame,
    PolymarketOutcome,
    teams,
)
from arbees.services.discovery import MatchInputs

__all__ = ["game_inputs", "make_inputs", "market_fees"]

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
FEES = PolymarketFees(True, "sports", rate=Decimal("0.05"), exponent=Decimal(1))


def game_inputs(i: int, *, closed: bool = False) -> tuple[KalshiGame, PolymarketGame]:
    """Game ``i``: 15 games a day over the 30 NBA teams, from 2026-10-20."""
    nba = teams("NBA")
    day = date(2026, 10, 20) + timedelta(days=i // 15)
    away, home = nba[2 * (i % 15)], nba[2 * (i % 15) + 1]
    ticker = (
        f"KXNBAGAME-{day:%y}{_MONTHS[day.month - 1]}{day:%d}{away.kalshi_code}{home.kalshi_code}"
    )
    kalshi = KalshiGame(
        event_ticker=ticker,
        series_ticker="KXNBAGAME",
        league="NBA",
        eastern_date=day,
        away=KalshiTeamMarket(
            f"{ticker}-{away.kalshi_code}", away.kalshi_code, f"{away.city} {away.nickname}"
        ),
        home=KalshiTeamMarket(
            f"{ticker}-{home.kalshi_code}", home.kalshi_code, f"{home.city} {home.nickname}"
        ),
    )
    poly = PolymarketGame(
        event_slug=f"nba-{away.code.lower()}-{home.code.lower()}-{day.isoformat()}",
        market_id=str(500000 + i),
        condition_id="0x" + f"{i + 1:064x}",
        question=f"{away.nickname} vs. {home.nickname}",
        league="NBA",
        outcomes=(
            PolymarketOutcome(away.nickname, f"{9000 + 2 * i}"),
            PolymarketOutcome(home.nickname, f"{9001 + 2 * i}"),
        ),
        start_time=datetime.combine(day, time(23, 0), tzinfo=UTC),
        slug_date=day,
        sports_market_type="moneyline",
        closed=closed,
        fees=FEES,
    )
    return kalshi, poly


def market_fees(
    kalshi: tuple[KalshiGame, ...], polymarket: tuple[PolymarketGame, ...], multiplier: str = "1"
) -> dict[str, dict[str, MarketFees]]:
    """The fee models the venues would give these games (sports rate on Polymarket)."""
    return {
        "kalshi": {k.event_ticker: MarketFees(KalshiFeeModel(multiplier)) for k in kalshi},
        "polymarket": {
            p.condition_id: MarketFees(PolymarketFeeModel(Decimal("0.05"))) for p in polymarket
        },
    }


def make_inputs(ids: range | list[int]) -> MatchInputs:
    pairs = [game_inputs(i) for i in ids]
    kalshi = tuple(k for k, _ in pairs)
    polymarket = tuple(p for _, p in pairs)
    return MatchInputs(kalshi=kalshi, polymarket=polymarket, fees=market_fees(kalshi, polymarket))
