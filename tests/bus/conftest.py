"""Fixtures of the bus suites: a bus of each transport, unique names per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from arbees.bus import Bus, open_bus
from arbees.testing.redis_server import RedisServer


@pytest.fixture(params=["memory", "redis"])
def bus_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    server: RedisServer = request.getfixturevalue("redis_server")
    return server.url


@pytest.fixture
async def bus(bus_url: str) -> AsyncIterator[Bus]:
    async with open_bus(bus_url) as opened:
        yield opened


@pytest.fixture
def uniq() -> str:
    """A prefix unique to the test, for channel and key names on the shared server."""
    return f"t{uuid.uuid4().hex[:10]}"
