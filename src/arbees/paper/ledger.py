"""The paper ledger: arbitrage signals filled on paper, positions, P&L and risk limits.

arbees places no orders. With ``--paper`` the shard still wants to know what its signals
would have earned, and what would have gone wrong: thin books, fees on small orders, a
book that moved before the orders arrived, one leg filling without the other. The ledger
answers that with the same exact arithmetic as the detector (:mod:`arbees.paper.walk`):

* ``open``/``update`` signals are filled against the ask ladders as they stood at
  detection, walking levels, the venue's whole-order fee included; ``close`` never fills;
* an ``update`` is a fresh detection and fills again: paper fills do not deplete the
  venue books the engine sees, so bound repeated fills with ``max_contracts_per_pair``;
* both legs fill the SAME size (the signal's, cut by depth and by the risk limits); a size
  cut that leaves no profit after fees is not taken (counted ``unprofitable``);
* with a simulated latency the orders (limit = the worst price taken at detection) meet the
  books as they are ``latency`` later: the hedged size is what both legs got, slippage is
  recorded against the detection books, and a leg that gets nothing leaves the other one
  unhedged — a "leg risk" event, marked at 0 until the game settles;
* every cover is accepted: a binary Kalshi x Polymarket pair or an event cover of any
  number of legs over any venues that have fee terms and settlement rules (a venue
  without them is refused, counted, never guessed); every leg fills the same size. Each
  leg is priced by its venue's :class:`~arbees.arb.VenueTerms` (the fee model and
  minimum order size the game's assignment carries, :func:`arbees.fees.terms_model`), so
  a Polymarket US leg fills like any other;
* a hedged cover pays $1 per contract whichever outcome happens when the game is played,
  so its mark is ``payout − cost − fees``; a postponed or cancelled game pays each
  venue's legs by that venue's rule (:mod:`arbees.settlement`), so every open position
  also shows its payout in each scenario and its worst case (:mod:`arbees.paper.settle`);
  :meth:`PaperLedger.settle_game` settles by a :class:`~arbees.settlement.Ruling` (a leg
  kept open until the game is played stays open), and the P&L becomes realized once
  every leg is paid; a running shard calls :meth:`PaperLedger.settle_state` with each
  game's folded state: postponed and cancelled settle at once, ``ended`` only when the
  report decides the winner without guessing (:func:`~arbees.paper.settle.ruling_of`),
  else the position stays open and ``awaiting_result`` says why;
* risk limits (:class:`~arbees.paper.model.RiskLimits`) cut sizes and, once exhausted,
  MUTE signals: counted, logged, and reported once per scope as a ``PAPER_RISK_LIMIT``
  :class:`~arbees.messages.SystemAlert` through ``on_alert``.

Pure logic: no I/O, no trio; the clock (wall ns, for the UTC day of the loss stop) is
injected. :mod:`arbees.paper.trader` runs it inside the shard.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from arbees.arb import VenueTerms
from arbees.book import Level
from arbees.errors import ConfigError
from arbees.messages import ArbSignal, GameState, SystemAlert
from arbees.money import ONE, Fixed, format_fixed
from arbees.paper.model import (
    Holding,
    PairKey,
    PaperFill,
    PaperStats,
    PendingFill,
    Position,
    RiskLimits,
)
from arbees.paper.risk import RiskGate
from arbees.paper.settle import (
    contract_of,
    cover_outcomes,
    divergence,
    ruling_of,
    scenario_payouts,
    settle_position,
    worst_played,
    yes_price,
)
from arbees.paper.summary import summarize, summary_line
from arbees.paper.walk import FeeModel, LegQuote, clean_levels, depth, largest_size, quote_leg
from arbees.settlement import DEFAULT_RULES, Ruling, VenueRules

__all__ = ["Books", "PaperLedger", "Terms"]

log = logging.getLogger(__name__)

Ladders = tuple[tuple[Level, ...], ...]

Books = Sequence[Sequence[Level]]
"""Ask ladders per leg of a signal, in the signal's leg order (best first)."""

