"""``arbees replay``: recordings through the protocols, the shard engine and the paper ledger.

The frames are built in the venues' documented shapes (``tests/data/kalshi/
orderbook_snapshot.json``, ``tests/data/polymarket/ws_book.json``) for one NBA game whose
books cross: Kalshi YES(OKC) at 0.45 and Polymarket's NO of OKC (the mirror of its 0.50 bid,
bought as the SAS token) cost 0.95 plus Kalshi's fee, under the $1 payout.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import trio
from tests.fee_terms import pair_terms

from arbees.bus import open_bus
from arbees.cli import build_parser, cmd_monitor, cmd_shard, main
from arbees.cli.cmd_record import record_max_bytes
from arbees.codec import encode
from arbees.kalshi.replay import fold_recording
from arbees.messages import (
    GAME_ASSIGNMENTS_HASH,
    Channel,
    GameState,
    MarketAssignment,
    TeamLeg,
)
from arbees.recording import (
    AssignmentTap,
    Record,
    Recorder,
    assignment_line,
    read_recording,
    read_records,
    record_line,
)
from arbees.replay import (
    Replay,
    ReplayInput,
    ReplaySettings,
    merged_records,
    recognise_venue,
    run_replay,
    venue_time_ns,
)
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.wiring import ShardSettings, build_shard

MS = 1_000_000
T0 = 1_790_000_000_000 * MS  # epoch ns, in 2026
OKC, SAS = "KXNBAGAME-26OCT20OKCSAS-OKC", "KXNBAGAME-26OCT20OKCSAS-SAS"
TOKEN_OKC, TOKEN_SAS = "111", "222"


def assignment(**kw: object) -> MarketAssignment:
    fields: dict[str, object] = {
        "platform": "kalshi",
        "market_id": "KXNBAGAME-26OCT20OKCSAS",
        "token_id": "",
        "shard_id": "live-1",
        "sport": "NBA",
        "game_id": "g1",
        "teams": (TeamLeg("NBA:OKC", OKC, TOKEN_OKC), TeamLeg("NBA:SAS", SAS, TOKEN_SAS)),
        "fees": pair_terms(poly_fee_rate="0"),
        "epoch": 1,
        "timestamp_ms": T0 // MS,
    }
    fields.update(kw)
    return MarketAssignment(**fields)  # type: ignore[arg-type]


def kalshi_snapshot(ticker: str, sid: int, yes_bid: str, no_bid: str) -> str:
    return json.dumps(
        {
            "type": "orderbook_snapshot",
            "sid": sid,
            "seq": 1,
            "msg": {
                "market_ticker": ticker,
                "market_id": f"id-{ticker}",
                "yes_dollars_fp": [[yes_bid, "100.00"]],
                "no_dollars_fp": [[no_bid, "100.00"]],
            },
        }
    )


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


def frames() -> list[tuple[int, str, str]]:
    """(recv_ns, venue, frame): the books cross at +3 ms and uncross at +500 ms."""
    return [
        (T0 + 1 * MS, "kalshi", kalshi_snapshot(OKC, 1, "0.40", "0.55")),  # YES ask 0.45
        (T0 + 2 * MS, "kalshi", kalshi_snapshot(SAS, 2, "0.50", "0.45")),
        (T0 + 3 * MS, "polymarket", poly_book(TOKEN_SAS, "0.47", "0.53", T0 // MS)),
        (T0 + 3 * MS, "polymarket", poly_book(TOKEN_OKC, "0.50", "0.52", T0 // MS)),  # NO 0.50
        (T0 + 500 * MS, "polymarket", poly_book(TOKEN_OKC, "0.42", "0.52", T0 // MS + 500)),
    ]


def write_everything(path: Path) -> None:
    """A record-everything recording: the assignment, then the tagged frames."""
    with Recorder(path) as recorder:
        recorder.assignment(assignment(), T0)
        for recv_ns, venue, frame in frames():
            recorder.frame(venue, frame, recv_ns)


def test_a_recording_replays_into_one_window_with_exact_paper_pnl(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    write_everything(path)
    settings = ReplaySettings(paper=True)
    result = trio.run(lambda: run_replay([ReplayInput(str(path))], settings))
    events = [(s.event, s.signal_id, s.combo) for s in result.signals]
    assert events == [
        ("open", "live-1:g1:NBA:OKC:KalshiYes+PolyNo:1", "KalshiYes+PolyNo"),
        ("close", "live-1:g1:NBA:OKC:KalshiYes+PolyNo:1", "KalshiYes+PolyNo"),
    ]
    opened = result.signals[0]
    assert opened.detect_ns == T0 + 3 * MS  # the recorded time, not the clock
    assert [(leg.venue, leg.instrument) for leg in opened.legs] == [
        ("kalshi", OKC),
        ("polymarket", TOKEN_SAS),
    ]
    # 100 contracts: 45 + 50 dollars, Kalshi's fee ceil(0.07 * 100 * 0.45 * 0.55) = 1.74
    assert opened.size == 100 * 1_000_000
    assert opened.fees == 1_740_000
    assert opened.profit == 100_000_000 - 95_000_000 - 1_740_000
    (window,) = result.windows
    assert (window.opened_ns, window.closed_ns) == (T0 + 3 * MS, T0 + 500 * MS)
    assert result.paper is not None
    assert result.paper.stats.fills == 1
    (position,) = result.paper.positions.values()
    assert position.contracts == 100 * 1_000_000
    assert position.cost + position.fees == 96_740_000  # filled on the detection books
    assert result.frames == {"kalshi": 2, "polymarket": 3}
    assert result.assignments == 1


def test_the_same_input_gives_the_same_output_at_any_speed(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl.gz"
    write_everything(path)
    inputs = [ReplayInput(str(path))]
    settings = ReplaySettings(paper=True, paper_latency_ms=100)
    first = trio.run(lambda: run_replay(inputs, settings))
    second = trio.run(lambda: run_replay(inputs, settings, speed=50.0))
    assert first.as_dict() == second.as_dict()
    assert first.as_dict()["signals"]


def test_a_quote_older_than_the_price_age_closes_at_the_sweep_of_recorded_time(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rec.jsonl"
    with Recorder(path) as recorder:
        recorder.assignment(assignment(), T0)
        for recv_ns, venue, frame in frames()[:4]:  # crossed, then nothing for 3 s
            recorder.frame(venue, frame, recv_ns)
        recorder.frame("kalshi", '{"type": "ok", "id": 7, "msg": {}}', T0 + 3_000 * MS)
    result = trio.run(lambda: run_replay([ReplayInput(str(path))], ReplaySettings()))
    assert [s.event for s in result.signals] == ["open", "close"]
    closed = result.signals[1].detect_ns
    # liveness of Polymarket last confirmed at +3 ms; 2 s later, at the next 100 ms sweep
    assert T0 + 2_003 * MS < closed <= T0 + 2_103 * MS


def test_venue_files_with_assignments_given_apart_and_venues_recognised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kalshi = tmp_path / "kalshi.jsonl"
    poly = tmp_path / "poly.txt"  # raw frames, one per line: no times
    with kalshi.open("w") as f:
        for recv_ns, venue, frame in frames():
            if venue == "kalshi":
                f.write(record_line(recv_ns, frame))
    poly.write_text(
        "\n".join(frame for _, venue, frame in frames()[:4] if venue == "polymarket") + "\n"
    )
    given = tmp_path / "assignments.jsonl"
    given.write_text(encode(assignment()).decode() + "\n")
    argv = ["replay", str(poly), str(kalshi), "--assignments", str(given), "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    # the raw Polymarket frames play at their own timestamps (T0), Kalshi's at +1 ms
    assert [(s["event"], s["at_ns"]) for s in report["signals"]] == [("open", T0 + MS)]
    assert report["frames"] == {"kalshi": 2, "polymarket": 2}
    # a venue told per file: Kalshi's frames read as Polymarket's are refused, counted
    argv += ["--venue", "polymarket", "--venue", "polymarket"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["signals"] == []
    assert report["rejected"]["polymarket_frames"] == 2


def test_book_reads_one_venue_of_a_record_everything_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rec.jsonl"
    write_everything(path)
    assert main(["book", str(path), "--venue", "polymarket", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["token"], r["best_bid"]) for r in rows] == [
        (TOKEN_OKC, "0.42"),
        (TOKEN_SAS, "0.47"),
    ]


def test_cli_json_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rec.jsonl"
    write_everything(path)
    assert main(["replay", str(path), "--json", "--paper"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [s["event"] for s in report["signals"]] == ["open", "close"]
    assert report["signals"][0]["profit"] == "3.26"
    assert report["windows"][0]["duration_ms"] == 497
    assert isinstance(report["paper"], dict)
    assert main(["replay", str(path), "--paper", "--speed", "100"]) == 0
    text = capsys.readouterr().out
    assert "open   live-1:g1:NBA:OKC:KalshiYes+PolyNo:1" in text
    assert "lasted 0.497s" in text
    assert "paper:" in text
    assert main(["replay", str(path), "--json", "--progress"]) == 0
    bar = capsys.readouterr().err
    assert bar.endswith("] 100% 6 records\n")


def test_each_shard_decides_with_its_recorded_settings_unless_overridden(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rec.jsonl"
    with Recorder(path) as recorder:
        # 5 cents of minimum edge: the 3.26-cent opportunity is not one for this shard
        recorder.shard_settings("live-1", {"min_edge": "0.05", "max_price_age_ms": "abc"})
        recorder.assignment(assignment(), T0)
        for recv_ns, venue, frame in frames():
            recorder.frame(venue, frame, recv_ns)
    assert main(["replay", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["signals"] == []
    assert report["rejected"] == {"shard_settings": 1}  # the unreadable one: the default
    assert main(["replay", str(path), "--json", "--min-edge-cents", "3"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [s["event"] for s in report["signals"]] == ["open", "close"]
    assert main(["replay", str(path), "--min-edge-cents", "-1"]) == 2


def test_a_recorded_game_end_closes_the_open_signal_for_good(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    keyed = assignment(game_keys={"polymarket": "nba-okc-sas-2026-10-20"})
    ended = GameState(
        venue="polymarket",
        key="nba-okc-sas-2026-10-20",
        phase="ended",
        timestamp_ms=T0 // MS + 100,
        score="101-99",
    )
    with Recorder(path) as recorder:
        recorder.assignment(keyed, T0)
        for recv_ns, venue, frame in frames()[:4]:  # crossed at +3 ms
            recorder.frame(venue, frame, recv_ns)
        recorder.game_state(ended, T0 + 100 * MS)
        # the books cross again after the end: no new signal
        recorder.frame("polymarket", frames()[3][2], T0 + 200 * MS)
    result = trio.run(lambda: run_replay([ReplayInput(str(path))], ReplaySettings()))
    assert [(s.event, s.detect_ns) for s in result.signals] == [
        ("open", T0 + 3 * MS),
        ("close", T0 + 100 * MS),
    ]
    assert result.signals[1].game_state == (ended,)
    assert list(read_records(path))[5].game_state == encode(ended).decode()


def test_bad_records_are_counted_never_fatal(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    write_everything(path)
    with path.open("a") as f:
        f.write(json.dumps({"recv_ns": T0 + 600 * MS, "assignment": '{"nope": 1}'}) + "\n")
        f.write(record_line(T0 + 601 * MS, "not a frame of any venue"))
        f.write(record_line(T0 + 602 * MS, '{"type": "orderbook_delta", "sid": 1}', "kalshi"))
        f.write(json.dumps({"recv_ns": T0 + 603 * MS, "game_state": "{}"}) + "\n")
    result = trio.run(lambda: run_replay([ReplayInput(str(path))], ReplaySettings()))
    assert result.rejected["assignment"] == 1
    assert result.rejected["unknown_venue"] == 1
    assert result.rejected["kalshi_frames"] >= 1
    assert result.rejected["game_state"] == 1
    assert [s.event for s in result.signals] == ["open", "close"]


def test_unreadable_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(tmp_path / "missing.jsonl")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_files_merge_in_time_order(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(record_line(30, "a30") + record_line(10, "a10-late") + record_line(50, "a50"))
    b.write_text(record_line(20, "b20") + assignment_line(40, assignment()))
    order = [
        (t, r.frame or "assignment")
        for t, r in merged_records([ReplayInput(str(a)), ReplayInput(str(b))])
    ]
    # a record earlier than its file's previous one keeps the file's order
    assert order == [(20, "b20"), (30, "a30"), (30, "a10-late"), (40, "assignment"), (50, "a50")]
    assert venue_time_ns(frames()[2][2]) == T0
    assert venue_time_ns(json.dumps({"type": "ok", "msg": {"ts_ms": 5}})) == 5 * MS
    assert venue_time_ns("PONG") == 0


def test_recognise_venue() -> None:
    kalshi_snap, poly = frames()[0][2], frames()[2][2]
    assert recognise_venue(kalshi_snap) == "kalshi"
    assert recognise_venue(poly) == "polymarket"
    assert recognise_venue("[" + poly + "]") == "polymarket"
    assert recognise_venue("PONG") == "polymarket"
    assert recognise_venue("garbage") == ""
    assert recognise_venue('{"type": "book"}') == ""


def test_recorder_rotates_by_size_and_book_still_reads_the_frames(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl.gz"
    with Recorder(path, max_bytes=400) as recorder:
        recorder.assignment(assignment(), T0)
        for recv_ns, venue, frame in frames():
            recorder.frame(venue, frame, recv_ns)
    assert len(recorder.files) > 1
    assert recorder.files[1] == tmp_path / "rec.1.jsonl.gz"
    for file in recorder.files[:-1]:  # each file but the last holds about max_bytes
        assert len(gzip.decompress(file.read_bytes())) >= 400
    merged = [ReplayInput(str(f)) for f in reversed(recorder.files)]
    result = trio.run(lambda: run_replay(merged, ReplaySettings()))
    assert [s.event for s in result.signals] == ["open", "close"]
    # the frames-only reader (``arbees book``) skips the assignment records, and the
    # frames of other venues when asked for one
    kalshi = [frame for f in recorder.files for _, frame in read_recording(f, "kalshi")]
    assert {recognise_venue(frame) for frame in kalshi} == {"kalshi"}
    assert [row.ticker for row in fold_recording(kalshi)] == [OKC, SAS]
    assert len([1 for f in recorder.files for _ in read_recording(f)]) == len(frames())


def test_assignments_apply_to_every_shard_and_a_moved_game_follows() -> None:
    replay = Replay(ReplaySettings())

    replay.play(T0, Record(T0, None, assignment=encode(assignment()).decode()))
    moved = assignment(shard_id="live-2", epoch=2)
    replay.play(T0 + 1, Record(T0 + 1, None, assignment=encode(moved).decode()))
    assert replay.engines["live-1"].game_ids() == []
    assert replay.engines["live-2"].game_ids() == ["g1"]


async def test_a_recording_shard_records_its_frames_and_assignments(tmp_path: Path) -> None:
    """``arbees record shard``'s path: the shard built with a recorder, the tap beside it."""

    kalshi = FakeKalshi(require_auth=False)
    kalshi.set_book(OKC, yes=[("0.40", "100")], no=[("0.55", "100")])
    kalshi.set_book(SAS, yes=[("0.50", "100")], no=[("0.45", "100")])
    path = tmp_path / "shard.jsonl"
    stored, live = assignment(game_id="g0", epoch=1), assignment(epoch=2)
    async with open_bus("memory://") as bus, trio.open_nursery() as nursery:
        urls = await nursery.start(kalshi.run)
        await bus.hset(GAME_ASSIGNMENTS_HASH, "g0", stored)
        settings = ShardSettings(shard_id="live-1", kalshi_ws_url=urls.ws_url)
        with Recorder(path) as recorder:
            async with trio.open_nursery() as inner:
                await inner.start(AssignmentTap(bus, recorder).run)
                async with build_shard(settings, bus, recorder=recorder) as shard:
                    await inner.start(shard.run)
                    await bus.publish(Channel.MARKET_ASSIGNMENTS, live)
                    with trio.fail_after(10):
                        while recorder.frames < 3 or recorder.assignments < 2:  # noqa: ASYNC110
                            await trio.sleep(0.01)
                inner.cancel_scope.cancel()
        nursery.cancel_scope.cancel()
    records = list(read_records(path))
    (settings_record,) = [r.shard for r in records if r.shard is not None]
    assert settings_record == {
        "shard_id": "live-1",
        "max_price_age_ms": "2000",
        "max_quote_age_s": "600.0",
        "min_edge": "0",
        "max_size": "",
        "sweep_interval_ms": "100",
    }
    payloads = [r.assignment for r in records if r.assignment is not None]
    assert payloads == [encode(stored).decode(), encode(live).decode()]
    frames = [r for r in records if r.frame is not None]
    assert {(r.venue, r.source) for r in frames} == {("kalshi", "live-1")}
    assert {row.ticker for row in fold_recording(r.frame or "" for r in frames)} >= {OKC}


