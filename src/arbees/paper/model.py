"""Value objects of the paper ledger: limits, fills, orders in flight, positions, counters.

Why separate from the ledger: these are what callers (the shard, a notebook, tests) hold on
to and inspect; the ledger is the logic that produces them. All amounts are exact
micro-units (:mod:`arbees.money`); nothing here is ever a float.
"""

from __future__ import annotations

from typing import Final

import attrs

from arbees.book import Level
from arbees.errors import ConfigError
from arbees.messages import ArbSignal
from arbees.money import Fixed
from arbees.paper.walk import FeeModel, LegQuote
from arbees.settlement import Contract

__all__ = [
    "PAPER_RISK_LIMIT",
    "Holding",
    "LegFill",
    "PairKey",
    "PaperFill",
    "PaperStats",
    "PendingFill",
    "Position",
    "RiskLimits",
]

PAPER_RISK_LIMIT: Final = "PAPER_RISK_LIMIT"
"""``SystemAlert.type`` sent when a risk limit starts muting signals."""

PairKey = tuple[str, str, str]
"""``(game_id, team, combo)``: one hedged cover, e.g. ``("g1", "NBA:OKC", "KalshiYes+PolyNo")``;
an event cover has ``team`` ``""`` and its legs' label as ``combo``."""


def _optional_amount(
    _inst: object, attribute: attrs.Attribute[Fixed | None], value: object
) -> None:
    if value is None:
        return
    if type(value) is not int or value < 0:
        raise ConfigError(f"{attribute.name} must be micro-units >= 0 or None, got {value!r}")


@attrs.frozen(slots=True)
class RiskLimits:
    """Paper risk limits (micro-units; ``None`` = no limit).

    Attributes:
        max_contracts_per_pair: most contracts held per pair (game, team, combination),
            hedged plus unhedged plus in flight.
        max_exposure: most cash tied up across unsettled positions: notional plus fees of
            everything bought, plus orders in flight.
        daily_loss_stop: once the day's P&L (fills marked to payout, plus settlements)
            reaches minus this amount, every signal is muted until the next UTC midnight.
    """

    max_contracts_per_pair: Fixed | None = attrs.field(default=None, validator=_optional_amount)
    max_exposure: Fixed | None = attrs.field(default=None, validator=_optional_amount)
    daily_loss_stop: Fixed | None = attrs.field(default=None, validator=_optional_amount)


@attrs.frozen(slots=True)
class LegFill:
    """One leg of a paper fill.

    Attributes:
        venue: the venue id (``"kalshi"``, ``"polymarket"``, ...).
        instrument: the market ticker or token bought.
        side: ``"yes"`` or ``"no"`` of that instrument.
        size: contracts bought (0 when this leg did not fill).
        notional: cash paid before fees, rounded up to the micro-unit.
        fee: the venue fee of this one order.
        avg_price: ``notional / size`` rounded up.
        worst_price: the deepest level taken.
        slippage: (notional + fee) minus what the same size cost on the books at
            detection; positive is worse. Always 0 without simulated latency.
    """

    venue: str
    instrument: str
    side: str
    size: Fixed
    notional: Fixed
    fee: Fixed
    avg_price: Fixed
    worst_price: Fixed
    slippage: Fixed = 0

    @classmethod
    def from_quote(
        cls, venue: str, instrument: str, side: str, quote: LegQuote, slippage: Fixed = 0
    ) -> LegFill:
        return cls(
            venue=venue,
            instrument=instrument,
            side=side,
            size=quote.size,
            notional=quote.notional,
            fee=quote.fee,
            avg_price=quote.avg_price,
            worst_price=quote.worst_price,
            slippage=slippage,
        )


