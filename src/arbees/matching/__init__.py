"""Game matching between Kalshi and Polymarket (pure logic, no venue imports).

Turn the venues' raw REST bodies into venue-neutral inputs, then pair each Kalshi NBA/NHL
game event with the one Polymarket moneyline market for the same game — or say why not.
See :func:`match_games` for the rules and ``arbees match`` to audit them on real data.
"""

from __future__ import annotations

from arbees.matching.from_json import match_events_json
from arbees.matching.kalshi_inputs import kalshi_games_from_events_json, parse_event_ticker
from arbees.matching.matcher import DEFAULT_START_WINDOW, match_games
from arbees.matching.model import (
    POSTPONEMENT_NOTE,
    KalshiGame,
    KalshiTeamMarket,
    MatchedGame,
    MatchedTeam,
    MatchReport,
    PolymarketFees,
    PolymarketGame,
    PolymarketOutcome,
    Reason,
    Rejection,
    Venue,
)
from arbees.matching.polymarket_inputs import (
    parse_game_start_time,
    polymarket_games_from_events_json,
)
from arbees.matching.render import report_to_json, report_to_text
from arbees.matching.teams import LEAGUES, Team, normalize_name, resolve_team, team_by_id, teams

__all__ = [
    "DEFAULT_START_WINDOW",
    "LEAGUES",
    "POSTPONEMENT_NOTE",
    "KalshiGame",
    "KalshiTeamMarket",
    "MatchReport",
    "MatchedGame",
    "MatchedTeam",
    "PolymarketFees",
    "PolymarketGame",
    "PolymarketOutcome",
    "Reason",
    "Rejection",
    "Team",
    "Venue",
    "kalshi_games_from_events_json",
    "match_events_json",
    "match_games",
    "normalize_name",
    "parse_event_ticker",
    "parse_game_start_time",
    "polymarket_games_from_events_json",
    "report_to_json",
    "report_to_text",
    "resolve_team",
    "team_by_id",
    "teams",
]
