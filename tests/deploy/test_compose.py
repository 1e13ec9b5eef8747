"""deploy/compose.yaml, validated offline by a real Compose v2 binary plus the rules Compose
does not enforce (ports under a shared network namespace, images pinned by digest,
documented variables, scalable shards, secrets as files and never in a variable).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from deploy_support import (
    APP_ENV_VARS,
    COMPOSE_FILE,
    ENV_EXAMPLE,
    SECRET_FILES,
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
DIGEST = re.compile(r"^[a-z0-9./_-]+:[\w.-]+@sha256:[0-9a-f]{64}$")
# Variable names that would hold a secret's value (a *_FILE or *_PATH names a file instead).
# KALSHI_API_KEY is Kalshi's key ID, an identifier: the secret is the PEM (a Docker secret).
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|APIKEY|AUTH")
# Named like a secret, but not one: a key id, a path, a count of Polymarket tokens.
NOT_SECRET_VALUES = {
    "KALSHI_API_KEY",
    "HTTP_CONTROL_SERVER_AUTH_CONFIG_FILEPATH",
    "MONITOR_MAX_TOKENS",
}

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


def test_env_example_as_shipped_is_valid_since_it_holds_no_secret(
    compose: ComposeRunner,
) -> None:
    out = compose.run("config", "-q", env_file=ENV_EXAMPLE)
    assert out.returncode == 0, out.stderr
    for gone in ("REDIS_PASSWORD", "GLUETUN_API_KEY", "OPENVPN_PASSWORD", "OPENVPN_USER"):
        assert gone not in read_env_example(), f"{gone} is a secret file now, not a variable"


# --------------------------------------------------------------------------- secrets


def test_every_secret_file_compose_mounts_is_made_by_make_secrets(
    compose_json: dict[str, Any], secrets_dir: Path
) -> None:
    files = {name: Path(spec["file"]) for name, spec in compose_json["secrets"].items()}
    assert set(files) >= {"kalshi_private_key", "redis_monitor_password", "gluetun_api_key"}
    for name, path in files.items():
        if name == "kalshi_private_key":
            continue  # the operator's own PEM, copied in by hand (README)
        assert path.parent == secrets_dir, f"{name}: {path} is outside SECRETS_DIR"
        assert path.is_file(), f"{name}: make-secrets.sh did not create {path.name}"
        assert path.name in SECRET_FILES
        assert path.stat().st_mode & 0o077 == 0, f"{path.name} is readable by others"
    assert secrets_dir.stat().st_mode & 0o066 == 0  # others may not list it (nor write)
    used = {p.name for p in files.values()}
    assert used >= set(SECRET_FILES), set(SECRET_FILES) - used


def test_no_secret_in_any_environment_command_or_config(
    compose_json: dict[str, Any], secret_values: dict[str, str]
) -> None:
    """What `docker inspect` shows (environment, command, entrypoint) and the inline configs
    hold no secret value and no variable named like one."""
    assert len(secret_values) >= 6, "make-secrets.sh generated the random secrets"
    secrets = {v for k, v in secret_values.items() if not k.endswith(".toml")}
    shown: list[str] = [str(c.get("content", "")) for c in compose_json["configs"].values()]
    for name, svc in services(compose_json).items():
        env = svc.get("environment") or {}
        for key in env:
            if SECRET_NAME.search(key) and key not in NOT_SECRET_VALUES:
                assert key.endswith(("_FILE", "_PATH")), f"{name}: {key} holds a secret"
        shown += [f"{name} {k}={v}" for k, v in env.items()]
        shown += [f"{name} {a}" for a in (svc.get("command") or []) + (svc.get("entrypoint") or [])]
        shown += [f"{name} {h}" for h in (svc.get("healthcheck") or {}).get("test") or []]
    for line in shown:
        for secret in secrets:
            assert secret not in line, f"a secret value is visible: {line[:60]}"


def test_each_arbees_service_is_its_own_redis_user_with_a_password_file(
    compose_json: dict[str, Any],
) -> None:
    users = {**ARBEES_SERVICES, "bot": "bot"}
    model = services(compose_json)
    for name, user in users.items():
        svc = model.get(name)
        if svc is None:  # the bot is behind a profile
            continue
        env = svc["environment"]
        url = urlsplit(env["REDIS_URL"])
        assert (url.username, url.password) == (user, None), name
        assert (url.hostname, url.port, url.path) == ("redis", 6379, "/0"), name
        assert env["REDIS_PASSWORD_FILE"] == "/run/secrets/redis_password", name
        mounted = {s["source"]: s["target"] for s in svc["secrets"]}
        assert mounted[f"redis_{user}_password"].endswith("redis_password"), name
        others = {f"redis_{u}_password" for u in users.values()} - {f"redis_{user}_password"}
        assert not others & set(mounted), f"{name} sees another role's password"


def test_redis_generates_its_acl_file_from_the_role_secrets(
    compose_json: dict[str, Any],
) -> None:
    redis = services(compose_json)["redis"]
    configs = {c["target"]: compose_json["configs"][c["source"]] for c in redis["configs"]}
    conf = configs[redis["command"][-1]]["content"].splitlines()
    assert "aclfile /run/redis-acl/users.acl" in conf
    assert not any(line.startswith(("requirepass", "user ")) for line in conf)
    script = configs["/usr/local/etc/redis/users-acl.sh"]
    assert Path(script["file"]) == COMPOSE_FILE.parent / "redis" / "users-acl.sh"
    start = " ".join(redis["entrypoint"])
    assert "users-acl.sh /run/secrets > /run/redis-acl/users.acl" in start
    assert "exec docker-entrypoint.sh" in start  # the image still drops root for redis-server
    assert "/run/redis-acl" in redis["tmpfs"]  # the ACL file never reaches a volume or layer
    mounted = {s["source"] for s in redis["secrets"]}
    assert mounted == {
        f"redis_{role}_password" for role in ("monitor", "shard", "orchestrator", "bot")
    }
    assert "environment" not in redis or not redis["environment"]
    # The healthcheck's user has no password and may only PING (tests/deploy/test_redis_acl).
    assert "--user healthcheck" in " ".join(redis["healthcheck"]["test"])


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
    assert "EGRESS_CHECK_API_KEY" not in env
    assert env["EGRESS_CHECK_API_KEY_FILE"] == "/run/secrets/gluetun_api_key"
    assert "gluetun_api_key" in {s["source"] for s in monitor["secrets"]}
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
    assert vpn["image"].startswith("qmcgaw/gluetun:v3.41.1@sha256:")
    assert "NET_ADMIN" in vpn["cap_add"]
    assert any(d["source"] == "/dev/net/tun" for d in vpn["devices"])
    # Gluetun's own HEALTHCHECK is what the monitor's depends_on waits on.
    assert "healthcheck" not in vpn
    env = vpn["environment"]
    assert env["VPN_SERVICE_PROVIDER"] == "nordvpn"
    assert env["VPN_TYPE"] == "openvpn"
    assert env["SERVER_COUNTRIES"] == "United Kingdom"
    # VPN credentials are secrets at Gluetun's default paths (/run/secrets/<name>).
    targets = {s["target"] for s in vpn["secrets"]}
    for name in ("openvpn_user", "openvpn_password", "wireguard_private_key"):
        assert f"/run/secrets/{name}" in targets, name
        assert name.upper() not in env, f"{name} must not be a variable"


def test_gluetun_control_server_role_uses_the_api_key(
    compose_json: dict[str, Any], secret_values: dict[str, str]
) -> None:
    vpn = services(compose_json)["vpn"]
    path = vpn["environment"]["HTTP_CONTROL_SERVER_AUTH_CONFIG_FILEPATH"]
    mounts = {s["target"]: s["source"] for s in vpn["secrets"]}
    assert path in mounts, "the auth file must be mounted where Gluetun is told to look"
    content = Path(compose_json["secrets"][mounts[path]]["file"]).read_text(encoding="utf-8")
    roles = tomllib.loads(content)["roles"]
    assert roles, "at least one role"
    needed = {"GET /v1/publicip/ip", "GET /v1/vpn/status"}
    for role in roles:
        assert role["auth"] == "apikey", role["name"]
        assert role["apikey"] == secret_values["gluetun_api_key"]  # the monitor's key
        assert all(r.startswith("GET ") for r in role["routes"]), "read-only routes only"
        needed -= set(role["routes"])
    assert not needed, f"the egress check needs {needed}"


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
        sources = {s["source"] for s in services(compose_json)[name].get("secrets") or []}
        assert "kalshi_private_key" not in sources, name


def test_each_secret_reaches_only_the_services_that_use_it(compose_json: dict[str, Any]) -> None:
    holders: dict[str, set[str]] = {}
    for name, svc in services(compose_json).items():
        for secret in svc.get("secrets") or []:
            holders.setdefault(secret["source"], set()).add(name)
    assert holders == {
        "openvpn_user": {"vpn"},
        "openvpn_password": {"vpn"},
        "wireguard_private_key": {"vpn"},
        "gluetun_auth": {"vpn"},
        "gluetun_api_key": {"polymarket_monitor"},
        "kalshi_private_key": {"game_shard", "orchestrator"},
        "redis_monitor_password": {"redis", "polymarket_monitor"},
        "redis_shard_password": {"redis", "game_shard"},
        "redis_orchestrator_password": {"redis", "orchestrator"},
        "redis_bot_password": {"redis"},  # and the bot, behind its profile
        "polymarket_us_private_key": {"game_shard"},
    }


# --------------------------------------------------------------------------- operations


def test_images_are_pinned_by_version_and_digest(compose_json: dict[str, Any]) -> None:
    for name, svc in services(compose_json).items():
        image = svc["image"]
        if "build" in svc:
            assert image == "arbees:local", name
            continue
        # name:tag@sha256:<64 hex>: the tag for people, the digest for what actually runs.
        assert DIGEST.match(image), f"{name}: {image} is not pinned by digest"
        repo, _, tag = image.split("@")[0].rpartition(":")
        assert repo, f"{name}: {image} has no tag"
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
        if secretish.search(name) and not name.endswith(("_FILE", "_DIR", "_PATH")):
            assert value == "", f"{name} must be blank in .env.example"


def test_env_example_is_ignored_by_git_once_copied() -> None:
    gitignore = (COMPOSE_FILE.parents[1] / ".gitignore").read_text(encoding="utf-8")
    lines = {line.strip() for line in gitignore.splitlines()}
    assert ".env" in lines or "deploy/.env" in lines
    assert "deploy/secrets" in lines
