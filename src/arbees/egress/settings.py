"""Egress settings from an environment mapping: one place that knows the variable names.

The library never reads ``os.environ`` itself; an entry point passes the mapping in
(``EgressSettings.from_env(os.environ)``), so the CLI's ``check-egress`` and the Polymarket
monitor agree on names and defaults:

=============================  ==========================================================
``EGRESS_CHECK_URL``           source URL (Gluetun: ``http://localhost:8000/v1/publicip/ip``)
``EGRESS_CHECK_API_KEY``       control-server API key, sent as ``X-API-Key`` (optional)
``EGRESS_FORBIDDEN_COUNTRIES`` comma list of codes/names; default ``US``; ``none`` = none
``EGRESS_REQUIRED_COUNTRIES``  comma list; when set the exit must be one of them
``EGRESS_CHECK_TIMEOUT``       seconds per check, default 5
``EGRESS_CHECK_INTERVAL``      seconds between checks, default 60
``EGRESS_RETRY_INTERVAL``      first re-check delay after a failed check, default 1
                               (doubled per failure, jittered, at most 30 s)
=============================  ==========================================================

A connect needs a verdict at most ``2 x EGRESS_CHECK_TIMEOUT`` old (the guard's
``max_age``); older ones are refreshed on demand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import attrs
import httpx

from arbees.config import redact_url
from arbees.egress.checker import DEFAULT_TIMEOUT, EgressChecker
from arbees.egress.guard import DEFAULT_INTERVAL, DEFAULT_RETRY_INTERVAL, EgressGuard
from arbees.egress.verdict import EgressPolicy
from arbees.errors import ConfigError

__all__ = ["API_KEY_ENV", "URL_ENV", "EgressSettings"]

URL_ENV = "EGRESS_CHECK_URL"
API_KEY_ENV = "EGRESS_CHECK_API_KEY"


def _seconds(value: str | float | None, default: float, setting: str) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigError(f"{setting}: expected seconds, got {value!r}") from None
    if not (math.isfinite(seconds) and seconds > 0):
        raise ConfigError(f"{setting}: expected a positive number of seconds, got {value!r}")
    return seconds


def _hide(value: str | None) -> str:
    return "'***'" if value else "None"


@attrs.frozen
class EgressSettings:
    """Everything needed to build an egress checker and guard.

    Attributes:
        url: the egress source URL (password redacted in repr).
        api_key: control-server API key or ``None`` (shown as ``'***'`` in repr).
        policy: forbidden/required exit countries.
        timeout: seconds per check.
        interval: seconds between checks while verified.
        retry_interval: first re-check delay after a failed check.
    """

    url: str = attrs.field(repr=lambda url: repr(redact_url(url)))
    api_key: str | None = attrs.field(default=None, repr=_hide)
    policy: EgressPolicy = attrs.Factory(EgressPolicy)
    timeout: float = DEFAULT_TIMEOUT
    interval: float = DEFAULT_INTERVAL
    retry_interval: float = DEFAULT_RETRY_INTERVAL

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        url: str | None = None,
        api_key_env: str = API_KEY_ENV,
        forbidden: str | None = None,
        required: str | None = None,
        timeout: float | None = None,
        interval: float | None = None,
        retry_interval: float | None = None,
    ) -> EgressSettings:
        """Read the ``EGRESS_*`` variables from ``env``; explicit arguments win.

        Raises :class:`ConfigError` (naming the variable, never its secret value) when the
        URL is missing or a value is invalid.
        """
        url = url or env.get(URL_ENV, "").strip()
        if not url:
            raise ConfigError(
                f"no egress source: pass --url or set {URL_ENV} (inside the VPN's network "
                "namespace: http://localhost:8000/v1/publicip/ip)"
            )
        policy = EgressPolicy.from_settings(
            forbidden if forbidden is not None else env.get("EGRESS_FORBIDDEN_COUNTRIES"),
            required if required is not None else env.get("EGRESS_REQUIRED_COUNTRIES"),
        )
        return cls(
            url=url,
            api_key=env.get(api_key_env, "").strip() or None,
            policy=policy,
            timeout=_seconds(
                timeout if timeout is not None else env.get("EGRESS_CHECK_TIMEOUT"),
                DEFAULT_TIMEOUT,
                "EGRESS_CHECK_TIMEOUT",
            ),
            interval=_seconds(
                interval if interval is not None else env.get("EGRESS_CHECK_INTERVAL"),
                DEFAULT_INTERVAL,
                "EGRESS_CHECK_INTERVAL",
            ),
            retry_interval=_seconds(
                retry_interval if retry_interval is not None else env.get("EGRESS_RETRY_INTERVAL"),
                DEFAULT_RETRY_INTERVAL,
                "EGRESS_RETRY_INTERVAL",
            ),
        )

    def checker(self, client: httpx.AsyncClient) -> EgressChecker:
        """An :class:`EgressChecker` over ``client`` (use the client Polymarket traffic uses)."""
        return EgressChecker(client, self.url, api_key=self.api_key, timeout=self.timeout)

    def guard(
        self,
        client: httpx.AsyncClient,
        *,
        name: str = "egress",
        retry_interval: float | None = None,
        max_age: float | None = None,
    ) -> EgressGuard:
        """An :class:`EgressGuard` checking every ``interval`` seconds (``max_age``: default
        2 x ``timeout``)."""
        return EgressGuard(
            self.checker(client),
            self.policy,
            interval=self.interval,
            retry_interval=retry_interval if retry_interval is not None else self.retry_interval,
            max_age=max_age,
            name=name,
        )
