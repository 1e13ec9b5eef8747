"""One state per game, folded from each venue's reports (pure, no I/O).

Each venue that publishes live game data reports a :class:`~arbees.messages.GameState`
(scheduled, live with score and period, ended, postponed, cancelled) under its own key for
the game (Polymarket: the event slug). An assignment names the game's key at each venue
(:attr:`~arbees.messages.MarketAssignment.game_keys`); :class:`GameStates` keeps the latest
report of every (venue, key) and :func:`fold` gives the game's one state.

The folding rule is conservative: the report of the highest :data:`RANK` wins, so any venue
saying the game is cancelled, postponed or ended outranks one still saying live, and live
outranks scheduled::

    scheduled < live < ended < postponed < cancelled

(a postponement or cancellation outranks "ended" because it changes how the legs settle;
any of the three stops the game's signals). Between reports of the same rank, the newest
wins (its score and period are the freshest). The shard makes a halt final on its side:
once a game it runs has been halted, no report brings its signals back.

Example::

    >>> from arbees.messages import GameState
    >>> live = GameState(venue="polymarket", key="g", phase="live", timestamp_ms=2)
    >>> ended = GameState(venue="kalshi", key="k", phase="ended", timestamp_ms=1)
    >>> fold([live, ended]).phase
    'ended'
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Final

from arbees.messages import GAME_PHASES, GameState

__all__ = ["MAX_REPORTS", "RANK", "GameStates", "fold"]

RANK: Final[Mapping[str, int]] = {phase: rank for rank, phase in enumerate(GAME_PHASES)}
"""How strongly each phase holds against another venue's report (higher wins)."""

MAX_REPORTS: Final = 20_000
"""Reports kept at most (the oldest one is forgotten first): a venue broadcasts every game
it follows, far more than one shard runs."""


def fold(reports: Iterable[GameState]) -> GameState | None:
    """The report that decides a game's state: highest :data:`RANK`, then newest; ``None``
    without any report."""
    best: GameState | None = None
    for report in reports:
        if best is None or (RANK[report.phase], report.timestamp_ms) > (
            RANK[best.phase],
            best.timestamp_ms,
        ):
            best = report
    return best


class GameStates:
    """The latest report of every (venue, key), bounded by ``max_reports``.

    Args:
        max_reports: reports kept at most; beyond it the least recently updated is dropped.
    """

    def __init__(self, max_reports: int = MAX_REPORTS) -> None:
        if max_reports < 1:
            raise ValueError(f"max_reports must be >= 1: {max_reports}")
        self.max_reports = max_reports
        self._reports: OrderedDict[tuple[str, str], GameState] = OrderedDict()
        self.forgotten = 0
        """Reports dropped to stay within ``max_reports``."""

    def __len__(self) -> int:
        return len(self._reports)

    def report(self, state: GameState) -> bool:
        """Record ``state``; ``False`` (ignored) when it is older than the one held."""
        key = (state.venue, state.key)
        current = self._reports.get(key)
        if current is not None and state.timestamp_ms < current.timestamp_ms:
            return False
        self._reports[key] = state
        self._reports.move_to_end(key)
        while len(self._reports) > self.max_reports:
            self._reports.popitem(last=False)
            self.forgotten += 1
        return True

    def reports(self) -> list[GameState]:
        """Every report held, least recently updated first."""
        return list(self._reports.values())

    def state(self, game_keys: Mapping[str, str]) -> GameState | None:
        """The folded state of the game known as ``game_keys`` (venue id -> key)."""
        return fold(
            report
            for report in (self._reports.get(item) for item in game_keys.items())
            if report is not None
        )
