"""Live settlement: the paper ledger settled by the game states a running shard receives.

Postponed and cancelled settle each venue's legs by its rule at the last prices the shard
saw; ``ended`` settles only by a winner known without guessing (a level score in an event
with a draw), otherwise the position stays open and the summary says why.
"""

from __future__ import annotations

import time

import attrs
import trio
from paper_support import K_OKC, Clock, d, fees, ladder, signal
from test_paper_settlement import THREE_BOOKS, THREE_WAY, event_signal, filled
from test_paper_shard import K_OKC as SHARD_K_OKC
from test_paper_shard import ScriptedSource, assignment, engine, kalshi_quote, poly_quote

from arbees.bus import open_bus
from arbees.messages import GAME_ASSIGNMENTS_HASH, ArbSignal, Channel, GameState
from arbees.money import ONE
from arbees.paper import PaperLedger, PaperTrader
from arbees.paper.settle import OTHER
from arbees.services.shard import open_game_shard

PAIR = ("NBA:OKC", "NBA:SAS")
SOCCER = ("home", "draw", "away")
SLUG = "nba-okc-sas-2026-10-20"


def state(phase: str, score: str = "", ts: int = 1) -> GameState:
    return GameState(venue="polymarket", key=SLUG, phase=phase, timestamp_ms=ts, score=score)


def pair_ledger() -> tuple[PaperLedger, int]:
    """A hedged pair: 10 Kalshi YES OKC at 0.30 + 10 of SAS's token at 0.45; its spend."""
    led = PaperLedger(clock=Clock())
    fill = filled(led.on_signal(signal(10), (ladder(("0.30", 50)), ladder(("0.45", 50))), fees()))
    return led, fill.cost + fill.fees


def test_postponed_pays_kalshi_at_the_shard_price_and_keeps_polymarket_open() -> None:
    led, spent = pair_ledger()
    (position,) = led.positions.values()
    prices = {("kalshi", K_OKC): d("0.62")}
    assert led.settle_state("g1", state("postponed"), PAIR, prices) == 0  # not all paid yet
    paid = {c.venue: h.paid for c, h in position.holdings.items()}
    assert paid == {"kalshi": d("6.2"), "polymarket": None}  # scalar 10 x 0.62; open
    assert led.postponed_games == {"g1"}
    assert not position.settled
    # The relay repeats the report every 30 s: applied once.
    assert led.settle_state("g1", state("postponed", ts=2), PAIR, prices) == 0
    assert led.stats.settlements == 1
    # Then cancelled (it outranks postponed): Polymarket pays 50-50 on its open leg.
    realized = led.settle_state("g1", state("cancelled", ts=3), PAIR, {})
    assert realized == d("6.2") + d("5") - spent
    assert position.settled
    assert position.realized == realized
    assert led.stats.settlements == 2
    assert led.settle_state("g1", state("cancelled", ts=4), PAIR, {}) == 0


def test_cancelled_settles_each_venue_by_its_rule_at_once() -> None:
    led, spent = pair_ledger()
    prices = {("kalshi", K_OKC): d("0.41")}
    realized = led.settle_state("g1", state("cancelled"), PAIR, prices)
    assert realized == d("4.1") + d("5") - spent  # Kalshi scalar 10 x 0.41; Polymarket 50-50
    assert led.realized_pnl() == realized
    assert led.settled_games == {"g1"}


def test_ended_level_with_a_draw_outcome_settles_the_draw() -> None:
    led = PaperLedger(clock=Clock())
    fill = filled(led.on_signal(event_signal(*THREE_WAY), THREE_BOOKS, fees(poly_rate="0")))
    (position,) = led.positions.values()
    assert led.settle_state("ev1", state("ended", "1-1"), SOCCER, {}) == 10 * ONE - d("8.95")
    assert position.paid == 10 * ONE  # only the draw leg pays: $1 x 10
    paid = {c.outcome: h.paid for c, h in position.holdings.items()}
    assert paid == {"home": 0, "draw": 10 * ONE, "away": 0}
    assert fill.pnl == position.realized


