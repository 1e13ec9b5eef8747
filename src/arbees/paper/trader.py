"""Running the paper ledger inside a service: books lookup, latency timers, alerts, logs.

The ledger (:mod:`arbees.paper.ledger`) is pure; this is the part that needs Trio. The
shard calls :meth:`PaperTrader.submit` synchronously with each signal, right after its
engine produced it, so the books read from the engine are the books at detection. With a
simulated latency the orders in flight wait here until they are due, then are completed
against the books the engine holds at that moment. Risk-limit alerts are published on
``system:alerts``; a summary line is logged periodically.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import trio

from arbees.book import Level
from arbees.bus.base import Bus
from arbees.errors import BusError
from arbees.messages import ArbSignal, Channel, SystemAlert
from arbees.paper.ledger import PaperLedger, Terms
from arbees.paper.model import PaperFill, PendingFill

__all__ = ["BookSource", "PaperTrader", "open_paper_trader"]

log = logging.getLogger(__name__)


class BookSource(Protocol):
    """Where the trader reads books and fee terms (the shard's engine satisfies it)."""

    def leg_asks(self, signal: ArbSignal) -> tuple[tuple[Level, ...], ...] | None:
        """The ask ladder of each leg of ``signal`` as of now (None if unknown)."""

    def venue_terms(self, game_id: str) -> Terms | None:
        """Each venue's fee model and minimum order size for a game, by venue id (from
        its assignment's fee terms; None if the game is unknown)."""


class PaperTrader:
    """Feeds a :class:`PaperLedger` from a live shard.

    Args:
        ledger: the ledger (its ``on_alert`` is chained to publish on the bus).
        source: books and fees, e.g. the shard's ``ShardEngine``.
        bus: where ``PAPER_RISK_LIMIT`` alerts go (None: the ledger's own callback only).
        log_interval: seconds between summary log lines (0 = never).
        max_in_flight: orders in flight kept before new ones are completed at once.

    Counters: ``errors`` (unexpected failures: logged with a traceback, never raised into
    the shard) and ``dropped_alerts`` (alert queue full).
    """

    def __init__(
        self,
        ledger: PaperLedger,
        source: BookSource,
        *,
        bus: Bus | None = None,
        log_interval: float = 60.0,
        max_in_flight: int = 10_000,
    ) -> None:
        self.ledger = ledger
        self.source = source
        self.bus = bus
        self.log_interval = log_interval
        self.dropped_alerts = 0
        self.errors = 0
        self._orders_send, self._orders = trio.open_memory_channel[PendingFill](max_in_flight)
        self._alerts_send, self._alerts = trio.open_memory_channel[SystemAlert](256)
        previous = ledger.on_alert

        def chained(alert: SystemAlert) -> None:
            if previous is not None:
                previous(alert)
            self._queue_alert(alert)

        ledger.on_alert = chained

    def __repr__(self) -> str:
        return f"PaperTrader({self.ledger!r})"

    def submit(self, signal: ArbSignal) -> PaperFill | PendingFill | None:
        """Fill ``signal`` on the books as they stand now (call it at detection)."""
        try:
            books = self.source.leg_asks(signal) if signal.event != "close" else None
            terms = self.source.venue_terms(signal.game_id)
            result = self.ledger.on_signal(signal, books, terms)
        except Exception:  # paper is a side show: it must never stop detection
            self.errors += 1
            log.exception("paper: could not handle %s", signal.signal_id)
            return None
        if isinstance(result, PendingFill):
            try:
                self._orders_send.send_nowait(result)
            except trio.WouldBlock:
                log.warning("paper: too many orders in flight; %s filled now", signal.signal_id)
                return self.ledger.complete(result, self.source.leg_asks(signal))
        return result

    def _queue_alert(self, alert: SystemAlert) -> None:
        if self.bus is None:
            return
        try:
            self._alerts_send.send_nowait(alert)
        except trio.WouldBlock:
            self.dropped_alerts += 1
            log.warning("paper: alert queue full; alert dropped (%s)", alert.error)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Complete orders in flight when due, publish alerts, log summaries."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._complete_due)
            nursery.start_soon(self._publish_alerts)
            if self.log_interval > 0:
                nursery.start_soon(self._log_summaries)
            log.info("paper ledger on (latency %d ms)", self.ledger.latency_ns // 1_000_000)
            task_status.started()

    async def _complete_due(self) -> None:
        # The latency is constant, so orders come due in the order they were sent.
        async for pending in self._orders:
            delay_ns = pending.due_ns - self.ledger.clock()
            if delay_ns > 0:
                await trio.sleep(delay_ns / 1e9)
            try:
                self.ledger.complete(pending, self.source.leg_asks(pending.signal))
            except Exception:
                self.errors += 1
                log.exception("paper: could not complete %s", pending.signal.signal_id)

    async def _publish_alerts(self) -> None:
        async for alert in self._alerts:
            if self.bus is None:
                continue
            try:
                await self.bus.publish(Channel.SYSTEM_ALERTS, alert)
            except BusError as exc:
                log.warning("paper: alert not published: %s", exc)

    async def _log_summaries(self) -> None:
        while True:
            await trio.sleep(self.log_interval)
            log.info("%s", self.ledger.summary_line())


@asynccontextmanager
async def open_paper_trader(
    ledger: PaperLedger, source: BookSource, **kwargs: Any
) -> AsyncIterator[PaperTrader]:
    """Run a :class:`PaperTrader` for the duration of the block."""
    trader = PaperTrader(ledger, source, **kwargs)
    async with trio.open_nursery() as nursery:
        await nursery.start(trader.run)
        yield trader
        nursery.cancel_scope.cancel()
