"""``arbees replay`` of a shard's recorded engine inputs decides what the live shard did.

A live shard under load does not see every frame's book: here Polymarket sent the OKC
token's book at a 0.50 bid and, 1 ms later, at 0.48; the shard was behind, its feed
coalesced the two (newest view wins) and its engine saw only the 0.48 book, in one batch
with the other quotes. Replaying the frames shows the engine the 0.50 book it never saw (an
open at the larger profit, then an update); replaying the recorded engine inputs gives the
live decisions exactly. The frames follow the venues' documented shapes as in
``test_replay.py`` (``tests/data/kalshi/orderbook_snapshot.json``,
``tests/data/polymarket/ws_book.json``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
from tests.fee_terms import pair_terms
from tests.services.test_shard_engine import SEC, Clock, kq, pq
from tests.services.test_shard_engine import assignment as shard_assignment
from tests.services.test_shard_isolation import ScriptedSource

from arbees.book import Level
from arbees.bus import open_bus
from arbees.cli import main
from arbees.codec import encode
from arbees.messages import GAME_ASSIGNMENTS_HASH, ArbSignal, MarketAssignment, TeamLeg
from arbees.recording import Recorder, read_records
from arbees.replay import REPLAYERS, ReplayInput, ReplaySettings, run_replay, signal_dict
from arbees.services.quotes import Quote, quote_from_json, quote_json
from arbees.services.shard import open_game_shard
from arbees.services.shard_engine import ShardEngine
from arbees.venues import get_venue, instrument_checks

MS = 1_000_000
T0 = 1_790_000_000_000 * MS  # epoch ns, in 2026
OKC, SAS = "KXNBAGAME-26OCT20OKCSAS-OKC", "KXNBAGAME-26OCT20OKCSAS-SAS"
TOKEN_OKC, TOKEN_SAS = "111", "222"
SHARD = "live-1"


def assignment() -> MarketAssignment:
    return MarketAssignment(
        platform="kalshi",
        market_id="KXNBAGAME-26OCT20OKCSAS",
        token_id="",
        shard_id=SHARD,
        sport="NBA",
        game_id="g1",
        teams=(TeamLeg("NBA:OKC", OKC, TOKEN_OKC), TeamLeg("NBA:SAS", SAS, TOKEN_SAS)),
        fees=pair_terms(poly_fee_rate="0"),
        epoch=1,
        timestamp_ms=T0 // MS,
    )


def kalshi_snapshot(ticker: str, sid: int, yes_bid: str, no_bid: str) -> str:
    msg = {
        "market_ticker": ticker,
        "market_id": f"id-{ticker}",
        "yes_dollars_fp": [[yes_bid, "100.00"]],
        "no_dollars_fp": [[no_bid, "100.00"]],
    }
    return json.dumps({"type": "orderbook_snapshot", "sid": sid, "seq": 1, "msg": msg})


def poly_book(token: str, bid: str, ask: str, ts_ms: int) -> str:
    return json.dumps(
        {
            "event_type": "book",
            "asset_id": token,
            "market": "0xbd31dc8a20211944f6b70f31557f1001557b59905b7738480ca09bd4532f84af",
            "bids": [{"price": bid, "size": "100"}],
            "asks": [{"price": ask, "size": "100"}],
            "timestamp": str(ts_ms),
            "hash": "0",
        }
    )


# (recv_ns, venue, frame): OKC's NO at 0.50 for 1 ms, then 0.48, then 0.42 (uncrossed)
FRAMES = [
    (T0 + 1 * MS, "kalshi", kalshi_snapshot(OKC, 1, "0.40", "0.55")),  # YES ask 0.45
    (T0 + 2 * MS, "kalshi", kalshi_snapshot(SAS, 2, "0.50", "0.45")),
    (T0 + 3 * MS, "polymarket", poly_book(TOKEN_SAS, "0.47", "0.53", T0 // MS)),
    (T0 + 3 * MS, "polymarket", poly_book(TOKEN_OKC, "0.50", "0.52", T0 // MS)),
    (T0 + 4 * MS, "polymarket", poly_book(TOKEN_OKC, "0.48", "0.52", T0 // MS + 1)),
    (T0 + 500 * MS, "polymarket", poly_book(TOKEN_OKC, "0.42", "0.52", T0 // MS + 500)),
]


def live_quotes() -> Iterator[tuple[int, Quote]]:
    """Each frame's quotes as the live feed makes them (the venue's own protocol)."""
    replayers = {venue: factory() for venue, factory in REPLAYERS.items()}
    for recv_ns, venue, frame in FRAMES:
        for update in replayers[venue].frame(frame, recv_ns):
            yield recv_ns, get_venue(venue).quote(update)


def coalesced_batches() -> list[tuple[int, list[Quote]]]:
    """What the loaded shard took: at +6 ms one batch of every instrument's newest view (the
    0.50 book was overtaken before the shard read it), at +501 ms the 0.42 book."""
    newest: dict[tuple[str, str], Quote] = {}
    late: list[Quote] = []
    for recv_ns, quote in live_quotes():
        if recv_ns < T0 + 500 * MS:
            newest[quote.venue, quote.instrument] = quote
        else:
            late.append(quote)
    return [(T0 + 6 * MS, list(newest.values())), (T0 + 501 * MS, late)]


def calls() -> list[tuple[int, str, dict[str, Any]]]:
    """The live shard's engine calls: (engine clock, call, recorded fields)."""
    out: list[tuple[int, str, dict[str, Any]]] = [
        (T0, "assign", {"assignment": encode(assignment()).decode()})
    ]
    for now, batch in coalesced_batches():
        out.append((now, "quotes", {"quotes": [quote_json(q) for q in batch]}))
        for venue in ("kalshi", "polymarket"):
            out.append((now, "alive", {"venue": venue, "when_ns": now, "healthy": True}))
    out.append((T0 + 550 * MS, "sweep", {}))
    return out


