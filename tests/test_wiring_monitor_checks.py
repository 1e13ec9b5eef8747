"""The monitor built by the wiring judges each token with its venue's own instrument check.

``wiring.build_monitor`` hands the monitor the registry's Polymarket ``accepts``: a token
that check refuses is a counted refusal of that assignment, never streamed, while a token
it accepts is kept. The check is swapped in the registry for a stricter one here, so the
test fails if the wiring stops passing the registry's check (the monitor's own default
would accept both tokens).
"""

from __future__ import annotations

import attrs
import pytest
import trio

import arbees.venues
from arbees.bus.memory import MemoryBus
from arbees.egress import EgressSettings
from arbees.identifiers import is_token_id
from arbees.messages import TOKEN_ASSIGNMENTS_HASH, MarketAssignment
from arbees.venues import VENUES
from arbees.wiring import MonitorSettings, build_monitor

KEPT = str(10**70 + 2)
REFUSED = str(10**70 + 1)  # a valid token id, refused by the stricter check below


def _even_only(token: str) -> bool:
    return is_token_id(token) and int(token) % 2 == 0


def _assignment(token: str) -> MarketAssignment:
    return MarketAssignment(
        platform="polymarket", market_id="0x" + "cd" * 32, token_id=token, shard_id="s1",
        sport="NBA", game_id="g1", epoch=1,
    )  # fmt: skip


async def test_build_monitor_rejects_a_token_its_venues_check_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert is_token_id(REFUSED)
    assert is_token_id(KEPT)
    strict = attrs.evolve(VENUES["polymarket"], accepts=_even_only)
    monkeypatch.setattr(arbees.venues, "VENUES", {**VENUES, "polymarket": strict})
    bus = MemoryBus()
    for token in (KEPT, REFUSED):
        await bus.hset(TOKEN_ASSIGNMENTS_HASH, token, _assignment(token))
    # Egress is never verified (nothing listens there): the stored assignments are judged
    # before any feed starts, so no venue is contacted.
    settings = MonitorSettings(
        egress=EgressSettings(url="http://127.0.0.1:9/json", timeout=0.5),
        audit_interval=0,
        heartbeat_interval=0.05,
    )
    async with build_monitor(settings, bus) as monitor, trio.open_nursery() as nursery:
        assert monitor.accepts is _even_only
        nursery.start_soon(monitor.run)
        with trio.fail_after(5):
            while monitor.stats.rejected_assignments < 1:  # noqa: ASYNC110
                await trio.sleep(0.01)
        assert set(monitor.tokens) == {KEPT}
        assert monitor.stats.rejected_assignments == 1
        nursery.cancel_scope.cancel()
