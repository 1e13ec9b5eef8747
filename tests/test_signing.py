"""What the venues' request signing shares (``arbees.signing``): the header check the fake
venues run before verifying a signature, and the owner-only key file."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from arbees.errors import ConfigError
from arbees.signing import read_key_file, signed_headers, signing_message

NAMES = ("X-Key", "X-Ts", "X-Sig")
SIG = base64.b64encode(b"signature").decode()


def _check(headers: dict[str, str], key_id: str | None = "k1") -> tuple[str, bytes] | None:
    return signed_headers(headers, NAMES, key_id=key_id, now_ms=1_000_000, max_skew_ms=500)


def test_signing_message_drops_the_query() -> None:
    assert signing_message(12, "get", "/v1/ws/markets?x=1") == b"12GET/v1/ws/markets"


def test_signed_headers_gives_the_timestamp_and_the_decoded_signature() -> None:
    headers = {"x-key": "k1", "X-TS": "1000400", "x-sig": SIG}  # names case-insensitive
    assert _check(headers) == ("1000400", b"signature")
    assert _check(headers, key_id=None) == ("1000400", b"signature")


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Key": "k2", "X-Ts": "1000000", "X-Sig": SIG},  # another key id
        {"X-Key": "k1", "X-Ts": "1000501", "X-Sig": SIG},  # too far ahead
        {"X-Key": "k1", "X-Ts": "999499", "X-Sig": SIG},  # too old
        {"X-Key": "k1", "X-Ts": "-1000000", "X-Sig": SIG},  # not digits
        {"X-Key": "k1", "X-Ts": "1000000", "X-Sig": "not base64!"},
        {"X-Key": "k1", "X-Ts": "1000000"},  # no signature
        {"X-Ts": "1000000", "X-Sig": SIG},  # no key id
    ],
)
def test_signed_headers_refuses(headers: dict[str, str]) -> None:
    assert _check(headers) is None


def test_read_key_file_refuses_a_shared_file_without_quoting_it(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_bytes(b"SECRET-KEY-BYTES")
    path.chmod(0o640)
    with pytest.raises(ConfigError, match=r"^Some venue private key file .* chmod 600") as info:
        read_key_file(path, "Some venue private key")
    assert "SECRET" not in str(info.value)
    path.chmod(0o600)
    assert read_key_file(path, "Some venue private key") == b"SECRET-KEY-BYTES"
    with pytest.raises(ConfigError, match="cannot read Some venue private key file"):
        read_key_file(tmp_path / "missing", "Some venue private key")
