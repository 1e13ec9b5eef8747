"""The leagues arbees matches: one canonical key per league and each venue's name for it.

Kalshi names a league inside its series tickers (``KX`` + league code + ``GAME`` /
``TOTAL`` / ``SPREAD``: ``KXNFLGAME``, ``KXMLBTOTAL``, ``KXNCAAMBGAME``); Gamma by its sport
slug (``nfl``, ``cbb``, ``sea``), which its event slugs, ``seriesSlug`` and tags carry. The
two spell some leagues differently (college basketball is ``NCAAMB`` on Kalshi and ``cbb``
on Gamma), so this checked-in table says which names are one league; a name it does not
know is reported (``unknown_league``), never guessed. ``draws`` marks the leagues whose
games can end level (soccer): their winner markets are 3-way (home / draw / away).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

import attrs

__all__ = [
    "LEAGUE_TABLE",
    "League",
    "SeriesKind",
    "gamma_league",
    "gamma_slugs",
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
        gamma: Gamma sport slugs (``"cbb"``).
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
    League("NCAAF", ("NCAAF",), ("cfb", "ncaaf")),
    League("NBA", ("NBA",), ("nba",)),
    League("NCAAB", ("NCAAMB",), ("cbb", "ncaab")),
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

_BY_KEY: Final[Mapping[str, League]] = MappingProxyType({lg.key: lg for lg in LEAGUE_TABLE})
_BY_KALSHI: Final[Mapping[str, League]] = MappingProxyType(
    {code: lg for lg in LEAGUE_TABLE for code in lg.kalshi}
)
_BY_GAMMA: Final[Mapping[str, League]] = MappingProxyType(
    {slug: lg for lg in LEAGUE_TABLE for slug in lg.gamma}
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
    """The league of a Gamma sport slug (``cbb`` -> NCAAB)."""
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


def gamma_slugs(leagues: Iterable[str] = (), exclude_leagues: Iterable[str] = ()) -> list[str]:
    """The Gamma sport slugs (tags) of ``leagues`` (empty: every league) minus
    ``exclude_leagues``, sorted."""
    include, exclude = set(leagues), set(exclude_leagues)
    return sorted(
        lg.gamma[0]
        for lg in LEAGUE_TABLE
        if (not include or lg.key in include) and lg.key not in exclude
    )
