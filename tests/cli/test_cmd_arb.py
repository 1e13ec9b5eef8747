"""``arbees arb FILE``: the worked examples of its help, answered independently, and every
kind of bad file rejected with the field named (exit 2, no traceback)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.arb.brute import Spec, Venue, brute_force

from arbees.cli import main
from arbees.cli.cmd_arb import EXAMPLES, Example


def run(tmp_path: Path, data: object, *args: str) -> int:
    path = tmp_path / "event.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return main(["arb", str(path), *args])


def independent_best(data: dict[str, Any]) -> tuple[Any, ...]:
    """The best cover by the Decimal brute force: (legs, size, cost, fees, profit)."""
    venues = {}
    for name, v in data["venues"].items():
        fees = v["fees"]
        us = fees["kind"] == "polymarket-us"  # Polymarket US's published fees by default
        factor = Decimal(fees.get("multiplier", fees.get("rate", "0.05" if us else "0")))
        venues[name] = Venue(
            fees["kind"],
            factor,
            fees.get("exponent", 1),
            int(v.get("min_order_size", "0")),
            fees.get("schedule", "higher"),
            fees.get("taker_bps", 30),
        )
    specs = [
        Spec(
            c["venue"],
            c["instrument"],
            c["outcome"],
            c["side"],
            tuple((Decimal(p), int(n)) for p, n in c["asks"]),
        )
        for c in data["contracts"]
    ]
    found = brute_force(data["outcomes"], venues, specs, Decimal(data.get("min_edge", "0")))
    top = max(b.objective for b in found.values())
    (best,) = [b for b in found.values() if b.objective == top]  # the examples have one best
    return best.legs, best.size, best.cost, best.fees, best.profit


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.title.split(",")[0])
def test_worked_examples_are_answered_as_the_help_says(
    example: Example, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, example.data, "--json") == 0
    got = json.loads(capsys.readouterr().out)
    legs, size, cost, fees, profit = independent_best(example.data)
    assert got["found"] is True
    assert {(g["venue"], g["instrument"], g["outcome"], g["side"]) for g in got["legs"]} == legs
    assert [Decimal(got[k]) for k in ("size", "cost", "fees", "profit")] == [
        size,
        cost,
        fees,
        profit,
    ]
    assert Decimal(got["payout"]) - Decimal(got["cost"]) - Decimal(got["fees"]) == profit
    assert sum(Decimal(g["fee"]) for g in got["legs"]) == fees

    assert run(tmp_path, example.data) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == example.answer
    plain = [f"{Decimal(d).normalize():f}" for d in (size, cost, fees, profit)]
    assert first.endswith("size {}, cost {}, fees {}, profit {}".format(*plain))
    assert got["label"] == first.split(":")[0]

    with pytest.raises(SystemExit):
        main(["arb", "--help"])
    assert f"-> {example.answer}\n" in capsys.readouterr().out


def test_polymarket_us_fee_fields_default_to_its_published_fees(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Left out, schedule/taker_bps/rate are the venue's published higher-of-two fee (the
    example's own values); a "notional" schedule charges 30 bps of the notional only."""
    data = copy.deepcopy(EXAMPLES[3].data)
    data["venues"]["polymarket-us"]["fees"] = {"kind": "polymarket-us"}
    assert run(tmp_path, data) == 0
    assert capsys.readouterr().out.splitlines()[0] == EXAMPLES[3].answer
    data["venues"]["polymarket-us"]["fees"] = {"kind": "polymarket-us", "schedule": "notional"}
    assert run(tmp_path, data, "--json") == 0
    got = json.loads(capsys.readouterr().out)
    legs, size, cost, fees, profit = independent_best(data)
    assert {(g["venue"], g["instrument"], g["outcome"], g["side"]) for g in got["legs"]} == legs
    assert [Decimal(got[k]) for k in ("size", "cost", "fees", "profit")] == [
        size,
        cost,
        fees,
        profit,
    ]
    (us,) = [leg for leg in got["legs"] if leg["venue"] == "polymarket-us"]
    # 30 bps of the notional, rounded up to the cent
    notional = Decimal(us["notional"])
    assert Decimal(us["fee"]) == (notional * Decimal("0.003") / Decimal("0.01")).to_integral_value(
        rounding="ROUND_CEILING"
    ) * Decimal("0.01")


def test_no_opportunity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = copy.deepcopy(EXAMPLES[0].data)
    data["min_edge"] = "0.05"  # the best cover earns ~2 cents per contract
    assert run(tmp_path, data) == 0
    assert capsys.readouterr().out.startswith("no opportunity:")
    assert run(tmp_path, data, "--json") == 0
    got = json.loads(capsys.readouterr().out)
    assert got == {
        "found": False,
        "label": None,
        "legs": [],
        "size": None,
        "cost": None,
        "fees": None,
        "payout": None,
        "profit": None,
    }


