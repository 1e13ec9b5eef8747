"""The paper ledger inside a running shard: fills at detection, latency timers, alerts, CLI."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable
from typing import Any

import pytest
import trio
from paper_support import MS, d, ladder
from tests.fee_terms import pair_terms

from arbees.bus import open_bus
from arbees.cli.cmd_shard import register, settings_from_args
from arbees.errors import ConfigError
from arbees.messages import (
    GAME_ASSIGNMENTS_HASH,
    ArbSignal,
    Channel,
    MarketAssignment,
    SystemAlert,
    TeamLeg,
)
from arbees.money import ONE
from arbees.obs.metrics import Registry
from arbees.paper import (
    PAPER_RISK_LIMIT,
    PaperFill,
    PaperLedger,
    PaperTrader,
    PendingFill,
    open_paper_trader,
)
from arbees.paper import RiskLimits as Limits
from arbees.services.quotes import Quote
from arbees.services.shard import open_game_shard
from arbees.services.shard_engine import ShardEngine
from arbees.services.sources import Alive, ItemSink
from arbees.settlement import DEFAULT_RULES, Payoff
from arbees.wiring import PaperSettings, ShardSettings, build_shard

K_OKC, K_SAS = "K-OKC", "K-SAS"
KALSHI = ladder(("0.30", 10), ("0.50", 20))  # YES asks of OKC
KALSHI_NO = ladder(("0.75", 50))
POLY_OKC = ladder(("0.80", 50))  # no PolyOnly / PolyYes+KalshiNo arbitrage
POLY_NO = ladder(("0.45", 5), ("0.48", 8))  # the mirror of token 111's bids: 13 deep


def assignment() -> MarketAssignment:
    return MarketAssignment(
        platform="kalshi",
        market_id="E",
        token_id="",
        shard_id="s1",
        sport="NBA",
        game_id="g1",
        teams=(TeamLeg("NBA:OKC", K_OKC, "111"), TeamLeg("NBA:SAS", K_SAS, "222")),
        fees=pair_terms(poly_fee_rate="0.05"),
        epoch=1,
    )


def kalshi_quote(yes: Any = KALSHI) -> Quote:
    return Quote("kalshi", K_OKC, yes, KALSHI_NO, False, time.time_ns())


def poly_quote() -> Quote:
    return Quote("polymarket", "111", POLY_OKC, POLY_NO, False, time.time_ns())


def engine() -> ShardEngine:
    eng = ShardEngine("s1", max_age_ns=60 * 1_000_000_000)
    eng.apply(assignment())
    return eng


def detect(eng: ShardEngine) -> ArbSignal:
    eng.on_quote(kalshi_quote())
    (sig,) = eng.on_quote(poly_quote())
    assert sig.combo == "KalshiYes+PolyNo"
    # 10 contracts (the 0.50 Kalshi level adds nothing after fees): Kalshi 10 @ 0.30 = 3.00
    # + fee 0.15; Polymarket 5 @ 0.45 + 5 @ 0.48 = 4.65 + fee 0.124275 -> 0.12428.
    assert sig.size == 10 * ONE
    assert sig.profit == d("2.07572")
    return sig


async def test_trader_fills_at_detection_and_publishes_limit_alerts() -> None:
    eng = engine()
    ledger = PaperLedger(Limits(max_contracts_per_pair=10 * ONE))
    async with (
        open_bus("memory://") as bus,
        bus.subscribe(Channel.SYSTEM_ALERTS) as alerts,
        open_paper_trader(ledger, eng, bus=bus, log_interval=0.05) as trader,
    ):
        sig = detect(eng)
        fill = trader.submit(sig)
        assert isinstance(fill, PaperFill)
        assert fill.pnl == sig.profit
        assert trader.submit(sig) is None  # the pair is full: muted
        assert trader.submit(sig) is None
        with trio.fail_after(5):
            envelope = await alerts.receive()
        alert = envelope.message
        assert isinstance(alert, SystemAlert)
        assert alert.type == PAPER_RISK_LIMIT
        assert alert.details["limit"] == "max_contracts_per_pair"
        assert ledger.stats.muted_pair_contracts == 2
        assert ledger.stats.alerts == 1


async def test_trader_latency_fills_on_the_engine_books_seen_later() -> None:
    eng = engine()
    ledger = PaperLedger(latency_ns=100 * MS)
    async with (
        open_bus("memory://") as bus,
        open_paper_trader(ledger, eng, bus=bus, log_interval=0.05) as trader,
    ):
        sig = detect(eng)
        pending = trader.submit(sig)
        assert isinstance(pending, PendingFill)
        # the book moves before the orders arrive: the cheap Polymarket level shrinks
        later = ladder(("0.45", 1), ("0.48", 20))
        eng.on_quote(Quote("polymarket", "111", POLY_OKC, later, False, time.time_ns()))
        with trio.fail_after(5):
            while ledger.stats.fills == 0:  # noqa: ASYNC110 - the ledger has no event to wait on
                await trio.sleep(0.01)
        (position,) = ledger.positions.values()
        assert position.contracts == 10 * ONE
        # 1 @ 0.45 + 9 @ 0.48 = 4.77 + fee 0.12470, against 4.65 + 0.12428 at detection
        assert position.slippage == d("0.12042")
        assert position.mark_pnl == d("2.07572") - d("0.12042")
        assert ledger.stats.pending == 0


class ScriptedSource:
    """A quote source the test feeds by hand."""

    def __init__(self, venue: str) -> None:
        self.venue = venue
        self.out: ItemSink | None = None

    async def run(
        self,
        out: ItemSink,
        *,
        task_status: Any = trio.TASK_STATUS_IGNORED,
    ) -> None:
        self.out = out
        out(Alive(self.venue, time.time_ns()))
        task_status.started()
        await trio.sleep_forever()

    async def add(self, instruments: Iterable[str]) -> None:
        pass

    async def remove(self, instruments: Iterable[str]) -> None:
        pass

    async def send(self, quote: Quote) -> None:
        assert self.out is not None
        self.out(quote)
        await trio.lowlevel.checkpoint()


async def test_shard_with_paper_fills_each_signal_it_publishes() -> None:
    eng = engine()
    eng.games.clear()  # the shard loads its assignment from the bus
    kalshi, poly = ScriptedSource("kalshi"), ScriptedSource("polymarket")
    async with open_bus("memory://") as bus:
        await bus.hset(GAME_ASSIGNMENTS_HASH, "g1", assignment())
        trader = PaperTrader(PaperLedger(), eng, bus=bus, log_interval=0)
        async with (
            bus.subscribe(Channel.SIGNALS) as signals,
            open_game_shard(bus, eng, kalshi, poly, paper=trader, heartbeat_interval=0.05) as shard,
        ):
            await kalshi.send(kalshi_quote())
            await poly.send(poly_quote())
            with trio.fail_after(5):
                envelope = await signals.receive()
            sig = envelope.message
            assert isinstance(sig, ArbSignal)
            assert sig.event == "open"
            ledger = trader.ledger
            assert ledger.stats.fills == 1
            (position,) = ledger.positions.values()
            assert position.contracts == sig.size
            assert position.mark_pnl == sig.profit
            assert shard.status().details["paper_pnl"] == "2.07572"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(["shard", *argv])


def paper_settings(argv: list[str], environ: dict[str, str] | None = None) -> PaperSettings | None:
    return settings_from_args(parse(argv), environ or {}).paper


async def test_cli_paper_options_and_env_defaults() -> None:
    assert paper_settings([]) is None
    paper = paper_settings(
        ["--paper", "--paper-latency-ms", "20", "--max-contracts-per-pair", "50",
         "--max-exposure", "100.5", "--daily-loss-stop", "25"]
    )  # fmt: skip
    assert paper == PaperSettings(20, 50 * ONE, d("100.5"), 25 * ONE)
    # the shard built from them fills on paper with exactly those limits and latency
    async with (
        open_bus("memory://") as bus,
        build_shard(ShardSettings(paper=paper), bus, registry=Registry()) as shard,
    ):
        trader = shard.paper
        assert trader is not None
        assert trader.ledger.latency_ns == 20 * MS
        assert trader.ledger.limits == Limits(50 * ONE, d("100.5"), 25 * ONE)
    environ = {"PAPER": "true", "PAPER_MAX_EXPOSURE": "12.34", "PAPER_LATENCY_MS": "7"}
    assert paper_settings([], environ) == PaperSettings(7, max_exposure=d("12.34"))
    assert paper_settings(["--no-paper"], environ) is None
    with pytest.raises(ConfigError, match="PAPER_MAX_EXPOSURE"):
        paper_settings([], {**environ, "PAPER_MAX_EXPOSURE": "-1"})
    with pytest.raises(SystemExit):
        parse(["--max-exposure", "1e3"])
    with pytest.raises(SystemExit):
        parse(["--daily-loss-stop", "-5"])


async def test_settlement_rules_are_configurable_from_cli_and_env() -> None:
    rule = "polymarket-us:postponed=last_price"
    paper = paper_settings(["--paper", "--paper-settlement-rules", rule])
    assert paper is not None
    assert paper.settlement_rules == rule
    async with (
        open_bus("memory://") as bus,
        build_shard(ShardSettings(paper=paper), bus) as shard,
    ):
        assert shard.paper is not None
        us = shard.paper.ledger.rules["polymarket-us"]
        assert (us.postponed, us.cancelled) == (Payoff.LAST_PRICE, Payoff.FIFTY_FIFTY)
        assert shard.paper.ledger.rules["kalshi"] == DEFAULT_RULES["kalshi"]
    environ = {"PAPER": "1", "PAPER_SETTLEMENT_RULES": "kalshi:cancelled=coin_flip"}
    with pytest.raises(ConfigError, match="coin_flip"):
        paper_settings([], environ)
