"""The simulated slate: real NBA/NHL teams, Kalshi tickers, Polymarket tokens, start times.

Why the slate is generated from :mod:`arbees.matching.teams`: the real orchestrator must
discover and match these games through the fake venues' REST endpoints exactly as it would
the live ones, so every identifier follows the venues' grammar (``KXNBAGAME-26NOV26OKCSAS``,
``...-OKC``; Gamma slug ``nba-okc-sas-2026-11-26``, decimal token ids, ``0x`` condition ids)
and every team name resolves through the same alias tables. A team plays at most once per
day (the matcher refuses ambiguous pairs), so large slates spill onto the following days.

:func:`install_discovery` writes the slate into a :class:`~arbees.testing.fake_kalshi.FakeKalshi`
(series, events, markets) and a :class:`~arbees.testing.fake_polymarket.FakePolymarket`
(Gamma events with one moneyline market each).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import attrs

from arbees.matching.teams import Team, teams
from arbees.sim.books import POLY_FEE_RATE, POLY_MIN_ORDER
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.fake_polymarket import FakePolymarket

__all__ = ["SimGame", "install_discovery", "make_games"]

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_SERIES = {"NBA": "KXNBAGAME", "NHL": "KXNHLGAME"}
_EASTERN_OFFSET = timedelta(hours=-5)  # the slate's start times are 19:00-22:00 Eastern (EST)


@attrs.frozen
class SimGame:
    """One simulated game.

    Attributes:
        index: position in the slate (stable id inside the simulator).
        league: ``"NBA"`` or ``"NHL"``.
        away, home: the teams (team A = away, team B = home).
        day: the Eastern date.
        start_utc: scheduled start (aware UTC).
        event_ticker: Kalshi event ticker, also the orchestrator's game id.
        kalshi_a, kalshi_b: Kalshi team market tickers ("away wins", "home wins").
        token_a, token_b: Polymarket outcome token ids (away, home).
        condition_id: Polymarket condition id.
        lopsided: a heavy favourite priced near 0/1 (sub-cent Polymarket ticks).
    """

    index: int
    league: str
    away: Team
    home: Team
    day: date
    start_utc: datetime
    event_ticker: str
    kalshi_a: str
    kalshi_b: str
    token_a: str
    token_b: str
    condition_id: str
    lopsided: bool = False

    @property
    def game_id(self) -> str:
        return self.event_ticker

    @property
    def team_ids(self) -> tuple[str, str]:
        return (self.away.id, self.home.id)

    @property
    def slug(self) -> str:
        return f"{self.league.lower()}-{self.away.code.lower()}-{self.home.code.lower()}-{self.day}"

    @property
    def title(self) -> str:
        return f"{self.away.nickname} vs. {self.home.nickname}"


def make_games(
    count: int,
    rng: random.Random,
    *,
    first_day: date,
    leagues: tuple[str, ...] = ("NBA", "NHL"),
    lopsided_share: float = 0.15,
) -> list[SimGame]:
    """``count`` games alternating leagues; no team plays twice on one day."""
    games: list[SimGame] = []
    pools: dict[tuple[str, date], list[Team]] = {}
    day_of: dict[str, date] = dict.fromkeys(leagues, first_day)
    for index in range(count):
        league = leagues[index % len(leagues)]
        day = day_of[league]
        pool = pools.get((league, day))
        if pool is None:
            pool = list(teams(league))
            rng.shuffle(pool)
            pools[(league, day)] = pool
        if len(pool) < 2:
            day = day_of[league] = day + timedelta(days=1)
            pool = list(teams(league))
            rng.shuffle(pool)
            pools[(league, day)] = pool
        away, home = pool.pop(), pool.pop()
        start_local = datetime.combine(day, time(19 + rng.randrange(3), rng.choice((0, 30))))
        start_utc = (start_local - _EASTERN_OFFSET).replace(tzinfo=UTC)
        event = f"{_SERIES[league]}-{day:%y}{_MONTHS[day.month - 1]}{day:%d}"
        event += f"{away.kalshi_code}{home.kalshi_code}"
        token_base = rng.getrandbits(240)
        games.append(
            SimGame(
                index=index,
                league=league,
                away=away,
                home=home,
                day=day,
                start_utc=start_utc,
                event_ticker=event,
                kalshi_a=f"{event}-{away.kalshi_code}",
                kalshi_b=f"{event}-{home.kalshi_code}",
                token_a=str(token_base * 2 + 10**70),
                token_b=str(token_base * 2 + 1 + 10**70),
                condition_id="0x" + f"{rng.getrandbits(256):064x}",
                lopsided=rng.random() < lopsided_share,
            )
        )
    return games


def gamma_event(game: SimGame) -> dict[str, Any]:
    """The Gamma ``/events`` entry of one game (one moneyline market)."""
    start = game.start_utc.strftime("%Y-%m-%d %H:%M:%S+00")
    market: dict[str, Any] = {
        "id": str(700000 + game.index),
        "question": game.title,
        "conditionId": game.condition_id,
        "slug": game.slug,
        "outcomes": json.dumps([game.away.nickname, game.home.nickname]),
        "outcomePrices": json.dumps(["0.5", "0.5"]),
        "clobTokenIds": json.dumps([game.token_a, game.token_b]),
        "active": True,
        "closed": False,
        "enableOrderBook": True,
        "orderPriceMinTickSize": 0.001 if game.lopsided else 0.01,
        "orderMinSize": POLY_MIN_ORDER // 1_000_000,
        "sportsMarketType": "moneyline",
        "gameStartTime": start,
        "feesEnabled": True,
        "feeType": "sports",
        "feeSchedule": {"rate": float(POLY_FEE_RATE), "exponent": 1},
    }
    league = game.league.lower()
    return {
        "id": str(900000 + game.index),
        "ticker": game.slug,
        "slug": game.slug,
        "title": game.title,
        "active": True,
        "closed": False,
        "tags": [
            {"id": "1", "label": "Sports", "slug": "sports"},
            {"id": "2", "label": game.league, "slug": league},
        ],
        "seriesSlug": league,
        "startTime": game.start_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "markets": [market],
    }


def install_discovery(games: list[SimGame], kalshi: FakeKalshi, poly: FakePolymarket) -> None:
    """Publish the slate on both fakes' REST/Gamma endpoints (books are set separately)."""
    for series in sorted({_SERIES[g.league] for g in games}):
        kalshi.add_series(series, fee_multiplier=1)
    for game in games:
        title = f"{game.away.city} at {game.home.city}"
        kalshi.event_titles[game.event_ticker] = title
        for ticker, team in ((game.kalshi_a, game.away), (game.kalshi_b, game.home)):
            kalshi.add_market(
                ticker,
                event_ticker=game.event_ticker,
                series_ticker=_SERIES[game.league],
                title=f"{title} Winner?",
                yes_sub_title=team.full_name,
                no_sub_title=team.full_name,
                status="active",
            )
        event = gamma_event(game)
        poly.events.append(event)
        poly.markets.extend(event["markets"])