def _edit(path: str, value: object) -> dict[str, Any]:
    """A copy of the first example with ``value`` set at ``path`` ("a.b.0.c"); a value of
    ``KeyError`` deletes the key."""
    data = copy.deepcopy(EXAMPLES[0].data)
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if value is KeyError:
        del node[key]
    else:
        node[key] = value
    return data


def _us(key: str, value: object) -> dict[str, Any]:
    """A copy of the Polymarket US example with its fee field ``key`` set to ``value``."""
    data = copy.deepcopy(EXAMPLES[3].data)
    data["venues"]["polymarket-us"]["fees"][key] = value
    return data


BAD = [
    (_edit("contracts.1.asks.0", ["1.3", "5"]), "contracts[1].asks[0]: price must be in (0, 1)"),
    (_edit("contracts.0.asks.0", ["0.5", "0"]), "contracts[0].asks[0]: size must be > 0"),
    (_edit("contracts.0.asks.0", ["0.5"]), "contracts[0].asks[0]: expected [price, size]"),
    (_edit("contracts.2.asks.0", ["0.1234567", "1"]), "contracts[2].asks[0].price: "),
    (_edit("contracts.2.asks.0", [True, "1"]), "contracts[2].asks[0].price: "),
    (_edit("contracts.3.asks", "none"), "contracts[3].asks: expected a list"),
    (_edit("contracts.1.venue", "betfair"), "contracts[1].venue: unknown venue 'betfair'"),
    (_edit("contracts.1.outcome", "draw"), "contracts[1].outcome: not one of the outcomes"),
    (_edit("contracts.1.side", "maybe"), 'contracts[1].side: must be "yes" or "no"'),
    (_edit("contracts.1.instrument", ""), "contracts[1].instrument: expected a non-empty"),
    (_edit("contracts.1.price", "0.5"), "contracts[1].price: unknown field"),
    (_edit("contracts.1.asks", KeyError), "contracts[1].asks: missing"),
    (_edit("contracts.1", EXAMPLES[0].data["contracts"][0]), "contracts[1]: same venue"),
    (_edit("outcomes", ["home"]), "outcomes: an event needs at least two outcomes"),
    (_edit("outcomes", ["home", "home"]), "outcomes[1]: duplicate outcome 'home'"),
    (_edit("outcomes.1", 7), "outcomes[1]: expected a non-empty string"),
    (_edit("min_edge", "1"), "min_edge: must be in [0, 1)"),
    (_edit("min_edge", "x"), "min_edge: not an exact decimal"),
    (_edit("venues", {}), "venues: expected a non-empty object"),
    (_edit("venues.kalshi.fees.kind", "bogus"), "venues.kalshi.fees.kind: must be one of"),
    (_edit("venues.kalshi.fees.rate", "0.1"), "venues.kalshi.fees.rate: not a field of kalshi"),
    (_edit("venues.kalshi.fees.multiplier", "11"), "venues.kalshi.fees: multiplier must be"),
    (_edit("venues.polymarket.fees.rate", KeyError), "venues.polymarket.fees.rate: missing"),
    (_edit("venues.polymarket.fees.rate", "1.5"), "venues.polymarket.fees: rate must be"),
    (_edit("venues.polymarket.fees.exponent", "1"), "venues.polymarket.fees.exponent: expected"),
    (_edit("venues.polymarket.fees.exponent", 9), "venues.polymarket.fees: exponent must be"),
    (_edit("venues.polymarket.min_order_size", "-1"), "venues.polymarket.min_order_size: must"),
    (_edit("venues.kalshi", []), "venues.kalshi: expected an object"),
    (_us("schedule", "lowest"), "venues.polymarket-us.fees.schedule: 'lowest' is not one of"),
    (_us("taker_bps", "30"), "venues.polymarket-us.fees.taker_bps: expected an integer"),
    (_us("taker_bps", 20_000), "venues.polymarket-us.fees: taker_bps must be a whole number"),
    (_us("rate", "1"), "venues.polymarket-us.fees: rate must be in [0, 1)"),
    (_us("exponent", 1), "venues.polymarket-us.fees.exponent: not a field of polymarket-us"),
    (_edit("contracts", {}), "contracts: expected a list"),
    (_edit("extra", 1), "extra: unknown field"),
    ([1, 2], "expected an object"),
    ("{not json", "cannot read"),
]


@pytest.mark.parametrize(("data", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_files_name_the_field(
    data: object, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, data) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert message in err
    assert "Traceback" not in err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["arb", str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
