"""Recordings of raw venue frames, shared by both venues' record/replay.

A recording is JSON Lines, one received frame per line: ``{"recv_ns": <time.time_ns()>,
"frame": "<raw text exactly as received>"}``, gzip-compressed when the file name ends in
``.gz``. Raw text keeps a recording useful when a parser changes, and a replay exercises the
very code the live feed runs. :func:`read_recording` also accepts a plain file holding one
raw frame per line.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["open_text", "read_recording", "record_line"]


def open_text(path: str | Path, mode: str) -> IO[str]:
    """Open a text file, through gzip when the name ends in ``.gz``."""
    if str(path).endswith(".gz"):
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return open(path, mode, encoding="utf-8")


def record_line(recv_ns: int, frame: str) -> str:
    """One recording line (with its newline)."""
    return json.dumps({"recv_ns": recv_ns, "frame": frame}) + "\n"


def read_recording(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield ``(recv_ns, frame)``: JSON Lines recordings, or raw frames one per line
    (``recv_ns`` 0 when unknown)."""
    with open_text(path, "r") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if line.startswith('{"recv_ns"'):
                try:
                    rec = json.loads(line)
                except ValueError:
                    rec = None
                if isinstance(rec, dict) and isinstance(rec.get("frame"), str):
                    recv_ns = rec.get("recv_ns")
                    yield (recv_ns if isinstance(recv_ns, int) else 0), rec["frame"]
                    continue
            yield 0, line
