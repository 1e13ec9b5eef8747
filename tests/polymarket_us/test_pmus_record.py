"""``arbees record polymarket-us`` and ``arbees book FILE --venue polymarket-us``: a real
recording from the fake venue folds back into the books the feed saw."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import trio
from cryptography.hazmat.primitives.asymmetric import ed25519

from arbees.cli import main
from arbees.polymarket_us.auth import PolymarketUsSigner, parse_private_key
from arbees.polymarket_us.replay import fold_recording, record
from arbees.recording import read_recording
from arbees.testing.fake_polymarket_us import FakePolymarketUs
from arbees.wsdriver import Backoff

SEED = bytes(range(1, 33))
KEY_ID = "0f0e0d0c-0000-4000-8000-000000000002"


async def test_a_recording_folds_back_into_the_books(tmp_path: Path) -> None:
    public = ed25519.Ed25519PrivateKey.from_private_bytes(SEED).public_key()
    signer = PolymarketUsSigner(KEY_ID, parse_private_key(base64.b64encode(SEED), "test"))
    fake = FakePolymarketUs(public_key=public, key_id=KEY_ID)
    fake.set_book("m-a", bids=[("0.545", "0.01")], offers=[("0.5475", "12.34")])
    fake.set_book("m-b", bids=[("0.30", "5")])
    out = tmp_path / "rec.jsonl.gz"
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)

        async def move() -> None:
            await fake.subscribed.wait()  # after the snapshots: the move is a third frame
            fake.set_book("m-b", bids=[("0.31", "6")], offers=[("0.35", "1")])

        nursery.start_soon(move)
        n = await record(
            ["m-a", "m-b"],
            out,
            signer=signer,
            url=urls.ws_url,
            duration=2.0,
            backoff=Backoff(base=0.01, cap=0.05),
        )
        nursery.cancel_scope.cancel()
    assert n == 3
    frames = [frame for _, frame in read_recording(out)]
    assert len(frames) == 3
    rows = fold_recording(frames)
    assert [(r.slug, r.best_bid, r.best_bid_size, r.best_ask, r.best_ask_size) for r in rows] == [
        ("m-a", "0.545", "0.01", "0.5475", "12.34"),
        ("m-b", "0.31", "6", "0.35", "1"),
    ]
    assert not any(r.stale for r in rows)


def test_book_command_prints_the_tops(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = json.dumps(
        {
            "market_data": {
                "market_slug": "m-c",
                "bids": [{"px": {"value": "0.0025"}, "qty": "100"}],
                "offers": [{"px": {"value": "0.005"}, "qty": "0.5"}],
            }
        }
    )
    path = tmp_path / "frames.txt"
    path.write_text(frame + "\nnot json\n")
    assert main(["book", str(path), "--venue", "polymarket-us", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [
        {
            "slug": "m-c",
            "best_bid": "0.0025",
            "best_bid_size": "100",
            "best_ask": "0.005",
            "best_ask_size": "0.5",
            "stale": False,
        }
    ]


def test_record_command_needs_slugs_and_a_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("POLYMARKET_US_KEY_ID", raising=False)
    monkeypatch.delenv("POLYMARKET_US_PRIVATE_KEY_PATH", raising=False)
    out = str(tmp_path / "x.jsonl")
    assert main(["record", "polymarket-us", "--slugs", "bad slug", "--out", out]) == 2
    assert "not Polymarket US market slugs" in capsys.readouterr().err
    assert main(["record", "polymarket-us", "--slugs", "m-1", "--out", out]) == 2
    assert "POLYMARKET_US_KEY_ID" in capsys.readouterr().err
    key = tmp_path / "key"
    key.write_bytes(base64.b64encode(SEED))
    key.chmod(0o644)
    monkeypatch.setenv("POLYMARKET_US_KEY_ID", KEY_ID)
    monkeypatch.setenv("POLYMARKET_US_PRIVATE_KEY_PATH", str(key))
    assert main(["record", "polymarket-us", "--slugs", "m-1", "--out", out]) == 2
    err = capsys.readouterr().err
    assert "chmod 600" in err
    assert base64.b64encode(SEED).decode() not in err
