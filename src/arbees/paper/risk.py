"""The paper ledger's risk bookkeeping: the UTC day's P&L, the loss stop, mutes, alerts.

Why apart from the ledger: the ledger decides sizes and fills; this decides what a limit
being hit means for reporting — a muted signal is counted every time, but reported (log
line and ``PAPER_RISK_LIMIT`` :class:`~arbees.messages.SystemAlert`) once per limit and
scope until the scope is re-armed (a new UTC day for the loss stop, a settlement for the
exposure), so a busy shard does not flood ``system:alerts``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from arbees.messages import SystemAlert
from arbees.money import Fixed, format_fixed
from arbees.paper.model import PAPER_RISK_LIMIT, PaperStats, RiskLimits

__all__ = ["DAY_NS", "RiskGate"]

log = logging.getLogger(__name__)

DAY_NS: Final = 86_400 * 1_000_000_000
"""One UTC day in ns: the daily loss stop resets when ``clock() // DAY_NS`` changes."""

_COUNTERS: Final = {
    "max_contracts_per_pair": "muted_pair_contracts",
    "max_exposure": "muted_exposure",
    "daily_loss_stop": "muted_daily_loss",
}


class RiskGate:
    """Daily P&L and the loss stop, muted-signal counters, once-per-scope alerts.

    Args:
        limits: the ledger's limits.
        stats: the ledger's counters (``muted_*`` and ``alerts`` are kept here).
        clock: wall clock in ns (its UTC day drives the loss stop).
        emit: where alerts go (the ledger forwards to its ``on_alert``).
        service: ``SystemAlert.service``.
    """

    def __init__(
        self,
        limits: RiskLimits,
        stats: PaperStats,
        *,
        clock: Callable[[], int],
        emit: Callable[[SystemAlert], None],
        service: str,
    ) -> None:
        self.limits = limits
        self.stats = stats
        self.clock = clock
        self.emit = emit
        self.service = service
        self.day = clock() // DAY_NS
        self.daily_pnl: Fixed = 0
        self.stopped = False
        self._alerted: set[tuple[str, str]] = set()

    def roll(self) -> None:
        """Start a new day (P&L 0, loss stop lifted) when the UTC date changed."""
        day = self.clock() // DAY_NS
        if day == self.day:
            return
        self.day = day
        if self.stopped:
            log.warning("paper: new UTC day: daily loss stop lifted (yesterday %s)",
                        format_fixed(self.daily_pnl))  # fmt: skip
        self.daily_pnl = 0
        self.stopped = False
        self.rearm("daily_loss_stop", "all")

    def book(self, pnl: Fixed) -> None:
        """Add P&L booked now to the day's, and trip the loss stop if it is reached."""
        self.daily_pnl += pnl
        stop = self.limits.daily_loss_stop
        if stop is None or self.stopped or self.daily_pnl >= 0 or -self.daily_pnl < stop:
            return
        self.stopped = True
        self._alert(
            "daily_loss_stop",
            "all",
            f"paper daily loss stop hit: P&L today {format_fixed(self.daily_pnl)} "
            f"<= -{format_fixed(stop)}; all signals muted until UTC midnight",
            value=self.daily_pnl,
            limit_value=stop,
            severity="critical",
        )

    def mute(self, kind: str, scope: str, signal_id: str, value: Fixed, cap: Fixed | None) -> None:
        """Count a signal muted by ``kind`` (a :class:`RiskLimits` field); report it once."""
        counter = _COUNTERS[kind]
        setattr(self.stats, counter, getattr(self.stats, counter) + 1)
        log.debug("paper: %s muted by %s (%s)", signal_id, kind, scope)
        self._alert(
            kind,
            scope,
            f"paper risk limit {kind} hit ({scope}): {format_fixed(value)} against "
            f"{format_fixed(cap or 0)}; signals muted",
            value=value,
            limit_value=cap or 0,
        )

    def rearm(self, kind: str, scope: str) -> None:
        """Report the next hit of this limit and scope again."""
        self._alerted.discard((kind, scope))

    def _alert(
        self,
        kind: str,
        scope: str,
        text: str,
        *,
        value: Fixed,
        limit_value: Fixed,
        severity: str = "warning",
    ) -> None:
        if (kind, scope) in self._alerted:
            return
        self._alerted.add((kind, scope))
        self.stats.alerts += 1
        log.warning("paper: %s", text)
        self.emit(
            SystemAlert(
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
        )
