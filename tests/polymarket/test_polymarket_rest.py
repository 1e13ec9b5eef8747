"""REST models on the captured samples, and the REST client against the fake venue."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import trio

from arbees.book import Level
from arbees.errors import DecodeError, NotFoundError, RateLimitedError
from arbees.money import parse_fixed
from arbees.polymarket.models import (
    parse_datetime,
    parse_fee_rate_bps,
    parse_gamma_event,
    parse_gamma_market,
    parse_geoblock,
    parse_midpoint,
    parse_price_response,
    parse_rest_book,
)
from arbees.polymarket.rest import USER_AGENT, PolymarketRest, RestConfig, open_polymarket_http
from arbees.testing.fake_polymarket import FakePolymarket
from arbees.wsdriver import Backoff

DATA = Path(__file__).parent.parent / "data" / "polymarket"


def _load(name: str) -> object:
    return json.loads((DATA / name).read_text(), parse_float=Decimal)


def P(s: str) -> int:
    return parse_fixed(s)


def test_rest_book_samples() -> None:
    book = parse_rest_book(_load("rest_book.json"))
    assert book.bids[0] == Level(P("0.5"), P("100"))  # best first, whatever the wire order
    assert [lvl.price for lvl in book.bids] == [P("0.5"), P("0.33"), P("0.31"), P("0.15")]
    assert book.asks == ()
    assert book.tick_size == P("0.01")
    assert book.min_order_size == P("100")
    assert book.last_trade_price is None
    view = book.view(depth=2)
    assert len(view.bids) == 2
    assert not view.stale
    vector = parse_rest_book(_load("rest_book_hash_vector.json"))
    assert vector.asks[0] == Level(P("0.6"), P("100"))
    assert vector.last_trade_price == P("0.5")


def test_small_rest_samples() -> None:
    assert parse_midpoint(_load("rest_midpoint_apiref_docs.json")) == P("0.45")
    assert parse_midpoint({"mid": "0.51"}) == P("0.51")
    assert parse_price_response(_load("rest_price_docs.json")) == P("0.512")
    assert parse_fee_rate_bps(_load("rest_fee_rate_rs_clob_client_fixture.json")) == 0
    geo = parse_geoblock(_load("geoblock_response.json"))
    assert geo.blocked
    assert geo.country == "US"
    mids = _load("rest_midpoints_response_docs.json")
    assert isinstance(mids, dict)
    assert {k: parse_fixed(v) for k, v in mids.items()} == {
        "0xabc123def456...": P("0.45"),
        "0xdef456abc123...": P("0.52"),
    }
    # our POST /books body has the documented shape
    req = _load("rest_books_request.json")
    assert isinstance(req, list)
    assert all(set(item) == {"token_id"} for item in req)


def test_gamma_market_sample() -> None:
    m = parse_gamma_market(_load("gamma_market_crypto_5m_nautilus.json"))
    assert [o.label for o in m.outcomes] == ["Up", "Down"]
    assert m.token_for("up").startswith("1042398980388071")
    assert m.tick_size == Decimal("0.01")
    assert m.min_order_size == Decimal("5")
    assert m.fees_enabled
    assert m.fee_type == "crypto_fees"
    assert m.end_date == datetime(2026, 3, 12, 9, 25, tzinfo=UTC)
    assert m.condition_id.startswith("0x78443f")


def test_gamma_events_sample() -> None:
    events = _load("gamma_events_list_nautilus.json")
    assert isinstance(events, list)
    parsed = [parse_gamma_event(e) for e in events]
    assert len(parsed) == 1
    assert len(parsed[0].markets) == 2
    assert parsed[0].markets[0].token_ids[0].startswith("6059004548934712")
    assert not parsed[0].markets[0].fees_enabled


def test_gamma_sports_fields_and_fee_schedule() -> None:
    obj = {
        "id": "1",
        "question": "Lakers vs Celtics",
        "conditionId": "0x" + "1" * 64,
        "outcomes": '["Lakers", "Celtics"]',
        "clobTokenIds": '["11", "22"]',
        "gameStartTime": "2026-04-05 15:10:00+00",
        "sportsMarketType": "moneyline",
        "feesEnabled": True,
        "feeSchedule": {
            "rate": Decimal("0.05"),
            "exponent": 1,
            "takerOnly": True,
            "rebateRate": "0.2",
        },
    }
    m = parse_gamma_market(obj)
    assert m.game_start_time == datetime(2026, 4, 5, 15, 10, tzinfo=UTC)
    assert m.sports_market_type == "moneyline"
    assert m.fee_schedule is not None
    assert m.fee_schedule.rate == Decimal("0.05")
    assert m.fee_schedule.exponent == Decimal(1)
    assert m.fee_schedule.rebate_rate == Decimal("0.2")
    assert m.token_for("celtics") == "22"
    assert parse_datetime("2026-04-05T15:10:00Z") == m.game_start_time
    with pytest.raises(DecodeError):
        parse_gamma_market({**obj, "clobTokenIds": '["11"]'})
    with pytest.raises(DecodeError):
        parse_gamma_market({**obj, "gameStartTime": "tomorrow"})
    with pytest.raises(DecodeError):
        parse_gamma_market({**obj, "feeSchedule": {"rate": "NaN"}})


@asynccontextmanager
async def rest_against_fake(**kw: object) -> AsyncIterator[tuple[PolymarketRest, FakePolymarket]]:
    fake = FakePolymarket()
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        config = RestConfig(
            clob_url=urls.clob_url,
            gamma_url=urls.gamma_url,
            backoff=Backoff(base=0.01, cap=0.02),
            **kw,  # type: ignore[arg-type]
        )
        async with open_polymarket_http() as client:
            yield PolymarketRest(client, config), fake
        nursery.cancel_scope.cancel()


async def test_book_books_and_not_found() -> None:
    async with rest_against_fake() as (rest, fake):
        fake.set_book("11", bids=[("0.4", "10"), ("0.45", "1")], asks=[("0.6", "3")])
        fake.set_book("22", bids=[], asks=[("0.55", "2")])
        book = await rest.book("11")
        assert book.bids[0] == Level(P("0.45"), P("1"))
        assert book.asks == (Level(P("0.6"), P("3")),)
        books = await rest.books(["11", "22", "33"])
        assert [b.token_id for b in books] == ["11", "22"]
        with pytest.raises(NotFoundError, match="No orderbook"):
            await rest.book("33")


async def test_gamma_pagination() -> None:
    async with rest_against_fake(page_size=2) as (rest, fake):
        for i in range(5):
            fake.add_market(
                f"Market {i}", (str(100 + 2 * i), str(101 + 2 * i)), sportsMarketType="moneyline"
            )
        markets = await rest.markets()
        assert [m.question for m in markets] == [f"Market {i}" for i in range(5)]
        assert markets[3].token_ids == ("106", "107")
        events = await rest.events()
        assert len(events) == 5
        assert events[0].markets[0].sports_market_type == "moneyline"
        gamma_calls = [r for r in fake.requests if r[1] == "/markets"]
        assert len(gamma_calls) == 3  # 2 + 2 + 1
        assert len(await rest.markets(max_pages=1)) == 2


async def test_429_then_success_is_retried_and_exhaustion_raises() -> None:
    async with rest_against_fake(retries=2) as (rest, fake):
        fake.set_book("11", bids=[("0.4", "10")], asks=[])
        fake.fail_next(429)
        fake.fail_next(503)
        book = await rest.book("11")
        assert book.bids[0].price == P("0.4")
        assert rest.stats.retries == 2
        fake.fail_next(429, count=3)
        with pytest.raises(RateLimitedError):
            await rest.book("11")


async def test_user_agent_header() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["user-agent"])
        return httpx.Response(200, json=[])

    async with open_polymarket_http() as client:
        assert client.headers["user-agent"] == USER_AGENT
    client = httpx.AsyncClient(
        transport=httpx.MockTransport(handler), headers={"User-Agent": USER_AGENT}
    )
    async with client:
        assert await PolymarketRest(client).markets() == []
    assert seen == [USER_AGENT]
    assert USER_AGENT.startswith("arbees/")
