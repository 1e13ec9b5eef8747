"""A monitor for Polymarket US (``MONITOR_VENUE``) and a shard reading it from the bus
(``POLYMARKET_US_VIA_REDIS``): the settings decide per venue whether an egress check and a
venue key are needed."""

from __future__ import annotations

import argparse

import pytest

from arbees.cli import cmd_monitor
from arbees.errors import ConfigError
from arbees.wiring import MonitorSettings, ShardSettings

LOCAL_US = "ws://127.0.0.1:9/v1/ws/markets"


def test_the_polymarket_monitor_still_needs_its_egress_check() -> None:
    with pytest.raises(ConfigError, match="EGRESS_CHECK_URL"):
        MonitorSettings.from_env({})
    with pytest.raises(ConfigError, match="egress"):
        MonitorSettings(egress=None)


def test_a_polymarket_us_monitor_has_no_egress_check() -> None:
    settings = MonitorSettings.from_env(
        {"MONITOR_VENUE": "polymarket-us", "POLYMARKET_US_WS_URL": LOCAL_US}
    )
    assert (settings.venue, settings.egress, settings.polymarket_us_signer) == (
        "polymarket-us",
        None,
        None,
    )


def test_a_polymarket_us_monitor_of_the_real_venue_needs_its_key() -> None:
    with pytest.raises(ConfigError, match="POLYMARKET_US_KEY_ID"):
        MonitorSettings.from_env({"MONITOR_VENUE": "polymarket-us"})


def test_an_unknown_monitor_venue_is_named() -> None:
    with pytest.raises(ConfigError, match="MONITOR_VENUE") as info:
        MonitorSettings.from_env({"MONITOR_VENUE": "betfair"})
    assert "polymarket-us" in str(info.value)
    with pytest.raises(ConfigError, match="unknown monitor venue"):
        MonitorSettings(egress=None, venue="kalshi")


def test_the_cli_builds_a_polymarket_us_monitor_without_egress_variables() -> None:
    parser = argparse.ArgumentParser()
    cmd_monitor.add_options(parser)
    args = parser.parse_args(["--venue", "polymarket-us"])
    settings = cmd_monitor.settings_from_args(args, {"POLYMARKET_US_WS_URL": LOCAL_US})
    assert (settings.venue, settings.egress) == ("polymarket-us", None)
    with pytest.raises(ConfigError, match="EGRESS_CHECK_URL"):
        cmd_monitor.settings_from_args(parser.parse_args([]), {})


def test_a_shard_reading_polymarket_us_from_the_bus_needs_no_key() -> None:
    environ = {"SHARD_VENUES": "kalshi,polymarket-us", "POLYMARKET_US_KEY_ID": "k"}
    with pytest.raises(ConfigError, match="POLYMARKET_US_KEY_ID"):
        ShardSettings.from_env(environ)  # direct, the real venue: its key is required
    settings = ShardSettings.from_env({**environ, "POLYMARKET_US_VIA_REDIS": "true"})
    assert settings.polymarket_us_via_bus
    assert settings.polymarket_us_signer is None  # the key stays with the monitor
    assert not ShardSettings.from_env({}).polymarket_us_via_bus
