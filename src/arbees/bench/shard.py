"""``arbees bench shard``: the shard's CPU per Polymarket update, against a subscriber floor.

The shard alone, as deployed: a real ``arbees shard`` PROCESS (Polymarket via Redis, its
Kalshi feed on a quiet fake Kalshi in this process) on a private redis-server, fed by this
process with Polymarket price updates exactly as the monitor publishes them (one
``PUBLISH`` per update, ``--per-write`` updates per pipelined socket write, each stamped
with the time it is written, numbered in one ``stream_seq`` stream, the monitor's health
heartbeat every second on the same connection, so the shard's completeness checks run as
in production). Updates are pre-rendered per token and book variant; only the clocks and
the numbers are filled in when they are written, so the driver stays a small share of a
core.

The load (the books of :mod:`arbees.bench._e2e_load`): ``--rate`` updates/s over
``--tokens`` tokens (``--tokens / 2`` games); most change the size of a 0.62 ask that no
profitable combination reaches (the shard evaluates, no signal); one in
``--toggle-every`` opens or closes an arbitrage on one game (a signal each).

Measured in the same run:

* **shard** — ``utime + stime`` of the shard process over the load (``/proc``), per update
  sent; the processed count comes from the shard's heartbeat (``quotes``), and every
  update must have arrived (``processed``) and every toggle must have given its signal;
* **floor** — a minimal subscriber process on the same channel of the same Redis
  (:mod:`arbees.bench._shard_floor`: one blocking socket, the RESP parser, a plain
  ``msgspec`` decode per message, nothing else): the least any Python shard can cost per
  update on this machine. ``shard_over_floor`` is the ratio of the two, both measured
  over the same window under the same load;
* **stages** — in this process, µs per update of each step of the shard's path on the
  same payloads: ``codec.decode``, the message to a quote
  (:func:`~arbees.services.quotes.checked_quote`), and the engine
  (:meth:`~arbees.services.shard_engine.ShardEngine.on_quotes`) per quote in batches of
  ``--per-write`` and of one, under the run's toggles (about half the games with an open
  signal, as in the run), beside the floor's ``msgspec.json.decode``;
* **context** — the shard's idle CPU (its timers: sweep, lag guard, heartbeats), and the
  CPU of Redis and of this process (the driver) over the load.

``--services-src DIR`` runs the shard from another checkout's ``src/`` (an A/B of two
versions: alternate runs, compare each one's ratio to its own floor).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import time
import timeit
from typing import Any

import msgspec
import trio

from arbees import codec
from arbees.bench._args import at_least_zero, count, positive, positive_count
from arbees.bench._e2e_load import _BG_PRICE as _BG_ASK
from arbees.bench._e2e_load import _BG_SIZES, make_games
from arbees.bench._e2e_procs import (
    ServiceGroup,
    ServiceProc,
    interrupted,
    proc_sample,
    service_env,
    stop_on_sigterm,
)
from arbees.bench._e2e_stack import (
    BenchGame,
    BusTap,
    assignments_for,
    shard_argv,
    wait_until,
    write_assignments,
)
from arbees.book import Level, mirror_levels
from arbees.bus import Bus, open_bus
from arbees.bus._resp import encode_command
from arbees.messages import (
    LATEST_PRICES_HASH,
    Channel,
    PolymarketPriceUpdate,
    ServiceStatus,
)
from arbees.money import ONE, parse_fixed
from arbees.services.quotes import Quote, checked_quote
from arbees.services.shard_engine import ShardEngine
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.redis_server import RedisServer

__all__ = ["ShardLoad", "register", "run_bench"]

SHARD = "bench-shard"
MONITOR = "bench-monitor"
FLOOR = "floor"
FLOOR_MODULE = "arbees.bench._shard_floor"

_P = parse_fixed
_TOGGLE_BID = Level(_P("0.55"), _P("100"))
_BIDS = tuple(Level(_P(p), _P("100")) for p in ("0.40", "0.39", "0.38"))
_ASKS = tuple(Level(_P(p), _P("100")) for p in ("0.60", "0.61"))
_KALSHI_A = {"yes": [("0.38", 100), ("0.37", 100), ("0.36", 100)],
             "no": [("0.58", 100), ("0.57", 100), ("0.56", 100)]}  # fmt: skip
_KALSHI_B = {"yes": [("0.56", 100), ("0.55", 100), ("0.54", 100)],
             "no": [("0.40", 100), ("0.39", 100), ("0.38", 100)]}  # fmt: skip

# Sentinels for the per-write fields of a pre-rendered update (distinct digit runs that no
# other field of the payload contains).
_CLOCKS = {
    "timestamp_ms": 1_911_111_111_111,
    "venue_ts_ms": 1_922_222_222_222,
    "monitor_recv_ns": 1_933_333_333_333_333_333,
    "published_ns": 1_944_444_444_444_444_444,
    "seq": 1_955_555_555_555,
    "stream_seq": 1_966_666_666_666,
}


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "shard",
        help="the shard process's CPU per Polymarket update vs a minimal subscriber floor",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--rate", type=positive, default=2000.0, help="Polymarket updates/s (2000)")
    p.add_argument("--per-write", type=positive_count, default=4,
                   help="updates per pipelined Redis write, as one monitor batch (4)")  # fmt: skip
    p.add_argument("--tokens", type=positive_count, default=500, help="Polymarket tokens (500)")
    p.add_argument("--duration", type=positive, default=20.0, help="measured seconds (20)")
    p.add_argument("--warmup", type=at_least_zero, default=3.0, help="warm-up seconds (3)")
    p.add_argument("--toggle-every", type=count, default=20,
                   help="one update in N opens or closes an arbitrage (20)")  # fmt: skip
    p.add_argument("--services-src", default="", metavar="DIR",
                   help="run the shard from this source directory (another checkout's src/, "
                   "an A/B)")  # fmt: skip
    p.add_argument("--no-stages", action="store_true", help="skip the per-stage figures")
    p.set_defaults(handler=_handler)


# -- the load --------------------------------------------------------------------------


def _update(game: BenchGame, token: str, toggled: bool, size: int) -> PolymarketPriceUpdate:
    """One token's book as the monitor publishes it (``price_update`` of its view)."""
    bids = ((_TOGGLE_BID,) if toggled else ()) + _BIDS
    asks = (*_ASKS, Level(_BG_ASK, size))
    bid, ask = bids[0], asks[0]
    return PolymarketPriceUpdate(
        market_id=game.condition_id,
        token_id=token,
        yes_bid=bid.price,
        yes_ask=ask.price,
        no_bid=ONE - ask.price,
        no_ask=ONE - bid.price,
        liquidity=bid.size + ask.size,
        timestamp_ms=_CLOCKS["timestamp_ms"],
        yes_bid_size=bid.size,
        yes_ask_size=ask.size,
        no_bid_size=ask.size,
        no_ask_size=bid.size,
        yes_asks=asks,
        no_asks=mirror_levels(bids),
        venue_ts_ms=_CLOCKS["venue_ts_ms"],
        monitor_recv_ns=_CLOCKS["monitor_recv_ns"],
        published_ns=_CLOCKS["published_ns"],
        seq=_CLOCKS["seq"],
        stream_seq=_CLOCKS["stream_seq"],
    )


