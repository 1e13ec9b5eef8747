"""deploy/run-local.sh: the deployed topology rehearsed as separate processes on one machine.

The main test runs the script itself (redis-server, the fake venues, a fake Gluetun, the
orchestrator, the monitor and two shards, each its own process) and checks what it leaves
behind in its run directory: the signals seen on the bus, the health of every service, the
pids of everything it started (none may survive). The others check the scripted slate and
the verdict logic in-process, so a failure there points at the slate, not the topology.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.fee_terms import pair_fields

from arbees.kalshi.auth import KalshiSigner
from arbees.kalshi.rest import KalshiRest
from arbees.services.discovery import discover_games
from arbees.testing.kalshi_keys import FIXED_TEST_PRIVATE_KEY_PEM, TEST_KEY_ID
from arbees.testing.rehearsal import judge, read_jsonl
from arbees.testing.venues import Venues, open_venues
from arbees.wiring.discovery import venue_game_source

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "run-local.sh"
STARTED = {"redis", "venues", "gluetun", "tap", "orchestrator", "monitor", "shard-1", "shard-2"}


def _require_redis() -> None:
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set and redis-server is not installed")
        pytest.skip("redis-server is not installed")  # a developer machine; never in CI


def _survivors(run_dir: Path) -> dict[str, int]:
    """Processes the script recorded that still exist (zombies count as gone)."""
    pids_file = run_dir / "pids"
    alive: dict[str, int] = {}
    if not pids_file.exists():
        return alive
    for line in pids_file.read_text().splitlines():
        name, pid = line.split()
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            continue
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z":
            continue
        alive[name] = int(pid)
    return alive


def test_rehearsal_signals_on_the_arbitrage_only_and_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    _require_redis()
    run_dir = tmp_path / "run"
    env = {**os.environ, "ARBEES_PYTHON": sys.executable}
    for name in ("REDIS_URL", "METRICS_PORT", "LOG_FORMAT"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [str(SCRIPT), "--duration", "3", "--startup-timeout", "45", "--run-dir", str(run_dir)],
        cwd=tmp_path,  # works from any directory
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=110)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)  # the script's trap stops its children
        out, _ = proc.communicate(timeout=30)
        pytest.fail(f"run-local.sh did not finish in time:\n{out}")
    finally:
        survivors = _survivors(run_dir)
        for pid in survivors.values():  # never leak a process, even on failure
            os.kill(pid, signal.SIGKILL)
    assert survivors == {}, f"still running after the script exited: {survivors}"
    assert proc.returncode == 0, out

    names = {line.split()[0] for line in (run_dir / "pids").read_text().splitlines()}
    assert names == STARTED
    assert f"logs and results in {run_dir}" in out

    state = json.loads((run_dir / "venues.json").read_text())
    arb = next(g["game_id"] for g in state["games"] if g["arbitrage"])
    quiet = next(g["game_id"] for g in state["games"] if not g["arbitrage"])
    signals = read_jsonl(run_dir / "signals.jsonl")
    opens = [s for s in signals if s["game_id"] == arb and s["event"] == "open"]
    assert opens, out
    assert all(s["received_ms"] >= state["moved_ms"] for s in opens)
    assert {(s["combo"], s["team"], s["profit_exact"]) for s in opens} == {
        ("KalshiYes+PolyNo", "NBA:OKC", "7.07")
    }
    assert [s for s in signals if s["game_id"] == quiet] == []

    health = (run_dir / "health.txt").read_text().splitlines()
    assert sorted(line.split()[:3] for line in health) == [
        ["monitor", "rehearsal-monitor", "0"],
        ["orchestrator", "rehearsal-orchestrator", "0"],
        ["shard", "shard-1", "0"],
        ["shard", "shard-2", "0"],
    ]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["ok"] is True
    # the orchestrator spread the two games over the two shards
    assert sorted(summary["owners"].values()) == ["shard-1", "shard-2"]
    assert "result: OK" in out

    # Each service ran as its own least-privilege Redis user, as in compose, and did all its
    # work within it: Redis refused nothing. No secret reached a log or the console.
    acl = (run_dir / "redis" / "users.acl").read_text()
    assert "user default off" in acl
    secrets = [p.read_text().strip() for p in (run_dir / "secrets").iterdir()]
    secrets = [s for s in secrets if s and "[[roles]]" not in s]
    assert len(secrets) == 5  # four Redis roles and the Gluetun key
    logs = {p.name: p.read_text(errors="replace") for p in run_dir.glob("*.log")}
    assert {"monitor.log", "shard-1.log", "orchestrator.log"} <= set(logs)
    for name, text in [*logs.items(), ("console", out)]:
        assert "NOPERM" not in text, f"{name}: Redis refused a command"
        assert "Redis refused" not in text, name
        for secret in secrets:
            assert secret not in text, f"{name} shows a secret"
            assert secret not in acl, "the ACL file holds hashes only"


async def test_the_slate_is_discovered_with_signed_kalshi_requests() -> None:
    key = serialization.load_pem_private_key(FIXED_TEST_PRIVATE_KEY_PEM.encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    signer = KalshiSigner.from_env(
        {"KALSHI_API_KEY": TEST_KEY_ID, "KALSHI_PRIVATE_KEY": FIXED_TEST_PRIVATE_KEY_PEM}
    )
    async with (
        open_venues(kalshi_key=key, key_id=TEST_KEY_ID) as (venues, urls),
        httpx.AsyncClient() as client,
    ):
        kalshi = KalshiRest(client, base_url=urls.kalshi_rest_url, signer=signer)
        source = venue_game_source(
            kalshi, client, gamma_url=urls.polymarket_gamma_url, series=["KXNBAGAME"]
        )
        found = discover_games(await source.discover())
        unsigned = await client.get(urls.kalshi_rest_url + "/series/KXNBAGAME")
    assert set(found.games) == {g.game_id for g in venues.slate}
    for spec in found.games.values():
        assert pair_fields(spec)[:2] == ("1", "0.05")
    assert found.fee_defaults == 0
    assert unsigned.status_code == 200  # REST is public; only signed requests are verified


def test_the_move_happens_once() -> None:
    venues = Venues()
    assert venues.moved_ms is None
    assert venues.move() is True
    assert venues.move() is False
    assert venues.moved_ms is not None


def test_judge_flags_quiet_signals_early_signals_and_unhealthy_services() -> None:
    state = {
        "moved_ms": 1000,
        "games": [
            {"name": "arb", "game_id": "A", "arbitrage": True},
            {"name": "quiet", "game_id": "Q", "arbitrage": False},
        ],
    }
    ok_signal = {"game_id": "A", "event": "open", "received_ms": 1500, "profit_exact": "7.07"}
    healthy = [("shard", "shard-1", 0, "shard/shard-1: healthy")]
    assert judge(state, [ok_signal], healthy)["ok"] is True
    early = {**ok_signal, "received_ms": 900}
    assert judge(state, [early], healthy)["ok"] is False
    quiet = {**ok_signal, "game_id": "Q"}
    assert judge(state, [ok_signal, quiet], healthy)["ok"] is False
    sick = [("monitor", "m", 1, "monitor/m: UNHEALTHY: egress")]
    verdict = judge(state, [ok_signal], sick)
    assert verdict["ok"] is False
    assert any("monitor/m" in p for p in verdict["problems"])
    assert judge({**state, "moved_ms": None}, [], healthy)["ok"] is False
