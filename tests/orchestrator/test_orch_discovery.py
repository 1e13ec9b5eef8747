"""Discovery through the venue adapter against the fake venues, and the CLI wiring end to end."""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import trio
from orch_shards import FakeShard, wait_for
from tests.fee_terms import terms_of

from arbees.bus import open_bus
from arbees.cli import build_parser
from arbees.cli.cmd_orchestrator import serve, settings_from_args
from arbees.errors import ConfigError, VenueError
from arbees.fees import KalshiFeeModel
from arbees.kalshi.rest import KalshiRest, TokenBucket
from arbees.messages import GAME_ASSIGNMENTS_HASH, TOKEN_ASSIGNMENTS_HASH, MarketAssignment
from arbees.money import ONE
from arbees.services.discovery import discover_games
from arbees.testing.fake_gluetun import FakeGluetun
from arbees.testing.fake_kalshi_rest import API_ROOT, FakeKalshiRest
from arbees.testing.fake_polymarket import FakePolymarket
from arbees.testing.redis_server import RedisServer
from arbees.wiring.discovery import gamma_leagues_for, venue_game_source

SLATE = Path(__file__).parent.parent / "data" / "matching" / "slate"


def _fake_kalshi() -> FakeKalshiRest:
    fake = FakeKalshiRest()
    fake.add_series("KXNBAGAME", fee_multiplier=1)
    fake.add_series("KXNHLGAME", fee_multiplier="1.5")
    body = json.loads((SLATE / "kalshi_events.json").read_text())
    for event in body["events"]:
        fake.event_titles[event["event_ticker"]] = event["title"]
        for m in event["markets"]:
            fake.add_market(
                m["ticker"],
                event_ticker=event["event_ticker"],
                series_ticker=event["series_ticker"],
                yes_sub_title=m["yes_sub_title"],
                no_sub_title=m["no_sub_title"],
                status=m["status"],
            )
    return fake


@asynccontextmanager
async def _fake_gamma() -> AsyncIterator[tuple[FakePolymarket, str]]:
    fake = FakePolymarket()
    fake.events.extend(json.loads((SLATE / "gamma_events.json").read_text()))
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        yield fake, urls.gamma_url
        nursery.cancel_scope.cancel()


async def test_venue_source_discovers_the_slate() -> None:
    kalshi_fake = _fake_kalshi()
    async with (
        _fake_gamma() as (gamma_fake, gamma_url),
        httpx.AsyncClient(transport=kalshi_fake.mock_transport()) as kclient,
        httpx.AsyncClient() as gclient,
    ):
        kalshi = KalshiRest(kclient, base_url=f"http://kalshi.test{API_ROOT}")
        source = venue_game_source(kalshi, gclient, gamma_url=gamma_url, page_size=5)
        inputs = await source.discover()
    multipliers = {
        event: fees.model.multiplier
        for event, fees in inputs.fees["kalshi"].items()
        if isinstance(fees.model, KalshiFeeModel)
    }
    assert len(multipliers) == len(inputs.fees["kalshi"]) > 0
    assert {m for e, m in multipliers.items() if e.startswith("KXNHLGAME-")} == {Decimal("1.5")}
    assert {m for e, m in multipliers.items() if e.startswith("KXNBAGAME-")} == {Decimal(1)}
    found = discover_games(inputs)
    # the matcher's audit of this slate (tests/matching) says 11 pairs; pagination lost none
    assert len(found.games) == 11
    assert found.report.rejection_counts()["not_moneyline"] == 6
    gamma_pages = [p for m, p in gamma_fake.requests if p == "/events"]
    # /sports once, then each league's series (NBA's 11 events and NHL's 6, pages of 5)
    assert [p for m, p in gamma_fake.requests if p == "/sports"] == ["/sports"]
    assert len(gamma_pages) == 3 + 2
    spec = found.games["KXNBAGAME-26OCT20OKCSAS"]
    assert terms_of(spec, "polymarket").min_order_size == 5 * ONE
    assert {t.team for t in spec.teams} == {"NBA:OKC", "NBA:SAS"}
    nhl = next(s for s in found.games.values() if s.sport == "NHL")
    assert terms_of(nhl, "kalshi").multiplier == "1.5"


