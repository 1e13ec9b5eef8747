"""Giving memory a burst freed back to the system.

A monitor taking 10,000 books at once (every socket's snapshots, a resync) allocates tens
of megabytes of short-lived objects; glibc keeps what they freed inside the process, so the
resident size stays at the burst's height (``arbees bench e2e``, 10,000 tokens: 114 MB
resident, 94 MB once ``malloc_trim(0)`` handed the free pages back, in the same process).
:class:`MemoryKeeper` asks for that after the process grew by ``growth`` bytes since its
last release: about a millisecond of the event loop, only after a burst, never on a
quiet process.

Linux with glibc only: elsewhere (musl, macOS) :func:`release_free_memory` does nothing and
says so, and the keeper does not run.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
from collections.abc import Callable

import trio

__all__ = ["MemoryKeeper", "release_free_memory", "resident_bytes"]

log = logging.getLogger(__name__)

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own C library
    except (OSError, AttributeError):  # musl has no malloc_trim
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def release_free_memory() -> bool:
    """Hand the C library's free pages back to the system (``malloc_trim(0)``); ``False``
    when this platform cannot (or nothing was released)."""
    return _TRIM is not None and bool(_TRIM(0))


def resident_bytes() -> int | None:
    """This process's resident size (``/proc/self/statm``); ``None`` where unknown."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


class MemoryKeeper:
    """Every ``interval`` seconds, release free memory if the process grew by ``growth``
    bytes since the last release (or the start).

    Args:
        growth: bytes of growth that trigger a release (default 8 MiB).
        interval: seconds between checks (one read of ``/proc/self/statm``).

    Attributes:
        releases: releases made.
        released_bytes: resident bytes they gave back, summed.
    """

    def __init__(self, *, growth: int = 8 << 20, interval: float = 1.0) -> None:
        self.growth = growth
        self.interval = interval
        self.releases = 0
        self.released_bytes = 0

    @staticmethod
    def supported() -> bool:
        return _TRIM is not None and resident_bytes() is not None

    async def run(self) -> None:
        """Until cancelled; returns at once where releasing is not supported."""
        floor = resident_bytes()
        if _TRIM is None or floor is None:
            return
        while True:
            await trio.sleep(self.interval)
            now = resident_bytes()
            if now is None:
                return
            if now - floor < self.growth:
                floor = min(floor, now)
                continue
            release_free_memory()
            after = resident_bytes() or now
            self.releases += 1
            self.released_bytes += max(0, now - after)
            log.debug("released %d KiB of free memory", (now - after) >> 10)
            floor = after
