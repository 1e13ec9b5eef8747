"""``arbees bench parse --venue polymarket|kalshi``: frame parse + book update vs ``json.loads``.

The floor is ``json.loads`` alone on the very same frames, measured in the same run, so
the ratio is meaningful on any machine (a noisy 2-core VM included). For Polymarket the
frames are generated from a reference book simulation: ``price_change`` frames touch both
tokens of a binary market (as live ones do) and carry consistent ``best_bid``/``best_ask``,
so the cross-check runs on every frame; ``book`` frames carry ~40 levels per side in the
live order. "Parse" means: bytes on the wire -> validated exact update applied -> top of
book readable. Each measurement is the best of several interleaved rounds.

Kalshi's benchmark lives in ``arbees.kalshi.bench.run_parse_bench`` (imported lazily).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import random
import sys
import time
from collections.abc import Callable
from typing import Any

from arbees.bench._args import positive_count
from arbees.money import ONE, format_fixed

__all__ = ["register", "run_polymarket_bench"]

_TOKENS = (
    "71321045679252212594626385532706912750332728571942532289631379312455583992563",
    "52114319501245915516055106046884209969926127482827954674443846427813813222426",
)
_MARKET = "0x5f65177b394277fd294cd75650044e32ba009a95022d88a0c1d565897d72f8f1"
_TICK = 10_000  # 0.01


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "parse",
        help="venue frame parse + book update throughput vs the json.loads floor",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--venue", choices=("polymarket", "kalshi"), default="polymarket")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--frames", type=positive_count, default=20_000, help="price_change frames per round"
    )
    p.add_argument(
        "--rounds", type=positive_count, default=5, help="interleaved rounds (best is kept)"
    )
    p.set_defaults(handler=_main)


def _main(args: argparse.Namespace) -> int:
    if args.venue == "kalshi":
        try:
            bench = importlib.import_module("arbees.kalshi.bench")
        except ImportError:
            print(
                "the kalshi parse benchmark (arbees.kalshi.bench) is not available", file=sys.stderr
            )
            return 2
        result = bench.run_parse_bench(args.json)
        if args.json:
            print(json.dumps(result))
        return 0
    result = run_polymarket_bench(n_frames=args.frames, rounds=args.rounds)
    if args.json:
        print(json.dumps(result))
    else:
        _print(result)
    return 0


def _levels(book: dict[int, int], ascending: bool) -> list[dict[str, str]]:
    return [
        {"price": format_fixed(p), "size": format_fixed(book[p])}
        for p in sorted(book, reverse=not ascending)
    ]


def _book_frame(token: str, bids: dict[int, int], asks: dict[int, int], ts: int) -> str:
    return json.dumps(
        {
            "event_type": "book",
            "asset_id": token,
            "market": _MARKET,
            "bids": _levels(bids, ascending=True),  # live order: best LAST on both sides
            "asks": _levels(asks, ascending=False),
            "timestamp": str(ts),
            "hash": "0x" + "ab" * 20,
            "tick_size": "0.01",
            "last_trade_price": "",
        }
    )


def _make_frames(n_frames: int, seed: int = 1) -> tuple[list[str], list[str], list[str]]:
    """(initial book frames, price_change frames, book frames) from a reference model."""
    rng = random.Random(seed)
    # token 0: bids 0.01..0.47, asks 0.53..0.99; token 1 is its mirror.
    bids = {p * _TICK: rng.randint(1, 5000) * ONE for p in range(1, 48)}
    asks = {p * _TICK: rng.randint(1, 5000) * ONE for p in range(53, 100)}
    ts = 1_757_908_892_351
    initial = [
        _book_frame(_TOKENS[0], dict(bids), dict(asks), ts),
        _book_frame(
            _TOKENS[1],
            {ONE - p: s for p, s in asks.items()},
            {ONE - p: s for p, s in bids.items()},
            ts,
        ),
    ]
    changes: list[str] = []
    sizes = ["0", "100", "250.5", "12", "1000", "37.25"]
    for _ in range(n_frames):
        ts += rng.randint(1, 50)
        is_bid = rng.random() < 0.5
        p = rng.randint(1, 47) if is_bid else rng.randint(53, 99)
        price = p * _TICK
        size_s = rng.choice(sizes)
        size = round(float(size_s) * ONE)
        side = bids if is_bid else asks
        if size:
            side[price] = size
        else:
            side.pop(price, None)
        bb = max(bids) if bids else 0
        ba = min(asks) if asks else ONE
        entries = [
            {
                "asset_id": _TOKENS[0],
                "price": format_fixed(price),
                "size": size_s,
                "side": "BUY" if is_bid else "SELL",
                "hash": "56621a121a47ed9333273e21c83b660cff37ae50",
                "best_bid": format_fixed(bb),
                "best_ask": format_fixed(ba),
            },
            {
                "asset_id": _TOKENS[1],
                "price": format_fixed(ONE - price),
                "size": size_s,
                "side": "SELL" if is_bid else "BUY",
                "hash": "1895759e4df7a796bf4f1c5a5950b748306923e2",
                "best_bid": format_fixed(ONE - ba),
                "best_ask": format_fixed(ONE - bb),
            },
        ]
        changes.append(
            json.dumps(
                {
                    "market": _MARKET,
                    "price_changes": entries,
                    "timestamp": str(ts),
                    "event_type": "price_change",
                }
            )
        )
    books = []
    for i in range(max(200, n_frames // 20)):
        token = _TOKENS[i % 2]
        b = {p * _TICK: rng.randint(1, 5000) * ONE for p in range(1, 48) if rng.random() < 0.85}
        a = {p * _TICK: rng.randint(1, 5000) * ONE for p in range(53, 100) if rng.random() < 0.85}
        books.append(_book_frame(token, b, a, ts + i))
    return initial, changes, books


def _time(fn: Callable[[], None]) -> float:
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_polymarket_bench(*, n_frames: int = 20_000, rounds: int = 5) -> dict[str, Any]:
    """Run the Polymarket parse benchmark; returns figures (µs per frame, frames/s, ratios)."""
    from arbees.polymarket.events import BookChanged
    from arbees.polymarket.protocol import PolymarketProtocol

    initial, changes, books = _make_frames(n_frames)
    proto = PolymarketProtocol()

    def reset() -> None:
        for frame in initial:
            proto.feed(frame, 0)

    def parse(frames: list[str]) -> Callable[[], None]:
        def run() -> None:
            feed = proto.feed
            pbooks = proto.books
            recv_ns = time.time_ns()
            for frame in frames:
                for ev in feed(frame, recv_ns):
                    if type(ev) is BookChanged:
                        b = pbooks[ev.token]
                        _ = (b.best_bid, b.best_ask)  # the updated top of book

        return run

    def floor(frames: list[str]) -> Callable[[], None]:
        def run() -> None:
            loads = json.loads
            for frame in frames:
                loads(frame)

        return run

    best: dict[str, float] = {}
    for _ in range(rounds):
        for kind, frames in (("price_change", changes), ("book", books)):
            reset()
            t_parse = _time(parse(frames))
            t_floor = _time(floor(frames))
            best[kind] = min(best.get(kind, float("inf")), t_parse)
            best[kind + "_floor"] = min(best.get(kind + "_floor", float("inf")), t_floor)
    if proto.stats.mismatches or proto.stats.rejected:
        raise RuntimeError(f"benchmark frames did not apply cleanly: {proto.stats}")
    result: dict[str, Any] = {"venue": "polymarket", "rounds": rounds}
    for kind, frames in (("price_change", changes), ("book", books)):
        n = len(frames)
        t, f = best[kind], best[kind + "_floor"]
        result[kind] = {
            "frames": n,
            "us_per_frame": round(t / n * 1e6, 3),
            "frames_per_s": round(n / t),
            "floor_us_per_frame": round(f / n * 1e6, 3),
            "floor_frames_per_s": round(n / f),
            "ratio_to_floor": round(t / f, 3),
        }
    result["price_change"]["target_ratio"] = 1.5
    result["price_change"]["meets_target"] = result["price_change"]["ratio_to_floor"] <= 1.5
    return result


def _print(result: dict[str, Any]) -> None:
    print(f"polymarket parse benchmark (best of {result['rounds']} rounds)")
    for kind in ("price_change", "book"):
        r = result[kind]
        print(
            f"  {kind:<13} {r['frames']:>6} frames  parse+book {r['us_per_frame']:7.2f} µs/frame "
            f"({r['frames_per_s']:>8} /s)   json.loads floor {r['floor_us_per_frame']:7.2f} µs "
            f"({r['floor_frames_per_s']:>8} /s)   ratio {r['ratio_to_floor']:.2f}x"
        )
    pc = result["price_change"]
    verdict = "meets" if pc["meets_target"] else "MISSES"
    print(f"  price_change target <= {pc['target_ratio']}x the floor: {verdict}")
