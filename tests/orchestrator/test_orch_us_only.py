"""The US-only orchestrator (issue 17): ``DISCOVERY_VENUES=kalshi,polymarket-us`` turns
international Polymarket discovery off, so no Gamma client, no Polymarket route (no egress
gate or guard, no VPN proxy) and no Gamma team catalogue is built, and no ``EGRESS_*`` is
read."""

from __future__ import annotations

from typing import Any, NoReturn

import attrs
import pytest

import arbees.wiring.build as build
import arbees.wiring.discovery as discovery
from arbees.bus.memory import MemoryBus
from arbees.errors import ConfigError
from arbees.venues import VENUES
from arbees.wiring import OrchestratorSettings

US_ENV = {
    "DISCOVERY_VENUES": "kalshi,polymarket-us",
    "POLYMARKET_US_REST_URL": "http://127.0.0.1:1",
    "KALSHI_LIVE_DATA": "off",
}


def test_without_gamma_no_egress_setting_is_needed() -> None:
    settings = OrchestratorSettings.from_env(US_ENV, kalshi_signer=None)
    assert settings.discovery_venues == ("kalshi", "polymarket-us")
    assert not settings.gamma
    assert settings.egress is None
    # the default is unchanged: every venue, and Gamma only on a verified egress
    assert OrchestratorSettings.from_env(
        {}, kalshi_signer=None, egress=None, polymarket_egress_check=False
    ).gamma
    with pytest.raises(ConfigError, match="EGRESS_CHECK_URL"):
        OrchestratorSettings.from_env({}, kalshi_signer=None)


def test_bad_discovery_venues_are_refused() -> None:
    with pytest.raises(ConfigError, match="POLYMARKET_US_REST_URL"):
        OrchestratorSettings.from_env({"DISCOVERY_VENUES": "kalshi,polymarket-us"})
    with pytest.raises(ConfigError, match="DISCOVERY_VENUES: a discovery reads kalshi"):
        OrchestratorSettings.from_env({**US_ENV, "DISCOVERY_VENUES": "polymarket-us"})
    with pytest.raises(ConfigError, match="unknown discovery venue 'gamma'"):
        OrchestratorSettings.from_env({**US_ENV, "DISCOVERY_VENUES": "kalshi,gamma"})


async def test_no_gamma_route_client_or_catalogue_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def boom(*_: Any, **__: Any) -> NoReturn:
        raise AssertionError("built a Gamma / Polymarket route piece in a US-only orchestrator")

    venues = dict(VENUES)
    venues["polymarket"] = attrs.evolve(VENUES["polymarket"], listings=boom)
    monkeypatch.setattr(discovery, "VENUES", venues)
    monkeypatch.setattr(discovery, "TeamCatalogueSource", boom)
    monkeypatch.setattr(build, "open_polymarket_route", boom)
    settings = OrchestratorSettings.from_env(US_ENV, kalshi_signer=None)
    async with build.build_orchestrator(settings, MemoryBus()) as orchestrator:
        source = orchestrator.source
        assert isinstance(source, discovery.VenueGameSource)
        assert sorted(source.listings) == ["kalshi", "polymarket-us"]
        assert source.teams is None
        assert source.us_teams


async def test_the_default_orchestrator_still_builds_the_gamma_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Built(Exception):
        pass

    def route(**kwargs: Any) -> NoReturn:
        assert kwargs["name"] == "orchestrator-gamma"
        raise Built

    monkeypatch.setattr(build, "open_polymarket_route", route)
    settings = OrchestratorSettings.from_env(
        {"KALSHI_LIVE_DATA": "off", "POLYMARKET_EGRESS_CHECK": "off"}, kalshi_signer=None
    )
    with pytest.raises(Built):
        async with build.build_orchestrator(settings, MemoryBus()):
            pass
