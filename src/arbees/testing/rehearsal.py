"""The observer side of the local rehearsal: a bus tap and the final verdict.

``deploy/run-local.sh`` starts the deployed topology as separate processes; it needs two
things no service provides and that ``redis-cli`` would otherwise do (and ``redis-cli``
is not assumed installed): something that watches the bus while the rehearsal runs, and
something that judges the run. Both live here, as sub-commands of
``python -m arbees.testing.rehearsal``:

``tap``
    Subscribes to ``arbees:signals``, ``system:alerts`` and the shard heartbeats (the bus
    URL comes from ``REDIS_URL`` so the password never sits on a command line); appends
    every signal and alert to ``signals.jsonl`` / ``alerts.jsonl`` in the run directory;
    every half second writes ``topology.json`` (game -> shard from the orchestrator's
    assignment hash, what each shard says it holds, which tokens have a published price)
    and creates ``topology.ready`` once every game of the slate is held by the shard it is
    assigned to, the games are spread over the shards, and every token has a price.
``summary``
    Reads the venues' state file, the tap's files and the health results the script wrote
    (``health.txt``: ``service instance exit-code message`` per line), prints a summary,
    writes ``summary.json`` and exits 0 only when the rehearsal did what it should: every
    service healthy, at least one ``open`` signal for the arbitrage game after the price
    move, none before it, and no signal at all for the quiet game.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import trio

from arbees.bus import Bus, open_bus
from arbees.config import url_with_password_file
from arbees.errors import ArbeesError
from arbees.messages import (
    GAME_ASSIGNMENTS_HASH,
    LATEST_PRICES_HASH,
    ArbSignal,
    Channel,
    MarketAssignment,
    ShardHeartbeat,
    SystemAlert,
)
from arbees.money import format_fixed
from arbees.testing.venues import write_json_atomic

__all__ = ["judge", "main", "read_jsonl", "run_tap"]

log = logging.getLogger(__name__)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSON Lines file (missing file: none; a torn last line: skipped)."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def _signal_json(sig: ArbSignal, received_ns: int) -> dict[str, Any]:
    out = sig.to_dict()
    out["received_ms"] = received_ns // 1_000_000
    out["profit_exact"] = format_fixed(sig.profit)
    out["cost_exact"] = format_fixed(sig.cost)
    out["fees_exact"] = format_fixed(sig.fees)
    return out


class _Tap:
    def __init__(self, bus: Bus, run_dir: Path, games: list[dict[str, Any]], shards: int) -> None:
        self.bus = bus
        self.run_dir = run_dir
        self.games = games
        self.shards = shards
        self.holdings: dict[str, list[str]] = {}
        self.ready = False

    def _append(self, name: str, obj: dict[str, Any]) -> None:
        with (self.run_dir / name).open("a", encoding="utf-8") as f:
            f.write(json.dumps(obj, sort_keys=True) + "\n")

    async def listen(self, sub: Any) -> None:
        async for envelope in sub:
            message = envelope.message
            if isinstance(message, ArbSignal):
                self._append("signals.jsonl", _signal_json(message, envelope.received_ns))
                log.info("signal %s %s %s", message.event, message.game_id, message.combo)
            elif isinstance(message, SystemAlert):
                self._append("alerts.jsonl", message.to_dict())
            elif isinstance(message, MarketAssignment) and message.platform == "kalshi":
                self._append("assignments.jsonl", message.to_dict())
            elif isinstance(message, ShardHeartbeat):
                self.holdings[message.shard_id] = sorted(message.games)

    async def poll(self) -> None:
        while True:
            try:
                assigned = await self.bus.hgetall(GAME_ASSIGNMENTS_HASH)
                priced = set(await self.bus.hgetall(LATEST_PRICES_HASH))
            except ArbeesError as exc:
                log.warning("topology poll failed: %s", exc)
            else:
                self._write_topology(assigned, priced)
            await trio.sleep(0.5)

    def _write_topology(self, assigned: dict[str, Any], priced: set[str]) -> None:
        owners = {
            game: m.shard_id for game, m in assigned.items() if isinstance(m, MarketAssignment)
        }
        tokens = [t for g in self.games for t in g["polymarket_tokens"]]
        # each game runs on its owner and nowhere else (a rebalance has finished)
        held = all(
            {shard for shard, games in self.holdings.items() if g["game_id"] in games}
            == {owners.get(g["game_id"])}
            for g in self.games
        )
        spread = len({owners.get(g["game_id"]) for g in self.games}) >= min(
            self.shards, len(self.games)
        )
        ready = held and spread and all(t in priced for t in tokens)
        write_json_atomic(
            self.run_dir / "topology.json",
            {
                "owners": owners,
                "holdings": self.holdings,
                "priced_tokens": sorted(t for t in tokens if t in priced),
                "ready": ready,
            },
        )
        if ready and not self.ready:
            self.ready = True
            (self.run_dir / "topology.ready").touch()
            log.info("topology ready: %s", owners)


async def run_tap(
    url: str,
    run_dir: Path,
    games: list[dict[str, Any]],
    *,
    shards: int,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Record signals/alerts and the topology under ``run_dir`` until cancelled."""
    async with (
        open_bus(url) as bus,
        bus.subscribe(
            Channel.SIGNALS,
            Channel.SYSTEM_ALERTS,
            Channel.SHARD_HEARTBEATS,
            Channel.MARKET_ASSIGNMENTS,
        ) as sub,
        trio.open_nursery() as nursery,
    ):
        tap = _Tap(bus, run_dir, games, shards)
        nursery.start_soon(tap.listen, sub)
        nursery.start_soon(tap.poll)
        (run_dir / "tap.ready").touch()
        task_status.started()


