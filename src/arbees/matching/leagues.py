"""The leagues arbees matches: one canonical key per league and each venue's name for it.

Kalshi names a league inside its series tickers (``KX`` + league code + ``GAME`` /
``TOTAL`` / ``SPREAD``: ``KXNFLGAME``, ``KXMLBTOTAL``, ``KXNCAAMBGAME``); Gamma by its sport
code, the ``sport`` of its ``/sports`` entries (``nfl``, ``ncaab``, ``sea``), which its event
slugs, ``seriesSlug`` and tags carry too. Gamma's series ids, tags and the list of sports
come from ``/sports`` at run time (:class:`arbees.venues.polymarket.GammaListings`); this
checked-in table only says which of our leagues each sport code is, plus the overrides
where a Gamma event spells its league differently from ``/sports``
(:data:`GAMMA_SLUG_OVERRIDES`: college basketball's events say ``cbb``). A name it does not
know is reported (``unknown_league``; a ``/sports`` entry: ``unmapped``), never guessed.
``draws`` marks the leagues whose games can end level (soccer): their winner markets are
3-way (home / draw / away).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

import attrs

__all__ = [
    "GAMMA_SLUG_OVERRIDES",
    "LEAGUE_TABLE",
    "League",
    "SeriesKind",
    "gamma_league",
    "gamma_leagues",
    "kalshi_league",
    "kalshi_series_kind",
    "league",
    "select_series",
]


@attrs.frozen
class League:
    """One league and its names on each venue.

    Attributes:
        key: canonical key (``"NFL"``, ``"NCAAB"``, ``"EPL"``).
        kalshi: league codes in Kalshi series tickers (``"NCAAMB"``).
        gamma: Gamma sport codes, as ``/sports`` lists them (``"ncaab"``).
        draws: a game can end level, so the winner market is 3-way.
        rare_ties: a 2-way game can still end tied (NFL regular season): neither team's
            contract pays then, and the venues settle it differently (noted on matches).
    """

    key: str
    kalshi: tuple[str, ...]
    gamma: tuple[str, ...]
    draws: bool = False
    rare_ties: bool = False


LEAGUE_TABLE: Final = (
    League("NFL", ("NFL",), ("nfl",), rare_ties=True),
    League("NCAAF", ("NCAAF",), ("cfb",)),
    League("NBA", ("NBA",), ("nba",)),
    League("NCAAB", ("NCAAMB",), ("ncaab",)),
    League("NHL", ("NHL",), ("nhl",)),
    League("MLB", ("MLB",), ("mlb",)),
    League("EPL", ("EPL",), ("epl",), draws=True),
    League("SERIEA", ("SERIEA",), ("sea",), draws=True),
    League("LALIGA", ("LALIGA",), ("lal",), draws=True),
    League("BUNDESLIGA", ("BUNDESLIGA",), ("bun",), draws=True),
    League("LIGUE1", ("LIGUE1",), ("fl1",), draws=True),
    League("UCL", ("UCL",), ("ucl",), draws=True),
    League("MLS", ("MLS",), ("mls",), draws=True),
)

GAMMA_SLUG_OVERRIDES: Final[Mapping[str, str]] = MappingProxyType(
    {"cbb": "NCAAB", "ncaaf": "NCAAF"}
)
"""Known disagreements: a league spelling of Gamma's event slugs / ``seriesSlug`` / tags
that is not the ``/sports`` code, to our league key (college basketball's events are
``cbb-...`` while ``/sports`` lists ``ncaab``; ``ncaaf`` is kept from the earlier hand-typed
table, unverified)."""

_BY_KEY: Final[Mapping[str, League]] = MappingProxyType({lg.key: lg for lg in LEAGUE_TABLE})
_BY_KALSHI: Final[Mapping[str, League]] = MappingProxyType(
    {code: lg for lg in LEAGUE_TABLE for code in lg.kalshi}
)
_BY_GAMMA: Final[Mapping[str, League]] = MappingProxyType(
    {
        **{slug: _BY_KEY[key] for slug, key in GAMMA_SLUG_OVERRIDES.items()},
        **{code: lg for lg in LEAGUE_TABLE for code in lg.gamma},
    }
)


class SeriesKind:
    """The market types of Kalshi's sports series (the series ticker's suffix)."""

    GAME: Final = "GAME"
    TOTAL: Final = "TOTAL"
    SPREAD: Final = "SPREAD"


_SERIES = re.compile(r"^KX(?P<league>[A-Z0-9]+?)(?P<kind>GAME|TOTAL|SPREAD)$")


def league(key: str) -> League | None:
    """The league with canonical ``key``, or ``None``."""
    return _BY_KEY.get(key)


def kalshi_series_kind(series_ticker: str) -> tuple[str, str] | None:
    """``(league code, kind)`` of a Kalshi game/total/spread series ticker
    (``KXMLBTOTAL`` -> ``("MLB", "TOTAL")``); ``None`` for any other series (futures,
    props, awards)."""
    m = _SERIES.match(series_ticker)
    return None if m is None else (m["league"], m["kind"])


def kalshi_league(code: str) -> League | None:
    """The league of a Kalshi series league code (``NCAAMB`` -> NCAAB)."""
    return _BY_KALSHI.get(code.upper())


def gamma_league(slug: str) -> League | None:
    """The league of a Gamma sport code (``ncaab`` -> NCAAB) or of a slug spelling the
    overrides know (``cbb`` -> NCAAB)."""
    return _BY_GAMMA.get(slug.lower())


_KIND_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {SeriesKind.GAME: "moneyline", SeriesKind.TOTAL: "total", SeriesKind.SPREAD: "spread"}
)


def select_series(
    tickers: Iterable[str],
    *,
    leagues: Iterable[str] = (),
    exclude_leagues: Iterable[str] = (),
    market_types: Iterable[str] = (),
) -> list[str]:
    """The Kalshi series to discover among ``tickers`` (sorted): the game / total / spread
    series of a league in the table, narrowed to ``leagues`` (empty: every league) minus
    ``exclude_leagues``, and to ``market_types`` (``moneyline``, ``total``, ``spread``;
    empty: all)."""
    include, exclude, kinds = set(leagues), set(exclude_leagues), set(market_types)
    chosen = set()
    for ticker in tickers:
        parsed = kalshi_series_kind(ticker)
        lg = None if parsed is None else kalshi_league(parsed[0])
        if parsed is None or lg is None:
            continue
        if (include and lg.key not in include) or lg.key in exclude:
            continue
        if kinds and _KIND_TYPES[parsed[1]] not in kinds:
            continue
        chosen.add(ticker)
    return sorted(chosen)


def gamma_leagues(leagues: Iterable[str] = (), exclude_leagues: Iterable[str] = ()) -> list[str]:
    """The keys of the leagues to discover on Gamma: ``leagues`` (empty: every league of
    the table) minus ``exclude_leagues``, in table order."""
    include, exclude = set(leagues), set(exclude_leagues)
    return [
        lg.key
        for lg in LEAGUE_TABLE
        if (not include or lg.key in include) and lg.key not in exclude
    ]
