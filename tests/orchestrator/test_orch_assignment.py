"""The pure assignment rule: balance, minimal moves, dead shards, capacities, one owner."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from arbees.services.assignment import (
    Change,
    ShardTable,
    changes,
    fair_targets,
    moves,
    rebalance,
)


def _loads(owners: dict[str, str | None]) -> Counter[str]:
    return Counter(o for o in owners.values() if o is not None)


def _games(n: int) -> dict[str, str | None]:
    return {f"G{i:03d}": None for i in range(n)}


def test_balanced_distribution_from_scratch() -> None:
    plan = rebalance(_games(30), {"a": 0, "b": 0, "c": 0})
    assert _loads(plan) == {"a": 10, "b": 10, "c": 10}
    plan = rebalance(_games(31), {"a": 0, "b": 0, "c": 0})
    assert sorted(_loads(plan).values()) == [10, 10, 11]


def test_no_shard_leaves_games_waiting() -> None:
    plan = rebalance(_games(3), {})
    assert plan == dict.fromkeys(plan)


def test_new_shard_takes_fair_share_with_minimal_moves() -> None:
    before = rebalance(_games(30), {"a": 0, "b": 0, "c": 0})
    after = rebalance(before, {"a": 0, "b": 0, "c": 0, "d": 0})
    diff = changes(before, after)
    assert sorted(_loads(after).values()) == [7, 7, 8, 8]
    # targets 8/8/7/7: two shards give 2, one gives 3 -> exactly d's 7, nothing else moves
    assert len(diff) == 7
    assert all(c.new == "d" for c in diff)
    assert len(moves(diff)) == 7
    # nothing moves again when nothing changed
    assert changes(after, rebalance(after, {"a": 0, "b": 0, "c": 0, "d": 0})) == []


def test_dead_shard_games_go_to_the_others_only() -> None:
    before = rebalance(_games(30), {"a": 0, "b": 0, "c": 0})
    after = rebalance(before, {"a": 0, "b": 0})
    diff = changes(before, after)
    assert _loads(after) == {"a": 15, "b": 15}
    assert {c.old for c in diff} == {"c"}
    assert moves(diff, live=("a", "b")) == []  # no live shard lost a game


def test_capacity_is_respected_and_overflow_waits() -> None:
    plan = rebalance(_games(10), {"a": 2, "b": 0})
    assert _loads(plan) == {"a": 2, "b": 8}
    plan = rebalance(_games(10), {"a": 2, "b": 3})
    assert _loads(plan) == {"a": 2, "b": 3}
    assert sum(1 for o in plan.values() if o is None) == 5


def test_fair_targets_give_the_extra_to_the_most_loaded() -> None:
    assert fair_targets(7, {"a": 0, "b": 0}, {"a": 1, "b": 6}) == {"a": 3, "b": 4}


def test_changes_are_sorted_and_typed() -> None:
    assert changes({"x": "a", "y": None}, {"x": "b", "y": None}) == [Change("x", "a", "b")]


def test_shard_table_new_restart_expire() -> None:
    table = ShardTable()
    table.presume("s1", 0.0)
    assert table.seen("s1", 1.0, started_ms=10) == "new"  # presumed -> first real heartbeat
    assert table.seen("s1", 2.0, started_ms=10) == "alive"
    assert table.seen("s1", 3.0, started_ms=11) == "restarted"
    assert table.seen("s2", 3.0, started_ms=5, capacity=-3) == "new"
    assert table.capacities() == {"s1": 0, "s2": 0}
    assert table.expire(4.0, 1.5) == []
    assert table.expire(5.0, 1.5) == ["s1", "s2"]
    assert len(table) == 0


_shard = st.sampled_from([f"s{i}" for i in range(6)])
_step = st.one_of(
    st.tuples(st.just("join"), _shard),
    st.tuples(st.just("die"), _shard),
    st.tuples(st.just("add"), st.integers(0, 999)),
    st.tuples(st.just("retire"), st.integers(0, 999)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_step, max_size=40))
def test_random_histories_keep_one_owner_and_balance(steps: list[tuple[str, object]]) -> None:
    live: set[str] = set()
    owners: dict[str, str | None] = {}
    for kind, arg in steps:
        if kind == "join":
            live.add(str(arg))
        elif kind == "die":
            live.discard(str(arg))
        elif kind == "add":
            owners.setdefault(f"G{arg}", None)
        else:
            owners.pop(f"G{arg}", None)
        before = dict(owners)
        plan = rebalance(owners, dict.fromkeys(live, 0))
        assert plan.keys() == owners.keys()  # one owner (or none) per game, no game lost
        loads = _loads(plan)
        assert set(loads) <= live  # never a dead shard
        if live:
            assert all(o is not None for o in plan.values())
            counts = [loads.get(s, 0) for s in live]
            assert max(counts) - min(counts) <= 1
            # minimal moves: exactly the surplus above the fair targets
            held = {s: sum(1 for o in before.values() if o == s) for s in live}
            targets = fair_targets(len(owners), dict.fromkeys(live, 0), held)
            surplus = sum(max(0, held[s] - targets[s]) for s in live)
            assert len(moves(changes(before, plan), live=live)) == surplus
        else:
            assert all(o is None for o in plan.values())
        owners = plan
