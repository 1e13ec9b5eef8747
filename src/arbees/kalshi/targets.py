"""Kalshi's structured targets (teams) by id, cached on disk with an expiry.

A team's target changes rarely (a renamed club), and discovery names the same teams round
after round, so a target is asked from Kalshi (``GET /structured_targets?ids=..``) at most
once per ``max_age`` seconds and kept in a JSON file (``path``, written in Kalshi's own
target shape plus the time it was fetched) that survives restarts; delete the file to ask
again. A failed request raises (the caller degrades); a cache file that cannot be read is
logged and ignored (every target is asked again); an entry in it that does not decode is
dropped alone. An id Kalshi does not return is asked again next round (no negative cache).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Final

import trio

from arbees.errors import HOSTILE_INPUT_ERRORS, DecodeRejection
from arbees.kalshi.models import StructuredTarget

__all__ = ["DEFAULT_TARGETS_MAX_AGE", "TargetCache"]

log = logging.getLogger(__name__)

DEFAULT_TARGETS_MAX_AGE: Final = 7 * 24 * 3600.0
"""Seconds a fetched structured target is used before it is asked for again."""

MAX_CACHED: Final = 50_000
"""Targets kept in the cache file at most (the newest); more than any slate names."""

Fetch = Callable[[list[str]], Awaitable[tuple[list[StructuredTarget], list[DecodeRejection]]]]


def _entry(target: StructuredTarget, fetched_at: float) -> dict[str, Any]:
    return {
        "id": target.id,
        "name": target.name,
        "type": target.type,
        "details": {"league": target.league, "abbreviation": target.abbreviation},
        "fetched_at": fetched_at,
    }


class TargetCache:
    """Structured targets by id: from memory or ``path`` while younger than ``max_age``,
    else fetched.

    Args:
        fetch: asks Kalshi for targets by id
            (:meth:`arbees.kalshi.rest.KalshiRest.get_structured_targets`).
        path: the cache file (``None``: in memory only).
        max_age: seconds before a cached target is asked for again.
        clock: wall-clock seconds (tests).
    """

    def __init__(
        self,
        fetch: Fetch,
        *,
        path: Path | None = None,
        max_age: float = DEFAULT_TARGETS_MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not max_age > 0:
            raise ValueError("max_age must be > 0")
        self.fetch = fetch
        self.path = path
        self.max_age = max_age
        self.clock = clock
        self._known: dict[str, tuple[StructuredTarget, float]] | None = None

    def __repr__(self) -> str:
        return f"<TargetCache path={self.path} max_age={self.max_age:g}s>"

    async def _load(self) -> dict[str, tuple[StructuredTarget, float]]:
        if self._known is not None:
            return self._known
        self._known = {}
        if self.path is None:
            return self._known
        try:
            doc = json.loads(await trio.Path(self.path).read_text(encoding="utf-8"))
            entries = doc["targets"]
            if not isinstance(entries, list):
                raise TypeError("targets is not a list")
        except FileNotFoundError:
            return self._known
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("kalshi target cache %s unreadable (%s): asking again", self.path, exc)
            return self._known
        dropped = 0
        for raw in entries[:MAX_CACHED]:
            try:
                target = StructuredTarget.from_json(raw)
                at = raw["fetched_at"]
                if isinstance(at, bool) or not isinstance(at, int | float):
                    raise TypeError("fetched_at is not a number")
            except (*HOSTILE_INPUT_ERRORS, KeyError):
                dropped += 1
                continue
            self._known[target.id] = (target, float(at))
        if dropped:
            log.warning("kalshi target cache %s: %d entries dropped", self.path, dropped)
        return self._known

    async def get(self, ids: Iterable[str]) -> tuple[list[StructuredTarget], list[DecodeRejection]]:
        """The targets of ``ids`` Kalshi knows (cached or fetched now), and the fetched
        targets its decoder refused. Raises what ``fetch`` raises."""
        known = await self._load()
        now = self.clock()
        wanted = sorted(set(ids))
        due = [i for i in wanted if i not in known or now - known[i][1] >= self.max_age]
        refused: list[DecodeRejection] = []
        if due:
            fetched, refused = await self.fetch(due)
            for target in fetched:
                known[target.id] = (target, now)
            log.info(
                "kalshi: %d structured targets fetched (%d asked, %d refused)",
                len(fetched),
                len(due),
                len(refused),
            )
            if fetched:
                await self._save(known)
        return [known[i][0] for i in wanted if i in known], refused

    async def _save(self, known: dict[str, tuple[StructuredTarget, float]]) -> None:
        if self.path is None:
            return
        newest = sorted(known.values(), key=lambda item: item[1], reverse=True)[:MAX_CACHED]
        doc = {"targets": [_entry(t, at) for t, at in newest]}
        try:
            await trio.Path(self.path).write_text(json.dumps(doc), encoding="utf-8")
        except OSError as exc:
            log.warning("kalshi target cache %s not written: %s", self.path, exc)
