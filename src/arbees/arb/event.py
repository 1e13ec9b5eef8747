"""Venue-neutral arbitrage: covers of an event's outcomes, sized over every leg's depth.

An :class:`Event` is one real-world game with mutually exclusive, exhaustive outcomes (2 for
a moneyline, 3 for soccer's home/draw/away, 2 for an over/under at one line). A
:class:`Contract` is an instrument of one venue plus a side: YES on outcome ``o`` pays $1
when ``o`` happens (it covers ``{o}``), NO on ``o`` pays $1 when any other outcome happens
(it covers every outcome but ``o``).

A **cover** is a set of contracts whose covered outcome sets partition the outcomes
exactly: whatever happens, exactly one leg pays $1. Buying ``s`` of each leg for less than
``$1 × s`` after every venue's fees is a locked profit — an :class:`EventOpportunity`. For
a binary event that is three kinds of cover (YES+NO on one outcome, YES on each outcome, NO
on each outcome) and with one Kalshi market and two Polymarket tokens it reduces to the
seed's four combinations, which keep their names (:attr:`EventOpportunity.label`).

Sizing is :mod:`arbees.arb.depth`'s, over k legs instead of two, and the objective and
``min_edge`` mean the same: every leg buys the same count ``s`` (a multiple of ``step``),
walking its asks best first; each leg is one order paying its venue's whole-order fee
(:mod:`arbees.fees`); each leg is at least its venue's ``min_order_size``; the size maximizes
``profit(s) − min_edge × s`` and is reported only when that is positive. Ties go to the
smaller size. Missing asks never signal: a contract with no valid ask is in no cover.

The search is exact and prunes covers whose best asks alone reach $1 (a contract never
costs less than its best ask and fees are never negative), so a quiet book costs little.

Example::

    p = parse_fixed
    soccer = Event(("home", "draw", "away"))
    contracts = [
        Contract("kalshi", "KX-HOME", "home", "yes", (Level(p("0.40"), p("50")),)),
        Contract("polymarket", "tok-draw", "draw", "yes", (Level(p("0.25"), p("100")),)),
        Contract("polymarket", "tok-away", "away", "yes", (Level(p("0.30"), p("80")),)),
    ]
    terms = {
        "kalshi": VenueTerms(KalshiFeeModel()),
        "polymarket": VenueTerms(PolymarketFeeModel(Decimal("0.03")), min_order_size=p("5")),
    }
    best, *others = event_opportunities(soccer, contracts, terms)
    format_fixed(best.size), format_fixed(best.profit)   # ('50', '1.06375')
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Final, Literal

import attrs

from arbees.arb.depth import ArbStats, Ladder, check_args, search_size, stats
from arbees.arb.model import COMBOS
from arbees.book import Level
from arbees.errors import KernelError
from arbees.fees import FeeModel
from arbees.money import ONE, Fixed, ceil_div

__all__ = [
    "MAX_COVERS",
    "Contract",
    "Event",
    "EventLeg",
    "EventOpportunity",
    "Side",
    "VenueTerms",
    "event_opportunities",
]

Side = Literal["yes", "no"]
"""YES pays when the contract's outcome happens, NO when any other does."""

MAX_COVERS: Final = 100_000
"""Most covers sized in one call (after pruning); more is a :class:`KernelError`."""


def _outcomes(value: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str):  # tuple("ab") would be two one-letter outcomes
        raise KernelError(f"outcomes must be a sequence of names, not a string: {value!r}")
    return tuple(value)


@attrs.frozen(slots=True)
class Event:
    """One real-world game: its mutually exclusive, exhaustive outcomes.

    Attributes:
        outcomes: at least two distinct, non-empty names, e.g. ``("home", "draw", "away")``.

    Example::

        moneyline = Event(("OKC", "SAS"))
        soccer = Event(("home", "draw", "away"))
    """

    outcomes: tuple[str, ...] = attrs.field(converter=_outcomes)

    def __attrs_post_init__(self) -> None:
        if len(self.outcomes) < 2:
            raise KernelError(f"an event needs at least two outcomes: {self.outcomes!r}")
        if len(set(self.outcomes)) != len(self.outcomes):
            raise KernelError(f"outcomes must be distinct: {self.outcomes!r}")
        if not all(isinstance(o, str) and o for o in self.outcomes):
            raise KernelError(f"outcomes must be non-empty strings: {self.outcomes!r}")


@attrs.frozen(slots=True)
class Contract:
    """One side of one venue's instrument, with its asks.

    Attributes:
        venue: the venue id (a key of the terms passed to :func:`event_opportunities`).
        instrument: the venue's id of the market or token.
        outcome: the event outcome the instrument is about.
        side: ``"yes"`` (covers ``{outcome}``) or ``"no"`` (covers every other outcome).
        asks: ask levels in micro-units, any order; empty when missing (never signals).

    Example::

        # Kalshi's NO on "OKC" (a SAS win pays), 120 contracts offered at $0.31
        Contract("kalshi", "KXNBAGAME-OKC", "OKC", "no", (Level(310_000, 120 * ONE),))
    """

    venue: str
    instrument: str
    outcome: str
    side: Side
    asks: tuple[Level, ...] = ()


