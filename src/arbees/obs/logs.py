"""Logging set-up for the services: human-readable by default, JSON lines on request.

Secrets never reach a log line: every record passes :class:`RedactingFilter`, which masks
URL passwords and any registered secret value wherever it appears.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Final

__all__ = ["JsonFormatter", "RedactingFilter", "register_secret", "setup_logging"]

_SECRETS: set[str] = set()
_URL_PASSWORD: Final = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.I)


def register_secret(value: str | None) -> None:
    """Mask ``value`` in every log record from now on (ignored when empty or very short)."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text: str) -> str:
    text = _URL_PASSWORD.sub(r"\g<scheme>***@", text)
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "***")
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts, level, logger, msg`` plus ``exc`` when present."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            out["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False)


def setup_logging(level: str = "INFO", fmt: str = "human") -> None:
    """Configure the root logger once for a service process."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
