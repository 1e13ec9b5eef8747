"""The team catalogue of a discovery round: Gamma's ``/teams``, cached on disk with an expiry.

Gamma's catalogue changes rarely (a promoted club, a renamed franchise) and is large, so it
is fetched at most once per ``max_age`` seconds and kept in a JSON file (``path``) that
survives restarts (delete the file to fetch at the next round). A
failed fetch falls back to the cached copy, however old (logged), and without one to the
built-in NBA/NHL tables: a league without teams then matches nothing (every listing is an
``unknown_team``), never something wrong.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final

import trio

from arbees.errors import ArbeesError, DecodeRejection
from arbees.matching.catalogue import TeamCatalogue
from arbees.matching.venue_listings import build_catalogue
from arbees.polymarket.models import GammaTeam, parse_gamma_teams

__all__ = ["DEFAULT_TEAMS_MAX_AGE", "TeamCatalogueSource"]

log = logging.getLogger(__name__)

DEFAULT_TEAMS_MAX_AGE: Final = 24 * 3600.0
"""Seconds a fetched team catalogue is used before it is fetched again."""

RETRY_AFTER: Final = 300.0
"""Seconds after a failed fetch before the next try (Gamma is not asked every round)."""

Fetch = Callable[[], Awaitable[tuple[list[GammaTeam], list[DecodeRejection]]]]


def _dump(teams: list[GammaTeam], fetched_at: float) -> str:
    rows = [
        {
            "id": t.id,
            "name": t.name,
            "league": t.league,
            "abbreviation": t.abbreviation,
            "alias": t.alias,
        }
        for t in teams
    ]
    return json.dumps({"fetched_at": fetched_at, "teams": rows})


class TeamCatalogueSource:
    """Gamma's teams as a :class:`~arbees.matching.catalogue.TeamCatalogue`, cached.

    Args:
        fetch: fetches Gamma ``/teams`` (:meth:`arbees.venues.polymarket.GammaListings.teams`).
        path: the cache file (``None``: in memory only).
        max_age: seconds before a cached catalogue is fetched again.
        clock: wall-clock seconds (tests).
    """

    def __init__(
        self,
        fetch: Fetch,
        *,
        path: Path | None = None,
        max_age: float = DEFAULT_TEAMS_MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not max_age > 0:
            raise ValueError("max_age must be > 0")
        self.fetch = fetch
        self.path = path
        self.max_age = max_age
        self.clock = clock
        self._teams: list[GammaTeam] | None = None
        self._fetched_at = 0.0
        self._catalogue: TeamCatalogue | None = None
        self._failed_at: float | None = None

    def __repr__(self) -> str:
        return f"<TeamCatalogueSource path={self.path} max_age={self.max_age:g}s>"

    async def _load(self) -> None:
        if self.path is None or self._teams is not None:
            return
        try:
            doc = json.loads(await trio.Path(self.path).read_text(encoding="utf-8"))
            teams, _ = parse_gamma_teams(doc["teams"])
            fetched_at = float(doc["fetched_at"])
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError, ArbeesError) as exc:
            log.warning("team catalogue cache %s unreadable (%s): fetching", self.path, exc)
            return
        self._teams, self._fetched_at = teams, fetched_at

    async def catalogue(self) -> TeamCatalogue:
        """The catalogue: cached while younger than ``max_age``, else fetched (and saved)."""
        await self._load()
        now = self.clock()
        due = self._teams is None or now - self._fetched_at >= self.max_age
        retry = self._failed_at is None or now - self._failed_at >= min(RETRY_AFTER, self.max_age)
        if due and not retry:
            return self._build() if self._teams is not None else build_catalogue()
        if due:
            try:
                teams, refused = await self.fetch()
            except ArbeesError as exc:
                self._failed_at = now
                if self._teams is None:
                    log.warning("Gamma /teams failed (%s): built-in NBA/NHL teams only", exc)
                    return build_catalogue()
                log.warning("Gamma /teams failed (%s): the cached catalogue is used", exc)
                return self._build()
            if refused:
                log.info("Gamma /teams: %d teams refused", len(refused))
            self._teams, self._fetched_at, self._catalogue = teams, now, None
            self._failed_at = None
            if self.path is not None:
                try:
                    await trio.Path(self.path).write_text(_dump(teams, now), encoding="utf-8")
                except OSError as exc:
                    log.warning("team catalogue cache %s not written: %s", self.path, exc)
        return self._build()

    def _build(self) -> TeamCatalogue:
        if self._catalogue is None:
            self._catalogue = build_catalogue(self._teams or ())
        return self._catalogue
