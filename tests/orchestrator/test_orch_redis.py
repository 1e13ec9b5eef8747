"""End to end on a real redis-server: 3 fake shards, 30 games, a crash, a restart, a retirement."""

from __future__ import annotations

import attrs
import pytest
import trio
from orch_fixtures import make_inputs
from orch_shards import FAST, FakeShard, Observer, wait_for

from arbees.bus import Bus, open_bus
from arbees.messages import GAME_ASSIGNMENTS_HASH, TOKEN_ASSIGNMENTS_HASH, MarketAssignment
from arbees.obs.health import read_health
from arbees.services.discovery import StaticGameSource
from arbees.services.orchestrator import open_orchestrator
from arbees.testing.redis_server import RedisServer

pytestmark = pytest.mark.redis


async def _hash_owners(bus: Bus) -> dict[str, str]:
    stored = await bus.hgetall(GAME_ASSIGNMENTS_HASH)
    out = {}
    for game, msg in stored.items():
        assert isinstance(msg, MarketAssignment)
        assert (msg.platform, msg.game_id, msg.action) == ("kalshi", game, "assign")
        out[game] = msg.shard_id
    return out


async def _token_owners(bus: Bus) -> dict[str, str]:
    stored = await bus.hgetall(TOKEN_ASSIGNMENTS_HASH)
    out = {}
    for token, msg in stored.items():
        assert isinstance(msg, MarketAssignment)
        assert (msg.platform, msg.token_id) == ("polymarket", token)
        out[token] = msg.shard_id
    return out


def _holdings(shards: list[FakeShard]) -> dict[str, str]:
    out: dict[str, str] = {}
    for shard in shards:
        for game in shard.games:
            assert game not in out, f"{game} held by {out[game]} and {shard.shard_id}"
            out[game] = shard.shard_id
    return out


async def test_balance_crash_restart_retire(private_redis: RedisServer) -> None:
    source = StaticGameSource(make_inputs(range(30)))
    async with (
        open_bus(private_redis.url) as shard_bus,
        open_bus(private_redis.url) as orch_bus,
        trio.open_nursery() as nursery,
    ):
        observer = Observer(shard_bus)
        await nursery.start(observer.run)
        shards = [FakeShard(shard_bus, f"shard-{c}") for c in "abc"]
        for shard in shards:
            await nursery.start(shard.run)

        # 1. cold start: the settle delay gathers the three heartbeats, then 10/10/10
        async with open_orchestrator(orch_bus, source, FAST) as orch:
            await wait_for(lambda: [len(s.games) for s in shards] == [10, 10, 10], 5)
            assert orch.stats.moves == 0
            held = _holdings(shards)
            assert await _hash_owners(shard_bus) == held
            tokens = await _token_owners(shard_bus)
            assert len(tokens) == 60
            for game, spec in orch.games.items():
                assert {tokens[t] for t in spec.tokens} == {held[game]}
            status = await read_health(shard_bus, "orchestrator", "test-orch")
            assert status is not None
            assert status.healthy

            # 2. shard c crashes: its games move within SHARD_TIMEOUT + one interval
            victim = shards[2]
            victim.stop_heartbeats()
            survivors = shards[:2]
            await wait_for(
                lambda: [len(s.games) for s in survivors] == [15, 15] and not victim.games,
                FAST.shard_timeout + FAST.check_interval + 2.0,
            )
            assert orch.stats.shards_expired == 1
            assert orch.stats.moves == 0  # survivors kept all of theirs
            assert orch.stats.reassigned == 10
            owners = await _hash_owners(shard_bus)
            assert owners == _holdings(survivors)
            assert set((await _token_owners(shard_bus)).values()) == {"shard-a", "shard-b"}
            before = dict(owners)

        # 3. orchestrator restart: same assignments, nothing moves, no duplicates
        seen_before = len(observer.messages)
        async with open_orchestrator(orch_bus, source, FAST) as orch2:
            assert orch2.stats.restored == 30
            await trio.sleep(FAST.settle_delay + 2 * FAST.republish_interval)
            assert orch2.stats.moves == orch2.stats.reassigned == orch2.stats.assigned == 0
            assert await _hash_owners(shard_bus) == before
            assert _holdings(survivors) == before
            assert len(observer.messages) > seen_before  # it republished the state

            # 4. a game disappears from the venues: unassign published, hashes cleaned
            gone = "KXNBAGAME-26OCT20ATLBOS"
            spec = orch2.games[gone]
            owner = before[gone]
            source.inputs = make_inputs(range(1, 30))
            await wait_for(lambda: gone not in _holdings(survivors), 3)
            assert gone not in await _hash_owners(shard_bus)
            assert not set(spec.tokens) & set(await _token_owners(shard_bus))
            unassigns = [
                m for m in observer.messages if m.game_id == gone and m.action == "unassign"
            ]
            assert {(m.platform, m.token_id, m.shard_id) for m in unassigns} >= {
                ("kalshi", "", owner),
                *(("polymarket", t, owner) for t in spec.tokens),
            }
            assert orch2.stats.retired == 1

        assert observer.violations == []
        # epochs only grow per game along the stream
        last: dict[str, int] = {}
        for m in observer.messages:
            key = m.game_id
            assert m.epoch >= last.get(key, 0)
            last[key] = m.epoch
        nursery.cancel_scope.cancel()


async def test_restarted_shard_gets_its_games_again(private_redis: RedisServer) -> None:
    source = StaticGameSource(make_inputs(range(6)))
    async with (
        open_bus(private_redis.url) as bus,
        trio.open_nursery() as nursery,
        open_orchestrator(bus, source, attrs.evolve(FAST, settle_delay=0.0)) as orch,
    ):
        first = FakeShard(bus, "shard-x")
        await nursery.start(first.run)
        await wait_for(lambda: len(first.games) == 6, 3)
        first.stop_heartbeats()
        # the same shard id comes back as a new process (new started_ms, nothing held)
        again = FakeShard(bus, "shard-x")
        again.started_ms = first.started_ms + 1
        await nursery.start(again.run)
        await wait_for(lambda: len(again.games) == 6, 3)
        assert orch.stats.shard_restarts == 1
        assert orch.stats.moves == orch.stats.reassigned == 0
        nursery.cancel_scope.cancel()
