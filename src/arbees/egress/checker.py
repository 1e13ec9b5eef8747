"""One egress check over HTTP: ask the source, never fail open.

The checker asks an egress source — Gluetun's control server (``/v1/publicip/ip``) or an
ipinfo-style ``/json`` endpoint — where this process's traffic leaves, and turns *every*
outcome into an :class:`~arbees.egress.verdict.EgressState`: a refused connection, a hang,
a 401 from the control server, a 500 or a garbage body are all simply *unverified*, with a
reason saying what was seen and what to check. Only cancellation escapes.

The ``httpx.AsyncClient`` is injected. Pass the SAME client (same proxy settings) that the
Polymarket connection uses: the check is only meaningful for traffic that takes the same
route. The control-server API key is sent as ``X-API-Key`` and never appears in a log line,
an exception, a reason or a ``repr``.
"""

from __future__ import annotations

import logging
from typing import Final, Protocol

import httpx
import trio

from arbees.config import redact_url
from arbees.egress.verdict import EgressPolicy, EgressState, evaluate_body, failed_state, now_ms
from arbees.errors import ConfigError

__all__ = ["DEFAULT_TIMEOUT", "EgressChecker", "EgressSource"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 5.0
_MAX_BODY: Final = 64 * 1024
_HINT_SERVER: Final = (
    "check that the VPN container is running and healthy and that its control server "
    "listens at this address"
)


class EgressSource(Protocol):
    """Anything that can run one egress check (the guard depends only on this)."""

    async def check(self, policy: EgressPolicy) -> EgressState:
        """Run one check and return its verdict; must not raise except on cancellation."""
        ...


class EgressChecker:
    """Checks egress against one HTTP source with an injected ``httpx.AsyncClient``.

    Args:
        client: the HTTP client (reuse the one whose route you want verified).
        url: full URL of the source, e.g. ``http://localhost:8000/v1/publicip/ip``.
        api_key: Gluetun control-server API key (sent as ``X-API-Key``), if any.
        timeout: seconds for the whole check (connect + answer); default 5.
        max_body: larger answers are rejected as unusable.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        url: str,
        *,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_body: int = _MAX_BODY,
    ) -> None:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise ConfigError(f"egress check URL {redact_url(str(url))!r} is invalid") from exc
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ConfigError(
                f"egress check URL {redact_url(url)!r} must be an http:// or https:// URL"
            )
        if not timeout > 0:
            raise ConfigError(f"egress check timeout must be > 0 s, got {timeout!r}")
        self._client = client
        self._url = url
        # httpx logs every request URL at INFO: send URL credentials as an Authorization
        # header instead, so the logged URL carries none
        self._auth: httpx.BasicAuth | None = None
        self._request_url = parsed
        self._password = parsed.password
        if parsed.userinfo:
            self._auth = httpx.BasicAuth(parsed.username, parsed.password)
            self._request_url = parsed.copy_with(userinfo=b"")
        self._shown_url = redact_url(url)
        self._api_key = api_key or None
        self._timeout = float(timeout)
        self._max_body = max_body

    @property
    def url(self) -> str:
        """The source URL, with any password redacted (safe to log)."""
        return self._shown_url

    @property
    def timeout(self) -> float:
        return self._timeout

    def __repr__(self) -> str:
        key = "'***'" if self._api_key else "None"
        return f"EgressChecker(url={self._shown_url!r}, api_key={key}, timeout={self._timeout:g})"

    def _scrub(self, text: str) -> str:
        """Belt and braces: no secret survives into a message, whatever produced it."""
        if self._api_key:
            text = text.replace(self._api_key, "***")
        if self._url != self._shown_url:
            text = text.replace(self._url, self._shown_url)
        if self._auth is not None and self._password:
            text = text.replace(self._password, "***")
        return text

    async def check(self, policy: EgressPolicy) -> EgressState:
        """Ask the source once and judge the answer under ``policy`` (never raises)."""
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["X-API-Key"] = self._api_key
        source = self._shown_url
        try:
            with trio.fail_after(self._timeout):
                async with self._client.stream(
                    "GET",
                    self._request_url,
                    headers=headers,
                    auth=self._auth or httpx.USE_CLIENT_DEFAULT,
                    timeout=self._timeout,
                ) as response:
                    if response.status_code != 200:
                        return self._status_state(response)
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > self._max_body:
                        return self._too_big()
                    body = bytearray()
                    # read to the end even when too big (bounded by the timeout): leaving
                    # httpx's body iterator half-consumed leaks an async generator
                    async for chunk in response.aiter_bytes():
                        if len(body) <= self._max_body:
                            body += chunk
                    if len(body) > self._max_body:
                        return self._too_big()
        except (trio.TooSlowError, httpx.TimeoutException):
            return failed_state(
                "timeout",
                f"egress source {source} gave no answer within {self._timeout:g} s; {_HINT_SERVER}",
            )
        except httpx.HTTPError as exc:
            detail = self._scrub(str(exc))[:200] or "no detail"
            return failed_state(
                "unreachable",
                f"could not reach egress source {source} ({type(exc).__name__}: {detail}); "
                f"{_HINT_SERVER}",
            )
        return evaluate_body(bytes(body), policy, source=source, checked_at_ms=now_ms())

    def _too_big(self) -> EgressState:
        return failed_state(
            "bad_answer",
            f"egress source {self._shown_url} sent more than {self._max_body} bytes; "
            "it is not an egress-check endpoint",
        )

    def _status_state(self, response: httpx.Response) -> EgressState:
        status = response.status_code
        phrase = self._scrub(response.reason_phrase)[:60]
        seen = f"egress source {self._shown_url} answered HTTP {status} {phrase}".rstrip()
        if status in (401, 403):
            sent = "an API key was sent" if self._api_key else "no API key was sent"
            return failed_state(
                "auth",
                f"{seen}: the control server refused the request ({sent}); check the "
                "control-server API key (EGRESS_CHECK_API_KEY, sent as X-API-Key) and the "
                "role that allows GET /v1/publicip/ip in Gluetun's auth config",
            )
        if status == 404:
            hint = "check the URL (Gluetun: /v1/publicip/ip; ipinfo-style: /json)"
        else:
            hint = _HINT_SERVER
        return failed_state("http_status", f"{seen}; {hint}")
