"""The US-only deployment (deploy/compose.us-only.yaml): Kalshi and Polymarket US read
directly by the shards, with no Gluetun and no monitor; its orchestrator discovers Kalshi and
Polymarket US directly, with no Gamma, no VPN route and no egress check; and the default
deployment's shards keep reading Kalshi and Polymarket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from deploy_support import DEPLOY, ComposeRunner

from arbees.errors import ConfigError
from arbees.wiring import OrchestratorSettings, ShardSettings

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


def test_us_only_runs_the_orchestrator_and_shards_without_vpn_or_monitor(
    compose: ComposeRunner, test_env_file: Path, us_only_json: dict[str, Any]
) -> None:
    out = compose.run("config", "-q", env_file=test_env_file, overrides=(US_ONLY,))
    assert out.returncode == 0, out.stderr
    assert "WARN" not in out.stderr, out.stderr
    services = us_only_json["services"]
    assert set(services) == {"redis", "orchestrator", "game_shard"}
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


def test_us_only_orchestrator_discovers_kalshi_and_polymarket_us_without_gamma(
    us_only_json: dict[str, Any], compose_json: dict[str, Any]
) -> None:
    orch = us_only_json["services"]["orchestrator"]
    assert orch.get("network_mode") in (None, "")
    assert "vpn" not in (orch.get("depends_on") or {})
    env = orch["environment"]
    assert env["DISCOVERY_VENUES"] == "kalshi,polymarket-us"
    assert env["POLYMARKET_US_REST_URL"] == "https://gateway.polymarket.us"
    # no Polymarket route, no egress check, no Gamma left in its environment
    left = sorted(k for k in env if k.startswith(("EGRESS_", "POLYMARKET_PROXY", "POLYMARKET_G")))
    assert left == []
    # the default deployment's orchestrator still goes through the VPN to Gamma
    default = compose_json["services"]["orchestrator"]["environment"]
    assert default["POLYMARKET_PROXY_URL"] == "http://vpn:8888"
    assert "DISCOVERY_VENUES" not in default
    # What the container's environment gives the orchestrator: no Gamma, so no egress
    # settings needed, and the Polymarket US gateway to discover from.
    plain = {k: v for k, v in env.items() if isinstance(v, str)}
    # (the Kalshi key is the mounted secret, absent here: discovery runs unsigned)
    settings = OrchestratorSettings.from_env(plain, kalshi_signer=None)
    assert settings.discovery_venues == ("kalshi", "polymarket-us")
    assert not settings.gamma
    assert settings.egress is None
    assert settings.polymarket_us_rest_url == "https://gateway.polymarket.us"
