"""Counted, logged-once, alerted rejections of bad inputs, shared by the services.

A service that meets a record it cannot use (a poisoned assignment, an unreadable fee, a
heartbeat from the future) skips that one record and keeps serving every other. The operator
must still learn about it, but a hostile or stuck publisher repeating the same bad record
must not turn into a flood of logs and alerts: every rejection is counted; each distinct
``(kind, key)`` is logged and alerted once (the memory of what was reported is bounded);
and each kind sends at most ``alerts_per_window`` alerts per ``window`` seconds, the rest
only counted (one log line says that alerts are being held back).
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict

import trio

from arbees.bus.base import Bus
from arbees.errors import BusError
from arbees.messages import Channel, SystemAlert, now_ms

__all__ = ["Rejections"]

log = logging.getLogger(__name__)

_KEY_CHARS = 100
_TEXT_CHARS = 300


def shorten(text: str, limit: int = _KEY_CHARS) -> str:
    """``text`` cut to ``limit`` characters (hostile keys can be megabytes long)."""
    return text if len(text) <= limit else f"{text[:limit]}...({len(text)} chars)"


class Rejections:
    """Counts rejections by kind; logs and alerts each distinct one once.

    Args:
        bus: where alerts go (``Channel.SYSTEM_ALERTS``).
        service: the ``service`` field of the alerts.
        memory: distinct ``(kind, key)`` pairs remembered as already reported.
        alerts_per_window: alerts of one kind sent per ``window`` seconds at most.
        window: seconds.
    """

    def __init__(
        self,
        bus: Bus,
        service: str,
        *,
        memory: int = 4096,
        alerts_per_window: int = 20,
        window: float = 60.0,
    ) -> None:
        self.bus = bus
        self.service = service
        self.memory = memory
        self.alerts_per_window = alerts_per_window
        self.window = window
        self.counts: Counter[str] = Counter()
        self.alerts_sent = 0
        self._reported: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._windows: dict[str, tuple[float, int]] = {}
        self._once: set[str] = set()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __repr__(self) -> str:
        return f"Rejections({self.service!r}, {dict(self.counts)})"

    async def reject(self, kind: str, key: str, reason: str, *, severity: str = "warning") -> None:
        """Count one rejection; log and alert it unless ``(kind, key)`` was reported."""
        self.counts[kind] += 1
        short_key = shorten(key)
        seen = (kind, short_key)
        if seen in self._reported:
            self._reported.move_to_end(seen)
            return
        self._reported[seen] = None
        if len(self._reported) > self.memory:
            self._reported.popitem(last=False)
        text = shorten(f"{short_key}: {reason}", _TEXT_CHARS)
        log.warning("%s rejected %s", kind, text)
        if self._allow_alert(kind):
            await self.alert(kind, text, severity=severity, details={"key": short_key})

    async def once(self, kind: str, text: str, *, severity: str = "critical") -> None:
        """Count one refusal of ``kind``; log and alert only the first of the process (a
        limit reached: the count tells the rest)."""
        self.counts[kind] += 1
        if kind in self._once:
            return
        self._once.add(kind)
        log.error("%s: %s", kind, text)
        await self.alert(kind, text, severity=severity, details=None)

    async def alert(
        self, kind: str, text: str, *, severity: str = "warning", details: dict[str, str] | None
    ) -> None:
        """Publish one alert (a bus failure only logs: alerts are best effort)."""
        alert = SystemAlert(kind, self.service, text, now_ms(), severity, details or {})
        try:
            await self.bus.publish(Channel.SYSTEM_ALERTS, alert)
            self.alerts_sent += 1
        except BusError as exc:
            log.warning("could not publish alert %s: %s", kind, exc)

    def _allow_alert(self, kind: str) -> bool:
        now = trio.current_time()
        start, sent = self._windows.get(kind, (now, 0))
        if now - start >= self.window:
            start, sent = now, 0
        self._windows[kind] = (start, sent + 1)
        if sent < self.alerts_per_window:
            return True
        if sent == self.alerts_per_window:
            log.warning(
                "%s: more than %d alerts in %ss; counting the rest without alerting",
                kind,
                self.alerts_per_window,
                self.window,
            )
        return False