Terms = Mapping[str, VenueTerms]
"""Each venue's fee model and minimum order size by venue id (a game's fee terms)."""


class PaperLedger:
    """Fills signals on paper and keeps positions, P&L and risk limits.

    Args:
        limits: the risk limits.
        latency_ns: simulated latency between detection and the orders' arrival; 0 fills
            at once on the detection books.
        clock: wall clock in ns (injectable; its UTC day drives the daily loss stop).
        on_alert: called with a ``PAPER_RISK_LIMIT`` alert when a limit starts muting.
        step: size granularity when a limit cuts a size (default whole contracts).
        service: ``SystemAlert.service`` of the alerts.
        rules: settlement rules by venue id (default
            :data:`~arbees.settlement.DEFAULT_RULES`); a signal with a leg on a venue
            without rules is refused.
    """

    def __init__(
        self,
        limits: RiskLimits | None = None,
        *,
        latency_ns: int = 0,
        clock: Callable[[], int] = time.time_ns,
        on_alert: Callable[[SystemAlert], None] | None = None,
        step: Fixed = ONE,
        service: str = "shard",
        rules: Mapping[str, VenueRules] = DEFAULT_RULES,
    ) -> None:
        if type(latency_ns) is not int or latency_ns < 0:
            raise ValueError(f"latency_ns must be an int >= 0: {latency_ns!r}")
        if type(step) is not int or step <= 0:
            raise ValueError(f"step must be micro-units > 0: {step!r}")
        self.limits = limits or RiskLimits()
        self.latency_ns = latency_ns
        self.clock = clock
        self.on_alert = on_alert
        self.step = step
        self.service = service
        self.stats = PaperStats()
        self.rules = dict(rules)
        self.positions: dict[PairKey, Position] = {}
        self.settled_games: set[str] = set()
        self.postponed_games: set[str] = set()
        self.last_prices: dict[tuple[str, str], Fixed] = {}
        self.awaiting_result: dict[str, str] = {}
        """Games that ended with open positions but no winner known without guessing:
        why, by game id (they stay open until :meth:`settle_game`)."""
        self.risk = RiskGate(self.limits, self.stats, clock=clock, emit=self._emit, service=service)

    def __repr__(self) -> str:
        return (
            f"PaperLedger(positions={len(self.positions)}, fills={self.stats.fills}, "
            f"pnl={format_fixed(self.pnl())})"
        )

    # -- signals -----------------------------------------------------------------------

    def on_signal(
        self, signal: ArbSignal, books: Books | None, terms: Terms | None
    ) -> PaperFill | PendingFill | None:
        """Fill ``signal`` on the ask ladders ``books`` (one per leg, as at detection),
        each leg priced by ``terms`` of its venue (the game's fee terms by venue id).

        Returns the fill, the orders in flight (with a latency: complete them with
        :meth:`complete` once ``due_ns`` has passed), or None when nothing was filled
        (close, muted, unprofitable, bad input — each counted).
        """
        self.risk.roll()
        self.stats.signals += 1
        if signal.event == "close":
            self.stats.closes_ignored += 1
            return None
        if books is None or terms is None:
            self.stats.no_books += 1
            log.info("paper: no books for %s; not filled", signal.signal_id)
            return None
        checked = self._check(signal, books, terms)
        if checked is None:
            return None
        ladders, key = checked
        models = tuple(terms[leg.venue].fees for leg in signal.legs)
        self._note_prices(signal)
        if self.risk.stopped:
            self._mute("daily_loss_stop", "all", signal)
            return None
        position = self.positions.get(key)
        if position is None:
            position = Position(key, naked=[0] * len(signal.legs), outcomes=cover_outcomes(signal))
        size = min(signal.size, *(depth(ladder) for ladder in ladders))
        cap = self.limits.max_contracts_per_pair
        if cap is not None:
            room = cap - position.held
            if room <= 0:
                self._mute("max_contracts_per_pair", _label(key), signal)
                return None
            size = min(size, room)
        if size <= 0:
            self.stats.missed += 1
            log.info("paper: %s found no depth on a leg; not filled", signal.signal_id)
            return None
        size = self._exposure_cap(signal, ladders, models, size)
        if size <= 0:
            return None  # muted (counted, reported) by _exposure_cap
        reduced = size < signal.size
        quotes = tuple(quote_leg(lad, size, m) for lad, m in zip(ladders, models, strict=True))
        if not self._worth_taking(signal, terms, quotes, size):
            return None
        if reduced:
            self.stats.reduced += 1
        self.positions[key] = position
        now = self.clock()
        if self.latency_ns == 0:
            fill = PaperFill.hedged(
                signal, quotes, quotes, reduced=reduced, latency_ns=0, filled_ns=now
            )
            return self._record(fill, signal)
        reserved = sum(q.total for q in quotes)
        position.reserved_contracts += size
        position.reserved_cash += reserved
        self.stats.pending += 1
        return PendingFill(
            signal=signal,
            key=key,
            size=size,
            limits=tuple(q.worst_price for q in quotes),
            detected=ladders,
            models=models,
            expected=quotes,
            reserved=reserved,
            reduced=reduced,
            detected_ns=now,
            due_ns=now + self.latency_ns,
        )

    def complete(self, pending: PendingFill, books: Books | None) -> PaperFill | None:
        """Fill orders in flight on the books as they are now (``latency`` after detection).

        Each leg takes up to ``pending.size`` at prices no worse than its limit; the hedged
        size is what EVERY leg got. A leg that got nothing leaves the others unhedged (a
        leg-risk event). Slippage is measured against the detection books.
        """
        self.risk.roll()
        position = self.positions[pending.key]
        position.reserved_contracts -= pending.size
        position.reserved_cash -= pending.reserved
        self.stats.pending -= 1
        signal = pending.signal
        if pending.key[0] in self.settled_games or pending.key[0] in self.postponed_games:
            self.stats.rejected += 1
            log.warning("paper: %s arrived after its game settled or was postponed; dropped",
                        signal.signal_id)  # fmt: skip
            return None
        legs = range(len(pending.limits))
        later: Ladders = tuple(() for _ in legs)
        if books is not None and len(books) == len(pending.limits):
            later = tuple(self._clean(book) for book in books)
        got = tuple(
            quote_leg(later[i], pending.size, pending.models[i], limit=pending.limits[i])
            for i in legs
        )
        now = self.clock()
        hedged = min(q.size for q in got)
        if hedged > 0:
            quotes = tuple(
                quote_leg(later[i], hedged, pending.models[i], limit=pending.limits[i])
                for i in legs
            )
            expected = tuple(
                quote_leg(pending.detected[i], hedged, pending.models[i]) for i in legs
            )
            reduced = pending.reduced or hedged < pending.size
            latency = now - pending.detected_ns
            fill = PaperFill.hedged(
                signal, quotes, expected, reduced=reduced, latency_ns=latency, filled_ns=now
            )
            return self._record(fill, signal)
        if all(q.size == 0 for q in got):
            self.stats.missed += 1
            log.info("paper: %s: no leg filled after latency", signal.signal_id)
            return None
        expected_got = tuple(
            quote_leg(pending.detected[i], got[i].size, pending.models[i]) for i in legs
        )
        fill = PaperFill.one_legged(
            signal, got, expected_got, latency_ns=now - pending.detected_ns, filled_ns=now
        )
        return self._record_leg_risk(fill, signal)

    # -- settlement and P&L --------------------------------------------------------------

    def settle(self, game_id: str, winner_team: str) -> Fixed:
        """Settle every position of ``game_id`` played to a result: ``winner_team`` (an
        outcome) happened. Returns the realized P&L of the positions settled now.

        A hedged contract pays $1 whoever wins; an unhedged leg pays $1 when its contract
        does (a binary pair's leg 0 if ``winner_team`` is its team, leg 1 if not).
        """
        return self.settle_game(game_id, Ruling.result(winner_team))

    def settle_game(self, game_id: str, ruling: Ruling) -> Fixed:
        """Settle every position of ``game_id`` by ``ruling`` (a result, a postponement or
        a cancellation), each leg by its venue's rule: returns the realized P&L of the
        positions fully settled now.

        A leg its venue keeps open (Polymarket's rule for a postponed game) stays held
        until a later ruling (the rescheduled game's result) settles it. A scalar leg is
        paid at ``ruling.prices`` or, failing that, the last price the ledger saw. A ruling
        that cannot be applied (a scalar leg without any price) is refused, counted and
        logged; nothing is paid.
        """
        self.risk.roll()
        if game_id in self.settled_games:
            log.warning("paper: game %s settled twice; ignored", game_id)
            return 0
        positions = [p for k, p in self.positions.items() if k[0] == game_id and not p.settled]
        snapshot = [{c: h.paid for c, h in p.holdings.items()} for p in positions]
        try:
            paid = [settle_position(p, ruling, self.rules, self.last_prices) for p in positions]
        except ConfigError as exc:
            for position, before in zip(positions, snapshot, strict=True):
                for contract, holding in position.holdings.items():
                    holding.paid = before[contract]
            self.stats.rejected += 1
            log.error("paper: cannot settle %s as %s: %s", game_id, ruling.scenario, exc)
            return 0
        if ruling.scenario == "postponed":
            self.postponed_games.add(game_id)
        else:
            self.settled_games.add(game_id)
            self.postponed_games.discard(game_id)
            self.awaiting_result.pop(game_id, None)
        self.stats.settlements += 1
        total = gained = 0
        for position, now in zip(positions, paid, strict=True):
            if any(h.paid is None for h in position.holdings.values()):
                if now:  # re-mark at the worst played result of what it now holds
                    old_mark = position.mark_pnl
                    position.marked_payout = worst_played(self.scenarios(position))
                    gained += position.mark_pnl - old_mark
                log.info("paper: %s %s: %s paid now, the rest stays open until played",
                         " ".join(position.key), ruling.scenario, format_fixed(now))  # fmt: skip
                continue
            realized = position.paid - position.spent
            gained += realized - position.mark_pnl  # the fills booked the mark already
            position.settled = True
            position.realized = realized
            total += realized
        self.risk.rearm("max_exposure", "all")  # exposure fell
        log.info("paper: settled %s (%s%s): realized %s", game_id, ruling.scenario,
                 f" {ruling.winner}" if ruling.winner else "", format_fixed(total))  # fmt: skip
        self.risk.book(gained)
        return total

    def settle_state(
        self,
        game_id: str,
        state: GameState,
        outcomes: Sequence[str],
        prices: Mapping[tuple[str, str], Fixed],
    ) -> Fixed:
        """Settle ``game_id`` (outcomes ``outcomes``) by its folded game state, if it
        halts the game and the ledger holds positions of it: returns the P&L realized now.

        Postponed and cancelled settle each venue's legs by its rule, a scalar leg at
        ``prices`` (the last prices the caller saw; else the ledger's own). ``ended``
        settles only when :func:`~arbees.paper.settle.ruling_of` finds the winner without
        guessing; otherwise the positions stay open and :attr:`awaiting_result` (and the
        summary) say why. A ruling already applied (a report repeated) is not applied again.
        """
        if not state.halted or game_id in self.settled_games:
            return 0
        if state.phase == "postponed" and game_id in self.postponed_games:
            return 0
        if not any(k[0] == game_id and not p.settled for k, p in self.positions.items()):
            return 0
        ruling = ruling_of(state, outcomes, prices)
        if isinstance(ruling, str):
            if self.awaiting_result.get(game_id) != ruling:
                self.stats.awaiting_result += 1
                log.warning("paper: %s %s: positions stay open (%s)", game_id, state.phase,
                            ruling)  # fmt: skip
            self.awaiting_result[game_id] = ruling
            return 0
        self.awaiting_result.pop(game_id, None)
        return self.settle_game(game_id, ruling)

    def scenarios(self, position: Position) -> dict[str, Fixed]:
        """``position``'s payout in every scenario: each outcome wins, postponed,
        cancelled (see :mod:`arbees.paper.settle`)."""
        return scenario_payouts(position, self.rules, self.last_prices)

    def worst_case(self, position: Position) -> Fixed:
        """The least ``position`` pays in any scenario (its payout once settled)."""
        if position.settled:
            return position.paid
        return min(self.scenarios(position).values(), default=0)

    def divergence_exposure(self) -> Fixed:
        """Over open positions: how far postponement or cancellation can pay below the
        worst played result (what the venues' settlement rules put at risk)."""
        return sum(divergence(self.scenarios(p)) for p in self.positions.values() if not p.settled)

    def exposure(self) -> Fixed:
        """Cash tied up in unsettled positions (orders in flight excluded)."""
        return sum(p.exposure for p in self.positions.values())

    def reserved(self) -> Fixed:
        """Expected cash of orders in flight."""
        return sum(p.reserved_cash for p in self.positions.values())

    def pnl(self) -> Fixed:
        """Total P&L: realized for settled positions, marked to payout for the others."""
        return sum(p.pnl for p in self.positions.values())

    def realized_pnl(self) -> Fixed:
        """P&L of the settled positions only."""
        return sum(p.realized for p in self.positions.values() if p.settled)

    @property
    def daily_pnl(self) -> Fixed:
        """P&L booked today (UTC): fills marked to payout, plus settlement gains."""
        self.risk.roll()
        return self.risk.daily_pnl

    @property
    def daily_stopped(self) -> bool:
        """The daily loss stop is muting every signal until the next UTC midnight."""
        self.risk.roll()
        return self.risk.stopped

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary: amounts as exact decimal strings."""
        self.risk.roll()
        return summarize(self, self.risk.daily_pnl, self.risk.stopped)

    def summary_line(self) -> str:
        """One log line with the totals."""
        self.risk.roll()
        return summary_line(self, self.risk.daily_pnl, self.risk.stopped)

    # -- internals -----------------------------------------------------------------------

    def _clean(self, levels: Sequence[Level]) -> tuple[Level, ...]:
        good, rejected = clean_levels(levels)
        self.stats.rejected_levels += rejected
        return good

    def _check(
        self, signal: ArbSignal, books: Books, terms: Terms
    ) -> tuple[Ladders, PairKey] | None:
        problem = ""
        venues = {leg.venue for leg in signal.legs}
        if len(signal.legs) < 2 or len(books) != len(signal.legs):
            problem = "needs two legs or more and one book per leg"
        elif unruled := sorted(v for v in venues if v not in self.rules):
            problem = f"no settlement rules for venue {unruled[0][:40]!r}"
        elif unpriced := sorted(v for v in venues if v not in terms):
            problem = f"no fee terms for venue {unpriced[0][:40]!r}"
        elif type(signal.size) is not int or signal.size <= 0:
            problem = f"bad size {signal.size!r}"
        elif signal.game_id in self.settled_games:
            problem = "its game already settled"
        elif signal.game_id in self.postponed_games:
            problem = "its game is postponed (legs partly settled; no new fills)"
        if problem:
            self.stats.rejected += 1
            log.warning("paper: signal %s rejected: %s", signal.signal_id, problem)
            return None
        return tuple(self._clean(book) for book in books), _key(signal)

    def _exposure_cap(
        self,
        signal: ArbSignal,
        ladders: Ladders,
        models: tuple[FeeModel, ...],
        size: Fixed,
    ) -> Fixed:
        """``size`` cut to the exposure room (a multiple of ``step``); 0 = muted."""
        cap = self.limits.max_exposure
        if cap is None:
            return size
        room = cap - self.exposure() - self.reserved()
        size = largest_size(ladders, models, size, room, self.step)
        if size == 0:
            self._mute("max_exposure", "all", signal)
        return size

    def _worth_taking(
        self, signal: ArbSignal, terms: Terms, quotes: tuple[LegQuote, ...], size: Fixed
    ) -> bool:
        short = sorted({leg.venue for leg in signal.legs if size < terms[leg.venue].min_order_size})
        if short:
            self.stats.below_min_size += 1
            log.info("paper: %s cut to %s, below the minimum order of %s; not filled",
                     signal.signal_id, format_fixed(size), short[0][:40])  # fmt: skip
            return False
        profit = size - sum(q.total for q in quotes)
        if profit <= 0:
            self.stats.unprofitable += 1
            log.info("paper: %s at size %s would not profit after fees (%s); not filled",
                     signal.signal_id, format_fixed(size), format_fixed(profit))  # fmt: skip
            return False
        return True

    def _record(self, fill: PaperFill, signal: ArbSignal) -> PaperFill:
        position = self.positions[fill.key]
        position.contracts += fill.size
        position.cost += fill.cost
        position.fees += fill.fees
        self._hold(position, fill, signal)
        self._book(position, fill)
        return fill

    def _record_leg_risk(self, fill: PaperFill, signal: ArbSignal) -> PaperFill:
        position = self.positions[fill.key]
        for index, leg in enumerate(fill.legs):
            if leg.size == 0:
                continue
            position.naked[index] += leg.size
            position.naked_cost += leg.notional
            position.naked_fees += leg.fee
            log.warning("paper: LEG RISK on %s: leg %d (%s) filled without the others "
                        "(%s contracts, %s); position unhedged", fill.signal_id, index,
                        leg.venue, format_fixed(leg.size),
                        format_fixed(leg.notional + leg.fee))  # fmt: skip
        position.leg_risk += 1
        self.stats.leg_risk += 1
        self._hold(position, fill, signal)
        self._book(position, fill)
        return fill

    def _hold(self, position: Position, fill: PaperFill, signal: ArbSignal) -> None:
        """Add each leg's contracts to the position's holdings (what settlement pays)."""
        for index, leg in enumerate(fill.legs):
            if leg.size == 0:
                continue
            contract = contract_of(signal, index)
            position.holdings.setdefault(contract, Holding()).size += leg.size
            self.last_prices[(leg.venue, leg.instrument)] = yes_price(leg.side, leg.avg_price)

    def _note_prices(self, signal: ArbSignal) -> None:
        """Each leg's price is the latest known price of its instrument (what a scalar
        settlement is valued at until the venue's own last price is known)."""
        for leg in signal.legs:
            if 0 < leg.price < ONE:
                self.last_prices[(leg.venue, leg.instrument)] = yes_price(leg.side, leg.price)

    def _book(self, position: Position, fill: PaperFill) -> None:
        position.fills += 1
        position.slippage += fill.slippage
        self.stats.fills += 1
        log.info("paper: filled %s %s size=%s cost=%s fees=%s pnl=%s slippage=%s",
                 fill.signal_id, fill.event, format_fixed(fill.size), format_fixed(fill.cost),
                 format_fixed(fill.fees), format_fixed(fill.pnl),
                 format_fixed(fill.slippage))  # fmt: skip
        self.risk.book(fill.pnl)

    def _emit(self, alert: SystemAlert) -> None:
        if self.on_alert is None:
            return
        try:
            self.on_alert(alert)
        except Exception:  # a broken reporter must not break the ledger
            log.exception("paper: alert callback failed")

    def _mute(self, kind: str, scope: str, signal: ArbSignal) -> None:
        if kind == "max_contracts_per_pair":
            held = self.positions.get(_key(signal))
            value, cap = (held.held if held else 0), self.limits.max_contracts_per_pair
        elif kind == "max_exposure":
            value, cap = self.exposure() + self.reserved(), self.limits.max_exposure
        else:
            value, cap = self.risk.daily_pnl, self.limits.daily_loss_stop
        self.risk.mute(kind, scope, signal.signal_id, value, cap)


def _key(signal: ArbSignal) -> PairKey:
    return (signal.game_id, signal.team, signal.combo)


def _label(key: PairKey) -> str:
    return " ".join(key)
