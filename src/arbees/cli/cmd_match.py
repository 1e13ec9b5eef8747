"""``arbees match``: run the game matcher on saved REST responses, to audit it on real data.

Feed it a Kalshi ``/events?with_nested_markets=true`` body and a Gamma ``/events`` body
saved to files; it prints the pairs it would trade and every rejection with its reason. The
bodies go through the same decoders and converters as discovery (each venue's ``models``
decoder, then :func:`arbees.matching.match_events`), so what it reports is what the
orchestrator would see, including every item a decoder refused.
Exit 0 when it ran (rejections are normal), 2 when an input cannot be read or has the
wrong shape.

With ``--teams`` (a saved Gamma ``/teams`` body), ``--sports`` (a saved Gamma ``/sports``
body: each sport no league of the table maps is reported ``unmapped``), ``--league``,
``--market-type`` or
``--polymarket-us`` (a saved Polymarket US ``/v1/events`` body) it audits every league
instead (:func:`arbees.matching.venue_listings.match_venue_events`): winner markets (2-way
and soccer's 3-way), totals and spreads at a line two or more venues list, with matched /
unmatched / ambiguous counts per league and market type and each match's evidence. Each
venue's file is optional there; any two or three venues together (a game all three list is
one event with three venues' contracts).

Kalshi's own structured data drives that audit first: ``--kalshi-milestones`` (saved
``GET /milestones`` pages) and ``--kalshi-targets`` (saved ``GET /structured_targets``
pages) give each Kalshi event its scheduled start and its teams' structured targets
(:class:`arbees.matching.kalshi_structure.KalshiStructure`); milestones a saved
``/events?with_milestones=true`` body carries next to its events (its top-level
``milestones``) are read too. Either implies the every-league audit; without them the
ticker codes and names decide, as before. A milestone or target a decoder refuses is
reported like any refused item.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from arbees.errors import DecodeError, DecodeRejection
from arbees.kalshi.models import (
    Milestone,
    StructuredTarget,
    parse_events,
    parse_milestones,
    parse_structured_targets,
)
from arbees.matching import DEFAULT_START_WINDOW, Venue, report_to_json, report_to_text
from arbees.matching.events import MarketType, Unmatched
from arbees.matching.kalshi_structure import KalshiStructure
from arbees.matching.leagues import LEAGUE_TABLE
from arbees.matching.model import Reason
from arbees.matching.render import events_to_json, events_to_text
from arbees.matching.venue_listings import build_catalogue, match_venue_events
from arbees.matching.venues import decode_rejections, match_events
from arbees.polymarket.models import (
    GammaTeam,
    parse_gamma_events,
    parse_gamma_sports,
    parse_gamma_teams,
)
from arbees.polymarket_us.models import parse_events as parse_us_events
from arbees.venues.polymarket import unmapped_sports

__all__ = ["register"]

E = TypeVar("E")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "match",
        help="match Kalshi, Polymarket and Polymarket US games from saved REST bodies",
        description="Run the game matcher on a saved Kalshi /events?with_nested_markets=true "
        "body, a saved Polymarket Gamma /events body and/or a saved Polymarket US /v1/events "
        "body (any two venues or all three); print matches and rejections.",
    )
    parser.add_argument(
        "--kalshi",
        action="append",
        metavar="FILE",
        help="Kalshi /events JSON (repeatable: one body per series or page)",
    )
    parser.add_argument(
        "--polymarket",
        action="append",
        metavar="FILE",
        help="Polymarket Gamma /events JSON (repeatable)",
    )
    parser.add_argument(
        "--polymarket-us",
        action="append",
        metavar="FILE",
        help="Polymarket US /v1/events JSON (repeatable; implies the every-league audit)",
    )
    parser.add_argument(
        "--kalshi-milestones",
        action="append",
        metavar="FILE",
        help="Kalshi /milestones JSON (repeatable; implies the every-league audit): each "
        "event's start and team targets",
    )
    parser.add_argument(
        "--kalshi-targets",
        action="append",
        metavar="FILE",
        help="Kalshi /structured_targets JSON (repeatable; implies the every-league audit): "
        "the teams the milestones name",
    )
    parser.add_argument(
        "--start-window-minutes",
        type=float,
        default=DEFAULT_START_WINDOW.total_seconds() / 60,
        metavar="MIN",
        help="max start-time difference when both venues give one (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--teams",
        metavar="FILE",
        help="Polymarket Gamma /teams JSON: audit every league (team catalogue)",
    )
    parser.add_argument(
        "--sports",
        metavar="FILE",
        help="Polymarket Gamma /sports JSON: report each sport no league maps as unmapped "
        "(implies the every-league audit)",
    )
    parser.add_argument(
        "--league",
        action="append",
        choices=[lg.key for lg in LEAGUE_TABLE],
        help="audit only this league (repeatable; implies the every-league audit)",
    )
    parser.add_argument(
        "--market-type",
        action="append",
        choices=[t.value for t in MarketType],
        help="audit only this market type (repeatable; implies the every-league audit)",
    )
    parser.set_defaults(handler=_run)


class _Unreadable(Exception):
    pass


def _load(path: str, what: str) -> object:
    try:
        with open(path, encoding="utf-8") as fh:
            data: object = json.load(fh, parse_float=Decimal)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"arbees match: cannot read {what} file {path!r}: {exc}", file=sys.stderr)
        raise _Unreadable from exc
    return data


def _run(args: argparse.Namespace) -> int:
    if not args.start_window_minutes >= 0:
        print("arbees match: --start-window-minutes must be >= 0", file=sys.stderr)
        return 2
    given = [bool(args.kalshi), bool(args.polymarket), bool(args.polymarket_us)]
    if sum(given) < 2:
        print(
            "arbees match: give the bodies of two venues or three "
            "(--kalshi, --polymarket, --polymarket-us)",
            file=sys.stderr,
        )
        return 2
    try:
        kalshi = [_load(path, "Kalshi") for path in args.kalshi or ()]
        poly = [_load(path, "Polymarket") for path in args.polymarket or ()]
        us = [_load(path, "Polymarket US") for path in args.polymarket_us or ()]
    except _Unreadable:
        return 2
    structured = bool(args.kalshi_milestones or args.kalshi_targets)
    audit = args.teams or args.sports or args.league or args.market_type or structured
    if audit or not all(given[:2]) or us:
        return _run_events(args, kalshi, poly, us)
    try:
        kalshi_events, kalshi_rejected = _decoded(kalshi, parse_events)
        gamma_events, gamma_rejected = _decoded(poly, parse_gamma_events)
        report = match_events(
            kalshi_events,
            gamma_events,
            rejected=(
                *decode_rejections(Venue.KALSHI, kalshi_rejected),
                *decode_rejections(Venue.POLYMARKET, gamma_rejected),
            ),
            start_window=timedelta(minutes=args.start_window_minutes),
        )
    except DecodeError as exc:
        print(f"arbees match: unexpected input shape: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report_to_json(report), indent=2))
    else:
        print(report_to_text(report))
    return 0


def _refused(venue: str, rejected: list[DecodeRejection]) -> list[Unmatched]:
    return [Unmatched(venue, r.item, "", "", Reason.MALFORMED, r.reason) for r in rejected]


def _decoded(
    bodies: list[object], parse: Callable[[object], tuple[list[E], list[DecodeRejection]]]
) -> tuple[list[E], list[DecodeRejection]]:
    """Every body decoded by its venue's one decoder: the events and the refusals."""
    events: list[E] = []
    rejected: list[DecodeRejection] = []
    for body in bodies:
        found, refused = parse(body)
        events += found
        rejected += refused
    return events, rejected


