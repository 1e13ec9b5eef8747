"""An event game on the shard: outcomes, the contracts that cover them, and their terms.

A binary two-team game runs as two Kalshi x Polymarket pairs (:mod:`.shard_engine`); an
assignment with ``outcomes`` and ``contracts`` (3-outcome soccer, several markets per
venue) runs as one :class:`EventGame`: every quote of its contracts goes into one event
of the native kernel (:class:`arbees.kernel.EventBatch`), and where that flags, the exact
cover search of :func:`arbees.arb.event_opportunities` sizes it over the books' depth.

Pure values and checks, no I/O: :func:`event_game` refuses (``ConfigError``) what the
shard cannot run, so the engine counts and reports it and runs every other game.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import attrs

from arbees.arb import Event, PairFees, VenueTerms
from arbees.errors import ArbeesError, ConfigError
from arbees.identifiers import INSTRUMENT_CHECKS, InstrumentChecks
from arbees.kernel import MAX_OUTCOMES, contract_index
from arbees.messages import MAX_SAME_CONTRACTS, EventContract, MarketAssignment

__all__ = ["EVENT_VENUES", "EventGame", "event_game", "instrument_problem"]

EVENT_VENUES: Final = MAX_SAME_CONTRACTS
"""Kernel slots per (outcome, side) of an event: the contracts buying the same thing."""
_FEE_VENUES: Final = {"kalshi": "Kalshi ticker", "polymarket": "Polymarket token id"}
"""The venues an assignment carries fee terms for, with what their instrument ids are called."""


def instrument_problem(
    venue: str, instrument: str, checks: InstrumentChecks = INSTRUMENT_CHECKS
) -> str | None:
    """Why ``instrument`` is not something ``venue``'s source can stream, or None.

    ``checks`` holds each venue's own instrument-id check (the wiring passes the
    registry's); a venue an assignment carries no fee terms for is refused.
    """
    if venue not in _FEE_VENUES:
        return f"no fee terms for venue {venue[:20]!r}"
    accepts = checks.get(venue)
    if accepts is None or not accepts(instrument):
        return f"not a {_FEE_VENUES[venue]}: {instrument[:40]!r}"
    return None


@attrs.frozen(slots=True)
class EventGame:
    """An event game this shard runs.

    Attributes:
        game_id: the orchestrator's id.
        sport: league.
        event: the outcomes.
        contracts: what can be bought (the assignment's, validated).
        fees: the fee models of the assignment (Kalshi's and Polymarket's).
        terms: each venue's fees and minimum order size, for the exact search.
        epoch: the assignment generation that gave it to us.
        slots: per contract, its index in the kernel's columns of event 0 (add
            ``e * MAX_OUTCOMES * 2 * EVENT_VENUES`` for event ``e`` of a batch).
        kernel_fees: per contract ``(k_coef, p_rate)``, or None when a schedule is beyond
            the kernel (the game is then always searched exactly).
    """

    game_id: str
    sport: str
    event: Event
    contracts: tuple[EventContract, ...]
    fees: PairFees
    terms: Mapping[str, VenueTerms]
    epoch: int
    slots: tuple[int, ...]
    kernel_fees: tuple[tuple[int, int], ...] | None

    def quote_keys(self) -> list[tuple[str, str]]:
        """The (venue, instrument) quotes the game reads, each once, in contract order."""
        return list(dict.fromkeys((c.venue, c.instrument) for c in self.contracts))


def event_game(
    assignment: MarketAssignment,
    fees: PairFees,
    game_id: str,
    checks: InstrumentChecks = INSTRUMENT_CHECKS,
) -> EventGame:
    """The event game of a valid assignment; :class:`ConfigError` saying why otherwise."""
    problem = assignment.event_problem()
    if problem is None:
        for c in assignment.contracts:
            problem = instrument_problem(c.venue, c.instrument, checks)
            if problem is not None:
                break
    if problem is not None:
        raise ConfigError(problem)
    if len(assignment.outcomes) > MAX_OUTCOMES:  # (event_problem holds the same bound)
        raise ConfigError(f"over {MAX_OUTCOMES} outcomes")
    index = {o: i for i, o in enumerate(assignment.outcomes)}
    used: dict[tuple[int, int], int] = {}
    slots = []
    for c in assignment.contracts:
        block = (index[c.outcome], 0 if c.side == "yes" else 1)
        venue = used[block] = used.get(block, -1) + 1
        slots.append(contract_index(0, block[0], block[1], venue, EVENT_VENUES))
    terms = {
        "kalshi": VenueTerms(fees.kalshi),
        "polymarket": VenueTerms(fees.poly, min_order_size=fees.poly.min_order_size or 0),
    }
    return EventGame(
        game_id=game_id,
        sport=assignment.sport,
        event=Event(assignment.outcomes),
        contracts=assignment.contracts,
        fees=fees,
        terms=terms,
        epoch=assignment.epoch,
        slots=tuple(slots),
        kernel_fees=_kernel_fees(assignment.contracts, fees),
    )


def _kernel_fees(
    contracts: tuple[EventContract, ...], fees: PairFees
) -> tuple[tuple[int, int], ...] | None:
    try:
        k, p = fees.kalshi.kernel_coef, fees.poly.kernel_rate
    except ArbeesError:
        return None
    return tuple((k, 0) if c.venue == "kalshi" else (0, p) for c in contracts)