def live_signals() -> list[ArbSignal]:
    """The live shard's decisions: its engine given those calls at those clocks."""
    now = [T0]
    engine = ShardEngine(
        SHARD, max_age_ns=1000 * MS, clock=lambda: now[0], instrument_checks=instrument_checks()
    )
    out: list[ArbSignal] = []
    for at, call, fields in calls():
        now[0] = at
        if call == "assign":
            out.extend(engine.apply(assignment()).signals)
        elif call == "quotes":
            out.extend(engine.on_quotes([quote_from_json(q) for q in fields["quotes"]]))
        elif call == "alive":
            out.extend(engine.set_alive(fields["venue"], fields["when_ns"]))
        else:
            out.extend(engine.sweep())
    return out


def record(path: Path) -> None:
    """A record-everything recording: the frames, the assignment and the engine inputs."""
    with Recorder(path, clock=lambda: T0) as recorder:
        recorder.shard_settings(SHARD, {"max_price_age_ms": "1000"})
        recorder.engine(SHARD, "start", T0, {"max_age_ns": str(1000 * MS)})
        recorder.assignment(assignment(), T0)
        for recv_ns, venue, frame in FRAMES:
            recorder.frame(venue, frame, recv_ns, SHARD)
        for at, call, fields in calls():
            recorder.engine(SHARD, call, at, fields)


def comparable(signals: list[ArbSignal]) -> list[dict[str, Any]]:
    out = []
    for s in signals:
        d = signal_dict(s)
        out.append({k: d[k] for k in ("event", "signal_id", "at_ns", "size", "profit", "legs")})
    return out