def _run_events(
    args: argparse.Namespace, kalshi: list[object], poly: list[object], us: list[object]
) -> int:
    teams: list[GammaTeam] = []
    refused: list[Unmatched] = []
    try:
        if args.teams:
            teams, bad_teams = parse_gamma_teams(_load(args.teams, "Gamma /teams"))
            refused += _refused("polymarket", bad_teams)
        if args.sports:
            sports, bad_sports = parse_gamma_sports(_load(args.sports, "Gamma /sports"))
            refused += _refused("polymarket", bad_sports)
            refused += [
                Unmatched("polymarket", r.item, "", "", Reason.UNMAPPED, r.reason)
                for r in unmapped_sports(sports)
            ]
        kalshi_events, kalshi_rejected = _decoded(kalshi, parse_events)
        gamma_events, gamma_rejected = _decoded(poly, parse_gamma_events)
        us_events, us_rejected = _decoded(us, parse_us_events)
        structure, structure_rejected = _kalshi_structure(args, kalshi)
        refused += _refused("kalshi", structure_rejected)
    except _Unreadable:
        return 2
    except DecodeError as exc:
        print(f"arbees match: unexpected input shape: {exc}", file=sys.stderr)
        return 2
    refused += _refused("kalshi", kalshi_rejected) + _refused("polymarket", gamma_rejected)
    refused += _refused("polymarket-us", us_rejected)
    report = match_venue_events(
        kalshi_events,
        gamma_events,
        build_catalogue(teams),
        polymarket_us=us_events,
        refused=refused,
        start_window=timedelta(minutes=args.start_window_minutes),
        leagues=tuple(args.league or ()),
        market_types=tuple(args.market_type or ()),
        kalshi_structure=structure,
    )
    if args.json:
        print(json.dumps(events_to_json(report), indent=2))
    else:
        print(events_to_text(report))
    return 0


def _kalshi_structure(
    args: argparse.Namespace, kalshi: list[object]
) -> tuple[KalshiStructure | None, list[DecodeRejection]]:
    """Kalshi's milestones (the files', and those an ``/events`` body carries) and
    structured targets, or ``None`` when there are none."""
    milestones: list[Milestone] = []
    rejected: list[DecodeRejection] = []
    for path in args.kalshi_milestones or ():
        found, refused = parse_milestones(_load(path, "Kalshi /milestones"))
        milestones += found
        rejected += refused
    for body in kalshi:
        carried = body.get("milestones") if isinstance(body, dict) else None
        if carried:
            found, refused = parse_milestones({"milestones": carried})
            milestones += found
            rejected += refused
    targets: list[StructuredTarget] = []
    for path in args.kalshi_targets or ():
        found_targets, refused = parse_structured_targets(_load(path, "Kalshi /structured_targets"))
        targets += found_targets
        rejected += refused
    if not milestones:
        return None, rejected
    return KalshiStructure.of(milestones, targets), rejected
