"""The REST book audit against the fake Polymarket (WS + REST on loopback).

Most tests drive rounds by hand (``audit_once``) so the count of audits is exact; the stall
test runs the real loop with a short interval.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import attrs
import httpx
import pytest
import trio

from arbees.errors import ConfigError
from arbees.money import parse_fixed
from arbees.polymarket.audit import AuditConfig, BookAuditor, open_book_auditor
from arbees.polymarket.feed import BookUpdate, FeedConfig, PolymarketFeed, open_polymarket_feed
from arbees.polymarket.rest import PolymarketRest, RestConfig
from arbees.testing.fake_polymarket import FakePolymarket, FakeUrls
from arbees.wsdriver import Backoff

FAST = Backoff(base=0.01, cap=0.05, healthy_after=5.0)
# Many tokens per round and a generous budget, so short test intervals are not throttled.
MANUAL = AuditConfig(interval=1.0, batch_size=50, tokens_per_10s=1000)


def tok(i: int) -> str:
    return str(10**70 + i)


def P(s: str) -> int:
    return parse_fixed(s)


async def wait_for(pred: Callable[[], bool], limit: float = 6.0) -> None:
    """Poll over real sockets (no event exists for "these books look fresh")."""
    with trio.fail_after(limit):
        while not pred():  # noqa: ASYNC110
            await trio.sleep(0.01)


@attrs.define
class Collector:
    updates: list[BookUpdate] = attrs.Factory(list)
    latest: dict[str, BookUpdate] = attrs.Factory(dict)

    async def run(self, feed: PolymarketFeed) -> None:
        async for update in feed:
            self.updates.append(update)
            self.latest[update.view.instrument] = update

    def fresh(self, *tokens: str) -> bool:
        return all(t in self.latest and not self.latest[t].view.stale for t in tokens)


@attrs.define
class Rig:
    fake: FakePolymarket
    urls: FakeUrls
    feed: PolymarketFeed
    col: Collector
    rest: PolymarketRest
    posted: list[list[str]]


@asynccontextmanager
async def rig(tokens: list[str], fake: FakePolymarket | None = None) -> AsyncIterator[Rig]:
    fake = fake or FakePolymarket()
    for i, t in enumerate(tokens):
        if t not in fake.books:
            fake.set_book(t, bids=[(f"0.{30 + i % 20}", "5")], asks=[(f"0.{60 + i % 20}", "7")])
    posted: list[list[str]] = []

    async def record(request: httpx.Request) -> None:
        if request.url.path == "/books":
            posted.append([item["token_id"] for item in json.loads(request.content)])

    async with (
        trio.open_nursery() as nursery,
        httpx.AsyncClient(event_hooks={"request": [record]}) as client,
    ):
        urls = await nursery.start(fake.run)
        config = FeedConfig(
            url=urls.ws_url,
            backoff=FAST,
            ping_interval=0.1,
            # A quiet market: the silence watchdog must NOT be what catches the stall.
            silence_timeout=60.0,
            resync_interval=0.2,
            snapshot_timeout=5.0,
        )
        rest = PolymarketRest(client, RestConfig(clob_url=urls.clob_url, retries=0))
        async with open_polymarket_feed(tokens, config) as feed:
            col = Collector()
            nursery.start_soon(col.run, feed)
            await wait_for(lambda: col.fresh(*tokens))
            yield Rig(fake, urls, feed, col, rest, posted)
        nursery.cancel_scope.cancel()


def audit_stale(col: Collector, token: str) -> bool:
    return any(
        u.kind == "audit" and u.view.stale and u.view.instrument == token for u in col.updates
    )


async def test_stalled_socket_is_caught_by_the_audit_and_resynced() -> None:
    a, b = tok(1), tok(2)
    async with rig([a, b]) as r:
        config = AuditConfig(interval=0.2, tokens_per_10s=1000)
        async with open_book_auditor(r.feed, r.rest, config) as auditor:
            await wait_for(lambda: auditor.stats.matches >= 2)  # quiet books, confirmed
            r.fake.stall_connection(0)  # PONG keeps coming; data is dropped
            r.fake.set_level(a, "BUY", "0.47", "3")  # the venue (and REST) moved on
            rounds = auditor.stats.rounds
            await wait_for(lambda: audit_stale(r.col, a))
            assert auditor.stats.rounds - rounds <= 3  # ~2 audit intervals
            assert auditor.stats.invalidated == 1
            assert auditor.stats.mismatches == 2
            # The resync's new connection brings the venue's truth for the whole socket.
            await wait_for(
                lambda: r.col.fresh(a, b) and r.col.latest[a].view.best_bid == (P("0.47"), P("3"))
            )
            assert r.feed.stats.resyncs == 1
            assert r.fake.total_connections == 2
            # Nothing on the socket itself could have told: no watchdog, no cross-check.
            assert r.feed.drivers[0].stats.watchdog_fires == 0
            assert r.feed.protocol.stats.mismatches == 0
            # Audits go on agreeing after the recovery.
            matches = auditor.stats.matches
            await wait_for(lambda: auditor.stats.matches >= matches + 2)
            assert auditor.stats.invalidated == 1


async def test_matching_audits_keep_books_fresh_and_confirm_them() -> None:
    a, b = tok(1), tok(2)
    async with rig([a, b]) as r:
        auditor = BookAuditor(r.feed, r.rest, MANUAL)
        socket_ns = r.feed.confirmed_ns(a)
        assert socket_ns == r.feed.protocol.books[a].received_ns > 0
        for _ in range(3):
            await auditor.audit_once()
        assert auditor.stats.matches == 6
        assert (auditor.stats.mismatches, auditor.stats.invalidated) == (0, 0)
        assert r.feed.confirmed_ns(a) > socket_ns  # a quiet book, confirmed by REST
        assert not r.feed.protocol.books[a].stale
        assert not any(u.kind == "audit" for u in r.col.updates)
        assert r.fake.total_connections == 1


async def test_one_disagreement_is_rechecked_not_acted_on() -> None:
    """A REST book ahead of the socket for one audit (an update in flight) changes nothing."""
    a = tok(1)
    async with rig([a]) as r:
        auditor = BookAuditor(r.feed, r.rest, MANUAL)
        r.fake.set_book(a, bids=[("0.31", "5")], asks=[("0.60", "7")], broadcast=False)
        await auditor.audit_once()
        assert auditor.stats.mismatches == 1
        assert auditor.suspects == {a: 1}
        r.fake.set_book(a, bids=[("0.30", "5")], asks=[("0.60", "7")], broadcast=False)
        await auditor.audit_once()
        assert auditor.stats.matches == 1
        assert auditor.suspects == {}
        assert auditor.stats.invalidated == 0
        assert not r.feed.protocol.books[a].stale


async def test_rest_failures_change_nothing_and_are_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    a = tok(1)
    async with rig([a]) as r:
        auditor = BookAuditor(r.feed, r.rest, MANUAL)
        r.fake.stall_connection(0)
        r.fake.set_level(a, "SELL", "0.55", "2")
        await auditor.audit_once()  # first disagreement: a suspect
        assert auditor.suspects == {a: 1}
        confirmed = r.feed.confirmed_ns(a)
        r.fake.fail_next(500, path="/books")
        r.fake.fail_next(429, path="/books")
        caplog.set_level(logging.WARNING, logger="arbees.polymarket.audit")
        await auditor.audit_once()
        await auditor.audit_once()
        assert auditor.stats.failures == 2
        assert auditor.stats.rate_limited == 1
        assert "POST /books failed" in caplog.text
        # No state change: still a suspect (not cleared, not escalated), not stale, and
        # not confirmed either.
        assert auditor.suspects == {a: 1}
        assert not r.feed.protocol.books[a].stale
        assert r.feed.confirmed_ns(a) == confirmed
        await auditor.audit_once()  # REST answers again: the second disagreement acts
        assert auditor.stats.invalidated == 1
        assert r.feed.protocol.books[a].stale
        assert r.feed.confirmed_ns(a) == 0


async def test_a_stale_book_is_never_marked_fresh_by_the_audit() -> None:
    a = tok(1)
    async with rig([a]) as r:
        auditor = BookAuditor(r.feed, r.rest, MANUAL)
        r.feed.protocol.books[a].mark_stale("test: distrusted")
        await auditor.audit_once()
        assert auditor.stats.skipped_stale == 1
        assert auditor.stats.matches == 0
        assert r.feed.protocol.books[a].stale
        assert r.feed.confirmed_ns(a) == 0


async def test_an_update_during_the_request_defers_the_comparison() -> None:
    """The local book moved while the REST answer was on its way: not compared."""
    a = tok(1)
    async with rig([a]) as r:
        feed = r.feed
        old_body = [
            {
                "market": "0x" + "00" * 32,
                "asset_id": a,
                "timestamp": "1760000000000",
                "bids": [{"price": "0.30", "size": "5"}],
                "asks": [{"price": "0.60", "size": "7"}],
            }
        ]

        async def handler(request: httpx.Request) -> httpx.Response:
            book = feed.protocol.books[a]
            before = book.received_ns
            r.fake.set_level(a, "BUY", "0.35", "9")  # arrives on the socket meanwhile
            while book.received_ns == before:  # noqa: ASYNC110
                await trio.sleep(0.005)
            return httpx.Response(200, json=old_body)

        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            rest = PolymarketRest(client, RestConfig(clob_url="http://clob.test", retries=0))
            auditor = BookAuditor(feed, rest, MANUAL)
            with trio.fail_after(5):
                await auditor.audit_once()
        assert auditor.stats.moved == 1
        assert auditor.stats.checked == 0
        assert auditor.suspects == {}
        assert not feed.protocol.books[a].stale


async def test_garbage_answer_is_a_counted_failure() -> None:
    a = tok(1)
    async with rig([a]) as r:

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json=[{"asset_id": a, "bids": "NaN", "asks": []}])

        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            rest = PolymarketRest(client, RestConfig(clob_url="http://clob.test", retries=0))
            auditor = BookAuditor(r.feed, rest, MANUAL)
            await auditor.audit_once()
        assert auditor.stats.failures == 1
        assert auditor.stats.checked == 0
        assert not r.feed.protocol.books[a].stale


def _hostile_bodies(a: str) -> dict[str, bytes]:
    def book(**kw: object) -> bytes:
        body = {"asset_id": a, "bids": [{"price": "0.30", "size": "5"}], "asks": [], **kw}
        return json.dumps([body]).encode()

    return {
        # json.loads raised RecursionError, which escaped the audit task
        "deep array": b"[" * 100_000 + b"]" * 100_000,
        "deep in a book": b'[{"asset_id":"' + a.encode() + b'","x":' + b"[" * 100_000 + b"]}]",
        # int() of a 5000-digit timestamp raised ValueError
        "5000-digit timestamp": book(timestamp="7" * 5000),
        "5000-digit number": b'[{"asset_id":"'
        + a.encode()
        + b'","timestamp":'
        + b"7" * 5000
        + b"}]",
        "duplicate level": book(
            bids=[{"price": "0.30", "size": "5"}, {"price": "0.3", "size": "1"}]
        ),
        "crossed": book(
            bids=[{"price": "0.70", "size": "5"}], asks=[{"price": "0.60", "size": "1"}]
        ),
        "bad utf-8": b'[{"asset_id":"\xff\xfe"}]',
        "not a list": b'{"asset_id":"1"}',
        "nan": b'[{"asset_id":"1","bids":[{"price":NaN,"size":"1"}]}]',
        "huge exponent": book(bids=[{"price": 1e308, "size": "5"}]),
    }


@pytest.mark.parametrize("name", list(_hostile_bodies("1")))
async def test_a_hostile_answer_is_a_counted_failure_that_changes_nothing(name: str) -> None:
    a = tok(1)
    body = _hostile_bodies(a)[name]
    async with rig([a]) as r:

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, content=body)

        book = r.feed.protocol.books[a]
        before = (dict(book.bids), dict(book.asks), book.stale, r.feed.confirmed_ns(a))
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            rest = PolymarketRest(client, RestConfig(clob_url="http://clob.test", retries=0))
            auditor = BookAuditor(r.feed, rest, MANUAL)
            await auditor.audit_once()  # never raises
        assert auditor.stats.failures == 1
        assert auditor.stats.checked == 0
        assert (dict(book.bids), dict(book.asks), book.stale, r.feed.confirmed_ns(a)) == before


async def test_tokens_rotate_in_budgeted_batches() -> None:
    tokens = [tok(i) for i in range(12)]
    async with rig(tokens) as r:
        config = AuditConfig(interval=1.0, batch_size=5, tokens_per_10s=1000)
        auditor = BookAuditor(r.feed, r.rest, config)
        for _ in range(3):  # ceil(12 / 5)
            await auditor.audit_once()
        assert [len(batch) for batch in r.posted] == [5, 5, 5]
        assert {t for batch in r.posted for t in batch} == set(tokens)
        assert set(auditor.last_round) == set(tokens)
        # A suspect goes first in the next round.
        r.fake.stall_connection(0)
        r.fake.set_level(tokens[11], "BUY", "0.49", "1")
        with trio.fail_after(5):
            while auditor.suspects == {}:
                await auditor.audit_once()
        await auditor.audit_once()
        assert r.posted[-1][0] == tokens[11]
        assert auditor.stats.invalidated == 1


async def test_paused_while_not_allowed() -> None:
    a = tok(1)
    async with rig([a]) as r:
        allowed = [False]
        auditor = BookAuditor(r.feed, r.rest, MANUAL, allowed=lambda: allowed[0])
        await auditor.audit_once()
        assert (auditor.stats.paused, auditor.stats.requests, r.posted) == (1, 0, [])
        allowed[0] = True
        await auditor.audit_once()
        assert auditor.stats.requests == 1


def test_config_budget_and_validation() -> None:
    assert AuditConfig().per_round == 50
    assert AuditConfig(interval=0.5, tokens_per_10s=100).per_round == 5
    assert AuditConfig(interval=0.01).per_round == 1
    assert not AuditConfig(interval=0).enabled
    for bad in (
        {"interval": -1.0},
        {"interval": float("nan")},
        {"batch_size": 51},
        {"batch_size": 0},
        {"confirm_after": 0},
        {"tokens_per_10s": 0},
        {"request_timeout": 0.0},
    ):
        with pytest.raises(ConfigError):
            AuditConfig(**bad)  # type: ignore[arg-type]


async def test_disabled_auditor_returns_at_once() -> None:
    feed = PolymarketFeed([tok(1)])
    async with httpx.AsyncClient() as client:
        auditor = BookAuditor(feed, PolymarketRest(client), AuditConfig(interval=0))
        with trio.fail_after(1):
            await auditor.run()
        assert auditor.stats.rounds == 0
