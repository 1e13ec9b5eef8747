"""Ed25519 signer: exact vectors, the WebSocket path, strict key files, no secret leaks."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from arbees.errors import ConfigError
from arbees.polymarket_us.auth import (
    ENV_KEY_ID,
    ENV_PRIVATE_KEY_PATH,
    WS_MARKETS_PATH,
    HeaderNames,
    PolymarketUsSigner,
    load_private_key,
    parse_private_key,
    signing_message,
    verify_headers,
)

# RFC 8032 section 7.1, TEST 1: a published Ed25519 key pair.
SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
KEY_ID = "550e8400-e29b-41d4-a716-446655440000"
TS = 1_705_420_800_000


def _key_file(tmp_path: Path, data: bytes, mode: int = 0o600) -> Path:
    path = tmp_path / "pmus.key"
    path.write_bytes(data)
    path.chmod(mode)
    return path


def _signer(tmp_path: Path) -> PolymarketUsSigner:
    path = _key_file(tmp_path, base64.b64encode(SEED + PUBLIC) + b"\n")
    return PolymarketUsSigner(KEY_ID, load_private_key(path))


def test_message_layout_is_timestamp_method_path_without_query() -> None:
    assert signing_message(TS, "get", "/v1/markets?limit=5") == b"1705420800000GET/v1/markets"
    assert signing_message(TS, "GET", WS_MARKETS_PATH) == b"1705420800000GET/v1/ws/markets"


def test_fixed_key_and_request_give_the_exact_signature(tmp_path: Path) -> None:
    headers = _signer(tmp_path).headers("GET", WS_MARKETS_PATH, timestamp_ms=TS)
    assert list(headers) == ["X-PM-Access-Key", "X-PM-Timestamp", "X-PM-Signature"]
    assert headers["X-PM-Access-Key"] == KEY_ID
    assert headers["X-PM-Timestamp"] == "1705420800000"
    # Computed independently: the primitive over the documented layout, and pinned.
    independent = ed25519.Ed25519PrivateKey.from_private_bytes(SEED).sign(
        b"1705420800000GET/v1/ws/markets"
    )
    assert base64.b64decode(headers["X-PM-Signature"]) == independent
    assert headers["X-PM-Signature"] == (
        "is9MD3GH7S44ZuYAeBR4fW1MVY9MIV9GlCkKwi7/W5CQQh7fV0215BIl3AETCIwK+8xHO8YBxPWFObzxsSHVBA=="
    )


def test_a_signature_over_root_does_not_verify_for_the_ws_path(tmp_path: Path) -> None:
    signer = _signer(tmp_path)
    wrong = signer.headers("GET", "/", timestamp_ms=TS)
    public = ed25519.Ed25519PublicKey.from_public_bytes(PUBLIC)
    assert not verify_headers(public, wrong, "GET", WS_MARKETS_PATH, now_ms=TS)
    right = signer.headers("GET", WS_MARKETS_PATH, timestamp_ms=TS)
    assert verify_headers(public, right, "GET", WS_MARKETS_PATH, now_ms=TS, key_id=KEY_ID)
    assert not verify_headers(public, right, "GET", WS_MARKETS_PATH, now_ms=TS + 30_001)
    assert not verify_headers(public, right, "GET", WS_MARKETS_PATH, now_ms=TS, key_id="other")


def test_header_names_are_configurable() -> None:
    names = HeaderNames(key="K", timestamp="T", signature="S")
    key = parse_private_key(base64.b64encode(SEED), "test")
    signer = PolymarketUsSigner(KEY_ID, key, names=names)
    headers = signer.headers("GET", WS_MARKETS_PATH, timestamp_ms=TS)
    assert set(headers) == {"K", "T", "S"}
    public = signer.public_key()
    assert verify_headers(public, headers, "GET", WS_MARKETS_PATH, now_ms=TS, names=names)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_key_file_open_to_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = _key_file(tmp_path, base64.b64encode(SEED + PUBLIC), mode)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_private_key(path)


def test_seed_only_and_pem_keys_sign_alike(tmp_path: Path) -> None:
    full = parse_private_key(base64.b64encode(SEED + PUBLIC), "test")
    seed = parse_private_key(base64.b64encode(SEED), "test")
    pem = ed25519.Ed25519PrivateKey.from_private_bytes(SEED).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    from_pem = parse_private_key(pem, "test")
    message = signing_message(TS, "GET", WS_MARKETS_PATH)
    assert full.sign(message) == seed.sign(message) == from_pem.sign(message)


@pytest.mark.parametrize(
    "data",
    [
        b"not base64 at all!",
        base64.b64encode(b"\x01" * 40),
        base64.b64encode(SEED + bytes(32)),  # public half does not match the seed
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    ],
)
def test_bad_key_content_is_a_config_error_without_the_content(data: bytes) -> None:
    with pytest.raises(ConfigError) as info:
        parse_private_key(data, "file /k")
    assert "/k" in str(info.value)
    assert base64.b64encode(SEED).decode()[:16] not in str(info.value)
    assert info.value.__cause__ is None


def test_repr_and_str_hide_key_id_and_key(tmp_path: Path) -> None:
    signer = _signer(tmp_path)
    for text in (repr(signer), str(signer), f"{signer!r}"):
        assert KEY_ID not in text
        assert base64.b64encode(SEED).decode()[:12] not in text
        assert "redacted" in text


def test_from_env(tmp_path: Path) -> None:
    path = _key_file(tmp_path, base64.b64encode(SEED + PUBLIC))
    assert PolymarketUsSigner.from_env({}) is None
    signer = PolymarketUsSigner.from_env({ENV_KEY_ID: KEY_ID, ENV_PRIVATE_KEY_PATH: str(path)})
    assert signer is not None
    assert signer.headers("GET", WS_MARKETS_PATH, timestamp_ms=TS)["X-PM-Access-Key"] == KEY_ID
    with pytest.raises(ConfigError, match=ENV_KEY_ID):
        PolymarketUsSigner.from_env({ENV_PRIVATE_KEY_PATH: str(path)})
    with pytest.raises(ConfigError, match=ENV_PRIVATE_KEY_PATH):
        PolymarketUsSigner.from_env({ENV_KEY_ID: KEY_ID})
    with pytest.raises(ConfigError):
        PolymarketUsSigner(" ".strip(), parse_private_key(base64.b64encode(SEED), "t"))