def test_record_shard_and_monitor_take_the_services_options() -> None:

    parser = build_parser()
    args = parser.parse_args(
        ["record", "shard", "--out", "s.jsonl.gz", "--rotate-mb", "1.5", "--shard-id", "s9"]
    )
    assert args.handler is cmd_shard.run
    assert (args.record_out, args.shard_id) == ("s.jsonl.gz", "s9")
    assert record_max_bytes(args) == 1_500_000
    args = parser.parse_args(["record", "monitor", "--out", "m.jsonl", "--instance", "m1"])
    assert args.handler is cmd_monitor.run
    assert record_max_bytes(args) == 256_000_000
    assert parser.parse_args(["shard"]).handler is cmd_shard.run  # unchanged
    with pytest.raises(SystemExit):
        parser.parse_args(["record", "shard", "--out", "s.jsonl", "--rotate-mb", "-1"])


@pytest.mark.parametrize("service", ["shard", "monitor"])
def test_record_service_refuses_an_unwritable_file_before_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], service: str
) -> None:
    out = tmp_path / "missing-dir" / "rec.jsonl"
    egress = ["--egress-url", "http://127.0.0.1:9/ip"] if service == "monitor" else []
    assert main(["record", service, "--out", str(out), *egress]) == 2
    assert f"arbees record {service}: cannot write {out}" in capsys.readouterr().err
