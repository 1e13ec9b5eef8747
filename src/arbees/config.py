"""Configuration helpers shared by every entry point.

Only the CLI layer reads the environment; the library takes explicit arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = ["SecretUrl", "env_bool", "read_secret_file", "redact_url", "url_with_password_file"]

# A secret is a password or a key: a file larger than this is the wrong file.
_MAX_SECRET_BYTES: Final = 64 * 1024


def redact_url(url: str) -> str:
    """``redis://user:secret@host/0`` -> ``redis://***@host/0`` (safe to log).

    Both user and password go: a proxy or VPN account name is a credential too.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    if parts.username is None and parts.password is None and "@" not in parts.netloc:
        return url
    try:
        port = parts.port
    except ValueError:
        return "<unparseable url>"
    host = parts.hostname or ""
    if port is not None:
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme, "***@" + host, parts.path, parts.query, parts.fragment))


class SecretUrl(str):
    """A URL carrying a password: the string itself for use, redacted in ``repr``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(redact_url(str(self)))


def read_secret_file(variable: str, path: str) -> str:
    """The secret in ``path`` (named by ``variable``), without surrounding whitespace.

    Raises :class:`~arbees.errors.ConfigError` naming the variable and the path, never the
    content, when the file is missing, unreadable, empty, oversized or not UTF-8 text.
    """
    from arbees.errors import ConfigError

    try:
        with Path(path).open("rb") as f:
            data = f.read(_MAX_SECRET_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{variable}: cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > _MAX_SECRET_BYTES:
        raise ConfigError(f"{variable}: {path} is larger than {_MAX_SECRET_BYTES} bytes")
    try:
        value = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigError(f"{variable}: {path} is not UTF-8 text") from None
    if not value:
        raise ConfigError(f"{variable}: {path} is empty")
    return value


def url_with_password_file(
    url: str, password_file: str | None, *, variable: str = "REDIS_PASSWORD_FILE"
) -> str:
    """``url`` completed with the password in ``password_file`` (when one is given).

    The URL names the user (``redis://monitor@redis:6379/0``); the password is
    percent-encoded into it (redis-py decodes it) and the result is a :class:`SecretUrl`.
    A URL that already has a password, or one that is not ``redis://``/``rediss://``,
    together with a file is a :class:`~arbees.errors.ConfigError`: one source per secret.
    """
    from arbees.errors import ConfigError

    if not password_file:
        return SecretUrl(url) if "@" in url else url
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ConfigError(f"{variable} is set but the bus URL is {redact_url(url)}")
    if parts.password is not None:
        raise ConfigError(f"the Redis URL has a password and {variable} is set too")
    password = read_secret_file(variable, password_file)
    user, _, hostport = parts.netloc.rpartition("@")
    netloc = f"{user}:{quote(password, safe='')}@{hostport}"
    return SecretUrl(urlunsplit(parts._replace(netloc=netloc)))


def env_bool(value: str | None, default: bool) -> bool:
    """Parse ``true/false/1/0/yes/no/on/off`` (case-insensitive); ``None`` -> default."""
    if value is None or value.strip() == "":
        return default
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    from arbees.errors import ConfigError

    raise ConfigError(f"expected a boolean (true/false), got {value!r}")
