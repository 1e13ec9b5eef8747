"""``arbees arb FILE [--json]``: the venue-neutral arbitrage math as a what-if calculator.

FILE describes one event, its venues' terms and the contracts on offer with their asks
(see ``arbees arb --help`` for the format and worked examples). The command prints the best
opportunity — the legs, the size bought on each, cost, fees and profit, all exact — or says
there is none. ``--json`` prints one object: ``found``, ``label``, ``legs``, ``size``,
``cost``, ``fees``, ``payout``, ``profit`` (exact decimal strings; ``null`` and ``[]`` when
nothing is found), a stable interface for scripts and tests.

Exit 0 when it ran (finding nothing is an answer), 2 when the file cannot be read or a field
is invalid; the message names the field, e.g. ``contracts[2].asks[0]: price must be in
(0, 1)``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Final

import attrs

from arbees.arb import (
    Contract,
    Event,
    EventOpportunity,
    Side,
    VenueTerms,
    event_opportunities,
)
from arbees.book import Level
from arbees.errors import ConfigError, DecodeError, KernelError
from arbees.fees import POLYMARKET_US_CURVE_RATE, POLYMARKET_US_TAKER_BPS, terms_model
from arbees.messages import FeeTerms
from arbees.money import ONE, Fixed, format_fixed, parse_fixed

__all__ = ["EXAMPLES", "Example", "register"]


@attrs.frozen
class Example:
    """A worked example shown in ``arbees arb --help``.

    Attributes:
        title: what it shows.
        data: the FILE content.
        answer: the first line ``arbees arb`` prints for it.
    """

    title: str
    data: dict[str, Any]
    answer: str


EXAMPLES: Final = (
    Example(
        "binary moneyline, Kalshi x Polymarket (the seed's four combinations)",
        {
            "outcomes": ["home", "away"],
            "venues": {
                "kalshi": {"fees": {"kind": "kalshi", "multiplier": "1"}},
                "polymarket": {
                    "fees": {"kind": "polymarket", "rate": "0.03", "exponent": 1},
                    "min_order_size": "5",
                },
            },
            "contracts": [
                {
                    "venue": "kalshi",
                    "instrument": "KXNBAGAME-HOME",
                    "outcome": "home",
                    "side": "yes",
                    "asks": [["0.45", "100"]],
                },
                {
                    "venue": "kalshi",
                    "instrument": "KXNBAGAME-HOME",
                    "outcome": "home",
                    "side": "no",
                    "asks": [["0.57", "100"]],
                },
                {
                    "venue": "polymarket",
                    "instrument": "tok-home",
                    "outcome": "home",
                    "side": "yes",
                    "asks": [["0.48", "200"]],
                },
                {
                    "venue": "polymarket",
                    "instrument": "tok-away",
                    "outcome": "away",
                    "side": "yes",
                    "asks": [["0.50", "50"], ["0.51", "100"]],
                },
            ],
        },
        "KalshiYes+PolyNo: size 100, cost 95.5, fees 2.48985, profit 2.01015",
    ),
    Example(
        "3-way soccer (home/draw/away): one YES per outcome, across venues",
        {
            "outcomes": ["home", "draw", "away"],
            "min_edge": "0.005",
            "venues": {
                "kalshi": {"fees": {"kind": "kalshi", "multiplier": "1"}},
                "polymarket": {"fees": {"kind": "polymarket", "rate": "0.03", "exponent": 1}},
            },
            "contracts": [
                {
                    "venue": "kalshi",
                    "instrument": "KXSOCCER-HOME",
                    "outcome": "home",
                    "side": "yes",
                    "asks": [["0.40", "50"], ["0.41", "100"]],
                },
                {
                    "venue": "kalshi",
                    "instrument": "KXSOCCER-HOME",
                    "outcome": "home",
                    "side": "no",
                    "asks": [["0.58", "300"]],
                },
                {
                    "venue": "polymarket",
                    "instrument": "tok-draw",
                    "outcome": "draw",
                    "side": "yes",
                    "asks": [["0.25", "100"], ["0.27", "100"]],
                },
                {
                    "venue": "polymarket",
                    "instrument": "tok-away",
                    "outcome": "away",
                    "side": "yes",
                    "asks": [["0.30", "80"]],
                },
            ],
        },
        "kalshi YES home + polymarket YES draw + polymarket YES away: "
        "size 80, cost 76.3, fees 2.304, profit 1.396",
    ),
    Example(
        "binary over/under on three venues (a fee-free exchange with a 2-contract minimum)",
        {
            "outcomes": ["over", "under"],
            "venues": {
                "kalshi": {"fees": {"kind": "kalshi", "multiplier": "1"}},
                "polymarket": {"fees": {"kind": "polymarket", "rate": "0.03", "exponent": 1}},
                "exchange": {"fees": {"kind": "none"}, "min_order_size": "2"},
            },
            "contracts": [
                {
                    "venue": "kalshi",
                    "instrument": "KXTOTAL-220",
                    "outcome": "over",
                    "side": "yes",
                    "asks": [["0.52", "40"]],
                },
                {
                    "venue": "polymarket",
                    "instrument": "tok-over",
                    "outcome": "over",
                    "side": "yes",
                    "asks": [["0.50", "20"], ["0.53", "50"]],
                },
                {
                    "venue": "exchange",
                    "instrument": "OU-220",
                    "outcome": "over",
                    "side": "no",
                    "asks": [["0.46", "10"], ["0.47", "30"]],
                },
            ],
        },
        "polymarket YES over + exchange NO over: size 20, cost 19.3, fees 0.15, profit 0.55",
    ),
    Example(
        "binary moneyline, Kalshi x Polymarket US (the higher of its two taker fees, per fill)",
        {
            "outcomes": ["home", "away"],
            "venues": {
                "kalshi": {"fees": {"kind": "kalshi", "multiplier": "1"}},
                "polymarket-us": {
                    "fees": {
                        "kind": "polymarket-us",
                        "schedule": "higher",
                        "taker_bps": 30,
                        "rate": "0.05",
                    }
                },
            },
            "contracts": [
                {
                    "venue": "kalshi",
                    "instrument": "KXNBAGAME-HOME",
                    "outcome": "home",
                    "side": "yes",
                    "asks": [["0.40", "100"]],
                },
                {
                    "venue": "kalshi",
                    "instrument": "KXNBAGAME-HOME",
                    "outcome": "home",
                    "side": "no",
                    "asks": [["0.62", "100"]],
                },
                {
                    "venue": "polymarket-us",
                    "instrument": "aec-nba-home-away-2026-10-20",
                    "outcome": "home",
                    "side": "yes",
                    "asks": [["0.44", "100"]],
                },
                {
                    "venue": "polymarket-us",
                    "instrument": "aec-nba-home-away-2026-10-20",
                    "outcome": "home",
                    "side": "no",
                    "asks": [["0.55", "60"], ["0.57", "100"]],
                },
            ],
        },
        "kalshi YES home + polymarket-us NO home: size 94, cost 89.98, fees 2.74, profit 1.28",
    ),
)
"""The worked examples of the help; a test runs each and checks its answer independently."""

_FORMAT: Final = """\
FILE (JSON):
  {"outcomes": ["home", "away"],           # mutually exclusive, exhaustive; >= 2
   "min_edge": "0",                        # optional: profit per contract must exceed it
   "venues": {NAME: {"fees": FEES, "min_order_size": "5"}},   # min_order_size optional
   "contracts": [{"venue": NAME, "instrument": ID, "outcome": "home", "side": "yes",
                  "asks": [["0.31", "120"], ...]}, ...]}     # [price, size], any order
  FEES: {"kind": "kalshi", "multiplier": "1"} | {"kind": "none"}
      | {"kind": "polymarket", "rate": "0.03", "exponent": 1}
      | {"kind": "polymarket-us", "schedule": "higher", "taker_bps": 30, "rate": "0.05"}
        (Polymarket US: "notional" = taker_bps of C x p, "curve" = rate x C x p x (1 - p),
        "higher" = the larger of the two per fill; these values when left out)
  YES on an outcome pays $1 when it happens; NO pays $1 when any other outcome happens.
  Numbers are exact decimal strings (or JSON numbers). Every leg buys the same size, each
  leg is one order paying its venue's fee, and the size maximizes profit - min_edge x size.
