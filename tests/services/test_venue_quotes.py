"""A monitor for a venue other than Polymarket publishes VenueQuotes; the shard's bus source
for that venue reads them (issue 15 item 5).

The monitor (``venue="polymarket-us"``, no egress guard) streams the instruments of its venue
that the shard assignments name, each once; its quotes carry the book's exact depth on
``quotes:polymarket-us``; the shard's ``BusVenueSource`` turns them into quotes (NO asks the
mirror of the bids) and keeps the Polymarket source's completeness rules, per venue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from arbees.book import BookView, Level
from arbees.bus.memory import MemoryBus
from arbees.egress import EgressGuard
from arbees.errors import ConfigError
from arbees.identifiers import is_market_slug
from arbees.messages import (
    GAME_ASSIGNMENTS_HASH,
    Channel,
    EventContract,
    MarketAssignment,
    ServiceStatus,
    VenueQuote,
    latest_quotes_hash,
    quotes_channel,
)
from arbees.services.monitor import PolymarketMonitor
from arbees.services.quotes import Quote
from arbees.services.sources import Alive, BusPolymarketSource, BusVenueSource, SourceItem

VENUE = "polymarket-us"
SLUG_A = "aec-nba-okc-den-2027-01-15"
SLUG_B = "aec-nba-bos-nyk-2027-01-15"


@attrs.frozen
class Update:
    view: BookView
    venue_ts_ms: int | None
    received_ns: int


def view(slug: str, bid: int, ask: int, *, stale: bool = False) -> BookView:
    return BookView(
        VENUE,
        slug,
        bids=(Level(bid, 120_000_000), Level(bid - 10_000, 3_500_000)),
        asks=(Level(ask, 80_000_000), Level(ask + 10_000, 1_250_000)),
        stale=stale,
        venue_ts_ms=1_700_000_000_000,
        received_ns=1_700_000_000_000_000_001,
    )


class Feed:
    """The feed surface; records what the monitor subscribes."""

    def __init__(self, slugs: list[str], log: list[tuple[str, list[str]]]) -> None:
        self._send, self.updates = trio.open_memory_channel[Any](100)
        self.sink: Callable[[list[Any]], None] | None = None
        self.log = log
        log.append(("start", list(slugs)))

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await trio.sleep_forever()

    def push(self, v: BookView) -> None:
        """One socket read's update: to the sink when one is set, as a real feed does."""
        update = Update(v, v.venue_ts_ms, v.received_ns)
        if self.sink is not None:
            self.sink([update])
        else:
            self._send.send_nowait(update)

    def set_sink(self, sink: Callable[[list[Any]], None] | None) -> None:
        self.sink = sink

    async def add(self, instruments: Iterable[str]) -> None:
        self.log.append(("add", list(instruments)))
        await trio.lowlevel.checkpoint()

    async def remove(self, instruments: Iterable[str]) -> None:
        self.log.append(("remove", list(instruments)))
        await trio.lowlevel.checkpoint()

    def current_view(self, instrument: str) -> BookView | None:
        return None

    def last_message_ns(self) -> int:
        return 0

    def counters(self) -> dict[str, int]:
        return {"reconnects": 0, "rejected": 0, "mismatches": 0, "coalesced": 0, "updates": 0}


def game(game_id: str, slugs: tuple[str, ...], *, epoch: int = 1, action: str = "assign") -> Any:
    contracts = [EventContract("kalshi", f"KX-{game_id}", "home", "yes")]
    contracts += [EventContract(VENUE, slug, "home", "no") for slug in slugs]
    return MarketAssignment(
        "kalshi",
        f"KX-{game_id}",
        "",
        "shard-1",
        "NBA",
        game_id=game_id,
        action=action,
        epoch=epoch,
        outcomes=("home", "away"),
        contracts=tuple(contracts),
    )


