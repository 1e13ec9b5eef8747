"""Helpers to load the venue-shaped matching fixtures in tests/data/matching/<case>/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from arbees.kalshi.models import parse_events
from arbees.matching import KalshiGame, MatchReport, PolymarketGame, Rejection, Venue
from arbees.matching.venues import decode_rejections, kalshi_games, match_events, polymarket_games
from arbees.polymarket.models import parse_gamma_events

DATA = Path(__file__).resolve().parent.parent / "data" / "matching"


def case_dir(case: str) -> Path:
    return DATA / case


def load(case: str) -> tuple[Any, Any]:
    """``(kalshi_body, gamma_body)`` of a fixture case."""
    d = case_dir(case)
    kalshi = json.loads((d / "kalshi_events.json").read_text(encoding="utf-8"))
    gamma = json.loads((d / "gamma_events.json").read_text(encoding="utf-8"))
    return kalshi, gamma


def gamma_market(gamma: Any, slug: str, question: str) -> dict[str, Any]:
    """The Gamma market with ``question`` in event ``slug``."""
    for event in gamma:
        if event["slug"] == slug:
            for market in event["markets"]:
                if market["question"] == question:
                    return dict(market)
    raise KeyError((slug, question))


def token_of(market: dict[str, Any], outcome: str) -> str:
    """The token id of ``outcome`` in a Gamma market (decoding the string-encoded arrays)."""
    names = json.loads(market["outcomes"])
    tokens = json.loads(market["clobTokenIds"])
    return str(tokens[names.index(outcome)])


def kalshi_games_of(body: Any) -> tuple[list[KalshiGame], list[Rejection]]:
    """A Kalshi ``/events`` body through its one decoder, then the converter: games and
    every rejection (the decoder's first)."""
    events, refused = parse_events(body)
    games, rejections = kalshi_games(events)
    return games, [*decode_rejections(Venue.KALSHI, refused), *rejections]


def polymarket_games_of(body: Any) -> tuple[list[PolymarketGame], list[Rejection]]:
    """A Gamma ``/events`` body through its one decoder, then the converter."""
    events, refused = parse_gamma_events(body)
    games, rejections = polymarket_games(events)
    return games, [*decode_rejections(Venue.POLYMARKET, refused), *rejections]


def match_bodies(kalshi_body: Any, gamma_body: Any) -> MatchReport:
    """Both bodies decoded once and matched, as ``arbees match`` does."""
    kalshi, k_refused = parse_events(kalshi_body)
    gamma, p_refused = parse_gamma_events(gamma_body)
    rejected = [
        *decode_rejections(Venue.KALSHI, k_refused),
        *decode_rejections(Venue.POLYMARKET, p_refused),
    ]
    return match_events(kalshi, gamma, rejected=rejected)