def test_a_coalesced_view_and_its_batch_replay_as_the_live_shard_decided(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rec.jsonl"
    record(path)
    live = live_signals()
    assert [s.event for s in live] == ["open", "close"]
    # 100 contracts at 0.45 + 0.52 (OKC's NO at the 0.48 bid), Kalshi's fee 1.74
    assert live[0].profit == 100_000_000 - 97_000_000 - 1_740_000

    exact = trio.run(lambda: run_replay([ReplayInput(str(path))], ReplaySettings()))
    assert comparable(exact.signals) == comparable(live)
    assert exact.engine_inputs == 1 + len(calls())
    assert exact.rejected == {}
    # every recorded quote is a book the frames went through
    assert (exact.checked, exact.mismatched) == (5, 0)

    # the frames show the engine the 0.50 book the live shard never saw
    frames = trio.run(
        lambda: run_replay([ReplayInput(str(path))], ReplaySettings(frames_only=True))
    )
    assert [s.event for s in frames.signals][:2] == ["open", "update"]
    assert frames.signals[0].profit == 100_000_000 - 95_000_000 - 1_740_000
    assert comparable(frames.signals) != comparable(live)
    assert frames.engine_inputs == 0


def test_replay_cli_takes_the_engine_inputs_and_frames_forces_the_frames(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rec.jsonl.gz"
    record(path)
    assert main(["replay", str(path), "--json"]) == 0
    exact = json.loads(capsys.readouterr().out)
    assert [(s["event"], s["profit"]) for s in exact["signals"]] == [
        ("open", "1.26"),
        ("close", "1.26"),
    ]
    assert main(["replay", str(path), "--json", "--frames"]) == 0
    frames = json.loads(capsys.readouterr().out)
    assert [(s["event"], s["profit"]) for s in frames["signals"][:2]] == [
        ("open", "3.26"),
        ("update", "1.26"),
    ]


def test_a_malformed_engine_input_is_counted_and_the_rest_plays(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    record(path)
    deep = [[1, 2]] * 1001  # beyond any venue's book
    with path.open("a") as f:
        bad = [
            {"call": "quotes", "quotes": [["kalshi", OKC, [[1, 2, 3]], [], False, 0, None, 0, 0]]},
            {
                "call": "quotes",
                "quotes": [["kalshi", OKC, deep, [], False, 0, None, 0, 0]],
            },
            {"call": "alive", "venue": "kalshi", "when_ns": "soon", "healthy": True},
            {"call": "assign", "assignment": "{not json"},
            {"call": "teleport"},
        ]
        for fields in bad:
            engine = {**fields, "shard_id": SHARD}
            f.write(json.dumps({"recv_ns": T0 + 600 * MS, "engine": engine}) + "\n")
    result = trio.run(lambda: run_replay([ReplayInput(str(path))], ReplaySettings()))
    assert result.rejected == {"engine_input": len(bad)}
    assert comparable(result.signals) == comparable(live_signals())
    assert sum(1 for r in read_records(path) if r.engine is not None) == 2 + len(calls()) + 4


def test_a_recorded_quote_no_frame_showed_is_counted_as_a_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    record(path)
    (kalshi_okc, *_) = (q for _, q in live_quotes())
    forged = quote_json(attrs.evolve(kalshi_okc, yes_asks=(Level(440_000, 100_000_000),)))
    with Recorder(tmp_path / "more.jsonl") as recorder:
        recorder.engine(SHARD, "quotes", T0 + 700 * MS, {"quotes": [forged]})
    inputs = [ReplayInput(str(path)), ReplayInput(str(tmp_path / "more.jsonl"))]
    result = trio.run(lambda: run_replay(inputs, ReplaySettings()))
    assert (result.checked, result.mismatched) == (6, 1)


async def test_a_recording_shard_records_its_engine_calls_and_replays_exactly(
    tmp_path: Path,
) -> None:
    """A live shard (a game, one whose token the source refuses, two quotes, sweeps) with
    an engine clock that moves at every read: the shard holds it per call and records it,
    so the replay's signals are the live ones to the nanosecond."""
    ticks = [time.time_ns()]

    def moving_clock() -> int:
        ticks[0] += 1_000
        return ticks[0]

    eng = ShardEngine("s1", max_age_ns=2 * SEC, clock=moving_clock)
    kalshi, poly = ScriptedSource("kalshi"), ScriptedSource("polymarket", refuse={"555"})
    refused = shard_assignment(
        game_id="g3",
        market_id="KXNBAGAME-26OCT20MIANYK",
        teams=(
            TeamLeg("NBA:MIA", "KXNBAGAME-26OCT20MIANYK-MIA", "555"),
            TeamLeg("NBA:NYK", "KXNBAGAME-26OCT20MIANYK-NYK", "666"),
        ),
    )
    seen: list[ArbSignal] = []
    path = tmp_path / "shard.jsonl"
    with Recorder(path) as recorder:
        async with open_bus("memory://") as bus:
            await bus.hset(GAME_ASSIGNMENTS_HASH, "g1", shard_assignment())
            await bus.hset(GAME_ASSIGNMENTS_HASH, "g3", refused)
            async with open_game_shard(
                bus,
                eng,
                kalshi,
                poly,
                on_signal=seen.append,
                sweep_interval=0.01,
                recorder=recorder,
            ):
                clock = Clock()
                clock.now = ticks[0]
                await kalshi.send(kq(clock, "0.40", "0.62"))
                await poly.send(pq(clock, "0.52", "0.50"))
                with trio.fail_after(5):
                    while not seen:  # noqa: ASYNC110
                        await trio.sleep(0.01)
                await trio.sleep(0.05)  # a few sweeps
    calls_made = [r.engine["call"] for r in read_records(path) if r.engine is not None]
    assert calls_made[0] == "start"
    assert {"assign", "drop", "alive", "quotes", "sweep"} <= set(calls_made)
    assert [s.event for s in seen][:1] == ["open"]

    result = await run_replay([ReplayInput(str(path))], ReplaySettings())
    assert result.rejected == {}
    assert comparable(result.signals) == comparable(seen)
    assert result.engine_inputs == len(calls_made)


def test_a_bus_quote_is_its_books_top_published_depth_and_nothing_else() -> None:
    from arbees.messages import PUBLISHED_DEPTH
    from arbees.replay import _went_through

    book = tuple(Level(400_000 + 10_000 * i, 1_000_000) for i in range(PUBLISHED_DEPTH + 2))
    assert _went_through(book, book)  # read directly: the whole ladder
    assert _went_through(book, book[:PUBLISHED_DEPTH])  # relayed over the bus
    assert not _went_through(book, book[: PUBLISHED_DEPTH - 1])  # no publisher cuts there
    assert not _went_through(book, book[1 : PUBLISHED_DEPTH + 1])  # not its top
    moved = (Level(390_000, 1_000_000), *book[1:PUBLISHED_DEPTH])
    assert not _went_through(book, moved)