@attrs.frozen(slots=True)
class PaperFill:
    """A signal filled on paper.

    Attributes:
        signal_id: the signal filled.
        event: its event (``"open"`` or ``"update"``).
        key: the cover ``(game_id, team, combo)``.
        size: hedged contracts (the same on every leg; 0 when a leg got nothing).
        legs: one per leg of the signal, in its order (a binary pair: the YES leg, which
            pays if ``team`` wins, then the NO leg).
        cost: every leg's notional.
        fees: every leg's fees.
        payout: locked-in payout of the hedged contracts (``size``, i.e. $1 each) when
            the game is played to a result.
        pnl: this fill's P&L marked to payout (unhedged contracts marked at 0).
        slippage: every leg's slippage (see :class:`LegFill`).
        latency_ns: the simulated latency between detection and this fill.
        leg_risk: some leg got nothing: the legs that filled are unhedged.
        reduced: the size was cut below the signal's by depth or a risk limit.
        filled_ns: ledger clock at the fill.
    """

    signal_id: str
    event: str
    key: PairKey
    size: Fixed
    legs: tuple[LegFill, ...]
    cost: Fixed
    fees: Fixed
    payout: Fixed
    pnl: Fixed
    slippage: Fixed
    latency_ns: int
    leg_risk: bool
    reduced: bool
    filled_ns: int

    @classmethod
    def hedged(
        cls,
        signal: ArbSignal,
        quotes: tuple[LegQuote, ...],
        expected: tuple[LegQuote, ...],
        *,
        reduced: bool,
        latency_ns: int,
        filled_ns: int,
    ) -> PaperFill:
        """Every leg filled ``quotes[i].size`` (equal); ``expected``: the detection cost."""
        legs = tuple(
            _leg(signal, i, q, e) for i, (q, e) in enumerate(zip(quotes, expected, strict=True))
        )
        size = quotes[0].size
        cost = sum(q.notional for q in quotes)
        fees = sum(q.fee for q in quotes)
        return cls(
            signal_id=signal.signal_id,
            event=signal.event,
            key=(signal.game_id, signal.team, signal.combo),
            size=size,
            legs=legs,
            cost=cost,
            fees=fees,
            payout=size,
            pnl=size - cost - fees,
            slippage=sum(leg.slippage for leg in legs),
            latency_ns=latency_ns,
            leg_risk=False,
            reduced=reduced,
            filled_ns=filled_ns,
        )

    @classmethod
    def one_legged(
        cls,
        signal: ArbSignal,
        got: tuple[LegQuote, ...],
        expected: tuple[LegQuote, ...],
        *,
        latency_ns: int,
        filled_ns: int,
    ) -> PaperFill:
        """Some leg got nothing: the legs that got ``got[i].size`` are unhedged, marked at 0."""
        legs = tuple(
            _leg(signal, i, q, e) for i, (q, e) in enumerate(zip(got, expected, strict=True))
        )
        total = sum(q.total for q in got)
        return cls(
            signal_id=signal.signal_id,
            event=signal.event,
            key=(signal.game_id, signal.team, signal.combo),
            size=0,
            legs=legs,
            cost=sum(q.notional for q in got),
            fees=sum(q.fee for q in got),
            payout=0,
            pnl=-total,
            slippage=sum(leg.slippage for leg in legs),
            latency_ns=latency_ns,
            leg_risk=True,
            reduced=True,
            filled_ns=filled_ns,
        )


def _legs(
    signal: ArbSignal, quotes: tuple[LegQuote, ...], expected: tuple[LegQuote, ...]
) -> tuple[LegFill, ...]:
    pairs = zip(quotes, expected, strict=True)
    return tuple(_leg(signal, i, q, e) for i, (q, e) in enumerate(pairs))


def _leg(signal: ArbSignal, index: int, quote: LegQuote, expected: LegQuote) -> LegFill:
    leg = signal.legs[index]
    return LegFill.from_quote(
        leg.venue, leg.instrument, leg.side, quote, slippage=quote.total - expected.total
    )


@attrs.frozen(slots=True)
class PendingFill:
    """Orders sent at detection that reach the venues ``latency`` later (paper only).

    Attributes:
        signal: the signal being filled.
        key: the cover ``(game_id, team, combo)``.
        size: contracts asked on each leg.
        limits: per-leg limit prices (the worst price taken at detection).
        detected: the detection books (clean ask ladders), per leg, for slippage.
        models: each leg's fee model.
        expected: what ``size`` cost on the detection books, per leg.
        reserved: contracts and cash reserved against the limits while in flight.
        reduced: the size was cut below the signal's.
        detected_ns: ledger clock at detection.
        due_ns: when the orders arrive (``detected_ns + latency``).
    """

    signal: ArbSignal
    key: PairKey
    size: Fixed
    limits: tuple[Fixed, ...]
    detected: tuple[tuple[Level, ...], ...]
    models: tuple[FeeModel, ...]
    expected: tuple[LegQuote, ...]
    reserved: Fixed
    reduced: bool
    detected_ns: int
    due_ns: int


@attrs.define
class Holding:
    """Contracts of one instrument held in a position (mutable; owned by the ledger).

    Attributes:
        size: contracts held (hedged and unhedged).
        paid: what they were paid at settlement; None while they are open (a postponed
            game on a venue that keeps it open until played).
    """

    size: Fixed = 0
    paid: Fixed | None = None


