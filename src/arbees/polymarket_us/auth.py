"""Polymarket US request signing: Ed25519 over ``timestamp_ms + METHOD + path``.

Layout (source: the Polymarket US API documentation, "Authentication" and "WebSocket API"
pages at docs.polymarket.us, and issue 17):

- the signed message is the UTF-8 text ``f"{timestamp_ms}{METHOD}{path}"``: the
  millisecond Unix timestamp as decimal digits, the upper-case HTTP method, the URL path
  without its query string, with no separators and no body (the market-data calls arbees
  makes are all ``GET``);
- the WebSocket upgrade is signed like a ``GET`` of its own path: ``/v1/ws/markets``,
  never ``/`` (the venue answers 401 to a signature over the wrong path);
- the signature is a plain Ed25519 signature (64 bytes), standard base64 with padding;
- three headers carry it: ``X-PM-Access-Key`` (the key id), ``X-PM-Timestamp`` and
  ``X-PM-Signature``. Only one source documents these names, so they are configurable
  (:class:`HeaderNames`) rather than assumed.

The private key is read from a FILE only (``POLYMARKET_US_PRIVATE_KEY_PATH``), refused
when group/others may read or write it, like :mod:`arbees.kalshi.auth` (both through
:mod:`arbees.signing`). Accepted contents:
the venue's own format (base64 of 64 bytes: the 32-byte seed then the 32-byte public key,
the two checked against each other), base64 of the bare 32-byte seed, or a PKCS#8 PEM
Ed25519 key.

Secrets stay inside: the signer's ``repr``/``str`` shows neither the key id nor the key,
and every error raised here names the *source* of a bad key (a path or an environment
variable name), never its content. ``cryptography`` is imported on first use, as in
:mod:`arbees.kalshi.auth`.
"""

from __future__ import annotations

import base64
import binascii
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from arbees.errors import ConfigError
from arbees.signing import read_key_file, signed_headers, signing_message

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ed25519

__all__ = [
    "ENV_KEY_ID",
    "ENV_PRIVATE_KEY_PATH",
    "WS_MARKETS_PATH",
    "HeaderNames",
    "PolymarketUsSigner",
    "load_private_key",
    "parse_private_key",
    "signing_message",
    "verify_headers",
]

ENV_KEY_ID = "POLYMARKET_US_KEY_ID"
ENV_PRIVATE_KEY_PATH = "POLYMARKET_US_PRIVATE_KEY_PATH"
WS_MARKETS_PATH = "/v1/ws/markets"
"""The path the market-data WebSocket upgrade is signed over (not ``/``)."""


@attrs.frozen
class HeaderNames:
    """The three auth header names (configurable: one documentation source only).

    Attributes:
        key: header carrying the API key id.
        timestamp: header carrying the millisecond timestamp.
        signature: header carrying the base64 Ed25519 signature.
    """

    key: str = "X-PM-Access-Key"
    timestamp: str = "X-PM-Timestamp"
    signature: str = "X-PM-Signature"


