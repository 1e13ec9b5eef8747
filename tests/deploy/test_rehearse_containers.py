"""The container rehearsal's own parts, checked without an engine.

``deploy/rehearse-containers.sh`` needs root and a Docker engine, so it runs in CI as its own
step (``.ci/run``), not here. What can be checked offline is checked here: that its one
compose override changes only images and networking of the real compose file, and that the
Gluetun stand-in reads the key the compose file hands the real Gluetun and drives arbees'
fake control server.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import trio
from deploy_support import DEPLOY, REPO, ComposeRunner

from arbees.testing.fake_gluetun import FakeGluetun

OVERRIDE = DEPLOY / "rehearsal" / "compose.rehearsal.yaml"
STANDIN = DEPLOY / "rehearsal" / "gluetun_standin.py"
SCRIPT = DEPLOY / "rehearse-containers.sh"
REHEARSAL_VALUES = {
    "REHEARSAL_GLUETUN_IMAGE": "arbees-rehearsal/gluetun:local",
    "REHEARSAL_REDIS_IMAGE": "arbees-rehearsal/redis:0123456789abcdef",
    "REHEARSAL_RUN_DIR": "/run/rehearsal-test",
    "REHEARSAL_TAP_HASH": "0" * 64,
}
# The one line the override adds to the redis container's start: the tap's ACL user.
TAP_USER = (
    'echo "user rehearsal on #$${REHEARSAL_TAP_HASH} resetkeys resetchannels ~* &* -@all '
    '+ping +@read +@pubsub" >> /run/redis-acl/users.acl &&'
)
# What the override may change in a service of the real compose file.
NETWORK_KEYS = {"network_mode", "networks", "ports", "extra_hosts"}
REHEARSAL_ONLY = {"venues", "rehearsal_tap"}


def _config(compose: ComposeRunner, values: dict[str, str], *, override: bool) -> dict[str, Any]:
    env = compose.write_env("rehearsal.env", {**values, **REHEARSAL_VALUES})
    out = compose.run(
        "--profile",
        "bot",
        "config",
        "--format",
        "json",
        env_file=env,
        overrides=(OVERRIDE,) if override else (),
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


@pytest.fixture(scope="module")
def configs(
    compose: ComposeRunner, test_env_values: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        _config(compose, test_env_values, override=False),
        _config(compose, test_env_values, override=True),
    )


def test_every_container_joins_the_vpn_namespace_and_nothing_is_published(
    configs: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    base, rehearsal = configs
    services = rehearsal["services"]
    assert set(services) == set(base["services"]) | REHEARSAL_ONLY
    assert services["vpn"]["network_mode"] == "none"
    for name, service in services.items():
        if name != "vpn":
            assert service.get("network_mode") == "service:vpn", name
        assert not service.get("ports"), name
        assert not service.get("networks"), name
    # no network is created at all (no bridge); Redis answers as `redis` on the loopback
    assert not rehearsal.get("networks")
    # ... and so does `vpn` (Gluetun's HTTP proxy vpn:8888, the orchestrator's Gamma route)
    assert services["vpn"]["extra_hosts"] == ["redis=127.0.0.1", "vpn=127.0.0.1"]


def test_the_override_swaps_only_images_and_networking(
    configs: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    base, rehearsal = configs
    swapped = {
        "vpn": REHEARSAL_VALUES["REHEARSAL_GLUETUN_IMAGE"],
        "redis": REHEARSAL_VALUES["REHEARSAL_REDIS_IMAGE"],
    }
    for name, original in base["services"].items():
        changed = rehearsal["services"][name]
        assert changed["image"] == swapped.get(name, original["image"]), name
        keep = set(original) | set(changed)
        keep -= NETWORK_KEYS | {"image", "depends_on"}
        if name == "redis":  # the deployment's start, plus the rehearsal tap's user
            keep -= {"entrypoint", "environment"}
            script = changed["entrypoint"][2]
            assert script.replace(" " + TAP_USER, "") == original["entrypoint"][2]
            assert changed["entrypoint"][:2] == original["entrypoint"][:2]
            assert changed["entrypoint"][3:] == original["entrypoint"][3:]
            assert changed["environment"] == {
                **(original.get("environment") or {}),
                "REHEARSAL_TAP_HASH": REHEARSAL_VALUES["REHEARSAL_TAP_HASH"],
            }
        for key in sorted(keep):
            assert changed.get(key) == original.get(key), f"{name}.{key}"
        # depends_on keeps every dependency; network_mode service:vpn adds one on vpn
        before = original.get("depends_on") or {}
        for dep, spec in before.items():
            assert changed["depends_on"][dep] == spec, f"{name} depends_on {dep}"
        assert set(changed.get("depends_on") or {}) - set(before) <= {"vpn"}, name
    # the arbees services still run the image built from deploy/Dockerfile
    for name in ("polymarket_monitor", "game_shard", "orchestrator", "bot"):
        assert rehearsal["services"][name]["image"] == "arbees:local"
    # top-level configs, volumes and secrets are the real ones, plus the tap's password
    assert rehearsal["configs"] == base["configs"]
    assert rehearsal.get("volumes") == base.get("volumes")
    assert set(rehearsal["secrets"]) == set(base["secrets"]) | {"rehearsal_tap_password"}
    for name, spec in base["secrets"].items():
        assert rehearsal["secrets"][name] == spec, name


def _load_standin() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gluetun_standin", STANDIN)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gluetun_standin", module)
    spec.loader.exec_module(module)
    return module


def _role_file(secrets_dir: Path) -> Path:
    """Gluetun's role file as the deployment makes it (deploy/make-secrets.sh)."""
    return secrets_dir / "gluetun_auth.toml"


