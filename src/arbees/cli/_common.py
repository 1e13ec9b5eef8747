"""Options shared by the service commands, with environment-variable defaults.

The CLI is the only layer that reads the environment: each option's default comes from the
variable named in its help text, and a command-line value overrides it.

Secrets come from files (Docker secrets), never from the variables ``docker inspect``
shows: ``REDIS_PASSWORD_FILE`` holds the password of the user named in ``REDIS_URL``
(``redis://monitor@redis:6379/0``), ``EGRESS_CHECK_API_KEY_FILE`` the Gluetun API key
(:func:`secret_environ`). A secret read from a file is registered for log redaction, and
the bus URL it completes is a :class:`SecretUrl`, whose ``repr`` hides it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from arbees import config
from arbees.config import SecretUrl, redact_url, url_with_password_file
from arbees.errors import ConfigError
from arbees.obs.logs import register_secret

__all__ = [
    "SecretUrl",
    "add_bus_options",
    "add_service_options",
    "bus_url",
    "env",
    "env_float",
    "env_int",
    "given",
    "read_secret_file",
    "secret_environ",
]

# Secret variables that may instead be given as a file: {variable: variable naming the file}.
SECRET_FILE_VARIABLES: Final = {"EGRESS_CHECK_API_KEY": "EGRESS_CHECK_API_KEY_FILE"}


def given(args: argparse.Namespace, names: Sequence[str]) -> dict[str, Any]:
    """The options among ``names`` given on the command line (their default is ``None``):
    overrides of the settings fields of the same names."""
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def env_int(name: str, default: int) -> int:
    return int(env(name, str(default)))


def env_float(name: str, default: float) -> float:
    return float(env(name, str(default)))


def read_secret_file(variable: str, path: str) -> str:
    """:func:`arbees.config.read_secret_file`, registered for log redaction."""
    value = config.read_secret_file(variable, path)
    register_secret(value)
    return value


def secret_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment with each ``NAME_FILE`` of :data:`SECRET_FILE_VARIABLES` resolved:
    ``NAME`` holds the file's content. Setting both ``NAME`` and ``NAME_FILE`` is a
    :class:`ConfigError` (which one wins would be a guess)."""
    resolved = dict(os.environ if environ is None else environ)
    for name, file_variable in SECRET_FILE_VARIABLES.items():
        path = resolved.get(file_variable, "").strip()
        if not path:
            continue
        if resolved.get(name, "").strip():
            raise ConfigError(f"set {name} or {file_variable}, not both")
        resolved[name] = read_secret_file(file_variable, path)
    return resolved


def bus_url(url: str) -> str:
    """``url`` completed with the password in ``REDIS_PASSWORD_FILE``, if that is set
    (:func:`arbees.config.url_with_password_file`; the password is registered for log
    redaction)."""
    completed = url_with_password_file(url, os.environ.get("REDIS_PASSWORD_FILE", "").strip())
    register_secret(unquote(urlsplit(completed).password or "") or None)
    return completed


def _bus_url_option(url: str) -> str:
    try:
        return bus_url(url)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_bus_options(parser: argparse.ArgumentParser) -> None:
    default = env("REDIS_URL", "memory://")
    parser.add_argument(
        "--redis-url",
        default=default,
        # argparse runs `type` on the default too, once this command's options are parsed.
        type=_bus_url_option,
        help="bus URL: memory://, redis://[user[:pass]@]host:port/db or rediss://...; the "
        "password is best given in a file (env REDIS_URL, REDIS_PASSWORD_FILE; "
        f"now {redact_url(default)})",
    )


def add_service_options(parser: argparse.ArgumentParser) -> None:
    add_bus_options(parser)
    parser.add_argument(
        "--log-level", default=env("LOG_LEVEL", "INFO"), help="log level (env LOG_LEVEL)"
    )
    parser.add_argument(
        "--log-format",
        default=env("LOG_FORMAT", "human"),
        choices=("human", "json"),
        help="log format (env LOG_FORMAT)",
    )
    metrics = os.environ.get("METRICS_PORT")
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=int(metrics) if metrics else None,
        help="serve Prometheus metrics on this port (env METRICS_PORT; off by default)",
    )
    parser.add_argument(
        "--metrics-addr",
        default=env("METRICS_ADDR", "127.0.0.1"),
        help="address the metrics server binds (env METRICS_ADDR; default 127.0.0.1, "
        "0.0.0.0 only where a scraper on another host must reach it)",
    )
