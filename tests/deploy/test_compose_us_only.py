"""The US-only deployment (deploy/compose.us-only.yaml): Kalshi and Polymarket US read
directly by the shards, with no Gluetun, no monitor and no orchestrator; and the default
deployment's shards keep reading Kalshi and Polymarket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from deploy_support import DEPLOY, ComposeRunner

from arbees.errors import ConfigError
from arbees.wiring import ShardSettings

US_ONLY = DEPLOY / "compose.us-only.yaml"


@pytest.fixture(scope="module")
def us_only_json(compose: ComposeRunner, test_env_file: Path) -> dict[str, Any]:
    return compose.config_json(test_env_file, overrides=(US_ONLY,))


def test_the_default_shards_read_kalshi_and_polymarket(compose_json: dict[str, Any]) -> None:
    env = compose_json["services"]["game_shard"]["environment"]
    assert env["SHARD_VENUES"] == "kalshi,polymarket"
    assert ShardSettings.from_env({"SHARD_VENUES": env["SHARD_VENUES"]}).venues == (
        "kalshi",
        "polymarket",
    )


def test_us_only_runs_no_vpn_no_monitor_no_orchestrator(
    compose: ComposeRunner, test_env_file: Path, us_only_json: dict[str, Any]
) -> None:
    out = compose.run("config", "-q", env_file=test_env_file, overrides=(US_ONLY,))
    assert out.returncode == 0, out.stderr
    assert "WARN" not in out.stderr, out.stderr
    services = us_only_json["services"]
    assert set(services) == {"redis", "game_shard"}
    for name, service in services.items():
        assert service.get("network_mode") in (None, ""), name
        assert "vpn" not in (service.get("depends_on") or {}), name


def test_us_only_shards_read_polymarket_us_directly_with_the_key_secret(
    us_only_json: dict[str, Any],
) -> None:
    shard = us_only_json["services"]["game_shard"]
    env = shard["environment"]
    assert env["SHARD_VENUES"] == "kalshi,polymarket-us"
    assert env["POLYMARKET_US_PRIVATE_KEY_PATH"] == "/run/secrets/polymarket_us_private_key"
    mounted = {s["source"]: s["target"] for s in shard["secrets"]}
    assert mounted["polymarket_us_private_key"] == "polymarket_us_private_key"
    assert "gluetun_api_key" not in mounted
    # What the container's environment gives the shard: the venues, and no route at all
    # (the real venue's key is required; the settings refuse to start without one).
    venues = env["SHARD_VENUES"]
    with pytest.raises(ConfigError, match="POLYMARKET_US_KEY_ID"):
        ShardSettings.from_env({"SHARD_VENUES": venues})
    local = ShardSettings.from_env(
        {"SHARD_VENUES": venues, "POLYMARKET_US_WS_URL": "ws://127.0.0.1:1/v1/ws/markets"}
    )
    assert local.venues == ("kalshi", "polymarket-us")
    assert local.egress is None
