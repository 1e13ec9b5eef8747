"""Option types of the ``arbees bench`` commands: a bad number is refused by argparse.

A negative rate, a NaN duration or zero tokens used to run anyway (a run with no load,
reported as a rate of 0) or end in a traceback deep in the run (Trio refuses a NaN sleep).
Each type here refuses such a value while the command line is parsed, with argparse's
usual one-line error and exit status 2, before any process or port is set up.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["at_least_zero", "count", "in_range", "positive", "positive_count"]


def _number(text: str, kind: Callable[[str], float]) -> float:
    try:
        value = kind(text)
    except ValueError:
        name = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"not {name}: {text!r:.40}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r:.40}")
    return value


def positive(text: str) -> float:
    """A finite number above 0 (a rate, a duration that must run)."""
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0: {text!r:.40}")
    return value


def at_least_zero(text: str) -> float:
    """A finite number, 0 or above (a duration where 0 skips or means "derived")."""
    value = _number(text, float)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or above: {text!r:.40}")
    return value


def positive_count(text: str) -> int:
    """A whole number above 0 (tokens, samples, rounds)."""
    value = int(_number(text, int))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a whole number above 0: {text!r:.40}")
    return value


def count(text: str) -> int:
    """A whole number, 0 or above (0 skips or turns off)."""
    value = int(_number(text, int))
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number, 0 or above: {text!r:.40}")
    return value


def in_range(low: int, high: int) -> Callable[[str], int]:
    """A whole number in ``low..high``."""

    def parse(text: str) -> int:
        value = int(_number(text, int))
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in {low}..{high}: {text!r:.40}")
        return value

    parse.__name__ = f"whole number in {low}..{high}"
    return parse
