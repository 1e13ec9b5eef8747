"""``arbees demo --paper``: every shard's paper ledger settled by the simulated games' fates.

Why: the paper ledger values each open position in every settlement scenario; the demo
shows it on a real run. Once the market has played, each game is settled on the ledger
of the shard that ran it by its :class:`~arbees.sim.fates.Fate`: a result pays the
winner's contracts; a postponement pays the Kalshi legs at their last traded price (the
simulator's final books) and leaves the Polymarket legs open until played; a cancellation
pays Kalshi at its last price and Polymarket 50-50. The summary then reports realized P&L
and the settlement-divergence exposure of what stays open, apart.

With Polymarket US (``--venues kalshi,polymarket-us``) each simulated game runs as two
binary event games, one per team (:mod:`arbees.demo.us`): both are settled by the game's
fate, each through :meth:`~arbees.demo.us.EventKey.ruling` (a result is the team's
outcome or the other one; a postponement or cancellation is the game's, Polymarket US's
legs following its own rules in :data:`arbees.settlement.DEFAULT_RULES`).

The event games are settled the same way by :func:`~arbees.sim.fates.event_fates` (a
soccer game postponed: every Kalshi leg, the tie's too, at its own last price; the total
cancelled); ``fates`` reports, per postponed or cancelled game, what its positions were
paid and what they made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arbees.demo.us import EventKey
from arbees.money import Fixed, format_fixed
from arbees.paper import PaperLedger
from arbees.services.shard import GameShard
from arbees.settlement import Ruling
from arbees.sim.books import KalshiBook
from arbees.sim.fates import Fate, event_fates, game_fates, kalshi_last_price
from arbees.sim.plan import Plan
from arbees.sim.player import MarketPlayer

__all__ = ["settle_paper"]


def _ruling(fate: Fate, plan: Plan, player: MarketPlayer) -> Ruling:
    if fate.scenario == "result":
        return Ruling.result(fate.winner)
    game = next((g for g in plan.games if g.game_id == fate.game_id), None)
    if game is not None:
        books = player.books[game.index]
        prices = {
            ("kalshi", game.kalshi_a): kalshi_last_price(books.kalshi_a),
            ("kalshi", game.kalshi_b): kalshi_last_price(books.kalshi_b),
        }
        return Ruling(fate.scenario, prices=prices)
    event = next(e for e in plan.events.events if e.game_id == fate.game_id)
    prices = {
        ("kalshi", market.instrument): kalshi_last_price(book)
        for market, book in zip(event.markets, player.event_books[event.index], strict=True)
        if isinstance(book, KalshiBook)
    }
    return Ruling(fate.scenario, prices=prices)


def _fate_report(fate: Fate, ids: tuple[str, ...], ledgers: list[PaperLedger]) -> dict[str, Any]:
    """What a postponed or cancelled game's positions (on any of its game ``ids``) were
    paid and made."""
    positions = [p for ledger in ledgers for key, p in ledger.positions.items() if key[0] in ids]
    return {
        "game_id": fate.game_id,
        "scenario": fate.scenario,
        "positions": len(positions),
        "settled": sum(1 for p in positions if p.settled),
        "paid": format_fixed(sum(p.paid for p in positions)),
        "spent": format_fixed(sum(p.spent for p in positions)),
        "realized_pnl": format_fixed(sum(p.pnl for p in positions if p.settled)),
    }


def _settled_as(fate: Fate, ruling: Ruling, events: Mapping[str, EventKey]) -> dict[str, Ruling]:
    """The ruling of every game id the ledgers hold ``fate``'s game under: the game's own
    id, or with Polymarket US its two event games'."""
    split = {event_id: key.ruling(ruling) for event_id, key in events.items()
             if key.game_id == fate.game_id}  # fmt: skip
    return split or {fate.game_id: ruling}


def settle_paper(
    plan: Plan,
    player: MarketPlayer,
    shards: list[GameShard],
    events: Mapping[str, EventKey] | None = None,
) -> dict[str, Any]:
    """Settle every shard's ledger by the games' fates; the JSON-ready paper summary.

    ``events``: what each event game stands for when the games run as event games
    (:attr:`arbees.demo.system.DemoSystem.events`, Polymarket US)."""
    ledgers: list[PaperLedger] = [s.paper.ledger for s in shards if s.paper is not None]
    fates = game_fates(plan)
    event_games = event_fates(plan)
    before = sum(ledger.divergence_exposure() for ledger in ledgers)
    ids: dict[str, tuple[str, ...]] = {}
    for fate in (*fates, *event_games):
        rulings = _settled_as(fate, _ruling(fate, plan, player), events or {})
        ids[fate.game_id] = tuple(rulings)
        for game_id, ruling in rulings.items():
            for ledger in ledgers:
                if any(key[0] == game_id for key in ledger.positions):
                    ledger.settle_game(game_id, ruling)
    realized: Fixed = sum(ledger.realized_pnl() for ledger in ledgers)
    positions = [p for ledger in ledgers for p in ledger.positions.values()]
    open_ = [p for p in positions if not p.settled]
    worst = sum(ledger.worst_case(p) - p.spent for ledger in ledgers
                for p in ledger.positions.values() if not p.settled)  # fmt: skip
    return {
        "postponed": [f.game_id for f in fates if f.scenario == "postponed"],
        "cancelled": [f.game_id for f in fates if f.scenario == "cancelled"],
        "event_postponed": [f.game_id for f in event_games if f.scenario == "postponed"],
        "event_cancelled": [f.game_id for f in event_games if f.scenario == "cancelled"],
        "fates": [
            _fate_report(f, ids[f.game_id], ledgers)
            for f in (*fates, *event_games)
            if f.scenario != "result"
        ],
        "positions": len(positions),
        "settled": len(positions) - len(open_),
        "open": len(open_),
        "fills": sum(ledger.stats.fills for ledger in ledgers),
        "realized_pnl": format_fixed(realized),
        "divergence_before_settlement": format_fixed(before),
        "divergence_exposure": format_fixed(sum(lg.divergence_exposure() for lg in ledgers)),
        "worst_case_pnl": format_fixed(worst),
        "ledgers": [ledger.summary() for ledger in ledgers],
    }
