"""One public wiring: the CLI, the library API and the demo build the same services from the
same inputs, and nothing outside the CLI imports a private CLI module."""

from __future__ import annotations

import argparse
import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arbees.api
from arbees.bus import open_bus
from arbees.cli import build_parser, cmd_monitor, cmd_orchestrator, cmd_shard
from arbees.demo.system import DemoSettings, demo_service_settings
from arbees.egress import EgressSettings
from arbees.errors import ConfigError
from arbees.money import CENT
from arbees.obs.metrics import Registry
from arbees.services.orchestrator import OrchestratorConfig
from arbees.wiring import (
    MonitorSettings,
    OrchestratorSettings,
    ShardSettings,
    build_shard,
    kalshi_keepalive_interval,
)

SRC = Path(__file__).resolve().parents[1] / "src" / "arbees"


def _private_cli_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module + "." + a.name for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found += [n for n in names if n.startswith("arbees.cli._")]
    return found


def test_nothing_outside_the_cli_imports_a_private_cli_module() -> None:
    offenders = {
        str(path.relative_to(SRC)): imports
        for path in SRC.rglob("*.py")
        if "cli" not in path.relative_to(SRC).parts[:1] and (imports := _private_cli_imports(path))
    }
    assert offenders == {}
    # the check itself sees such an import
    assert _private_cli_imports(SRC / "cli" / "cmd_shard.py")


class _Captured(Exception):
    pass


async def _api_settings(
    monkeypatch: pytest.MonkeyPatch, builder: str, run: Callable[..., Any], **options: Any
) -> Any:
    """The settings ``arbees.api.run_*`` hands the wiring for ``options``."""
    seen: list[Any] = []

    def spy(settings: Any, bus: Any, **kwargs: Any) -> Any:
        seen.append(settings)
        raise _Captured

    monkeypatch.setattr(arbees.api, builder, spy)
    async with open_bus("memory://") as bus:
        with pytest.raises(_Captured):
            await run(bus, **options)
    (captured,) = seen
    return captured


