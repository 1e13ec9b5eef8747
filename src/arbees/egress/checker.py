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

Which answers are trusted (anything else is unverified):

* a Gluetun-shaped answer (``public_ip``) only from a LOOPBACK control server
  (``localhost``, 127.0.0.0/8, ``::1``: the process shares the VPN's network namespace, so
  Gluetun's view of the exit is this process's exit) AND only when Gluetun's
  ``/v1/vpn/status`` on the same server answers ``{"status": "running"}`` within the same
  timeout. From any other host (``http://vpn:8000`` from a container outside the
  namespace) it is ``untrusted_source``: it describes the VPN container, not the route
  this process's traffic takes;
* an ipinfo-style answer (``ip``) from any host: it is fetched over the injected client,
  through the same proxy as the guarded traffic, so it reports that route's exit.

Every body is read with a byte cap (:func:`arbees.httpcap.request_capped`).
"""

from __future__ import annotations

import ipaddress
import json
import logging
from typing import Final, Protocol

import httpx
import trio

from arbees.config import redact_url
from arbees.egress.verdict import EgressPolicy, EgressState, failed_state, now_ms, observe_body
from arbees.errors import ConfigError
from arbees.httpcap import BodyTooLargeError, request_capped

__all__ = ["DEFAULT_TIMEOUT", "EgressChecker", "EgressSource", "is_loopback_host"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 5.0
_MAX_BODY: Final = 64 * 1024
_VPN_STATUS_PATH: Final = "/v1/vpn/status"
_HINT_SERVER: Final = (
    "check that the VPN container is running and healthy and that its control server "
    "listens at this address"
)


def is_loopback_host(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ``::1``: a server in this process's network namespace."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
        """Ask the source once and judge the answer under ``policy`` (never raises).

        A Gluetun-shaped answer counts only from a loopback control server (this process's
        own network namespace) whose ``/v1/vpn/status`` says ``running``, asked within the
        same timeout; an ipinfo-style answer counts from any host (it is fetched over the
        very client, hence route, that the guarded traffic uses).
        """
        source = self._shown_url
        try:
            with trio.fail_after(self._timeout):
                response = await self._get(self._request_url)
                if response.status_code != 200:
                    return self._status_state(response)
                at = now_ms()
                obs = observe_body(response.content, source=source, checked_at_ms=at)
                if isinstance(obs, EgressState):
                    return obs
                state = policy.judge(obs, checked_at_ms=at)
                if state.verified and obs.shape == "gluetun":
                    return await self._gluetun_refusal() or state
                return state
        except BodyTooLargeError:
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

    async def _get(self, url: httpx.URL) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["X-API-Key"] = self._api_key
        return await request_capped(
            self._client,
            "GET",
            url,
            max_bytes=self._max_body,
            headers=headers,
            auth=self._auth or httpx.USE_CLIENT_DEFAULT,
            timeout=self._timeout,
        )

    async def _gluetun_refusal(self) -> EgressState | None:
        """Why a Gluetun-shaped answer is not trusted, or ``None`` when it is."""
        host = self._request_url.host
        if not is_loopback_host(host):
            return failed_state(
                "untrusted_source",
                f"egress source {self._shown_url} answered like Gluetun's control server, "
                f"but {host!r} is not a loopback address: its answer describes the VPN "
                "container's exit, not necessarily this process's. Inside the VPN's network "
                "namespace use http://localhost:8000/v1/publicip/ip; elsewhere send the "
                "traffic through the VPN's proxy and check an ipinfo-style URL over it",
            )
        status_url = self._request_url.copy_with(path=_VPN_STATUS_PATH, query=None)
        shown = redact_url(str(status_url))
        response = await self._get(status_url)
        if response.status_code != 200:
            return self._status_state(response)
        try:
            status = json.loads(response.content).get("status")
        except (ValueError, RecursionError, AttributeError):
            status = None
        if status == "running":
            return None
        if isinstance(status, str):
            return failed_state(
                "tunnel_down",
                f"Gluetun's {shown} says the VPN is {status[:20]!r}, not 'running'; check "
                "the VPN credentials and the VPN container's health",
            )
        return failed_state(
            "bad_answer",
            f'Gluetun\'s {shown} gave no status; expected {{"status": "running"}}',
        )

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
