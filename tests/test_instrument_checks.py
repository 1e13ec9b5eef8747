"""Each venue's instrument-id check travels with its ``Venue``: the wiring hands every
registered venue's check to the services, and each service judges an assignment's
instruments with the checks it was given (so a new venue's own check is the one applied)."""

from __future__ import annotations

import pytest

import arbees.wiring.build
from arbees.bus import open_bus
from arbees.identifiers import INSTRUMENT_CHECKS, is_kalshi_ticker, is_token_id
from arbees.messages import TeamLeg
from arbees.obs.metrics import Registry
from arbees.services.shard_engine import ShardEngine
from arbees.venues import VENUES, get_venue, instrument_checks
from arbees.wiring import OrchestratorSettings, ShardSettings, build_orchestrator, build_shard
from tests.services.test_shard_engine import assignment


def test_every_registered_venue_brings_its_own_instrument_check() -> None:
    checks = instrument_checks()
    assert set(checks) == set(VENUES)
    for venue_id, venue in VENUES.items():
        assert checks[venue_id] is venue.accepts
    assert get_venue("kalshi").accepts is is_kalshi_ticker
    assert get_venue("polymarket").accepts is is_token_id
    # what a service uses when built without the wiring is the registry's own checks
    assert dict(INSTRUMENT_CHECKS) == dict(checks)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("KXNBAGAME-26OCT20OKCSAS-OKC", True),
        ("K" * 100, True),
        ("K" * 101, False),
        ("", False),
        ("KX NBA", False),
        ("KX\tNBA", False),
        ("KXNBA-É", False),
        (12, False),
        (None, False),
    ],
)
def test_a_kalshi_ticker_is_short_printable_ascii_without_spaces(value: object, ok: bool) -> None:
    assert is_kalshi_ticker(value) is ok


def _teams(kalshi_prefix: str) -> tuple[TeamLeg, TeamLeg]:
    return (
        TeamLeg("NBA:LAL", f"{kalshi_prefix}-26OCT20LALBOS-LAL", "333"),
        TeamLeg("NBA:BOS", f"{kalshi_prefix}-26OCT20LALBOS-BOS", "444"),
    )


def test_the_shard_engine_judges_instruments_with_the_checks_it_is_given() -> None:
    def nba_only(ticker: str) -> bool:
        return is_kalshi_ticker(ticker) and ticker.startswith("KXNBAGAME-")

    eng = ShardEngine("s1", instrument_checks={**INSTRUMENT_CHECKS, "kalshi": nba_only})
    refused = eng.apply(assignment(game_id="nhl", market_id="m", teams=_teams("KXNHLGAME")))
    assert refused.rejected == "not a kalshi instrument: 'KXNHLGAME-26OCT20LALBOS-LAL'"
    accepted = eng.apply(assignment(game_id="nba", market_id="m", teams=_teams("KXNBAGAME")))
    assert not accepted.rejected
    assert set(eng.games) == {"nba"}
    # the built-in checks accept both
    default = ShardEngine("s1")
    assert not default.apply(assignment(game_id="nhl", teams=_teams("KXNHLGAME"))).rejected


async def test_the_wiring_gives_the_shard_and_orchestrator_the_registered_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registered = {**instrument_checks(), "third": str.isdigit}
    monkeypatch.setattr(arbees.wiring.build, "instrument_checks", lambda: registered)
    orchestrator_settings = OrchestratorSettings(polymarket_egress_check=False)
    async with (
        open_bus("memory://") as bus,
        build_shard(ShardSettings(), bus, registry=Registry()) as shard,
        build_orchestrator(orchestrator_settings, bus) as orchestrator,
    ):
        assert shard.engine.instrument_checks is registered
        assert orchestrator.instrument_checks is registered