@attrs.frozen(slots=True)
class VenueTerms:
    """What one venue charges and accepts.

    Attributes:
        fees: the fee schedule (any :data:`~arbees.fees.FeeModel`); each leg is one order.
        min_order_size: the smallest order the venue takes, micro-units of contracts
            (0: no minimum).

    Example::

        VenueTerms(PolymarketFeeModel(Decimal("0.03")), min_order_size=5 * ONE)
    """

    fees: FeeModel
    min_order_size: Fixed = 0

    def __attrs_post_init__(self) -> None:
        if type(self.min_order_size) is not int or self.min_order_size < 0:
            raise KernelError(f"min_order_size must be micro-units >= 0: {self.min_order_size!r}")


@attrs.frozen(slots=True)
class EventLeg:
    """One order of an opportunity (micro-units).

    Attributes:
        venue: the contract's venue.
        instrument: the contract's instrument.
        outcome: the contract's outcome.
        side: the contract's side.
        size: contracts bought.
        avg_price: ``notional / size``, rounded up to the micro-unit.
        worst_price: the price of the last level touched — the limit price to use.
        notional: price × size summed over the levels walked, rounded up to the micro-unit.
        fee: the venue's fee for this whole order.

    Example::

        for leg in opportunity.legs:   # the orders to place, at these limit prices
            print(leg.venue, leg.instrument, leg.side, format_fixed(leg.worst_price))
    """

    venue: str
    instrument: str
    outcome: str
    side: Side
    size: Fixed
    avg_price: Fixed
    worst_price: Fixed
    notional: Fixed
    fee: Fixed


@attrs.frozen(slots=True)
class EventOpportunity:
    """A fee-adjusted, depth-aware cover of an event (micro-units).

    ``profit`` is exactly ``payout - cost - fees`` and is locked whichever outcome happens
    (settlement rules aside).

    Attributes:
        label: the seed's name for a binary Kalshi x Polymarket cover (``"PolyYes+KalshiNo"``,
            ``"KalshiYes+PolyNo"``, ``"PolyOnly"``, ``"KalshiOnly"``; the leg covering the first
            outcome is the seed's "Yes" leg), otherwise the legs joined by ``" + "``, each
            ``"<venue> <SIDE> <outcome>"``.
        legs: one per block of the cover, ordered by the first outcome each covers.
        size: contracts bought on EACH leg.
        cost: sum of the legs' notionals.
        fees: sum of the legs' fees.
        payout: ``size`` contracts × $1 (equal to ``size`` in micro-units).
        profit: ``payout - cost - fees``.
        edge_per_contract: ``profit / size`` in micro-dollars per contract, rounded down.

    Example::

        for opp in event_opportunities(event, contracts, terms):
            print(opp.label, format_fixed(opp.size), format_fixed(opp.profit))
    """

    label: str
    legs: tuple[EventLeg, ...]
    size: Fixed
    cost: Fixed
    fees: Fixed
    payout: Fixed
    profit: Fixed
    edge_per_contract: Fixed


_SEED_LEG_VENUES: Final = ("kalshi", "polymarket")


def _label(event: Event, legs: Sequence[Contract]) -> str:
    if len(event.outcomes) == 2 and all(c.venue in _SEED_LEG_VENUES for c in legs):
        wanted = ((legs[0].venue, "yes"), (legs[1].venue, "no"))
        for combo in COMBOS:
            if combo.legs == wanted:
                return combo.label
    return " + ".join(f"{c.venue} {c.side.upper()} {c.outcome}" for c in legs)


