"""EgressChecker against the real loopback fake Gluetun control server.

Every failure mode a VPN container shows must end UNVERIFIED with a reason naming what was
seen — and the control-server API key must never appear in a reason, a repr or a log line.
"""

from __future__ import annotations

import logging

import httpx
import pytest
import trio

from arbees.egress import EgressChecker, EgressPolicy, EgressSettings, EgressState
from arbees.errors import ConfigError
from arbees.testing.fake_gluetun import FakeGluetun, open_fake_gluetun

API_KEY = "tk-egress-7f3a9c1e5d"  # the same key as the conftest fixture `fake` requires

POLICY = EgressPolicy()


async def check(
    client: httpx.AsyncClient,
    url: str,
    *,
    api_key: str | None = API_KEY,
    limit: float = 2.0,
    policy: EgressPolicy = POLICY,
) -> EgressState:
    checker = EgressChecker(client, url, api_key=api_key, timeout=limit)
    with trio.fail_after(10):
        return await checker.check(policy)


async def test_verified_country(fake: FakeGluetun, client: httpx.AsyncClient) -> None:
    state = await check(client, fake.publicip_url)
    assert state.verified
    assert (state.kind, state.country, state.ip, state.country_raw) == (
        "verified",
        "GB",
        "203.0.113.7",
        "United Kingdom",
    )
    assert state.checked_at_ms > 0


async def test_ipinfo_style_answers(fake: FakeGluetun, client: httpx.AsyncClient) -> None:
    state = await check(client, fake.ipinfo_url)
    assert (state.verified, state.country, state.country_raw) == (True, "GB", "GB")
    fake.style = "ipinfo"
    state = await check(client, fake.publicip_url)
    assert (state.verified, state.country, state.country_raw) == (True, "GB", "GB")


async def test_forbidden_country(fake: FakeGluetun, client: httpx.AsyncClient) -> None:
    fake.set_exit(country="United States", ip="198.51.100.9")
    state = await check(client, fake.publicip_url)
    assert not state.verified
    assert (state.kind, state.country, state.ip) == ("forbidden_country", "US", "198.51.100.9")
    assert "US (United States)" in state.reason
    assert "198.51.100.9" in state.reason


async def test_required_countries_policy(fake: FakeGluetun, client: httpx.AsyncClient) -> None:
    policy = EgressPolicy.from_settings(required="NL,Germany")
    state = await check(client, fake.publicip_url, policy=policy)
    assert (state.verified, state.kind) == (False, "country_not_allowed")
    assert "GB (United Kingdom)" in state.reason
    fake.set_exit(country="Netherlands", ip="203.0.113.50")
    state = await check(client, fake.publicip_url, policy=policy)
    assert (state.verified, state.country, state.ip) == (True, "NL", "203.0.113.50")


async def test_unknown_country_name(fake: FakeGluetun, client: httpx.AsyncClient) -> None:
    fake.set_exit(country="Freedonia")
    state = await check(client, fake.publicip_url)
    assert (state.verified, state.kind) == (False, "unknown_country")
    assert "'Freedonia'" in state.reason


async def test_timeout_when_server_hangs(fake: FakeGluetun, client: httpx.AsyncClient) -> None:
    fake.hang()
    before = trio.current_time()
    state = await check(client, fake.publicip_url, limit=0.3)
    assert trio.current_time() - before < 5
    assert (state.verified, state.kind) == (False, "timeout")
    assert "no answer within 0.3 s" in state.reason
    assert fake.publicip_url in state.reason


async def test_garbage_json(fake: FakeGluetun, client: httpx.AsyncClient) -> None:
    fake.garbage()
    state = await check(client, fake.publicip_url)
    assert (state.verified, state.kind) == (False, "bad_answer")
    assert "not JSON" in state.reason
    assert "<html>{not json" in state.reason


async def test_wrong_types(fake: FakeGluetun, client: httpx.AsyncClient) -> None:
    fake.wrong_types()
    state = await check(client, fake.publicip_url)
    assert (state.verified, state.kind) == (False, "bad_answer")
    assert "'public_ip' should be a string, got int" in state.reason


@pytest.mark.parametrize("api_key", [None, "wrong-key"])
async def test_control_server_401(
    fake: FakeGluetun, client: httpx.AsyncClient, api_key: str | None
) -> None:
    state = await check(client, fake.publicip_url, api_key=api_key)
    assert (state.verified, state.kind) == (False, "auth")
    assert "HTTP 401 Unauthorized" in state.reason
    assert "API key" in state.reason
    assert ("no API key was sent" in state.reason) == (api_key is None)
    assert fake.unauthorized == 1


async def test_tunnel_down_empty_ip(fake: FakeGluetun, client: httpx.AsyncClient) -> None:
    fake.tunnel_down()
    state = await check(client, fake.publicip_url)
    assert (state.verified, state.kind, state.ip) == (False, "tunnel_down", None)
    assert "no public IP" in state.reason


async def test_http_500(fake: FakeGluetun, client: httpx.AsyncClient) -> None:
    fake.http_error(500)
    state = await check(client, fake.publicip_url)
    assert (state.verified, state.kind) == (False, "http_status")
    assert "HTTP 500 Internal Server Error" in state.reason
    fake.healthy()
    assert (await check(client, fake.publicip_url)).verified


async def test_wrong_path_404_hints_at_url(fake: FakeGluetun, client: httpx.AsyncClient) -> None:
    state = await check(client, fake.base_url + "/v1/nope")
    assert (state.verified, state.kind) == (False, "http_status")
    assert "/v1/publicip/ip" in state.reason


async def test_connection_refused(client: httpx.AsyncClient) -> None:
    async with open_fake_gluetun() as gone:
        url = gone.publicip_url
    state = await check(client, url)  # the server is closed now: nothing listens
    assert (state.verified, state.kind) == (False, "unreachable")
    assert url in state.reason


async def test_oversized_answer_is_rejected(fake: FakeGluetun, client: httpx.AsyncClient) -> None:
    fake.set_exit(country="United Kingdom", organization="x" * 100_000)
    state = await check(client, fake.publicip_url)
    assert (state.verified, state.kind) == (False, "bad_answer")
    assert "more than" in state.reason


def test_bad_urls_are_config_errors() -> None:
    client = httpx.AsyncClient()
    for url in ["ftp://x/y", "localhost:8000", "http://", ""]:
        with pytest.raises(ConfigError):
            EgressChecker(client, url)
    with pytest.raises(ConfigError, match="timeout"):
        EgressChecker(client, "http://x/", timeout=0)


async def test_api_key_never_leaks(
    fake: FakeGluetun, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, api_key: str
) -> None:
    assert api_key == API_KEY
    caplog.set_level(logging.DEBUG)
    url = fake.publicip_url.replace("http://", "http://user:pw-secret@")
    checker = EgressChecker(client, url, api_key=API_KEY, timeout=0.3)
    states = [await checker.check(POLICY)]
    for knob in (fake.tunnel_down, fake.garbage, lambda: fake.http_error(500), fake.hang):
        knob()
        states.append(await checker.check(POLICY))
    states.append(await check(client, fake.publicip_url, api_key="not-" + API_KEY))
    settings = EgressSettings(url=url, api_key=API_KEY)
    texts = [repr(checker), str(checker), repr(settings), repr(fake), caplog.text]
    texts += [s.reason for s in states] + [repr(s) for s in states]
    for text in texts:
        assert API_KEY not in text
        assert "pw-secret" not in text
    assert "'***'" in repr(checker)
    assert "'***'" in repr(settings)
    assert states[0].verified  # the key did work
