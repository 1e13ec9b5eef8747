"""The shard's hot-path shortcut found by ``arbees bench e2e``: ``find_opportunities``
returns at once when every combination's best asks already reach $1 — and must return
exactly what the full search returns."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbees.arb import PairAsks, find_opportunities
from arbees.arb import depth as depth_module
from arbees.book import Level
from arbees.money import CENT, ONE
from arbees.sim.books import DEFAULT_FEES

_levels = st.lists(
    st.builds(
        Level,
        st.integers(1, 99).map(lambda c: c * CENT),
        st.integers(1, 300).map(lambda n: n * ONE),
    ),
    max_size=4,
).map(lambda lv: tuple(sorted(lv, key=lambda x: x.price)))


@settings(max_examples=300, deadline=None)
@given(_levels, _levels, _levels, _levels, st.sampled_from([0, CENT // 2, 2 * CENT]))
def test_shortcut_agrees_with_the_full_search(
    ky: tuple[Level, ...], kn: tuple[Level, ...], py: tuple[Level, ...], pn: tuple[Level, ...],
    min_edge: int,
) -> None:  # fmt: skip
    books = PairAsks(ky, kn, py, pn)
    fast = find_opportunities(books, DEFAULT_FEES, min_edge=min_edge)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(depth_module, "_hopeless", lambda books, min_edge: False)
        full = find_opportunities(books, DEFAULT_FEES, min_edge=min_edge)
    assert fast == full


def test_shortcut_leaves_invalid_levels_to_the_full_path() -> None:
    bad = (Level(0, ONE),)  # price 0 is invalid: counted by the ladders, never skipped
    assert depth_module._hopeless(PairAsks(bad, (), (), ()), 0) is False
    quiet = PairAsks((Level(60 * CENT, ONE),), (Level(45 * CENT, ONE),), (), ())
    assert depth_module._hopeless(quiet, 0) is True