def judge(
    state: dict[str, Any],
    signals: list[dict[str, Any]],
    health: list[tuple[str, str, int, str]],
) -> dict[str, Any]:
    """The verdict of a rehearsal (pure: the test and the summary share it)."""
    moved = state.get("moved_ms")
    problems: list[str] = []
    per_game: dict[str, Any] = {}
    for game in state["games"]:
        mine = [s for s in signals if s.get("game_id") == game["game_id"]]
        before = [s for s in mine if moved is None or s.get("received_ms", 0) < moved]
        opens = [s for s in mine if s.get("event") == "open" and s not in before]
        per_game[game["name"]] = {
            "game_id": game["game_id"],
            "arbitrage": game["arbitrage"],
            "signals": len(mine),
            "opens_after_move": len(opens),
            "before_move": len(before),
            "best_profit": max((s["profit_exact"] for s in opens), key=Decimal, default=None),
        }
        if game["arbitrage"] and not opens:
            problems.append(f"no open signal for {game['game_id']} after the price move")
        if game["arbitrage"] and before:
            problems.append(f"{len(before)} signal(s) for {game['game_id']} before the move")
        if not game["arbitrage"] and mine:
            problems.append(f"{len(mine)} signal(s) for the quiet game {game['game_id']}")
    if moved is None:
        problems.append("the price move was never applied")
    if not health:
        problems.append("no health results")
    for service, instance, rc, text in health:
        if rc != 0:
            problems.append(f"{service}/{instance} not healthy: {text}")
    return {
        "ok": not problems,
        "problems": problems,
        "games": per_game,
        "health": [
            {"service": s, "instance": i, "healthy": rc == 0, "text": t} for s, i, rc, t in health
        ],
        "moved_ms": moved,
        "signals_total": len(signals),
    }


def _read_health(path: Path) -> list[tuple[str, str, int, str]]:
    out = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[2].lstrip("-").isdigit():
                out.append((parts[0], parts[1], int(parts[2]), parts[3] if len(parts) > 3 else ""))
    return out


def _summary(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir)
    state = json.loads(Path(args.state_file).read_text(encoding="utf-8"))
    topology_file = run_dir / "topology.json"
    topology = json.loads(topology_file.read_text()) if topology_file.exists() else {}
    verdict = judge(
        state, read_jsonl(run_dir / "signals.jsonl"), _read_health(run_dir / "health.txt")
    )
    verdict["owners"] = topology.get("owners", {})
    verdict["alerts"] = len(read_jsonl(run_dir / "alerts.jsonl"))
    write_json_atomic(run_dir / "summary.json", verdict)
    print("== arbees local rehearsal: summary ==")
    for h in verdict["health"]:
        print(f"  health  {h['service']:<12} {h['instance']:<18} {h['text']}")
    for name, g in verdict["games"].items():
        owner = verdict["owners"].get(g["game_id"], "?")
        print(
            f"  game    {name:<6} {g['game_id']} on {owner}: {g['signals']} signal(s), "
            f"{g['opens_after_move']} open after the move"
            + (f" (profit ${g['best_profit']})" if g["best_profit"] else "")
        )
    print(f"  alerts  {verdict['alerts']} on system:alerts")
    for problem in verdict["problems"]:
        print(f"  FAILED: {problem}")
    print("  result: " + ("OK" if verdict["ok"] else "FAILED"))
    return 0 if verdict["ok"] else 1


def _tap(args: argparse.Namespace) -> int:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        print("rehearsal tap: REDIS_URL is not set", file=sys.stderr)
        return 2
    try:  # the user named in the URL, its password in a file (as the services do)
        url = url_with_password_file(url, os.environ.get("REDIS_PASSWORD_FILE", "").strip())
    except ArbeesError as exc:
        print(f"rehearsal tap: {exc}", file=sys.stderr)
        return 2
    games = json.loads(Path(args.state_file).read_text(encoding="utf-8"))["games"]

    async def serve() -> None:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with trio.open_nursery() as nursery:
                await nursery.start(
                    lambda task_status: run_tap(
                        url, Path(args.run_dir), games, shards=args.shards, task_status=task_status
                    )
                )
                async for _ in signals:
                    nursery.cancel_scope.cancel()
                    break

    try:
        trio.run(serve)
    except ArbeesError as exc:
        print(f"rehearsal tap failed: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m arbees.testing.rehearsal")
    sub = parser.add_subparsers(dest="command", required=True)
    tap = sub.add_parser("tap", help="record signals, alerts and topology (bus from REDIS_URL)")
    tap.add_argument("--run-dir", required=True)
    tap.add_argument("--state-file", required=True, help="the fake venues' state file")
    tap.add_argument("--shards", type=int, default=2, help="shards the games should spread over")
    tap.set_defaults(handler=_tap)
    summary = sub.add_parser("summary", help="print and judge a finished rehearsal")
    summary.add_argument("--run-dir", required=True)
    summary.add_argument("--state-file", required=True)
    summary.set_defaults(handler=_summary)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    started = time.monotonic()
    rc: int = args.handler(args)
    log.debug("%s finished in %.1f s", args.command, time.monotonic() - started)
    return rc


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
