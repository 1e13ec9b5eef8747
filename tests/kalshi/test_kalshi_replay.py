"""Recording and folding: frames in a file fold into the books the feed had."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio
from cryptography.hazmat.primitives.asymmetric import rsa

from arbees.cli import main
from arbees.kalshi.auth import KalshiSigner
from arbees.kalshi.replay import TopRow, fold_recording, read_frames, record
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.kalshi_keys import TEST_KEY_ID

DATA = Path(__file__).resolve().parent.parent / "data" / "kalshi"
T = "FED-23DEC-T3.00"


def _compact(name: str) -> str:
    return json.dumps(json.loads((DATA / name).read_text()))


def test_fold_raw_sample_frames(tmp_path: Path) -> None:
    lines = [
        _compact("resp_subscribed.json").replace('"sid": 1', '"sid": 2'),
        _compact("orderbook_snapshot.json").replace('"seq": 2', '"seq": 1'),
        _compact("orderbook_delta.json")
        .replace('"seq": 3', '"seq": 2')
        .replace("0.9600", "0.2200")
        .replace("-54.00", "-33.00"),
        "garbage line",
    ]
    path = tmp_path / "raw.txt"
    path.write_text("\n".join(lines) + "\n")
    rows = fold_recording(read_frames(path))
    assert rows == [TopRow(T, "0.22", "300", "0.44", "146", False)]


def test_fold_partial_legacy_recording_adopts_unknown_sid() -> None:
    frames = [
        _compact("legacy_2026-03/orderbook_snapshot.json"),
        _compact("legacy_2026-03/orderbook_delta.json"),
    ]
    # Delta at 0.96 YES with -54 on an absent level: corrupt, so the book ends stale.
    [row] = fold_recording(frames)
    assert row.ticker == T
    assert row.stale
    [fresh] = fold_recording(frames[:1])
    assert fresh == TopRow(T, "0.22", "333", "0.44", "146", False)


def test_fold_detects_gap_in_recording() -> None:
    snap = _compact("orderbook_snapshot.json")  # sid 2 seq 2
    later = _compact("orderbook_delta.json").replace('"seq": 3', '"seq": 9')
    [row] = fold_recording([snap, later])
    assert row.stale


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
async def test_record_then_fold_matches_venue(
    tmp_path: Path,
    suffix: str,
    test_key: rsa.RSAPrivateKey,
    signer: KalshiSigner,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = "KXNHLGAME-26OCT21BOSNYR-BOS", "KXNHLGAME-26OCT21BOSNYR-NYR"
    fake = FakeKalshi(public_key=test_key.public_key(), key_id=TEST_KEY_ID)
    fake.set_book(a, yes=[("0.41", "10.5")], no=[("0.55", 3)])
    fake.set_book(b, yes=[("0.30", 1)])
    out = tmp_path / f"rec{suffix}"
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)

        async def script() -> None:
            await trio.sleep(0.3)
            fake.apply_delta(a, "no", "0.56", "2.25")
            fake.drop_next_deltas(1)
            fake.apply_delta(b, "yes", "0.31", 4)  # lost: the feed resyncs while recording
            fake.apply_delta(a, "yes", "0.41", "-10.5")

        nursery.start_soon(script)
        n = await record([a, b], out, signer=signer, url=urls.ws_url, duration=1.5)
        nursery.cancel_scope.cancel()
    assert n > 5
    rows = {r.ticker: r for r in fold_recording(read_frames(out))}
    assert rows[a] == TopRow(a, "", "", "0.44", "2.25", False)
    assert rows[b] == TopRow(b, "0.31", "4", "", "", False)
    # The CLI folds the same file.
    assert main(["book", str(out), "--venue", "kalshi", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert {r["ticker"]: r["best_ask"] for r in table} == {a: "0.44", b: ""}


def test_record_cli_requires_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("KALSHI_API_KEY", "KALSHI_PRIVATE_KEY_PATH", "KALSHI_PRIVATE_KEY"):
        monkeypatch.delenv(var, raising=False)
    assert main(["record", "kalshi", "--tickers", "A,B", "--out", "/nonexistent/x.jsonl"]) == 2
    assert "KALSHI_API_KEY" in capsys.readouterr().err