"""


def _example_text(example: Example) -> str:
    data = example.data
    head = {k: v for k, v in data.items() if k not in ("venues", "contracts")}
    venues = [f"      {json.dumps(k)}: {json.dumps(v)}" for k, v in data["venues"].items()]
    contracts = [f"      {json.dumps(c)}" for c in data["contracts"]]
    return "\n".join(
        [
            f"  {example.title}:",
            f"    {json.dumps(head)[:-1]},",
            '     "venues": {',
            ",\n".join(venues) + "},",
            '     "contracts": [',
            ",\n".join(contracts) + "]}",
            f"    -> {example.answer}",
        ]
    )


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "arb",
        help="what-if: the best arbitrage over an event's contracts on any venues",
        description="Find the best set of contracts that pays $1 whatever the outcome, "
        "bought for less than $1 after every venue's fees, sized over the order books' depth.",
        epilog=_FORMAT
        + "\nworked examples (file, then the answer):\n"
        + "\n\n".join(_example_text(e) for e in EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE", help="the event, venues and contracts (JSON)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        with open(args.file, encoding="utf-8") as fh:
            data: object = json.load(fh)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"arbees arb: cannot read {args.file!r}: {exc}", file=sys.stderr)
        return 2
    try:
        event, contracts, terms, min_edge = _decode(data)
        found = event_opportunities(event, contracts, terms, min_edge=min_edge)
    except (DecodeError, KernelError) as exc:
        print(f"arbees arb: {args.file}: {exc}", file=sys.stderr)
        return 2
    best = found[0] if found else None
    if args.json:
        print(json.dumps(_to_json(best), indent=2))
    else:
        print(_to_text(best, min_edge))
    return 0


# --- reading the file ---------------------------------------------------------------------


def _fields(value: object, path: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DecodeError("expected an object", field=path or None)
    for key in value:
        if key not in required | optional:
            raise DecodeError("unknown field", field=_join(path, str(key)))
    for key in sorted(required):
        if key not in value:
            raise DecodeError("missing", field=_join(path, key))
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise DecodeError("expected a list", field=path)
    return value


def _name(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise DecodeError("expected a non-empty string", field=path)
    return value


def _decode(data: object) -> tuple[Event, list[Contract], dict[str, VenueTerms], Fixed]:
    top = _fields(data, "", {"outcomes", "venues", "contracts"}, {"min_edge"})
    outcomes = [
        _name(o, f"outcomes[{i}]") for i, o in enumerate(_list(top["outcomes"], "outcomes"))
    ]
    if len(outcomes) < 2:
        raise DecodeError("an event needs at least two outcomes", field="outcomes")
    for i, o in enumerate(outcomes):
        if o in outcomes[:i]:
            raise DecodeError(f"duplicate outcome {o!r}", field=f"outcomes[{i}]")
    min_edge = parse_fixed(top.get("min_edge", "0"), field="min_edge")
    if not 0 <= min_edge < ONE:
        raise DecodeError("must be in [0, 1)", field="min_edge")
    venues = top["venues"]
    if not isinstance(venues, dict) or not venues:
        raise DecodeError("expected a non-empty object", field="venues")
    terms = {name: _venue(name, value, f"venues.{name}") for name, value in venues.items()}
    seen: dict[tuple[str, str, str, str], int] = {}
    contracts = []
    for i, value in enumerate(_list(top["contracts"], "contracts")):
        contract = _contract(value, f"contracts[{i}]", outcomes, terms)
        key = (contract.venue, contract.instrument, contract.outcome, contract.side)
        if key in seen:
            raise DecodeError(
                f"same venue, instrument, outcome and side as contracts[{seen[key]}]",
                field=f"contracts[{i}]",
            )
        seen[key] = i
        contracts.append(contract)
    return Event(tuple(outcomes)), contracts, terms, min_edge


_FEE_FIELDS: Final[dict[str, frozenset[str]]] = {
    "kalshi": frozenset({"multiplier"}),
    "polymarket": frozenset({"rate", "exponent"}),
    "polymarket-us": frozenset({"schedule", "taker_bps", "rate"}),
    "none": frozenset(),
}
"""The fields of each fee kind the file may give (every kind of :data:`FEE_KINDS`)."""

_REQUIRED_FEE_FIELDS: Final[dict[str, frozenset[str]]] = {"polymarket": frozenset({"rate"})}

_PMUS_DEFAULTS: Final = {
    "schedule": "higher",
    "taker_bps": POLYMARKET_US_TAKER_BPS,
    "rate": format(POLYMARKET_US_CURVE_RATE, "f"),
}
"""Polymarket US's published fees, for the fields a file leaves out: the higher of 30 bps
of the notional and ``0.05 x C x p x (1 - p)`` (:class:`arbees.fees.PolymarketUsFeeModel`)."""


def _venue(name: str, value: object, path: str) -> VenueTerms:
    """One venue's terms, read as the shard reads an assignment's: the fee object as a
    :class:`~arbees.messages.FeeTerms` payload, its model from :func:`~arbees.fees.terms_model`."""
    venue = _fields(value, path, {"fees"}, {"min_order_size"})
    fees_path = f"{path}.fees"
    spec = _fields(venue["fees"], fees_path, {"kind"}, set().union(*_FEE_FIELDS.values()))
    kind = spec["kind"]
    if kind not in _FEE_FIELDS:
        raise DecodeError(
            f"must be one of {', '.join(sorted(_FEE_FIELDS))}, got {kind!r:.40}",
            field=f"{fees_path}.kind",
        )
    for key in spec:
        if key != "kind" and key not in _FEE_FIELDS[kind]:
            raise DecodeError(f"not a field of {kind} fees", field=f"{fees_path}.{key}")
    for key in sorted(_REQUIRED_FEE_FIELDS.get(kind, ())):
        if key not in spec:
            raise DecodeError("missing", field=f"{fees_path}.{key}")
    min_order_size = parse_fixed(venue.get("min_order_size", "0"), field=f"{path}.min_order_size")
    if min_order_size < 0:
        raise DecodeError("must be >= 0", field=f"{path}.min_order_size")
    payload: dict[str, Any] = {**(_PMUS_DEFAULTS if kind == "polymarket-us" else {}), **spec}
    for key in ("multiplier", "rate"):  # exact decimal strings, or JSON numbers read exactly
        if key in payload and not isinstance(payload[key], str):
            payload[key] = format_fixed(parse_fixed(payload[key], field=f"{fees_path}.{key}"))
    payload.update(venue=name, min_order_size=format_fixed(min_order_size))
    try:
        terms = FeeTerms.from_dict(payload)
    except DecodeError as exc:
        where = f"{fees_path}.{exc.field}" if exc.field else fees_path
        raise DecodeError(str(exc).removeprefix(f"{exc.field}: "), field=where) from None
    try:
        return VenueTerms(terms_model(terms), min_order_size)
    except ConfigError as exc:
        raise DecodeError(str(exc), field=fees_path) from exc


def _contract(
    value: object, path: str, outcomes: list[str], terms: dict[str, VenueTerms]
) -> Contract:
    spec = _fields(value, path, {"venue", "instrument", "outcome", "side", "asks"}, set())
    venue = _name(spec["venue"], f"{path}.venue")
    if venue not in terms:
        raise DecodeError(f"unknown venue {venue!r:.40} (not in venues)", field=f"{path}.venue")
    outcome = _name(spec["outcome"], f"{path}.outcome")
    if outcome not in outcomes:
        raise DecodeError(f"not one of the outcomes: {outcome!r:.40}", field=f"{path}.outcome")
    side: Side
    if spec["side"] == "yes":
        side = "yes"
    elif spec["side"] == "no":
        side = "no"
    else:
        raise DecodeError('must be "yes" or "no"', field=f"{path}.side")
    asks = []
    for j, level in enumerate(_list(spec["asks"], f"{path}.asks")):
        where = f"{path}.asks[{j}]"
        if not isinstance(level, list) or len(level) != 2:
            raise DecodeError("expected [price, size]", field=where)
        price = parse_fixed(level[0], field=f"{where}.price")
        size = parse_fixed(level[1], field=f"{where}.size")
        if not 0 < price < ONE:
            raise DecodeError("price must be in (0, 1)", field=where)
        if size <= 0:
            raise DecodeError("size must be > 0", field=where)
        asks.append(Level(price, size))
    instrument = _name(spec["instrument"], f"{path}.instrument")
    return Contract(venue, instrument, outcome, side, tuple(asks))


# --- printing -----------------------------------------------------------------------------


def _summary(opp: EventOpportunity) -> str:
    return (
        f"{opp.label}: size {format_fixed(opp.size)}, cost {format_fixed(opp.cost)}, "
        f"fees {format_fixed(opp.fees)}, profit {format_fixed(opp.profit)}"
    )


def _to_text(opp: EventOpportunity | None, min_edge: Fixed) -> str:
    if opp is None:
        beyond = f" by more than {format_fixed(min_edge)} per contract" if min_edge else ""
        return (
            "no opportunity: no set of contracts covering every outcome costs less than "
            f"$1 per contract after fees{beyond}"
        )
    lines = [_summary(opp)]
    for leg in opp.legs:
        lines.append(
            f"  buy {format_fixed(leg.size)} {leg.venue} {leg.instrument} "
            f"{leg.side.upper()} {leg.outcome}: avg price {format_fixed(leg.avg_price)}, "
            f"limit {format_fixed(leg.worst_price)}, fee {format_fixed(leg.fee)}"
        )
    lines.append(
        f"  pays {format_fixed(opp.payout)} whatever happens; "
        f"edge per contract {format_fixed(opp.edge_per_contract)}"
    )
    return "\n".join(lines)


def _to_json(opp: EventOpportunity | None) -> dict[str, Any]:
    if opp is None:
        return {
            "found": False,
            "label": None,
            "legs": [],
            "size": None,
            "cost": None,
            "fees": None,
            "payout": None,
            "profit": None,
        }
    return {
        "found": True,
        "label": opp.label,
        "legs": [
            {
                "venue": leg.venue,
                "instrument": leg.instrument,
                "outcome": leg.outcome,
                "side": leg.side,
                "size": format_fixed(leg.size),
                "avg_price": format_fixed(leg.avg_price),
                "worst_price": format_fixed(leg.worst_price),
                "notional": format_fixed(leg.notional),
                "fee": format_fixed(leg.fee),
            }
            for leg in opp.legs
        ],
        "size": format_fixed(opp.size),
        "cost": format_fixed(opp.cost),
        "fees": format_fixed(opp.fees),
        "payout": format_fixed(opp.payout),
        "profit": format_fixed(opp.profit),
    }
