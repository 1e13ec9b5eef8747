"""deploy/compose.yaml, validated offline by a real Compose v2 binary plus the rules Compose
does not enforce (ports under a shared network namespace, pinned images, documented
variables, scalable shards, secrets kept out of variables).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from deploy_support import (
    APP_ENV_VARS,
    COMPOSE_FILE,
    ENV_EXAMPLE,
    TEST_VALUES,
    ComposeRunner,
    env_example_vars,
    read_env_example,
)

ARBEES_SERVICES = {
    "polymarket_monitor": "monitor",
    "game_shard": "shard",
    "orchestrator": "orchestrator",
}
ALL_SERVICES = {"vpn", "redis", *ARBEES_SERVICES}

# ${VAR}, ${VAR:-x}, ${VAR:?msg}, $VAR -- but not the escaped $${VAR} / $$VAR.
_INTERPOLATION = re.compile(r"(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def compose_text_vars() -> set[str]:
    return set(_INTERPOLATION.findall(COMPOSE_FILE.read_text(encoding="utf-8")))


def services(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = model["services"]
    return result


# --------------------------------------------------------------------------- Compose itself


def test_compose_config_is_valid_and_quiet(compose: ComposeRunner, test_env_file: Path) -> None:
    out = compose.run("config", "-q", env_file=test_env_file)
    assert out.returncode == 0, out.stderr
    # Compose warns (and blanks the value) for a ${VAR} that is neither set nor defaulted.
    assert "WARN" not in out.stderr, out.stderr


def test_services_are_exactly_the_deployment(compose_json: dict[str, Any]) -> None:
    assert set(services(compose_json)) == ALL_SERVICES


def test_env_example_as_shipped_is_refused_with_a_clear_message(compose: ComposeRunner) -> None:
    """The required secrets are blank in .env.example: compose must refuse, naming them."""
    out = compose.run("config", "-q", env_file=ENV_EXAMPLE)
    assert out.returncode != 0
    assert re.search(r"REDIS_PASSWORD|GLUETUN_API_KEY", out.stderr), out.stderr


@pytest.mark.parametrize("required", ["REDIS_PASSWORD", "GLUETUN_API_KEY"])
def test_each_required_secret_is_enforced(
    compose: ComposeRunner, test_env_values: dict[str, str], required: str
) -> None:
    values = {k: v for k, v in test_env_values.items() if k != required}
    env_file = compose.write_env(f"without-{required}.env", values)
    out = compose.run("config", "-q", env_file=env_file)
    assert out.returncode != 0
    assert required in out.stderr


# --------------------------------------------------------------------------- scaling


def test_game_shard_scales_to_three(compose: ComposeRunner, test_env_file: Path) -> None:
    override = compose.write_override("scale3.yaml", "services:\n  game_shard:\n    scale: 3\n")
    model = compose.config_json(test_env_file, overrides=(override,))
    shard = services(model)["game_shard"]
    assert shard["scale"] == 3
    # What makes N replicas possible: nothing that must be unique per container.
    assert "container_name" not in shard
    assert "hostname" not in shard  # the hostname IS the shard id
    assert "ports" not in shard
    assert "SHARD_ID" not in shard.get("environment", {})


def test_compose_really_rejects_a_fixed_container_name_when_scaled(
    compose: ComposeRunner, test_env_file: Path
) -> None:
    """Negative control: the validator does catch the scaling mistake."""
    override = compose.write_override(
        "scale-named.yaml",
        "services:\n  game_shard:\n    scale: 3\n    container_name: shard\n",
    )
    out = compose.run("config", "-q", env_file=test_env_file, overrides=(override,))
    assert out.returncode != 0
    assert "container_name" in out.stderr


def test_no_service_has_a_container_name(compose_json: dict[str, Any]) -> None:
    named = [n for n, s in services(compose_json).items() if "container_name" in s]
    assert named == []


# --------------------------------------------------------------------------- networking


def test_no_ports_on_services_sharing_a_network_namespace(compose_json: dict[str, Any]) -> None:
    for name, svc in services(compose_json).items():
        if str(svc.get("network_mode", "")).startswith("service:"):
            assert not svc.get("ports"), f"{name}: publish ports on the namespace owner"
            assert not svc.get("networks"), f"{name}: networks conflict with network_mode"
            assert "hostname" not in svc, name


def test_published_ports_bind_loopback_only(compose_json: dict[str, Any]) -> None:
    for name, svc in services(compose_json).items():
        for port in svc.get("ports", []):
            assert port.get("host_ip") in {"127.0.0.1", "::1"}, f"{name}: {port}"


def test_monitor_lives_in_the_vpn_namespace_and_waits_for_it(
    compose_json: dict[str, Any],
) -> None:
    monitor = services(compose_json)["polymarket_monitor"]
    assert monitor["network_mode"] == "service:vpn"
    deps = monitor["depends_on"]
    assert deps["vpn"]["condition"] == "service_healthy"
    assert deps["vpn"].get("required", True) is True
    assert deps["redis"]["condition"] == "service_healthy"
    # The egress check talks to Gluetun's control server inside the shared namespace.
    env = monitor["environment"]
    url = urlsplit(env["EGRESS_CHECK_URL"])
    assert (url.hostname, url.port, url.path) == ("localhost", 8000, "/v1/publicip/ip")
    assert env["EGRESS_CHECK_API_KEY"] == TEST_VALUES["GLUETUN_API_KEY"]
    assert env["EGRESS_FORBIDDEN_COUNTRIES"] == "US"


def test_only_the_monitor_uses_the_vpn_namespace(compose_json: dict[str, Any]) -> None:
    shared = {n for n, s in services(compose_json).items() if "network_mode" in s}
    assert shared == {"polymarket_monitor"}


def test_every_arbees_service_waits_for_a_healthy_redis(compose_json: dict[str, Any]) -> None:
    assert "healthcheck" in services(compose_json)["redis"]
    for name in ARBEES_SERVICES:
        deps = services(compose_json)[name]["depends_on"]
        assert deps["redis"]["condition"] == "service_healthy", name


def test_shards_read_polymarket_from_redis(compose_json: dict[str, Any]) -> None:
    shard = services(compose_json)["game_shard"]
    assert "network_mode" not in shard  # direct networking
    assert shard["environment"]["POLYMARKET_VIA_REDIS"] == "true"


# --------------------------------------------------------------------------- Gluetun


def test_vpn_service_is_gluetun_with_its_needs(compose_json: dict[str, Any]) -> None:
    vpn = services(compose_json)["vpn"]
    assert vpn["image"] == "qmcgaw/gluetun:v3.41.1"
    assert "NET_ADMIN" in vpn["cap_add"]
    assert any(d["source"] == "/dev/net/tun" for d in vpn["devices"])
    # Gluetun's own HEALTHCHECK is what the monitor's depends_on waits on.
    assert "healthcheck" not in vpn
    env = vpn["environment"]
    assert env["VPN_SERVICE_PROVIDER"] == "nordvpn"
    assert env["VPN_TYPE"] == "openvpn"
    assert env["SERVER_COUNTRIES"] == "United Kingdom"
    assert env["OPENVPN_USER"] == TEST_VALUES["OPENVPN_USER"]


def test_gluetun_control_server_role_uses_the_api_key(compose_json: dict[str, Any]) -> None:
    vpn = services(compose_json)["vpn"]
    path = vpn["environment"]["HTTP_CONTROL_SERVER_AUTH_CONFIG_FILEPATH"]
    mounts = {c["target"]: c["source"] for c in vpn["configs"]}
    assert path in mounts, "the auth file must be mounted where Gluetun looks for it"
    content = compose_json["configs"][mounts[path]]["content"]
    roles = tomllib.loads(content)["roles"]
    assert roles, "at least one role"
    needed = {"GET /v1/publicip/ip"}
    for role in roles:
        assert role["auth"] == "apikey", role["name"]
        assert role["apikey"] == TEST_VALUES["GLUETUN_API_KEY"]
        assert all(r.startswith("GET ") for r in role["routes"]), "read-only routes only"
        needed -= set(role["routes"])
    assert not needed, f"the egress check needs {needed}"


def test_redis_password_is_in_its_config_not_its_command_line(
    compose_json: dict[str, Any],
) -> None:
    redis = services(compose_json)["redis"]
    password = TEST_VALUES["REDIS_PASSWORD"]
    assert password not in " ".join(redis.get("command") or [])
    mounts = {c["target"]: c["source"] for c in redis["configs"]}
    conf_path = redis["command"][-1]
    content = compose_json["configs"][mounts[conf_path]]["content"]
    assert f"requirepass {password}" in content.splitlines()
    for name in ARBEES_SERVICES:
        url = urlsplit(services(compose_json)[name]["environment"]["REDIS_URL"])
        assert (url.hostname, url.port, url.password) == ("redis", 6379, password)


# --------------------------------------------------------------------------- arbees services


def test_arbees_services_share_one_image_build(compose_json: dict[str, Any]) -> None:
    repo = COMPOSE_FILE.parents[1]
    for name in ARBEES_SERVICES:
        svc = services(compose_json)[name]
        assert svc["image"] == "arbees:local", name
        assert Path(svc["build"]["context"]) == repo, name
        assert svc["build"]["dockerfile"] == "deploy/Dockerfile", name
    assert (repo / "deploy" / "Dockerfile").is_file()


def test_each_arbees_service_runs_its_command_and_names_itself_for_health(
    compose_json: dict[str, Any],
) -> None:
    for name, health_name in ARBEES_SERVICES.items():
        svc = services(compose_json)[name]
        assert svc["environment"]["ARBEES_SERVICE"] == health_name, name
        assert svc["command"] == [health_name], name  # `arbees monitor|shard|orchestrator`
        assert "entrypoint" not in svc or svc["entrypoint"] is None, name


def test_kalshi_key_is_a_docker_secret_never_a_variable(compose_json: dict[str, Any]) -> None:
    for name, svc in services(compose_json).items():
        for key, value in (svc.get("environment") or {}).items():
            assert "PRIVATE KEY" not in str(value), f"{name}.{key} holds a PEM"
        if "KALSHI_API_KEY" in (svc.get("environment") or {}):
            env = svc["environment"]
            assert env["KALSHI_PRIVATE_KEY_PATH"] == "/run/secrets/kalshi_private_key"
            targets = {s["target"] for s in svc["secrets"]}
            assert "kalshi_private_key" in targets, name
    assert "file" in compose_json["secrets"]["kalshi_private_key"]
    # Least privilege: the monitor and the infrastructure never see Kalshi credentials.
    for name in ("vpn", "redis", "polymarket_monitor"):
        env = services(compose_json)[name].get("environment") or {}
        assert not any(k.startswith("KALSHI_") for k in env), name
        assert not services(compose_json)[name].get("secrets"), name


def test_vpn_credentials_reach_only_the_vpn(compose_json: dict[str, Any]) -> None:
    secret_values = {TEST_VALUES["OPENVPN_USER"], TEST_VALUES["OPENVPN_PASSWORD"]}
    for name, svc in services(compose_json).items():
        if name == "vpn":
            continue
        values = {str(v) for v in (svc.get("environment") or {}).values()}
        assert not values & secret_values, name


# --------------------------------------------------------------------------- operations


def test_images_are_pinned(compose_json: dict[str, Any]) -> None:
    for name, svc in services(compose_json).items():
        image = svc["image"]
        if "build" in svc:
            assert image == "arbees:local", name
            continue
        if "@sha256:" in image:
            continue
        repo, _, tag = image.rpartition(":")
        assert repo, f"{name}: {image} has no tag"
        assert "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest", f"{name}: {image}"
        assert re.match(r"v?\d+\.\d+", tag), f"{name}: {image} is not a version tag"


def test_restart_logging_and_limits_everywhere(compose_json: dict[str, Any]) -> None:
    for name, svc in services(compose_json).items():
        assert svc.get("restart") in {"unless-stopped", "always", "on-failure"}, name
        logging = svc["logging"]
        assert logging["driver"] == "json-file", name
        assert logging["options"]["max-size"], name
        assert logging["options"]["max-file"], name
        limits = svc["deploy"]["resources"]["limits"]
        assert limits.get("memory"), name
        assert limits.get("cpus"), name


def test_arbees_containers_are_hardened(compose_json: dict[str, Any]) -> None:
    for name in ARBEES_SERVICES:
        svc = services(compose_json)[name]
        assert svc["read_only"] is True, name
        assert svc["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in svc["security_opt"], name
        assert not svc.get("privileged"), name
        assert "user" not in svc or svc["user"] not in {"root", "0", "0:0"}, name


# --------------------------------------------------------------------------- variables


def test_every_compose_variable_is_documented_in_env_example(
    compose_json: dict[str, Any],
) -> None:
    documented = env_example_vars()
    used = compose_text_vars()
    # Bare `NAME:` environment keys are passed through from deploy/.env: document them too.
    for svc in services(compose_json).values():
        used |= {k for k, v in (svc.get("environment") or {}).items() if v is None}
    assert used - documented == set(), "add these to deploy/.env.example"


def test_every_env_example_variable_is_used(compose_json: dict[str, Any]) -> None:
    used = set(compose_text_vars()) | set(APP_ENV_VARS)
    for svc in services(compose_json).values():
        used |= set(svc.get("environment") or {})
    assert env_example_vars() - used == set(), "unused variables in deploy/.env.example"


def test_env_example_holds_no_real_secret_values() -> None:
    secretish = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY$")
    for name, (_, value) in read_env_example().items():
        if secretish.search(name):
            assert value == "", f"{name} must be blank in .env.example"


def test_env_example_is_ignored_by_git_once_copied() -> None:
    gitignore = (COMPOSE_FILE.parents[1] / ".gitignore").read_text(encoding="utf-8")
    lines = {line.strip() for line in gitignore.splitlines()}
    assert ".env" in lines or "deploy/.env" in lines
    assert "deploy/secrets" in lines
