"""examples/watch_prices.py: one matched game's top of book on both venues, side by side,
from the demo venues (Kalshi direct, Polymarket through the monitor on the bus)."""

from __future__ import annotations

from functools import partial

import pytest
import trio
from demo_venues import EGRESS_API_KEY, open_demo_venues
from example_support import wait_for
from watch_prices import watch

import arbees
from arbees.messages import GAME_ASSIGNMENTS_HASH, TOKEN_ASSIGNMENTS_HASH, TeamLeg


async def test_board_shows_both_venues_side_by_side() -> None:
    frames: list[str] = []
    async with open_demo_venues() as venues, arbees.open_bus("memory://") as bus:
        teams = (
            TeamLeg("NBA:OKC", venues.k_okc, venues.p_okc),
            TeamLeg("NBA:SAS", venues.k_sas, venues.p_sas),
        )
        game = arbees.MarketAssignment(
            "kalshi", venues.event_ticker, "", "s1", "NBA", venues.event_ticker, teams=teams
        )
        await bus.hset(GAME_ASSIGNMENTS_HASH, venues.event_ticker, game)
        for token in (venues.p_okc, venues.p_sas):
            assignment = arbees.MarketAssignment(
                "polymarket", venues.condition, token, "s1", "NBA", venues.event_ticker
            )
            await bus.hset(TOKEN_ASSIGNMENTS_HASH, token, assignment)
        async with (
            arbees.open_monitor(
                bus,
                egress_url=venues.egress_url,
                egress_api_key=EGRESS_API_KEY,
                ws_url=venues.polymarket_ws_url,
                clob_url=venues.clob_url,
            ),
            trio.open_nursery() as nursery,
        ):
            nursery.start_soon(
                partial(
                    watch,
                    bus,
                    None,  # the first assigned game
                    kalshi_ws_url=venues.kalshi_ws_url,
                    refresh=0.05,
                    out=frames.append,
                )
            )
            await wait_for(lambda: bool(frames) and "0.45" in frames[-1] and "0.6 " in frames[-1])
            nursery.cancel_scope.cancel()
    lines = frames[-1].splitlines()
    assert lines[0].startswith(f"{venues.event_ticker} (NBA)")
    assert lines[1].split("|")[1].split() == ["Kalshi", "bid", "ask", "size"]
    # Kalshi OKC: YES bid 0.38, YES ask 1 - NO bid 0.60 = 0.40; Polymarket Thunder 0.38/0.45.
    assert lines[2].split() == ["NBA:OKC", "|", "0.38", "0.4", "100", "|", "0.38", "0.45", "100"]
    assert lines[3].split() == ["NBA:SAS", "|", "0.5", "0.6", "100", "|", "0.55", "0.62", "100"]


async def test_unknown_game_names_the_known_ones() -> None:
    async with arbees.open_bus("memory://") as bus:
        with pytest.raises(arbees.ConfigError, match="none yet"):
            await watch(bus, "NOPE", kalshi_ws_url="ws://127.0.0.1:9/", out=print)
