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
* a hedged pair pays $1 per contract whichever team wins, so its P&L is locked at
  ``payout − cost − fees``; :meth:`PaperLedger.settle` makes it realized (and pays or
  voids the unhedged legs);
* risk limits (:class:`~arbees.paper.model.RiskLimits`) cut sizes and, once exhausted,
  MUTE signals: counted, logged, and reported once per scope as a ``PAPER_RISK_LIMIT``
  :class:`~arbees.messages.SystemAlert` through ``on_alert``.

Pure logic: no I/O, no trio; the clock (wall ns, for the UTC day of the loss stop) is
injected. :mod:`arbees.paper.trader` runs it inside the shard.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from arbees.arb import PairFees
from arbees.book import Level
from arbees.messages import COMBOS, ArbSignal, SignalLeg, SystemAlert
from arbees.money import ONE, Fixed, format_fixed
from arbees.paper.model import (
    PairKey,
    PaperFill,
    PaperStats,
    PendingFill,
    Position,
    RiskLimits,
)
from arbees.paper.risk import RiskGate
from arbees.paper.summary import summarize, summary_line
from arbees.paper.walk import FeeModel, LegQuote, clean_levels, depth, largest_size, quote_leg

__all__ = ["Books", "PaperLedger"]

log = logging.getLogger(__name__)

_PAIR_VENUES = ("kalshi", "polymarket")

