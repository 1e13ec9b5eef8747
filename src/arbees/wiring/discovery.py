"""The venue-backed :class:`~arbees.services.discovery.GameSource`.

The orchestrator (L3) must not know the venues; this is where they meet it. Every venue of
the registry brings its own discovery (``Venue.listings``): Kalshi's
:class:`~arbees.venues.kalshi.KalshiListings` (series over REST), Polymarket's
:class:`~arbees.venues.polymarket.GammaListings` (Gamma ``/sports`` series, behind the egress
gate). Each
fetches and decodes its venue's bodies once, into typed events with each market's fee
model from the venue's own metadata (``Venue.fee_model``). :func:`match_inputs` hands the
typed events to :mod:`arbees.matching.venues` (the same functions ``arbees match`` uses:
matching pairs Kalshi with Polymarket), and every item a venue refused lands in the match
report. Every failure becomes an :class:`~arbees.errors.ArbeesError`, which the
orchestrator logs and survives; a whole discovery runs under ``deadline`` seconds, so a
venue that answers slowly (or never) costs one failed round
(:class:`~arbees.errors.VenueError`), never a hung orchestrator.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

import httpx
import trio

from arbees.errors import ConfigError, DecodeRejection, VenueError
from arbees.gate import ConnectGate
from arbees.httpcap import DEFAULT_MAX_BODY
from arbees.kalshi.rest import KalshiRest
from arbees.matching import Venue
from arbees.matching.catalogue import TeamCatalogue
from arbees.matching.events import ListedGame
from arbees.matching.kalshi_structure import KalshiStructure
from arbees.matching.leagues import (
    SeriesKind,
    gamma_league,
    gamma_leagues,
    kalshi_league,
    kalshi_series_kind,
)
from arbees.matching.us_catalogue import polymarket_us_catalogue
from arbees.matching.venue_listings import (
    kalshi_listings,
    polymarket_listings,
    polymarket_us_listings,
)
from arbees.matching.venues import (
    decode_rejections,
    kalshi_games,
    polymarket_games,
)
from arbees.polymarket_us.rest import PolymarketUsRest, RestConfig, open_polymarket_us_http
from arbees.services.discovery import MatchInputs
from arbees.venues import VENUES, Listing, Listings
from arbees.venues.polymarket import LEAGUE_FAILED_FIELD, GammaListings
from arbees.wiring.team_catalogue import TeamCatalogueSource

__all__ = [
    "DEFAULT_DISCOVERY_DEADLINE",
    "DEFAULT_SERIES",
    "VenueGameSource",
    "gamma_leagues_for",
    "gamma_unavailable",
    "kalshi_targets_cache",
    "match_inputs",
    "open_polymarket_us_rest",
    "venue_game_source",
]

log = logging.getLogger(__name__)

DEFAULT_SERIES: Final = ("KXNBAGAME", "KXNHLGAME")
DEFAULT_DISCOVERY_DEADLINE: Final = 120.0


def match_inputs(
    listings: Mapping[str, Listing], catalogue: TeamCatalogue | None = None
) -> MatchInputs:
    """:class:`MatchInputs` from every venue's listing (by venue id): the matcher's games
    from Kalshi's and Polymarket's, every venue's refusals, every venue's fee models, and
    with a ``catalogue`` the event matcher's listings of every league and market type
    (Kalshi's, Polymarket's and Polymarket US's)."""
    kalshi = listings.get("kalshi", Listing(()))
    polymarket = listings.get("polymarket", Listing(()))
    polymarket_us = listings.get("polymarket-us", Listing(()))
    structure = kalshi.structure if isinstance(kalshi.structure, KalshiStructure) else None
    k_games, k_rej = kalshi_games(kalshi.events, structure)
    p_games, p_rej = polymarket_games(polymarket.events)
    rejections = (
        *decode_rejections(Venue.KALSHI, kalshi.rejected),
        *decode_rejections(Venue.POLYMARKET, polymarket.rejected),
        *decode_rejections(Venue.POLYMARKET_US, polymarket_us.rejected),
        *k_rej,
        *p_rej,
    )
    games: list[ListedGame] = []
    if catalogue is not None:
        k_list, k_refused = kalshi_listings(kalshi.events, catalogue, structure)
        p_list, p_refused = polymarket_listings(polymarket.events)
        u_list, u_refused = polymarket_us_listings(polymarket_us.events, catalogue)
        games = [*k_list, *p_list, *u_list]
        log.info(
            "discovery: %d game listings (%d Kalshi, %d Polymarket and %d Polymarket US "
            "items refused)",
            len(games),
            len(k_refused),
            len(p_refused),
            len(u_refused),
        )
    # a Kalshi series that failed this round (refused under "series" by KalshiListings), or
    # a league whose Gamma series failed (GammaListings): its games stay as they are rather
    # than being retired until the next round
    unavailable = tuple(
        sorted(
            {
                *(f"{r.item}-" for r in kalshi.rejected if r.field == "series"),
                *gamma_unavailable(polymarket.rejected),
            }
        )
    )
    return MatchInputs(
        kalshi=tuple(k_games),
        polymarket=tuple(p_games),
        rejections=tuple(sorted(rejections)),
        fees={venue: listing.fees for venue, listing in listings.items()},
        listings=tuple(games),
        catalogue=catalogue,
        unavailable=unavailable,
    )


def gamma_unavailable(rejected: Iterable[DecodeRejection]) -> list[str]:
    """The Kalshi event-ticker prefixes (``"KXNBAGAME-"``...) of every league whose Gamma
    series failed this round (refused under ``series`` by
    :class:`~arbees.venues.polymarket.GammaListings`): their games are kept, not retired."""
    prefixes: set[str] = set()
    for r in rejected:
        league = None
        if r.field == LEAGUE_FAILED_FIELD and r.item.startswith("sport:"):
            league = gamma_league(r.item.removeprefix("sport:"))
        if league is not None:
            kinds = (SeriesKind.GAME, SeriesKind.TOTAL, SeriesKind.SPREAD)
            prefixes.update(f"KX{code}{kind}-" for code in league.kalshi for kind in kinds)
    return sorted(prefixes)


def gamma_leagues_for(series: Sequence[str]) -> tuple[str, ...]:
    """The leagues (keys) of the Kalshi series, which Gamma discovery asks ``/sports`` for
    (``KXNBAGAME`` -> ``NBA``, ``KXNCAAMBGAME`` -> ``NCAAB``), sorted."""
    keys = set()
    for ticker in series:
        parsed = kalshi_series_kind(ticker)
        league = None if parsed is None else kalshi_league(parsed[0])
        if league is not None:
            keys.add(league.key)
    return tuple(sorted(keys))


class VenueGameSource:
    """Discover open games from every venue's listings.

    Args:
        listings: each venue's discovery, by venue id (:func:`venue_game_source` builds one
            for every registered venue).
        deadline: seconds for one whole discovery (every venue).
        teams: the team catalogue (every league and market type is matched with it;
            ``None``: the NBA/NHL team pairs only).
        us_teams: without ``teams``, build each round's catalogue from the built-in tables
            and Polymarket US's own team names and codes
            (:func:`arbees.matching.us_catalogue.polymarket_us_catalogue`): the US-only
            discovery, which has no Gamma.
    """

    def __init__(
        self,
        listings: Mapping[str, Listings],
        *,
        deadline: float = DEFAULT_DISCOVERY_DEADLINE,
        teams: TeamCatalogueSource | None = None,
        us_teams: bool = False,
    ) -> None:
        if not deadline > 0:
            raise ConfigError(f"discovery deadline must be > 0 s, got {deadline!r}")
        self.listings = dict(listings)
        self.deadline = float(deadline)
        self.teams = teams
        self.us_teams = us_teams

    def __repr__(self) -> str:
        return f"<VenueGameSource {list(self.listings.values())}>"

    async def discover(self) -> MatchInputs:
        with trio.move_on_after(self.deadline) as scope:
            return await self._discover()
        assert scope.cancelled_caught
        raise VenueError(
            f"discovery did not finish within {self.deadline:g} s (DISCOVERY_DEADLINE); "
            "a venue is answering too slowly"
        )

    async def _discover(self) -> MatchInputs:
        found: dict[str, Listing] = {}
        for venue, listings in self.listings.items():
            found[venue] = listing = await listings.fetch()
            log.info(
                "discovery: %d %s events (%d items refused)",
                len(listing.events),
                venue,
                len(listing.rejected),
            )
        catalogue = None if self.teams is None else await self.teams.catalogue()
        if catalogue is None and self.us_teams:
            catalogue = polymarket_us_catalogue(found.get("polymarket-us", Listing(())).events)
        return match_inputs(found, catalogue)


def venue_game_source(
    kalshi: KalshiRest,
    gamma_client: httpx.AsyncClient | None,
    *,
    gamma_url: str,
    series: Sequence[str] = DEFAULT_SERIES,
    page_size: int = 100,
    gamma_gate: ConnectGate | None = None,
    deadline: float = DEFAULT_DISCOVERY_DEADLINE,
    max_body: int = DEFAULT_MAX_BODY,
    leagues: Sequence[str] = (),
    exclude_leagues: Sequence[str] = (),
    market_types: Sequence[str] = (),
    teams_cache: Path | None = None,
    polymarket_us: PolymarketUsRest | None = None,
    venues: Sequence[str] | None = None,
) -> VenueGameSource:
    """The orchestrator's source: the listings of every registered venue, each built by
    its ``Venue.listings`` with its own options (Kalshi: the REST client and the series;
    Polymarket: Gamma's client, URL, the series' leagues, the egress gate; Polymarket
    US: its REST client, direct, or ``None`` for no Polymarket US discovery).

    With ``series`` empty, Kalshi's sports series are discovered from the venue (narrowed
    by ``leagues`` / ``exclude_leagues`` / ``market_types``) and Gamma is asked for the
    same leagues' series (found in its ``/sports``). Gamma's team catalogue (cached in
    ``teams_cache``) lets every league and market type be matched.

    ``venues`` narrows discovery to those venue ids (``None``: every registered venue).
    Without ``polymarket`` no Gamma listings are built (``gamma_client`` may be ``None``)
    and the teams come from the built-in tables and Polymarket US's own names and codes."""
    wanted = tuple(VENUES) if venues is None else tuple(venues)
    if unknown := sorted(set(wanted) - set(VENUES)):
        raise ConfigError(f"unknown discovery venue(s) {', '.join(unknown)}")
    if "polymarket" in wanted and gamma_client is None:
        raise ConfigError("Polymarket (Gamma) discovery needs Gamma's HTTP client")
    gamma = gamma_leagues_for(series) if series else tuple(gamma_leagues(leagues, exclude_leagues))
    options: dict[str, dict[str, Any]] = {
        "kalshi": {
            "rest": kalshi,
            "series": series,
            "leagues": leagues,
            "exclude_leagues": exclude_leagues,
            "market_types": market_types,
            "targets_cache": kalshi_targets_cache(teams_cache),
        },
        "polymarket": {
            "client": gamma_client,
            "url": gamma_url,
            "leagues": gamma,
            "page_size": page_size,
            "gate": gamma_gate,
            "max_body": max_body,
        },
        "polymarket-us": {"rest": polymarket_us},
    }
    if unknown := sorted(set(VENUES) - set(options)):
        raise ConfigError(f"no discovery options for venue(s) {', '.join(unknown)}")
    built = {
        venue.id: venue.listings(**options[venue.id])
        for venue in VENUES.values()
        if venue.id in wanted
    }
    listings = built.get("polymarket")
    teams = (
        TeamCatalogueSource(listings.teams, path=teams_cache)
        if isinstance(listings, GammaListings)
        else None
    )
    return VenueGameSource(built, deadline=deadline, teams=teams, us_teams=listings is None)


def kalshi_targets_cache(teams_cache: Path | None) -> Path | None:
    """Where Kalshi's structured targets are cached: next to the team catalogue's file
    (``teams.json`` -> ``teams.kalshi-targets.json``), or in memory without one."""
    if teams_cache is None:
        return None
    return teams_cache.with_name(f"{teams_cache.stem}.kalshi-targets.json")


@asynccontextmanager
async def open_polymarket_us_rest(url: str | None) -> AsyncIterator[PolymarketUsRest | None]:
    """Polymarket US's REST client for discovery at ``url`` (direct: no proxy, no egress
    gate), or ``None`` when ``url`` is unset (no Polymarket US discovery)."""
    if not url:
        yield None
        return
    async with open_polymarket_us_http() as client:
        yield PolymarketUsRest(client, RestConfig(base_url=url.rstrip("/")))
