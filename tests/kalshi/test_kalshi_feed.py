"""The feed against the fake venue over real loopback sockets: auth, gaps, errors, reconnects."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
import trio
from cryptography.hazmat.primitives.asymmetric import rsa

from arbees.book import BookView, Level
from arbees.errors import AuthError
from arbees.kalshi.auth import KalshiSigner, load_private_key
from arbees.kalshi.feed import KalshiBookUpdate, KalshiFeed, open_kalshi_feed
from arbees.money import ONE
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.kalshi_keys import FIXED_TEST_KEY_ID, FIXED_TEST_PRIVATE_KEY_PEM, TEST_KEY_ID
from arbees.wsdriver import Backoff

A, B = "KXNBAGAME-26OCT20OKCSAS-OKC", "KXNBAGAME-26OCT20OKCSAS-SAS"
FAST = Backoff(base=0.05, cap=0.2, healthy_after=1.0)


def expected(
    fake: FakeKalshi, ticker: str, depth: int = 10
) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
    m = fake.markets[ticker]
    bids = tuple(Level(p, m.yes[p]) for p in sorted(m.yes, reverse=True)[:depth])
    asks = tuple(Level(ONE - p, m.no[p]) for p in sorted(m.no, reverse=True)[:depth])
    return bids, asks


def matches(view: BookView, fake: FakeKalshi) -> bool:
    return not view.stale and (view.bids, view.asks) == expected(fake, view.instrument)


async def poll_until(pred: Callable[[], bool]) -> None:
    """Wait (at most 8 s) for a condition on state owned by other tasks."""
    with trio.fail_after(8):
        while not pred():  # noqa: ASYNC110 - polling plain attributes, there is no event
            await trio.sleep(0.01)


class Recorder:
    """Consumes every update; checks no fresh update ever disagrees with the venue's state."""

    def __init__(self, feed: KalshiFeed, fake: FakeKalshi) -> None:
        self.feed = feed
        self.fake = fake
        self.updates: list[KalshiBookUpdate] = []
        self.stale_flagged: set[str] = set()

    async def run(self) -> None:
        async for u in self.feed.updates:
            self.updates.append(u)
            if u.stale:
                self.stale_flagged.add(u.reason)

    async def until(self, pred: Callable[[], bool]) -> None:
        await poll_until(pred)


@asynccontextmanager
async def running(
    test_key: rsa.RSAPrivateKey, signer: KalshiSigner, **fake_kw: float
) -> AsyncIterator[tuple[FakeKalshi, KalshiFeed, Recorder]]:
    fake = FakeKalshi(public_key=test_key.public_key(), key_id=TEST_KEY_ID, **fake_kw)
    fake.add_market(A, yes_sub_title="Oklahoma City")
    fake.add_market(B, yes_sub_title="San Antonio")
    fake.set_book(A, yes=[("0.41", 10), ("0.40", "3.5")], no=[("0.55", "2.5"), ("0.54", 1)])
    fake.set_book(B, yes=[("0.44", 7)], no=[("0.57", 4)])
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        async with open_kalshi_feed(
            [A, B],
            signer=signer,
            url=urls.ws_url,
            silence_timeout=5.0,
            backoff=FAST,
            resync_interval=0.05,
        ) as feed:
            rec = Recorder(feed, fake)
            nursery.start_soon(rec.run)
            yield fake, feed, rec
        nursery.cancel_scope.cancel()


async def test_ready_means_fresh_books_and_no_side_views(
    test_key: rsa.RSAPrivateKey, signer: KalshiSigner
) -> None:
    async with running(test_key, signer) as (fake, feed, rec):
        assert matches(feed.view(A), fake)
        assert matches(feed.view(B), fake)
        assert feed.view(A).best_ask == Level(450_000, 2_500_000)
        fake.apply_delta(A, "no", "0.56", 7)
        await rec.until(lambda: feed.view(A).best_ask == Level(440_000, 7_000_000))
        last = [u for u in rec.updates if u.ticker == A][-1]
        assert last.kind == "delta"
        assert last.no.asks[0] == Level(590_000, 10_000_000)  # NO ask = 1 - best YES bid
        assert last.venue_ts_ms is not None
        assert fake.commands[0]["params"]["use_yes_price"] is False


