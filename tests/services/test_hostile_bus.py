"""A hostile client on the bus cannot stop the monitor or the shard, nor make them lie.

On a real redis-server, while a monitor (fake Polymarket behind a fake Gluetun) and a shard
(fake Kalshi) run one game, another client publishes 5,000 hostile payloads: garbage,
oversized and deeply nested bytes on every channel; poisoned assignments (token ids the
feed refuses, unreadable fees); monitor heartbeats from the future and with forged stream
ids; price updates for other tokens with absurd fields; and writes garbage and poisoned
records into every hash. Afterwards both services are still up, valid prices still flow,
a scripted price move still gives exactly the one correct signal, the counters show the
rejections and the process memory stayed bounded.

Nothing here measures time: the deadlines only turn a hang into a failure.
"""

from __future__ import annotations

import gc
import json
import logging
import random
import tracemalloc
from typing import Any

import trio

from arbees import codec
from arbees.bus import Bus, open_bus
from arbees.bus._resp import RespParser, encode_command
from arbees.errors import BusClosedError
from arbees.messages import (
    GAME_ASSIGNMENTS_HASH,
    LATEST_PRICES_HASH,
    TOKEN_ASSIGNMENTS_HASH,
    ArbSignal,
    Channel,
    MarketAssignment,
    PolymarketPriceUpdate,
    ServiceStatus,
    ShardHeartbeat,
    now_ms,
)
from arbees.money import ONE, parse_fixed
from arbees.services.sources import BusPolymarketSource
from arbees.testing.redis_server import RedisServer
from tests.services.e2e_support import K_OKC, P_OKC, P_SAS, game_assignments, open_arb, open_stack
from tests.services.test_e2e import books_fresh, wait_for

HOUR_MS = 3_600_000
MB = 1 << 20
TOTAL = 5000


