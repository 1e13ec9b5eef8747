"""Paper handling of arbitrage signals: fills on the detection books, P&L, risk limits.

arbees places no orders. The paper ledger answers "what would these signals have earned":
see :mod:`arbees.paper.ledger` for the rules, :mod:`arbees.paper.settle` for settlement
and the scenario payouts, :mod:`arbees.paper.trader` for running it in the shard
(``arbees shard --paper``).
"""

from __future__ import annotations

from arbees.paper.ledger import Books, PaperLedger
from arbees.paper.model import (
    PAPER_RISK_LIMIT,
    Holding,
    LegFill,
    PairKey,
    PaperFill,
    PaperStats,
    PendingFill,
    Position,
    RiskLimits,
)
from arbees.paper.risk import DAY_NS, RiskGate
from arbees.paper.trader import BookSource, PaperTrader, open_paper_trader
from arbees.paper.walk import LegQuote, quote_leg

__all__ = [
    "DAY_NS",
    "PAPER_RISK_LIMIT",
    "BookSource",
    "Books",
    "Holding",
    "LegFill",
    "LegQuote",
    "PairKey",
    "PaperFill",
    "PaperLedger",
    "PaperStats",
    "PaperTrader",
    "PendingFill",
    "Position",
    "RiskGate",
    "RiskLimits",
    "open_paper_trader",
    "quote_leg",
]
