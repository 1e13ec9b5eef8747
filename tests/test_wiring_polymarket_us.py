"""A shard reads Polymarket US directly: ``SHARD_VENUES``, its key from settings, its feed
built through the registry, never through the VPN route or the egress check."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
import trio
from cryptography.hazmat.primitives.asymmetric import ed25519

import arbees.wiring.build as build_module
from arbees.bus import open_bus
from arbees.cli import build_parser, cmd_shard
from arbees.errors import ConfigError
from arbees.messages import GAME_ASSIGNMENTS_HASH, EventContract, FeeTerms, MarketAssignment
from arbees.polymarket_us.feed import PolymarketUsFeed
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.fake_polymarket_us import FakePolymarketUs
from arbees.wiring import ShardSettings, build_shard
from arbees.wsdriver import Backoff
from tests.services.e2e_support import game_assignments

KEY_ID = "pmus-key-id-0123456789"
SEED = bytes(range(32))  # a fixed, obviously fake key
K_MARKET = "KXNBAGAME-26DEC06OKCSAS-OKC"
US_MARKET = "aec-nba-okc-sas-2026-12-06"


def _key_file(tmp_path: Path, mode: int = 0o600) -> Path:
    path = tmp_path / "pmus.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(base64.b64encode(SEED).decode())
    os.chmod(path, mode)
    return path


def test_default_venues_are_unchanged() -> None:
    assert ShardSettings().venues == ("kalshi", "polymarket")
    assert ShardSettings.from_env({}).venues == ("kalshi", "polymarket")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("polymarket,polymarket-us", "reads kalshi"),
        ("kalshi,betfair", "unknown shard venue 'betfair'"),
        ("kalshi,polymarket,polymarket", "each once"),
        ("kalshi", "at least one other"),
    ],
)
def test_bad_shard_venues_are_named(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match="SHARD_VENUES") as info:
        ShardSettings.from_env({"SHARD_VENUES": value})
    assert message in str(info.value)


def test_the_real_venue_needs_a_key_a_fake_on_loopback_does_not() -> None:
    with pytest.raises(ConfigError, match="POLYMARKET_US_KEY_ID"):
        ShardSettings.from_env({"SHARD_VENUES": "kalshi,polymarket-us"})
    local = ShardSettings.from_env(
        {"SHARD_VENUES": "kalshi,polymarket-us", "POLYMARKET_US_WS_URL": "ws://127.0.0.1:9/x"}
    )
    assert local.polymarket_us_signer is None
    with pytest.raises(ConfigError, match="ws"):
        ShardSettings(venues=("kalshi", "polymarket-us"), polymarket_us_ws_url="http://x")


def test_a_us_only_shard_needs_no_egress_check(tmp_path: Path) -> None:
    environ = {
        "SHARD_VENUES": " Kalshi , polymarket-us ",
        "POLYMARKET_VIA_REDIS": "false",  # irrelevant without polymarket: no route at all
        "POLYMARKET_US_KEY_ID": KEY_ID,
        "POLYMARKET_US_PRIVATE_KEY_PATH": str(_key_file(tmp_path)),
    }
    settings = ShardSettings.from_env(environ)
    assert settings.venues == ("kalshi", "polymarket-us")
    assert settings.egress is None
    signer = settings.polymarket_us_signer
    assert signer is not None
    headers = signer.headers("GET", "/v1/ws/markets", timestamp_ms=1)
    assert headers["X-PM-Access-Key"] == KEY_ID
    # the secrets stay inside: neither the key id nor the key in the settings' repr
    text = repr(settings)
    assert KEY_ID not in text
    assert base64.b64encode(SEED).decode() not in text
    assert "redacted" in text


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    environ = {
        "SHARD_VENUES": "kalshi,polymarket-us",
        "POLYMARKET_US_KEY_ID": KEY_ID,
        "POLYMARKET_US_PRIVATE_KEY_PATH": str(_key_file(tmp_path, 0o644)),
    }
    with pytest.raises(ConfigError, match="chmod 600") as info:
        ShardSettings.from_env(environ)
    assert KEY_ID not in str(info.value)


def test_a_shard_without_polymarket_us_never_reads_its_key(tmp_path: Path) -> None:
    environ = {"POLYMARKET_US_KEY_ID": KEY_ID, "POLYMARKET_US_PRIVATE_KEY_PATH": "/nonexistent"}
    assert ShardSettings.from_env(environ).polymarket_us_signer is None


def _event() -> MarketAssignment:
    contracts = (
        EventContract("kalshi", K_MARKET, "okc", "yes"),
        EventContract("kalshi", K_MARKET, "sas", "no"),
        EventContract("polymarket-us", US_MARKET, "okc", "yes"),
        EventContract("polymarket-us", US_MARKET, "sas", "no"),
    )
    return MarketAssignment(
        platform="kalshi",
        market_id="KXNBAGAME-26DEC06OKCSAS",
        token_id="",
        shard_id="s1",
        sport="NBA",
        game_id="okc-sas",
        fees=(
            FeeTerms("kalshi", "kalshi", multiplier="1"),
            FeeTerms("polymarket-us", "polymarket-us", rate="0.05"),
        ),
        epoch=1,
        outcomes=("okc", "sas"),
        contracts=contracts,
    )


async def test_build_shard_reads_polymarket_us_directly_with_a_signed_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_route(**_: Any) -> Any:
        raise AssertionError("Polymarket US must not take the VPN route or the egress check")

    monkeypatch.setattr(build_module, "open_polymarket_route", no_route)
    private = ed25519.Ed25519PrivateKey.from_private_bytes(SEED)
    us = FakePolymarketUs(public_key=private.public_key(), key_id=KEY_ID, heartbeat_interval=0.2)
    us.set_book(US_MARKET, bids=[("0.55", "10")], offers=[("0.58", "10")])
    kalshi = FakeKalshi(require_auth=False)
    kalshi.set_book(K_MARKET, yes=[("0.40", 10)], no=[("0.50", 10)])
    async with trio.open_nursery() as nursery, open_bus("memory://") as bus:
        k_urls = await nursery.start(kalshi.run)
        us_urls = await nursery.start(us.run)
        await bus.hset(GAME_ASSIGNMENTS_HASH, "okc-sas", _event())
        # a two-team Kalshi x Polymarket game: this shard reads no Polymarket
        pair = game_assignments("s1")[0]
        await bus.hset(GAME_ASSIGNMENTS_HASH, pair.game_id, pair)
        environ = {
            "SHARD_ID": "s1",
            "SHARD_VENUES": "kalshi,polymarket-us",
            "KALSHI_WS_URL": k_urls.ws_url,
            "POLYMARKET_US_WS_URL": us_urls.ws_url,
            "POLYMARKET_US_KEY_ID": KEY_ID,
            "POLYMARKET_US_PRIVATE_KEY_PATH": str(_key_file(tmp_path)),
            "POLYMARKET_US_MAINTENANCE": "off",
        }
        settings = ShardSettings.from_env(environ, reconnect=Backoff(base=0.05, cap=0.2))
        async with build_shard(settings, bus) as shard:
            assert set(shard.sources) == {"kalshi", "polymarket-us"}
            assert shard.polymarket is None
            feed = shard.sources["polymarket-us"].feed  # type: ignore[attr-defined]
            assert isinstance(feed, PolymarketUsFeed)
            assert feed.maintenance is None
            await nursery.start(shard.run)
            with trio.fail_after(5):
                await us.subscribed.wait()
                while shard.engine._quotes.get(("polymarket-us", US_MARKET)) is None:  # noqa: ASYNC110
                    await trio.sleep(0.01)
            quote = shard.engine._quotes[("polymarket-us", US_MARKET)]
            assert [level[0] for level in quote.yes_asks][:1] == [580_000]
            assert us.rejected_upgrades == 0  # the signature covered /v1/ws/markets
            assert shard.engine.game_ids() == ["okc-sas"]
            # ... refused and counted, the other game running
            assert shard.stats.rejected_assignments == 1
            kalshi_feed = shard.sources["kalshi"].feed  # type: ignore[attr-defined]
            assert set(kalshi_feed.protocol.wanted) == {K_MARKET}
        nursery.cancel_scope.cancel()


def test_arbees_shard_takes_venues_and_refuses_a_bad_set(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["shard", "--venues", "kalshi,polymarket-us", "--shard-id", "s9"]
    args = build_parser().parse_args(argv)
    environ = {"POLYMARKET_US_WS_URL": "ws://127.0.0.1:1/v1/ws/markets"}
    settings = cmd_shard.settings_from_args(args, environ)
    assert (settings.shard_id, settings.venues) == ("s9", ("kalshi", "polymarket-us"))
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["shard", "--venues", "polymarket"])
    assert info.value.code == 2
    assert "reads kalshi" in capsys.readouterr().err  # a usage error, not a traceback
