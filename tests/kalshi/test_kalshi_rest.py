"""REST client against the fake venue's real HTTP server (and its MockTransport)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import trio
from cryptography.hazmat.primitives.asymmetric import rsa

from arbees.book import Level
from arbees.errors import AuthError, DecodeError, NotFoundError, RateLimitedError
from arbees.kalshi.auth import KalshiSigner, load_private_key
from arbees.kalshi.rest import KalshiRest, TokenBucket
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.kalshi_keys import FIXED_TEST_PRIVATE_KEY_PEM, TEST_KEY_ID

EVENT = "KXNBAGAME-26OCT20OKCSAS"


def scripted(test_key: rsa.RSAPrivateKey) -> FakeKalshi:
    fake = FakeKalshi(public_key=test_key.public_key(), key_id=TEST_KEY_ID)
    fake.add_series("KXNBAGAME", fee_type="quadratic", fee_multiplier=1)
    fake.add_series("KXHALF", fee_type="quadratic_with_maker_fees", fee_multiplier="0.5")
    for team, name in (("OKC", "Oklahoma City"), ("SAS", "San Antonio")):
        fake.add_market(
            f"{EVENT}-{team}",
            yes_sub_title=name,
            no_sub_title=name,
            fee_waiver_expiration_time="2026-10-21T00:00:00Z",
        )
    fake.add_market("KXNBAGAME-26OCT21BOSNYK-BOS", yes_sub_title="Boston", status="finalized")
    fake.add_market("KXNBAGAME-26OCT21BOSNYK-NYK", yes_sub_title="New York")
    fake.set_book(f"{EVENT}-OKC", yes=[("0.41", 10), ("0.40", "2.5")], no=[("0.55", 3)])
    return fake


@pytest.fixture
async def served(test_key: rsa.RSAPrivateKey) -> AsyncIterator[tuple[FakeKalshi, str]]:
    fake = scripted(test_key)
    async with trio.open_nursery() as nursery:
        port = await nursery.start(fake.serve_rest)
        yield fake, f"http://127.0.0.1:{port}/trade-api/v2"
        nursery.cancel_scope.cancel()


async def test_discovery_over_loopback(
    served: tuple[FakeKalshi, str], signer: KalshiSigner
) -> None:
    fake, url = served
    async with httpx.AsyncClient() as client:
        rest = KalshiRest(client, base_url=url, signer=signer)
        series = await rest.get_series("KXNBAGAME")
        assert (series.fee_type, series.fee_multiplier) == ("quadratic", 1_000_000)
        assert (await rest.get_series("KXHALF")).fee_multiplier == 500_000
        events = await rest.get_events(series_ticker="KXNBAGAME", limit=1)  # forces pagination
        assert [e.event_ticker for e in events] == [
            "KXNBAGAME-26OCT20OKCSAS",
            "KXNBAGAME-26OCT21BOSNYK",
        ]
        okc = events[0].markets[0]
        assert okc.yes_sub_title == "Oklahoma City"
        assert okc.status == "active"
        assert okc.yes_bid == 410_000
        assert okc.yes_ask == 450_000
        assert okc.fee_waiver_expiration_time == datetime(2026, 10, 21, tzinfo=UTC)
        assert okc.fees_waived(datetime(2026, 10, 20, tzinfo=UTC))
        assert sum(1 for r in fake.rest_requests if r[1].startswith("/trade-api/v2/events")) == 2
        open_markets = await rest.get_markets(series_ticker="KXNBAGAME", status="open", limit=2)
        assert sorted(m.ticker for m in open_markets) == [
            f"{EVENT}-OKC",
            f"{EVENT}-SAS",
            "KXNBAGAME-26OCT21BOSNYK-NYK",
        ]
        assert [m.ticker for m in await rest.get_markets(tickers=[f"{EVENT}-SAS"])] == [
            f"{EVENT}-SAS"
        ]
        book = await rest.get_orderbook(f"{EVENT}-OKC")
        assert book.yes_bids == (Level(410_000, 10_000_000), Level(400_000, 2_500_000))
        assert book.yes_ask == Level(450_000, 3_000_000)
        empty = await rest.get_orderbook(f"{EVENT}-SAS")
        assert (empty.yes_ask, empty.no_ask) == (None, None)
        with pytest.raises(NotFoundError):
            await rest.get_market("NOPE")
        assert (await rest.get_market(f"{EVENT}-SAS")).yes_bid == 0


async def test_wrong_key_is_auth_error_unsigned_is_public(served: tuple[FakeKalshi, str]) -> None:
    _, url = served
    wrong = KalshiSigner(TEST_KEY_ID, load_private_key(pem=FIXED_TEST_PRIVATE_KEY_PEM))
    async with httpx.AsyncClient() as client:
        with pytest.raises(AuthError) as info:
            await KalshiRest(client, base_url=url, signer=wrong).get_orderbook(f"{EVENT}-OKC")
        assert TEST_KEY_ID not in str(info.value)
        public = KalshiRest(client, base_url=url)
        assert (await public.get_orderbook(f"{EVENT}-OKC")).yes_bids


async def test_429_backs_off_then_succeeds_or_gives_up(
    test_key: rsa.RSAPrivateKey, signer: KalshiSigner
) -> None:
    fake = scripted(test_key)
    async with httpx.AsyncClient(transport=fake.mock_transport()) as client:
        rest = KalshiRest(
            client, base_url="http://fake/trade-api/v2", signer=signer, backoff_base=0.01
        )
        fake.rate_limit_next(3)
        assert (await rest.get_series("KXNBAGAME")).ticker == "KXNBAGAME"
        assert rest.retries == 3
        fake.rate_limit_next(10)
        rest.max_retries = 2
        with pytest.raises(RateLimitedError):
            await rest.get_series("KXNBAGAME")


async def test_signed_path_excludes_query(
    test_key: rsa.RSAPrivateKey, signer: KalshiSigner
) -> None:
    fake = scripted(test_key)  # verifies "/trade-api/v2/markets" for "/markets?limit=..."
    async with httpx.AsyncClient(transport=fake.mock_transport()) as client:
        rest = KalshiRest(client, base_url="http://fake/trade-api/v2", signer=signer)
        assert await rest.get_markets(event_ticker=EVENT, limit=5)
    assert "?" in fake.rest_requests[-1][1]


async def test_malformed_bodies_are_decode_errors(signer: KalshiSigner) -> None:
    bodies = {
        "/trade-api/v2/series/X": {"series": {"ticker": "X", "fee_multiplier": "abc"}},
        "/trade-api/v2/markets/Y/orderbook": {"orderbook_fp": {"yes_dollars": [["1.5", "1"]]}},
        "/trade-api/v2/markets": {"markets": "nope"},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=bodies[request.url.path])

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        rest = KalshiRest(client, base_url="http://fake/trade-api/v2")
        with pytest.raises(DecodeError, match="fee_multiplier"):
            await rest.get_series("X")
        with pytest.raises(DecodeError, match="yes_dollars"):
            await rest.get_orderbook("Y")
        with pytest.raises(DecodeError, match="markets"):
            await rest.get_markets()


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # json raised RecursionError past the mapping
        b'{"series":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"series":{"ticker":"X","fee_multiplier":' + b"7" * 5000 + b"}}",
        b'{"series":"\xff"}',
    ],
    ids=["deep", "deep inside", "5000-digit number", "bad utf-8"],
)
async def test_hostile_bodies_are_decode_errors(body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        rest = KalshiRest(client, base_url="http://fake/trade-api/v2")
        with pytest.raises(DecodeError):
            await rest.get_series("X")


async def test_token_bucket_paces_reads(autojump_clock: trio.testing.MockClock) -> None:
    bucket = TokenBucket.for_tier("basic")
    start = trio.current_time()
    for _ in range(60):
        await bucket.acquire()
    assert 1.9 <= trio.current_time() - start <= 2.1  # 20 saved up, then 20/s
    with pytest.raises(ValueError, match="tier"):
        TokenBucket.for_tier("platinum")


async def _listing(route: str, cursors: list[object]) -> tuple[int, list[str | None]]:
    """Pages ``iter_event_pages``/``iter_markets`` yields when Kalshi sends ``cursors``,
    and the cursors it asked with."""
    asked: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.params.get("cursor"))
        cursor = cursors[len(asked) - 1] if len(asked) <= len(cursors) else "more"
        return httpx.Response(
            200, json={route: [{}] if route == "events" else [], "cursor": cursor}
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        rest = KalshiRest(client, base_url="https://k.test/trade-api/v2", limiter=TokenBucket(1e6))
        if route == "events":
            got = len([page async for page in rest.iter_event_pages()])
        else:
            got = len(asked) if [m async for m in rest.iter_markets()] == [] else -1
    return got, asked


@pytest.mark.parametrize(
    ("cursors", "pages"),
    [
        (["a", "b", ""], 3),  # the normal end: an empty cursor
        (["a", "b", "a", "b"], 3),  # a cursor already followed: the listing ends there
        (["a", 7, "c"], 2),  # a cursor that is not a string
    ],
)
@pytest.mark.parametrize("route", ["events", "markets"])
async def test_event_and_market_listings_end_on_a_bad_or_repeated_cursor(
    route: str, cursors: list[object], pages: int, caplog: pytest.LogCaptureFixture
) -> None:
    got, asked = await _listing(route, cursors)
    assert got == pages
    assert asked == [None, *cursors[: pages - 1]]
    assert ("repeated cursor" in caplog.text) is (pages < len(cursors))


async def test_a_listing_that_never_ends_stops_at_the_page_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("arbees.kalshi.rest.MAX_PAGES", 4)
    got, asked = await _listing("markets", [f"c{i}" for i in range(10)])
    assert got == 4
    assert asked == [None, "c0", "c1", "c2"]
