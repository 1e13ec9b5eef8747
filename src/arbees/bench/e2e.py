"""``arbees bench e2e``: the deployed topology on one machine, at a fixed offered rate.

A private redis-server, ``arbees monitor`` and ``arbees shard`` as SEPARATE OS PROCESSES,
a fake Gluetun in a process of its own (a saturated bench process must not fail the
monitor's egress checks), and in this process the fake venues and the load driver
(:mod:`arbees.bench._e2e_load`, pre-rendered frames, one socket write per batch). A monitor
reconnect or fail-closed period is reported (``events``), never a crash of the bench.
Phases, all in one run:

1. **floor** — raw redis-py PUBLISH -> receive on the same server, one in flight
   (:mod:`arbees.bench._bus_floor` in a fresh interpreter);
2. **main** — ``--rate`` Polymarket updates/s over ``--tokens`` tokens (plus Kalshi updates,
   a tenth of that) for ``--duration`` s: tick-to-signal, monitor lag, bus hops, loss, CPU
   and peak RSS of every process, CPU µs per update of the monitor and the shard, and the
   bench process's own CPU by task, the load driver's share apart (``bench_tasks``;
   definitions in :mod:`arbees.bench._e2e_measure`);
2b. **relay** — the relay floor (:mod:`arbees.bench._relay_floor`) joins the monitor on
   the same fake venue and the same Redis for the same rate: the least a Python monitor
   can cost per update here; ``monitor_vs_relay`` is the monitor's CPU per update over the
   relay's, both in that phase;
3. **ramp** — the offered rate rises step by step until a step does not hold (an update
   neither published nor merged into a newer one of its token by the monitor, a signal
   lost, p99 over 100 ms or lag growing within the step: :func:`step_problems`); the last
   rate that held is ``max_throughput_per_s``. A step the bench process itself cannot
   offer ends the ramp and is reported as driver-limited;
4. **10k tokens** — a fresh monitor subscribed to 10,000 tokens (40 sockets of 250; its
   ``MONITOR_MAX_TOKENS`` raised to match), its books shaped like real ones
   (``--big-levels`` a side, every level of its own size, see
   :func:`~arbees.bench._e2e_load.deep_book`), ready once a book of EVERY token has been
   published, then under a light load of varied sizes for ``--big-duration`` s: its RSS
   when ready and after the load.

Every process it starts is stopped (SIGINT, then SIGKILL) on success, failure or Ctrl-C,
and the whole run is bounded by ``--timeout``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import time
from typing import Any

import trio

from arbees.bench._args import at_least_zero, count, in_range, positive, positive_count
from arbees.bench._e2e_load import (
    MAX_BOOK_LEVELS,
    LoadDriver,
    LoadPolymarket,
    install_books,
    install_token_books,
    make_games,
    make_tokens,
)
from arbees.bench._e2e_measure import (
    PriceLog,
    TaskClock,
    cpu_figures,
    growing,
    match_toggles,
    percentiles,
    task_cpu,
)
from arbees.bench._e2e_procs import (
    ServiceGroup,
    ServiceProc,
    interrupted,
    machine_busy,
    proc_sample,
    service_env,
    stop_on_sigterm,
)
from arbees.bench._e2e_stack import BusTap, monitor_argv, shard_argv, wait_until, write_assignments
from arbees.bus import Bus, open_bus
from arbees.messages import TOKEN_ASSIGNMENTS_HASH, MarketAssignment
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.redis_server import RedisServer

__all__ = ["register", "run_bench"]

SHARD = "bench-shard"
MONITOR = "bench-monitor"
MONITOR_10K = "bench-monitor-10k"
RELAY = "relay"
RELAY_MODULE = "arbees.bench._relay_floor"
_GLUETUN_URL = re.compile(r"fake Gluetun control server on (http://\S+)")
RAMP = (500, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000, 30_000, 40_000)


def step_problems(step: dict[str, Any]) -> list[str]:
    """Why a ramp step did not hold (empty: it held).

    Every update the venue sent must be accounted for: published, or merged by the monitor
    into a newer update of the same token that arrived in the same socket read (newest
    wins, as issue 18 asks; the merged one was never the current price). Falling behind
    shows as lag that grows within the step or a p99 over 100 ms, and an update that is
    neither published nor merged (< 99.9 % accounted for) fails the step. The share merged
    is reported (``monitor_coalesced``) next to the rate.
    """
    rate = step["rate"]
    problems = []
    if step["achieved_rate"] < 0.97 * rate:
        problems.append("driver-limited (the bench process could not offer the rate)")
    accounted = step["monitor_published"] + step["monitor_coalesced"]
    if accounted < 0.999 * step["updates_sent"]:
        missing = step["updates_sent"] - accounted
        problems.append(f"{missing} update(s) neither published nor merged by the monitor")
    if step["signals_lost"]:
        problems.append(f"{step['signals_lost']} signal(s) lost")
    if step["tick_to_signal_us"]["p99"] > 100_000:
        problems.append("tick-to-signal p99 over 100 ms")
    if step["growing_lag"]:
        problems.append("lag grew during the step")
    return problems


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "e2e",
        help="end to end: monitor and shard as processes on a private Redis (latency, "
        "loss, CPU, RSS, max throughput)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--services-src",
        default="",
        metavar="DIR",
        help="run the monitor and the shard from this source directory (another checkout's "
        "src/, e.g. an A/B of two versions on the same machine)",
    )
    p.add_argument("--rate", type=positive, default=2000.0, help="Polymarket updates/s (2000)")
    p.add_argument("--tokens", type=positive_count, default=500, help="Polymarket tokens (500)")
    p.add_argument("--duration", type=positive, default=20.0, help="main phase seconds (20)")
    p.add_argument("--toggle-every", type=count, default=20,
                   help="one update in N is an arbitrage toggle (20)")  # fmt: skip
    p.add_argument("--ramp-step", type=positive, default=4.0, help="seconds per ramp step (4)")
    p.add_argument("--max-rate", type=positive, default=40_000.0, help="highest ramp rate")
    p.add_argument("--no-ramp", action="store_true", help="skip the throughput ramp")
    p.add_argument("--relay-duration", type=at_least_zero, default=10.0,
                   help="seconds of the relay-floor phase (10; 0 skips it)")  # fmt: skip
    p.add_argument("--big-tokens", type=count, default=10_000,
                   help="tokens of the RSS phase (10000; 0 skips it)")  # fmt: skip
    p.add_argument("--big-levels", type=in_range(1, MAX_BOOK_LEVELS), default=16,
                   help="levels a side of the RSS phase's books, each of its own size, its "
                   "load of 4,096 sizes (16, as real moneyline books; 3: the games' books "
                   "and two sizes)")  # fmt: skip
    p.add_argument("--big-duration", type=at_least_zero, default=5.0,
                   help="seconds of the RSS phase's load at 1,000 updates/s once every "
                   "book was published (5; longer shows whether RSS levels off)")  # fmt: skip
    p.add_argument("--warmup", type=at_least_zero, default=2.0, help="warm-up seconds (2)")
    p.add_argument("--floor-count", type=positive_count, default=2000, help="floor samples (2000)")
    p.add_argument("--timeout", type=at_least_zero, default=0.0,
                   help="bound on the whole run in seconds (default: derived)")  # fmt: skip
    p.set_defaults(handler=_handler)


def _floor(port: int, count: int) -> dict[str, float]:
    cmd = [sys.executable, "-m", "arbees.bench._bus_floor", "--port", str(port)]
    cmd += ["--count", str(count), "--warmup", str(max(100, count // 10))]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)
    return percentiles(json.loads(done.stdout)["latency_us"])


class _Run:
    """One benchmark run's state (the phases share the stack)."""

    def __init__(self, args: argparse.Namespace, server: RedisServer, group: ServiceGroup):
        self.args = args
        self.server = server
        self.group = group
        self.games = make_games(max(1, args.tokens // 2))
        self.kalshi = FakeKalshi(require_auth=False, heartbeat_interval=1.0)
        self.poly = LoadPolymarket()
        self.api_key = secrets.token_hex(16)
        install_books(self.games, self.kalshi, self.poly)
        self.driver = LoadDriver(self.poly, self.kalshi, self.games, toggle_every=args.toggle_every)
        self.clock = TaskClock()  # the bench process's CPU by task (see _e2e_measure)
        self.services: dict[str, ServiceProc] = {}

    def check(self) -> None:
        dead = self.group.crashed()
        if dead:
            tails = "\n".join(f"--- {p.name} ---\n{p.log_tail()}" for p in dead)
            raise RuntimeError(f"service process died: {[p.name for p in dead]}\n{tails}")

    def samples(self) -> dict[str, Any]:
        out = {name: s.sample() for name, s in self.services.items()}
        out["redis"] = proc_sample(self.server.pid) if self.server.pid else None
        out["bench"] = proc_sample(os.getpid())
        return out

    async def settle(
        self, tap: BusTap, seconds: float = 1.6, limit: float = 15.0
    ) -> tuple[int, int]:
        """Idle until the monitor's published count (its 1 s heartbeat) stops moving — no
        backlog left from the previous phase — and return it with the monitor's count of
        changes merged into a newer one of the same token (``coalesced``)."""
        await trio.sleep(seconds)

        def counts() -> tuple[int, int]:
            return (
                tap.detail("monitor", MONITOR, "published"),
                tap.detail("monitor", MONITOR, "coalesced"),
            )

        count = counts()
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            await trio.sleep(1.1)
            now = counts()
            if now == count:
                break
            count = now
        return count

    async def start(self, nursery: trio.Nursery, bus: Bus) -> BusTap:
        k_urls = await nursery.start(self.kalshi.run)
        p_urls = await nursery.start(self.poly.run)
        g_url = await self.start_gluetun()
        self.egress_url = f"{g_url}/v1/publicip/ip"
        self.ws_url = p_urls.ws_url
        self.clob_url = p_urls.clob_url
        await write_assignments(bus, self.games, SHARD)
        tap = BusTap(bus)
        await nursery.start(tap.run)
        await nursery.start(tap.price_stamps, self.server.port)
        env = self.service_env()
        url = self.server.url
        self.services["monitor"] = self.group.start(
            "monitor",
            monitor_argv(url, p_urls.ws_url, self.egress_url, p_urls.clob_url, instance=MONITOR),
            env,
        )
        self.services["shard"] = self.group.start(
            "shard", shard_argv(url, k_urls.ws_url, shard_id=SHARD), env
        )
        tokens = 2 * len(self.games)
        await wait_until(
            lambda: (
                tap.detail("monitor", MONITOR, "published") >= tokens
                and tap.detail("shard", SHARD, "games") == len(self.games)
                and tap.healthy("shard", SHARD)
            ),
            90,
            "the monitor's snapshots and the shard's games",
            check=self.check,
        )
        await self.probe(tap)
        return tap

    def service_env(self) -> dict[str, str]:
        """The monitor's and the shard's environment (``--services-src``: their code)."""
        extra = {"EGRESS_CHECK_API_KEY": self.api_key}
        if self.args.services_src:
            extra["PYTHONPATH"] = self.args.services_src
        return service_env(**extra)

    async def start_gluetun(self) -> str:
        """The fake Gluetun in its own process; its base URL once it listens."""
        proc = self.group.start(
            "gluetun",
            ["--port", "0", "--country", "United Kingdom", "--api-key-env", "BENCH_GLUETUN_KEY"],
            service_env(BENCH_GLUETUN_KEY=self.api_key),
            module="arbees.testing.fake_gluetun",
        )
        found: list[str] = []

        def listening() -> bool:
            match = _GLUETUN_URL.search(proc.log_tail())
            if match:
                found.append(match.group(1))
            return bool(found)

        await wait_until(listening, 30, "the fake Gluetun", check=self.check)
        return found[0]

    async def probe(self, tap: BusTap) -> None:
        """Toggle game 0 until its open and close signals come back (end-to-end ready)."""
        deadline = time.monotonic() + 30
        while True:
            toggle = self.driver.toggle(0, "probe")

            def arrived(ts: int = toggle.ts) -> bool:
                return any(r.signal.venue_ts_ms == ts for r in tap.signals[-50:])

            try:
                await wait_until(
                    arrived,
                    2.0,
                    "probe",
                    check=self.check,
                )
                if toggle.event == "close":
                    return
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise

    async def phase(self, tap: BusTap, rate: float, duration: float, name: str) -> dict[str, Any]:
        """Run the load for one phase and account for everything it sent."""
        before_pub, before_merged = await self.settle(tap)
        sent0 = self.driver.sent
        signals0 = len(tap.signals)
        log = PriceLog(self.driver.toggles)
        tap.on_price = log
        seen0 = tap.prices_seen
        conns0 = self.poly.total_connections
        closed0 = self.poly.closed_while_sending
        health0 = len(tap.health_log)
        s0, m0, t0, w0 = self.samples(), machine_busy(), self.clock.snapshot(), time.monotonic()
        achieved = await self.driver.run(rate, duration, name)
        s1, m1, t1, w1 = self.samples(), machine_busy(), self.clock.snapshot(), time.monotonic()
        self.driver.close_all(name)
        after_pub, after_merged = await self.settle(tap)
        self.check()
        tap.on_price = None
        sent = self.driver.sent - sent0
        processes = cpu_figures(s0, s1)
        bench_tasks = task_cpu(t0, t1, w1 - w0)
        if (whole := processes.get("bench", {}).get("cpu_pct")) is not None:
            # the rest of the process: Trio's scheduler and epoll between task steps
            rest = whole - bench_tasks["driver_pct"] - bench_tasks["other_pct"]
            bench_tasks["between_steps_pct"] = round(rest, 1)
        result = match_toggles(
            self.driver.phase_toggles(name),
            [g.game_id for g in self.games],
            tap.signals[signals0:],
            log.updates,
        )
        return {
            "rate": rate,
            "achieved_rate": round(achieved),
            "updates_sent": sent,
            "monitor_published": after_pub - before_pub,
            # merged within one socket read into a newer update of the same token
            "monitor_coalesced": after_merged - before_merged,
            "bus_seen": tap.prices_seen - seen0,
            "signals_expected": result.expected,
            "signals_received": result.received,
            "signals_lost": result.lost,
            "unexpected_signals": result.unexpected,
            "tick_to_signal_us": percentiles(result.latency_us),
            "monitor_lag_us": percentiles(result.monitor_lag_us),
            "monitor_read_us": percentiles(result.monitor_recv_us),
            "bus_hop_shard_us": percentiles(result.shard_hop_us),
            "bus_hop_tap_us": percentiles(log.hop_us),
            "growing_lag": growing(result.latency_us),
            "processes": processes,
            # the bench process's CPU by task: what offering the load cost, and the rest
            "bench_tasks": bench_tasks,
            # CPU of a process over the load, per Polymarket update the venue sent
            "cpu_us_per_update": {
                name: round(1e6 * p["cpu_s"] / sent, 1) if p["cpu_s"] is not None and sent else None
                for name, p in processes.items()
            },
            # the monitor's CPU per update it published (what it sent on, after coalescing)
            "monitor_cpu_us_per_published": (
                round(1e6 * processes["monitor"]["cpu_s"] / (after_pub - before_pub), 1)
                if processes.get("monitor", {}).get("cpu_s") is not None and after_pub > before_pub
                else None
            ),
            # reported, never fatal: reconnects, fail-closed periods, health changes
            "events": {
                "venue_connections": self.poly.total_connections - conns0,
                "venue_writes_to_closed": self.poly.closed_while_sending - closed0,
                "health_changes": [
                    {"service": svc, "instance": inst, "healthy": ok, "reason": why}
                    for _, svc, inst, ok, why in tap.health_log[health0:]
                ],
            },
            # share of all cores busy (everything on the machine, not only this run)
            "machine_busy_pct": round(100 * (m1[0] - m0[0]) / max(m1[1] - m0[1], 1e-9), 1),
        }

    async def relay(self, tap: BusTap) -> dict[str, Any]:
        """The relay floor beside the monitor, same venue, same Redis, same rate."""
        tokens = [t.poly_token for g in self.games for t in g.teams]
        tokens_file = self.group.log_dir / "relay-tokens.txt"
        tokens_file.write_text("\n".join(tokens) + "\n")
        ready = self.group.log_dir / "relay-ready"
        argv = ["--ws-url", self.ws_url, "--redis-port", str(self.server.port)]
        argv += ["--tokens-file", str(tokens_file), "--ready-file", str(ready)]
        proc = self.services[RELAY] = self.group.start(
            RELAY, argv, service_env(), module=RELAY_MODULE
        )
        try:
            await wait_until(ready.exists, 60, "the relay floor's snapshots", check=self.check)
            step = await self.phase(tap, self.args.rate, self.args.relay_duration, RELAY)
        finally:
            self.services.pop(RELAY, None)
            self.group.stop(proc)
        counts: dict[str, Any] = {}
        for line in reversed(proc.log_tail().splitlines()):
            if line.startswith("{"):
                counts = json.loads(line)
                break
        per = step["cpu_us_per_update"]
        return {
            "rate": step["rate"],
            "achieved_rate": step["achieved_rate"],
            "updates_sent": step["updates_sent"],
            "relay_counts": counts,
            "cpu_us_per_update": per,
            "monitor_cpu_us_per_published": step["monitor_cpu_us_per_published"],
            "processes": step["processes"],
            "machine_busy_pct": step["machine_busy_pct"],
            "monitor_vs_relay": _ratio(per.get("monitor") or 0.0, per.get(RELAY) or 0.0),
            "events": step["events"],
        }

    async def ramp(self, tap: BusTap) -> tuple[list[dict[str, Any]], float, str]:
        steps: list[dict[str, Any]] = []
        held_rate = 0.0
        why = "every step held"
        rates = sorted({r for r in (*RAMP, self.args.rate) if r <= self.args.max_rate})
        for rate in rates:
            step = await self.phase(tap, rate, self.args.ramp_step, f"ramp-{rate:g}")
            problems = step_problems(step)
            step["held"] = not problems
            step["problems"] = problems
            step.pop("processes")
            step.pop("events")
            step["driver_pct"] = step.pop("bench_tasks")["driver_pct"]
            steps.append(step)
            if problems:
                why = f"{rate:g}/s: " + "; ".join(problems)
                break
            held_rate = rate
        return steps, held_rate, why

    async def big(self, bus: Bus, tap: BusTap) -> dict[str, Any]:
        """A fresh monitor on ``--big-tokens`` tokens: sockets and RSS."""
        for name in ("shard", "monitor"):
            self.group.stop(self.services.pop(name))
        have = [t.poly_token for g in self.games for t in g.teams]
        extra = make_tokens(0, max(0, self.args.big_tokens - len(have)))
        levels = self.args.big_levels
        sizes = install_token_books(extra, self.poly, levels)
        for i, token in enumerate(extra):
            await bus.hset(
                TOKEN_ASSIGNMENTS_HASH,
                token,
                MarketAssignment(
                    "polymarket",
                    "0x" + f"{10**6 + i:064x}",
                    token,
                    SHARD,
                    "NBA",
                    game_id=f"big-{i}",
                    epoch=1,
                ),
            )
        tokens = have + extra
        wanted = set(tokens)
        streamed: set[str] = set()  # tokens the new monitor published a book of

        def seen(stamp: Any, received_ns: int) -> None:
            if stamp.token_id in wanted:
                streamed.add(stamp.token_id)

        tap.on_price = seen  # the main monitor is stopped: every update is the new one's
        conns0 = self.poly.total_connections
        # its cap (MONITOR_MAX_TOKENS, 2,000 by default) raised to the whole set: at the
        # default it streamed 2,000 tokens and refused the rest, and a count of updates
        # published (reconnects republish) once read as "every token ready"
        env = self.service_env() | {"MONITOR_MAX_TOKENS": str(len(tokens))}
        monitor = self.services["monitor"] = self.group.start(
            "monitor-10k",
            monitor_argv(
                self.server.url, self.ws_url, self.egress_url, self.clob_url, instance=MONITOR_10K
            ),
            env,
        )
        try:
            waited = await wait_until(
                lambda: len(streamed) == len(tokens),
                240,
                f"a book of each of {len(tokens)} tokens from one monitor",
                check=self.check,
                poll=0.2,
            )
        finally:
            tap.on_price = None
        open_sockets = len(self.poly.connections)
        ready = monitor.sample()
        driver = LoadDriver(self.poly, self.kalshi, [], tokens=tokens, kalshi_ratio=0, sizes=sizes)
        achieved = await driver.run(1000, self.args.big_duration, "big")
        await trio.sleep(1.5)
        self.check()
        sample = monitor.sample()
        return {
            "tokens": len(tokens),
            "levels": levels,
            "tokens_streamed": len(streamed),
            "monitor_tokens": tap.detail("monitor", MONITOR_10K, "tokens"),
            "monitor_rejected": tap.detail("monitor", MONITOR_10K, "rejected"),
            "sockets": open_sockets,
            "venue_connections": self.poly.total_connections - conns0,
            "ready_s": round(waited, 1),
            "load_rate": round(achieved),
            "load_s": self.args.big_duration,
            "monitor_published": tap.detail("monitor", MONITOR_10K, "published"),
            "monitor_rss_mb_ready": round(ready.rss_kb / 1024, 1) if ready else None,
            "monitor_rss_mb": round(sample.rss_kb / 1024, 1) if sample else None,
            "monitor_peak_rss_mb": round(sample.hwm_kb / 1024, 1) if sample else None,
        }


async def _main(
    args: argparse.Namespace, server: RedisServer, group: ServiceGroup
) -> dict[str, Any]:
    run = _Run(args, server, group)
    out: dict[str, Any] = {}
    trio.lowlevel.add_instrument(run.clock)
    with trio.fail_after(args.timeout):
        async with open_bus(server.url) as bus, trio.open_nursery() as nursery:
            started = time.monotonic()
            tap = await run.start(nursery, bus)
            out["startup_s"] = round(time.monotonic() - started, 1)
            await run.driver.run(args.rate, args.warmup, "warmup")
            run.driver.close_all("warmup")
            out["main"] = await run.phase(tap, args.rate, args.duration, "main")
            if args.relay_duration > 0:
                out["relay"] = await run.relay(tap)
            if not args.no_ramp:
                steps, held, why = await run.ramp(tap)
                out["ramp"] = steps
                out["max_throughput_per_s"] = held
                out["ramp_stop"] = why
            if args.big_tokens > 0:
                out["big"] = await run.big(bus, tap)
            nursery.cancel_scope.cancel()
    return out


def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    """Run every phase; returns the figures (see the module docstring)."""
    if not args.timeout:
        args.timeout = args.duration + 240 + (0 if args.no_ramp else 13 * (args.ramp_step + 4))
        args.timeout += args.relay_duration + 30 if args.relay_duration > 0 else 0
        args.timeout += 300 + args.big_duration if args.big_tokens > 0 else 0
    with (
        RedisServer() as server,
        ServiceGroup() as group,
        stop_on_sigterm(group.stop_all, server.close),
    ):
        floor = _floor(server.port, args.floor_count)
        detail = trio.run(_main, args, server, group)
    main = detail["main"]
    result: dict[str, Any] = {
        "rate": args.rate,
        "tokens": 2 * max(1, args.tokens // 2),
        "duration_s": args.duration,
        "tick_to_signal_us": main["tick_to_signal_us"],
        "floor_us": floor,
        "ratio_p50": _ratio(main["tick_to_signal_us"]["p50"], floor["p50"]),
        "ratio_p99": _ratio(main["tick_to_signal_us"]["p99"], floor["p99"]),
        "monitor_lag_us": main["monitor_lag_us"],
        "monitor_read_us": main["monitor_read_us"],
        "bus_hop_shard_us": main["bus_hop_shard_us"],
        "bus_hop_tap_us": main["bus_hop_tap_us"],
        "lost": {
            "updates_sent": main["updates_sent"],
            "monitor_published": main["monitor_published"],
            "bus_seen": main["bus_seen"],
            "monitor_coalesced": main["monitor_coalesced"],
            "updates_not_published": main["updates_sent"]
            - main["monitor_published"]
            - main["monitor_coalesced"],
            "updates_not_seen": main["monitor_published"] - main["bus_seen"],
            "signals_expected": main["signals_expected"],
            "signals_received": main["signals_received"],
            "signals_lost": main["signals_lost"],
            "unexpected_signals": main["unexpected_signals"],
        },
        "processes": main["processes"],
        "bench_tasks": main["bench_tasks"],
        "cpu_us_per_update": main["cpu_us_per_update"],
        "monitor_cpu_us_per_published": main["monitor_cpu_us_per_published"],
        "events": main["events"],
        "machine_busy_pct": main["machine_busy_pct"],
        "achieved_rate": main["achieved_rate"],
        "startup_s": detail["startup_s"],
        "log_dir": str(group.log_dir),
    }
    result["lost"]["total"] = (
        result["lost"]["updates_not_published"] + result["lost"]["signals_lost"]
    )
    for key in ("relay", "ramp", "max_throughput_per_s", "ramp_stop", "big"):
        if key in detail:
            result[key] = detail[key]
    return result


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def _handler(args: argparse.Namespace) -> int:
    try:
        result = run_bench(args)
    except BaseException as exc:
        if interrupted(exc):
            print("interrupted: every process of the run was stopped", file=sys.stderr)
            return 130
        raise
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return 0
    print(_format(result))
    return 0


def _pct(p: dict[str, float]) -> str:
    return (
        f"p50 {p['p50']:9.1f}  p90 {p['p90']:9.1f}  p99 {p['p99']:9.1f}  "
        f"p99.9 {p['p99_9']:9.1f}  max {p['max']:9.1f}  (n={p['count']:.0f})"
    )


def _format(r: dict[str, Any]) -> str:
    lost = r["lost"]
    lines = [
        f"arbees bench e2e: {r['rate']:g} Polymarket updates/s over {r['tokens']} tokens "
        f"for {r['duration_s']:g} s (offered {r['achieved_rate']}/s); monitor and shard "
        "as processes, private redis-server",
        "latency (µs):",
        f"  tick-to-signal       {_pct(r['tick_to_signal_us'])}",
        f"  floor (redis-py)     {_pct(r['floor_us'])}",
        f"  ratio p50 {r['ratio_p50']}  p99 {r['ratio_p99']}",
        f"  venue->monitor pub   {_pct(r['monitor_lag_us'])}",
        f"   of which ->read    {_pct(r['monitor_read_us'])}",
        f"  bus hop -> shard     {_pct(r['bus_hop_shard_us'])}",
        f"  bus hop -> bench tap {_pct(r['bus_hop_tap_us'])}",
        f"loss: updates sent {lost['updates_sent']}, published by the monitor "
        f"{lost['monitor_published']} (merged into a newer update of the same token in the "
        f"same read {lost['monitor_coalesced']}), seen on the bus {lost['bus_seen']}; "
        f"signals expected "
        f"{lost['signals_expected']}, received {lost['signals_received']} "
        f"(lost {lost['signals_lost']}, unexpected {lost['unexpected_signals']})",
        f"processes (main phase; all cores of the machine {r['machine_busy_pct']} % busy): "
        "CPU user+sys, share of one core, RSS now / peak:",
    ]
    for name, p in r["processes"].items():
        lines.append(
            f"  {name:<8} {p['cpu_s']} s  {p['cpu_pct']} %  {p['rss_mb']} / {p['peak_rss_mb']} MB"
            f"  {r['cpu_us_per_update'].get(name)} µs/update"
        )
    lines.append(f"  monitor per update it published: {r['monitor_cpu_us_per_published']} µs")
    bt = r["bench_tasks"]
    lines.append(
        f"  bench process by task: offering the load (load loop, fake venues' writers) "
        f"{bt['driver_pct']} % of a core, its other tasks {bt['other_pct']} %, between task "
        f"steps {bt.get('between_steps_pct')} % (costliest tasks: "
        + ", ".join(
            f"{'.'.join(name.rsplit('.', 2)[-2:])} {pct} %" for name, pct in bt["tasks_pct"].items()
        )
        + ")"
    )
    ev = r["events"]
    lines.append(
        f"events: venue connections opened {ev['venue_connections']}, writes to a closed "
        f"socket {ev['venue_writes_to_closed']}, health changes {len(ev['health_changes'])}"
    )
    if "relay" in r:
        rl = r["relay"]
        per = rl["cpu_us_per_update"]
        lines.append(
            f"relay floor ({rl['achieved_rate']}/s, same venue and Redis, beside the monitor): "
            f"relay {per.get(RELAY)} µs/update, monitor {per.get('monitor')} µs/update "
            f"(monitor / relay {rl['monitor_vs_relay']}); relay counts {rl['relay_counts']}"
        )
    if "ramp" in r:
        lines.append("throughput ramp (offered/s -> held?):")
        for s in r["ramp"]:
            lines.append(
                f"  {s['rate']:>8g}  offered {s['achieved_rate']:>7}  published "
                f"{s['monitor_published']:>7}/{s['updates_sent']:<7} merged "
                f"{s['monitor_coalesced']:>5} p99 "
                f"{s['tick_to_signal_us']['p99']:>9.1f} µs  "
                + ("held" if s["held"] else "NOT held: " + "; ".join(s["problems"]))
            )
        lines.append(f"  max sustainable throughput: {r['max_throughput_per_s']:g} updates/s")
    if "big" in r:
        b = r["big"]
        lines.append(
            f"monitor with {b['tokens']} tokens of {b['levels']} levels a side "
            f"({b['tokens_streamed']} streamed, its heartbeat "
            f"{b['monitor_tokens']}) on {b['sockets']} sockets ({b['venue_connections']} "
            f"connections made): RSS {b['monitor_rss_mb_ready']} MB when ready, "
            f"{b['monitor_rss_mb']} MB after {b['load_s']:g} s of load (peak "
            f"{b['monitor_peak_rss_mb']} MB), ready in {b['ready_s']} s"
        )
    lines.append(f"service logs: {r['log_dir']}")
    return "\n".join(lines)
