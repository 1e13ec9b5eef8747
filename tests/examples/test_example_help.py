"""Every example is a runnable script: ``python examples/NAME.py --help`` works and names
its documented options (a fresh interpreter, as a user or the container runs it)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from example_support import EXAMPLES

OPTIONS = {
    "custom_bot.py": ["--redis-url", "--min-profit", "--sports", "--duration"],
    "single_process.py": ["--demo", "--duration", "--min-profit", "--sports", "--egress-url"],
    "watch_prices.py": ["--redis-url", "--game", "--kalshi-ws-url", "--refresh", "--duration"],
    "alert_relay.py": ["--redis-url", "--webhook-url", "--retries", "--min-severity"],
}


def test_every_script_is_covered() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py")} - {"demo_venues.py"}
    assert scripts == set(OPTIONS)


@pytest.mark.parametrize("script", sorted(OPTIONS))
def test_help(script: str) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: ")
    for option in OPTIONS[script]:
        assert option in out.stdout, option
