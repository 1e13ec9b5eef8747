"""Kalshi's live game data as a game-state source: the status mapping, a game's life from
scheduled to ended, a shard folding Kalshi's reports over the bus and halting, and a failing
endpoint counted and backed off.

Fixtures: tests/data/kalshi/rest/live/ (sources in tests/data/README)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.testing
from tests.services.test_shard_engine import SEC, Clock, assignment, kq, pq
from tests.services.test_shard_isolation import ScriptedSource, live

from arbees.bus import open_bus
from arbees.errors import ConfigError
from arbees.kalshi.live import (
    KalshiLiveFeed,
    LiveDataConfig,
    phase_of,
    pick_milestone,
)
from arbees.kalshi.models import LiveData, Milestone
from arbees.kalshi.rest import KalshiRest, TokenBucket
from arbees.messages import GAME_ASSIGNMENTS_HASH, ArbSignal, Channel, GameState
from arbees.services.game_states import GameStateRelay
from arbees.services.shard import open_game_shard
from arbees.services.shard_engine import ShardEngine

DATA = Path(__file__).parent.parent / "data" / "kalshi" / "rest" / "live"
MILESTONE = "3f6b1c2e-8d4a-4b7e-9c1f-2a5d7e9b0c41"
EVENT = "KXNBAGAME-26OCT20OKCSAS"
URL = "https://k.test/trade-api/v2"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def data(status: str = "", postponed: bool = False) -> LiveData:
    return LiveData(MILESTONE, "basketball_game", status, postponed, None, None, "")


@pytest.mark.parametrize(
    ("status", "postponed", "phase"),
    [
        ("none", False, "scheduled"),
        ("live", False, "live"),
        ("finished", False, "ended"),
        ("none", True, "postponed"),
        ("live", True, "postponed"),
        ("postponed", False, "postponed"),
        ("cancelled", False, "cancelled"),
        ("canceled", False, "cancelled"),
        # never guessed: not ended, not anything
        ("", False, None),
        ("final", False, None),
        ("closed", False, None),
        ("ended", False, None),
        ("halftime", False, None),
    ],
)
def test_status_maps_to_a_phase_conservatively(
    status: str, postponed: bool, phase: str | None
) -> None:
    assert phase_of(data(status, postponed)) == phase


def milestone(ident: str, related: tuple[str, ...], primary: tuple[str, ...] = ()) -> Milestone:
    return Milestone(ident, "Sports", "basketball_game", "t", None, related, primary)


def test_an_events_milestone_is_the_one_naming_it_never_a_guess() -> None:
    game = milestone("m1", (EVENT, "KXNBASPREAD-26OCT20OKCSAS"), (EVENT,))
    season = milestone("m2", (EVENT, "KXNBA-27"))
    other = milestone("m3", ("KXNBAGAME-26OCT21BOSNYK",))
    assert pick_milestone(EVENT, [game]) == game
    assert pick_milestone(EVENT, [other]) == "none"
    assert pick_milestone(EVENT, []) == "none"
    assert pick_milestone(EVENT, [game, season, other]) == game  # narrowed to the primary
    assert pick_milestone(EVENT, [season, milestone("m4", (EVENT,))]) == "ambiguous"
    assert pick_milestone(EVENT, [game, game]) == game


def test_polling_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="interval"):
        LiveDataConfig(interval=0.5)
    with pytest.raises(ConfigError, match="backoff_cap"):
        LiveDataConfig(interval=20, backoff_cap=10)


class Kalshi:
    """A scripted Kalshi REST API: one milestones page, the live data it is told."""

    def __init__(self, live_data: str = "live_datas_scheduled.json") -> None:
        self.live_data = live_data
        self.milestones: Callable[[], httpx.Response] = lambda: httpx.Response(
            200, json=load("milestones.json")
        )
        self.requests: list[tuple[float, str]] = []
        self.body: dict[str, Any] | None = None  # a live-data body of the test's own

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((trio.current_time(), request.url.path.rsplit("/", 1)[-1]))
        if request.url.path.endswith("/milestones"):
            return self.milestones()
        if self.body is not None:
            return httpx.Response(200, json=self.body)
        if self.live_data.startswith("HTTP "):
            return httpx.Response(int(self.live_data[5:]), json={"error": "internal"})
        return httpx.Response(200, json=load(self.live_data))

    def rest(self, client: httpx.AsyncClient) -> KalshiRest:
        return KalshiRest(client, base_url=URL, limiter=TokenBucket(1000.0), max_retries=0)


def drain(feed: KalshiLiveFeed) -> list[GameState]:
    out = []
    while True:
        try:
            out.append(feed.updates.receive_nowait())
        except trio.WouldBlock:
            return out


async def test_a_game_reported_from_scheduled_to_ended_under_its_event_ticker() -> None:
    venue = Kalshi()
    async with httpx.AsyncClient(transport=httpx.MockTransport(venue.handler)) as client:
        games = [EVENT]
        feed = KalshiLiveFeed(venue.rest(client), lambda: games)
        seen: list[tuple[str, str, str, str]] = []
        for step in ("scheduled", "live", "live", "finished"):
            venue.live_data = f"live_datas_{step}.json"
            await feed.poll_once()
            for state in drain(feed):
                assert (state.venue, state.key) == ("kalshi", EVENT)
                seen.append((state.phase, state.score, state.status, state.period))
        assert seen == [
            ("scheduled", "0-0", "none", ""),
            ("live", "78-71", "live", ""),  # away-home, as the ticker: OKC at SAS
            # the same live data again: nothing new to say (the relay republishes)
            ("ended", "112-104", "finished", ""),
        ]
        # the milestone was looked up once, then only its live data polled
        assert [path for _, path in venue.requests] == ["milestones"] + ["batch"] * 4
        assert feed.stats.reports == 3
        assert (feed.stats.lookups, feed.stats.polls) == (1, 4)
        # a game no longer run is forgotten: no more requests for it
        games.clear()
        await feed.poll_once()
        assert len(venue.requests) == 5
        assert feed.counters()["reports"] == 3


async def test_a_postponed_game_and_an_unknown_status() -> None:
    venue = Kalshi("live_datas_postponed.json")
    async with httpx.AsyncClient(transport=httpx.MockTransport(venue.handler)) as client:
        feed = KalshiLiveFeed(venue.rest(client), lambda: [EVENT])
        await feed.poll_once()
        (state,) = drain(feed)
        assert (state.phase, state.status, state.key) == ("postponed", "none", EVENT)
        body = load("live_datas_finished.json")
        body["live_datas"][0]["details"]["status"] = "complete"  # not a documented status
        venue.body = body
        await feed.poll_once()
        assert drain(feed) == []  # never guessed as ended
        assert feed.stats.unknown_status == 1


async def test_an_event_without_a_milestone_is_looked_up_again_later(
    autojump_clock: trio.testing.MockClock,
) -> None:
    venue = Kalshi()
    venue.milestones = lambda: httpx.Response(200, json={"milestones": [], "cursor": ""})
    async with httpx.AsyncClient(transport=httpx.MockTransport(venue.handler)) as client:
        config = LiveDataConfig(interval=10, lookup_interval=60)
        feed = KalshiLiveFeed(venue.rest(client), lambda: [EVENT], config)
        async with trio.open_nursery() as nursery:
            await nursery.start(feed.run)
            await trio.sleep(125)
            nursery.cancel_scope.cancel()
    # no milestone: no live-data request at all, a look-up every 60 s (not every round)
    assert [round(t) for t, _ in venue.requests] == [0, 60, 120]
    assert {path for _, path in venue.requests} == {"milestones"}
    assert feed.stats.no_milestone == 3
    assert feed.stats.errors == 0


async def test_a_404_milestones_endpoint_means_no_milestone() -> None:
    venue = Kalshi()
    venue.milestones = lambda: httpx.Response(404, json={"error": "not found"})
    async with httpx.AsyncClient(transport=httpx.MockTransport(venue.handler)) as client:
        feed = KalshiLiveFeed(venue.rest(client), lambda: [EVENT])
        await feed.poll_once()
    assert (feed.stats.no_milestone, feed.stats.errors) == (1, 0)


async def test_a_failing_endpoint_is_counted_and_backs_off(
    autojump_clock: trio.testing.MockClock,
) -> None:
    venue = Kalshi("HTTP 500")
    async with httpx.AsyncClient(transport=httpx.MockTransport(venue.handler)) as client:
        config = LiveDataConfig(interval=10, backoff_cap=80)
        feed = KalshiLiveFeed(venue.rest(client), lambda: [EVENT], config)
        async with trio.open_nursery() as nursery:
            await nursery.start(feed.run)
            await trio.sleep(290)
            polls = [round(t) for t, path in venue.requests if path == "batch"]
            # 0, then 20, 40, 80, 80... seconds apart: never the 10-s cadence
            assert polls == [0, 20, 60, 140, 220]
            assert feed.stats.errors == 5
            assert feed.stats.consecutive_failures == 5
            assert drain(feed) == []
            # the venue recovers: the next round reports, the cadence is back to 10 s
            venue.live_data = "live_datas_live.json"
            await trio.sleep(95)
            assert feed.stats.consecutive_failures == 0
            assert [s.phase for s in drain(feed)] == ["live"]
            assert feed.delay() == 10
            nursery.cancel_scope.cancel()
    # the milestone was found once, before the failures
    assert [path for _, path in venue.requests].count("milestones") == 1


async def test_a_shard_folds_kalshis_reports_from_the_bus_and_halts_on_ended() -> None:
    """Kalshi's feed under the relay, on the memory bus, to a shard whose assignment names
    the game's Kalshi event in ``game_keys``: live is carried on the signal, ended closes
    it and nothing reopens."""
    venue = Kalshi("live_datas_live.json")
    clock = Clock()
    eng = ShardEngine("s1", max_age_ns=2 * SEC, live_max_quote_age_ns=30 * SEC)
    kalshi, poly = ScriptedSource("kalshi"), ScriptedSource("polymarket")
    keyed = assignment(game_keys={"kalshi": EVENT, "polymarket": "nba-okc-sas-2026-10-20"})
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(venue.handler)) as client,
        open_bus("memory://") as bus,
    ):
        await bus.hset(GAME_ASSIGNMENTS_HASH, "g1", keyed)
        feed = KalshiLiveFeed(venue.rest(client), lambda: [EVENT], LiveDataConfig(interval=1))
        relay = GameStateRelay(bus, lambda: feed)
        async with (
            bus.subscribe(Channel.SIGNALS) as sub,
            open_game_shard(bus, eng, kalshi, poly, heartbeat_interval=0.05) as shard,
            trio.open_nursery() as nursery,
        ):
            await nursery.start(relay.run)
            with trio.fail_after(5):
                while shard.stats.game_states < 1:  # noqa: ASYNC110
                    await trio.sleep(0.01)
            await kalshi.send(live(kq(clock, "0.40", "0.62")))
            await poly.send(live(pq(clock, "0.52", "0.50")))
            with trio.fail_after(5):
                opened = (await sub.receive()).message
            assert isinstance(opened, ArbSignal)
            assert opened.event == "open"
            assert [(s.venue, s.phase, s.score) for s in opened.game_state] == [
                ("kalshi", "live", "78-71")
            ]
            venue.live_data = "live_datas_finished.json"
            with trio.fail_after(5):
                closed = (await sub.receive()).message
            assert isinstance(closed, ArbSignal)
            assert (closed.event, closed.signal_id) == ("close", opened.signal_id)
            assert [(s.venue, s.phase, s.score) for s in closed.game_state] == [
                ("kalshi", "ended", "112-104")
            ]
            assert eng.halted("g1")
            # the profitable books again: nothing opens
            await kalshi.send(live(kq(clock, "0.40", "0.61")))
            await poly.send(live(pq(clock, "0.52", "0.49")))
            with trio.move_on_after(0.3):
                extra = (await sub.receive()).message
                raise AssertionError(f"a halted game signalled again: {extra}")
            assert eng.open_signals() == []
            assert relay.stats.published == 2
            nursery.cancel_scope.cancel()
