"""The paper ledger's report: a JSON-ready dict and a one-line log summary.

Why apart from the ledger: reporting is formatting only (exact decimal strings from
micro-units via :func:`arbees.money.format_fixed`, never floats), and keeping it out of the
ledger keeps the fill logic short enough to read in one sitting.

Realized P&L (settled positions) and settlement-divergence exposure (what postponement or
cancellation could cost the open positions, :func:`arbees.paper.settle.divergence`) are
reported apart: the first is money made, the second money at risk from the venues'
settlement rules alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from arbees.money import format_fixed
from arbees.paper.model import Position
from arbees.paper.settle import divergence

if TYPE_CHECKING:
    from arbees.paper.ledger import PaperLedger

__all__ = ["position_dict", "summarize", "summary_line"]


def _opt(value: int | None) -> str | None:
    return None if value is None else format_fixed(value)


def position_dict(position: Position, ledger: PaperLedger | None = None) -> dict[str, Any]:
    """One position as a JSON-ready dict (amounts as decimal strings); with its ledger,
    also its payout in every scenario, worst case and divergence (open positions)."""
    game_id, team, combo = position.key
    extra: dict[str, Any] = {}
    if ledger is not None and not position.settled:
        payouts = ledger.scenarios(position)
        worst = min(payouts.values(), default=0)
        extra = {
            "scenarios": {name: format_fixed(v) for name, v in payouts.items()},
            "worst_case": format_fixed(worst),
            "worst_case_pnl": format_fixed(worst - position.spent),
            "divergence": format_fixed(divergence(payouts)),
        }
    return {
        "game_id": game_id,
        "team": team,
        "combo": combo,
        "contracts": format_fixed(position.contracts),
        "cost": format_fixed(position.cost),
        "fees": format_fixed(position.fees),
        "payout": format_fixed(position.payout),
        "unhedged_yes": format_fixed(position.naked[0]),
        "unhedged_no": format_fixed(position.naked[1]),
        "unhedged": [format_fixed(n) for n in position.naked],
        "unhedged_cost": format_fixed(position.naked_cost + position.naked_fees),
        "exposure": format_fixed(position.exposure),
        "pnl": format_fixed(position.pnl),
        "settled": position.settled,
        "fills": position.fills,
        "leg_risk": position.leg_risk,
        "slippage": format_fixed(position.slippage),
        "in_flight": format_fixed(position.reserved_contracts),
        "paid": format_fixed(position.paid),
        **extra,
    }


def summarize(ledger: PaperLedger, daily_pnl: int, daily_stopped: bool) -> dict[str, Any]:
    """The whole ledger as a JSON-ready dict."""
    positions = list(ledger.positions.values())
    settled = [p for p in positions if p.settled]
    open_ = [p for p in positions if not p.settled]
    limits = ledger.limits
    return {
        "totals": {
            "contracts": format_fixed(sum(p.contracts for p in open_)),
            "unhedged": format_fixed(sum(max(p.naked) for p in open_)),
            "exposure": format_fixed(ledger.exposure()),
            "in_flight": format_fixed(ledger.reserved()),
            "fees": format_fixed(sum(p.fees + p.naked_fees for p in positions)),
            "mark_pnl": format_fixed(sum(p.mark_pnl for p in open_)),
            "realized_pnl": format_fixed(sum(p.realized for p in settled)),
            "divergence_exposure": format_fixed(ledger.divergence_exposure()),
            "worst_case_pnl": format_fixed(sum(ledger.worst_case(p) - p.spent for p in open_)),
            "pnl": format_fixed(ledger.pnl()),
            "daily_pnl": format_fixed(daily_pnl),
            "slippage": format_fixed(sum(p.slippage for p in positions)),
        },
        "limits": {
            "max_contracts_per_pair": _opt(limits.max_contracts_per_pair),
            "max_exposure": _opt(limits.max_exposure),
            "daily_loss_stop": _opt(limits.daily_loss_stop),
            "daily_stopped": daily_stopped,
        },
        "latency_ms": format_fixed(ledger.latency_ns),  # ns / 1e6 = ms, exactly
        "stats": attrs.asdict(ledger.stats),
        "postponed_games": sorted(ledger.postponed_games),
        "awaiting_result": dict(sorted(ledger.awaiting_result.items())),
        "settlement_rules": {
            venue: {
                "postponed": rules.postponed.value,
                "cancelled": rules.cancelled.value,
                "confirmed": rules.confirmed,
                "source": rules.source,
            }
            for venue, rules in sorted(ledger.rules.items())
        },
        "positions": [position_dict(p, ledger) for p in positions],
    }


def summary_line(ledger: PaperLedger, daily_pnl: int, daily_stopped: bool) -> str:
    """``paper: 3 pairs, 120 contracts, exposure 110.5, pnl 4.2 (today 4.2), ...``."""
    stats = ledger.stats
    muted = stats.muted_pair_contracts + stats.muted_exposure + stats.muted_daily_loss
    open_ = [p for p in ledger.positions.values() if not p.settled]
    return (
        f"paper: {len(open_)} open pairs, "
        f"{format_fixed(sum(p.contracts for p in open_))} contracts, "
        f"exposure {format_fixed(ledger.exposure())}, pnl {format_fixed(ledger.pnl())} "
        f"(realized {format_fixed(ledger.realized_pnl())}, settlement divergence "
        f"{format_fixed(ledger.divergence_exposure())}) "
        f"(today {format_fixed(daily_pnl)}{', STOPPED' if daily_stopped else ''}), "
        f"fills {stats.fills}, muted {muted}, leg risk {stats.leg_risk}, "
        f"in flight {stats.pending}"
        + (
            f", {len(ledger.awaiting_result)} ended games awaiting a known result"
            if ledger.awaiting_result
            else ""
        )
    )
