"""Property tests: the delta shape equals a naive reference book, and no input (garbage,
mutated frames) makes the protocol raise or silently change a book it rejected."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from arbees.money import format_fixed
from arbees.polymarket_us.protocol import PolymarketUsProtocol

SLUG = "m-1"
# Bids below 0.5, offers above, on a quarter-cent grid: never crossed, so always fresh.
bid_prices = st.integers(1, 199).map(lambda t: t * 2_500)
ask_prices = st.integers(201, 399).map(lambda t: t * 2_500)
sizes = st.one_of(st.just(0), st.integers(1, 10**6).map(lambda n: n * 10_000))  # 0.01 steps


def _frame(bids: dict[int, int], asks: dict[int, int]) -> str:
    def side(levels: dict[int, int]) -> list[dict[str, object]]:
        return [
            {"px": {"value": format_fixed(p)}, "qty": format_fixed(q)} for p, q in levels.items()
        ]

    return json.dumps(
        {"market_data": {"market_slug": SLUG, "bids": side(bids), "offers": side(asks)}}
    )


updates = st.lists(
    st.tuples(
        st.dictionaries(bid_prices, sizes, max_size=8),
        st.dictionaries(ask_prices, sizes, max_size=8),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(updates)
def test_delta_books_equal_a_naive_reference(
    messages: list[tuple[dict[int, int], dict[int, int]]],
) -> None:
    proto = PolymarketUsProtocol(shape="delta")
    proto.track(SLUG)
    ref_bids: dict[int, int] = {}
    ref_asks: dict[int, int] = {}
    for i, (bids, asks) in enumerate(messages):
        proto.feed(_frame(bids, asks))
        if i == 0:  # the snapshot replaces
            ref_bids = {p: q for p, q in bids.items() if q}
            ref_asks = {p: q for p, q in asks.items() if q}
        else:
            for ref, side in ((ref_bids, bids), (ref_asks, asks)):
                for p, q in side.items():
                    if q:
                        ref[p] = q
                    else:
                        ref.pop(p, None)
    book = proto.books[SLUG]
    assert book.bids == ref_bids
    assert book.asks == ref_asks
    assert book.best_bid == (max(ref_bids) if ref_bids else None)
    assert book.best_ask == (min(ref_asks) if ref_asks else None)
    assert not book.stale


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(st.binary(max_size=300), st.text(max_size=300)), st.sampled_from(["full", "delta"])
)
def test_garbage_never_raises_nor_changes_a_book(garbage: bytes | str, shape: str) -> None:
    proto = PolymarketUsProtocol(shape=shape)  # type: ignore[arg-type]
    proto.track(SLUG)
    proto.feed(_frame({400_000: 1_000_000}, {450_000: 2_000_000}))
    before = (dict(proto.books[SLUG].bids), dict(proto.books[SLUG].asks))
    proto.feed(garbage)
    book = proto.books[SLUG]
    assert (book.bids, book.asks) == before or book.stale
