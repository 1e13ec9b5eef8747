"""The paper ledger: arbitrage signals filled on paper, positions, P&L and risk limits.

arbees places no orders. With ``--paper`` the shard still wants to know what its signals
would have earned, and what would have gone wrong: thin books, fees on small orders, a
book that moved before the orders arrived, one leg filling without the other. The ledger
answers that with the same exact arithmetic as the detector (:mod:`arbees.paper.walk`):

* ``open``/``update`` signals are filled against the ask ladders as they stood at
  detection, walking levels, the venue's whole-order fee included; ``close`` never fills;
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
from typing import Any, Final

from arbees.arb import PairFees
from arbees.book import Level
from arbees.messages import ArbSignal, SignalLeg, SystemAlert
from arbees.money import ONE, Fixed, format_fixed
from arbees.paper.model import (
    PAPER_RISK_LIMIT,
    LegFill,
    PairKey,
    PaperFill,
    PaperStats,
    PendingFill,
    Position,
    RiskLimits,
)
from arbees.paper.summary import summarize, summary_line
from arbees.paper.walk import FeeModel, LegQuote, clean_levels, depth, quote_leg

__all__ = ["DAY_NS", "PaperLedger"]

log = logging.getLogger(__name__)

DAY_NS: Final = 86_400 * 1_000_000_000
"""One UTC day in ns: the daily loss stop resets when ``clock() // DAY_NS`` changes."""

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
        self._day = clock() // DAY_NS
        self._daily_pnl = 0
        self._daily_stopped = False
        self._alerted: set[tuple[str, str]] = set()

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
        self._roll_day()
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
        if self._daily_stopped:
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
            return self._record(signal, key, quotes, quotes, size, reduced, 0, now)
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
        self._roll_day()
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
            return self._record(
                signal, pending.key, quotes, expected, hedged, reduced, latency, now
            )
        if got[0].size == 0 and got[1].size == 0:
            self.stats.missed += 1
            log.info("paper: %s: neither leg filled after latency", signal.signal_id)
            return None
        index = 0 if got[0].size > 0 else 1
        expected_one = quote_leg(pending.detected[index], got[index].size, pending.models[index])
        return self._record_leg_risk(pending, index, got[index], expected_one, now)

    # -- settlement and P&L --------------------------------------------------------------

    def settle(self, game_id: str, winner_team: str) -> Fixed:
        """Settle every pair of ``game_id``: returns the game's realized P&L.

        A hedged contract pays $1 either way; an unhedged YES leg (index 0) pays $1 if
        ``winner_team`` is its pair's team, an unhedged NO leg if it is not.
        """
        self._roll_day()
        if game_id in self.settled_games:
            log.warning("paper: game %s settled twice; ignored", game_id)
            return 0
        self.settled_games.add(game_id)
        self.stats.settlements += 1
        total = 0
        for key, position in self.positions.items():
            if key[0] != game_id or position.settled:
                continue
            won = position.naked[0] if winner_team == key[1] else position.naked[1]
            realized = position.mark_pnl + won
            position.settled = True
            position.realized = realized
            self._daily_pnl += won  # the mark already counted everything else
            total += realized
        self._alerted.discard(("max_exposure", "all"))  # exposure fell: re-arm its alert
        log.info("paper: settled %s (winner %s): realized %s", game_id, winner_team,
                 format_fixed(total))  # fmt: skip
        self._check_daily_loss()
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
        self._roll_day()
        return self._daily_pnl

    @property
    def daily_stopped(self) -> bool:
        """The daily loss stop is muting every signal until the next UTC midnight."""
        self._roll_day()
        return self._daily_stopped

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary: amounts as exact decimal strings."""
        self._roll_day()
        return summarize(self, self._daily_pnl, self._daily_stopped)

    def summary_line(self) -> str:
        """One log line with the totals."""
        self._roll_day()
        return summary_line(self, self._daily_pnl, self._daily_stopped)

    # -- internals -----------------------------------------------------------------------

    def _clean(self, levels: Sequence[Level]) -> tuple[Level, ...]:
        good, rejected = clean_levels(levels)
        self.stats.rejected_levels += rejected
        return good

    def _check(
        self, signal: ArbSignal, books: Books
    ) -> tuple[tuple[tuple[Level, ...], tuple[Level, ...]], PairKey] | None:
        problem = ""
        if len(signal.legs) != 2 or len(books) != 2:
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
        """The largest size (``size``, or a multiple of ``step``) within the exposure room."""
        cap = self.limits.max_exposure
        if cap is None:
            return size
        room = cap - self.exposure() - self.reserved()

        def cash(s: Fixed) -> Fixed:
            return (
                quote_leg(ladders[0], s, models[0]).total
                + quote_leg(ladders[1], s, models[1]).total
            )

        if cash(size) <= room:
            return size
        lo, hi = 0, (size - 1) // self.step  # cash(k * step) is non-decreasing in k
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if cash(mid * self.step) <= room:
                lo = mid
            else:
                hi = mid - 1
        if lo == 0:
            self._mute("max_exposure", "all", signal)
            return 0
        return lo * self.step

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

    def _record(
        self,
        signal: ArbSignal,
        key: PairKey,
        quotes: tuple[LegQuote, LegQuote],
        expected: tuple[LegQuote, LegQuote],
        size: Fixed,
        reduced: bool,
        latency_ns: int,
        now: int,
    ) -> PaperFill:
        legs = (
            _leg_fill(signal.legs[0], quotes[0], expected[0]),
            _leg_fill(signal.legs[1], quotes[1], expected[1]),
        )
        cost = quotes[0].notional + quotes[1].notional
        fees = quotes[0].fee + quotes[1].fee
        fill = PaperFill(
            signal_id=signal.signal_id,
            event=signal.event,
            key=key,
            size=size,
            legs=legs,
            cost=cost,
            fees=fees,
            payout=size,
            pnl=size - cost - fees,
            slippage=legs[0].slippage + legs[1].slippage,
            latency_ns=latency_ns,
            leg_risk=False,
            reduced=reduced,
            filled_ns=now,
        )
        position = self.positions[key]
        position.contracts += size
        position.cost += cost
        position.fees += fees
        self._book(position, fill)
        return fill

    def _record_leg_risk(
        self, pending: PendingFill, index: int, got: LegQuote, expected: LegQuote, now: int
    ) -> PaperFill:
        signal = pending.signal
        empty = LegQuote(size=0, notional=0, fee=0, avg_price=0, worst_price=0)
        filled = _leg_fill(signal.legs[index], got, expected)
        other = _leg_fill(signal.legs[1 - index], empty, empty)
        legs = (filled, other) if index == 0 else (other, filled)
        fill = PaperFill(
            signal_id=signal.signal_id,
            event=signal.event,
            key=pending.key,
            size=0,
            legs=legs,
            cost=got.notional,
            fees=got.fee,
            payout=0,
            pnl=-got.total,
            slippage=filled.slippage,
            latency_ns=now - pending.detected_ns,
            leg_risk=True,
            reduced=True,
            filled_ns=now,
        )
        position = self.positions[pending.key]
        position.naked[index] += got.size
        position.naked_cost += got.notional
        position.naked_fees += got.fee
        position.leg_risk += 1
        self.stats.leg_risk += 1
        log.warning("paper: LEG RISK on %s: only the %s leg filled (%s contracts, %s); "
                    "position unhedged", signal.signal_id, signal.legs[index].venue,
                    format_fixed(got.size), format_fixed(got.total))  # fmt: skip
        self._book(position, fill)
        return fill

    def _book(self, position: Position, fill: PaperFill) -> None:
        position.fills += 1
        position.slippage += fill.slippage
        self.stats.fills += 1
        self._daily_pnl += fill.pnl
        log.info("paper: filled %s %s size=%s cost=%s fees=%s pnl=%s slippage=%s",
                 fill.signal_id, fill.event, format_fixed(fill.size), format_fixed(fill.cost),
                 format_fixed(fill.fees), format_fixed(fill.pnl),
                 format_fixed(fill.slippage))  # fmt: skip
        self._check_daily_loss()

    def _check_daily_loss(self) -> None:
        stop = self.limits.daily_loss_stop
        if stop is None or self._daily_stopped or self._daily_pnl >= 0:
            return
        if -self._daily_pnl >= stop:
            self._daily_stopped = True
            self._raise_alert(
                "daily_loss_stop",
                "all",
                f"paper daily loss stop hit: P&L today {format_fixed(self._daily_pnl)} "
                f"<= -{format_fixed(stop)}; all signals muted until UTC midnight",
                value=self._daily_pnl,
                limit_value=stop,
                severity="critical",
            )

    def _roll_day(self) -> None:
        day = self.clock() // DAY_NS
        if day == self._day:
            return
        self._day = day
        if self._daily_stopped:
            log.warning("paper: new UTC day: daily loss stop reset (yesterday %s)",
                        format_fixed(self._daily_pnl))  # fmt: skip
        self._daily_pnl = 0
        self._daily_stopped = False
        self._alerted.discard(("daily_loss_stop", "all"))

    def _mute(self, kind: str, scope: str, signal: ArbSignal) -> None:
        """Count a muted signal; the first mute of a scope is reported."""
        if kind == "max_contracts_per_pair":
            self.stats.muted_pair_contracts += 1
            held = self.positions.get(_key(signal))
            value, cap = (held.held if held else 0), self.limits.max_contracts_per_pair
        elif kind == "max_exposure":
            self.stats.muted_exposure += 1
            value, cap = self.exposure() + self.reserved(), self.limits.max_exposure
        else:
            self.stats.muted_daily_loss += 1
            value, cap = self._daily_pnl, self.limits.daily_loss_stop
        log.debug("paper: %s muted by %s (%s)", signal.signal_id, kind, scope)
        self._raise_alert(
            kind,
            scope,
            f"paper risk limit {kind} hit ({scope}): {format_fixed(value)} against "
            f"{format_fixed(cap or 0)}; signals muted",
            value=value,
            limit_value=cap or 0,
        )

    def _raise_alert(
        self,
        kind: str,
        scope: str,
        text: str,
        *,
        value: Fixed,
        limit_value: Fixed,
        severity: str = "warning",
    ) -> None:
        """Log and report a limit once per (limit, scope) until it is re-armed."""
        if (kind, scope) in self._alerted:
            return
        self._alerted.add((kind, scope))
        self.stats.alerts += 1
        log.warning("paper: %s", text)
        if self.on_alert is None:
            return
        alert = SystemAlert(
            type=PAPER_RISK_LIMIT,
            service=self.service,
            error=text,
            timestamp=self.clock() // 1_000_000,
            severity=severity,
            details={
                "limit": kind,
                "scope": scope,
                "value": format_fixed(value),
                "limit_value": format_fixed(limit_value),
            },
        )
        try:
            self.on_alert(alert)
        except Exception:  # a broken reporter must not break the ledger
            log.exception("paper: alert callback failed")


def _key(signal: ArbSignal) -> PairKey:
    return (signal.game_id, signal.team, signal.combo)


def _label(key: PairKey) -> str:
    return " ".join(key)


def _model(fees: PairFees, leg: SignalLeg) -> FeeModel:
    return fees.kalshi if leg.venue == "kalshi" else fees.poly


def _leg_fill(leg: SignalLeg, quote: LegQuote, expected: LegQuote) -> LegFill:
    return LegFill.from_quote(
        leg.venue, leg.instrument, leg.side, quote, slippage=quote.total - expected.total
    )
