"""Shared fixtures. Tests that need Redis use a private redis-server on a free port."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from arbees.testing.redis_server import RedisServer, RedisUnavailable


def _redis_or_fail() -> RedisServer:
    try:
        return RedisServer()
    except RedisUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and {exc}")
        pytest.skip(str(exc))  # a developer machine without redis-server; never in CI


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the session (tests must use distinct channel/key names)."""
    server = _redis_or_fail()
    server.start()
    yield server
    server.close()


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A redis-server of the test's own, for tests that kill and restart it."""
    server = _redis_or_fail()
    server.start()
    yield server
    server.close()
