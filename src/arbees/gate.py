"""The connect gate: what a venue connection asks before it opens, and tells when refused.

A WebSocket driver or REST client that must not talk to a venue unless something outside
it agrees (for Polymarket: a fresh, verified egress check, see :mod:`arbees.egress.gate`)
takes a :class:`ConnectGate`:

* ``async with gate.connection() as scope:`` around every WebSocket connection: waits until
  connecting is allowed, and ``scope`` (when not ``None``) is cancelled the moment it no
  longer is, which closes the socket;
* ``await gate.ensure()`` before every short request: raises an
  :class:`~arbees.errors.ArbeesError` (never opens a socket) when not allowed right now;
* ``gate.refused(status, where)`` after the venue answered a handshake or request with an
  HTTP error status (403/451 may mean "your exit moved"; the gate decides what to do).

:class:`UncheckedGate` is the explicit, loudly logged opt-out: everything is allowed.
This module holds only the interface and the opt-out (no I/O), so the venue packages and
the WebSocket driver can depend on it without depending on any particular check.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Final, Protocol

import trio

__all__ = ["REFUSAL_STATUSES", "ConnectGate", "UncheckedGate"]

log = logging.getLogger(__name__)

REFUSAL_STATUSES: Final = frozenset({403, 451})
"""HTTP statuses a geo-fenced venue answers a request from a forbidden place with."""


class ConnectGate(Protocol):
    """Asked before each venue connection; see the module docstring."""

    def connection(self) -> AbstractAsyncContextManager[trio.CancelScope | None]:
        """Wait until a connection may open; the yielded scope is cancelled when it may not."""
        ...

    async def ensure(self) -> None:
        """Return when a request may be sent now, else raise an ``ArbeesError``."""
        ...

    def refused(self, status: int, where: str) -> None:
        """The venue refused a handshake or request with HTTP ``status``."""
        ...


class UncheckedGate:
    """A gate that allows everything: the explicit opt-out, logged loudly when built.

    Args:
        what: what goes unchecked, for the warning (e.g. ``"Polymarket egress"``).
        why: how it was switched off (e.g. ``"POLYMARKET_EGRESS_CHECK=off"``).
    """

    def __init__(self, what: str, why: str) -> None:
        self.what = what
        self.why = why
        self.refusals = 0
        log.warning(
            "%s IS NOT CHECKED (%s): connections are opened without any verification; "
            "never run like this where the venue must not be reached from this network",
            what.upper(),
            why,
        )

    def __repr__(self) -> str:
        return f"UncheckedGate({self.what!r}, {self.why!r})"

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[trio.CancelScope | None]:
        await trio.lowlevel.checkpoint()
        yield None

    async def ensure(self) -> None:
        await trio.lowlevel.checkpoint()

    def refused(self, status: int, where: str) -> None:
        self.refusals += 1
        log.warning(
            "%s refused with HTTP %d (%s unchecked: %s)", where, status, self.what, self.why
        )
