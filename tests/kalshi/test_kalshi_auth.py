"""RSA-PSS signing: verifiable signatures, the exact signed message, no secrets leaking."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from arbees.errors import ConfigError
from arbees.kalshi.auth import (
    HEADER_KEY,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    KalshiSigner,
    load_private_key,
    signing_message,
    verify_headers,
)
from arbees.testing.kalshi_keys import (
    FIXED_TEST_KEY_ID,
    FIXED_TEST_PRIVATE_KEY_PEM,
    TEST_KEY_ID,
    generate_test_key_pem,
)

TS = 1_700_000_000_123


def _fixed_signer() -> KalshiSigner:
    return KalshiSigner(FIXED_TEST_KEY_ID, load_private_key(pem=FIXED_TEST_PRIVATE_KEY_PEM))


def test_signature_verifies_with_public_key(
    signer: KalshiSigner, test_key: rsa.RSAPrivateKey
) -> None:
    sig = base64.b64decode(signer.sign(TS, "GET", "/trade-api/ws/v2"))
    test_key.public_key().verify(
        sig,
        f"{TS}GET/trade-api/ws/v2".encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )


def test_fixed_key_fixed_timestamp_vector() -> None:
    # PSS is randomized: pin the signed message and headers, verify the signature.
    assert signing_message(TS, "get", "/trade-api/v2/markets?limit=5&cursor=abc") == (
        b"1700000000123GET/trade-api/v2/markets"
    )
    s = _fixed_signer()
    headers = s.headers("GET", "/trade-api/v2/markets?limit=5", timestamp_ms=TS)
    assert list(headers) == [HEADER_KEY, HEADER_TIMESTAMP, HEADER_SIGNATURE]
    assert headers[HEADER_KEY] == FIXED_TEST_KEY_ID
    assert headers[HEADER_TIMESTAMP] == "1700000000123"
    assert len(base64.b64decode(headers[HEADER_SIGNATURE])) == 256  # 2048-bit key
    public = serialization.load_pem_public_key(s.public_key_pem())
    assert isinstance(public, rsa.RSAPublicKey)
    assert verify_headers(public, headers, "GET", "/trade-api/v2/markets", now_ms=TS)
    # Same signature is valid for the path with any query (the query is not signed) ...
    assert verify_headers(public, headers, "GET", "/trade-api/v2/markets?x=1", now_ms=TS)
    # ... but not for another path, method or timestamp.
    assert not verify_headers(public, headers, "GET", "/trade-api/v2/events", now_ms=TS)
    assert not verify_headers(public, headers, "POST", "/trade-api/v2/markets", now_ms=TS)
    forged = {**headers, HEADER_TIMESTAMP: str(TS + 1)}
    assert not verify_headers(public, forged, "GET", "/trade-api/v2/markets", now_ms=TS)


def test_each_call_signs_afresh(signer: KalshiSigner) -> None:
    a = signer.headers("GET", "/trade-api/ws/v2", timestamp_ms=TS)
    b = signer.headers("GET", "/trade-api/ws/v2", timestamp_ms=TS)
    assert a[HEADER_SIGNATURE] != b[HEADER_SIGNATURE]  # PSS salt is random


def test_secrets_never_in_repr_or_str(signer: KalshiSigner) -> None:
    sig = signer.headers("GET", "/trade-api/ws/v2")[HEADER_SIGNATURE]
    for text in (repr(signer), str(signer), f"{signer}", repr([signer])):
        assert TEST_KEY_ID not in text
        assert sig not in text
        assert "PRIVATE KEY" not in text
        assert "redacted" in text


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    pem = generate_test_key_pem()
    path = tmp_path / "key.pem"
    path.write_text(pem)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600") as info:
        load_private_key(path=path)
    assert "PRIVATE KEY" not in str(info.value)
    os.chmod(path, 0o600)
    assert isinstance(load_private_key(path=path), rsa.RSAPrivateKey)


def test_wrong_format_is_a_clear_config_error(tmp_path: Path) -> None:
    secretish = "-----BEGIN PRIVATE KEY-----\nTOPSECRETMATERIAL\n-----END PRIVATE KEY-----\n"
    with pytest.raises(ConfigError, match="not a readable PEM") as info:
        load_private_key(pem=secretish)
    assert "TOPSECRET" not in str(info.value)
    assert info.value.__cause__ is None
    path = tmp_path / "k.pem"
    path.write_text("not a key")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match=str(path)):
        load_private_key(path=path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_private_key(path=tmp_path / "missing.pem")


def test_from_env(tmp_path: Path) -> None:
    pem = generate_test_key_pem()
    assert KalshiSigner.from_env({}) is None
    s = KalshiSigner.from_env({"KALSHI_API_KEY": "kid", "KALSHI_PRIVATE_KEY": pem})
    assert s is not None
    assert s.headers("GET", "/x")[HEADER_KEY] == "kid"
    path = tmp_path / "key.pem"
    path.write_text(pem)
    path.chmod(0o600)
    assert KalshiSigner.from_env({"KALSHI_API_KEY": "kid", "KALSHI_PRIVATE_KEY_PATH": str(path)})
    with pytest.raises(ConfigError, match="KALSHI_API_KEY"):
        KalshiSigner.from_env({"KALSHI_PRIVATE_KEY": pem})
    with pytest.raises(ConfigError, match="KALSHI_PRIVATE_KEY"):
        KalshiSigner.from_env({"KALSHI_API_KEY": "kid"})
    with pytest.raises(ConfigError) as info:
        KalshiSigner.from_env({"KALSHI_API_KEY": "kid", "KALSHI_PRIVATE_KEY": "garbage-secret"})
    assert "garbage-secret" not in str(info.value)
