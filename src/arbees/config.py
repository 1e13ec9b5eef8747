"""Configuration helpers shared by every entry point.

Only the CLI layer reads the environment; the library takes explicit arguments.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["env_bool", "redact_url"]


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
