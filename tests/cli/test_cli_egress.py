"""Every command that reaches Polymarket refuses to start without an egress source, unless
the explicit opt-out POLYMARKET_EGRESS_CHECK=off is set (then it warns loudly)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from arbees.cli import main

TOKEN = "1" * 20
EGRESS_VARS = ("EGRESS_CHECK_URL", "POLYMARKET_EGRESS_CHECK", "POLYMARKET_VIA_REDIS")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in EGRESS_VARS:
        monkeypatch.delenv(name, raising=False)
    # the record command configures logging for a terminal: undo it, or its handler keeps
    # writing to this test's (then closed) captured stderr
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    "argv",
    [
        ["shard", "--polymarket-via-redis", "false"],
        ["orchestrator"],
        ["record", "polymarket", "--tokens", TOKEN, "--out", "unused.jsonl"],
    ],
    ids=["direct-shard", "orchestrator", "record"],
)
def test_no_egress_source_is_a_clear_start_failure(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "EGRESS_CHECK_URL" in err
    assert "Traceback" not in err


def test_a_shard_reading_polymarket_from_the_bus_needs_no_egress_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from arbees.cli import cmd_shard

    started: list[str] = []
    monkeypatch.setattr(
        cmd_shard, "run_service", lambda args, name, body: started.append(name) or 0
    )
    assert main(["shard", "--polymarket-via-redis", "true"]) == 0
    assert started == ["shard"]


def test_an_unreadable_switch_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POLYMARKET_EGRESS_CHECK", "sometimes")
    assert main(["record", "polymarket", "--tokens", TOKEN, "--out", "x.jsonl"]) == 2
    assert "POLYMARKET_EGRESS_CHECK" in capsys.readouterr().err


def test_the_opt_out_records_without_a_check_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("POLYMARKET_EGRESS_CHECK", "off")
    out = tmp_path / "frames.jsonl"
    url = f"ws://127.0.0.1:{_closed_port()}/ws/market"
    with caplog.at_level(logging.WARNING):
        code = main(
            ["record", "polymarket", "--tokens", TOKEN, "--out", str(out), "--url", url,
             "--duration", "0.5"]
        )  # fmt: skip
    assert code == 0
    assert "wrote 0 frames" in capsys.readouterr().out
    loud = [r.getMessage() for r in caplog.records if "IS NOT CHECKED" in r.getMessage()]
    assert len(loud) == 1
    assert "POLYMARKET_EGRESS_CHECK=off" in loud[0]
