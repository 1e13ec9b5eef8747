"""deploy/README.md must match the files: every path, service, variable, command and Redis
channel it names exists, so a guide that drifts from the compose file fails CI.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from typing import Any

from deploy_support import (
    APP_ENV_VARS,
    COMPOSE_FILE,
    MAKE_SECRETS,
    REPO,
    SECRET_FILES,
    env_example_vars,
)

README = REPO / "deploy" / "README.md"
COMPOSE_PREFIX = ["docker", "compose", "-f", "deploy/compose.yaml", "--env-file", "deploy/.env"]
# The US-only deployment: the same files plus its override (deploy/compose.us-only.yaml).
US_ONLY_PREFIX = [*COMPOSE_PREFIX[:4], "-f", "deploy/compose.us-only.yaml", *COMPOSE_PREFIX[4:]]
# The services' CLI: sub-commands and `arbees health --service` values.
ARBEES_COMMANDS = {"monitor", "shard", "orchestrator", "health", "check-egress"}
HEALTH_SERVICES = {"monitor", "shard", "orchestrator"}
# Upper-case words in the guide that are not variables.
NOT_VARIABLES = {
    "NET_ADMIN",
    "POLYMARKET_MONITOR_UNHEALTHY",
    "ASSIGNMENT_REJECTED",  # alert kinds
    "MONITOR_TOKEN_CAP",
    "SHARD_GAME_CAP",
    "ORCHESTRATOR_SHARD_CAP",
    "HTTP_CONTROL_SERVER_AUTH_DEFAULT_ROLE",
    "REDISCLI_AUTH",  # redis-cli's own variable, set inside the container's shell
    "PYTHON_IMAGE",  # the Dockerfile's build argument
}


def readme() -> str:
    return README.read_text(encoding="utf-8")


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", readme(), flags=re.S)


def shell_commands() -> list[list[str]]:
    commands: list[list[str]] = []
    for block in shell_blocks():
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            if line and not line.startswith("#"):
                commands.append(shlex.split(line))
    return commands


def compose_commands() -> list[list[str]]:
    return [c for c in shell_commands() if c[:2] == ["docker", "compose"]]


def test_guide_has_the_three_start_commands() -> None:
    commands = shell_commands()
    assert ["cp", "deploy/.env.example", "deploy/.env"] in commands
    assert [*COMPOSE_PREFIX, "up", "-d", "--build"] in commands


def _after_prefix(command: list[str]) -> list[str]:
    for prefix in (COMPOSE_PREFIX, US_ONLY_PREFIX):
        if command[: len(prefix)] == prefix:
            return command[len(prefix) :]
    raise AssertionError(f"not the deployment's files: {shlex.join(command)}")


def test_every_compose_command_uses_the_same_files() -> None:
    commands = compose_commands()
    assert len(commands) >= 10
    for command in commands:
        _after_prefix(command)
    us_only = [c for c in commands if c[: len(US_ONLY_PREFIX)] == US_ONLY_PREFIX]
    assert [*US_ONLY_PREFIX, "up", "-d", "--build"] in us_only  # the US-only start


def test_every_service_named_exists(compose_json: dict[str, Any]) -> None:
    services = set(compose_json["services"])
    named: set[str] = set()
    for command in compose_commands():
        rest = _after_prefix(command)
        verb, args = rest[0], rest[1:]
        for i, arg in enumerate(args):
            if arg == "--scale":
                named.add(args[i + 1].split("=")[0])
        if verb in {"exec", "logs", "ps", "stop", "start", "restart"}:
            positional = [a for a in args if not a.startswith("-")]
            if positional:
                named.add(positional[0])
    assert named, "the guide names services"
    assert named <= services, named - services
    # The overview table lists exactly the compose services.
    table = set(re.findall(r"^\| `([a-z_]+)`", readme(), flags=re.M))
    assert table == services


def test_every_arbees_command_exists() -> None:
    for command in compose_commands():
        if "arbees" not in command:
            continue
        args = command[command.index("arbees") + 1 :]
        assert args[0] in ARBEES_COMMANDS, shlex.join(command)
        if "--service" in args:
            assert args[args.index("--service") + 1] in HEALTH_SERVICES


def test_every_path_named_exists() -> None:
    ignored_user_files = {
        "deploy/.env",
        "deploy/secrets",
        "deploy/secrets/",
        "deploy/secrets/kalshi_private_key.pem",
    }
    paths = set(re.findall(r"(?<![\w/.])(deploy/[\w./-]*[\w/])", readme()))
    assert "deploy/compose.yaml" in paths
    # The secret files the operator creates (deploy/make-secrets.sh) exist only on a host.
    ignored_user_files |= {p for p in paths if p.startswith("deploy/secrets/")}
    for path in paths - ignored_user_files:
        assert (REPO / path).exists(), path
    for path in ignored_user_files & paths:
        out = subprocess.run(
            ["git", "check-ignore", "-q", "--no-index", path], cwd=REPO, check=False
        )
        assert out.returncode == 0, f"{path} must be git-ignored: it holds secrets"


def test_every_variable_named_exists() -> None:
    text = readme()
    candidates = set(re.findall(r"\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b", text))
    candidates |= set(re.findall(r"`([A-Z][A-Z0-9_]*)=", text))
    compose_text = COMPOSE_FILE.read_text(encoding="utf-8")
    known = env_example_vars() | APP_ENV_VARS | NOT_VARIABLES
    for name in candidates - known:
        assert re.search(rf"\b{name}\b", compose_text), f"{name} is named nowhere else"


def test_images_named_match_compose(compose_json: dict[str, Any]) -> None:
    images = {s["image"].split("@")[0] for s in compose_json["services"].values()}
    named = set(re.findall(r"`([a-z0-9./-]+:(?:v?\d[\w.-]*|local))`", readme()))
    assert "arbees:local" in named
    assert named <= images, named - images


def test_the_digest_update_command_names_every_pinned_image(compose_json: dict[str, Any]) -> None:
    pinned = {
        s["image"].split("@")[0] for s in compose_json["services"].values() if "@" in s["image"]
    }
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    python = re.search(r"^ARG PYTHON_IMAGE=(\S+)@sha256:", dockerfile, flags=re.M)
    assert python is not None
    pinned.add(python.group(1))
    inspected = {
        c[4] for c in shell_commands() if c[:4] == ["docker", "buildx", "imagetools", "inspect"]
    }
    assert pinned
    assert pinned == inspected


def test_every_secret_file_named_is_one_make_secrets_creates() -> None:
    named = set(re.findall(r"deploy/secrets/([\w.]+)", readme()))
    made = set(SECRET_FILES) | {"kalshi_private_key.pem"}
    assert named, "the guide names the secret files"
    assert named <= made, named - made


def test_redis_channels_named_are_the_real_ones() -> None:
    channels = {
        name
        for names in re.findall(r"SUBSCRIBE ((?:[\w:]+ ?)+)", readme())
        for name in names.split()
    }
    assert {"polymarket:prices", "arbees:signals", "system:alerts"} <= channels
    from arbees.messages import Channel

    real = {str(c) for c in Channel}
    assert channels <= real, channels - real


def test_gluetun_role_shown_matches_what_make_secrets_writes() -> None:
    shown = re.search(r"```toml\n(.*?)```", readme(), flags=re.S)
    assert shown is not None
    script = MAKE_SECRETS.read_text(encoding="utf-8")
    for line in shown.group(1).splitlines():
        if line.startswith("apikey"):
            continue  # the guide shows a placeholder for the generated key
        assert line.strip() in script, line


def test_readme_mentions_the_rollback_and_vpn_drop_behaviour() -> None:
    text = readme()
    for needed in (
        "POLYMARKET_VIA_REDIS=false",
        "HTTPPROXY=on",
        "POLYMARKET_PROXY_URL=http://vpn:8888",
        "POLYMARKET_MONITOR_UNHEALTHY",
        "system:alerts",
        "--scale game_shard=3",
    ):
        assert needed in text, needed
