"""Record from the fake venue, replay with ``arbees book``: the same top of book."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio

from arbees.cli import build_parser, main
from arbees.money import format_fixed
from arbees.polymarket.replay import TopRow, fold_recording, read_recording, record
from arbees.testing.fake_polymarket import FakePolymarket
from arbees.wsdriver import Backoff

DATA = Path(__file__).parent.parent / "data" / "polymarket"
A, B = str(10**70 + 1), str(10**70 + 2)
TOKEN = "65818619657568813474341868652308942079804919287380422192892211131408793125422"


def _truth(fake: FakePolymarket, token: str) -> TopRow:
    book = fake.books[token]
    bb = max(book.bids) if book.bids else None
    ba = min(book.asks) if book.asks else None
    return TopRow(
        token,
        format_fixed(bb) if bb is not None else "",
        format_fixed(book.bids[bb]) if bb is not None else "",
        format_fixed(ba) if ba is not None else "",
        format_fixed(book.asks[ba]) if ba is not None else "",
        False,
    )


@pytest.mark.parametrize("name", ["rec.jsonl", "rec.jsonl.gz"])
async def test_record_then_replay_gives_the_venue_top(tmp_path: Path, name: str) -> None:
    fake = FakePolymarket()
    fake.set_book(A, bids=[("0.40", "10")], asks=[("0.60", "5")])
    fake.set_book(B, bids=[("0.30", "1")], asks=[("0.70", "2")])
    out = tmp_path / name
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)

        async def trade() -> None:
            while True:  # until the recorder has subscribed
                if any(c.assets for c in fake.connections):
                    break
                await trio.sleep(0.01)
            await trio.sleep(0.05)
            for i in range(1, 30):
                token = A if i % 2 else B
                if i % 3:
                    fake.set_level(token, "BUY", f"0.4{1 + i % 5}", str(i))
                else:
                    fake.set_level(token, "SELL", f"0.5{5 + i % 5}", str(i))
                await trio.sleep(0.005)
            fake.send_raw("not json at all")

        nursery.start_soon(trade)
        n = await record([A, B], out, url=urls.ws_url, duration=1.0, backoff=Backoff(0.01, 0.05))
        nursery.cancel_scope.cancel()
    assert n >= 30
    frames = list(read_recording(out))
    assert all(recv_ns > 0 for recv_ns, _ in frames)
    assert frames[0][1].startswith("[")  # the initial dump array, verbatim
    rows = fold_recording(f for _, f in frames)
    assert rows == sorted([_truth(fake, A), _truth(fake, B)], key=lambda r: r.token)


def test_book_command_on_raw_frames_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = tmp_path / "raw.txt"
    frames = [
        json.dumps(json.loads((DATA / n).read_text()))
        for n in ("ws_book.json", "ws_tick_size_change.json")
    ]
    raw.write_text("\n".join(["PONG", *frames, ""]))
    assert main(["book", str(raw), "--venue", "polymarket", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [
        {
            "token": TOKEN,
            "best_bid": "0.5",
            "best_bid_size": "15",
            "best_ask": "0.52",
            "best_ask_size": "25",
            "stale": True,  # the tick size changed after the snapshot
        }
    ]
    assert main(["book", str(raw)]) == 0
    text = capsys.readouterr().out
    assert "best_bid_size" in text
    assert "0.52" in text
    assert main(["book", str(tmp_path / "missing.jsonl")]) == 1


def test_record_parser() -> None:
    args = build_parser().parse_args(
        [
            "record",
            "polymarket",
            "--tokens",
            f"{A},{B}",
            "--tokens",
            "3",
            "--out",
            "x.jsonl.gz",
            "--duration",
            "2",
        ]
    )
    assert args.venue == "polymarket"
    assert args.tokens == [f"{A},{B}", "3"]
    assert args.duration == 2.0
    assert main(["record", "polymarket", "--tokens", "0xbad", "--out", "x"]) == 2
