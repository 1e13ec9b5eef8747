"""The US-Eastern time zone, where Kalshi dates its game tickers.

Loaded lazily so a machine without the IANA database fails with a clear
:class:`~arbees.errors.ConfigError` when matching is first used, not with an import error
somewhere else. (Install the ``tzdata`` PyPI package on such a machine.)
"""

from __future__ import annotations

import functools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from arbees.errors import ConfigError

__all__ = ["eastern"]


@functools.cache
def eastern() -> ZoneInfo:
    """``ZoneInfo("America/New_York")``; raises :class:`ConfigError` when it is missing."""
    try:
        return ZoneInfo("America/New_York")
    except ZoneInfoNotFoundError as exc:
        raise ConfigError(
            "time zone America/New_York not found: install the 'tzdata' package"
        ) from exc
