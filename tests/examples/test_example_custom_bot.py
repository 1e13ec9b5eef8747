"""examples/custom_bot.py: the filter, the paper book, the bot on a memory bus, and the
script end to end against a real Redis (as the compose ``bot`` service runs it)."""

from __future__ import annotations

import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
import trio
from custom_bot import PaperBook, SignalFilter, main, run_bot
from example_support import EXAMPLES, ONE, make_signal, wait_for

import arbees
from arbees.testing.redis_server import RedisServer


def test_filter_by_sport_and_minimum_profit() -> None:
    f = SignalFilter(min_profit=ONE, sports=frozenset({"NBA"}))
    assert f.reason_to_skip(make_signal(profit=2 * ONE)) is None
    assert f.reason_to_skip(make_signal(profit=ONE)) is None  # at the minimum: taken
    assert f.reason_to_skip(make_signal(profit=ONE - 1)) == "profit $0.999999 < $1"
    assert "sport NHL" in (f.reason_to_skip(make_signal(team="NHL:BOS")) or "")
    assert SignalFilter().reason_to_skip(make_signal(team="NHL:BOS", profit=0)) is None


def test_paper_book_takes_each_opportunity_once_and_keeps_exact_pnl() -> None:
    book = PaperBook(SignalFilter(min_profit=ONE // 2))
    first = book.on_signal(make_signal("a", profit=7_070_000))
    assert first is not None
    assert first.startswith("BUY")
    assert "cost $92.93 profit $+7.07 | positions 1, P&L $+7.07" in first
    assert book.on_signal(make_signal("a", profit=7_070_000)) is None  # a repeat
    assert book.on_signal(make_signal("a", event="update", profit=9 * ONE)) is None
    assert (book.on_signal(make_signal("b", profit=ONE // 4)) or "").startswith("SKIP")
    book.on_signal(make_signal("c", profit=1))  # skipped too
    line = book.on_signal(make_signal("a", event="close", profit=0))
    assert line is not None
    assert line.startswith("CLOSE")
    assert book.on_signal(make_signal("b", event="close")) is None  # never taken
    assert (book.pnl, book.cost, len(book.positions), book.skipped) == (7_070_000, 92_930_000, 1, 2)
    assert book.summary() == (
        "summary: 7 signals seen, 2 skipped by the filter, 1 positions, cost $92.93, P&L $+7.07"
    )


async def test_bot_on_the_memory_bus() -> None:
    lines: list[str] = []
    book = PaperBook(SignalFilter(sports=frozenset({"NBA"})))
    async with arbees.open_bus("memory://") as bus, trio.open_nursery() as nursery:
        await nursery.start(partial(run_bot, bus, book, out=lines.append))
        await bus.publish(arbees.Channel.SIGNALS, make_signal("a"))
        await bus.publish(arbees.Channel.SIGNALS, make_signal("b", team="NHL:BOS"))
        alert = arbees.SystemAlert("X", "test", "not a signal", 0)
        await bus.publish(arbees.Channel.SIGNALS, alert)  # other types are skipped
        await bus.publish(arbees.Channel.SIGNALS, make_signal("a", event="close"))
        await wait_for(lambda: len(lines) == 3)
        nursery.cancel_scope.cancel()
    assert [line.split()[0] for line in lines] == ["BUY", "SKIP", "CLOSE"]


def test_bad_min_profit_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--min-profit", "lots", "--redis-url", "memory://"]) == 2
    assert "--min-profit" in capsys.readouterr().err


def test_unreadable_password_file_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("REDIS_PASSWORD_FILE", str(tmp_path / "missing"))
    assert main(["--redis-url", "redis://bot@127.0.0.1:1/0"]) == 2
    assert "REDIS_PASSWORD_FILE: cannot read" in capsys.readouterr().err


@pytest.mark.redis
async def test_script_end_to_end_on_redis(redis_server: RedisServer) -> None:
    """The script as the container runs it: a subprocess on Redis, signals published."""
    url = redis_server.url
    cmd = [sys.executable, str(EXAMPLES / "custom_bot.py"), "--redis-url", url,
           "--min-profit", "0.50", "--sports", "NBA", "--duration", "4"]  # fmt: skip
    proc = await trio.lowlevel.open_process(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stderr is not None
    out = b""
    try:
        with trio.fail_after(20):
            while b"listening" not in out:  # printed once subscribed: nothing is lost after
                chunk = await proc.stdout.receive_some()
                assert chunk, "the bot exited early"
                out += chunk
            async with arbees.open_bus(url) as bus:
                await bus.publish(arbees.Channel.SIGNALS, make_signal("nba", profit=2 * ONE))
                await bus.publish(arbees.Channel.SIGNALS, make_signal("small", profit=ONE // 10))
                await bus.publish(arbees.Channel.SIGNALS, make_signal("nhl", team="NHL:BOS"))
                await bus.publish(arbees.Channel.SIGNALS, make_signal("nba", event="close"))
            while chunk := await proc.stdout.receive_some():
                out += chunk
            await proc.wait()
    finally:
        proc.kill()
        await proc.wait()
    text = out.decode()
    assert proc.returncode == 0, (await proc.stderr.receive_some()).decode()
    assert f"listening on {url} (min profit $0.5, sports NBA)" in text
    assert "BUY   KXNBAGAME-26NOV26OKCSAS NBA:OKC KalshiYes+PolyNo size 100 cost $98" in text
    assert "SKIP  KXNBAGAME-26NOV26OKCSAS NBA:OKC KalshiYes+PolyNo (profit $0.1 < $0.5)" in text
    assert "(sport NHL not in NBA)" in text
    assert "CLOSE KXNBAGAME-26NOV26OKCSAS" in text
    assert "1 positions, cost $98, P&L $+2" in text.splitlines()[-1]
