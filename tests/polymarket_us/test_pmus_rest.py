"""Polymarket US REST: bodies decoded once (exact, per-item refusals) and the client's
rate limit, byte cap and error mapping."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import trio

from arbees.book import Level
from arbees.errors import AuthError, DecodeError, NotFoundError, RateLimitedError
from arbees.polymarket_us.models import (
    FeeSchedule,
    parse_bbo,
    parse_book,
    parse_events,
    parse_markets,
)
from arbees.polymarket_us.rest import PolymarketUsRest, RestConfig
from arbees.wsdriver import Backoff

DATA = Path(__file__).parent.parent / "data" / "polymarket_us"
SLUG = "nba-lal-bos-2026-01-15"


def _load(name: str) -> object:
    return json.loads((DATA / name).read_text(), parse_float=Decimal)


def test_events_decode_sports_fields_and_refuse_bad_items_alone() -> None:
    events, refused = parse_events(_load("rest_events_docs.json"))
    assert [e.slug for e in events] == [SLUG]
    event = events[0]
    assert event.series_slug == "nba"
    assert event.start_time == datetime(2026, 1, 16, 0, 30, tzinfo=UTC)
    moneyline, total = event.markets
    assert moneyline.sports_market_type == "moneyline"
    assert (moneyline.home_team, moneyline.away_team) == ("Boston Celtics", "Los Angeles Lakers")
    assert moneyline.tournament == "NBA"
    assert moneyline.tick_size == 5_000  # half a cent
    assert [(o.label, o.long, o.team) for o in moneyline.outcomes] == [
        ("Lakers", True, "Los Angeles Lakers"),
        ("Celtics", False, "Boston Celtics"),
    ]
    assert moneyline.fee_schedule is None
    assert total.tick_size == 2_500  # a quarter cent
    assert total.fee_schedule == FeeSchedule("notional", taker_bps=30)
    assert sorted(r.item for r in refused) == ["bad slug with spaces", "events[1]"]
    assert all(r.field == "slug" for r in refused)


def test_markets_body_and_fee_schedules() -> None:
    body = {
        "markets": [
            {"slug": "m-1", "feeSchedule": {"type": "curve", "rate": "0.05"}},
            {"slug": "m-2", "feeSchedule": {"type": "curve", "rate": "1.5"}},
            {"slug": "m-3", "feeSchedule": {"type": "flat"}},
            {"slug": "m-4", "gameStartTime": "2026-01-16 00:30"},
            {"slug": "m-5", "active": "yes"},
        ]
    }
    markets, refused = parse_markets(body)
    assert [m.slug for m in markets] == ["m-1"]
    assert markets[0].fee_schedule == FeeSchedule("curve", rate=Decimal("0.05"))
    assert [r.item for r in refused] == ["m-2", "m-3", "m-4", "m-5"]
    with pytest.raises(DecodeError):
        parse_markets({"markets": "nope"})


def test_book_is_exact_and_best_first_and_bbo_depths_are_level_counts() -> None:
    book = parse_book(_load("rest_book_docs.json"))
    assert book.bids == (Level(540_000, 100_000_000), Level(535_000, 12_340_000))
    assert book.asks == (Level(547_500, 10_000),)
    view = book.view()
    assert view.venue == "polymarket-us"
    assert not view.stale
    bbo = parse_bbo(_load("rest_bbo_docs.json"))
    assert (bbo.best_bid, bbo.best_ask) == (540_000, 547_500)
    assert (bbo.bid_levels, bbo.ask_levels) == (2, 1)
    for bad in (
        {"marketData": {"marketSlug": SLUG, "bids": [{"px": {"value": 1.5}, "qty": "1"}]}},
        {"marketData": {"marketSlug": SLUG, "offers": [{"px": {"value": 0.5}, "qty": "-1"}]}},
        {"marketData": {"marketSlug": "a b"}},
        {"nope": {}},
    ):
        with pytest.raises(DecodeError):
            parse_book(bad)
    with pytest.raises(DecodeError):
        parse_bbo({"marketData": {"marketSlug": SLUG, "bidDepth": "2"}})


def _client(handler: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))  # type: ignore[arg-type]


async def test_requests_keep_to_the_rate_limit(autojump_clock: object) -> None:
    seen: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(trio.current_time())
        return httpx.Response(200, content=(DATA / "rest_bbo_docs.json").read_bytes())

    async with _client(handler) as client:
        rest = PolymarketUsRest(client, RestConfig(rate_per_s=20.0))
        for _ in range(41):
            await rest.bbo(SLUG)
    assert len(seen) == 41
    assert seen[-1] - seen[0] >= 2.0 - 1e-9  # 40 intervals of 50 ms
    assert all(b - a >= 0.05 - 1e-9 for a, b in itertools.pairwise(seen))
    assert rest.stats.waited == 40


async def test_pages_paths_and_errors(autojump_clock: object) -> None:
    requests: list[httpx.Request] = []
    page = {"events": [{"slug": f"e-{i}", "markets": []} for i in range(2)]}

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        path = request.url.path
        if path == "/v1/events":
            offset = int(request.url.params["offset"])
            return httpx.Response(200, json=page if offset == 0 else {"events": []})
        if path.endswith("/missing/book"):
            return httpx.Response(404)
        if path.endswith("/private/book"):
            return httpx.Response(401)
        return httpx.Response(429)

    async with _client(handler) as client:
        cfg = RestConfig(page_size=2, retries=1, backoff=Backoff(base=0.01, cap=0.01))
        rest = PolymarketUsRest(client, cfg)
        pages = [p async for p in rest.iter_event_pages(active="true")]
        assert [[e.slug for e in events] for events, _ in pages] == [["e-0", "e-1"], []]
        assert requests[0].url.params["active"] == "true"
        with pytest.raises(NotFoundError):
            await rest.book("missing")
        with pytest.raises(AuthError):
            await rest.book("private")
        with pytest.raises(RateLimitedError):
            await rest.bbo("busy")
        with pytest.raises(DecodeError):
            await rest.book("../v1/secret")
    assert all(r.url.host == "gateway.polymarket.us" for r in requests)


async def test_oversized_body_is_a_decode_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"[" + b" " * 5000 + b"]")

    async with _client(handler) as client:
        rest = PolymarketUsRest(client, RestConfig(max_body=1000))
        with pytest.raises(DecodeError):
            await rest.book(SLUG)
