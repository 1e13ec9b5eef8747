"""What the venues' request signing shares (Kalshi: RSA-PSS, Polymarket US: Ed25519).

Both venues sign ``timestamp_ms + METHOD + path`` (:func:`signing_message`), read their
private key from a file only its owner may read or write (:func:`read_key_file`), and send
three headers: a key id, the millisecond timestamp and a base64 signature, which the fake
venues check the same way (:func:`signed_headers`) before verifying the signature with
their own algorithm.

Secrets stay inside: every error raised here names the *source* of a key (its path), never
its content.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
import time
from collections.abc import Mapping
from pathlib import Path

from arbees.errors import ConfigError

__all__ = ["read_key_file", "signed_headers", "signing_message"]


def signing_message(timestamp_ms: int | str, method: str, path: str) -> bytes:
    """The exact bytes signed: ``ts + METHOD + path``, the query string dropped."""
    return f"{timestamp_ms}{method.upper()}{path.split('?', 1)[0]}".encode()


def read_key_file(path: str | os.PathLike[str], what: str) -> bytes:
    """The bytes of a private key file that only its owner may read or write.

    A file with any group/others permission bit (``mode & 0o077``) is refused with a
    :class:`ConfigError` (``chmod 600`` it), as is a file that cannot be read; ``what``
    names the key in the message (``"Kalshi private key"``).
    """
    p = Path(path)
    try:
        st = p.stat()
        if st.st_mode & 0o077:
            raise ConfigError(
                f"{what} file {p} is accessible by group/others "
                f"(mode {stat.filemode(st.st_mode)}); run: chmod 600 {p}"
            )
        return p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} file {p}: {exc.strerror}") from None


def signed_headers(
    headers: Mapping[str, str],
    names: tuple[str, str, str],
    *,
    key_id: str | None,
    now_ms: int | None,
    max_skew_ms: int,
) -> tuple[str, bytes] | None:
    """The timestamp and the decoded signature of a request's auth headers, or ``None``.

    ``names`` are the key id, timestamp and signature header names (matched
    case-insensitively). ``None`` when one is missing, the timestamp is not digits or
    further than ``max_skew_ms`` from ``now_ms`` (default: the clock), the key id is not
    ``key_id`` (when given) or the signature is not base64. The caller verifies the
    signature over :func:`signing_message` of the timestamp it gets back.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    kid, ts, sig = (lower.get(name.lower()) for name in names)
    if not kid or not ts or not sig or not ts.isdigit():
        return None
    if key_id is not None and kid != key_id:
        return None
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now - int(ts)) > max_skew_ms:
        return None
    try:
        return ts, base64.b64decode(sig, validate=True)
    except (binascii.Error, ValueError):
        return None