@attrs.define
class Position:
    """What the ledger holds on one cover (mutable; owned by the ledger).

    Attributes:
        key: ``(game_id, team, combo)``.
        contracts: hedged contracts: each pays $1 whichever outcome happens, when the
            game is played to a result.
        cost: notional of the hedged contracts (every leg).
        fees: fees of the hedged contracts (every leg).
        naked: unhedged contracts per leg (a binary pair: index 0 pays if ``team`` wins,
            1 if it loses).
        naked_cost: notional of the unhedged contracts.
        naked_fees: fees of the unhedged contracts.
        fills: paper fills into this position.
        slippage: total slippage of those fills.
        leg_risk: one-legged fills.
        reserved_contracts: contracts of orders in flight.
        reserved_cash: expected cash of orders in flight.
        settled: every holding was paid; ``realized`` is final.
        realized: realized P&L (valid once settled).
        holdings: every contract held, by :class:`~arbees.settlement.Contract` (what
            settlement and the scenario payouts read).
        outcomes: every outcome the cover's legs name, filled or not (the scenarios range
            over them: a leg that got nothing still leaves its outcome uncovered).
        marked_payout: once some legs were paid (a postponed game), the payout the mark
            counts: the worst played result of what is paid and still held; None before
            (the mark counts $1 per hedged contract).
    """

    key: PairKey
    contracts: Fixed = 0
    cost: Fixed = 0
    fees: Fixed = 0
    naked: list[Fixed] = attrs.Factory(lambda: [0, 0])
    naked_cost: Fixed = 0
    naked_fees: Fixed = 0
    fills: int = 0
    slippage: Fixed = 0
    leg_risk: int = 0
    reserved_contracts: Fixed = 0
    reserved_cash: Fixed = 0
    settled: bool = False
    realized: Fixed = 0
    holdings: dict[Contract, Holding] = attrs.Factory(dict)
    outcomes: tuple[str, ...] = ()
    marked_payout: Fixed | None = None

    @property
    def payout(self) -> Fixed:
        """Locked-in payout: $1 per hedged contract, whichever side wins."""
        return self.contracts

    @property
    def spent(self) -> Fixed:
        """Cash paid for every contract held: notional plus fees, hedged and unhedged."""
        return self.cost + self.fees + self.naked_cost + self.naked_fees

    @property
    def paid(self) -> Fixed:
        """Cash already paid out on settled holdings (a scalar leg of a postponed game)."""
        return sum(h.paid for h in self.holdings.values() if h.paid is not None)

    @property
    def held(self) -> Fixed:
        """Contracts counted against ``max_contracts_per_pair`` (in flight included)."""
        return self.contracts + max(self.naked) + self.reserved_contracts

    @property
    def exposure(self) -> Fixed:
        """Cash tied up until settlement (0 once settled; orders in flight excluded)."""
        if self.settled:
            return 0
        return self.cost + self.fees + self.naked_cost + self.naked_fees

    @property
    def mark_pnl(self) -> Fixed:
        """P&L marked to payout: hedged ``payout − cost − fees``; unhedged marked at 0 (once
        legs were paid: ``marked_payout`` minus everything spent)."""
        payout = self.contracts if self.marked_payout is None else self.marked_payout
        return payout - self.spent

    @property
    def pnl(self) -> Fixed:
        """Realized P&L once settled, else the mark."""
        return self.realized if self.settled else self.mark_pnl


@attrs.define
class PaperStats:
    """Counters of the paper ledger.

    Attributes:
        signals: signals seen.
        fills: fills recorded (hedged or one-legged).
        closes_ignored: ``close`` signals (they never fill).
        muted_pair_contracts: signals muted by ``max_contracts_per_pair``.
        muted_exposure: signals muted by ``max_exposure``.
        muted_daily_loss: signals muted by the daily loss stop.
        reduced: fills cut below the signal's size (depth or limits).
        unprofitable: detections not taken: after depth/limits, profit was not positive.
        below_min_size: detections not taken: below the Polymarket minimum order size.
        missed: orders in flight that found nothing on either leg.
        leg_risk: one-legged fills.
        no_books: signals without books (game gone, quotes missing).
        rejected: malformed signals or books, signals for settled games, legs on a venue
            without settlement rules or a fee model, and rulings that could not be applied.
        rejected_levels: invalid ask levels dropped.
        pending: orders in flight right now.
        settlements: rulings applied (results, postponements, cancellations).
        awaiting_result: games that ended with open positions and no winner known
            without guessing (see :meth:`~arbees.paper.ledger.PaperLedger.settle_state`).
        alerts: risk-limit alerts raised.
    """

    signals: int = 0
    fills: int = 0
    closes_ignored: int = 0
    muted_pair_contracts: int = 0
    muted_exposure: int = 0
    muted_daily_loss: int = 0
    reduced: int = 0
    unprofitable: int = 0
    below_min_size: int = 0
    missed: int = 0
    leg_risk: int = 0
    no_books: int = 0
    rejected: int = 0
    rejected_levels: int = 0
    pending: int = 0
    settlements: int = 0
    alerts: int = 0
    awaiting_result: int = 0
