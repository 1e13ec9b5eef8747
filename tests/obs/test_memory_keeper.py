"""A burst's freed memory goes back to the system once the process grew (issue 18: the
10,000-token monitor held 114 MB resident after its snapshots, 94 MB after a release)."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from arbees.obs import memory
from arbees.obs.memory import MemoryKeeper, release_free_memory, resident_bytes

MB = 1 << 20


def _burst(total: int) -> list[bytes]:
    """Allocate ``total`` bytes in 1 KiB objects, keep one in 16 (so the freed memory is
    spread over the heap, not at its top where ``free`` alone gives it back)."""
    chunks = [bytes(1024) + i.to_bytes(4, "little") for i in range(total // 1024)]
    return chunks[::16]


@pytest.mark.skipif(not MemoryKeeper.supported(), reason="needs Linux with glibc")
async def test_after_a_burst_the_keeper_hands_free_memory_back() -> None:
    keeper = MemoryKeeper(growth=8 * MB, interval=0.05)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(keeper.run)
        await trio.sleep(0.01)  # its floor: the process before the burst
        kept = _burst(96 * MB)
        grown = resident_bytes()
        assert grown is not None
        with trio.fail_after(5):
            while not keeper.releases:  # noqa: ASYNC110 (a counter, no event to wait on)
                await trio.sleep(0.05)
        after = resident_bytes()
        nursery.cancel_scope.cancel()
    assert after is not None
    assert keeper.released_bytes >= 24 * MB  # most of the 90 MB the burst freed
    assert after <= grown - 24 * MB
    assert len(kept) == 96 * MB // 1024 // 16


@pytest.mark.skipif(not MemoryKeeper.supported(), reason="needs Linux with glibc")
async def test_a_process_that_does_not_grow_is_left_alone() -> None:
    keeper = MemoryKeeper(growth=64 * MB, interval=0.01)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(keeper.run)
        await trio.sleep(0.2)
        nursery.cancel_scope.cancel()
    assert keeper.releases == 0


async def test_where_the_c_library_cannot_release_the_keeper_does_not_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "_TRIM", None)
    assert release_free_memory() is False
    assert MemoryKeeper.supported() is False
    with trio.fail_after(1):
        await MemoryKeeper(interval=0.01).run()  # returns at once, never loops


def test_releasing_is_supported_wherever_the_c_library_is_glibc() -> None:
    """The keeper's tests above run wherever this says so (CI: Linux with glibc)."""
    import platform
    import sys

    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert MemoryKeeper.supported() is glibc
