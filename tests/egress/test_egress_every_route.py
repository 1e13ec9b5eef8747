"""No arbees process talks to Polymarket without a verified egress — checked on loopback.

Every Polymarket endpoint (market WebSocket, CLOB, Gamma) is reached through a relay that
COUNTS the TCP connections it accepts and keeps open, in front of the fake Polymarket.
The fake Gluetun control server decides where "the tunnel" exits. With the exit in a
forbidden country nothing is accepted — not from the monitor, the orchestrator's Gamma
discovery, a direct-mode shard, nor ``arbees record polymarket`` (a real subprocess); with
an allowed exit the same setup works; flipping back closes every Polymarket connection;
and restarted services with stored assignments still open none while forbidden.

Waits poll the services' plain counters (bounded by generous ``fail_after`` hang guards);
nothing asserts on wall-clock time.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import trio

import arbees
from arbees.bus import Bus, open_bus
from arbees.cli import build_parser
from arbees.cli.cmd_orchestrator import serve
from arbees.services.monitor import PolymarketMonitor
from arbees.services.orchestrator import Orchestrator
from arbees.services.shard import GameShard
from arbees.testing.fake_gluetun import FakeGluetun
from arbees.testing.http_proxy import ForwardProxy, pump
from arbees.testing.redis_server import RedisServer
from arbees.testing.venues import Venues, VenueUrls, open_venues
from arbees.wsdriver import Backoff

FAST = Backoff(base=0.05, cap=0.3, healthy_after=5.0)
CHECK_INTERVAL = 0.3
HANG_GUARD = 60.0  # seconds; only to turn a hang into a failure


async def wait_for(predicate: Callable[[], bool], step: float = 0.02) -> None:
    """Poll state other tasks keep in plain attributes (the caller bounds it)."""
    while not predicate():  # noqa: ASYNC110
        await trio.sleep(step)


class CountingRelay:
    """A TCP relay to ``127.0.0.1:target`` counting accepted and open connections."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.accepted = 0
        self.open = 0
        self.port = 0

    async def run(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        async with trio.open_nursery() as nursery:
            await nursery.start(trio.serve_listeners, self._handle, listeners)
            task_status.started(self.port)

    async def _handle(self, client: trio.SocketStream) -> None:
        self.accepted += 1
        self.open += 1
        try:
            async with (
                client,
                await trio.open_tcp_stream("127.0.0.1", self.target) as upstream,
                trio.open_nursery() as nursery,
            ):
                nursery.start_soon(pump, client, upstream, nursery.cancel_scope)
                nursery.start_soon(pump, upstream, client, nursery.cancel_scope)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        finally:
            self.open -= 1


class Stack:
    """The fakes, the relays and the Polymarket URLs pointing at the relays."""

    def __init__(
        self, venues: Venues, urls: VenueUrls, gluetun: FakeGluetun, *, via_proxy: bool
    ) -> None:
        self.venues = venues
        self.urls = urls
        self.gluetun = gluetun
        self.proxy_server = ForwardProxy() if via_proxy else None
        self.ws = CountingRelay(_port(urls.polymarket_ws_url))
        self.http = CountingRelay(_port(urls.polymarket_gamma_url))  # CLOB and Gamma

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws.port}/ws/market"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http.port}"

    @property
    def proxy(self) -> str | None:
        if self.proxy_server is None:
            return None
        return f"http://127.0.0.1:{self.proxy_server.port}"

    @property
    def egress_url(self) -> str:
        # through a proxy the check must describe the proxied route: an ipinfo-style
        # answer fetched over it (a Gluetun answer counts only from loopback, unproxied)
        return self.gluetun.ipinfo_url if self.proxy_server else self.gluetun.publicip_url

    def polymarket_targets(self) -> set[str]:
        """Polymarket ``host:port`` the proxy opened connections to."""
        assert self.proxy_server is not None
        mine = {f"127.0.0.1:{self.ws.port}", f"127.0.0.1:{self.http.port}"}
        return mine & set(self.proxy_server.targets)

    def accepted(self) -> int:
        return self.ws.accepted + self.http.accepted

    def open(self) -> int:
        return self.ws.open + self.http.open

    def env(self) -> dict[str, str]:
        env = {
            "EGRESS_CHECK_URL": self.egress_url,
            "EGRESS_CHECK_INTERVAL": str(CHECK_INTERVAL),
            "EGRESS_FORBIDDEN_COUNTRIES": "US",
        }
        if self.proxy:
            env["POLYMARKET_PROXY_URL"] = self.proxy
        return env


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


async def _monitor(nursery: trio.Nursery, bus: Bus, stack: Stack) -> PolymarketMonitor:
    monitor: PolymarketMonitor = await nursery.start(
        partial(
            arbees.run_monitor,
            bus,
            egress_url=stack.egress_url,
            egress_interval=CHECK_INTERVAL,
            proxy=stack.proxy,
            ws_url=stack.ws_url,
            clob_url=stack.http_url,
            audit_interval=0.5,
            heartbeat_interval=0.2,
            reconnect=FAST,
            # no real host from a test; the sports socket's own egress test is
            # tests/services/test_game_state_relay.py
            sports_ws_url=None,
        )
    )
    return monitor


async def _shard(nursery: trio.Nursery, bus: Bus, stack: Stack) -> GameShard:
    shard: GameShard = await nursery.start(
        partial(
            arbees.run_shard,
            bus,
            shard_id="direct-1",
            kalshi_ws_url=stack.urls.kalshi_ws_url,
            polymarket_ws_url=stack.ws_url,
            polymarket_proxy=stack.proxy,
            egress_url=stack.egress_url,
            egress_interval=CHECK_INTERVAL,
            heartbeat_interval=0.2,
            reconnect=FAST,
        )
    )
    return shard


