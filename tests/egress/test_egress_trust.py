"""Which egress answers are trusted: Gluetun only from loopback and only while its VPN runs.

A Gluetun-shaped answer describes the VPN container's exit. It proves this process's exit
only when the process shares that container's network namespace, i.e. when the control
server is on loopback; and only while ``/v1/vpn/status`` says ``running``. An ipinfo-style
answer is fetched over the guarded route itself, so it counts from any host.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
import trio

from arbees.egress import EgressChecker, EgressPolicy, EgressState
from arbees.egress.checker import is_loopback_host
from arbees.testing.fake_gluetun import FakeGluetun

GLUETUN = {"public_ip": "203.0.113.7", "country": "United Kingdom", "region": "England"}
IPINFO = {"ip": "203.0.113.7", "country": "GB"}


def _control_server(
    publicip: dict[str, str], status: object = "running", seen: list[str] | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(f"{request.url.host}{request.url.path}")
        if request.url.path == "/v1/vpn/status":
            return httpx.Response(200, json={"status": status} if status is not None else {})
        return httpx.Response(200, json=publicip)

    return handler


async def _check(url: str, handler: Callable[[httpx.Request], httpx.Response]) -> EgressState:
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        return await EgressChecker(client, url, timeout=2.0).check(EgressPolicy())


@pytest.mark.parametrize(
    "host", ["localhost", "127.0.0.1", "127.8.9.10", "[::1]", "LOCALHOST", "localhost."]
)
async def test_gluetun_from_loopback_with_a_running_vpn_is_verified(host: str) -> None:
    seen: list[str] = []
    state = await _check(f"http://{host}:8000/v1/publicip/ip", _control_server(GLUETUN, seen=seen))
    assert (state.verified, state.country) == (True, "GB")
    assert [s.split("/", 1)[1] for s in seen] == ["v1/publicip/ip", "v1/vpn/status"]


@pytest.mark.parametrize(
    "host", ["vpn", "gluetun.internal", "10.0.0.5", "172.18.0.2", "[fd00::2]", "localhost.evil"]
)
async def test_gluetun_from_a_non_loopback_host_is_not_trusted(host: str) -> None:
    """A monitor outside the VPN namespace asking http://vpn:8000 must not pass."""
    state = await _check(f"http://{host}:8000/v1/publicip/ip", _control_server(GLUETUN))
    assert (state.verified, state.kind) == (False, "untrusted_source")
    assert "not a loopback address" in state.reason


@pytest.mark.parametrize("status", ["stopped", "crashed", "", None, 1])
async def test_gluetun_is_trusted_only_while_the_vpn_status_is_running(status: object) -> None:
    state = await _check(
        "http://127.0.0.1:8000/v1/publicip/ip", _control_server(GLUETUN, status=status)
    )
    assert not state.verified
    expected = "tunnel_down" if isinstance(status, str) else "bad_answer"
    assert state.kind == expected
    assert "/v1/vpn/status" in state.reason


async def test_a_failing_vpn_status_endpoint_fails_closed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/vpn/status":
            return httpx.Response(401, text="Unauthorized")
        return httpx.Response(200, json=GLUETUN)

    state = await _check("http://localhost:8000/v1/publicip/ip", handler)
    assert (state.verified, state.kind) == (False, "auth")


async def test_a_forbidden_gluetun_answer_needs_no_status_request() -> None:
    seen: list[str] = []
    us = {"public_ip": "198.51.100.9", "country": "United States"}
    state = await _check("http://localhost:8000/v1/publicip/ip", _control_server(us, seen=seen))
    assert (state.verified, state.kind) == (False, "forbidden_country")
    assert len(seen) == 1


@pytest.mark.parametrize("host", ["ipinfo.io", "10.0.0.5", "127.0.0.1"])
async def test_an_ipinfo_answer_counts_from_any_host(host: str) -> None:
    seen: list[str] = []
    state = await _check(f"https://{host}/json", _control_server(IPINFO, seen=seen))
    assert (state.verified, state.country) == (True, "GB")
    assert len(seen) == 1  # no Gluetun status request for an ipinfo-style source


def test_is_loopback_host() -> None:
    assert all(map(is_loopback_host, ["localhost", "127.0.0.1", "127.255.0.9", "::1", "[::1]"]))
    assert not any(
        map(is_loopback_host, ["vpn", "0.0.0.0", "10.1.2.3", "::", "localhost.evil", ""])
    )


async def test_the_fake_control_server_reports_its_vpn_status(nursery: trio.Nursery) -> None:
    fake = FakeGluetun()
    await nursery.start(fake.run)
    async with httpx.AsyncClient(trust_env=False) as client:
        checker = EgressChecker(client, fake.publicip_url, timeout=2.0)
        assert (await checker.check(EgressPolicy())).verified
        fake.tunnel_running = False  # status "stopped" (and an empty IP, like Gluetun)
        status = await client.get(fake.base_url + "/v1/vpn/status")
        assert json.loads(status.content) == {"status": "stopped"}
        assert not (await checker.check(EgressPolicy())).verified