async def test_the_monitor_streams_its_venues_instruments_as_venue_quotes() -> None:
    bus = MemoryBus()
    await bus.hset(GAME_ASSIGNMENTS_HASH, "g1", game("g1", (SLUG_A,)))
    log: list[tuple[str, list[str]]] = []
    feeds: list[Feed] = []

    def factory(slugs: list[str]) -> Feed:
        feeds.append(Feed(slugs, log))
        return feeds[-1]

    monitor = PolymarketMonitor(bus, factory, None, venue=VENUE, accepts=is_market_slug)
    got: list[Any] = []
    async with (
        trio.open_nursery() as nursery,
        bus.subscribe(quotes_channel(VENUE), Channel.SERVICE_STATUS) as sub,
    ):

        async def read() -> None:
            async for envelope in sub:
                got.append(envelope.message)

        nursery.start_soon(read)
        await nursery.start(monitor.run)
        assert log == [("start", [SLUG_A])]  # only its venue's instrument, no Kalshi
        assert monitor.healthy
        # A second game naming the same market and a new one: subscribed once each.
        await bus.publish(Channel.MARKET_ASSIGNMENTS, game("g2", (SLUG_A, SLUG_B)))
        await trio.testing.wait_all_tasks_blocked()
        assert log[1:] == [("add", [SLUG_B])]
        feeds[0].push(view(SLUG_A, 430_000, 440_000))
        await trio.testing.wait_all_tasks_blocked()
        # g1 unassigned: SLUG_A is still named by g2, so it stays.
        await bus.publish(Channel.MARKET_ASSIGNMENTS, game("g1", (), action="unassign"))
        await trio.testing.wait_all_tasks_blocked()
        assert log[2:] == []
        await bus.publish(Channel.MARKET_ASSIGNMENTS, game("g2", (), action="unassign"))
        await trio.testing.wait_all_tasks_blocked()
        assert sorted(log[2][1]) == sorted([SLUG_A, SLUG_B])
        assert log[2][0] == "remove"
        status = monitor.status()
        nursery.cancel_scope.cancel()
    quotes = [m for m in got if isinstance(m, VenueQuote)]
    assert quotes == [
        VenueQuote(
            venue=VENUE,
            instrument=SLUG_A,
            timestamp_ms=quotes[0].timestamp_ms,
            bids=(Level(430_000, 120_000_000), Level(420_000, 3_500_000)),
            asks=(Level(440_000, 80_000_000), Level(450_000, 1_250_000)),
            venue_ts_ms=1_700_000_000_000,
            monitor_recv_ns=1_700_000_000_000_000_001,
            published_ns=quotes[0].published_ns,
            seq=1,
            stream_seq=1,
        )
    ]
    assert await bus.hget(latest_quotes_hash(VENUE), SLUG_A) == quotes[0]
    beats = [m for m in got if isinstance(m, ServiceStatus)]
    assert beats  # the first goes out as the monitor starts
    assert all(b.details["venue"] == VENUE and b.details["egress"] == "none" for b in beats)
    assert (status.healthy, status.details["stream_seq"], status.details["venue"]) == (
        True,
        "1",
        VENUE,
    )


