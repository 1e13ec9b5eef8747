"""Fixtures for the Kalshi tests: one throw-away RSA key per session (generation is slow)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from arbees.kalshi.auth import KalshiSigner
from arbees.testing.kalshi_keys import TEST_KEY_ID, generate_test_key


@pytest.fixture(scope="session")
def test_key() -> rsa.RSAPrivateKey:
    return generate_test_key()


@pytest.fixture(scope="session")
def signer(test_key: rsa.RSAPrivateKey) -> KalshiSigner:
    return KalshiSigner(TEST_KEY_ID, test_key)