def _parse(command: str, argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args([command, *argv])


async def test_cli_api_and_demo_build_the_same_shard(monkeypatch: pytest.MonkeyPatch) -> None:
    environ = {"SHARD_ID": "s7", "KALSHI_WS_URL": "ws://k", "MAX_PRICE_AGE_MS": "1500"}
    cli = cmd_shard.settings_from_args(
        _parse("shard", ["--kalshi-silence-timeout", "20", "--min-edge-cents", "1.5"]), environ
    )
    api = await _api_settings(
        monkeypatch,
        "build_shard",
        arbees.api.run_shard,
        shard_id="s7",
        kalshi_ws_url="ws://k",
        max_price_age_ms=1500,
        kalshi_silence_timeout=20.0,
        min_edge=15 * CENT // 10,
    )
    assert cli == api
    assert cli.min_edge == 15_000  # 1.5 cents, exactly
    # the keepalive follows the price age in every entry point (it drifted before)
    assert cli.keepalive_interval == api.keepalive_interval == 0.75
    demo = DemoSettings(max_age_s=1.5, kalshi_silence_s=20.0)
    _, (demo_shard, *_), _ = demo_service_settings(
        demo,
        EgressSettings(url="http://e"),
        kalshi_ws_url="ws://k",
        kalshi_rest_url="http://k",
        polymarket_ws_url="ws://p",
        gamma_url="http://g",
    )
    same = ("max_price_age_ms", "max_quote_age_s", "max_games", "kalshi_silence_timeout")
    assert {f: getattr(demo_shard, f) for f in same} == {f: getattr(cli, f) for f in same}
    assert demo_shard.keepalive_interval == cli.keepalive_interval
    # ... and the one builder turns those settings into the service
    async with open_bus("memory://") as bus, build_shard(cli, bus, registry=Registry()) as shard:
        engine = shard.engine
        assert (engine.max_age_ns, engine.max_quote_age_ns) == (1_500_000_000, 600 * 10**9)
        assert (engine.max_games, engine.min_edge) == (1000, 15_000)
        assert shard.kalshi.feed._keepalive_every == 0.75


async def test_cli_and_api_build_the_same_monitor(monkeypatch: pytest.MonkeyPatch) -> None:
    environ = {"EGRESS_CHECK_URL": "https://ipinfo.io/json", "EGRESS_CHECK_API_KEY": "k"}
    cli = cmd_monitor.settings_from_args(
        _parse("monitor", ["--audit-interval", "2", "--instance", "m1", "--egress-interval", "30"]),
        environ,
    )
    api = await _api_settings(
        monkeypatch,
        "build_monitor",
        arbees.api.run_monitor,
        egress_url="https://ipinfo.io/json",
        egress_api_key="k",
        egress_interval=30.0,
        audit_interval=2.0,
        instance="m1",
    )
    assert cli == api
    assert (cli.max_tokens, cli.tokens_per_socket) == (2000, 250)


async def test_cli_and_api_build_the_same_orchestrator(monkeypatch: pytest.MonkeyPatch) -> None:
    environ = {
        "EGRESS_CHECK_URL": "http://e",
        "KALSHI_SERIES": "kxnbagame",
        "DISCOVERY_DEADLINE": "30",
        "ORCHESTRATOR_ID": "o1",
    }
    cli = cmd_orchestrator.settings_from_args(
        _parse("orchestrator", ["--proxy", "http://vpn:8888"]), environ
    )
    api = await _api_settings(
        monkeypatch,
        "build_orchestrator",
        arbees.api.run_orchestrator,
        series=["KXNBAGAME"],
        egress_url="http://e",
        polymarket_proxy="http://vpn:8888",
        discovery_deadline=30.0,
        config=OrchestratorConfig(instance="o1", check_interval=1.0),
    )
    assert cli == api


def test_every_polymarket_route_needs_an_egress_check_or_the_explicit_opt_out() -> None:
    with pytest.raises(ConfigError, match="EGRESS_CHECK_URL"):
        ShardSettings(polymarket_ws_url="ws://p")
    with pytest.raises(ConfigError, match="EGRESS_CHECK_URL"):
        OrchestratorSettings()
    with pytest.raises(ConfigError, match="EGRESS_CHECK_URL"):
        ShardSettings.from_env({"POLYMARKET_VIA_REDIS": "false"})
    opted_out = ShardSettings.from_env(
        {"POLYMARKET_VIA_REDIS": "false", "POLYMARKET_EGRESS_CHECK": "off"}
    )
    assert opted_out.polymarket_ws_url is not None
    assert opted_out.polymarket_egress_check is False
    assert ShardSettings.from_env({}).polymarket_ws_url is None  # via the bus: no route


def test_bad_variables_are_named() -> None:
    with pytest.raises(ConfigError, match="MAX_PRICE_AGE_MS: expected an integer"):
        ShardSettings.from_env({"MAX_PRICE_AGE_MS": "2s"})
    with pytest.raises(ConfigError, match="MAX_QUOTE_AGE_S: expected a finite number"):
        ShardSettings.from_env({"MAX_QUOTE_AGE_S": "inf"})
    with pytest.raises(ConfigError, match="max_price_age_ms"):
        ShardSettings.from_env({"MAX_PRICE_AGE_MS": "0"})
    with pytest.raises(ConfigError, match="MIN_EDGE_CENTS"):
        ShardSettings.from_env({"MIN_EDGE_CENTS": "1e-3"})
    with pytest.raises(ConfigError, match="KALSHI_ENV"):
        ShardSettings.from_env({"KALSHI_ENV": "staging"})
    with pytest.raises(ConfigError, match="clob_url"):
        MonitorSettings(egress=EgressSettings(url="http://e"), clob_url="ftp://x")


def test_kalshi_env_demo_picks_both_demo_hosts() -> None:
    environ = {"KALSHI_ENV": "demo", "POLYMARKET_EGRESS_CHECK": "off"}
    assert "demo" in ShardSettings.from_env(environ).kalshi_ws_url
    assert "demo" in OrchestratorSettings.from_env(environ).kalshi_rest_url


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=10**7))
def test_kalshi_keepalive_is_half_the_price_age_with_a_floor(max_price_age_ms: int) -> None:
    interval = kalshi_keepalive_interval(max_price_age_ms)
    assert interval >= 0.25  # never a ping flood
    # a quiet book is proven alive at least twice per price age whenever the floor allows
    assert interval == 0.25 or interval * 2 * 1000 == pytest.approx(max_price_age_ms)
    if max_price_age_ms >= 500:
        assert interval * 2 * 1000 <= max_price_age_ms * (1 + 1e-12)
