"""Kalshi request signing: RSA-PSS over ``timestamp_ms + METHOD + path``.

Kalshi authenticates every WebSocket upgrade and (optionally) REST call with three headers
(``KALSHI-ACCESS-KEY``, ``KALSHI-ACCESS-TIMESTAMP``, ``KALSHI-ACCESS-SIGNATURE``). The
signature covers a fresh millisecond timestamp, so headers are produced anew for every
connect and request — a signer is a small object holding the key, never a cached header set.

Secrets stay inside: the signer's ``repr``/``str`` shows neither the key id nor the key, and
every error raised here names the *source* of a bad key (a path or an environment variable
name), never its content.

``cryptography`` is imported on first use (a key parsed, a signature made or checked): a
service that signs nothing, such as a Polymarket monitor, does not load it (7.5 MB of RSS).
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from arbees.errors import ConfigError
from arbees.signing import read_key_file, signed_headers, signing_message

if TYPE_CHECKING:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = [
    "ENV_KEY_ID",
    "ENV_PRIVATE_KEY",
    "ENV_PRIVATE_KEY_PATH",
    "HEADER_KEY",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "KalshiSigner",
    "load_private_key",
    "signing_message",
    "verify_headers",
]

HEADER_KEY = "KALSHI-ACCESS-KEY"
HEADER_TIMESTAMP = "KALSHI-ACCESS-TIMESTAMP"
HEADER_SIGNATURE = "KALSHI-ACCESS-SIGNATURE"
ENV_KEY_ID = "KALSHI_API_KEY"
ENV_PRIVATE_KEY_PATH = "KALSHI_PRIVATE_KEY_PATH"
ENV_PRIVATE_KEY = "KALSHI_PRIVATE_KEY"


@cache
def _pss() -> tuple[padding.PSS, hashes.SHA256]:
    """Kalshi's padding (PSS, MGF1-SHA-256, salt 32) and hash (SHA-256), built once."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256()


def _parse_pem(data: bytes, source: str, password: bytes | None) -> rsa.RSAPrivateKey:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # The underlying message may quote key material; never chain it into ours.
        raise ConfigError(
            f"Kalshi private key from {source} is not a readable PEM private key "
            "(expected '-----BEGIN PRIVATE KEY-----' or '-----BEGIN RSA PRIVATE KEY-----')"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"Kalshi private key from {source} is not an RSA key")
    return key


def load_private_key(
    *,
    path: str | os.PathLike[str] | None = None,
    pem: str | bytes | None = None,
    password: bytes | None = None,
) -> rsa.RSAPrivateKey:
    """Load an RSA private key from a PEM file (``path``) or PEM text (``pem``).

    A key FILE readable or writable by group/others (``mode & 0o077``) is refused with a
    :class:`ConfigError` (``chmod 600`` it), as is anything that is not an RSA PEM key.
    """
    if (path is None) == (pem is None):
        raise ConfigError("give exactly one of a Kalshi private key path or PEM text")
    if path is not None:
        data = read_key_file(path, "Kalshi private key")
        return _parse_pem(data, f"file {Path(path)}", password)
    assert pem is not None
    data = pem.encode() if isinstance(pem, str) else pem
    return _parse_pem(data, "PEM text", password)


class KalshiSigner:
    """Produces Kalshi auth headers, signing afresh on every call.

    Example::

        signer = KalshiSigner(key_id, load_private_key(path="~/.kalshi/key.pem"))
        headers = signer.headers("GET", "/trade-api/ws/v2")

    ``repr``/``str`` never show the key id, the key or any signature.
    """

    __slots__ = ("__key", "__key_id")

    def __init__(self, key_id: str, private_key: rsa.RSAPrivateKey) -> None:
        if not key_id:
            raise ConfigError("Kalshi API key id is empty")
        self.__key_id = key_id
        self.__key = private_key

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> KalshiSigner | None:
        """Build from ``KALSHI_API_KEY`` + ``KALSHI_PRIVATE_KEY_PATH`` or ``KALSHI_PRIVATE_KEY``.

        Returns ``None`` when no key id is configured (public, unsigned access).
        """
        key_id = environ.get(ENV_KEY_ID, "").strip()
        path = environ.get(ENV_PRIVATE_KEY_PATH, "").strip()
        pem = environ.get(ENV_PRIVATE_KEY, "")
        if not key_id:
            if path or pem.strip():
                raise ConfigError(f"{ENV_KEY_ID} is required when a Kalshi private key is set")
            return None
        if path:
            return cls(key_id, load_private_key(path=os.path.expanduser(path)))
        if pem.strip():
            return cls(key_id, _parse_pem(pem.encode(), f"${ENV_PRIVATE_KEY}", None))
        raise ConfigError(
            f"{ENV_KEY_ID} is set but neither {ENV_PRIVATE_KEY_PATH} nor {ENV_PRIVATE_KEY} is"
        )

    def sign(self, timestamp_ms: int, method: str, path: str) -> str:
        """Base64 RSA-PSS(SHA-256, MGF1-SHA-256, salt 32) signature of the signing message."""
        sig = self.__key.sign(signing_message(timestamp_ms, method, path), *_pss())
        return base64.b64encode(sig).decode("ascii")

    def headers(self, method: str, path: str, *, timestamp_ms: int | None = None) -> dict[str, str]:
        """The three ``KALSHI-ACCESS-*`` headers for one request (``path`` may hold a query)."""
        ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        return {
            HEADER_KEY: self.__key_id,
            HEADER_TIMESTAMP: str(ts),
            HEADER_SIGNATURE: self.sign(ts, method, path),
        }

    def public_key_pem(self) -> bytes:
        """The public half (safe to share), e.g. for a fake server that verifies us."""
        from cryptography.hazmat.primitives import serialization

        return self.__key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def __repr__(self) -> str:
        return "KalshiSigner(key_id=<redacted>, private_key=<redacted>)"

    __str__ = __repr__


def verify_headers(
    public_key: rsa.RSAPublicKey,
    headers: Mapping[str, str],
    method: str,
    path: str,
    *,
    key_id: str | None = None,
    now_ms: int | None = None,
    max_skew_ms: int = 60_000,
) -> bool:
    """Check Kalshi auth headers (used by the fake venue; case-insensitive header names)."""
    signed = signed_headers(
        headers,
        (HEADER_KEY, HEADER_TIMESTAMP, HEADER_SIGNATURE),
        key_id=key_id,
        now_ms=now_ms,
        max_skew_ms=max_skew_ms,
    )
    if signed is None:
        return False
    ts, sig = signed
    from cryptography.exceptions import InvalidSignature

    try:
        public_key.verify(sig, signing_message(ts, method, path), *_pss())
    except (InvalidSignature, ValueError):
        return False
    return True
