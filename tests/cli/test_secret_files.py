"""Secrets from files: REDIS_PASSWORD_FILE completes the bus URL, *_FILE fills secrets."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pytest
import redis

from arbees.cli import build_parser
from arbees.cli._common import SecretUrl, add_bus_options, bus_url, secret_environ
from arbees.errors import ConfigError
from arbees.obs.logs import RedactingFilter

PASSWORD = "p@ss:w/rd%41-Zq9#x?y"  # every character a URL would misread


def _secret(tmp_path: Path, text: str, name: str = "pw") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_bus_options(parser)
    return parser.parse_args(list(argv))


def test_password_file_completes_the_url_that_redis_py_reads_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_PASSWORD_FILE", str(_secret(tmp_path, PASSWORD + "\n")))
    monkeypatch.setenv("REDIS_URL", "redis://monitor@redis:6379/0")
    url = _parse().redis_url
    kwargs = redis.Redis.from_url(url).connection_pool.connection_kwargs
    assert (kwargs["username"], kwargs["password"]) == ("monitor", PASSWORD)
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("redis", 6379, 0)
    # The command line's URL gets the file's password too.
    other = _parse("--redis-url", "redis://shard@127.0.0.1:7000/0").redis_url
    assert redis.Redis.from_url(other).connection_pool.connection_kwargs["password"] == PASSWORD


def test_the_completed_url_never_shows_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_PASSWORD_FILE", str(_secret(tmp_path, PASSWORD)))
    args = _parse("--redis-url", "redis://monitor@redis:6379/0")
    assert isinstance(args.redis_url, SecretUrl)
    for shown in (repr(args), repr(args.redis_url), f"{args.redis_url!r}"):
        assert PASSWORD not in shown
        assert "%40" not in shown  # nor its URL-encoded form
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "raw %s", (PASSWORD,), None)
    assert RedactingFilter().filter(record)
    assert PASSWORD not in record.getMessage()  # registered for redaction when read


@pytest.mark.parametrize(
    ("content", "url", "expected"),
    [
        (None, "redis://monitor@redis:6379/0", "cannot read"),
        ("", "redis://monitor@redis:6379/0", "is empty"),
        ("\n", "redis://monitor@redis:6379/0", "is empty"),
        ("x" * 70_000, "redis://monitor@redis:6379/0", "larger than"),
        (PASSWORD, "redis://monitor:inline@redis:6379/0", "REDIS_PASSWORD_FILE is set too"),
        (PASSWORD, "memory://", "REDIS_PASSWORD_FILE is set but the bus URL is memory://"),
    ],
)
def test_bad_password_files_are_clear_config_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None, url: str, expected: str
) -> None:
    path = tmp_path / "pw" if content is None else _secret(tmp_path, content)
    monkeypatch.setenv("REDIS_PASSWORD_FILE", str(path))
    with pytest.raises(ConfigError, match=expected) as info:
        bus_url(url)
    assert PASSWORD not in str(info.value)
    assert "inline" not in str(info.value)


def test_a_bad_password_file_is_a_usage_error_of_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_PASSWORD_FILE", str(tmp_path / "missing"))
    monkeypatch.setenv("REDIS_URL", "redis://shard@127.0.0.1:1/0")
    parser = build_parser()  # building every command's options never reads the file ...
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["health", "--service", "shard"])  # ... running one does
    assert info.value.code == 2
    assert "REDIS_PASSWORD_FILE" in capsys.readouterr().err


def test_without_a_file_the_url_is_used_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_PASSWORD_FILE", raising=False)
    assert bus_url("memory://") == "memory://"
    inline = bus_url("redis://:legacy-pw@127.0.0.1:6379/0")
    assert inline == "redis://:legacy-pw@127.0.0.1:6379/0"
    assert "legacy-pw" not in repr(inline)


def test_secret_environ_reads_the_egress_api_key_file(tmp_path: Path) -> None:
    key = _secret(tmp_path, "gluetun-key-0123456789\n", "key")
    env = {"EGRESS_CHECK_API_KEY_FILE": str(key), "OTHER": "1"}
    resolved = secret_environ(env)
    assert resolved["EGRESS_CHECK_API_KEY"] == "gluetun-key-0123456789"
    assert resolved["OTHER"] == "1"
    with pytest.raises(ConfigError, match="not both"):
        secret_environ(env | {"EGRESS_CHECK_API_KEY": "inline"})
    with pytest.raises(ConfigError, match="EGRESS_CHECK_API_KEY_FILE: cannot read"):
        secret_environ({"EGRESS_CHECK_API_KEY_FILE": str(tmp_path / "missing")})


def test_monitor_settings_take_the_key_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arbees.egress import EgressSettings

    monkeypatch.delenv("EGRESS_CHECK_API_KEY", raising=False)
    monkeypatch.setenv("EGRESS_CHECK_API_KEY_FILE", str(_secret(tmp_path, "k-from-file-42")))
    settings = EgressSettings.from_env(secret_environ(), url="http://127.0.0.1:1/v1/publicip/ip")
    assert settings.api_key == "k-from-file-42"
    assert "k-from-file-42" not in repr(settings)