def _template(update: PolymarketPriceUpdate) -> tuple[bytes, tuple[str, ...]]:
    """The encoded update as a ``%`` template of its clock fields, and their order."""
    raw = codec.encode(update).replace(b"%", b"%%")
    found = sorted((raw.index(str(v).encode()), name) for name, v in _CLOCKS.items())
    for _, name in found:
        raw = raw.replace(str(_CLOCKS[name]).encode(), b"%d", 1)
    return raw, tuple(name for _, name in found)


class ShardLoad:
    """Pre-rendered price updates and the state of the load (which games are toggled).

    Args:
        games: the games (two tokens each).
        toggle_every: one update in this many toggles an arbitrage on a game.
    """

    def __init__(self, games: list[BenchGame], toggle_every: int = 20) -> None:
        self.games = games
        self.toggle_every = max(0, toggle_every)
        self.tokens = [(g, t.poly_token, i == 0) for g in games for i, t in enumerate(g.teams)]
        self._templates: dict[tuple[str, bool, int], tuple[bytes, tuple[str, ...]]] = {}
        for game, token, first in self.tokens:
            for toggled in (False, True) if first else (False,):
                for size in _BG_SIZES:
                    update = _update(game, token, toggled, size)
                    self._templates[token, toggled, size] = _template(update)
        self._on: set[str] = set()  # games whose arbitrage is open
        self._cursor = 0
        self._next_game = 0
        self.sent = 0
        self.toggles = 0
        self.stream_seq = 0

    def render(self, token: str, toggled: bool, size: int, now_ns: int) -> bytes:
        """One update's payload, stamped now and numbered next."""
        self.stream_seq += 1
        raw, order = self._templates[token, toggled, size]
        ms = now_ns // 1_000_000
        values = {
            "timestamp_ms": ms,
            "venue_ts_ms": ms,
            "monitor_recv_ns": now_ns,
            "published_ns": now_ns,
            "seq": self.stream_seq,
            "stream_seq": self.stream_seq,
        }
        return raw % tuple(values[name] for name in order)

    def next_payload(self, now_ns: int) -> bytes:
        """The next update: a toggle every ``toggle_every``, else a background change."""
        self.sent += 1
        if self.toggle_every and self.sent % self.toggle_every == 0:
            game = self.games[self._next_game % len(self.games)]
            self._next_game += 1
            on = game.game_id not in self._on
            if on:
                self._on.add(game.game_id)
            else:
                self._on.discard(game.game_id)
            self.toggles += 1
            return self.render(game.teams[0].poly_token, on, _BG_SIZES[0], now_ns)
        game, token, first = self.tokens[self._cursor % len(self.tokens)]
        self._cursor += 1
        size = _BG_SIZES[(self._cursor // len(self.tokens)) % 2]
        toggled = first and game.game_id in self._on
        return self.render(token, toggled, size, now_ns)

    def seed(self) -> list[tuple[str, PolymarketPriceUpdate]]:
        """Every token's quiet book for the latest-price hash (the shard seeds from it)."""
        now = time.time_ns()
        out = []
        for _game, token, _first in self.tokens:
            raw = self.render(token, False, _BG_SIZES[0], now)
            message = codec.decode(raw)
            assert isinstance(message, PolymarketPriceUpdate)
            out.append((token, message))
        self.stream_seq = 0  # the live stream starts at 1
        return out

    def heartbeat(self, stream_id: str) -> bytes:
        """The monitor's health heartbeat, carrying the last number written."""
        status = ServiceStatus(
            service="monitor",
            instance=MONITOR,
            healthy=True,
            timestamp_ms=time.time_ns() // 1_000_000,
            details={"stream_id": stream_id, "stream_seq": str(self.stream_seq)},
        )
        return encode_command("PUBLISH", Channel.SERVICE_STATUS, codec.encode(status))


class _Driver:
    """Writes the load to Redis on one raw connection (updates and heartbeats in order)."""

    def __init__(self, load: ShardLoad, port: int, per_write: int) -> None:
        self.load = load
        self.port = port
        self.per_write = max(1, per_write)
        self.stream_id = f"{MONITOR}-{time.time_ns()}"
        self.writes = 0
        self._stream: trio.SocketStream | None = None
        self._lock = trio.Lock()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with await trio.open_tcp_stream("127.0.0.1", self.port) as stream:
            self._stream = stream
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._drain_replies, stream)
                nursery.start_soon(self._heartbeats)
                task_status.started()
                await trio.sleep_forever()

    async def _drain_replies(self, stream: trio.SocketStream) -> None:
        while await stream.receive_some(262_144):
            pass

    async def _write(self, data: bytes) -> None:
        assert self._stream is not None
        async with self._lock:
            await self._stream.send_all(data)

    async def _heartbeats(self) -> None:
        while True:
            await self._write(self.load.heartbeat(self.stream_id))
            await trio.sleep(1.0)

    async def offer(self, rate: float, duration: float) -> float:
        """Write ``rate`` updates/s for ``duration`` s; the rate achieved."""
        per_write = self.per_write
        writes = max(1, round(rate * duration / per_write))
        interval = per_write / rate
        load = self.load
        channel = Channel.POLYMARKET_PRICES
        start = trio.current_time()
        for i in range(writes):
            await trio.sleep_until(start + i * interval)
            now = time.time_ns()
            chunk = b"".join(
                encode_command("PUBLISH", channel, load.next_payload(now)) for _ in range(per_write)
            )
            await self._write(chunk)
            self.writes += 1
        elapsed = trio.current_time() - start
        return writes * per_write / max(elapsed, 1e-9)


# -- the run ---------------------------------------------------------------------------


def _cpu(a: Any, b: Any) -> float | None:
    return None if a is None or b is None else round(b.cpu_s - a.cpu_s, 3)


def _per(cpu: float | None, n: int) -> float | None:
    return None if cpu is None or not n else round(1e6 * cpu / n, 1)


async def _stable(tap: BusTap, key: str, within: float = 20.0) -> int:
    """The shard's heartbeat ``key`` once two heartbeats in a row agree (-1 if absent)."""
    deadline = time.monotonic() + within
    last = tap.detail("shard", SHARD, key, -1)
    while time.monotonic() < deadline:
        await trio.sleep(1.1)
        now = tap.detail("shard", SHARD, key, -1)
        if now == last:
            return now
        last = now
    return last


class _Run:
    def __init__(self, args: argparse.Namespace, server: RedisServer, group: ServiceGroup):
        self.args = args
        self.server = server
        self.group = group
        self.games = make_games(max(1, args.tokens // 2))
        self.load = ShardLoad(self.games, args.toggle_every)
        self.kalshi = FakeKalshi(require_auth=False, heartbeat_interval=1.0)
        for game in self.games:
            for team, book in zip(game.teams, (_KALSHI_A, _KALSHI_B), strict=True):
                self.kalshi.add_market(team.kalshi_ticker, event_ticker=game.game_id)
                self.kalshi.set_book(team.kalshi_ticker, yes=book["yes"], no=book["no"])
        self.procs: dict[str, ServiceProc] = {}

    def check(self) -> None:
        dead = self.group.crashed()
        if dead:
            tails = "\n".join(f"--- {p.name} ---\n{p.log_tail()}" for p in dead)
            raise RuntimeError(f"process died: {[p.name for p in dead]}\n{tails}")

    def samples(self) -> dict[str, Any]:
        out = {name: p.sample() for name, p in self.procs.items()}
        out["redis"] = proc_sample(self.server.pid) if self.server.pid else None
        out["bench"] = proc_sample(os.getpid())
        return out

    async def main(self) -> dict[str, Any]:
        async with open_bus(self.server.url) as bus, trio.open_nursery() as nursery:
            result = await self._measure(bus, nursery)
            nursery.cancel_scope.cancel()
        return result

    async def _measure(self, bus: Bus, nursery: trio.Nursery) -> dict[str, Any]:
        args = self.args
        k_urls = await nursery.start(self.kalshi.run)
        await write_assignments(bus, self.games, SHARD)
        for token, message in self.load.seed():
            await bus.hset(LATEST_PRICES_HASH, token, message)
        tap = BusTap(bus)
        await nursery.start(tap.run)
        driver = _Driver(self.load, self.server.port, args.per_write)
        await nursery.start(driver.run)
        extra = {"SHARD_VENUE_SEND_TIMES": "kalshi,polymarket"}
        if args.services_src:
            extra["PYTHONPATH"] = args.services_src
        argv = shard_argv(self.server.url, k_urls.ws_url, shard_id=SHARD)
        self.procs["shard"] = self.group.start("shard", argv, service_env(**extra))
        ready = self.group.log_dir / f"floor-ready-{secrets.token_hex(4)}"
        floor_argv = ["--port", str(self.server.port), "--channel", Channel.POLYMARKET_PRICES]
        floor = self.procs[FLOOR] = self.group.start(
            FLOOR, [*floor_argv, "--ready-file", str(ready)], service_env(), module=FLOOR_MODULE
        )
        await wait_until(
            lambda: (
                tap.detail("shard", SHARD, "games") == len(self.games)
                and tap.healthy("shard", SHARD)
                and ready.exists()
            ),
            90,
            "the shard's games and the floor's subscription",
            check=self.check,
        )
        quotes0 = await _stable(tap, "quotes")
        # idle: the shard's timers alone
        i0 = self.samples()
        await trio.sleep(2.0)
        i1 = self.samples()
        idle_pct = _cpu(i0["shard"], i1["shard"])
        await driver.offer(args.rate, args.warmup)
        await trio.sleep(0.5)
        sent0, toggles0, signals0 = self.load.sent, self.load.toggles, len(tap.signals)
        s0 = self.samples()
        achieved = await driver.offer(args.rate, args.duration)
        await trio.sleep(0.25)  # the last write's way through
        s1 = self.samples()
        self.check()
        sent = self.load.sent - sent0
        toggles = self.load.toggles - toggles0
        quotes1 = await _stable(tap, "quotes")
        signals = len(tap.signals) - signals0
        self.group.stop(floor)
        counts: dict[str, int] = {}
        for line in reversed(floor.log_tail().splitlines()):
            if line.startswith("{"):
                counts = json.loads(line)
                break
        cpu = {name: _cpu(s0[name], s1[name]) for name in s0}
        wall = (s1["bench"].at - s0["bench"].at) if s0["bench"] and s1["bench"] else 0.0
        shard_us, floor_us = _per(cpu["shard"], sent), _per(cpu[FLOOR], sent)
        total = self.load.sent
        return {
            "rate": args.rate,
            "achieved_rate": round(achieved),
            "per_write": driver.per_write,
            "tokens": 2 * len(self.games),
            "games": len(self.games),
            "duration_s": args.duration,
            "updates_sent": sent,
            "updates_sent_total": total,
            "shard_processed_total": quotes1 - quotes0 if quotes0 >= 0 and quotes1 >= 0 else None,
            "floor_received_total": counts.get("messages"),
            "floor_reads": counts.get("reads"),
            "toggles": toggles,
            "signals": signals,
            "signals_lost": max(0, toggles - signals),
            "cpu_us_per_update": {"shard": shard_us, FLOOR: floor_us},
            "shard_over_floor": round(shard_us / floor_us, 2) if shard_us and floor_us else None,
            "cpu_pct": {
                name: round(100 * c / wall, 1) if c is not None and wall else None
                for name, c in cpu.items()
            },
            "shard_idle_cpu_pct": round(100 * idle_pct / 2.0, 1) if idle_pct is not None else None,
            "services_src": args.services_src or None,
        }


# -- stages ----------------------------------------------------------------------------


def _kalshi_quotes(games: list[BenchGame], now: int) -> list[Quote]:
    out = []
    for game in games:
        for team, book in zip(game.teams, (_KALSHI_A, _KALSHI_B), strict=True):
            # Kalshi's YES asks mirror its NO bids, and its NO asks its YES bids.
            yes = tuple(sorted(Level(ONE - _P(p), s * ONE) for p, s in book["no"]))
            no = tuple(sorted(Level(ONE - _P(p), s * ONE) for p, s in book["yes"]))
            out.append(Quote("kalshi", team.kalshi_ticker, yes, no, False, now))
    return out


def stages(
    games: list[BenchGame], per_write: int, toggle_every: int = 20, number: int = 2_000
) -> dict[str, float]:
    """µs per update of each step of the shard's path on the bench's own payloads (best of
    3 runs of ``number``).

    The engine is measured as the run loads it: under the same toggles, over the second
    half of one whole open/close cycle of every game (:func:`_engine_us`), so about half
    the games hold an open signal, as on average in the run (with no toggles it reads
    quiet books only: 4.4 against 9.3 µs per quote in batches of 4 over 500 tokens).
    ``engine_signals`` counts the signals of the measured window (batches of
    ``per_write``)."""
    load = ShardLoad(games, toggle_every)
    now = time.time_ns()
    cycle = 2 * len(games) * toggle_every if toggle_every else 2 * number
    cycle_payloads = [load.next_payload(now) for _ in range(max(cycle, 2 * number))]
    cycle_updates = [codec.decode(p) for p in cycle_payloads]
    payloads, updates = cycle_payloads[:number], cycle_updates[:number]

    def best(fn: Any) -> float:
        return round(min(timeit.repeat(fn, number=1, repeat=3)) / number * 1e6, 2)

    floor = msgspec.json.decode
    out = {
        "floor_msgspec_decode": best(lambda: [floor(p) for p in payloads]),
        "decode": best(lambda: [codec.decode(p) for p in payloads]),
        "to_quote": best(lambda: [checked_quote(u, now) for u in updates]),  # type: ignore[arg-type]
    }
    for size in sorted({1, max(1, per_write)}):
        out[f"engine_batch_{size}"], signals = _engine_us(games, cycle_updates, size)
    out["engine_signals"] = signals
    return out


def _engine_us(games: list[BenchGame], updates: list[Any], size: int) -> tuple[float, int]:
    """µs per quote of :meth:`ShardEngine.on_quotes` in batches of ``size`` over the second
    half of ``updates``, after the first half (best of 3, each on a fresh engine; the
    quotes are stamped just before each run, so none is too old to use), and the
    signals of that half."""
    half = len(updates) // 2
    runs = []
    signals = 0
    for _ in range(3):
        engine = ShardEngine(SHARD, max_games=max(1000, len(games)))
        for game in games:
            engine.apply(assignments_for(game, SHARD)[0])
        engine.on_quotes(_kalshi_quotes(games, time.time_ns()))
        stamp = time.time_ns()
        quotes = [checked_quote(u, stamp)[0] for u in updates]
        batches = [quotes[i : i + size] for i in range(0, len(quotes), size)]
        first = half // size
        for batch in batches[:first]:
            engine.on_quotes(batch)
        measured = batches[first:]
        start = time.perf_counter()
        signals = sum(len(engine.on_quotes(batch)) for batch in measured)
        runs.append((time.perf_counter() - start) / sum(map(len, measured)))
    return round(min(runs) * 1e6, 2), signals


def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    """Run the whole benchmark and return the figures."""
    with RedisServer() as server, ServiceGroup() as group, stop_on_sigterm(group.stop_all):
        result = trio.run(_Run(args, server, group).main)
    if not args.no_stages:
        games = make_games(max(1, args.tokens // 2))
        result["stages_us"] = stages(games, args.per_write, args.toggle_every)
    return result


def _handler(args: argparse.Namespace) -> int:
    try:
        result = run_bench(args)
    except BaseException as exc:
        if interrupted(exc):
            return 130
        raise
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return 0
    cpu = result["cpu_us_per_update"]
    print(
        f"{result['achieved_rate']:,}/s offered ({result['rate']:g} asked) in writes of"
        f" {result['per_write']} over {result['tokens']} tokens, {result['duration_s']:g} s:"
    )
    print(
        f"  shard CPU per update  {cpu['shard']} µs   floor (subscribe + msgspec decode)"
        f" {cpu[FLOOR]} µs   ratio {result['shard_over_floor']}"
    )
    print(
        f"  processed {result['shard_processed_total']} / {result['updates_sent_total']} sent"
        f" (floor received {result['floor_received_total']});"
        f" signals {result['signals']} of {result['toggles']} toggles"
    )
    print(f"  CPU % over the load: {result['cpu_pct']}", end="")
    print(f"; shard idle {result['shard_idle_cpu_pct']} %")
    if "stages_us" in result:
        print(f"  stages (µs per update): {result['stages_us']}")
    return 0
