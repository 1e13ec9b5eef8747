"""The orchestrator process polls Kalshi's live data for the games it has given a shard;
a setting turns it off, the poll interval is configurable and bounded."""

from __future__ import annotations

import pytest
import trio

from arbees.bus import open_bus
from arbees.errors import ConfigError
from arbees.obs.metrics import Registry
from arbees.services.discovery import GameSpec
from arbees.services.orchestrator import Orchestrator
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.wiring.build import _running_events, build_orchestrator
from arbees.wiring.settings import OrchestratorSettings

BASE = {"POLYMARKET_EGRESS_CHECK": "off"}


def test_live_data_is_on_by_default_every_ten_seconds() -> None:
    assert OrchestratorSettings.from_env(BASE).kalshi_live_interval == 10.0
    assert OrchestratorSettings(polymarket_egress_check=False).kalshi_live_interval == 10.0


def test_live_data_interval_and_switch() -> None:
    slow = OrchestratorSettings.from_env(BASE | {"KALSHI_LIVE_INTERVAL": "30"})
    assert slow.kalshi_live_interval == 30.0
    off = OrchestratorSettings.from_env(BASE | {"KALSHI_LIVE_DATA": "off"})
    assert off.kalshi_live_interval is None
    assert OrchestratorSettings.from_env(BASE, kalshi_live_data=False).kalshi_live_interval is None
    for bad in ("0.5", "0", "-3"):
        with pytest.raises(ConfigError, match="kalshi_live_interval"):
            OrchestratorSettings.from_env(BASE | {"KALSHI_LIVE_INTERVAL": bad})
    with pytest.raises(ConfigError, match="KALSHI_LIVE_INTERVAL"):
        OrchestratorSettings.from_env(BASE | {"KALSHI_LIVE_INTERVAL": "often"})


class NoGames:
    async def discover(self) -> object:  # never called here
        raise AssertionError


def spec(game: str) -> GameSpec:
    return GameSpec(
        game_id=game,
        sport="NBA",
        kalshi_event_ticker=f"KXNBAGAME-{game}",
        condition_id="0x",
        teams=(),
    )


def test_only_the_games_given_to_a_shard_are_followed() -> None:
    orchestrator = Orchestrator(None, NoGames())  # type: ignore[arg-type]
    orchestrator.games = {g: spec(g) for g in ("A", "B", "C")}
    orchestrator.owners = {"A": "s1", "B": None}
    assert _running_events(orchestrator) == ["KXNBAGAME-A"]
    orchestrator.owners["C"] = "s2"
    assert sorted(_running_events(orchestrator)) == ["KXNBAGAME-A", "KXNBAGAME-C"]


async def test_the_built_orchestrator_polls_its_running_games_and_exposes_the_counters() -> None:
    """``build_orchestrator`` runs the feed while its block is open, on the orchestrator's
    running games and Kalshi client; the fake venue lists no milestone (404), which is
    counted as such, not as a failure."""
    fake = FakeKalshi()
    registry = Registry()
    async with trio.open_nursery() as nursery:
        port = await nursery.start(fake.serve_rest)
        settings = OrchestratorSettings(
            kalshi_rest_url=f"http://127.0.0.1:{port}/trade-api/v2",
            polymarket_egress_check=False,
            kalshi_live_interval=1.0,
        )
        async with (
            open_bus("memory://") as bus,
            build_orchestrator(settings, bus, registry=registry) as orchestrator,
        ):
            orchestrator.games = {"A": spec("A")}
            orchestrator.owners = {"A": "s1"}
            with trio.fail_after(10):
                while "arbees_kalshi_live_no_milestone 1.0" not in registry.render():  # noqa: ASYNC110
                    await trio.sleep(0.05)
            text = registry.render()
            assert "arbees_kalshi_live_errors 0.0" in text
            assert "arbees_kalshi_live_published 0.0" in text
        nursery.cancel_scope.cancel()
