"""``arbees demo --venues kalshi,polymarket-us``: the simulator's games on Kalshi and
Polymarket US, read directly by the shards, with no VPN stand-in at all.

Why the demo assigns the games itself here: it runs no orchestrator (the deployed US-only
topology's pairs Polymarket US by matching); the simulator knows which markets are the
same game. Each game is assigned as two binary event games
(``arbees.services.event_game``), one per team, so the shard's covers are exactly the
simulator's pairs for that team: the team's Kalshi market (YES: the team wins; NO: it
does not) and the game's one Polymarket US market (its long side: the away team wins).
With ``--paper`` both settle by the game's fate (:meth:`EventKey.ruling`).
:func:`pair_signal` names each signal the way the simulator's truth does (game, team, the
seed's combination), so :mod:`arbees.sim.score` scores it unchanged.

Fees: the simulated Polymarket US market charges what the simulator's truth charges for
its Polymarket side (:data:`arbees.sim.books.DEFAULT_FEES`: rate 0.05, 5 contracts at
least), carried in the assignment as that venue's fee terms; the shard prices a venue's
contracts by the kind of its terms. The venue's own fee model (kind ``polymarket-us``) is
exercised end to end by ``tests/services/test_e2e_three_venues.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from arbees.arb.model import Combo
from arbees.fees import fee_terms
from arbees.messages import ArbSignal, EventContract, MarketAssignment
from arbees.settlement import Ruling
from arbees.sim.books import DEFAULT_FEES
from arbees.sim.games import SimGame

__all__ = ["US_VENUE", "EventKey", "event_assignments", "pair_signal"]

US_VENUE = "polymarket-us"
_OTHER = "other"


@attrs.frozen
class EventKey:
    """What one event game of the demo stands for.

    Attributes:
        game_id: the simulator's game id (the Kalshi event ticker).
        team: the team index (0 away, 1 home).
        team_id: the team's id (``NBA:OKC``), the simulator's key.
        instruments: ``(venue, instrument)`` of every contract, for readiness.
    """

    game_id: str
    team: int
    team_id: str
    instruments: tuple[tuple[str, str], ...]

    def ruling(self, game: Ruling) -> Ruling:
        """What the simulated game's ``game`` ruling is for this event game: a result is
        this team's outcome when the team won and the other outcome (``"other"``: the
        Kalshi NO, this team's side of the US market's other side) when it did not; a
        postponement or cancellation is the game's own, with its last prices."""
        if game.scenario != "result":
            return game
        return Ruling.result(self.team_id if game.winner == self.team_id else _OTHER)


def event_assignments(
    games: Iterable[SimGame], shard_ids: list[str]
) -> tuple[list[MarketAssignment], dict[str, EventKey]]:
    """Two event assignments per game (one per team), the games dealt over ``shard_ids``
    in turn, and what each event game id stands for."""
    fees = (
        fee_terms("kalshi", DEFAULT_FEES.kalshi),
        fee_terms(US_VENUE, DEFAULT_FEES.poly),
    )
    assignments: list[MarketAssignment] = []
    keys: dict[str, EventKey] = {}
    for n, game in enumerate(games):
        shard_id = shard_ids[n % len(shard_ids)]
        for team in (0, 1):
            team_id = game.team_ids[team]
            ticker = game.kalshi_a if team == 0 else game.kalshi_b
            # A contract names its market's YES outcome (its NO pays on the others). The
            # US market's YES is the away team winning: the home team's "other".
            us_outcome = team_id if team == 0 else _OTHER
            contracts = (
                EventContract("kalshi", ticker, team_id, "yes"),
                EventContract("kalshi", ticker, team_id, "no"),
                EventContract(US_VENUE, game.slug, us_outcome, "yes"),
                EventContract(US_VENUE, game.slug, us_outcome, "no"),
            )
            event_id = f"{game.game_id}-{'AWAY' if team == 0 else 'HOME'}"
            assignments.append(
                MarketAssignment(
                    platform="kalshi",
                    market_id=game.event_ticker,
                    token_id="",
                    shard_id=shard_id,
                    sport=game.league,
                    game_id=event_id,
                    fees=fees,
                    epoch=1,
                    outcomes=(team_id, _OTHER),
                    contracts=contracts,
                )
            )
            keys[event_id] = EventKey(
                game.game_id,
                team,
                team_id,
                (("kalshi", ticker), (US_VENUE, game.slug)),
            )
    return assignments, keys


def pair_signal(signal: ArbSignal, keys: dict[str, EventKey]) -> ArbSignal:
    """``signal`` named as the simulator's truth names its pair: the game's id, the team's
    id and the seed's combination (Polymarket US in Polymarket's place); a signal of no
    demo event is returned unchanged (and scored as false)."""
    key = keys.get(signal.game_id)
    if key is None or len(signal.legs) != 2:
        return signal
    sides: dict[str, list[str]] = {}
    for leg in signal.legs:
        side = leg.side
        if leg.venue == US_VENUE and key.team == 1:
            side = "no" if side == "yes" else "yes"  # the US market's YES is the away team
        sides.setdefault(leg.venue, []).append(side)
    if sides.get("kalshi") == ["yes"] and sides.get(US_VENUE) == ["no"]:
        combo = Combo.KALSHI_YES_POLY_NO
    elif sides.get("kalshi") == ["no"] and sides.get(US_VENUE) == ["yes"]:
        combo = Combo.POLY_YES_KALSHI_NO
    elif US_VENUE in sides and "kalshi" not in sides:
        combo = Combo.POLY_ONLY
    else:
        combo = Combo.KALSHI_ONLY
    return attrs.evolve(signal, game_id=key.game_id, team=key.team_id, combo=combo.label)