async def _orchestrator(nursery: trio.Nursery, redis_url: str, stack: Stack) -> Orchestrator:
    args = build_parser().parse_args(
        [
            "orchestrator",
            "--redis-url",
            redis_url,
            "--kalshi-rest-url",
            stack.urls.kalshi_rest_url,
            "--gamma-url",
            stack.http_url,
            "--series",
            "KXNBAGAME",
            "--settle-delay",
            "0.2",
            "--discovery-interval",
            "0.5",
            "--republish-interval",
            "0.5",
            *(["--proxy", stack.proxy] if stack.proxy else []),
        ]
    )
    orchestrator: Orchestrator = await nursery.start(serve, args, None)
    return orchestrator


async def _record(stack: Stack, out: Path, token: str) -> tuple[int, str]:
    """``arbees record polymarket`` as its own process; returns (exit code, output)."""
    env = {**os.environ, **stack.env(), "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, "-m", "arbees", "record", "polymarket", "--tokens", token]
    argv += ["--out", str(out), "--url", stack.ws_url, "--duration", "3"]
    result = await trio.run_process(
        argv, env=env, capture_stdout=True, capture_stderr=True, check=False
    )
    return result.returncode, (result.stdout + result.stderr).decode(errors="replace")


async def _checks(stack: Stack, more: int) -> None:
    """Wait until the control server has answered ``more`` further checks."""
    target = stack.gluetun.requests + more
    await wait_for(lambda: stack.gluetun.requests >= target)


@pytest.mark.parametrize("via_proxy", [False, True], ids=["direct", "via-proxy"])
async def test_no_polymarket_connection_without_a_verified_egress(
    private_redis: RedisServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, via_proxy: bool
) -> None:
    gluetun = FakeGluetun(country="United States", ip="198.51.100.9")  # forbidden exit
    async with open_venues() as (venues, urls), trio.open_nursery() as nursery:
        await nursery.start(gluetun.run)
        stack = Stack(venues, urls, gluetun, via_proxy=via_proxy)
        await nursery.start(stack.ws.run)
        await nursery.start(stack.http.run)
        if stack.proxy_server is not None:
            await nursery.start(stack.proxy_server.run)
        for name, value in stack.env().items():
            monkeypatch.setenv(name, value)
        token = venues.game("arb").away_token
        with trio.fail_after(HANG_GUARD):
            async with open_bus(private_redis.url) as bus:
                # 1. forbidden from the start: every service up, nothing reaches Polymarket
                async with trio.open_nursery() as svc:
                    monitor = await _monitor(svc, bus, stack)
                    shard = await _shard(svc, bus, stack)
                    orchestrator = await _orchestrator(svc, private_redis.url, stack)
                    await wait_for(lambda: orchestrator.stats.discovery_failures >= 2)
                    code, output = await _record(stack, tmp_path / "forbidden.jsonl", token)
                    assert code == 0, output
                    assert "wrote 0 frames" in output
                    assert stack.accepted() == 0
                    assert not monitor.guard.verified
                    assert orchestrator.games == {}
                    if stack.proxy_server is not None:
                        # the checks went through the proxy, Polymarket traffic did not
                        assert stack.proxy_server.targets
                        assert not stack.polymarket_targets()

                    # 2. allowed exit: the same setup works end to end
                    gluetun.set_exit(country="Netherlands", ip="203.0.113.50")
                    await wait_for(lambda: len(orchestrator.games) == 2)
                    await wait_for(lambda: monitor.stats.published > 0)
                    await wait_for(lambda: stack.ws.open >= 2)  # monitor + direct shard
                    await wait_for(lambda: shard.stats.quotes > 0)
                    code, output = await _record(stack, tmp_path / "allowed.jsonl", token)
                    assert code == 0, output
                    assert (tmp_path / "allowed.jsonl").read_text().count("recv_ns") >= 1
                    if stack.proxy_server is not None:  # all of it through the proxy
                        assert len(stack.polymarket_targets()) == 2

                    # 3. back to forbidden: every Polymarket connection is closed
                    failures = orchestrator.stats.discovery_failures
                    gluetun.set_exit(country="United States", ip="198.51.100.9")
                    # each process notices at its own guard's next check:
                    await wait_for(lambda: not monitor.guard.verified)
                    # the monitor's and the shard's guards closed their sockets, ...
                    await wait_for(lambda: stack.ws.open == 0)
                    # ... the orchestrator's refused a discovery round (nothing else fails)
                    await wait_for(lambda: orchestrator.stats.discovery_failures > failures)
                    await wait_for(lambda: stack.open() == 0)
                    closed_at = stack.accepted()
                    await _checks(stack, 6)  # several more checks by every guard...
                    assert stack.accepted() == closed_at  # ... and no new connection
                    assert stack.open() == 0
                    svc.cancel_scope.cancel()

                # 4. restarted while forbidden, with the assignments stored in Redis
                async with trio.open_nursery() as svc:
                    monitor = await _monitor(svc, bus, stack)
                    # the shard's start waits for its stored games' Polymarket sockets,
                    # which wait for a verified egress
                    svc.start_soon(_shard, svc, bus, stack)
                    await wait_for(lambda: len(monitor.tokens) == 4)  # it would subscribe 4
                    await _checks(stack, 6)
                    assert stack.accepted() == closed_at
                    assert monitor.stats.published == 0
                    svc.cancel_scope.cancel()
        nursery.cancel_scope.cancel()
