"""The fake Gluetun control server itself: routes, auth, knobs, keep-alive."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
import trio

from arbees.testing.fake_gluetun import FakeGluetun, main, open_fake_gluetun
from arbees.testing.http_proxy import ForwardProxy


async def test_routes_and_auth(fake: FakeGluetun, client: httpx.AsyncClient, api_key: str) -> None:
    auth = {"X-API-Key": api_key}
    with trio.fail_after(10):
        r = await client.get(fake.publicip_url)
        assert r.status_code == 401
        r = await client.get(fake.publicip_url, headers=auth)
        assert r.status_code == 200
        assert r.json()["public_ip"] == "203.0.113.7"
        assert r.json()["country"] == "United Kingdom"
        assert {"region", "city", "organization"} <= r.json().keys()
        r = await client.get(fake.base_url + "/v1/vpn/status", headers=auth)
        assert r.json() == {"status": "running"}
        r = await client.get(fake.ipinfo_url, headers=auth)
        assert (r.json()["ip"], r.json()["country"]) == ("203.0.113.7", "GB")
        r = await client.get(fake.ipinfo_url)  # ipinfo.io's stand-in asks for no key
        assert (r.status_code, r.json()["country"]) == (200, "GB")

        # Gluetun's own way to stop the VPN takes the tunnel down
        r = await client.put(
            fake.base_url + "/v1/vpn/status", headers=auth, json={"status": "stopped"}
        )
        assert r.json() == {"outcome": "stopped"}
        r = await client.get(fake.publicip_url, headers=auth)
        assert r.json()["public_ip"] == ""
        r = await client.get(fake.base_url + "/v1/vpn/status", headers=auth)
        assert r.json() == {"status": "stopped"}

        # fake-only: move the exit (brings the tunnel up, like set_exit)
        r = await client.put(
            fake.base_url + "/fake/exit",
            headers=auth,
            json={"country": "Netherlands", "ip": "203.0.113.50"},
        )
        assert r.status_code == 200
        r = await client.get(fake.publicip_url, headers=auth)
        assert (r.json()["public_ip"], r.json()["country"]) == ("203.0.113.50", "Netherlands")

        r = await client.put(fake.base_url + "/fake/exit", headers=auth, content=b"junk")
        assert r.status_code == 400
        r = await client.get(fake.base_url + "/nope", headers=auth)
        assert r.status_code == 404
    assert fake.unauthorized == 1
    assert fake.requests == 12


async def test_the_http_proxy_forwards_to_the_exit_check_and_records_the_route(
    fake: FakeGluetun,
) -> None:
    """Gluetun's HTTPPROXY stand-in: an ``http://`` request through it reaches its target."""
    proxy = ForwardProxy()
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await nursery.start(proxy.run)
            async with httpx.AsyncClient(proxy=f"http://127.0.0.1:{port}") as via:
                r = await via.get(fake.ipinfo_url)
            nursery.cancel_scope.cancel()
    assert (r.status_code, r.json()["country"]) == (200, "GB")
    assert proxy.targets == [fake.ipinfo_url.split("/")[2]]


async def test_knobs(fake: FakeGluetun, client: httpx.AsyncClient, api_key: str) -> None:
    auth = {"X-API-Key": api_key}
    with trio.fail_after(10):
        fake.http_error(503)
        assert (await client.get(fake.publicip_url, headers=auth)).status_code == 503
        fake.garbage()
        assert (await client.get(fake.publicip_url, headers=auth)).content.startswith(b"<html>")
        fake.healthy()
        fake.style = "ipinfo"
        r = await client.get(fake.publicip_url, headers=auth)
        assert r.json()["country"] == "GB"
        fake.hang()
        with trio.move_on_after(0.2) as hung:
            await client.get(fake.publicip_url, headers=auth)
        assert hung.cancelled_caught
    assert "api_key='***'" in repr(fake)
    assert api_key not in repr(fake)


async def test_open_fake_gluetun_without_key() -> None:
    with trio.fail_after(10):
        async with open_fake_gluetun(country="Japan", ip="192.0.2.1") as fake:
            async with httpx.AsyncClient(trust_env=False) as client:
                r = await client.get(fake.publicip_url)
            assert r.json()["country"] == "Japan"


async def test_standalone_entry_point_serves() -> None:
    """``python -m arbees.testing.fake_gluetun`` (the local rehearsal's control server)."""
    with trio.socket.socket() as sock:
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv = [sys.executable, "-m", "arbees.testing.fake_gluetun", "--port", str(port)]
    proc = await trio.lowlevel.open_process([*argv, "--country", "Sweden"], stdout=subprocess.PIPE)
    try:
        with trio.fail_after(15):
            assert proc.stdout is not None
            line = b""
            while b"\n" not in line:
                line += await proc.stdout.receive_some(1024)
            assert f"http://127.0.0.1:{port}".encode() in line
            async with httpx.AsyncClient(trust_env=False) as client:
                r = await client.get(f"http://127.0.0.1:{port}/v1/publicip/ip")
            assert r.json()["country"] == "Sweden"
    finally:
        proc.terminate()
        with trio.move_on_after(5):
            await proc.wait()
        if proc.returncode is None:  # pragma: no cover
            proc.kill()
            await proc.wait()
        if proc.stdout is not None:
            await proc.stdout.aclose()


def test_standalone_refuses_a_missing_key_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FAKE_GLUETUN_TEST_KEY", raising=False)
    with pytest.raises(SystemExit) as exc:
        main(["--api-key-env", "FAKE_GLUETUN_TEST_KEY"])
    assert exc.value.code == 2
    assert "FAKE_GLUETUN_TEST_KEY is not set" in capsys.readouterr().err
