"""Egress verification: prove traffic leaves through the VPN before talking to Polymarket.

Polymarket is reached from a container that shares a VPN's (Gluetun's) network namespace.
If the tunnel is down, misconfigured or exits in a forbidden country, the monitor must stop:
close its Polymarket sockets and publish nothing until a later check passes. This package
provides, bottom-up:

* :mod:`~arbees.egress.countries` — country names/codes normalized to ISO alpha-2;
* :mod:`~arbees.egress.verdict` — answer parsing and the policy, no I/O;
* :mod:`~arbees.egress.checker` — one HTTP check that never fails open;
* :mod:`~arbees.egress.guard` — periodic checks, retries with backoff, on-demand fresh
  verdicts, transitions, verified scopes, :func:`run_while_verified`;
* :mod:`~arbees.egress.gate` — the connect gate every Polymarket connection passes, and
  :func:`open_polymarket_route`, the one place a guarded Polymarket route is built;
* :mod:`~arbees.egress.settings` — the ``EGRESS_*`` environment variables.

Typical use::

    settings = EgressSettings.from_env(os.environ)
    async with httpx.AsyncClient() as client, trio.open_nursery() as nursery:
        guard = settings.guard(client, name="polymarket-monitor")
        first = await nursery.start(guard.run)
        await run_while_verified(guard, feed.run)   # feed torn down whenever egress is lost
"""

from __future__ import annotations

from arbees.egress.checker import DEFAULT_TIMEOUT, EgressChecker, EgressSource
from arbees.egress.countries import (
    COUNTRY_NAMES,
    country_label,
    normalize_country,
    parse_country_list,
)
from arbees.egress.gate import (
    CHECK_SWITCH_ENV,
    EgressGate,
    PolymarketRoute,
    open_polymarket_route,
    polymarket_http_client,
)
from arbees.egress.guard import EgressGuard, EgressStats, open_egress_guard, run_while_verified
from arbees.egress.settings import EgressSettings
from arbees.egress.verdict import (
    DEFAULT_FORBIDDEN,
    EgressObservation,
    EgressPolicy,
    EgressState,
    evaluate_body,
    parse_answer,
)

__all__ = [
    "CHECK_SWITCH_ENV",
    "COUNTRY_NAMES",
    "DEFAULT_FORBIDDEN",
    "DEFAULT_TIMEOUT",
    "EgressChecker",
    "EgressGate",
    "EgressGuard",
    "EgressObservation",
    "EgressPolicy",
    "EgressSettings",
    "EgressSource",
    "EgressState",
    "EgressStats",
    "PolymarketRoute",
    "country_label",
    "evaluate_body",
    "normalize_country",
    "open_egress_guard",
    "open_polymarket_route",
    "parse_answer",
    "parse_country_list",
    "polymarket_http_client",
    "run_while_verified",
]
