"""The codec reads the previous schema versions: payloads written by versions 1 and 2 decode.

``v1_payloads.jsonl`` holds one payload of every version-1 message type (and the monitor's
assignment form), written by the version-1 encoder (``codec.encode`` at ``SCHEMA_VERSION
= 1``, from :mod:`tests.bus.bus_samples`) before the version was bumped.
``v2_payloads.jsonl`` is the same for version 2 (plus its event assignment and event
signal), written by the version-2 encoder before the bump to version 3. Neither is ever
regenerated: they are what publishers still running those versions send.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from arbees import codec
from arbees.errors import DecodeError
from arbees.messages import (
    MAX_CONTRACTS,
    SCHEMA_VERSION,
    ArbSignal,
    EventContract,
    FeeTerms,
    MarketAssignment,
    SignalLeg,
)

V1 = Path(__file__).with_name("v1_payloads.jsonl")
V2 = Path(__file__).with_name("v2_payloads.jsonl")
V1_KINDS = {
    "PolymarketPriceUpdate",
    "MarketAssignment",
    "SystemAlert",
    "ArbSignal",
    "ShardHeartbeat",
    "ServiceStatus",
}


def _lines(corpus: Path = V1) -> list[bytes]:
    return [line for line in corpus.read_bytes().splitlines() if line.strip()]


def _corpora() -> list[bytes]:
    return _lines(V1) + _lines(V2)


def _same(written: Any, read: Any) -> bool:
    """Every key version 1 wrote is read back with the same value (new fields aside)."""
    if isinstance(written, dict):
        return isinstance(read, dict) and all(_same(v, read.get(k)) for k, v in written.items())
    if isinstance(written, list):
        return (
            isinstance(read, list)
            and len(read) == len(written)
            and all(_same(w, r) for w, r in zip(written, read, strict=True))
        )
    return bool(written == read)


def test_the_corpus_covers_every_version_1_type() -> None:
    kinds = {json.loads(line)["kind"] for line in _lines()}
    assert kinds == V1_KINDS
    assert {json.loads(line)["schema"] for line in _lines()} == {1}


def test_the_v2_corpus_covers_every_version_2_type_and_the_event_forms() -> None:
    objs = [json.loads(line) for line in _lines(V2)]
    assert {o["kind"] for o in objs} == V1_KINDS
    assert {o["schema"] for o in objs} == {2}
    assert any(o["kind"] == "MarketAssignment" and o["contracts"] for o in objs)
    assert any(o["kind"] == "ArbSignal" and o["legs"][0]["outcome"] for o in objs)


@pytest.mark.parametrize(
    "line", _corpora(), ids=lambda b: f"v{json.loads(b)['schema']}-{json.loads(b)['kind']}"
)
def test_an_older_payload_decodes_to_the_same_fields(line: bytes) -> None:
    written = json.loads(line)
    message = codec.decode(line)
    assert type(message).__name__ == written["kind"]
    read = json.loads(codec.encode(message))
    assert read["schema"] == SCHEMA_VERSION == 3
    del written["schema"], read["schema"]
    if written["kind"] == "MarketAssignment":
        # versions 1 and 2 named Kalshi's and Polymarket's fees; version 3 keys them by venue
        assert read["fees"] == [
            {"venue": "kalshi", "kind": "kalshi",
             "multiplier": written.pop("kalshi_fee_multiplier"),
             "rate": "0", "exponent": 1, "min_order_size": None,
             "schedule": "higher", "taker_bps": 30},
            {"venue": "polymarket", "kind": "polymarket", "multiplier": "1",
             "rate": written.pop("poly_fee_rate"), "exponent": written.pop("poly_fee_exponent"),
             "min_order_size": written.pop("poly_min_order_size"),
             "schedule": "higher", "taker_bps": 30},
        ]  # fmt: skip
        assert not {"kalshi_fee_multiplier", "poly_fee_rate"} & set(read)
    assert _same(written, read)


LEGACY_ASSIGNMENT = {
    "schema": 2, "kind": "MarketAssignment", "platform": "kalshi", "market_id": "KX-1",
    "token_id": "", "shard_id": "s1", "sport": "NBA",
}  # fmt: skip


def test_a_legacy_assignment_without_fee_fields_gets_what_version_2_defaulted_to() -> None:
    a = codec.decode(json.dumps(LEGACY_ASSIGNMENT), MarketAssignment)
    assert a.fee_terms("kalshi") == FeeTerms("kalshi", "kalshi", multiplier="1")
    assert a.fee_terms("polymarket") == FeeTerms("polymarket", "polymarket", rate="0")
    assert len(a.fees) == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kalshi_fee_multiplier", "11"),
        ("kalshi_fee_multiplier", 1),
        ("poly_fee_rate", "NaN"),
        ("poly_fee_rate", "0.0000001"),
        ("poly_fee_rate", "abc"),
        ("poly_fee_exponent", 9),
        ("poly_fee_exponent", "1"),
        ("poly_min_order_size", "-1"),
    ],
)
def test_a_bad_legacy_fee_field_is_refused_by_its_own_name(field: str, value: Any) -> None:
    for version in (1, 2):
        with pytest.raises(DecodeError) as info:
            codec.decode(json.dumps({**LEGACY_ASSIGNMENT, "schema": version, field: value}))
        assert info.value.field == field


def test_a_version_3_payload_with_the_legacy_fields_ignores_them() -> None:
    """Version 3 reads only ``fees``: an old field name is an unknown key."""
    obj = {**LEGACY_ASSIGNMENT, "schema": 3, "poly_fee_rate": "0.05"}
    assert codec.decode(json.dumps(obj), MarketAssignment).fees == ()


@pytest.mark.parametrize("version", [0, 4, "1", 1.0, "3", 3.0, None, True])
def test_other_versions_are_refused(version: Any) -> None:
    obj = json.loads(_lines()[0])
    obj["schema"] = version
    with pytest.raises(DecodeError) as info:
        codec.decode(json.dumps(obj))
    assert info.value.field == "schema"


def test_a_version_1_signal_reads_its_legs_without_an_outcome() -> None:
    (line,) = [b for b in _lines() if json.loads(b)["kind"] == "ArbSignal"]
    signal = codec.decode(line, ArbSignal)
    assert signal.combo == "PolyYes+KalshiNo"
    assert [leg.outcome for leg in signal.legs] == ["", ""]


def test_a_version_2_event_signal_round_trips() -> None:
    """Version 2: legs of any venue with their outcomes, and a combo derived from them."""
    outcomes = ("home", "draw", "away")
    venues = ("kalshi", "polymarket", "betfair")
    legs = tuple(
        SignalLeg(venue, f"I-{o}", "yes", 300_000, 310_000, 7_000_000, 10_000, outcome=o)
        for venue, o in zip(venues, outcomes, strict=True)
    )
    label = "kalshi YES home + polymarket YES draw + betfair YES away"
    signal = ArbSignal(
        signal_id="s1:g1:e1", event="open", shard_id="s1", game_id="g1", combo=label,
        team="", legs=legs, size=7_000_000, cost=6_700_000, fees=30_000,
        profit=300_000, edge=42_857, timestamp_ms=1_700_000_000_000,
    )  # fmt: skip
    data = codec.encode(signal)
    assert json.loads(data)["schema"] == SCHEMA_VERSION
    assert codec.decode(data) == signal
    too_many = attrs.evolve(signal, legs=legs + legs[:2])
    with pytest.raises(DecodeError) as info:
        codec.decode(codec.encode(too_many))
    assert info.value.field == "legs"


def test_a_version_2_event_assignment_round_trips_within_its_limits() -> None:
    contracts = tuple(
        EventContract(venue, f"I-{o}", o, side)
        for o in ("home", "draw", "away")
        for venue in ("kalshi", "polymarket")
        for side in ("yes", "no")
    )
    assignment = MarketAssignment(
        platform="kalshi", market_id="KXEPL-1", token_id="", shard_id="s1", sport="EPL",
        game_id="epl-1", outcomes=("home", "draw", "away"), contracts=contracts,
    )  # fmt: skip
    assert codec.decode(codec.encode(assignment)) == assignment
    assert assignment.is_event
    assert assignment.event_problem() is None
    over = attrs.evolve(assignment, contracts=contracts * 3)  # 36 > MAX_CONTRACTS (24)
    assert len(over.contracts) > MAX_CONTRACTS
    with pytest.raises(DecodeError) as info:
        codec.decode(codec.encode(over))
    assert info.value.field == "contracts"
    bad_side = json.loads(codec.encode(assignment))
    bad_side["contracts"][0]["side"] = "maybe"
    with pytest.raises(DecodeError) as info:
        codec.decode(json.dumps(bad_side))
    assert info.value.field == "contracts"
