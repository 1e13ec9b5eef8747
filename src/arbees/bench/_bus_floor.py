"""The floor of ``arbees bench bus``: plain redis-py on plain asyncio, no Trio, no bridge.

Run as a subprocess (``python -m arbees.bench._bus_floor --port P --count N``) so the
floor is measured on a fresh interpreter with asyncio's own loop, exactly the way a
plain-asyncio program would see Redis. It measures the same thing as the RedisBus
latency run (one message in flight: encode, PUBLISH, receive, decode) and prints one
JSON object: ``{"latency_us": [...]}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from redis.asyncio import Redis

from arbees import codec
from arbees.messages import Message

__all__ = ["measure", "sample_message"]


def sample_message(seq: int = 1) -> Message:
    """A typical price update (what the monitor publishes on every book change)."""
    from arbees.book import Level
    from arbees.messages import PolymarketPriceUpdate

    return PolymarketPriceUpdate(
        market_id="0x" + "ab" * 32,
        token_id="7132104567925221259462638553270691275033272857194253228963137931245558399256",
        yes_bid=430_000,
        yes_ask=440_000,
        no_bid=560_000,
        no_ask=570_000,
        liquidity=1_250_500_000,
        timestamp_ms=1_700_000_000_000,
        yes_bid_size=100_000_000,
        yes_ask_size=50_000_000,
        yes_asks=(Level(440_000, 50_000_000), Level(450_000, 10_000_000)),
        no_asks=(Level(570_000, 100_000_000),),
        seq=seq,
    )


async def measure(port: int, count: int, warmup: int) -> list[float]:
    """Publish -> receive latencies in µs, one message in flight."""
    client = Redis(host="127.0.0.1", port=port)
    pubsub = client.pubsub()
    channel = "bench:floor"
    await pubsub.subscribe(channel)
    while (await pubsub.get_message(timeout=1.0) or {}).get("type") != "subscribe":
        pass
    message = sample_message()
    out: list[float] = []
    for i in range(warmup + count):
        t0 = time.perf_counter_ns()
        await client.publish(channel, codec.encode(message))
        while True:
            got = await pubsub.get_message(timeout=None)
            if got is not None and got["type"] == "message":
                break
        codec.decode(got["data"])
        if i >= warmup:
            out.append((time.perf_counter_ns() - t0) / 1000)
    await pubsub.aclose()
    await client.aclose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=500)
    args = parser.parse_args()
    latencies = asyncio.run(measure(args.port, args.count, args.warmup))
    print(json.dumps({"latency_us": latencies}))


if __name__ == "__main__":
    main()
