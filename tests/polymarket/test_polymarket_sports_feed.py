"""The sports feed against the fake sports channel: results out, pings answered, a silent
socket replaced."""

from __future__ import annotations

from collections.abc import Callable

import trio
from trio_websocket import open_websocket_url

from arbees.messages import GameState
from arbees.polymarket.sports_feed import SportsFeed, SportsFeedConfig
from arbees.testing.fake_polymarket_sports import FakePolymarketSports
from arbees.wsdriver import Backoff

FAST = Backoff(base=0.01, cap=0.05, healthy_after=5.0)
HANG_GUARD = 20.0


async def wait_for(predicate: Callable[[], bool]) -> None:
    with trio.fail_after(HANG_GUARD):
        while not predicate():  # noqa: ASYNC110 - state kept by other tasks
            await trio.sleep(0.01)


async def test_results_become_game_states_and_every_ping_is_answered() -> None:
    fake = FakePolymarketSports(ping_interval=0.05, pong_timeout=1.0)
    async with trio.open_nursery() as nursery:
        url = await nursery.start(fake.run)
        feed = SportsFeed(SportsFeedConfig(url=url, silence_timeout=5.0, backoff=FAST))
        await nursery.start(feed.run)
        fake.result("nba-okc-sas-2026-10-20", live=True, score="10-8", period="Q1")
        fake.send_raw("{garbage")
        fake.result("nba-okc-sas-2026-10-20", ended=True, score="99-97", period="Q4")
        got: list[GameState] = []
        with trio.fail_after(HANG_GUARD):
            while not got or got[-1].phase != "ended":
                got.append(await feed.updates.receive())
        assert got[0].venue == "polymarket"
        assert got[0].key == "nba-okc-sas-2026-10-20"
        assert [s.phase for s in got][-1] == "ended"
        assert got[-1].score == "99-97"
        await wait_for(lambda: fake.pongs >= 5)
        assert fake.pong_timeouts == 0
        assert fake.total_connections == 1  # never dropped for a missing pong
        counters = feed.counters()
        assert counters["rejected"] == 1
        assert counters["pings"] >= 5
        nursery.cancel_scope.cancel()


async def test_the_fake_closes_a_client_that_never_answers() -> None:
    fake = FakePolymarketSports(ping_interval=0.05, pong_timeout=0.2)
    async with trio.open_nursery() as nursery:
        url = await nursery.start(fake.run)
        async with open_websocket_url(url) as ws:
            assert await ws.get_message() == "ping"
            await wait_for(lambda: fake.pong_timeouts == 1)
        nursery.cancel_scope.cancel()


async def test_a_silent_socket_is_replaced_and_results_flow_again() -> None:
    fake = FakePolymarketSports(ping_interval=0.05, pong_timeout=1.0)
    async with trio.open_nursery() as nursery:
        url = await nursery.start(fake.run)
        feed = SportsFeed(SportsFeedConfig(url=url, silence_timeout=0.3, backoff=FAST))
        await nursery.start(feed.run)
        await wait_for(lambda: fake.pongs >= 1)
        # Open, but sending nothing at all (not even a ping): the watchdog must act.
        fake.silent = True
        await wait_for(lambda: feed.counters()["watchdog"] >= 1)
        fake.silent = False
        await wait_for(lambda: fake.total_connections >= 2 and len(fake.connections) == 1)
        fake.result("nhl-bos-tor-2026-10-21", status="Postponed")
        with trio.fail_after(HANG_GUARD):
            state = await feed.updates.receive()
        assert (state.key, state.phase) == ("nhl-bos-tor-2026-10-21", "postponed")
        assert feed.counters()["reconnects"] >= 1
        nursery.cancel_scope.cancel()
