"""One call from the venues' raw REST bodies to a :class:`MatchReport`.

The orchestrator (and ``arbees match``) hold raw bodies; this glues the two converters and
the matcher together and puts the converters' rejections in the same report, so nothing a
venue sent is silently lost between the steps.
"""

from __future__ import annotations

from datetime import timedelta

from arbees.matching.kalshi_inputs import kalshi_games_from_events_json
from arbees.matching.matcher import DEFAULT_START_WINDOW, match_games
from arbees.matching.model import MatchReport
from arbees.matching.polymarket_inputs import polymarket_games_from_events_json

__all__ = ["match_events_json"]


def match_events_json(
    kalshi_body: object,
    polymarket_body: object,
    *,
    start_window: timedelta = DEFAULT_START_WINDOW,
) -> MatchReport:
    """Convert both bodies and match them; rejections of all three steps, sorted.

    Raises :class:`arbees.errors.DecodeError` when a body is not the expected response
    shape at all (not a Kalshi ``/events`` object, not a Gamma events list).
    """
    kalshi, kalshi_rejections = kalshi_games_from_events_json(kalshi_body)
    poly, poly_rejections = polymarket_games_from_events_json(polymarket_body)
    report = match_games(kalshi, poly, start_window=start_window)
    rejections = sorted((*kalshi_rejections, *poly_rejections, *report.rejections))
    return MatchReport(report.matches, tuple(rejections))
