"""The team catalogue of a discovery without Gamma: Polymarket US's own names and codes.

A US-only deployment never reaches international Polymarket, so Gamma's ``/teams`` is not
there to name the teams. Polymarket US names them itself, and a code is paired with a name
only where the venue pairs them:

- a market side's ``team`` object (``{"name": "Buffalo Bills", "abbreviation": "BUF"}``);
- a per-outcome market whose slug is the event's slug plus one of the slug's team codes
  (``aec-epl-mun-mci-2026-12-06-mun``) and whose question names one team ("Will Manchester
  United win?");
- the event's ``home_team_name`` / ``away_team_name`` for a slug code only when the other
  code is already paired with the other name (the slug's order alone is not trusted: the
  venue lists soccer home first and US sports away first).

A code two different names claim in one league is left out and reported (never guessed);
a name two codes claim stays ambiguous in the catalogue (it never resolves). For the
leagues of the built-in tables (NBA, NHL) a Polymarket US code joins the built-in team its
code or its name names, as another code of that team; one naming no built-in team is
reported. The checked-in :data:`~arbees.matching.catalogue.CODE_OVERRIDES` apply as for
Gamma's rows.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from arbees.matching.catalogue import CatalogueRow, TeamCatalogue, builtin_rows
from arbees.matching.teams import normalize_name
from arbees.matching.venue_listings import _US_SLUG, _WILL_WIN, _Reject, _us_league
from arbees.polymarket_us.models import UsEvent

__all__ = ["BUILTIN_LEAGUES", "polymarket_us_catalogue", "polymarket_us_team_rows"]

log = logging.getLogger(__name__)

BUILTIN_LEAGUES = ("NBA", "NHL")
"""The leagues whose teams are the checked-in tables."""

_SOURCE = "polymarket-us"


def _pairs(event: UsEvent, codes: tuple[str, str]) -> set[tuple[str, str]]:
    """The ``(code, name)`` pairs the venue itself makes in one event."""
    pairs: set[tuple[str, str]] = set()
    for market in event.markets:
        for side in market.outcomes:
            if side.team.strip() and side.team_code.strip():
                pairs.add((side.team_code.strip().upper(), side.team.strip()))
        suffix = market.slug.removeprefix(f"{event.slug}-")
        said = _WILL_WIN.match(market.question.strip())
        if suffix != market.slug and suffix in codes and said is not None:
            pairs.add((suffix.upper(), said["team"].strip()))
    named = {code for code, _ in pairs}
    names = {normalize_name(n) for _, n in pairs}
    for market in event.markets:
        sides = {market.away_team.strip(), market.home_team.strip()} - {""}
        if len(sides) != 2:
            continue
        for code, name in list(pairs):
            if code.lower() not in codes or normalize_name(name) not in map(normalize_name, sides):
                continue
            other_code = next(c for c in codes if c != code.lower()).upper()
            other_name = next(s for s in sides if normalize_name(s) != normalize_name(name))
            if other_code not in named and normalize_name(other_name) not in names:
                pairs.add((other_code, other_name))
    return pairs


def polymarket_us_team_rows(events: Iterable[UsEvent]) -> tuple[list[CatalogueRow], list[str]]:
    """Catalogue rows from Polymarket US's events (see the module); the second list says
    which codes were left out and why."""
    names: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for event in events:
        m = _US_SLUG.match(event.slug)
        if m is None or m["away"] == m["home"]:
            continue  # the listing refuses it (reported there)
        try:
            league = _us_league(event, m["league"])
        except _Reject:
            continue  # the listing refuses it (reported there)
        for code, name in _pairs(event, (m["away"], m["home"])):
            names[(league, code)].setdefault(normalize_name(name), name)
    rows: list[CatalogueRow] = []
    refused: list[str] = []
    builtin = TeamCatalogue([row for lg in BUILTIN_LEAGUES for row in builtin_rows(lg)])
    for (league, code), found in sorted(names.items()):
        if len(found) != 1:
            refused.append(f"{league}:{code}: named {sorted(found.values())}")
            continue
        name = next(iter(found.values()))
        if league not in BUILTIN_LEAGUES:
            rows.append(CatalogueRow(league, code, name, (), _SOURCE))
            continue
        team = builtin.by_code(league, code).team or builtin.by_name(league, name).team
        if team is None:
            refused.append(f"{league}:{code}: {name!r} is no team of the built-in table")
            continue
        extra = (code,) if code != team.code and code not in team.extra_codes else ()
        rows.append(CatalogueRow(league, team.code, team.name, (name,), _SOURCE, extra))
    return rows, refused


def polymarket_us_catalogue(events: Iterable[UsEvent]) -> TeamCatalogue:
    """The built-in NBA/NHL tables plus Polymarket US's own teams (no Gamma)."""
    rows, refused = polymarket_us_team_rows(events)
    for why in refused:
        log.warning("team catalogue: Polymarket US team left out: %s", why)
    builtin = [row for lg in BUILTIN_LEAGUES for row in builtin_rows(lg)]
    return TeamCatalogue([*builtin, *rows])
