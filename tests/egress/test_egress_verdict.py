"""Answer parsing and the policy, without sockets."""

from __future__ import annotations

import json

import pytest

from arbees.egress.verdict import (
    KINDS,
    EgressPolicy,
    EgressState,
    evaluate_body,
    parse_answer,
)
from arbees.errors import ConfigError

GLUETUN = {
    "public_ip": "203.0.113.7",
    "region": "England",
    "country": "United Kingdom",
    "city": "London",
    "organization": "AS9009 M247",
}
IPINFO = {"ip": "203.0.113.7", "country": "GB", "city": "London", "org": "AS9009 M247"}


def judge(obj: object, policy: EgressPolicy | None = None) -> EgressState:
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return evaluate_body(body, policy or EgressPolicy(), source="http://src/x", checked_at_ms=7)


def test_both_shapes_are_recognised() -> None:
    a, b = parse_answer(GLUETUN), parse_answer(IPINFO)
    assert (a.shape, a.ip, a.country, a.country_raw) == (
        "gluetun",
        "203.0.113.7",
        "GB",
        "United Kingdom",
    )
    assert (b.shape, b.ip, b.country, b.country_raw) == ("ipinfo", "203.0.113.7", "GB", "GB")


def test_iso_field_wins_over_name_ifconfig_style() -> None:
    obs = parse_answer({"ip": "2001:db8::1", "country": "Narnia", "country_iso": "NL"})
    assert obs.country == "NL"
    assert obs.ip == "2001:db8::1"


@pytest.mark.parametrize("answer", [GLUETUN, IPINFO])
def test_allowed_country_is_verified(answer: dict[str, str]) -> None:
    state = judge(answer)
    assert state.verified
    assert (state.kind, state.country, state.ip, state.checked_at_ms) == (
        "verified",
        "GB",
        "203.0.113.7",
        7,
    )
    assert "GB (United Kingdom)" in state.reason


@pytest.mark.parametrize("country", ["United States", "US", "United States of America", "usa"])
def test_forbidden_country_in_any_spelling(country: str) -> None:
    state = judge(GLUETUN | {"country": country})
    assert not state.verified
    assert state.kind == "forbidden_country"
    assert state.country == "US"
    assert "203.0.113.7" in state.reason
    assert "US (United States)" in state.reason
    assert "VPN credentials" in state.reason


def test_required_countries() -> None:
    policy = EgressPolicy.from_settings(required="Netherlands, de")
    assert judge(GLUETUN | {"country": "Netherlands"}, policy).verified
    assert judge(IPINFO | {"country": "DE"}, policy).verified
    state = judge(GLUETUN, policy)
    assert not state.verified
    assert state.kind == "country_not_allowed"
    assert "required: DE, NL" in state.reason
    assert "GB (United Kingdom)" in state.reason


def test_unknown_country_fails_closed() -> None:
    state = judge(GLUETUN | {"country": "Atlantis"})
    assert not state.verified
    assert state.kind == "unknown_country"
    assert state.country is None
    assert state.country_raw == "Atlantis"
    assert "'Atlantis'" in state.reason
    assert "203.0.113.7" in state.reason


def test_missing_country_fails_closed() -> None:
    state = judge({"public_ip": "203.0.113.7"})
    assert (state.verified, state.kind) == (False, "unknown_country")
    assert "no country" in state.reason


def test_empty_public_ip_is_tunnel_down() -> None:
    state = judge({"public_ip": "", "country": "", "region": ""})
    assert (state.verified, state.kind, state.ip) == (False, "tunnel_down", None)
    assert "tunnel is down" in state.reason


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"<html>{not json", "not JSON"),
        (b"", "not JSON"),
        (b"\xff\xfe\x00", "not JSON"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (b"null", "expected a JSON object, got NoneType"),
        (b'{"hello": "world"}', "no 'public_ip'"),
        (b'{"public_ip": 1234, "country": "GB"}', "'public_ip' should be a string, got int"),
        (b'{"ip": "1.2.3.4", "country": ["GB"]}', "'country' should be a string, got list"),
        (b'{"public_ip": "not-an-ip", "country": "GB"}', "is not an IP address"),
        (b'{"public_ip": "NaN", "country": "GB"}', "is not an IP address"),
        (b"[" * 100_000, "not JSON"),
    ],
)
def test_garbage_and_wrong_types_are_unverified_bad_answer(body: bytes, detail: str) -> None:
    state = judge(body)
    assert not state.verified
    assert state.kind == "bad_answer"
    assert detail in state.reason
    assert "http://src/x" in state.reason


def test_policy_defaults_and_settings() -> None:
    assert EgressPolicy().forbidden == {"US"}
    assert EgressPolicy.from_settings(None, None) == EgressPolicy()
    assert EgressPolicy.from_settings("  ", "") == EgressPolicy()
    assert EgressPolicy.from_settings("none").forbidden == frozenset()
    p = EgressPolicy.from_settings("US,Russia", "GB")
    assert (p.forbidden, p.required) == ({"US", "RU"}, {"GB"})
    assert p.describe() == "forbidden: RU, US; required: GB"


def test_impossible_policies_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="also forbidden"):
        EgressPolicy.from_settings("US", "USA")
    with pytest.raises(ConfigError, match="unknown country"):
        EgressPolicy.from_settings("Atlantis")
    with pytest.raises(ConfigError, match="lists no country"):
        EgressPolicy(required=frozenset())


def test_states_use_documented_kinds_and_serialize() -> None:
    state = judge(GLUETUN)
    assert state.kind in KINDS
    assert json.loads(json.dumps(state.to_json()))["country"] == "GB"
