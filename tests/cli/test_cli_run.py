"""Entry points stop cleanly on Ctrl-C/SIGINT however Trio delivers it."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from arbees.cli._run import run_trio
from arbees.errors import BusError


async def _interrupt_in_nursery() -> None:
    async def boom() -> None:
        raise KeyboardInterrupt

    async with trio.open_nursery() as nursery:
        nursery.start_soon(boom)
        await trio.sleep_forever()


async def _interrupt_bare() -> None:
    raise KeyboardInterrupt


async def _arbees_error_in_nursery() -> None:
    async def fail() -> None:
        raise BusError("redis://***@host unreachable")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(fail)
        await trio.sleep_forever()


async def _bug() -> None:
    raise RuntimeError("a bug must not be swallowed")


def test_ctrl_c_inside_a_nursery_is_a_clean_stop() -> None:
    assert run_trio("svc", _interrupt_in_nursery) == 0
    assert run_trio("svc", _interrupt_bare) == 0


def test_arbees_errors_exit_1_and_bugs_propagate(caplog: pytest.LogCaptureFixture) -> None:
    assert run_trio("svc", _arbees_error_in_nursery) == 1
    assert "unreachable" in caplog.text
    with pytest.raises(RuntimeError):
        run_trio("svc", _bug)


def test_a_service_process_runs_the_memory_keeper(monkeypatch: pytest.MonkeyPatch) -> None:
    """Handing a burst's free memory back is the process's policy: every service started
    by run_service runs one keeper (counted in process_memory_releases)."""
    import argparse

    from arbees.cli._run import run_service
    from arbees.obs.memory import MemoryKeeper

    running: list[MemoryKeeper] = []

    async def run(self: MemoryKeeper) -> None:
        running.append(self)
        await trio.sleep_forever()

    monkeypatch.setattr(MemoryKeeper, "run", run)
    seen: dict[str, object] = {}

    async def body(bus: object, nursery: trio.Nursery, registry: object) -> None:
        await trio.testing.wait_all_tasks_blocked()
        seen["keepers"] = len(running)
        seen["gauge"] = [m.name for m in registry.collect()]  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    args = argparse.Namespace(
        log_level="WARNING", log_format="text", redis_url="memory://", metrics_port=None
    )
    assert run_service(args, "svc", body) == 0
    assert seen["keepers"] == 1
    assert "arbees_process_memory_releases" in seen["gauge"]  # type: ignore[operator]