async def test_a_series_whose_fee_the_model_refuses_is_reported_not_priced() -> None:
    kalshi_fake = _fake_kalshi()
    kalshi_fake.add_series("KXNHLGAME", fee_multiplier=11)  # over the fee model's 10
    async with (
        _fake_gamma() as (_gamma_fake, gamma_url),
        httpx.AsyncClient(transport=kalshi_fake.mock_transport()) as kclient,
        httpx.AsyncClient() as gclient,
    ):
        kalshi = KalshiRest(kclient, base_url=f"http://kalshi.test{API_ROOT}")
        source = venue_game_source(kalshi, gclient, gamma_url=gamma_url, page_size=5)
        found = discover_games(await source.discover())
    assert found.games
    assert {s.sport for s in found.games.values()} == {"NBA"}
    (refused,) = [r for r in found.report.rejections if r.id == "KXNHLGAME"]
    assert "unusable fee" in refused.detail


async def test_venue_source_failures_are_project_errors() -> None:
    kalshi_fake = _fake_kalshi()
    async with (
        _fake_gamma() as (gamma_fake, gamma_url),
        httpx.AsyncClient(transport=kalshi_fake.mock_transport()) as kclient,
        httpx.AsyncClient() as gclient,
    ):
        kalshi = KalshiRest(
            kclient,
            base_url=f"http://kalshi.test{API_ROOT}",
            max_retries=0,
            limiter=TokenBucket(1000.0),
        )
        source = venue_game_source(kalshi, gclient, gamma_url=gamma_url)
        gamma_fake.fail_next(503, path="/sports")  # no /sports, no series ids: no round
        with pytest.raises(VenueError, match="Gamma"):
            await source.discover()
        kalshi_fake.rate_limit_next(1)
        with pytest.raises(VenueError):
            await source.discover()
        await source.discover()  # recovers by itself


def test_gamma_leagues_follow_the_series() -> None:
    # every league of the league table is matched now (issue 16), MLB included
    assert gamma_leagues_for(["KXNBAGAME", "KXNHLGAME", "KXMLBGAME"]) == ("MLB", "NBA", "NHL")
    assert gamma_leagues_for(["KXNBAGAME", "KXNFLMVP", "KXXYZGAME"]) == ("NBA",)


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["orchestrator", *argv])


def test_cli_options_and_env() -> None:
    environ = {"SHARD_TIMEOUT": "12", "KALSHI_SERIES": "KXNBAGAME", "EGRESS_CHECK_URL": "http://e"}
    settings = settings_from_args(_args("--discovery-interval", "60"), environ)
    config = settings.config
    assert (config.shard_timeout, config.discovery_interval, settings.series) == (
        12.0,
        60.0,
        ("KXNBAGAME",),
    )
    assert config.check_interval == 1.0
    assert settings.egress is not None
    assert settings.egress.url == "http://e"
    with pytest.raises(ConfigError, match="shard_timeout"):
        settings_from_args(_args("--shard-timeout", "0"), environ)
    with pytest.raises(ConfigError, match="SHARD_TIMEOUT"):
        settings_from_args(_args(), {**environ, "SHARD_TIMEOUT": "soon"})


async def test_cli_serve_assigns_the_slate(
    private_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    kalshi_fake = _fake_kalshi()
    async with _fake_gamma() as (_gamma_fake, gamma_url), trio.open_nursery() as nursery:
        gluetun = FakeGluetun(country="Netherlands")
        await nursery.start(gluetun.run)
        # Gamma is Polymarket: the orchestrator reaches it only on a verified egress
        monkeypatch.setenv("EGRESS_CHECK_URL", gluetun.publicip_url)
        kport = await nursery.start(kalshi_fake.serve_rest)
        args = _args(
            "--redis-url",
            private_redis.url,
            "--kalshi-rest-url",
            f"http://127.0.0.1:{kport}{API_ROOT}",
            "--gamma-url",
            gamma_url,
            "--settle-delay",
            "0.2",
            "--republish-interval",
            "0.5",
            "--instance",
            "cli-test",
        )
        async with open_bus(private_redis.url) as bus:
            shard = FakeShard(bus, "cli-shard")
            await nursery.start(shard.run)
            orch = await nursery.start(serve, args, None)
            await wait_for(lambda: len(shard.games) == 11, 5)
            stored = await bus.hgetall(GAME_ASSIGNMENTS_HASH)
            assert set(stored) == shard.games
            tokens = await bus.hgetall(TOKEN_ASSIGNMENTS_HASH)
            assert len(tokens) == 22
            assert all(isinstance(m, MarketAssignment) for m in tokens.values())
            assert orch.stats.discoveries == 1
            nursery.cancel_scope.cancel()
