"""The venue's weekly maintenance window (pure time arithmetic, no I/O).

Polymarket US announces weekly maintenance on Thursdays 02:00-06:00 US-Eastern (issue 17);
disconnects are expected then. The feed closes its sockets for the window, marks its books
stale, logs one line and reconnects when it ends, rather than reconnecting (and warning)
over and over against a venue that is down on purpose. Day, hours and zone are
configurable.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from arbees.errors import ConfigError

__all__ = ["MaintenanceWindow"]

_WEEK = timedelta(days=7)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"time zone {name!r} not found (install the 'tzdata' package if it should exist)"
        ) from None


@attrs.frozen
class MaintenanceWindow:
    """A weekly window, in a named time zone (daylight saving followed).

    Attributes:
        weekday: day the window starts (Monday 0 ... Sunday 6; Thursday is 3).
        start: local start time.
        end: local end time (after ``start``, same day).
        zone: IANA time zone name.
    """

    weekday: int = 3
    start: time = time(2, 0)
    end: time = time(6, 0)
    zone: str = "America/New_York"
    _tz: ZoneInfo = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ConfigError(f"maintenance weekday must be 0..6 (Monday..Sunday): {self.weekday}")
        if not self.start < self.end:
            raise ConfigError("maintenance window must end after it starts, on the same day")
        object.__setattr__(self, "_tz", _zone(self.zone))

    def _bounds(self, local: datetime) -> tuple[datetime, datetime]:
        """This week's window (the one starting on or before ``local``'s weekday)."""
        day = local.date() - timedelta(days=(local.weekday() - self.weekday) % 7)
        start = datetime.combine(day, self.start, self._tz)
        end = datetime.combine(day, self.end, self._tz)
        return start, end

    def active(self, now: datetime) -> bool:
        """True when the aware instant ``now`` is inside a window."""
        now = now.astimezone(UTC)
        start, end = self._bounds(now.astimezone(self._tz))
        return start <= now < end

    def seconds_until_end(self, now: datetime) -> float:
        """Seconds until the current window ends (0 when not inside one)."""
        now = now.astimezone(UTC)
        start, end = self._bounds(now.astimezone(self._tz))
        return (end - now).total_seconds() if start <= now < end else 0.0

    def seconds_until_start(self, now: datetime) -> float:
        """Seconds until the next window starts (0 when inside one)."""
        now = now.astimezone(UTC)
        start, end = self._bounds(now.astimezone(self._tz))
        if start <= now < end:
            return 0.0
        if now >= end:
            start = datetime.combine(start.date() + _WEEK, self.start, self._tz)
        return (start - now).total_seconds()