def event_opportunities(
    event: Event,
    contracts: Sequence[Contract],
    terms: Mapping[str, VenueTerms],
    *,
    min_edge: Fixed = 0,
    max_size: Fixed | None = None,
    step: Fixed = ONE,
    counters: ArbStats | None = None,
) -> tuple[EventOpportunity, ...]:
    """Every cover of ``event`` profitable beyond ``min_edge`` per contract, best sized.

    Args:
        event: the outcomes.
        contracts: what can be bought; no two with the same venue, instrument, outcome and
            side. Every venue must be in ``terms`` and every outcome in ``event``.
        terms: each venue's fees and minimum order size.
        min_edge: required profit per contract at the margin (micro-units, in [0, 1)), as
            in :func:`~arbees.arb.depth.find_opportunities`.
        max_size: cap on the contracts per leg (micro-units).
        step: size granularity (micro-units; default whole contracts).
        counters: where to count rejected ask levels (default: :data:`~arbees.arb.stats`).

    Returns:
        One :class:`EventOpportunity` per profitable cover, best first: highest
        ``profit − min_edge × size``, then the smaller size, then the order of the
        contracts given.

    Raises:
        KernelError: bad arguments, or more than :data:`MAX_COVERS` covers left to size.

    Example::

        found = event_opportunities(Event(("home", "away")), contracts, terms,
                                    min_edge=parse_fixed("0.01"))
        if found:
            print(found[0].label, format_fixed(found[0].profit))
    """
    check_args(min_edge, max_size, step)
    counters = stats if counters is None else counters
    index = {outcome: i for i, outcome in enumerate(event.outcomes)}
    full = (1 << len(event.outcomes)) - 1
    seen: set[tuple[str, str, str, str]] = set()
    blocks: dict[int, list[tuple[Contract, Ladder]]] = {}
    for c in contracts:
        key = (c.venue, c.instrument, c.outcome, c.side)
        if key in seen:
            raise KernelError(f"contract given twice: {key!r}")
        seen.add(key)
        if c.venue not in terms:
            raise KernelError(f"no terms for venue {c.venue!r}")
        if c.outcome not in index or c.side not in ("yes", "no"):
            raise KernelError(f"contract outside the event: {key!r}")
        what = f"{c.instrument} {c.side.upper()} {c.outcome}"  # for the invalid-level log
        ladder = Ladder(c.venue, what, c.asks, terms[c.venue].fees, counters)
        if not ladder.depth:
            continue  # missing asks never signal
        bit = 1 << index[c.outcome]
        blocks.setdefault(bit if c.side == "yes" else full ^ bit, []).append((c, ladder))
    found: list[tuple[int, int, int, EventOpportunity]] = []
    for n, cover in enumerate(_covers(blocks, full, min_edge)):
        if n >= MAX_COVERS:
            raise KernelError(f"more than {MAX_COVERS} covers to size; give fewer contracts")
        opp = _size(event, cover, terms, min_edge, max_size, step, counters)
        if opp is not None:
            found.append((-(opp.profit * ONE - min_edge * opp.size), opp.size, n, opp))
    found.sort(key=lambda item: item[:3])
    return tuple(item[3] for item in found)


def _covers(
    blocks: dict[int, list[tuple[Contract, Ladder]]], full: int, min_edge: int
) -> Iterator[list[tuple[Contract, Ladder]]]:
    """Every choice of one contract per block of every exact partition of ``full``, skipping
    those whose best asks plus ``min_edge`` already reach $1."""
    chosen: list[tuple[Contract, Ladder]] = []

    def extend(covered: int, best: int) -> Iterator[list[tuple[Contract, Ladder]]]:
        if covered == full:
            yield list(chosen)
            return
        low = ~covered & (covered + 1)  # the first outcome not covered yet
        for mask, options in blocks.items():
            if not mask & low or mask & covered:
                continue
            for option in options:
                total = best + option[1].prices[0]
                if total + min_edge >= ONE:
                    continue
                chosen.append(option)
                yield from extend(covered | mask, total)
                chosen.pop()

    yield from extend(0, 0)


def _size(
    event: Event,
    cover: list[tuple[Contract, Ladder]],
    terms: Mapping[str, VenueTerms],
    min_edge: int,
    max_size: int | None,
    step: int,
    counters: ArbStats,
) -> EventOpportunity | None:
    ladders = [ladder for _, ladder in cover]
    min_size = max(step, *(terms[c.venue].min_order_size for c, _ in cover))
    cap = min(ladder.depth for ladder in ladders)
    if max_size is not None:
        cap = min(cap, max_size)
    k_lo, k_hi = ceil_div(min_size, step), cap // step
    if k_hi < k_lo:
        return None
    best_k = search_size(ladders, k_lo, k_hi, step, min_edge, counters)
    if best_k is None:
        return None
    s = best_k * step
    legs = []
    for c, ladder in cover:
        notional12, raw, worst = ladder.fill(s)
        legs.append(
            EventLeg(
                venue=c.venue,
                instrument=c.instrument,
                outcome=c.outcome,
                side=c.side,
                size=s,
                avg_price=ceil_div(notional12, s),
                worst_price=worst,
                notional=ceil_div(notional12, ONE),
                fee=ladder.model.round_raw(raw),
            )
        )
    cost = sum(leg.notional for leg in legs)
    fees = sum(leg.fee for leg in legs)
    profit = s - cost - fees
    return EventOpportunity(
        label=_label(event, [c for c, _ in cover]),
        legs=tuple(legs),
        size=s,
        cost=cost,
        fees=fees,
        payout=s,
        profit=profit,
        edge_per_contract=profit * ONE // s,
    )
