"""``arbees bench bus``: bus latency and throughput, against a floor measured in the same run.

Speed claims come from here, never from timed tests. A private ``redis-server`` is started
on a free loopback port, then:

* **latency** — one message in flight (encode, publish, receive, decode), ``--count``
  messages after a warm-up, through :class:`~arbees.bus.redis.RedisBus`;
* **floor** — the same measurement with plain redis-py on plain asyncio, in a subprocess
  (:mod:`arbees.bench._bus_floor`), and the ratio RedisBus / floor (p50 and p99);
* **throughput** — many publishes in flight: MemoryBus, RedisBus with batching, and
  RedisBus with ``max_batch=1`` (one PUBLISH per write and per loop round, i.e. without
  the pipelining) to show what batching buys. Received counts are reported, losses
  included;
* **codec** — µs per ``codec.encode`` and ``codec.decode`` of the same price update (best
  of 5 runs of 2,000), a fixed share of every latency figure above; in the same run, the
  decode of the same update with one extra key (a seed-style publisher's form, which the
  codec's fast path leaves to its generic path: the A/B of the fast path) and the floor,
  ``msgspec.json.decode`` of the payload to a dict alone;
* **hot-path CPU** — the RedisBus (Trio-native raw connections) against a bare
  ``trio.SocketStream`` floor, alternating rounds on the same Redis
  (:mod:`arbees.bench._publish_ab`): CPU µs per update of the batch write (HSET + PUBLISH
  per update, paced at ``--ab-rate`` in batches of ``--ab-batch``), and CPU µs per
  message of the subscriber (receive + decode, fed at the same rate by a publisher
  thread whose CPU is not counted).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import timeit
from typing import Any

import msgspec
import trio

from arbees import codec
from arbees.bench._args import count, positive, positive_count
from arbees.bench._bus_floor import sample_message
from arbees.bench._publish_ab import publish_ab, subscribe_ab
from arbees.bus import Bus, MemoryBus
from arbees.bus.redis import open_redis_bus
from arbees.testing.redis_server import RedisServer

__all__ = ["register", "run_bench"]


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "bus",
        help="bus latency (vs plain asyncio redis-py) and throughput",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--count", type=positive_count, default=5000, help="latency samples (default 5000)"
    )
    p.add_argument("--warmup", type=count, default=500, help="latency warm-up messages")
    p.add_argument(
        "--throughput-count",
        type=positive_count,
        default=50_000,
        help="messages per throughput run",
    )
    p.add_argument(
        "--memory-count", type=positive_count, default=200_000, help="MemoryBus messages"
    )
    p.add_argument("--ab-rate", type=positive, default=4000, help="A/B: updates/s")
    p.add_argument("--ab-batch", type=positive_count, default=8, help="A/B: updates per write")
    p.add_argument("--ab-seconds", type=positive, default=2.0, help="A/B: seconds per run")
    p.add_argument("--ab-pairs", type=positive_count, default=2, help="A/B: alternating rounds")
    p.set_defaults(handler=_handler)


def _summary(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    if not s:
        return {"p50": 0.0, "p99": 0.0, "max": 0.0}

    def pct(q: float) -> float:
        return round(s[min(len(s) - 1, int(q * len(s)))], 1)

    return {"p50": pct(0.50), "p99": pct(0.99), "max": round(s[-1], 1)}


async def _latency(bus: Bus, count: int, warmup: int) -> list[float]:
    message = sample_message()
    out: list[float] = []
    async with bus.subscribe("bench:latency") as sub:
        for i in range(warmup + count):
            t0 = time.perf_counter_ns()
            await bus.publish("bench:latency", message)
            await sub.receive()
            if i >= warmup:
                out.append((time.perf_counter_ns() - t0) / 1000)
    return out


async def _throughput(bus: Bus, count: int) -> tuple[float, int]:
    """(messages received per second, messages received) with ``count`` publishes in flight."""
    message = sample_message()
    received = 0
    last = time.perf_counter()
    async with bus.subscribe("bench:throughput", buffer=count + 16) as sub:

        async def consume() -> None:
            # receive(), not `async for ... return`: leaving the iterator early would leave
            # its async generator to the garbage collector.
            nonlocal received, last
            while received < count:
                await sub.receive()
                received += 1
                last = time.perf_counter()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(consume)
            t0 = time.perf_counter()
            for _ in range(count):
                await bus.publish("bench:throughput", message)
            # wait for the tail; give up after 2 s without progress (losses are reported)
            idle_since, seen = time.perf_counter(), received
            while received < count and time.perf_counter() - idle_since < 2.0:
                await trio.sleep(0.01)
                if received != seen:
                    idle_since, seen = time.perf_counter(), received
            nursery.cancel_scope.cancel()
    elapsed = max(last - t0, 1e-9)
    return received / elapsed, received


def _codec_us(number: int = 2000, repeat: int = 5) -> dict[str, float]:
    message = sample_message()
    data = codec.encode(message)
    encode = min(timeit.repeat(lambda: codec.encode(message), number=number, repeat=repeat))
    decode = min(timeit.repeat(lambda: codec.decode(data), number=number, repeat=repeat))
    extra = data[:-1] + b',"x":0}'
    generic = min(timeit.repeat(lambda: codec.decode(extra), number=number, repeat=repeat))
    floor = min(timeit.repeat(lambda: msgspec.json.decode(data), number=number, repeat=repeat))
    return {
        "encode": round(encode / number * 1e6, 2),
        "decode": round(decode / number * 1e6, 2),
        "decode_generic": round(generic / number * 1e6, 2),
        "json_floor": round(floor / number * 1e6, 2),
        "decode_ratio": round(decode / floor, 2),
        "bytes": len(data),
    }


async def _bus_runs(url: str, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    memory = MemoryBus()
    rate, got = await _throughput(memory, args.memory_count)
    out["memory_throughput_per_s"] = round(rate)
    out["memory_received"] = got
    await memory.aclose()
    async with open_redis_bus(url) as bus:
        out["redis_latency_us"] = _summary(await _latency(bus, args.count, args.warmup))
        rate, got = await _throughput(bus, args.throughput_count)
        out["redis_throughput_per_s"] = round(rate)
        out["redis_received"] = got
    async with open_redis_bus(url, max_batch=1) as bus:
        rate, got = await _throughput(bus, args.throughput_count // 5)
        out["redis_unbatched_throughput_per_s"] = round(rate)
        out["redis_unbatched_received"] = got
    return out


def _floor(port: int, count: int, warmup: int) -> dict[str, float]:
    cmd = [sys.executable, "-m", "arbees.bench._bus_floor", "--port", str(port)]
    cmd += ["--count", str(count), "--warmup", str(warmup)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True)
    latencies: list[float] = json.loads(done.stdout)["latency_us"]
    return _summary(latencies)


def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    """Run the whole benchmark and return the figures."""
    with RedisServer() as server:
        floor = _floor(server.port, args.count, args.warmup)
        result = trio.run(_bus_runs, server.url, args)
        ab = {"rate": args.ab_rate, "batch": args.ab_batch, "seconds": args.ab_seconds}
        ab["pairs"] = args.ab_pairs
        result["publish_ab"] = publish_ab(server.url, server.port, **ab)
        result["subscribe_ab"] = subscribe_ab(server.url, server.port, **ab)
    result["floor_latency_us"] = floor
    result["codec_us"] = _codec_us()
    redis_lat = result["redis_latency_us"]
    result["ratio_p50"] = round(redis_lat["p50"] / floor["p50"], 2) if floor["p50"] else None
    result["ratio_p99"] = round(redis_lat["p99"] / floor["p99"], 2) if floor["p99"] else None
    result["count"] = args.count
    result["throughput_count"] = args.throughput_count
    return result


def _handler(args: argparse.Namespace) -> int:
    result = run_bench(args)
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return 0
    r, f = result["redis_latency_us"], result["floor_latency_us"]
    print(f"publish->receive latency, one in flight, {args.count} messages (µs):")
    print(
        f"  RedisBus                  p50 {r['p50']:8.1f}  p99 {r['p99']:8.1f}  max {r['max']:9.1f}"
    )
    print(
        f"  floor (asyncio redis-py)  p50 {f['p50']:8.1f}  p99 {f['p99']:8.1f}  max {f['max']:9.1f}"
    )
    print(f"  ratio                     p50 {result['ratio_p50']:8}  p99 {result['ratio_p99']:8}")
    c = result["codec_us"]
    print(f"codec, one price update ({c['bytes']} bytes):", end="")
    print(f" encode {c['encode']} µs, decode {c['decode']} µs", end="")
    print(f" (generic path {c['decode_generic']} µs; msgspec to a dict alone {c['json_floor']} µs)")
    for name, what in (
        ("publish_ab", "publish CPU per update"),
        ("subscribe_ab", "subscribe CPU per message"),
    ):
        ab = result[name]
        print(
            f"{what} ({ab['rate_per_s']:g}/s in batches of {ab['batch']}):"
            f" RedisBus {ab['redis_bus_us']} µs, raw SocketStream floor {ab['floor_us']} µs"
            f" (ratio {ab['redis_bus_over_floor']},"
            f" per round {ab['redis_bus_over_floor_per_round']})"
        )
    print("throughput (messages/s, many in flight):")
    print(
        f"  MemoryBus                 {result['memory_throughput_per_s']:>10,}"
        f"  ({result['memory_received']:,}/{args.memory_count:,} received)"
    )
    print(
        f"  RedisBus, batched         {result['redis_throughput_per_s']:>10,}"
        f"  ({result['redis_received']:,}/{args.throughput_count:,} received)"
    )
    print(
        f"  RedisBus, max_batch=1     {result['redis_unbatched_throughput_per_s']:>10,}"
        f"  ({result['redis_unbatched_received']:,}/{args.throughput_count // 5:,} received)"
    )
    return 0
