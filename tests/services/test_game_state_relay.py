"""The monitor's sports socket: behind the same verified egress as its market socket, its
game states published on ``arbees:game_states`` for the shards."""

from __future__ import annotations

from collections.abc import Callable

import trio

from arbees.bus import open_bus
from arbees.egress import EgressSettings
from arbees.messages import Channel, GameState
from arbees.services.game_states import GameStateRelay
from arbees.testing.fake_gluetun import FakeGluetun
from arbees.testing.fake_polymarket import FakePolymarket
from arbees.testing.fake_polymarket_sports import FakePolymarketSports
from arbees.wiring import MonitorSettings, build_monitor
from arbees.wsdriver import Backoff

FAST = Backoff(base=0.02, cap=0.2, healthy_after=5.0)
HANG_GUARD = 30.0


async def wait_for(predicate: Callable[[], bool]) -> None:
    with trio.fail_after(HANG_GUARD):
        while not predicate():  # noqa: ASYNC110 - state kept by other tasks
            await trio.sleep(0.02)


async def test_sports_states_reach_the_bus_only_while_egress_is_verified() -> None:
    gluetun = FakeGluetun(country="United States", ip="198.51.100.9")  # a forbidden exit
    sports = FakePolymarketSports(ping_interval=0.1, pong_timeout=2.0)
    poly = FakePolymarket()
    async with trio.open_nursery() as venues:
        await venues.start(gluetun.run)
        sports_url = await venues.start(sports.run)
        poly_urls = await venues.start(poly.run)
        settings = MonitorSettings(
            egress=EgressSettings(url=gluetun.publicip_url, interval=0.2, retry_interval=0.1),
            ws_url=poly_urls.ws_url,
            audit_interval=0.0,
            heartbeat_interval=0.2,
            reconnect=FAST,
            sports_ws_url=sports_url,
        )
        async with (
            open_bus("memory://") as bus,
            bus.subscribe(Channel.GAME_STATES) as states,
            build_monitor(settings, bus) as monitor,
            trio.open_nursery() as nursery,
        ):
            await nursery.start(monitor.run)
            await wait_for(lambda: gluetun.requests >= 3)
            assert not monitor.guard.verified
            assert sports.total_connections == 0  # no socket without a verified egress
            gluetun.set_exit(country="Netherlands", ip="203.0.113.50")
            await wait_for(lambda: len(sports.connections) == 1)
            sports.result("nba-okc-sas-2026-10-20", live=True, score="2-0", period="Q1")
            with trio.fail_after(HANG_GUARD):
                message = (await states.receive()).message
            assert isinstance(message, GameState)
            assert (message.venue, message.key, message.phase, message.score) == (
                "polymarket",
                "nba-okc-sas-2026-10-20",
                "live",
                "2-0",
            )
            await wait_for(lambda: sports.pongs >= 2)
            # Egress lost: the sports socket is closed with the market one.
            gluetun.set_exit(country="United States", ip="198.51.100.9")
            await wait_for(lambda: not monitor.guard.verified)
            await wait_for(lambda: len(sports.connections) == 0)
            nursery.cancel_scope.cancel()
        venues.cancel_scope.cancel()


class ListFeed:
    """A game-state feed handing out a fixed list, then staying open."""

    def __init__(self, states: list[GameState]) -> None:
        send, self.updates = trio.open_memory_channel[GameState](len(states) + 1)
        for state in states:
            send.send_nowait(state)
        self._send = send

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await trio.sleep_forever()

    def counters(self) -> dict[str, int]:
        return {}


async def test_relay_republishes_the_latest_states_for_late_shards() -> None:
    t = 1_700_000_000_000
    older = GameState(venue="polymarket", key="a", phase="live", timestamp_ms=t)
    stale = GameState(venue="polymarket", key="a", phase="scheduled", timestamp_ms=t - 1)
    newer = GameState(venue="polymarket", key="a", phase="ended", timestamp_ms=t + 1)
    async with open_bus("memory://") as bus, trio.open_nursery() as nursery:
        relay = GameStateRelay(
            bus,
            lambda: ListFeed([older, stale, newer]),
            refresh_interval=0.05,
            refresh_horizon=10 * 365 * 86400.0,
        )
        async with bus.subscribe(Channel.GAME_STATES) as sub:
            await nursery.start(relay.run)
            got = [(await sub.receive()).message for _ in range(4)]
        # as they came (the report older than the one held dropped), then the latest again
        assert got[0] == older
        assert stale not in got
        assert got[-1] == newer
        assert relay.stats.published == 2
        assert relay.stats.republished >= 1
        nursery.cancel_scope.cancel()
