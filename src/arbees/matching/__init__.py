"""Game matching between Kalshi and Polymarket (pure logic, no venue imports).

Pair each Kalshi NBA/NHL game event with the one Polymarket moneyline market for the same
game — or say why not. The venues' typed events (each body decoded once by
:func:`arbees.kalshi.models.parse_events` and
:func:`arbees.polymarket.models.parse_gamma_events`) become the venue-neutral inputs in
:mod:`arbees.matching.venues`, which this package does not import: the services use the
matcher and its values without seeing a venue.
See :func:`match_games` for the rules and ``arbees match`` to audit them on real data.
"""

from __future__ import annotations

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
    "match_games",
    "normalize_name",
    "report_to_json",
    "report_to_text",
    "resolve_team",
    "team_by_id",
    "teams",
]
