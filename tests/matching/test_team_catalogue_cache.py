"""Gamma's team catalogue is cached on disk with an expiry, refreshable, and a failed fetch
falls back to the cached copy (else the built-in NBA/NHL tables)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arbees.errors import DecodeRejection, VenueError
from arbees.polymarket.models import GammaTeam, parse_gamma_teams
from arbees.wiring.team_catalogue import TeamCatalogueSource

DATA = Path(__file__).resolve().parent.parent / "data" / "matching" / "leagues"
TEAMS, _ = parse_gamma_teams(json.loads((DATA / "gamma_teams.json").read_text(encoding="utf-8")))


class Fetcher:
    def __init__(self) -> None:
        self.calls = 0
        self.error: Exception | None = None

    async def __call__(self) -> tuple[list[GammaTeam], list[DecodeRejection]]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return list(TEAMS), []


async def test_cached_on_disk_until_it_expires(tmp_path: Path) -> None:
    now = [1000.0]
    path = tmp_path / "teams.json"
    fetch = Fetcher()
    source = TeamCatalogueSource(fetch, path=path, max_age=60, clock=lambda: now[0])
    first = await source.catalogue()
    assert first.by_code("EPL", "MUN").team is not None
    assert fetch.calls == 1
    assert path.exists()
    now[0] += 30
    await source.catalogue()
    # a new process reads the file instead of fetching
    again = TeamCatalogueSource(fetch, path=path, max_age=60, clock=lambda: now[0])
    assert (await again.catalogue()).by_code("SERIEA", "INT").team is not None
    assert fetch.calls == 1
    now[0] += 31
    await again.catalogue()
    assert fetch.calls == 2


async def test_a_failed_fetch_uses_the_stale_copy_else_the_builtin_tables(
    tmp_path: Path,
) -> None:
    now = [0.0]
    fetch = Fetcher()
    source = TeamCatalogueSource(fetch, path=tmp_path / "t.json", max_age=10, clock=lambda: now[0])
    await source.catalogue()
    now[0] = 100.0
    fetch.error = VenueError("Gamma GET /teams: HTTP 503")
    stale = await source.catalogue()
    assert stale.by_code("NFL", "KC").team is not None
    bare = TeamCatalogueSource(fetch, path=tmp_path / "none.json", max_age=10)
    catalogue = await bare.catalogue()
    assert catalogue.by_code("NFL", "KC").team is None
    assert catalogue.by_code("NBA", "OKC").team is not None


async def test_an_unreadable_cache_is_fetched_again(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text("{not json", encoding="utf-8")
    fetch = Fetcher()
    await TeamCatalogueSource(fetch, path=path).catalogue()
    assert fetch.calls == 1
    assert json.loads(path.read_text(encoding="utf-8"))["teams"]


def test_max_age_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_age"):
        TeamCatalogueSource(Fetcher(), max_age=0)


async def test_a_failed_fetch_is_retried_after_a_pause_not_every_round() -> None:
    now = [0.0]
    fetch = Fetcher()
    fetch.error = VenueError("Gamma GET /teams: HTTP 404")
    source = TeamCatalogueSource(fetch, max_age=3600, clock=lambda: now[0])
    await source.catalogue()
    now[0] = 60.0
    await source.catalogue()
    assert fetch.calls == 1
    now[0] = 400.0
    fetch.error = None
    assert (await source.catalogue()).by_code("EPL", "MCI").team is not None
    assert fetch.calls == 2