async def test_a_bad_instrument_is_refused_alone() -> None:
    bus = MemoryBus()
    await bus.hset(GAME_ASSIGNMENTS_HASH, "g1", game("g1", (SLUG_A, "-bad slug")))
    log: list[tuple[str, list[str]]] = []
    monitor = PolymarketMonitor(
        bus, lambda slugs: Feed(slugs, log), None, venue=VENUE, accepts=is_market_slug
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(monitor.run)
        nursery.cancel_scope.cancel()
    assert log == [("start", [SLUG_A])]
    assert monitor.stats.rejected_assignments == 1


class SourceHarness:
    def __init__(self) -> None:
        self.bus = MemoryBus()
        self.us = BusVenueSource(self.bus, VENUE)
        self.poly = BusPolymarketSource(self.bus)
        self.items: dict[str, list[SourceItem]] = {VENUE: [], "polymarket": []}

    async def run(self, nursery: trio.Nursery) -> None:
        for source in (self.us, self.poly):
            send, receive = trio.open_memory_channel[SourceItem](100)
            items = self.items[source.venue]

            async def drain(receive: trio.MemoryReceiveChannel[SourceItem] = receive,
                            items: list[SourceItem] = items) -> None:  # fmt: skip
                async for item in receive:
                    # a batch (one bus read's quotes) counts as its quotes, in order
                    items.extend(item) if isinstance(item, tuple) else items.append(item)

            nursery.start_soon(drain)
            await nursery.start(source.run, send.send_nowait)

    async def publish(self, message: Any) -> None:
        if isinstance(message, VenueQuote):
            await self.bus.publish_and_hset(
                quotes_channel(VENUE),
                message,
                latest_quotes_hash(VENUE),
                message.instrument,
            )
        else:
            await self.bus.publish(Channel.SERVICE_STATUS, message)
        await trio.testing.wait_all_tasks_blocked()


def vq(slug: str, stream_seq: int, *, venue: str = VENUE) -> VenueQuote:
    return VenueQuote(
        venue=venue,
        instrument=slug,
        timestamp_ms=1,
        bids=(Level(430_000, 120_000_000),),
        asks=(Level(440_000, 80_000_000), Level(450_000, 1_250_000)),
        monitor_recv_ns=5,
        stream_seq=stream_seq,
    )


def beat(stream_id: str, seq: int, venue: str | None) -> ServiceStatus:
    details = {"stream_id": stream_id, "stream_seq": str(seq)}
    if venue is not None:
        details["venue"] = venue
    return ServiceStatus("monitor", "m", True, 1, details=details)


async def test_the_bus_venue_source_reads_quotes_and_its_own_monitors_heartbeats() -> None:
    h = SourceHarness()
    seeded = vq(SLUG_A, 1)
    await h.bus.hset(latest_quotes_hash(VENUE), SLUG_A, seeded)
    await h.us.add([SLUG_A])
    async with trio.open_nursery() as nursery:
        await h.run(nursery)
        await trio.testing.wait_all_tasks_blocked()
        await h.publish(vq(SLUG_A, 2))
        await h.publish(vq(SLUG_B, 3))  # not added: not passed on
        await h.publish(beat("us-1", 3, VENUE))
        await h.publish(beat("poly-1", 900, None))  # the Polymarket monitor's
        nursery.cancel_scope.cancel()
    quotes = [i for i in h.items[VENUE] if isinstance(i, Quote)]
    assert len(quotes) == 2  # seeded from the hash, then the live one
    q = quotes[-1]
    assert (q.venue, q.instrument, q.stale) == (VENUE, SLUG_A, False)
    assert q.yes_asks == (Level(440_000, 80_000_000), Level(450_000, 1_250_000))
    assert q.no_asks == (Level(570_000, 120_000_000),)  # 1 - the 0.43 bid
    assert q.monitor_recv_ns == 5
    alive = [i for i in h.items[VENUE] if isinstance(i, Alive)]
    assert alive == [Alive(VENUE, 1_000_000, True)]
    assert h.us.gaps == 0
    # Each source follows only its own venue's monitor: no false gap from the other one.
    assert [i for i in h.items["polymarket"] if isinstance(i, Alive)] == [
        Alive("polymarket", 1_000_000, True)
    ]
    assert h.poly.gaps == 0


async def test_a_lost_quote_marks_the_venue_stale_and_reloads() -> None:
    h = SourceHarness()
    await h.us.add([SLUG_A])
    async with trio.open_nursery() as nursery:
        await h.run(nursery)
        await h.publish(vq(SLUG_A, 1))
        await h.publish(vq(SLUG_A, 3))  # 2 lost
        nursery.cancel_scope.cancel()
    assert h.us.gaps == 1
    assert any(isinstance(i, Quote) and i.stale and i.venue == VENUE for i in h.items[VENUE])


async def test_another_venues_quote_on_the_channel_is_distrusted() -> None:
    h = SourceHarness()
    await h.us.add([SLUG_A])
    async with trio.open_nursery() as nursery:
        await h.run(nursery)
        await h.publish(vq(SLUG_A, 1, venue="kalshi"))
        nursery.cancel_scope.cancel()
    quotes = [i for i in h.items[VENUE] if isinstance(i, Quote)]
    assert [(q.venue, q.stale, q.yes_asks) for q in quotes] == [(VENUE, True, ())]
    assert h.us.rejected_updates == 1


class _NeverChecked:
    async def check(self, policy: Any) -> Any:
        raise AssertionError("not run in this test")


def test_the_polymarket_monitor_keeps_its_heartbeat_and_needs_its_guard() -> None:
    guard = EgressGuard(_NeverChecked(), interval=60, name="t")
    status = PolymarketMonitor(MemoryBus(), lambda tokens: None, guard).status()  # type: ignore[arg-type, return-value]
    assert set(status.details) == {
        "egress",
        "country",
        "tokens",
        "published",
        "coalesced",  # added for issue 18's ramp (every monitor reports it)
        "stale_published",
        "rejected",
        "stream_id",
        "stream_seq",
    }  # no "venue": a Polymarket monitor's heartbeat names no venue, as before
    with pytest.raises(ConfigError, match="egress"):
        PolymarketMonitor(MemoryBus(), lambda tokens: None, None)  # type: ignore[arg-type, return-value]


async def test_an_instrument_the_feed_refuses_is_held_by_no_game() -> None:
    bus = MemoryBus()
    log: list[tuple[str, list[str]]] = []

    class Refusing(Feed):
        async def add(self, instruments: Iterable[str]) -> None:
            await super().add(instruments)
            raise ConfigError("refused by the venue")

    monitor = PolymarketMonitor(
        bus, lambda slugs: Refusing(slugs, log), None, venue=VENUE, accepts=is_market_slug
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(monitor.run)
        await bus.publish(Channel.MARKET_ASSIGNMENTS, game("g1", (SLUG_B,)))
        await trio.testing.wait_all_tasks_blocked()
        assert monitor.tokens == {}
        assert monitor.stats.rejected_assignments == 1
        # A later game naming it tries again (nothing counted it as held), and dropping the
        # first game removes nothing it never held.
        await bus.publish(Channel.MARKET_ASSIGNMENTS, game("g2", (SLUG_B,)))
        await bus.publish(Channel.MARKET_ASSIGNMENTS, game("g1", (), action="unassign"))
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    assert log == [("start", []), ("add", [SLUG_B]), ("add", [SLUG_B])]
    assert monitor.stats.rejected_assignments == 2
