"""An event game on the shard: outcomes, the contracts that cover them, and their terms.

A binary two-team game runs as two Kalshi x Polymarket pairs (:mod:`.shard_engine`); an
assignment with ``outcomes`` and ``contracts`` (3-outcome soccer, several markets per
venue) runs as one :class:`EventGame`: every quote of its contracts goes into one event
of the native kernel (:class:`arbees.kernel.EventBatch`), and where that flags, the exact
cover search of :func:`arbees.arb.event_opportunities` sizes it over the books' depth.

Every contract's fees come from the fee terms the assignment carries for its venue
(:func:`venue_terms`), and its instrument is judged by its venue's own check: a venue the
registry knows whose fee rule is one of :data:`arbees.messages.FEE_KINDS` needs no code
here. A contract on a venue without fee terms is a refusal of the assignment.

Pure values and checks, no I/O: :func:`event_game` refuses (``ConfigError``) what the
shard cannot run, so the engine counts and reports it and runs every other game.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import attrs

from arbees.arb import Event, PairFees, VenueTerms
from arbees.errors import ArbeesError, ConfigError
from arbees.fees import KalshiFeeModel, PolymarketFeeModel, terms_model
from arbees.identifiers import INSTRUMENT_CHECKS, InstrumentChecks
from arbees.kernel import MAX_OUTCOMES, contract_index
from arbees.messages import MAX_SAME_CONTRACTS, EventContract, MarketAssignment

__all__ = [
    "EVENT_VENUES",
    "EventGame",
    "event_game",
    "instrument_problem",
    "pair_fees",
    "venue_terms",
]

EVENT_VENUES: Final = MAX_SAME_CONTRACTS
"""Kernel slots per (outcome, side) of an event: the contracts buying the same thing."""


def instrument_problem(
    venue: str, instrument: str, checks: InstrumentChecks = INSTRUMENT_CHECKS
) -> str | None:
    """Why ``instrument`` is not something ``venue``'s source can stream, or None.

    ``checks`` holds each venue's own instrument-id check (the wiring passes the
    registry's); a venue without one is refused.
    """
    accepts = checks.get(venue)
    if accepts is None:
        return f"no instrument check for venue {venue[:20]!r}"
    if not accepts(instrument):
        return f"not a {venue[:20]} instrument: {instrument[:40]!r}"
    return None


def venue_terms(assignment: MarketAssignment) -> dict[str, VenueTerms]:
    """Each venue's fee model and minimum order size, from the assignment's fee terms.

    Raises :class:`~arbees.errors.ConfigError` for any unusable terms (not a finite exact
    decimal, out of the fee models' ranges, absurdly long) — never a default: a fee that
    cannot be read must stop that game, not be guessed.
    """
    out: dict[str, VenueTerms] = {}
    for terms in assignment.fees:
        if terms.venue in out:
            raise ConfigError(f"fee terms for {terms.venue[:20]!r} twice")
        try:
            model = terms_model(terms)
            out[terms.venue] = VenueTerms(model, min_order_size=terms.min_order_size or 0)
        except ArbeesError as exc:
            raise ConfigError(f"unusable fee ({terms.venue[:20]}): {exc}") from None
        except (ArithmeticError, ValueError, TypeError) as exc:  # decimal signals, conversions
            raise ConfigError(f"unusable fee ({terms.venue[:20]}, {type(exc).__name__})") from None
    return out


def pair_fees(terms: Mapping[str, VenueTerms]) -> PairFees | None:
    """The Kalshi x Polymarket pair's fee models, when ``terms`` hold both of their kinds
    (a two-team game is that pair; None otherwise)."""
    k, p = terms.get("kalshi"), terms.get("polymarket")
    if k is None or p is None:
        return None
    if not isinstance(k.fees, KalshiFeeModel) or not isinstance(p.fees, PolymarketFeeModel):
        return None
    return PairFees(kalshi=k.fees, poly=p.fees)


@attrs.frozen(slots=True)
class EventGame:
    """An event game this shard runs.

    Attributes:
        game_id: the orchestrator's id.
        sport: league.
        event: the outcomes.
        contracts: what can be bought (the assignment's, validated).
        terms: each venue's fees and minimum order size (from the assignment's fee
            terms), for the exact search.
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
    terms: Mapping[str, VenueTerms]
    epoch: int
    slots: tuple[int, ...]
    kernel_fees: tuple[tuple[int, int], ...] | None

    def quote_keys(self) -> list[tuple[str, str]]:
        """The (venue, instrument) quotes the game reads, each once, in contract order."""
        return list(dict.fromkeys((c.venue, c.instrument) for c in self.contracts))


def event_game(
    assignment: MarketAssignment,
    terms: Mapping[str, VenueTerms],
    game_id: str,
    checks: InstrumentChecks = INSTRUMENT_CHECKS,
) -> EventGame:
    """The event game of a valid assignment; :class:`ConfigError` saying why otherwise.

    ``terms`` are the assignment's (:func:`venue_terms`): a contract on a venue without
    fee terms, or with an instrument its venue's check refuses, refuses the assignment.
    """
    problem = assignment.event_problem()
    if problem is None:
        for c in assignment.contracts:
            if c.venue not in terms:
                problem = f"no fee terms for venue {c.venue[:20]!r}"
            else:
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
    return EventGame(
        game_id=game_id,
        sport=assignment.sport,
        event=Event(assignment.outcomes),
        contracts=assignment.contracts,
        terms=dict(terms),
        epoch=assignment.epoch,
        slots=tuple(slots),
        kernel_fees=_kernel_fees(assignment.contracts, terms),
    )


def _kernel_fees(
    contracts: tuple[EventContract, ...], terms: Mapping[str, VenueTerms]
) -> tuple[tuple[int, int], ...] | None:
    """Per contract ``(k_coef, p_rate)`` by the fee rule of its venue's model (not by the
    venue's name), or None when a schedule is beyond the kernel."""
    out: list[tuple[int, int]] = []
    try:
        for c in contracts:
            model = terms[c.venue].fees
            if isinstance(model, KalshiFeeModel):
                out.append((model.kernel_coef, 0))
            elif isinstance(model, PolymarketFeeModel):
                out.append((0, model.kernel_rate))
            else:
                # A schedule the kernel has no column for (Polymarket US's higher-of-two):
                # no fee at all is a lower bound of every fee, so the prefilter may flag
                # more but never misses what the exact walk (which charges it) would find.
                out.append((0, 0))
    except ArbeesError:
        return None
    return tuple(out)
