"""A paper position under every settlement scenario, and its settlement.

Why apart from the ledger: the ledger fills; this applies the venues' settlement rules
(:mod:`arbees.settlement`) to what a position holds. A cover is only "locked" when every
venue settles on the same result; a postponed or cancelled game pays each venue's legs by
its own rule, so each open position shows its payout in every scenario:

* ``"<outcome> wins"`` for each outcome its contracts name (and ``"(other) wins"`` when a
  NO leg leaves outcomes unnamed): the game is played;
* ``"postponed"`` and ``"cancelled"``: each leg paid by its venue's rule; a leg its venue
  keeps open until the game is played counts at its WORST result (the rescheduled game
  may end any way);

and its worst case (the least of them). A :attr:`~arbees.settlement.Payoff.LAST_PRICE`
leg is valued at the instrument's last price known to the ledger (the latest signal or fill
price) until the venue's actual price is given to :func:`settle_position`. Everything is
exact micro-units.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

from arbees.errors import ConfigError
from arbees.messages import ArbSignal, GameState
from arbees.money import ONE, Fixed
from arbees.paper.model import Position
from arbees.settlement import (
    Contract,
    Payoff,
    Ruling,
    VenueRules,
    contract_payout,
    rules_for,
)

__all__ = [
    "DRAW",
    "OTHER",
    "contract_of",
    "cover_outcomes",
    "divergence",
    "ruling_of",
    "scenario_payouts",
    "settle_position",
    "worst_played",
    "yes_price",
]

OTHER = "(other)"
"""The outcome name standing for "none of the outcomes the position's contracts name"."""

DRAW: Final = "draw"
"""The outcome name of a tie (``("home", "draw", "away")``, see
:attr:`~arbees.messages.MarketAssignment.outcomes`)."""

Prices = Mapping[tuple[str, str], Fixed]

_SCORE: Final = re.compile(r"([0-9]{1,3})-([0-9]{1,3})")
"""A plain two-sided score, ``"1-1"``; anything else (``"000-000|2-0|Bo3"``, ``"2-2 (4-3)"``)
is free-form text arbees does not read."""


def contract_of(signal: ArbSignal, index: int) -> Contract:
    """Leg ``index`` of ``signal`` as a settlement :class:`Contract`.

    A leg that names its outcome pays on it (YES) or on any other (NO). A version-1 binary
    pair named none: its leg 0 pays if ``team`` wins and its leg 1 if it loses, whatever
    instrument (a Kalshi NO, the opponent's Polymarket token) carries it.
    """
    leg = signal.legs[index]
    if leg.outcome:
        return Contract.of(leg.venue, leg.instrument, leg.side, leg.outcome)
    return Contract(leg.venue, leg.instrument, leg.side, signal.team, pays_if=index == 0)


def cover_outcomes(signal: ArbSignal) -> tuple[str, ...]:
    """The outcomes ``signal``'s legs name (with :data:`OTHER` when a leg pays on
    "anything else"): what a position's scenarios range over."""
    contracts = [contract_of(signal, i) for i in range(len(signal.legs))]
    named = sorted({c.outcome for c in contracts})
    if any(not c.pays_if for c in contracts):
        named.append(OTHER)
    return tuple(named)


def yes_price(side: str, price: Fixed) -> Fixed:
    """The instrument's YES price implied by buying ``side`` at ``price``."""
    return price if side == "yes" else ONE - price


def outcomes(position: Position) -> list[str]:
    """The outcomes a position's scenarios range over (named ones first, sorted)."""
    named = sorted({c.outcome for c in position.holdings} | set(position.outcomes))
    if any(not c.pays_if for c in position.holdings) or OTHER in position.outcomes:
        named = [o for o in named if o != OTHER]
        named.append(OTHER)
    return named


def _payout(
    contract: Contract,
    size: Fixed,
    payoff: Payoff,
    winner: str,
    prices: Prices,
) -> Fixed | None:
    return contract_payout(
        contract,
        size,
        payoff,
        winner=winner,
        last_price=prices.get((contract.venue, contract.instrument)),
    )


def _scenario(
    position: Position, scenario: str, rules: Mapping[str, VenueRules], prices: Prices
) -> Fixed:
    """The payout if the game meets ``scenario`` (open legs at their worst result)."""
    fixed = 0
    still_open: list[tuple[Contract, Fixed]] = []
    for contract, holding in position.holdings.items():
        if holding.paid is not None:
            fixed += holding.paid
            continue
        payoff = rules_for(rules, contract.venue).payoff(scenario)
        paid = (
            None if payoff is Payoff.RESULT else _payout(contract, holding.size, payoff, "", prices)
        )
        if paid is None:
            still_open.append((contract, holding.size))
        else:
            fixed += paid
    if not still_open:
        return fixed
    return fixed + min(
        sum(contract_payout(c, size, Payoff.RESULT, winner=o) or 0 for c, size in still_open)
        for o in outcomes(position)
    )


