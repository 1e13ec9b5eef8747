"""Egress verdicts without I/O: read an answer, apply the policy, say what was seen.

The guard's decision is pure logic — "this body, under this policy, is or is not a
verified egress" — so it lives here, testable without sockets, and the HTTP side
(:mod:`arbees.egress.checker`) only turns transport failures into the same kind of verdict.

Two answer shapes are accepted automatically:

* Gluetun's control server, ``GET /v1/publicip/ip``:
  ``{"public_ip": "1.2.3.4", "country": "United Kingdom", "region", "city", "organization"}``
  — the country is a NAME, and ``public_ip`` is ``""`` while the tunnel is down;
* ipinfo-style services (``/json``): ``{"ip": "1.2.3.4", "country": "GB", ...}``; a
  ``country_iso``/``country_code`` key (ifconfig.co style) wins over ``country`` when present.

Every failure is an UNVERIFIED :class:`EgressState` with a ``kind`` (machine-readable) and a
``reason`` (for a human: what was seen and what to check). Nothing here ever fails *open*:
anything not positively recognised as an allowed country with a valid IP is unverified.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Iterable
from typing import Any, Final

import attrs

from arbees.egress.countries import country_label, normalize_country, parse_country_list
from arbees.errors import ConfigError

__all__ = [
    "DEFAULT_FORBIDDEN",
    "KINDS",
    "EgressObservation",
    "EgressPolicy",
    "EgressState",
    "evaluate_body",
    "failed_state",
    "now_ms",
    "observe_body",
    "parse_answer",
]

DEFAULT_FORBIDDEN: Final = frozenset({"US"})

KINDS: Final = frozenset(
    {
        "verified",  # allowed country, valid IP
        "forbidden_country",  # the exit is in a forbidden country
        "country_not_allowed",  # a required-countries list is set and the exit is not in it
        "unknown_country",  # the answer names a country the table does not know
        "tunnel_down",  # empty public IP, or Gluetun's /v1/vpn/status is not "running"
        "untrusted_source",  # a Gluetun-shaped answer from a control server not on loopback
        "bad_answer",  # not JSON, wrong types, missing fields, invalid IP
        "auth",  # HTTP 401/403 from the control server
        "http_status",  # any other non-200 status
        "timeout",  # no complete answer within the timeout
        "unreachable",  # connection refused / DNS / TLS / protocol error
        "error",  # the check itself raised (a bug in a custom source): fail closed
        "not_checked",  # the guard has not completed a check (or has stopped)
    }
)

_HINT_VPN: Final = "check the VPN credentials, SERVER_COUNTRIES and the VPN container's health"
_HINT_SERVER: Final = "check that the VPN container (control server) is running and reachable"


def now_ms() -> int:
    """Wall-clock milliseconds since the epoch (the ``checked_at_ms`` stamp)."""
    return time.time_ns() // 1_000_000


@attrs.frozen
class EgressObservation:
    """What an egress source said about where traffic leaves.

    Attributes:
        ip: the public IP as answered (``""`` when the source reports none).
        country: ISO 3166-1 alpha-2 code, or ``None`` when the answer's country is unknown.
        country_raw: the country exactly as answered (name or code), for messages.
        shape: ``"gluetun"`` or ``"ipinfo"`` — which answer shape was recognised.
    """

    ip: str
    country: str | None
    country_raw: str
    shape: str


@attrs.frozen
class EgressState:
    """The outcome of one egress check (or the guard's current belief).

    Attributes:
        verified: ``True`` only when the exit country is allowed and the IP is valid.
        country: ISO alpha-2 code of the exit when known, else ``None``.
        ip: the exit IP when one was answered, else ``None``.
        reason: one line for a human: what was seen and what to check (never a secret).
        checked_at_ms: wall-clock time of the check, ms since the epoch.
        kind: machine-readable outcome, one of :data:`KINDS`.
        country_raw: the country exactly as the source answered it, when any.
    """

    verified: bool
    country: str | None
    ip: str | None
    reason: str
    checked_at_ms: int
    kind: str = "verified"
    country_raw: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``arbees check-egress --json`` and status messages)."""
        return attrs.asdict(self)


def failed_state(kind: str, reason: str, *, checked_at_ms: int | None = None) -> EgressState:
    """An unverified state for a check that produced no usable observation."""
    return EgressState(
        verified=False,
        country=None,
        ip=None,
        reason=reason,
        checked_at_ms=now_ms() if checked_at_ms is None else checked_at_ms,
        kind=kind,
    )


@attrs.frozen
class EgressPolicy:
    """Which exit countries are acceptable.

    Attributes:
        forbidden: ISO codes that must never be the exit (default ``{"US"}``, as the seed).
        required: when not ``None``, the exit MUST be one of these codes.
    """

    forbidden: frozenset[str] = DEFAULT_FORBIDDEN
    required: frozenset[str] | None = None

    def __attrs_post_init__(self) -> None:
        if self.required is not None:
            if not self.required:
                raise ConfigError("EGRESS_REQUIRED_COUNTRIES is set but lists no country")
            if not self.required - self.forbidden:
                raise ConfigError(
                    "every country in EGRESS_REQUIRED_COUNTRIES is also forbidden: "
                    "no egress could ever be verified"
                )

    @classmethod
    def from_settings(
        cls,
        forbidden: str | Iterable[str] | None = None,
        required: str | Iterable[str] | None = None,
    ) -> EgressPolicy:
        """Build from ``EGRESS_FORBIDDEN_COUNTRIES`` / ``EGRESS_REQUIRED_COUNTRIES`` values.

        ``forbidden``: ``None`` or blank -> the default (``US``); ``"none"`` -> nothing is
        forbidden; otherwise a comma list of codes or names. ``required``: ``None`` or blank ->
        no requirement. Unknown countries raise :class:`ConfigError`.
        """
        if forbidden is None or (isinstance(forbidden, str) and not forbidden.strip()):
            forbidden_codes = DEFAULT_FORBIDDEN
        elif isinstance(forbidden, str) and forbidden.strip().lower() == "none":
            forbidden_codes = frozenset()
        else:
            forbidden_codes = parse_country_list(forbidden, setting="EGRESS_FORBIDDEN_COUNTRIES")
        required_codes: frozenset[str] | None = None
        if required is not None and not (isinstance(required, str) and not required.strip()):
            required_codes = parse_country_list(required, setting="EGRESS_REQUIRED_COUNTRIES")
        return cls(forbidden=forbidden_codes, required=required_codes)

    def describe(self) -> str:
        """``"forbidden: US; required: GB, NL"`` for messages."""
        text = "forbidden: " + (", ".join(sorted(self.forbidden)) or "none")
        if self.required is not None:
            text += "; required: " + ", ".join(sorted(self.required))
        return text

    def judge(self, obs: EgressObservation, *, checked_at_ms: int | None = None) -> EgressState:
        """Turn an observation into a verdict under this policy."""
        at = now_ms() if checked_at_ms is None else checked_at_ms

        def state(verified: bool, kind: str, reason: str) -> EgressState:
            return EgressState(
                verified=verified,
                country=obs.country,
                ip=obs.ip or None,
                reason=reason,
                checked_at_ms=at,
                kind=kind,
                country_raw=obs.country_raw or None,
            )

        if not obs.ip:
            return state(
                False,
                "tunnel_down",
                "egress source reports no public IP (the VPN tunnel is down or still "
                f"connecting); {_HINT_VPN}",
            )
        if obs.country is None:
            seen = repr(obs.country_raw) if obs.country_raw else "no country"
            return state(
                False,
                "unknown_country",
                f"egress IP {obs.ip} reported {seen}, which is not a known country; "
                f"failing closed; {_HINT_VPN}",
            )
        where = f"egress country {country_label(obs.country)}, IP {obs.ip}"
        if obs.country in self.forbidden:
            return state(
                False,
                "forbidden_country",
                f"{where} is forbidden ({self.describe()}); the VPN is not routing traffic "
                f"or exits in the wrong country: {_HINT_VPN}",
            )
        if self.required is not None and obs.country not in self.required:
            return state(
                False,
                "country_not_allowed",
                f"{where} is not in the required countries ({self.describe()}); {_HINT_VPN}",
            )
        return state(True, "verified", f"{where} is allowed ({self.describe()})")


def _text(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"field {key!r} should be a string, got {type(value).__name__}")
    return value.strip()


def parse_answer(obj: object) -> EgressObservation:
    """Read a decoded JSON answer of either shape; raise ``ValueError`` saying what is wrong."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    if "public_ip" in obj:
        shape, ip = "gluetun", _text(obj, "public_ip")
    elif "ip" in obj:
        shape, ip = "ipinfo", _text(obj, "ip")
    else:
        raise ValueError("no 'public_ip' (Gluetun) or 'ip' (ipinfo-style) field")
    country_raw = ""
    for key in ("country_iso", "country_code", "country"):
        value = _text(obj, key)
        if value:
            country_raw = value
            break
    ip = ip or ""
    if ip:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            raise ValueError(
                f"{'public_ip' if shape == 'gluetun' else 'ip'} {ip[:64]!r} is not an IP address"
            ) from None
    country = normalize_country(country_raw) if country_raw else None
    return EgressObservation(ip=ip, country=country, country_raw=country_raw, shape=shape)


_MAX_SHOWN: Final = 80


def observe_body(
    body: bytes, *, source: str, checked_at_ms: int | None = None
) -> EgressObservation | EgressState:
    """Decode a 200 answer's body: the observation, or an unverified ``bad_answer`` state."""
    at = now_ms() if checked_at_ms is None else checked_at_ms
    try:
        try:
            obj = json.loads(body)
        except json.JSONDecodeError as exc:
            shown = body[:_MAX_SHOWN].decode("utf-8", "replace")
            raise ValueError(f"not JSON ({exc.msg} at {exc.pos}): {shown!r}") from None
        except (UnicodeDecodeError, RecursionError) as exc:
            raise ValueError(f"not JSON ({type(exc).__name__})") from None
        return parse_answer(obj)
    except ValueError as exc:
        return failed_state(
            "bad_answer",
            f"egress source {source} gave an unusable answer: {exc}; "
            "check that the URL points at Gluetun's /v1/publicip/ip or an ipinfo-style /json",
            checked_at_ms=at,
        )


def evaluate_body(
    body: bytes, policy: EgressPolicy, *, source: str, checked_at_ms: int | None = None
) -> EgressState:
    """Decode a 200 answer's body and judge it; garbage becomes an unverified ``bad_answer``."""
    at = now_ms() if checked_at_ms is None else checked_at_ms
    obs = observe_body(body, source=source, checked_at_ms=at)
    if isinstance(obs, EgressState):
        return obs
    return policy.judge(obs, checked_at_ms=at)
