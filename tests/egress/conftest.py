"""Fixtures for the egress tests: a real fake Gluetun control server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import trio

from arbees.testing.fake_gluetun import FakeGluetun

API_KEY = "tk-egress-7f3a9c1e5d"  # a recognisable fake secret: tests assert it never leaks


@pytest.fixture
def api_key() -> str:
    """The fake control server's API key (tests assert it never leaks)."""
    return API_KEY


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeGluetun:
    """A fake control server requiring ``API_KEY``, exiting in the United Kingdom."""
    server = FakeGluetun(country="United Kingdom", ip="203.0.113.7", api_key=API_KEY)
    await nursery.start(server.run)
    return server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as c:
        yield c
