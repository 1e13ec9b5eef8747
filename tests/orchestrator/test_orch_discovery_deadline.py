"""A discovery round runs under a deadline: a slow-loris venue costs one counted round."""

from __future__ import annotations

import httpx
import pytest
import trio
import trio.testing
from orch_shards import FAST

from arbees.bus import open_bus
from arbees.errors import ConfigError, VenueError
from arbees.kalshi.rest import KalshiRest, TokenBucket
from arbees.messages import Channel, SystemAlert
from arbees.services.orchestrator import open_orchestrator
from arbees.wiring.discovery import VenueGameSource, venue_game_source


def _hanging_source(deadline: float) -> tuple[VenueGameSource, list[str]]:
    """Kalshi answers at once with no event; Gamma accepts the request and never answers."""
    seen: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        if request.url.host == "kalshi":
            if request.url.path.endswith("/series/KXNBAGAME"):
                return httpx.Response(200, json={"series": {"ticker": "KXNBAGAME"}})
            return httpx.Response(200, json={"events": [], "cursor": ""})
        await trio.sleep_forever()  # slow loris
        raise AssertionError("unreachable")

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    kalshi = KalshiRest(client, base_url="http://kalshi/trade-api/v2", limiter=TokenBucket(1e6))
    source = venue_game_source(
        kalshi, client, gamma_url="http://gamma", series=("KXNBAGAME",), deadline=deadline
    )
    return source, seen


def test_the_deadline_must_be_positive() -> None:
    client = httpx.AsyncClient()
    kalshi = KalshiRest(client)
    with pytest.raises(ConfigError, match="deadline"):
        venue_game_source(kalshi, client, gamma_url="http://gamma", deadline=0)


async def test_a_gamma_that_never_answers_fails_the_round_at_the_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    source, seen = _hanging_source(deadline=120.0)
    started = trio.current_time()
    with pytest.raises(VenueError, match="within 120 s"):
        await source.discover()
    assert trio.current_time() - started == pytest.approx(120.0)  # virtual time
    assert "gamma" in seen  # it did ask, and was cut off by the deadline


async def test_the_orchestrator_counts_alerts_and_survives_a_hung_discovery(
    autojump_clock: trio.testing.MockClock,
) -> None:
    source, _ = _hanging_source(deadline=5.0)
    async with (
        open_bus("memory://") as bus,
        bus.subscribe(Channel.SYSTEM_ALERTS) as alerts,
        open_orchestrator(bus, source, FAST) as orch,
    ):
        while True:
            alert = (await alerts.receive()).message
            assert isinstance(alert, SystemAlert)
            if alert.type == "ORCHESTRATOR_DISCOVERY_FAILED":
                break
        assert orch.stats.discovery_failures >= 1
        assert "DISCOVERY_DEADLINE" in alert.error
        assert orch.games == {}