def parse_private_key(data: bytes, source: str) -> ed25519.Ed25519PrivateKey:
    """An Ed25519 key from the venue's base64 (64 or 32 bytes) or a PKCS#8 PEM.

    Raises :class:`ConfigError` naming ``source`` only, never the content.
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    text = data.strip()
    if text.startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise ConfigError(
                f"Polymarket US private key from {source} is not a readable PEM key"
            ) from None
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ConfigError(f"Polymarket US private key from {source} is not an Ed25519 key")
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(
            f"Polymarket US private key from {source} is neither base64 nor PEM"
        ) from None
    if len(raw) not in (32, 64):
        raise ConfigError(
            f"Polymarket US private key from {source} decodes to {len(raw)} bytes "
            "(expected 64: seed + public key, or a 32-byte seed)"
        )
    key = ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32])
    if len(raw) == 64:
        public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        if public != raw[32:]:
            raise ConfigError(
                f"Polymarket US private key from {source}: its public half does not match "
                "its seed (a truncated or mixed-up key)"
            )
    return key


def load_private_key(path: str | os.PathLike[str]) -> ed25519.Ed25519PrivateKey:
    """Load the Ed25519 key from a file that only its owner may read or write.

    A file with any group/others permission bit (``mode & 0o077``) is refused with a
    :class:`ConfigError` (``chmod 600`` it).
    """
    data = read_key_file(path, "Polymarket US private key")
    return parse_private_key(data, f"file {Path(path)}")


class PolymarketUsSigner:
    """Produces Polymarket US auth headers, signing afresh on every call.

    Example::

        signer = PolymarketUsSigner(key_id, load_private_key("~/.pmus/key"))
        headers = signer.headers("GET", WS_MARKETS_PATH)

    ``repr``/``str`` never show the key id, the key or any signature.
    """

    __slots__ = ("__key", "__key_id", "names")

    def __init__(
        self,
        key_id: str,
        private_key: ed25519.Ed25519PrivateKey,
        *,
        names: HeaderNames | None = None,
    ) -> None:
        if not key_id:
            raise ConfigError("Polymarket US API key id is empty")
        self.__key_id = key_id
        self.__key = private_key
        self.names = names or HeaderNames()

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str], *, names: HeaderNames | None = None
    ) -> PolymarketUsSigner | None:
        """Build from ``POLYMARKET_US_KEY_ID`` + ``POLYMARKET_US_PRIVATE_KEY_PATH``.

        Returns ``None`` when neither is set (no market-data WebSocket, REST only); one
        without the other is a :class:`ConfigError`.
        """
        key_id = environ.get(ENV_KEY_ID, "").strip()
        path = environ.get(ENV_PRIVATE_KEY_PATH, "").strip()
        if not key_id and not path:
            return None
        if not key_id:
            raise ConfigError(f"{ENV_KEY_ID} is required when {ENV_PRIVATE_KEY_PATH} is set")
        if not path:
            raise ConfigError(f"{ENV_PRIVATE_KEY_PATH} is required when {ENV_KEY_ID} is set")
        return cls(key_id, load_private_key(os.path.expanduser(path)), names=names)

    def sign(self, timestamp_ms: int, method: str, path: str) -> str:
        """Base64 Ed25519 signature of :func:`signing_message`."""
        sig = self.__key.sign(signing_message(timestamp_ms, method, path))
        return base64.b64encode(sig).decode("ascii")

    def headers(self, method: str, path: str, *, timestamp_ms: int | None = None) -> dict[str, str]:
        """The three auth headers for one request (``path`` may hold a query)."""
        ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        names = self.names
        return {
            names.key: self.__key_id,
            names.timestamp: str(ts),
            names.signature: self.sign(ts, method, path),
        }

    def public_key(self) -> ed25519.Ed25519PublicKey:
        """The public half (safe to share), e.g. for a fake server that verifies us."""
        return self.__key.public_key()

    def __repr__(self) -> str:
        return "PolymarketUsSigner(key_id=<redacted>, private_key=<redacted>)"

    __str__ = __repr__


def verify_headers(
    public_key: ed25519.Ed25519PublicKey,
    headers: Mapping[str, str],
    method: str,
    path: str,
    *,
    key_id: str | None = None,
    now_ms: int | None = None,
    max_skew_ms: int = 30_000,
    names: HeaderNames | None = None,
) -> bool:
    """Check Polymarket US auth headers (the fake venue's side; names case-insensitive)."""
    names = names or HeaderNames()
    signed = signed_headers(
        headers,
        (names.key, names.timestamp, names.signature),
        key_id=key_id,
        now_ms=now_ms,
        max_skew_ms=max_skew_ms,
    )
    if signed is None:
        return False
    ts, sig = signed
    from cryptography.exceptions import InvalidSignature

    try:
        public_key.verify(sig, signing_message(ts, method, path))
    except (InvalidSignature, ValueError):
        return False
    return True
