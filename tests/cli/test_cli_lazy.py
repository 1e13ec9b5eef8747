"""A service imports its own command, not every command (the benchmarks, the demo ...)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from arbees.cli import build_parser, main

_PROBE = """
import json, sys
from arbees.cli import build_parser
build_parser(sys.argv[1])
names = ("arbees.cli.cmd_", "arbees.bench")
print(json.dumps(sorted(m for m in sys.modules if m.startswith(names))))
"""


@pytest.mark.parametrize("command", ["monitor", "shard", "orchestrator", "check-egress"])
def test_a_command_builds_its_own_parser_only(command: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, command], capture_output=True, text=True, check=True
    )
    own = "arbees.cli.cmd_" + command.replace("-", "_")
    # a service's command shares `arbees record <service>`'s recorder option, nothing else
    shared = {"arbees.cli.cmd_record"} if command in ("monitor", "shard") else set()
    assert set(json.loads(out.stdout)) == {own} | shared


def test_without_a_known_command_every_command_is_listed() -> None:
    parser = build_parser()
    help_text = parser.format_help()
    for command in ("monitor", "shard", "orchestrator", "bench", "demo", "check-egress"):
        assert command in help_text
    assert build_parser("nosuch").format_help() == help_text  # an unknown name: all of them


def test_main_parses_a_command_and_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["monitor", "--help"])
    assert stop.value.code == 0
    assert "--redis-url" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:
        main(["nosuch"])
    assert stop.value.code == 2
    assert "invalid choice: 'nosuch'" in capsys.readouterr().err


_SIGNING_PROBE = """
import sys
from arbees.cli import build_parser
build_parser("monitor")
import arbees.cli.cmd_monitor, arbees.wiring.build, arbees.services.monitor
import arbees.polymarket.feed, arbees.kalshi.feed, arbees.polymarket_us.feed
from arbees.kalshi.auth import KalshiSigner
from arbees.polymarket_us.auth import PolymarketUsSigner
assert KalshiSigner.from_env({}) is None and PolymarketUsSigner.from_env({}) is None
print("cryptography" in sys.modules)
"""


def test_a_service_that_signs_nothing_does_not_load_cryptography() -> None:
    # A Polymarket monitor holds no venue key: every venue's code is importable without
    # `cryptography` (7.5 MB of RSS in such a process), which loads with the first key.
    out = subprocess.run(
        [sys.executable, "-c", _SIGNING_PROBE], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
