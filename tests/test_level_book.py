"""The shared level book (``arbees.book.LevelBook``) and the top-of-book helpers the
Polymarket and Polymarket US books and audits use."""

from __future__ import annotations

import random

from arbees.book import Level, LevelBook, top_of
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