async def test_bad_key_is_a_clear_auth_error(test_key: rsa.RSAPrivateKey) -> None:
    wrong = KalshiSigner(TEST_KEY_ID, load_private_key(pem=FIXED_TEST_PRIVATE_KEY_PEM))
    fake = FakeKalshi(public_key=test_key.public_key(), key_id=TEST_KEY_ID)
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        with trio.fail_after(10), pytest.raises(AuthError, match="refused the credentials") as info:
            async with open_kalshi_feed([A], signer=wrong, url=urls.ws_url, backoff=FAST):
                pass  # pragma: no cover
        assert TEST_KEY_ID not in str(info.value)
        assert fake.auth_failures == 1  # not an endless retry loop
        # Unsigned connections are refused the same way.
        with trio.fail_after(10), pytest.raises(AuthError):
            async with open_kalshi_feed([A], signer=None, url=urls.ws_url, backoff=FAST):
                pass  # pragma: no cover
        nursery.cancel_scope.cancel()
    assert FIXED_TEST_KEY_ID  # the fixed key is a different key, same id: signature is what fails


async def test_dropped_frame_stale_then_resync_then_fresh(
    test_key: rsa.RSAPrivateKey, signer: KalshiSigner
) -> None:
    async with running(test_key, signer) as (fake, feed, rec):
        sid = feed.protocol.book_sid(A)
        fake.drop_next_deltas(1)
        fake.apply_delta(A, "yes", "0.42", 1)  # lost
        fake.apply_delta(B, "yes", "0.44", 1)  # reveals the gap on the shared sid
        await rec.until(
            lambda: feed.protocol.stats.gaps >= 1 or feed.protocol.stats.ticker_mismatches >= 1
        )
        await rec.until(lambda: matches(feed.view(A), fake) and matches(feed.view(B), fake))
        assert fake.dropped == 1
        assert feed.protocol.book_sid(A) == sid  # resynced in place, no resubscribe
        assert any(c.get("params", {}).get("action") == "get_snapshot" for c in fake.commands)
        assert feed.protocol.stats.resyncs >= 1

        # Every book on the sid was reported stale before it was fresh again, and no fresh
        # update between the drop and its snapshot claimed the lost state was good. The views
        # change before the consumer is handed the update: wait for the update itself.
        def fresh_after_stale(ticker: str) -> list[KalshiBookUpdate]:
            mine = [u for u in rec.updates if u.ticker == ticker]
            first = next(
                (i for i, u in enumerate(mine) if u.stale and u.reason != "reconnect"), None
            )
            return [] if first is None else [u for u in mine[first:] if not u.stale]

        await rec.until(lambda: bool(fresh_after_stale(A)) and bool(fresh_after_stale(B)))
        for ticker in (A, B):
            assert fresh_after_stale(ticker)[0].kind == "snapshot"


async def test_error_25_resubscribes(test_key: rsa.RSAPrivateKey, signer: KalshiSigner) -> None:
    async with running(test_key, signer) as (fake, feed, rec):
        old_sid = feed.protocol.book_sid(A)
        fake.send_error(25)
        await rec.until(lambda: feed.protocol.book_sid(A) not in (None, old_sid))
        await rec.until(lambda: matches(feed.view(A), fake) and matches(feed.view(B), fake))
        assert feed.protocol.stats.terminal_errors == 1
        names = [c["cmd"] for c in fake.commands]
        assert names[-2:] == ["unsubscribe", "subscribe"] or "unsubscribe" in names
        assert "error 25" in rec.stale_flagged
        fake.apply_delta(B, "no", "0.58", 2)
        await rec.until(lambda: feed.view(B).best_ask == Level(420_000, 2_000_000))


