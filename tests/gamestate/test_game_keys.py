"""A shard assignment names its game's key in each venue's game-state reports: the event
slug the matcher paired (Polymarket's sports channel keys its results by it) and the Kalshi
event ticker (Kalshi's live-data source reports under it)."""

from __future__ import annotations

import json
from pathlib import Path

from arbees.kalshi.models import parse_events
from arbees.matching.venues import kalshi_games, polymarket_games
from arbees.messages import MarketAssignment
from arbees.polymarket.models import parse_gamma_events
from arbees.services.discovery import GameSpec, MatchInputs, discover_games

SLATE = Path(__file__).parent.parent / "data" / "matching" / "slate"


def test_discovered_games_carry_their_polymarket_slug_to_the_shard() -> None:
    kalshi, _ = parse_events(json.loads((SLATE / "kalshi_events.json").read_text()))
    gamma, _ = parse_gamma_events(json.loads((SLATE / "gamma_events.json").read_text()))
    inputs = MatchInputs(
        kalshi=tuple(kalshi_games(kalshi)[0]), polymarket=tuple(polymarket_games(gamma)[0])
    )
    found = discover_games(inputs)
    assert found.games
    slugs = {event.slug for event in gamma}
    for spec in found.games.values():
        message = spec.shard_assignment("s1", action="assign", epoch=1, timestamp_ms=1)
        slug = message.game_keys["polymarket"]
        assert slug in slugs
        assert slug == spec.polymarket_event_slug
        # the sport and the teams' date are in the slug (nba-okc-sas-2026-10-20)
        assert slug.startswith(spec.sport.lower() + "-")
        # kept across an orchestrator restart (rebuilt from the stored assignment)
        assert GameSpec.from_assignment(message, spec.condition_id) == spec
        # and through the bus codec
        keys = {"polymarket": slug, "kalshi": spec.kalshi_event_ticker}
        assert MarketAssignment.from_dict(message.to_dict()).game_keys == keys


def test_a_spec_without_a_slug_names_only_its_kalshi_event() -> None:
    spec = GameSpec(game_id="G", sport="NBA", kalshi_event_ticker="G", condition_id="0x", teams=())
    message = spec.shard_assignment("s1", action="assign", epoch=1, timestamp_ms=1)
    assert message.game_keys == {"kalshi": "G"}


def test_every_discovered_game_is_keyed_by_its_kalshi_event() -> None:
    """Kalshi's live data reports under the event ticker (``arbees.kalshi.live``)."""
    kalshi, _ = parse_events(json.loads((SLATE / "kalshi_events.json").read_text()))
    gamma, _ = parse_gamma_events(json.loads((SLATE / "gamma_events.json").read_text()))
    inputs = MatchInputs(
        kalshi=tuple(kalshi_games(kalshi)[0]), polymarket=tuple(polymarket_games(gamma)[0])
    )
    tickers = {event.event_ticker for event in kalshi}
    for spec in discover_games(inputs).games.values():
        message = spec.shard_assignment("s1", action="assign", epoch=1, timestamp_ms=1)
        assert message.game_keys["kalshi"] == spec.kalshi_event_ticker
        assert message.game_keys["kalshi"] in tickers
