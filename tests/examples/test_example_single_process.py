"""examples/single_process.py --demo: orchestrator, monitor, shard and bot in one process
find the demo venues' game, assign it live, and paper-trade the opportunity it opens."""

from __future__ import annotations

import pytest
from single_process import main


def test_demo_runs_the_whole_system_offline() -> None:
    lines: list[str] = []
    assert main(["--demo", "--duration", "7", "--sports", "NBA"], out=lines.append) == 0
    text = "\n".join(lines)
    assert lines[0] == "stack ready: orchestrator, monitor, shard local, bot (demo venues)"
    assert "demo: Polymarket's Spurs ask drops to 0.50" in text
    # The game reached the shard through a LIVE assignment (nothing was stored beforehand),
    # both venues' books reached it, and the bot took the opportunity on paper.
    buy = next(line for line in lines if line.startswith("BUY"))
    assert "NBA:OKC KalshiYes+PolyNo size 100 cost $92.93 profit $+7.07" in buy
    assert any(line.startswith("CLOSE") for line in lines)
    summary = lines[-1]
    assert summary.startswith("summary: ")
    assert "0 skipped" in summary
    assert "P&L $+7.07" in summary or "P&L $+14.14" in summary


def test_bad_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--demo", "--min-profit", "-1"]) == 2
    assert "--min-profit" in capsys.readouterr().err
