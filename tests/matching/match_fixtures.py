"""Helpers to load the venue-shaped matching fixtures in tests/data/matching/<case>/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data" / "matching"


def case_dir(case: str) -> Path:
    return DATA / case


def load(case: str) -> tuple[Any, Any]:
    """``(kalshi_body, gamma_body)`` of a fixture case."""
    d = case_dir(case)
    kalshi = json.loads((d / "kalshi_events.json").read_text(encoding="utf-8"))
    gamma = json.loads((d / "gamma_events.json").read_text(encoding="utf-8"))
    return kalshi, gamma


def gamma_market(gamma: Any, slug: str, question: str) -> dict[str, Any]:
    """The Gamma market with ``question`` in event ``slug``."""
    for event in gamma:
        if event["slug"] == slug:
            for market in event["markets"]:
                if market["question"] == question:
                    return dict(market)
    raise KeyError((slug, question))


def token_of(market: dict[str, Any], outcome: str) -> str:
    """The token id of ``outcome`` in a Gamma market (decoding the string-encoded arrays)."""
    names = json.loads(market["outcomes"])
    tokens = json.loads(market["clobTokenIds"])
    return str(tokens[names.index(outcome)])