def test_ended_without_an_unambiguous_winner_stays_open_and_says_so() -> None:
    led = PaperLedger(clock=Clock())
    filled(led.on_signal(event_signal(*THREE_WAY), THREE_BOOKS, fees(poly_rate="0")))
    (position,) = led.positions.values()
    # A leader: the report does not say which side is whose.
    assert led.settle_state("ev1", state("ended", "2-1"), SOCCER, {}) == 0
    assert not position.settled
    assert position.paid == 0
    assert "does not say which side is whose" in led.awaiting_result["ev1"]
    assert led.settle_state("ev1", state("ended", "2-1", ts=2), SOCCER, {}) == 0
    assert led.stats.awaiting_result == 1  # a repeated report is not counted again
    summary = led.summary()
    assert summary["awaiting_result"] == {"ev1": led.awaiting_result["ev1"]}
    assert summary["stats"]["settlements"] == 0
    assert "1 ended games awaiting a known result" in led.summary_line()
    # Free-form score text is not read.
    led.settle_state("ev1", state("ended", "000-000|2-0|Bo3", ts=3), SOCCER, {})
    assert "not a plain 'a-b' score" in led.awaiting_result["ev1"]
    # A person settles it; the note goes.
    assert led.settle("ev1", "away") == 10 * ONE - d("8.95")
    assert led.awaiting_result == {}


def test_a_level_score_without_a_draw_outcome_is_no_winner() -> None:
    led, _ = pair_ledger()
    assert led.settle_state("g1", state("ended", "3-3"), PAIR, {}) == 0
    assert "no 'draw' outcome" in led.awaiting_result["g1"]
    # live or scheduled never settle; a game without positions is left alone
    assert led.settle_state("g1", state("live", "3-3"), PAIR, {}) == 0
    assert led.settle_state("other", state("cancelled"), PAIR, {}) == 0
    assert led.stats.settlements == 0
    assert OTHER in next(iter(led.positions.values())).outcomes


async def test_running_shard_settles_its_ledger_from_the_game_states_it_receives() -> None:
    """A cancelled report on the bus: the shard closes the signal and settles the position,
    Kalshi's leg at the midpoint of the last Kalshi book it saw, Polymarket's at 50-50."""
    eng = engine()
    eng.games.clear()  # the shard loads its assignment from the bus
    kalshi, poly = ScriptedSource("kalshi"), ScriptedSource("polymarket")
    keyed = attrs.evolve(assignment(), game_keys={"polymarket": SLUG})
    async with open_bus("memory://") as bus:
        await bus.hset(GAME_ASSIGNMENTS_HASH, "g1", keyed)
        trader = PaperTrader(PaperLedger(), eng, bus=bus, log_interval=0)
        async with (
            bus.subscribe(Channel.SIGNALS) as signals,
            open_game_shard(bus, eng, kalshi, poly, paper=trader, heartbeat_interval=0.05),
        ):
            await kalshi.send(kalshi_quote())
            await poly.send(poly_quote())
            with trio.fail_after(5):
                opened = (await signals.receive()).message
            assert isinstance(opened, ArbSignal)
            assert opened.event == "open"
            ledger = trader.ledger
            (position,) = ledger.positions.values()
            spent = position.spent
            assert spent == 10 * ONE - d("2.07572")
            now_ms = time.time_ns() // 1_000_000
            await bus.publish(Channel.GAME_STATES, state("cancelled", ts=now_ms))
            with trio.fail_after(5):
                closed = (await signals.receive()).message
            assert isinstance(closed, ArbSignal)
            assert closed.event == "close"
            assert closed.game_state[0].phase == "cancelled"
            with trio.fail_after(5):
                while not position.settled:  # noqa: ASYNC110 - the ledger has no event to wait on
                    await trio.sleep(0.01)
            # Kalshi OKC: best YES ask 0.30, best NO ask 0.75 (a YES bid of 0.25): 0.275.
            assert eng.last_prices("g1")[("kalshi", SHARD_K_OKC)] == d("0.275")
            assert position.settled
            assert position.realized == d("2.75") + d("5") - spent
            assert ledger.settled_games == {"g1"}
