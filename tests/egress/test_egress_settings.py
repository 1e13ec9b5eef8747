"""EgressSettings: the EGRESS_* variables, explicit overrides, secrets kept out of repr."""

from __future__ import annotations

import httpx
import pytest
import trio

from arbees.egress import EgressGuard, EgressPolicy, EgressSettings, EgressState
from arbees.errors import ConfigError

URL = "http://localhost:8000/v1/publicip/ip"


def test_defaults() -> None:
    s = EgressSettings.from_env({"EGRESS_CHECK_URL": URL})
    assert (s.url, s.api_key, s.policy, s.timeout, s.interval) == (
        URL,
        None,
        EgressPolicy(),
        5.0,
        60.0,
    )


def test_all_variables() -> None:
    env = {
        "EGRESS_CHECK_URL": URL,
        "EGRESS_CHECK_API_KEY": "k-123",
        "EGRESS_FORBIDDEN_COUNTRIES": "US, Russia",
        "EGRESS_REQUIRED_COUNTRIES": "United Kingdom,NL",
        "EGRESS_CHECK_TIMEOUT": "2.5",
        "EGRESS_CHECK_INTERVAL": "30",
    }
    s = EgressSettings.from_env(env)
    assert s.api_key == "k-123"
    assert s.policy == EgressPolicy(frozenset({"US", "RU"}), frozenset({"GB", "NL"}))
    assert (s.timeout, s.interval) == (2.5, 30.0)
    assert "k-123" not in repr(s)
    over = EgressSettings.from_env(env, url="http://x/json", forbidden="none", timeout=1.0)
    assert (over.url, over.policy.forbidden, over.timeout) == ("http://x/json", frozenset(), 1.0)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "EGRESS_CHECK_URL"),
        ({"EGRESS_CHECK_URL": URL, "EGRESS_CHECK_TIMEOUT": "soon"}, "EGRESS_CHECK_TIMEOUT"),
        ({"EGRESS_CHECK_URL": URL, "EGRESS_CHECK_INTERVAL": "0"}, "EGRESS_CHECK_INTERVAL"),
        ({"EGRESS_CHECK_URL": URL, "EGRESS_CHECK_INTERVAL": "nan"}, "EGRESS_CHECK_INTERVAL"),
        ({"EGRESS_CHECK_URL": URL, "EGRESS_FORBIDDEN_COUNTRIES": "Mars"}, "'Mars'"),
    ],
)
def test_invalid_settings(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        EgressSettings.from_env(env)


def test_builds_checker_and_guard() -> None:
    s = EgressSettings.from_env({"EGRESS_CHECK_URL": URL, "EGRESS_CHECK_API_KEY": "k-123"})
    client = httpx.AsyncClient()
    checker = s.checker(client)
    assert (checker.url, checker.timeout) == (URL, 5.0)
    guard = s.guard(client, name="pm")
    assert isinstance(guard, EgressGuard)
    assert guard.policy == s.policy
    assert "k-123" not in repr(guard)


class FlipSource:
    def __init__(self) -> None:
        self.ok = True

    async def check(self, policy: EgressPolicy) -> EgressState:
        await trio.lowlevel.checkpoint()
        return EgressState(self.ok, "GB", "192.0.2.1", "scripted", 1)


async def test_request_check_wakes_the_guard_early(nursery: trio.Nursery) -> None:
    source = FlipSource()
    guard = EgressGuard(source, interval=1000)
    await nursery.start(guard.run)
    source.ok = False
    with trio.fail_after(5):
        guard.request_check()
        async for state in guard.changes():
            assert not state.verified
            break
