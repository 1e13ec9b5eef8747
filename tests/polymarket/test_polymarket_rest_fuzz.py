"""Hypothesis on the REST book decoders: any body is a RestBook list or a DecodeError.

``POST /books`` answers feed the audit, which must never crash on one (the task would
take the monitor down) and never take a malformed answer as evidence about a book: a
decoded book has unique levels, best first, prices inside (0, 1), positive sizes and is
not crossed.
"""

from __future__ import annotations

import json

import httpx
import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbees.errors import DecodeError, NotFoundError
from arbees.polymarket.models import RestBook, parse_rest_book
from arbees.polymarket.rest import PolymarketRest, RestConfig

TOKEN = "52114319501245915516055106046884209969926127482827954674443846427813813222426"

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["0.5", "0.30", ".4", "0", "1", "-1", "1e3", "NaN", "123", TOKEN, "7" * 5000]),
)
json_values = st.recursive(
    json_leaf,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=16,
)
prices = st.sampled_from(["0.1", "0.30", "0.3", ".5", "0.55", "0.9", "0.999", "1", "0", "-0.2"])
sizes = st.sampled_from(["0", "5", "1.5", "100", "-1", "0.0000001", "1e2"])
levels = st.lists(st.fixed_dictionaries({"price": prices, "size": sizes}), max_size=5)
KEYS = ["asset_id", "market", "bids", "asks", "timestamp", "tick_size", "neg_risk", "hash"]


@st.composite
def book_objects(draw: st.DrawFn) -> object:
    obj: dict[str, object] = {"asset_id": TOKEN, "bids": draw(levels), "asks": draw(levels)}
    if draw(st.booleans()):
        obj["timestamp"] = draw(st.sampled_from(["1760000000000", "", "-1", "1.5", "7" * 5000]))
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=2)):
        obj[key] = draw(json_values)
    return obj


def _well_formed(book: RestBook) -> None:
    for side, best_high in ((book.bids, True), (book.asks, False)):
        ps = [lvl.price for lvl in side]
        assert ps == sorted(set(ps), reverse=best_high)
        assert all(0 < p < 1_000_000 for p in ps)
        assert all(lvl.size > 0 for lvl in side)
    if book.bids and book.asks:
        assert book.bids[0].price < book.asks[0].price


@settings(max_examples=500, deadline=None)
@given(obj=st.one_of(book_objects(), json_values))
def test_parse_rest_book_returns_a_sane_book_or_raises_decode_error(obj: object) -> None:
    try:
        book = parse_rest_book(obj)
    except DecodeError:
        return
    _well_formed(book)


def _nest(n: int) -> bytes:
    return b"[" * n + b"]" * n


bodies = st.one_of(
    st.lists(book_objects(), max_size=3).map(lambda bs: json.dumps(bs).encode()),
    st.builds(lambda v: json.dumps(v).encode(), json_values),
    st.binary(max_size=80),
    st.integers(1, 50_000).map(_nest),
    st.integers(4000, 6000).map(lambda n: b"[" + b"7" * n + b"]"),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies)
def test_books_call_raises_only_decode_error_on_any_body(body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    async def call() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            rest = PolymarketRest(client, RestConfig(clob_url="http://clob.test", retries=0))
            try:
                books = await rest.books([TOKEN])
            except DecodeError:
                return
            for book in books:
                _well_formed(book)

    trio.run(call)


async def test_a_hostile_error_body_still_gives_the_http_error() -> None:
    # The error text of a 404/400 is read from its JSON body; that read let a
    # RecursionError replace the NotFoundError.
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, content=_nest(100_000))

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        rest = PolymarketRest(client, RestConfig(clob_url="http://clob.test", retries=0))
        with pytest.raises(NotFoundError):
            await rest.book(TOKEN)
