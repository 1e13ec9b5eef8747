"""``arbees bench parse --venue kalshi``: ``orderbook_delta`` frame → updated top of book.

The floor is ``json.loads`` alone on the very same frames, measured in the same run and
interleaved with ours (best of several rounds), so the ratio holds on a noisy VM. Frames
come from a reference book simulation: several markets on one sid, a snapshot burst then
valid signed deltas with the seq continuing, shaped like live frames (``price_dollars``
with 4 decimals, ``delta_fp`` with 2, ``ts`` and ``ts_ms``). "Parse" is the whole hot
path: typed decode, seq check, exact conversion, book update, event, top of book read.
Target: ≤ 1.5× the floor.
"""

from __future__ import annotations

import gc
import json
import random
import time
from collections.abc import Callable
from typing import Any

from arbees.kalshi.events import BookChanged
from arbees.kalshi.protocol import KalshiProtocol
from arbees.money import CENT, ONE

__all__ = ["TARGET_RATIO", "make_frames", "run_parse_bench"]

TARGET_RATIO = 1.5
_TICKERS = tuple(f"KXNBAGAME-26OCT{20 + i}OKCSAS-OKC" for i in range(4))


def _p(v: int) -> str:
    return f"{v // ONE}.{v % ONE:06d}"[:-2]


def _c(v: int) -> str:
    sign = "-" if v < 0 else ""
    v = abs(v)
    return f"{sign}{v // ONE}.{(v % ONE) // 10_000:02d}"


def make_frames(n_deltas: int, seed: int = 7) -> tuple[list[str], list[str]]:
    """(setup frames: subscribed + snapshots, delta frames) from a reference model."""
    rng = random.Random(seed)
    books = {
        t: {
            "yes": {p * CENT: rng.randint(1, 50_000) * 10_000 for p in range(1, 48)},
            "no": {p * CENT: rng.randint(1, 50_000) * 10_000 for p in range(1, 52)},
        }
        for t in _TICKERS
    }
    setup = [
        json.dumps({"type": "subscribed", "id": 1, "msg": {"channel": "orderbook_delta", "sid": 1}})
    ]
    seq = 0
    for t, b in books.items():
        seq += 1
        msg: dict[str, Any] = {
            "market_ticker": t,
            "market_id": "9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1",
        }
        for side in ("yes", "no"):
            msg[f"{side}_dollars_fp"] = [[_p(p), _c(s)] for p, s in sorted(b[side].items())]
        setup.append(json.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": seq, "msg": msg}))
    deltas = []
    ts_ms = 1_793_000_000_000
    for _ in range(n_deltas):
        t = rng.choice(_TICKERS)
        side = rng.choice(("yes", "no"))
        levels = books[t][side]
        price = rng.randint(1, 99) * CENT
        have = levels.get(price, 0)
        if have and rng.random() < 0.5:
            d = -have if rng.random() < 0.3 else -rng.randint(1, have // 10_000) * 10_000
        else:
            d = rng.randint(1, 5_000) * 10_000
        if have + d:
            levels[price] = have + d
        else:
            levels.pop(price, None)
        seq += 1
        ts_ms += rng.randint(1, 40)
        frame = {
            "type": "orderbook_delta",
            "sid": 1,
            "seq": seq,
            "msg": {
                "market_ticker": t,
                "market_id": "9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1",
                "price_dollars": _p(price),
                "delta_fp": _c(d),
                "side": side,
                "ts": "2026-10-20T23:41:07Z",
                "ts_ms": ts_ms,
            },
        }
        deltas.append(json.dumps(frame))
    return setup, deltas


def _time(fn: Callable[[], None]) -> float:
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_parse_bench(
    json_output: bool, *, n_deltas: int = 20_000, rounds: int = 5
) -> dict[str, Any]:
    """Run the benchmark; prints a human summary unless ``json_output``; returns the figures."""
    setup, deltas = make_frames(n_deltas)
    last: list[KalshiProtocol] = []

    def ours() -> Callable[[], None]:
        proto = KalshiProtocol(_TICKERS, cross_check=False)
        proto.connection_made()
        proto.data_to_send()
        for frame in setup:
            proto.receive(frame)
        last[:] = [proto]

        def run() -> None:
            receive = proto.receive
            books = proto.books
            recv_ns = time.time_ns()
            for frame in deltas:
                for ev in receive(frame, recv_ns):
                    if type(ev) is BookChanged:
                        b = books[ev.ticker]
                        _ = (b.best_yes_bid, b.yes_ask)  # the updated top of book

        return run

    def floor() -> None:
        loads = json.loads
        for frame in deltas:
            loads(frame)

    best_ours = best_floor = float("inf")
    for _ in range(rounds):
        best_ours = min(best_ours, _time(ours()))
        best_floor = min(best_floor, _time(floor))
    stats = last[0].stats
    if stats.deltas != n_deltas or stats.gaps or stats.rejected or stats.corrupt:
        raise RuntimeError(f"benchmark frames did not apply cleanly: {stats}")
    n = len(deltas)
    result: dict[str, Any] = {
        "venue": "kalshi",
        "rounds": rounds,
        "orderbook_delta": {
            "frames": n,
            "us_per_frame": round(best_ours / n * 1e6, 3),
            "frames_per_s": round(n / best_ours),
            "floor_us_per_frame": round(best_floor / n * 1e6, 3),
            "floor_frames_per_s": round(n / best_floor),
            "ratio_to_floor": round(best_ours / best_floor, 3),
            "target_ratio": TARGET_RATIO,
            "meets_target": best_ours / best_floor <= TARGET_RATIO,
        },
    }
    if not json_output:
        r = result["orderbook_delta"]
        verdict = "meets" if r["meets_target"] else "MISSES"
        print(f"kalshi parse benchmark (best of {rounds} rounds)")
        print(
            f"  orderbook_delta {n:>6} frames  frame->top {r['us_per_frame']:7.2f} µs/frame "
            f"({r['frames_per_s']:>8} /s)   json.loads floor {r['floor_us_per_frame']:7.2f} µs "
            f"({r['floor_frames_per_s']:>8} /s)   ratio {r['ratio_to_floor']:.2f}x"
        )
        print(f"  target <= {TARGET_RATIO}x the floor: {verdict}")
    return result
