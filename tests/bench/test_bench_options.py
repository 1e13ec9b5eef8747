"""Every ``arbees bench`` command refuses a bad number while its command line is parsed.

A negative rate once ran a load-free bench reporting a rate of 0, and a NaN duration
ended in a traceback from deep inside the run; now argparse refuses both, with its
one-line error and exit status 2, before any process or port is set up.
"""

from __future__ import annotations

import argparse

import pytest

from arbees.bench import _args
from arbees.cli import build_parser

# (command, option, a value it refuses) for every numeric option of every bench command.
REFUSED = [
    ("e2e", "--rate", "-1"),
    ("e2e", "--rate", "0"),
    ("e2e", "--rate", "inf"),
    ("e2e", "--tokens", "0"),
    ("e2e", "--duration", "nan"),
    ("e2e", "--duration", "0"),
    ("e2e", "--toggle-every", "-3"),
    ("e2e", "--ramp-step", "0"),
    ("e2e", "--max-rate", "-5"),
    ("e2e", "--relay-duration", "-1"),
    ("e2e", "--big-tokens", "-1"),
    ("e2e", "--big-levels", "0"),
    ("e2e", "--big-levels", "41"),
    ("e2e", "--big-duration", "-0.5"),
    ("e2e", "--warmup", "nan"),
    ("e2e", "--floor-count", "0"),
    ("e2e", "--timeout", "-10"),
    ("shard", "--rate", "nan"),
    ("shard", "--per-write", "0"),
    ("shard", "--tokens", "-2"),
    ("shard", "--duration", "-1"),
    ("shard", "--warmup", "-1"),
    ("shard", "--toggle-every", "-1"),
    ("soak", "--duration", "0"),
    ("soak", "--games", "0"),
    ("soak", "--fault-gap", "-inf"),
    ("bus", "--count", "0"),
    ("bus", "--warmup", "-1"),
    ("bus", "--throughput-count", "0"),
    ("bus", "--memory-count", "-1"),
    ("bus", "--ab-rate", "0"),
    ("bus", "--ab-batch", "0"),
    ("bus", "--ab-seconds", "nan"),
    ("bus", "--ab-pairs", "0"),
    ("kernel", "--repeat", "0"),
    ("kernel", "--python-subset", "-1"),
    ("kernel", "--shard-games", "0"),
    ("kernel", "--shard-batch", "0"),
    ("parse", "--frames", "0"),
    ("parse", "--rounds", "-1"),
    ("e2e", "--tokens", "1.5"),
    ("e2e", "--rate", "fast"),
]


@pytest.mark.parametrize(("command", "option", "value"), REFUSED)
def test_a_bad_number_is_refused_at_parse_time(
    command: str, option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = build_parser("bench")
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["bench", command, f"{option}={value}"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert option in err
    assert "Traceback" not in err


def test_the_edges_that_mean_something_are_taken() -> None:
    """0 skips a phase or turns a feature off where the help says so; defaults parse."""
    parser = build_parser("bench")
    args = parser.parse_args(
        ["bench", "e2e", "--relay-duration", "0", "--big-tokens", "0", "--toggle-every", "0"]
    )
    assert (args.relay_duration, args.big_tokens, args.toggle_every) == (0.0, 0, 0)
    assert (args.rate, args.tokens, args.big_levels, args.timeout) == (2000.0, 500, 16, 0.0)
    args = parser.parse_args(["bench", "e2e", "--big-levels", "40", "--rate", "1e4"])
    assert (args.big_levels, args.rate) == (40, 10_000.0)
    args = parser.parse_args(["bench", "shard", "--warmup", "0", "--per-write", "16"])
    assert (args.warmup, args.per_write) == (0.0, 16)
    assert parser.parse_args(["bench", "bus", "--warmup", "0"]).warmup == 0


@pytest.mark.parametrize(
    ("parse", "text", "value"),
    [
        (_args.positive, "0.25", 0.25),
        (_args.at_least_zero, "0", 0.0),
        (_args.positive_count, "7", 7),
        (_args.count, "0", 0),
        (_args.in_range(1, 40), "1", 1),
    ],
)
def test_each_type_returns_the_number(parse: object, text: str, value: float) -> None:
    assert callable(parse)
    got = parse(text)
    assert got == value
    assert type(got) is type(value)


@pytest.mark.parametrize(
    ("parse", "text", "why"),
    [
        (_args.positive, "-0.0", "above 0"),
        (_args.positive, "nan", "finite"),
        (_args.at_least_zero, "-1e-9", "0 or above"),
        (_args.positive_count, "0", "above 0"),
        (_args.count, "-1", "0 or above"),
        (_args.count, "2.0", "whole number"),
        (_args.in_range(1, 40), "99", "1..40"),
        (_args.positive, "x" * 500, "not a number"),
    ],
)
def test_each_type_says_why(parse: object, text: str, why: str) -> None:
    assert callable(parse)
    with pytest.raises(argparse.ArgumentTypeError) as exc:
        parse(text)
    assert why in str(exc.value)
    assert len(str(exc.value)) < 100  # a long value is cut, not echoed whole