def test_standin_takes_the_api_key_from_the_role_file_compose_mounts(
    tmp_path: Path,
    secrets_dir: Path,
    secret_values: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    standin = _load_standin()
    monkeypatch.setenv("HTTP_CONTROL_SERVER_AUTH_CONFIG_FILEPATH", str(_role_file(secrets_dir)))
    assert standin.api_key() == secret_values["gluetun_api_key"]
    monkeypatch.setenv("SERVER_COUNTRIES", "Netherlands,Germany")
    assert standin.first_country() == "Netherlands"

    no_key = tmp_path / "nokey.toml"
    no_key.write_text('[[roles]]\nname = "open"\nauth = "none"\n', encoding="utf-8")
    monkeypatch.setenv("HTTP_CONTROL_SERVER_AUTH_CONFIG_FILEPATH", str(no_key))
    with pytest.raises(SystemExit, match="no apikey role"):
        standin.api_key()


async def test_standin_checks_health_and_flips_the_exit_of_the_fake_control_server(
    secrets_dir: Path,
    secret_values: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    standin = _load_standin()
    monkeypatch.setenv("HTTP_CONTROL_SERVER_AUTH_CONFIG_FILEPATH", str(_role_file(secrets_dir)))
    fake = FakeGluetun(country="United Kingdom", api_key=secret_values["gluetun_api_key"])
    async with trio.open_nursery() as nursery:
        url = await nursery.start(fake.run)
        monkeypatch.setattr(standin, "CONTROL_PORT", int(url.rsplit(":", 1)[1]))
        assert await trio.to_thread.run_sync(standin.main, ["healthcheck"]) == 0
        assert await trio.to_thread.run_sync(standin.main, ["set-exit", "United States"]) == 0
        assert fake.country == "United States"
        assert fake.ip == "198.51.100.9"
        fake.tunnel_down()
        assert await trio.to_thread.run_sync(standin.main, ["healthcheck"]) == 1
        assert await trio.to_thread.run_sync(standin.main, ["set-exit", "United Kingdom"]) == 0
        assert fake.country == "United Kingdom"
        assert fake.tunnel_running
        # a wrong key is refused: the stand-in's health check fails rather than passing
        fake._api_key = "another-key"
        assert await trio.to_thread.run_sync(standin.main, ["healthcheck"]) == 1
        assert fake.unauthorized == 1
        assert standin.main(["bogus"]) == 2
        nursery.cancel_scope.cancel()


def test_script_is_valid_bash_and_documents_itself() -> None:
    assert subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True).returncode == 0
    out = subprocess.run(["bash", str(SCRIPT), "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "private engine" in out.stdout
    assert "compose.rehearsal.yaml" in out.stdout


def test_script_refuses_to_run_without_root() -> None:
    command = ["bash", str(SCRIPT), "--no-rebuild-probe"]
    if os.geteuid() == 0:  # drop to nobody: the check must not depend on who runs pytest
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    out = subprocess.run(command, capture_output=True, text=True, timeout=30, cwd="/")
    assert out.returncode == 1
    assert "needs root" in out.stderr


def test_ci_runs_the_rehearsal_and_lets_it_fail() -> None:
    text = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "set -euo pipefail" in text
    steps = [
        line
        for line in text.splitlines()
        if "deploy/rehearse-containers.sh" in line and not line.lstrip().startswith(("#", "echo"))
    ]
    assert len(steps) == 1
    assert "||" not in steps[0]
    assert "def containers(" in (REPO / "noxfile.py").read_text(encoding="utf-8")