Books = Sequence[Sequence[Level]]
"""Ask ladders per leg of a signal, in the signal's leg order (best first)."""


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
        self.positions: dict[PairKey, Position] = {}
        self.settled_games: set[str] = set()
        self.risk = RiskGate(self.limits, self.stats, clock=clock, emit=self._emit, service=service)

    def __repr__(self) -> str:
        return (
            f"PaperLedger(positions={len(self.positions)}, fills={self.stats.fills}, "
            f"pnl={format_fixed(self.pnl())})"
        )

    # -- signals -----------------------------------------------------------------------

    def on_signal(
        self, signal: ArbSignal, books: Books | None, fees: PairFees | None
    ) -> PaperFill | PendingFill | None:
        """Fill ``signal`` on the ask ladders ``books`` (one per leg, as at detection).

        Returns the fill, the orders in flight (with a latency: complete them with
        :meth:`complete` once ``due_ns`` has passed), or None when nothing was filled
        (close, muted, unprofitable, bad input — each counted).
        """
        self.risk.roll()
        self.stats.signals += 1
        if signal.event == "close":
            self.stats.closes_ignored += 1
            return None
        if books is None or fees is None:
            self.stats.no_books += 1
            log.info("paper: no books for %s; not filled", signal.signal_id)
            return None
        checked = self._check(signal, books)
        if checked is None:
            return None
        ladders, key = checked
        models = (_model(fees, signal.legs[0]), _model(fees, signal.legs[1]))
        if self.risk.stopped:
            self._mute("daily_loss_stop", "all", signal)
            return None
        position = self.positions.get(key)
        if position is None:
            position = Position(key)
        size = min(signal.size, depth(ladders[0]), depth(ladders[1]))
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
        quotes = (quote_leg(ladders[0], size, models[0]), quote_leg(ladders[1], size, models[1]))
        if not self._worth_taking(signal, fees, quotes, size):
            return None
        if reduced:
            self.stats.reduced += 1
        self.positions[key] = position
        now = self.clock()
        if self.latency_ns == 0:
            fill = PaperFill.hedged(
                signal, quotes, quotes, reduced=reduced, latency_ns=0, filled_ns=now
            )
            return self._record(fill)
        reserved = quotes[0].total + quotes[1].total
        position.reserved_contracts += size
        position.reserved_cash += reserved
        self.stats.pending += 1
        return PendingFill(
            signal=signal,
            key=key,
            size=size,
            limits=(quotes[0].worst_price, quotes[1].worst_price),
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
        size is what BOTH legs got. A leg that got nothing leaves the other leg unhedged (a
        leg-risk event). Slippage is measured against the detection books.
        """
        self.risk.roll()
        position = self.positions[pending.key]
        position.reserved_contracts -= pending.size
        position.reserved_cash -= pending.reserved
        self.stats.pending -= 1
        signal = pending.signal
        if pending.key[0] in self.settled_games:
            self.stats.rejected += 1
            log.warning("paper: %s arrived after its game settled; dropped", signal.signal_id)
            return None
        later: tuple[tuple[Level, ...], tuple[Level, ...]] = ((), ())
        if books is not None and len(books) == 2:
            later = (self._clean(books[0]), self._clean(books[1]))
        got = tuple(
            quote_leg(later[i], pending.size, pending.models[i], limit=pending.limits[i])
            for i in (0, 1)
        )
        now = self.clock()
        hedged = min(got[0].size, got[1].size)
        if hedged > 0:
            quotes = (
                quote_leg(later[0], hedged, pending.models[0], limit=pending.limits[0]),
                quote_leg(later[1], hedged, pending.models[1], limit=pending.limits[1]),
            )
            expected = (
                quote_leg(pending.detected[0], hedged, pending.models[0]),
                quote_leg(pending.detected[1], hedged, pending.models[1]),
            )
            reduced = pending.reduced or hedged < pending.size
            latency = now - pending.detected_ns
            fill = PaperFill.hedged(
                signal, quotes, expected, reduced=reduced, latency_ns=latency, filled_ns=now
            )
            return self._record(fill)
        if got[0].size == 0 and got[1].size == 0:
            self.stats.missed += 1
            log.info("paper: %s: neither leg filled after latency", signal.signal_id)
            return None
        index = 0 if got[0].size > 0 else 1
        expected_one = quote_leg(pending.detected[index], got[index].size, pending.models[index])
        fill = PaperFill.one_legged(
            signal,
            index,
            got[index],
            expected_one,
            latency_ns=now - pending.detected_ns,
            filled_ns=now,
        )
        return self._record_leg_risk(fill, index)

    # -- settlement and P&L --------------------------------------------------------------

    def settle(self, game_id: str, winner_team: str) -> Fixed:
        """Settle every pair of ``game_id``: returns the game's realized P&L.

        A hedged contract pays $1 either way; an unhedged YES leg (index 0) pays $1 if
        ``winner_team`` is its pair's team, an unhedged NO leg if it is not.
        """
        self.risk.roll()
        if game_id in self.settled_games:
            log.warning("paper: game %s settled twice; ignored", game_id)
            return 0
        self.settled_games.add(game_id)
        self.stats.settlements += 1
        total = gained = 0
        for key, position in self.positions.items():
            if key[0] != game_id or position.settled:
                continue
            won = position.naked[0] if winner_team == key[1] else position.naked[1]
            realized = position.mark_pnl + won
            position.settled = True
            position.realized = realized
            gained += won  # the mark already booked everything else
            total += realized
        self.risk.rearm("max_exposure", "all")  # exposure fell
        log.info("paper: settled %s (winner %s): realized %s", game_id, winner_team,
                 format_fixed(total))  # fmt: skip
        self.risk.book(gained)
        return total

    def exposure(self) -> Fixed:
        """Cash tied up in unsettled positions (orders in flight excluded)."""
        return sum(p.exposure for p in self.positions.values())

    def reserved(self) -> Fixed:
        """Expected cash of orders in flight."""
        return sum(p.reserved_cash for p in self.positions.values())

    def pnl(self) -> Fixed:
        """Total P&L: realized for settled pairs, marked to payout for the others."""
        return sum(p.pnl for p in self.positions.values())

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
        self, signal: ArbSignal, books: Books
    ) -> tuple[tuple[tuple[Level, ...], tuple[Level, ...]], PairKey] | None:
        problem = ""
        if signal.combo not in COMBOS or any(leg.venue not in _PAIR_VENUES for leg in signal.legs):
            # Settling an event cover (3 outcomes, other venues) needs per-outcome
            # positions the ledger does not keep yet: refused, counted, never guessed.
            problem = f"event cover {signal.combo[:80]!r}: paper settles binary pairs only"
        elif len(signal.legs) != 2 or len(books) != 2:
            problem = "needs exactly two legs and two books"
        elif type(signal.size) is not int or signal.size <= 0:
            problem = f"bad size {signal.size!r}"
        elif signal.game_id in self.settled_games:
            problem = "its game already settled"
        if problem:
            self.stats.rejected += 1
            log.warning("paper: signal %s rejected: %s", signal.signal_id, problem)
            return None
        ladders = (self._clean(books[0]), self._clean(books[1]))
        return ladders, (signal.game_id, signal.team, signal.combo)

    def _exposure_cap(
        self,
        signal: ArbSignal,
        ladders: tuple[tuple[Level, ...], tuple[Level, ...]],
        models: tuple[FeeModel, FeeModel],
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
        self, signal: ArbSignal, fees: PairFees, quotes: tuple[LegQuote, LegQuote], size: Fixed
    ) -> bool:
        minimum = fees.poly.min_order_size
        if minimum and size < minimum and any(leg.venue == "polymarket" for leg in signal.legs):
            self.stats.below_min_size += 1
            log.info("paper: %s cut to %s, below the Polymarket minimum order; not filled",
                     signal.signal_id, format_fixed(size))  # fmt: skip
            return False
        profit = size - quotes[0].total - quotes[1].total
        if profit <= 0:
            self.stats.unprofitable += 1
            log.info("paper: %s at size %s would not profit after fees (%s); not filled",
                     signal.signal_id, format_fixed(size), format_fixed(profit))  # fmt: skip
            return False
        return True

    def _record(self, fill: PaperFill) -> PaperFill:
        position = self.positions[fill.key]
        position.contracts += fill.size
        position.cost += fill.cost
        position.fees += fill.fees
        self._book(position, fill)
        return fill

    def _record_leg_risk(self, fill: PaperFill, index: int) -> PaperFill:
        position = self.positions[fill.key]
        leg = fill.legs[index]
        position.naked[index] += leg.size
        position.naked_cost += leg.notional
        position.naked_fees += leg.fee
        position.leg_risk += 1
        self.stats.leg_risk += 1
        log.warning("paper: LEG RISK on %s: only the %s leg filled (%s contracts, %s); "
                    "position unhedged", fill.signal_id, leg.venue, format_fixed(leg.size),
                    format_fixed(leg.notional + leg.fee))  # fmt: skip
        self._book(position, fill)
        return fill

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


def _model(fees: PairFees, leg: SignalLeg) -> FeeModel:
    return fees.kalshi if leg.venue == "kalshi" else fees.poly
