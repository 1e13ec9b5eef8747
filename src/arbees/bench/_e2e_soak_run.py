"""Running the soak: the simulated market, the fault timetable and the canaries, together.

Why the services run as separate processes (not in-process like the demo): two of the
things the soak must show are per-process — *crashes* (a service whose task died exits;
an in-process crash would take the harness down with it and hide which one) and *memory
growth of each process* (RSS is per process). Redis restarts, socket drops and stalls hit
the real CLI services exactly as in a deployment.

The harness (this process) holds the fake venues, the fake Gluetun, the market player
(:class:`~arbees.sim.player.MarketPlayer`) on a plan frozen around the faults
(:func:`~arbees.bench._e2e_soak_plan.quiet_spans`), the fault runner, the canaries, and a
bus tap recording signals, price updates and health.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from typing import Any

import attrs
import trio

from arbees.bench._e2e_procs import ProcSample, ServiceGroup, proc_sample, service_env
from arbees.bench._e2e_soak_plan import (
    CanaryBooks,
    Fault,
    bench_game,
    canary_games,
    install_canaries,
    quiet_spans,
    schedule_faults,
    stall_spans,
)
from arbees.bench._e2e_stack import BusTap, monitor_argv, shard_argv, wait_until, write_assignments
from arbees.bus import open_bus
from arbees.messages import PolymarketPriceUpdate
from arbees.sim.plan import Plan, PlanConfig, make_plan
from arbees.sim.player import MarketPlayer
from arbees.testing.fake_gluetun import FakeGluetun
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.fake_polymarket import FakePolymarket
from arbees.testing.redis_server import RedisServer

__all__ = ["FaultRecord", "SoakOptions", "SoakRecord", "memory_growth", "soak_main"]

log = logging.getLogger(__name__)

SHARD = "soak-shard"
MONITOR = "soak-monitor"
ALLOWED = "United Kingdom"
_DENSE: dict[str, Any] = {  # short runs: shorter, denser scenarios (as the demo's)
    "window_s": (0.6, 1.0),
    "scenario_gap_s": (0.12, 0.3),
    "cooldown_s": 0.5,
}
FORBIDDEN = "United States"


@attrs.frozen
class SoakOptions:
    """What to soak.

    Attributes:
        duration_s: market seconds (after start-up).
        seed: market seed.
        games: games in the simulated slate.
        walk_rate: random-walk steps per second.
        budget_ms: detection budget of an injected window.
        grace_ms: how long after a window closes a signal for it is still justified.
        canary_period_s: seconds between canary toggles.
        margin_s: frozen market after each fault (see :mod:`arbees.bench._e2e_soak_plan`).
        fault_gap_s: live market between two faults' frozen spans.
        max_price_age_ms: the shard's ``--max-price-age-ms``.
        recovery_limit_s: a fault not recovered from within this long counts as not recovered.
    """

    duration_s: float = 300.0
    seed: int = 1
    games: int = 8
    walk_rate: float = 20.0
    budget_ms: float = 300.0
    grace_ms: float = 500.0
    canary_period_s: float = 0.2
    margin_s: float = 1.5
    fault_gap_s: float = 8.0
    max_price_age_ms: int = 2000
    recovery_limit_s: float = 10.0


@attrs.define
class FaultRecord:
    """One fault as it happened.

    Attributes:
        fault: the schedule entry.
        start_ns, end_ns: wall clock when it was injected and when it ended.
        observed: the expected symptom was seen (e.g. the monitor reported egress lost).
    """

    fault: Fault
    start_ns: int = 0
    end_ns: int = 0
    observed: bool | None = None


@attrs.define
class SoakRecord:
    """Everything the run recorded (turned into the report by :mod:`arbees.bench.soak`).

    Attributes:
        plan: the plan that was played.
        player: the player (applied times).
        canaries: the canary games.
        canary_truth: per canary game id, ``(time_ns, open)`` transitions.
        faults: the faults as injected.
        tap: the bus tap (signals, health).
        price_ns: tap receive times of price updates.
        memory: ``name -> [(market fraction, sample)]``.
        end_ns: end of the market (after the in-flight grace).
        started_ns: start of the market.
        crashed: names of service processes that exited unexpectedly.
        log_dir: the services' logs.
    """

    plan: Plan
    player: MarketPlayer
    canaries: list[CanaryBooks]
    canary_truth: dict[str, list[tuple[int, bool]]]
    faults: list[FaultRecord]
    tap: BusTap
    price_ns: list[int] = attrs.Factory(list)
    memory: dict[str, list[tuple[float, ProcSample]]] = attrs.Factory(dict)
    end_ns: int = 0
    started_ns: int = 0
    crashed: list[str] = attrs.Factory(list)
    log_dir: str = ""


class _Canaries:
    def __init__(self, canaries: list[CanaryBooks], kalshi: FakeKalshi, poly: FakePolymarket):
        self.canaries = canaries
        self.kalshi = kalshi
        self.poly = poly
        self.open: dict[str, bool] = {c.game.game_id: False for c in canaries}
        self.truth: dict[str, list[tuple[int, bool]]] = {c.game.game_id: [] for c in canaries}
        self.paused = False
        self.kick = trio.Event()

    def toggle(self, canary: CanaryBooks) -> None:
        game_id = canary.game.game_id
        opening = not self.open[game_id]
        side, price, size = canary.toggle
        team = canary.game.teams[0]
        if canary.venue == "kalshi":
            self.kalshi.apply_delta(
                team.kalshi_ticker, "no", price, size if opening else "-" + size
            )
        else:
            self.poly.set_level(team.poly_token, side, price, size if opening else "0")
        self.open[game_id] = opening
        self.truth[game_id].append((time.time_ns(), opening))

    async def run(self, period: float) -> None:
        while True:
            if not self.paused:
                for canary in self.canaries:
                    self.toggle(canary)
            with trio.move_on_after(period):
                await self.kick.wait()
            self.kick = trio.Event()


async def _fault(
    record: FaultRecord,
    server: RedisServer,
    kalshi: FakeKalshi,
    poly: FakePolymarket,
    gluetun: FakeGluetun,
    tap: BusTap,
) -> None:
    kind, hold = record.fault.kind, record.fault.hold_s
    record.start_ns = time.time_ns()
    if kind == "redis_restart":
        server.stop()  # SIGKILL: a crash, not a clean shutdown
        await trio.sleep(0.3)
        await trio.to_thread.run_sync(server.start)
    elif kind == "socket_drop":
        poly.disconnect_all()
        kalshi.disconnect_all()
    elif kind == "polymarket_stall":
        poly.stalled = True
        await trio.sleep(hold)
        poly.stalled = False
    elif kind == "kalshi_stall":
        kalshi.stall()
        await trio.sleep(hold)
        kalshi.resume()
    elif kind == "kalshi_seq_gap":
        kalshi.drop_next_deltas(1)  # the Kalshi canary's next toggle burns its seq
    elif kind == "egress_flip":
        gluetun.set_exit(country=FORBIDDEN)
        with trio.move_on_after(hold + 2.0):
            while tap.healthy("monitor", MONITOR):  # noqa: ASYNC110 - across processes
                await trio.sleep(0.05)
        record.observed = not tap.healthy("monitor", MONITOR)
        await trio.sleep(max(0.0, hold - (time.time_ns() - record.start_ns) / 1e9))
        gluetun.set_exit(country=ALLOWED)
    record.end_ns = time.time_ns()


async def soak_main(options: SoakOptions, server: RedisServer, group: ServiceGroup) -> SoakRecord:
    """Start everything, play the market with its faults, and return what was recorded."""
    d = options.duration_s
    config = PlanConfig(
        seed=options.seed,
        games=options.games,
        duration_s=d,
        walk_rate=options.walk_rate,
        stale_after_s=options.max_price_age_ms / 1000 + 0.6,
        stale_every_s=max(30.0, d / 5),
        **(_DENSE if d < 60 else {}),
    )
    # Faults stay clear of the planner's stale-trap slots (a Kalshi stall of its own);
    # the market is then planned frozen around them, and checked once more.
    avoid: list[tuple[float, float]] = []
    for _ in range(3):
        faults = schedule_faults(
            make_plan(config),
            avoid=avoid,
            start_s=1.0,
            margin_s=options.margin_s,
            lead_s=0.3,
            gap_s=options.fault_gap_s,
        )
        plan = make_plan(attrs.evolve(config, quiet_spans=quiet_spans(faults, lead_s=0.3)))
        clashes = [
            s for s in stall_spans(plan)
            if any(f.at - 1.0 < s[1] and s[0] < f.quiet_until + 1.0 for f in faults)
        ]  # fmt: skip
        if not clashes:
            break
        avoid += clashes
    else:  # pragma: no cover - the slots already cover every stall the planner makes
        raise RuntimeError("could not schedule the faults away from the plan's stalls")
    kalshi = FakeKalshi(require_auth=False, heartbeat_interval=0.5)
    poly = FakePolymarket()
    api_key = secrets.token_hex(16)
    gluetun = FakeGluetun(country=ALLOWED, api_key=api_key)
    player = MarketPlayer(plan, kalshi, poly)
    player.install()
    canaries = canary_games()
    install_canaries(canaries, kalshi, poly)
    games = [bench_game(g) for g in plan.games] + [c.game for c in canaries]
    async with open_bus(server.url) as bus, trio.open_nursery() as nursery:
        k_urls = await nursery.start(kalshi.run)
        p_urls = await nursery.start(poly.run)
        g_url = await nursery.start(gluetun.run)
        await write_assignments(bus, games, SHARD)
        tap = BusTap(bus)
        record = SoakRecord(
            plan, player, canaries, {}, [FaultRecord(f) for f in faults], tap,
            log_dir=str(group.log_dir),
        )  # fmt: skip

        def on_price(update: PolymarketPriceUpdate, received_ns: int) -> None:
            record.price_ns.append(received_ns)

        tap.on_price = on_price
        await nursery.start(tap.run)
        await nursery.start(tap.prices)
        env = service_env(EGRESS_CHECK_API_KEY=api_key)
        services = {
            "monitor": group.start(
                "monitor",
                monitor_argv(server.url, p_urls.ws_url, f"{g_url}/v1/publicip/ip", p_urls.clob_url,
                             instance=MONITOR, silence_timeout=1.0, egress_interval=0.3),
                env,
            ),
            "shard": group.start(
                "shard",
                shard_argv(server.url, k_urls.ws_url, shard_id=SHARD,
                           max_price_age_ms=options.max_price_age_ms,
                           kalshi_silence_timeout=1.5),
                env,
            ),
        }  # fmt: skip

        def check() -> None:
            dead = group.crashed()
            if dead:
                tails = "\n".join(f"--- {p.name} ---\n{p.log_tail()}" for p in dead)
                raise RuntimeError(f"service died during start-up:\n{tails}")

        await wait_until(
            lambda: (
                tap.detail("monitor", MONITOR, "published") >= 2 * len(games)
                and tap.detail("shard", SHARD, "games") == len(games)
                and tap.healthy("shard", SHARD)
                and tap.healthy("monitor", MONITOR)
            ),
            60,
            "services ready",
            check=check,
        )
        runner = _Canaries(canaries, kalshi, poly)
        nursery.start_soon(runner.run, options.canary_period_s)
        await wait_until(
            lambda: {r.signal.game_id for r in tap.signals} >= {c.game.game_id for c in canaries},
            30,
            "the canaries' first signals",
            check=check,
        )
        record.canary_truth = runner.truth

        def sample(fraction: float) -> None:
            for name, service in services.items():
                s = service.sample()
                if s is not None:
                    record.memory.setdefault(name, []).append((fraction, s))
            own = proc_sample(os.getpid())
            if own is not None:
                record.memory.setdefault("harness", []).append((fraction, own))

        async def sampler() -> None:
            for k in range(1, 11):
                await trio.sleep_until(start + k * d / 10)
                sample(k / 10)

        async def plan_stalls() -> None:
            # the plan's stale traps stall Kalshi: a fault for the canaries too (their
            # deltas would queue on the stalled socket), so they pause meanwhile
            for a, b in stall_spans(plan):
                await trio.sleep_until(start + a)
                runner.paused = True
                await trio.sleep_until(start + b)
                runner.paused = False
                runner.kick.set()

        async def fault_runner() -> None:
            for fr in record.faults:
                await trio.sleep_until(start + fr.fault.at)
                runner.paused = True
                await _fault(fr, server, kalshi, poly, gluetun, tap)
                runner.paused = False
                runner.kick.set()

        start = trio.current_time()
        record.started_ns = time.time_ns()
        async with trio.open_nursery() as market:
            market.start_soon(sampler)
            market.start_soon(fault_runner)
            market.start_soon(plan_stalls)
            await player.run()
            await trio.sleep(0.05)
            market.cancel_scope.cancel()
        await trio.sleep(min(1.0, options.grace_ms / 1000 + 0.3))
        record.end_ns = time.time_ns()
        record.crashed = [p.name for p in group.crashed()]
        nursery.cancel_scope.cancel()
    return record


def memory_growth(record: SoakRecord) -> dict[str, dict[str, Any]]:
    """RSS at 20 % and at 100 % of the run, per process."""
    out: dict[str, dict[str, Any]] = {}
    for name, samples in record.memory.items():
        at = {round(f, 1): s for f, s in samples}
        early, late = at.get(0.2), at.get(1.0)
        if early is None or late is None:
            continue
        out[name] = {
            "rss_20pct_mb": round(early.rss_kb / 1024, 1),
            "rss_100pct_mb": round(late.rss_kb / 1024, 1),
            "growth_mb": round((late.rss_kb - early.rss_kb) / 1024, 1),
            "peak_mb": round(late.hwm_kb / 1024, 1),
        }
    return out