async def test_disconnect_reconnects_with_new_signature(
    test_key: rsa.RSAPrivateKey, signer: KalshiSigner
) -> None:
    async with running(test_key, signer) as (fake, feed, rec):
        fake.disconnect_all()
        await rec.until(lambda: fake.connections == 2)
        fake.apply_delta(A, "yes", "0.41", "-10")
        await rec.until(lambda: matches(feed.view(A), fake) and matches(feed.view(B), fake))
        assert len(set(fake.signatures)) == 2
        assert "disconnected" in rec.stale_flagged
        assert feed.driver.stats.reconnects == 1


async def test_silence_watchdog_reconnects_after_a_stall(
    test_key: rsa.RSAPrivateKey, signer: KalshiSigner
) -> None:
    fake = FakeKalshi(public_key=test_key.public_key(), key_id=TEST_KEY_ID)
    fake.set_book(A, yes=[("0.41", 10)])
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        async with open_kalshi_feed(
            [A], signer=signer, url=urls.ws_url, silence_timeout=0.6, backoff=FAST
        ) as feed:
            await trio.sleep(1.0)  # keepalives keep a quiet but healthy link alive
            assert feed.driver.stats.watchdog_fires == 0
            assert feed.stats.keepalives >= 2
            fake.stall()
            await poll_until(lambda: feed.view(A).stale)  # flagged as soon as silence is seen
            await poll_until(lambda: feed.driver.stats.watchdog_fires > 0)
            fake.resume()
            await poll_until(lambda: not feed.view(A).stale)
        nursery.cancel_scope.cancel()


async def test_add_and_remove_tickers_at_run_time(
    test_key: rsa.RSAPrivateKey, signer: KalshiSigner
) -> None:
    async with running(test_key, signer) as (fake, feed, rec):
        c = "KXNHLGAME-26OCT21BOSNYR-BOS"
        fake.set_book(c, yes=[("0.3", 2)], no=[("0.6", 3)])
        await feed.add([c])
        await rec.until(lambda: matches(feed.view(c), fake))
        await feed.remove([B])
        await rec.until(
            lambda: any(
                cmd.get("params", {}).get("action") == "delete_markets" for cmd in fake.commands
            )
        )
        assert B not in feed.protocol.books


async def test_slow_consumer_never_blocks_pongs_and_gets_latest_state(
    test_key: rsa.RSAPrivateKey, signer: KalshiSigner
) -> None:
    fake = FakeKalshi(
        public_key=test_key.public_key(),
        key_id=TEST_KEY_ID,
        heartbeat_interval=0.05,
        # A client whose reader is blocked answers no ping at all and is dropped after this;
        # generous, so that a starved machine answering late is not mistaken for one.
        pong_timeout=5.0,
    )
    fake.set_book(A, yes=[("0.10", 1)], no=[("0.50", 1)])
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        feed = KalshiFeed([A], signer=signer, url=urls.ws_url, buffer=2, backoff=FAST)
        await nursery.start(feed.run)
        for i in range(300):
            fake.apply_delta(A, "yes", f"0.{10 + i % 80:02d}", 1)
        # Nobody reads the updates while the venue pings ten more times: every ping is
        # answered on the first connection (a reader blocked by the full buffer would
        # answer none, be dropped and reconnect).
        pongs = fake.pongs
        with trio.fail_after(30):  # a hang guard, not a latency claim
            while fake.pongs < pongs + 10:  # noqa: ASYNC110 - the fake's counter has no event
                await trio.sleep(0.05)
        assert fake.connections == 1
        # ... and the consumer, once it reads, gets the venue's latest state.
        with trio.fail_after(30):
            async for u in feed.updates:
                if matches(u.yes, fake):
                    break
        assert feed.counters()["coalesced"] > 0
        nursery.cancel_scope.cancel()
