"""The folded game state: conservative ranking, newest within a rank, bounded store."""

from __future__ import annotations

import attrs
import pytest

from arbees.codec import decode, encode
from arbees.gamestate import GameStates, fold
from arbees.messages import ArbSignal, GameState


def state(venue: str, phase: str, ts: int, key: str = "g") -> GameState:
    return GameState(venue=venue, key=key, phase=phase, timestamp_ms=ts, score=f"{ts}-0")


def test_no_report_no_state() -> None:
    assert fold([]) is None
    assert GameStates().state({"polymarket": "g"}) is None


@pytest.mark.parametrize(
    ("a", "b", "winner"),
    [
        ("live", "ended", "ended"),
        ("live", "postponed", "postponed"),
        ("ended", "cancelled", "cancelled"),
        ("scheduled", "live", "live"),
        ("postponed", "ended", "postponed"),
    ],
)
def test_the_more_final_phase_wins_whatever_its_age(a: str, b: str, winner: str) -> None:
    # b is older than a: it still wins when it ranks higher
    folded = fold([state("polymarket", a, 2_000), state("kalshi", b, 1_000)])
    assert folded is not None
    assert folded.phase == winner
    assert folded.halted == (winner in ("ended", "postponed", "cancelled"))


def test_within_a_rank_the_newest_report_gives_score_and_period() -> None:
    folded = fold([state("polymarket", "live", 5), state("kalshi", "live", 9)])
    assert folded is not None
    assert (folded.venue, folded.score) == ("kalshi", "9-0")


def test_store_keeps_the_latest_report_per_venue_and_key() -> None:
    states = GameStates()
    assert states.report(state("polymarket", "live", 10))
    assert not states.report(state("polymarket", "scheduled", 5))  # older: ignored
    assert states.report(state("polymarket", "ended", 11))
    assert states.report(state("polymarket", "live", 1, key="other"))
    folded = states.state({"polymarket": "g"})
    assert folded is not None
    assert folded.phase == "ended"
    other = states.state({"polymarket": "other"})
    assert other is not None
    assert other.phase == "live"
    assert states.state({"kalshi": "g"}) is None  # keys are per venue


def test_store_is_bounded_oldest_first() -> None:
    states = GameStates(max_reports=2)
    for i, key in enumerate(("a", "b", "c")):
        states.report(state("polymarket", "live", i, key=key))
    assert len(states) == 2
    assert states.forgotten == 1
    assert states.state({"polymarket": "a"}) is None
    assert states.state({"polymarket": "c"}) is not None


def test_game_state_round_trips_and_refuses_an_unknown_phase() -> None:
    message = state("polymarket", "postponed", 1_700_000_000_000)
    assert decode(encode(message)) == message
    bad = encode(message).replace(b'"postponed"', b'"abandoned"')
    with pytest.raises(Exception, match="phase"):
        decode(bad)


def test_a_signal_without_game_state_still_decodes() -> None:
    signal = ArbSignal(
        signal_id="s",
        event="open",
        shard_id="shard-1",
        game_id="G",
        combo="PolyOnly",
        team="NBA:OKC",
        legs=(),
        size=1,
        cost=1,
        fees=0,
        profit=0,
        edge=0,
        timestamp_ms=1_700_000_000_000,
    )
    payload = encode(signal).replace(b',"game_state":[]', b"")
    assert b"game_state" not in payload
    assert decode(payload) == signal
    carried = attrs.evolve(signal, game_state=(state("polymarket", "live", 1_700_000_000_000),))
    decoded = decode(encode(carried))
    assert isinstance(decoded, ArbSignal)
    assert decoded.game_state[0].phase == "live"
    assert decoded == carried
