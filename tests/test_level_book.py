"""The shared level book (``arbees.book.LevelBook``) and the top-of-book helpers the
Polymarket and Polymarket US books and audits use."""

from __future__ import annotations

import gc
import random
import tracemalloc
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbees.book import MAX_BOOK_SIZE, Level, LevelBook, top_of
from arbees.polymarket.book import TokenBook
from arbees.polymarket_us.book import MarketBook


def test_best_levels_track_a_random_walk_of_updates() -> None:
    rng = random.Random(7)
    book = LevelBook()
    book.replace({400_000: 5}, {600_000: 7})
    assert not book.stale
    for _ in range(2_000):
        price = rng.randrange(1, 100) * 10_000
        size = rng.choice((0, 0, rng.randrange(1, 50)))
        (book.set_bid if rng.random() < 0.5 else book.set_ask)(price, size)
        bid = max(book.bids) if book.bids else None
        ask = min(book.asks) if book.asks else None
        expected = (
            bid,
            book.bids[bid] if bid is not None else 0,
            ask,
            book.asks[ask] if ask is not None else 0,
        )
        assert book.best_levels() == expected
        assert book.crossed == (bid is not None and ask is not None and bid >= ask)
    bids, asks = book.depth(3)
    assert top_of(bids, asks) == book.best_levels()


def test_top_of_empty_sides() -> None:
    assert top_of((), (Level(550_000, 3),)) == (None, 0, 550_000, 3)
    assert top_of((Level(450_000, 2),), ()) == (450_000, 2, None, 0)


def test_first_stale_reason_is_kept_and_a_snapshot_clears_it() -> None:
    book = LevelBook()
    assert (book.stale, book.stale_reason) == (True, "no snapshot yet")
    book.replace({}, {})
    book.mark_stale("gap")
    book.mark_stale("crossed")
    assert book.stale_reason == "gap"


def test_the_venue_books_keep_their_own_state() -> None:
    us = MarketBook("aec-nba-bos-lal-2026-01-01")
    us.replace({500_000: 1}, {510_000: 1})
    assert not us.awaiting_snapshot
    us.mark_stale("reconnect", resnapshot=True)
    assert (us.stale, us.awaiting_snapshot) == (True, True)
    token = TokenBook("1234", "0xabc")
    token.replace({500_000: 4}, {})
    assert token.top().bid_size == 4
    assert token.view().market == "0xabc"


def test_depth_is_the_best_levels_in_order_for_shallow_and_deep_sides() -> None:
    rng = random.Random(11)
    for levels in (0, 1, 5, 30, 127, 128, 400):  # either side of the sort/select switch
        bids = {rng.randrange(1, 500_000): rng.randrange(1, 50) for _ in range(levels)}
        asks = {rng.randrange(500_001, 1_000_000): rng.randrange(1, 50) for _ in range(levels)}
        book = LevelBook()
        book.replace(bids, asks)
        for n in (1, 5, 10):
            got_bids, got_asks = book.depth(n)
            assert got_bids == tuple(Level(p, bids[p]) for p in sorted(bids, reverse=True)[:n])
            assert got_asks == tuple(Level(p, asks[p]) for p in sorted(asks)[:n])


# -- the arrays against a dict model -------------------------------------------------------

_PRICES = st.integers(1, 99).map(lambda k: k * 10_000)
_SIZES = st.one_of(st.just(0), st.integers(1, MAX_BOOK_SIZE))
_SIDE = st.dictionaries(_PRICES, st.integers(1, MAX_BOOK_SIZE), max_size=40)
_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("bid"), _PRICES, _SIZES),
        st.tuples(st.just("ask"), _PRICES, _SIZES),
        st.tuples(st.just("snapshot"), _SIDE, _SIDE),
        st.tuples(st.just("clear"), st.none(), st.none()),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(ops=_OPS)
def test_the_book_is_exactly_a_price_to_size_map_per_side(ops: list[tuple[str, Any, Any]]) -> None:
    """Whatever the order of updates, snapshots and clears: every level, the best of each
    side, the depth in best-first order and the crossed flag are a plain map's."""
    book = TokenBook("1")
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    for op, a, b in ops:
        if op == "snapshot":
            book.replace(dict(a), dict(b))
            bids, asks = dict(a), dict(b)
        elif op == "clear":
            book.clear("resolved")
            bids, asks = {}, {}
        else:
            side = bids if op == "bid" else asks
            (book.set_bid if op == "bid" else book.set_ask)(a, b)
            if b:
                side[a] = b
            else:
                side.pop(a, None)
        assert book.bids == bids
        assert book.asks == asks
        assert book.level_counts() == (len(bids), len(asks))
        best_bid = max(bids, default=None)
        best_ask = min(asks, default=None)
        assert book.best_levels() == (
            best_bid,
            bids[best_bid] if best_bid is not None else 0,
            best_ask,
            asks[best_ask] if best_ask is not None else 0,
        )
        assert book.crossed == (
            best_bid is not None and best_ask is not None and best_bid >= best_ask
        )
        for n in (1, 5, 50):
            top_bids, top_asks = book.depth(n)
            assert top_bids == tuple(Level(p, bids[p]) for p in sorted(bids, reverse=True)[:n])
            assert top_asks == tuple(Level(p, asks[p]) for p in sorted(asks)[:n])
            assert all(type(level) is Level for level in top_bids + top_asks)


def test_a_size_beyond_the_books_range_leaves_the_book_as_it_was() -> None:
    """The protocols refuse sizes over ``MAX_BOOK_SIZE``; should one reach the book anyway,
    it raises and changes nothing (the two arrays of a side stay paired)."""
    book = LevelBook()
    book.replace({400_000: 5}, {600_000: 7})
    for update in (book.set_bid, book.set_ask):
        for price in (400_000, 500_000):  # an existing level and a new one
            with pytest.raises(OverflowError):
                update(price, 2**63)
    assert (book.bids, book.asks) == ({400_000: 5}, {600_000: 7})
    assert book.depth(5) == ((Level(400_000, 5),), (Level(600_000, 7),))


def test_ten_thousand_deep_books_are_compact() -> None:
    """10,000 tokens of 16 levels a side, every size its own (as a parser hands them over):
    10.5 MB allocated, where ``dict[price, size]`` sides held 34.6 MB (each size a 32-byte
    int object, each level about 37 bytes of dict)."""
    rng = random.Random(3)
    gc.collect()
    tracemalloc.start()
    try:
        books = []
        for i in range(10_000):
            book = TokenBook(str(i))
            book.replace(
                {400_000 - k * 10_000: rng.randrange(10**7, 5 * 10**10) for k in range(16)},
                {600_000 + k * 10_000: rng.randrange(10**7, 5 * 10**10) for k in range(16)},
            )
            books.append(book)
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(books) == 10_000
    assert held < 16 * 2**20, f"{held / 2**20:.1f} MB"
