"""The shard's hot-path shortcuts found by ``arbees bench e2e``: ``find_opportunities``
returns at once when every combination's best asks already reach $1, and otherwise builds
only the ladders of the combinations within reach — and must return exactly what the full
search (every ladder built) returns."""

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
        mp.setattr(depth_module, "_best_asks", lambda books: None)  # the full path
        full = find_opportunities(books, DEFAULT_FEES, min_edge=min_edge)
    assert fast == full


def test_shortcut_leaves_invalid_levels_to_the_full_path() -> None:
    bad = (Level(0, ONE),)  # price 0 is invalid: counted by the ladders, never skipped
    assert depth_module._best_asks(PairAsks(bad, (), (), ())) is None
    quiet = PairAsks((Level(60 * CENT, ONE),), (Level(45 * CENT, ONE),), (), ())
    assert depth_module._best_asks(quiet) == {
        ("kalshi", "yes"): 60 * CENT,
        ("kalshi", "no"): 45 * CENT,
        ("polymarket", "yes"): None,
        ("polymarket", "no"): None,
    }


def test_only_the_ladders_of_a_combination_within_reach_are_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[tuple[str, str]] = []
    real = depth_module.Ladder

    def counting(venue: str, outcome: str, *args: object) -> depth_module.Ladder:
        built.append((venue, outcome))
        return real(venue, outcome, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(depth_module, "Ladder", counting)
    # Kalshi YES 0.40 + Polymarket NO 0.50 is within reach; nothing else is.
    books = PairAsks(
        (Level(40 * CENT, 10 * ONE),),
        (Level(70 * CENT, 10 * ONE),),
        (Level(60 * CENT, 10 * ONE),),
        (Level(50 * CENT, 10 * ONE),),
    )
    found = find_opportunities(books, DEFAULT_FEES)
    assert len(found) == 1
    assert sorted(built) == [("kalshi", "yes"), ("polymarket", "no")]
    quiet = PairAsks((Level(60 * CENT, ONE),), (Level(45 * CENT, ONE),), (), ())
    built.clear()
    assert find_opportunities(quiet, DEFAULT_FEES) == ()
    assert built == []


@settings(max_examples=300, deadline=None)
@given(
    _levels,
    _levels,
    _levels,
    _levels,
    st.lists(st.tuples(st.integers(0, 3), _levels), max_size=5),
    st.sampled_from([0, CENT // 2, 2 * CENT]),
)
def test_a_pairs_memo_agrees_with_walking_again(
    ky: tuple[Level, ...], kn: tuple[Level, ...], py: tuple[Level, ...], pn: tuple[Level, ...],
    changes: list[tuple[int, tuple[Level, ...]]], min_edge: int,
) -> None:  # fmt: skip
    # One pair touched again and again, one leg at a time (as the shard re-evaluates a pair
    # with an open signal): what the memo gives is exactly a fresh walk.
    legs = [ky, kn, py, pn]
    memo: depth_module.WalkMemo = {}
    for change in [None, *changes]:
        if change is not None:
            legs[change[0]] = change[1]
        books = PairAsks(*legs)
        remembered = find_opportunities(books, DEFAULT_FEES, min_edge=min_edge, memo=memo)
        assert remembered == find_opportunities(books, DEFAULT_FEES, min_edge=min_edge)


def test_a_touch_of_a_leg_the_held_combination_does_not_use_walks_nothing_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    walks: list[object] = []
    size = depth_module._size

    def counting(combo: object, *args: object) -> object:
        walks.append(combo)
        return size(combo, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(depth_module, "_size", counting)
    kalshi_yes = (Level(40 * CENT, 10 * ONE),)
    poly_no = (Level(50 * CENT, 10 * ONE),)
    memo: depth_module.WalkMemo = {}
    for poly_yes_size in (10, 20, 30):  # the Polymarket YES side changes, out of reach
        books = PairAsks(
            kalshi_yes,
            (Level(70 * CENT, 10 * ONE),),
            (Level(60 * CENT, poly_yes_size * ONE),),
            poly_no,
        )
        assert len(find_opportunities(books, DEFAULT_FEES, memo=memo)) == 1
    assert len(walks) == 1  # walked once, then remembered
    books = PairAsks(kalshi_yes, (), (), (Level(50 * CENT, 5 * ONE),))  # its own leg changed
    assert find_opportunities(books, DEFAULT_FEES, memo=memo)[0].size == 5 * ONE
    assert len(walks) == 2
