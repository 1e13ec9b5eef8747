"""Which shard owns which game: the pure rebalancing rule, with no I/O and no clock.

The orchestrator keeps one owner per game (or none while no shard can take it) and calls
:func:`rebalance` whenever the set of live shards or games changes. The rule is built so
that moving a game — which costs the shard a fresh Kalshi subscription and a gap in
coverage — happens only when it must:

1. a game whose owner is not live (dead, timed out, unknown) becomes unowned;
2. every live shard gets a *target*: the fair share ``floor(n/k)`` or ``ceil(n/k)`` of the
   ``n`` games over ``k`` shards, lowered to the shard's capacity when it announced one
   (the games a full shard cannot take are spread over the others, water-filling style);
   the ``ceil`` targets go to the shards that already hold the most games, so the fewest
   games have to move;
3. a shard above its target gives up exactly its excess (deterministically: its highest
   game ids), and those games plus the unowned ones fill the shards below target,
   least-loaded first.

The number of moves (games leaving a live shard) is therefore the minimum possible:
``sum(max(0, load - target))`` over the live shards. Games beyond the total capacity stay
unowned and are reported by the caller. Everything is deterministic (sorted ids), so two
orchestrators computing from the same state agree.

:class:`ShardTable` is the matching liveness bookkeeping: it is fed heartbeats and a clock
reading (never reads a clock itself), and says which shards are new, restarted or dead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

__all__ = [
    "Change",
    "ShardState",
    "ShardTable",
    "changes",
    "fair_targets",
    "moves",
    "rebalance",
]


@attrs.frozen(order=True)
class Change:
    """One game's owner changing.

    Attributes:
        game_id: the game.
        old: the previous owner (``None`` when it was unowned).
        new: the new owner (``None`` when it is left unowned).
    """

    game_id: str
    old: str | None
    new: str | None


def fair_targets(
    n_games: int, capacities: Mapping[str, int], loads: Mapping[str, int] | None = None
) -> dict[str, int]:
    """How many games each live shard should hold.

    ``capacities`` maps each live shard to its capacity (``0`` = no limit). Uncapped shards
    end within one game of each other; a capped shard never exceeds its capacity. When
    ``n % k`` shards must take one game more, those are the ones with the largest current
    ``loads`` (ties broken by shard id), which keeps the number of moves minimal.
    """
    loads = loads or {}
    targets: dict[str, int] = {}
    remaining = n_games
    open_shards = sorted(capacities)
    # Water-filling: a shard whose capacity is below the fair level is filled to capacity
    # and leaves the pool; repeat until every remaining shard can take the level.
    while open_shards:
        level = -(-remaining // len(open_shards))  # ceil
        capped = [s for s in open_shards if 0 < capacities[s] < level]
        if not capped:
            break
        for shard in capped:
            targets[shard] = capacities[shard]
            remaining -= capacities[shard]
            open_shards.remove(shard)
    if not open_shards:
        return targets
    base, extra = divmod(max(remaining, 0), len(open_shards))
    by_load = sorted(open_shards, key=lambda s: (-loads.get(s, 0), s))
    for i, shard in enumerate(by_load):
        targets[shard] = base + (1 if i < extra else 0)
    return targets


def rebalance(
    owners: Mapping[str, str | None], capacities: Mapping[str, int]
) -> dict[str, str | None]:
    """The new owner of every game in ``owners`` given the live shards' ``capacities``.

    ``owners`` maps every current game to its owner (``None`` = unowned; an owner missing
    from ``capacities`` is treated as dead). Returns a mapping with the same keys. See the
    module docstring for the rule; :func:`changes` lists what differs.
    """
    result: dict[str, str | None] = {}
    held: dict[str, list[str]] = {shard: [] for shard in capacities}
    pool: list[str] = []
    for game in sorted(owners):
        owner = owners[game]
        if owner is not None and owner in held:
            held[owner].append(game)
        else:
            pool.append(game)
    targets = fair_targets(len(owners), capacities, {s: len(g) for s, g in held.items()})
    for shard in sorted(held):
        games = held[shard]
        keep = targets[shard]
        for game in games[:keep]:
            result[game] = shard
        pool.extend(games[keep:])
    pool.sort()
    loads = {shard: min(len(held[shard]), targets[shard]) for shard in held}
    for game in pool:
        room = [s for s in held if loads[s] < targets[s]]
        if not room:
            result[game] = None
            continue
        shard = min(room, key=lambda s: (loads[s], s))
        result[game] = shard
        loads[shard] += 1
    return result


def changes(old: Mapping[str, str | None], new: Mapping[str, str | None]) -> list[Change]:
    """The games whose owner differs between ``old`` and ``new`` (same keys), sorted."""
    return sorted(
        Change(game, old.get(game), owner) for game, owner in new.items() if old.get(game) != owner
    )


def moves(diff: Iterable[Change], live: Iterable[str] | None = None) -> list[Change]:
    """The changes that take a game away from a shard (``old`` set, and live if given)."""
    alive = None if live is None else set(live)
    return [
        c
        for c in diff
        if c.old is not None and c.new is not None and (alive is None or c.old in alive)
    ]


@attrs.define
class ShardState:
    """What the orchestrator knows about one shard.

    Attributes:
        shard_id: the shard's id.
        last_seen: clock reading of its last heartbeat (or of the restore that presumed it).
        started_ms: its announced start time (``None`` while only presumed alive).
        capacity: games it is willing to take (0 = no limit).
        healthy: its own health flag (reported, not used for placement: a shard whose
            Kalshi feed is down elsewhere would be no better).
        games: the games it said it runs in its last heartbeat.
    """

    shard_id: str
    last_seen: float
    started_ms: int | None = None
    capacity: int = 0
    healthy: bool = True
    games: tuple[str, ...] = ()


class ShardTable:
    """Live shards by id, from heartbeats and an injected clock reading."""

    def __init__(self) -> None:
        self.shards: dict[str, ShardState] = {}

    def presume(self, shard_id: str, now: float) -> None:
        """Treat a shard named in stored state as alive until it times out (restart)."""
        self.shards.setdefault(shard_id, ShardState(shard_id, now))

    def seen(
        self,
        shard_id: str,
        now: float,
        *,
        started_ms: int,
        capacity: int = 0,
        healthy: bool = True,
        games: tuple[str, ...] = (),
    ) -> str:
        """Record a heartbeat; returns ``"new"``, ``"restarted"`` or ``"alive"``.

        A shard only presumed alive (restored from storage) reports ``"new"`` on its first
        heartbeat, so its games are sent again in case it restarted meanwhile.
        """
        state = self.shards.get(shard_id)
        if state is None or state.started_ms is None:
            kind = "new"
        elif state.started_ms != started_ms:
            kind = "restarted"
        else:
            kind = "alive"
        self.shards[shard_id] = ShardState(
            shard_id, now, started_ms, max(capacity, 0), healthy, games
        )
        return kind

    def expire(self, now: float, timeout: float) -> list[str]:
        """Drop and return (sorted) the shards not heard from for more than ``timeout``."""
        dead = sorted(s for s, st in self.shards.items() if now - st.last_seen > timeout)
        for shard in dead:
            del self.shards[shard]
        return dead

    def capacities(self) -> dict[str, int]:
        """Live shard id -> capacity, the input of :func:`rebalance`."""
        return {s: st.capacity for s, st in self.shards.items()}

    def __len__(self) -> int:
        return len(self.shards)

    def __contains__(self, shard_id: object) -> bool:
        return shard_id in self.shards