def scenario_payouts(
    position: Position, rules: Mapping[str, VenueRules], prices: Prices
) -> dict[str, Fixed]:
    """``position``'s payout in every scenario (see the module docstring), exact."""
    out: dict[str, Fixed] = {}
    for outcome in outcomes(position):
        total = 0
        for contract, holding in position.holdings.items():
            if holding.paid is not None:
                total += holding.paid
            else:
                total += contract_payout(contract, holding.size, Payoff.RESULT, winner=outcome) or 0
        out[f"{outcome} wins"] = total
    out["postponed"] = _scenario(position, "postponed", rules, prices)
    out["cancelled"] = _scenario(position, "cancelled", rules, prices)
    return out


def worst_played(payouts: Mapping[str, Fixed]) -> Fixed:
    """The least a position pays when the game is played (over its ``"... wins"``)."""
    return min((v for k, v in payouts.items() if k.endswith(" wins")), default=0)


def divergence(payouts: Mapping[str, Fixed]) -> Fixed:
    """Settlement-divergence exposure: how far the worst scenario pays below the worst
    played result (0 when postponement and cancellation cost nothing)."""
    if not payouts:
        return 0
    return max(0, worst_played(payouts) - min(payouts.values()))


def settle_position(
    position: Position, ruling: Ruling, rules: Mapping[str, VenueRules], prices: Prices
) -> Fixed:
    """Pay every open holding of ``position`` that ``ruling`` settles; returns the cash
    paid now. A holding its venue keeps open (a postponed game) stays open. Raises
    :class:`~arbees.errors.ConfigError` (nothing paid) for a venue without rules, a
    scalar leg without a price, or a winner none of the position's outcomes.

    ``prices``: each instrument's last traded YES price, ``ruling.prices`` first.
    """
    merged = {**prices, **ruling.prices}
    if ruling.scenario == "result":
        known = outcomes(position)
        if ruling.winner not in known and OTHER not in known:
            raise ConfigError(f"winner {ruling.winner[:40]!r} is none of {known}")
    payments = []  # computed first: a missing price raises before anything is paid
    for holding_contract, holding in position.holdings.items():
        if holding.paid is not None:
            continue
        payoff = rules_for(rules, holding_contract.venue).payoff(ruling.scenario)
        paid = _payout(holding_contract, holding.size, payoff, ruling.winner, merged)
        if paid is not None:
            payments.append((holding, paid))
    for holding, paid in payments:
        holding.paid = paid
    return sum(paid for _, paid in payments)


def _ended_winner(state: GameState, outcomes: Sequence[str]) -> tuple[str, str]:
    """``(winner, "")``: the outcome an ``ended`` report decides without guessing; or
    ``("", why)`` when it decides none (see :func:`ruling_of`).
    """
    if state.phase != "ended":
        return "", f"the game is {state.phase}, not over"
    found = _SCORE.fullmatch(state.score.strip())
    if found is None:
        return "", f"ended; its score {state.score[:40]!r} is not a plain 'a-b' score"
    if int(found[1]) != int(found[2]):
        return "", f"ended {found[0]}; the report does not say which side is whose"
    if DRAW not in outcomes:
        return "", f"ended level at {found[0]}, and the event has no {DRAW!r} outcome"
    return DRAW, ""


def ruling_of(state: GameState, outcomes: Sequence[str], prices: Prices) -> Ruling | str:
    """The :class:`~arbees.settlement.Ruling` a halting report gives a game whose
    outcomes are ``outcomes``, or why it gives none (the position stays open).

    Postponed and cancelled are rulings as they stand, each venue's legs then paid by its
    rule; a scalar leg at ``prices`` (the last prices the shard saw). ``ended`` is a
    result only when the report decides its winner without guessing: a report names no
    teams and no venue documents which side of its score is whose, so a score with a
    leader never does; a level score (``"1-1"``) does when the event has a :data:`DRAW`
    outcome (extra time is only played from a level score, so a level final score was
    level at full time, what a three-way market settles on). Anything else stays open
    for a person to settle.
    """
    if state.phase in ("postponed", "cancelled"):
        return Ruling(state.phase, prices=dict(prices))
    winner, why = _ended_winner(state, outcomes)
    return Ruling.result(winner) if winner else why