def _valid_json(message: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(codec.encode(message))
    return data


def _garbage(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.randbytes(rng.randrange(1, 200))
    if kind == 1:
        return b"[" * 50_000  # deeply nested
    if kind == 2:
        return b'{"schema":1,"kind":"MarketAssignment"'  # truncated
    if kind == 3:
        return json.dumps({"schema": 1, "kind": "NoSuchKind", "x": 1}).encode()
    if kind == 4:
        return json.dumps([1, 2, {"schema": 1}]).encode()
    return b'{"schema":1,"kind":"PolymarketPriceUpdate","token_id":' + b"9" * 5000 + b"}"


def _monitor_poison(i: int) -> bytes:
    template = game_assignments()[1]
    bad_tokens = ["9" * 100, "", "12ab", "1" * 10_000, "-5", "0x" + "f" * 64]
    token = bad_tokens[i % len(bad_tokens)]
    return codec.encode(
        MarketAssignment(
            platform="polymarket",
            market_id=template.market_id,
            token_id=token,
            shard_id="s1",
            sport="NBA",
            game_id=f"poison-{i}",
            epoch=10**12 + i,
        )
    )


def _shard_poison(i: int) -> bytes:
    shard = game_assignments()[0]
    fee = ["NaN", "abc", "1e999999", "Infinity", "-1", "sNaN", "7" * 2000][i % 7]
    data = _valid_json(shard)
    data.update(game_id=f"poison-{i}", market_id=f"KXNBAGAME-POISON{i}")
    (poly,) = [terms for terms in data["fees"] if terms["venue"] == "polymarket"]
    poly["rate"] = fee
    data["teams"][0]["kalshi_ticker"] = f"KXNBAGAME-POISON{i}-A"
    data["teams"][1]["kalshi_ticker"] = f"KXNBAGAME-POISON{i}-B"
    return json.dumps(data).encode()


def _future_heartbeat(i: int) -> bytes:
    return codec.encode(
        ServiceStatus(
            "monitor",
            f"forged-{i}",
            True,
            now_ms() + HOUR_MS * (1 + i),
            details={"stream_id": "forged", "stream_seq": "0"},
        )
    )


def _forged_stream(i: int) -> bytes:
    return codec.encode(
        ServiceStatus(
            "monitor", "forged", True, now_ms(), details={"stream_id": f"f{i}", "stream_seq": "1"}
        )
    )


def _odd_price(i: int) -> bytes:
    """A price for a token nobody watches, with fields today's codec may or may not refuse."""
    update = PolymarketPriceUpdate(
        market_id="0xforged",
        token_id=str(10**50 + i),
        yes_bid=600_000,
        yes_ask=400_000,  # crossed
        no_bid=600_000,
        no_ask=400_000,
        liquidity=0,
        timestamp_ms=now_ms() + HOUR_MS,
        monitor_recv_ns=(now_ms() + HOUR_MS) * 1_000_000,
    )
    data = _valid_json(update)
    variant = i % 3
    if variant == 0:
        data["timestamp_ms"] = 10**30
    elif variant == 1:
        data["seq"] = -5
    return json.dumps(data).encode()


def _oversized(i: int) -> bytes:
    data = _valid_json(game_assignments()[1])
    data["market_id"] = "x" * MB
    data["token_id"] = "9" * 100 + str(i)  # refused here whether or not the codec caps sizes
    return json.dumps(data).encode()


def _forged_shard_heartbeat(i: int) -> bytes:
    games = tuple(f"GHOST-{i}-{g}" for g in range(500))
    return codec.encode(ShardHeartbeat(f"forged-{i}", now_ms(), games=games))


def _forged_signal(i: int) -> bytes:
    data = {"schema": 1, "kind": "ArbSignal", "signal_id": f"forged-{i}", "shard_id": "forged"}
    return json.dumps(data).encode()


async def _raw_commands(port: int, commands: list[list[bytes | str]]) -> list[object]:
    """Send commands pipelined on a plain connection; return every reply (errors included)."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    parser = RespParser()
    replies: list[object] = []
    async with stream:
        await stream.send_all(b"".join(encode_command(*c) for c in commands))
        while len(replies) < len(commands):
            data = await stream.receive_some(65_536)
            assert data, "redis closed the connection"
            replies.extend(parser.feed(data))
    return replies


def _hash_poison(rng: random.Random, n: int) -> list[list[bytes | str]]:
    commands: list[list[bytes | str]] = []
    hashes = (TOKEN_ASSIGNMENTS_HASH, GAME_ASSIGNMENTS_HASH, LATEST_PRICES_HASH)
    other = _valid_json(game_assignments()[1])
    other["token_id"] = P_SAS  # a record stored under another token's name
    for i in range(n):
        key = hashes[i % 3]
        kind = i % 5
        if kind == 0:
            value: bytes = rng.randbytes(rng.randrange(1, 300))
        elif kind == 1:
            value = b"[" * 50_000
        elif kind == 2:
            value = _monitor_poison(i)
        elif kind == 3:
            value = _shard_poison(i)
        else:
            value = json.dumps(other).encode()
        field = f"poison-{i}" if kind != 4 else P_OKC + "0"  # never a field in use
        commands.append(["HSET", key, field, value])
    return commands


async def _hostile(bus: Bus, port: int) -> tuple[int, int]:
    """Send the hostile mix; return (payloads sent, their total bytes)."""
    rng = random.Random(20261205)
    sent = 0
    channels = list(Channel)
    plan: list[tuple[str, bytes]] = []
    for i in range(1200):
        plan.append((channels[i % len(channels)], _garbage(rng)))
    plan += [(Channel.MARKET_ASSIGNMENTS, _monitor_poison(i)) for i in range(600)]
    plan += [(Channel.MARKET_ASSIGNMENTS, _shard_poison(i)) for i in range(600)]
    plan += [(Channel.SERVICE_STATUS, _future_heartbeat(i)) for i in range(400)]
    plan += [(Channel.SERVICE_STATUS, _forged_stream(i)) for i in range(50)]
    plan += [(Channel.POLYMARKET_PRICES, _odd_price(i)) for i in range(600)]
    plan += [(Channel.MARKET_ASSIGNMENTS, _oversized(i)) for i in range(5)]
    plan += [(Channel.SHARD_HEARTBEATS, _forged_shard_heartbeat(i)) for i in range(100)]
    plan += [(Channel.SIGNALS, _forged_signal(i)) for i in range(145)]
    rng.shuffle(plan)
    hash_writes = _hash_poison(rng, TOTAL - len(plan))
    volume = sum(len(p) for _, p in plan) + sum(len(c[-1]) for c in hash_writes)
    for start in range(0, len(hash_writes), 100):
        replies = await _raw_commands(port, hash_writes[start : start + 100])
        sent += len(replies)
    for channel, payload in plan:
        await bus.publish_raw(channel, payload)
        sent += 1
    return sent, volume


async def test_hostile_bus_cannot_stop_the_services_or_make_them_lie(
    private_redis: RedisServer,
) -> None:
    async with (
        open_stack(private_redis.url) as stack,
        stack.bus.subscribe(Channel.SIGNALS) as sub,
        open_bus(private_redis.url) as hostile,
    ):
        monitor, shard = stack.monitor, stack.shard
        assert monitor is not None
        source = shard.polymarket
        assert isinstance(source, BusPolymarketSource)
        await wait_for(lambda: books_fresh(stack))
        signals: list[ArbSignal] = []

        async def collect() -> None:
            while True:  # receive(), not `async for`: no generator left behind on cancel
                try:
                    m = (await sub.receive()).message
                except BusClosedError:
                    return  # the test is over
                if isinstance(m, ArbSignal) and m.shard_id == "s1":
                    signals.append(m)

        stack.nursery.start_soon(collect)
        # Python's own accounting of live memory (RSS would also count what the allocator
        # keeps cached after freeing, which says nothing about what the services hold).
        tracemalloc.start(1)
        gc.collect()
        held_before = tracemalloc.get_traced_memory()[0]
        published_before = monitor.stats.published

        # The bus logs each undecodable payload with the payload as an argument, and the test
        # harness keeps every log record for its report: that would be the harness's memory,
        # not the services'. Those lines are quieted for the burst (the counters remain).
        bus_log = logging.getLogger("arbees.bus")
        level = bus_log.level
        bus_log.setLevel(logging.ERROR)
        try:
            sent, volume = await _hostile(hostile, private_redis.port)
            assert sent == TOTAL
            await wait_for(lambda: stack.bus.stats.decode_errors >= 1000, 30)
        finally:
            bus_log.setLevel(level)

        # Every poisoned record was met and refused, one by one: by the bus codec (a bad
        # token id or fee never decodes) or, for what the codec lets through, by the
        # service's own check of each assignment.
        by_field = stack.bus.stats.decode_errors_by_field
        await wait_for(
            lambda: monitor.stats.rejected_assignments + by_field.get("token_id", 0) >= 600, 30
        )
        await wait_for(
            lambda: shard.stats.rejected_assignments + by_field.get("fees", 0) >= 600, 30
        )
        # Heartbeats from the future: refused by the codec's clock-skew check, or by the
        # source's own when the codec lets one through.
        await wait_for(
            lambda: source.future_heartbeats + by_field.get("timestamp_ms", 0) >= 400, 30
        )
        # Both services are up and bounded; nothing of the poison is held.
        assert monitor.healthy
        assert shard.status().healthy
        assert set(monitor.tokens) == {P_OKC, P_SAS}
        assert set(shard.engine.games) == {"g1"}
        assert len(monitor.rejections._reported) <= monitor.rejections.memory
        assert monitor.rejections.alerts_sent <= 2 * monitor.rejections.alerts_per_window
        assert shard.rejections.alerts_sent <= 2 * shard.rejections.alerts_per_window
        assert source.reloads <= 50 + 2  # forged stream ids: bounded reloads, never per token

        # Valid prices keep flowing and a real move gives exactly the one correct signal.
        await wait_for(lambda: books_fresh(stack), 10)
        assert signals == []
        open_arb(stack.poly)
        await wait_for(lambda: len(signals) >= 1, 10)
        assert monitor.stats.published > published_before
        sig = signals[0]
        assert (sig.event, sig.combo, sig.team) == ("open", "KalshiYes+PolyNo", "NBA:OKC")
        assert sig.size == 100 * ONE
        assert sig.profit == parse_fixed("7.07")
        legs = {(leg.venue, leg.instrument, leg.side): leg for leg in sig.legs}
        assert legs[("kalshi", K_OKC, "yes")].price == parse_fixed("0.40")
        assert legs[("polymarket", P_SAS, "yes")].price == parse_fixed("0.50")

        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - held_before
        tracemalloc.stop()
        # Tens of MiB went by; what stays is a few counters and the bounded memory of what
        # was already reported (and the log records the test harness keeps).
        assert volume > 20 * MB
        assert growth < 4 * MB, f"{growth / MB:.1f} of {volume / MB:.1f} MiB still held"
