"""``arbees check-egress`` against the fake control server running in the test's nursery.

The CLI calls ``trio.run`` itself, so it runs in a worker thread while the fake server is
served by the test's own Trio loop.
"""

from __future__ import annotations

import json

import pytest
import trio

from arbees.cli import main
from arbees.testing.fake_gluetun import FakeGluetun


async def run_cli(argv: list[str]) -> int:
    with trio.fail_after(20):
        return await trio.to_thread.run_sync(main, argv)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, api_key: str) -> None:
    for name in (
        "EGRESS_CHECK_URL",
        "EGRESS_FORBIDDEN_COUNTRIES",
        "EGRESS_REQUIRED_COUNTRIES",
        "EGRESS_CHECK_TIMEOUT",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EGRESS_CHECK_API_KEY", api_key)


async def test_verified_exits_0_and_prints_country_and_ip(
    fake: FakeGluetun, capsys: pytest.CaptureFixture[str], api_key: str
) -> None:
    assert await run_cli(["check-egress", "--url", fake.publicip_url]) == 0
    out = capsys.readouterr()
    assert "egress VERIFIED" in out.out
    assert "GB (United Kingdom)" in out.out
    assert "203.0.113.7" in out.out
    assert api_key not in out.out + out.err


async def test_forbidden_exits_1_and_explains(
    fake: FakeGluetun, capsys: pytest.CaptureFixture[str], api_key: str
) -> None:
    fake.set_exit(country="United States", ip="198.51.100.9")
    assert await run_cli(["check-egress", "--url", fake.publicip_url]) == 1
    out = capsys.readouterr()
    assert "egress NOT VERIFIED (forbidden_country)" in out.out
    assert "US (United States)" in out.out
    assert "198.51.100.9" in out.out
    assert api_key not in out.out + out.err


async def test_env_url_json_and_policy_from_env(
    fake: FakeGluetun,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    api_key: str,
) -> None:
    monkeypatch.setenv("EGRESS_CHECK_URL", fake.ipinfo_url)
    monkeypatch.setenv("EGRESS_REQUIRED_COUNTRIES", "Netherlands,Germany")
    assert await run_cli(["check-egress", "--json"]) == 1
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["verified"] is False
    assert verdict["kind"] == "country_not_allowed"
    assert (verdict["country"], verdict["ip"]) == ("GB", "203.0.113.7")
    assert verdict["source"] == fake.ipinfo_url
    assert verdict["policy"] == "forbidden: US; required: DE, NL"
    fake.set_exit(country="Netherlands")
    assert await run_cli(["check-egress", "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["country"] == "NL"
    assert api_key not in out


async def test_forbidden_option_overrides_default(
    fake: FakeGluetun, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check-egress", "--url", fake.publicip_url, "--forbidden", "UK, Russia"]
    assert await run_cli(argv) == 1
    assert "forbidden: GB, RU" in capsys.readouterr().out


async def test_wrong_or_missing_api_key_exits_1_without_printing_keys(
    fake: FakeGluetun,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    api_key: str,
) -> None:
    wrong = "wrong-" + api_key[::-1]
    monkeypatch.setenv("OTHER_KEY", wrong)
    argv = ["check-egress", "--url", fake.publicip_url, "--api-key-env", "OTHER_KEY"]
    assert await run_cli(argv) == 1
    out = capsys.readouterr()
    assert "(auth)" in out.out
    assert "HTTP 401" in out.out
    assert "an API key was sent" in out.out
    assert wrong not in out.out + out.err
    assert api_key not in out.out + out.err
    monkeypatch.delenv("EGRESS_CHECK_API_KEY")
    assert await run_cli(["check-egress", "--url", fake.publicip_url]) == 1
    assert "no API key was sent" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("fault", "kind"),
    [("tunnel_down", "tunnel_down"), ("garbage", "bad_answer"), ("hang", "timeout")],
)
async def test_failures_exit_1(
    fake: FakeGluetun, capsys: pytest.CaptureFixture[str], fault: str, kind: str
) -> None:
    getattr(fake, fault)()
    argv = ["check-egress", "--url", fake.publicip_url, "--timeout", "0.3"]
    assert await run_cli(argv) == 1
    assert f"egress NOT VERIFIED ({kind})" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check-egress"], "EGRESS_CHECK_URL"),
        (["check-egress", "--url", "ftp://x/"], "http:// or https://"),
        (["check-egress", "--url", "http://127.0.0.1:1/", "--forbidden", "Atlantis"], "Atlantis"),
        (["check-egress", "--url", "http://127.0.0.1:1/", "--required", "US"], "also forbidden"),
        (["check-egress", "--url", "http://127.0.0.1:1/", "--timeout", "-1"], "positive"),
    ],
)
async def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert await run_cli(argv) == 2
    err = capsys.readouterr().err
    assert "arbees check-egress: error:" in err
    assert message in err


async def test_argparse_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        await run_cli(["check-egress", "--timeout", "soon"])
    assert exc.value.code == 2
