"""Kalshi's live game data as a game-state source: REST polling, game states out.

Kalshi serves a game's live state per *milestone* (its id for the real-world game), not per
event: ``GET /milestones?related_event_ticker=...`` names the milestone of an event, and
``GET /live_data/batch?milestone_ids=...`` (at most 100 ids a call) gives each one's
``details`` (``status``: ``none`` / ``live`` / ``finished``, ``postponed``, the home and
away points, the period). Kalshi's own docs say to read a game's status from live data,
not from the milestone (whose ``details.status`` is refreshed by a background job and lags).

:class:`KalshiLiveFeed` follows the Kalshi events of the games being run (``games``: a
callable the wiring gives, read every round), finds each event's milestone once (an event
with none is looked up again after ``lookup_interval``; one with several candidates is
narrowed to the milestone naming it as a *primary* event, else refused as ambiguous, never
guessed), polls the live data of all of them every ``interval`` seconds and puts a
:class:`~arbees.messages.GameState` (``venue="kalshi"``, ``key`` = the event ticker, the
key discovery writes in an assignment's ``game_keys["kalshi"]``) on :attr:`updates` each
time a game's state changes. It implements
:class:`~arbees.services.game_states.GameStateFeed`, so
:class:`~arbees.services.game_states.GameStateRelay` publishes it on the same channel as
Polymarket's and republishes the latest.

Status mapping (:func:`phase_of`), conservative: ``postponed: true`` (or a ``postponed``
status) is postponed, a ``cancelled``/``canceled`` status cancelled, ``finished`` ended,
``live`` live, ``none`` scheduled; any other status, or none at all, is counted
(``unknown_status``) and reported as nothing: never guessed as ended. Scores are
``"away-home"`` (the order of Kalshi's event tickers and titles, ``{AWAY}{HOME}``).

Every request goes through the one :class:`~arbees.kalshi.rest.KalshiRest` (its token
bucket, its byte cap, its 429 backoff). A failing request is counted and logged, and the
next round waits ``interval * 2**failures`` seconds (at most ``backoff_cap``); a body
that cannot be decoded is refused (counted), one bad entry costing only itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import attrs
import trio

from arbees.errors import ArbeesError, ConfigError, NotFoundError
from arbees.kalshi.models import MAX_LIVE_DATAS, LiveData, Milestone
from arbees.kalshi.rest import KalshiRest
from arbees.messages import GameState, now_ms

__all__ = [
    "KALSHI_LIVE_COUNTERS",
    "KalshiLiveFeed",
    "LiveDataConfig",
    "LiveDataStats",
    "phase_of",
    "pick_milestone",
]

log = logging.getLogger(__name__)

VENUE = "kalshi"

_CANCELLED = frozenset({"cancelled", "canceled"})


def phase_of(live: LiveData) -> str | None:
    """The phase (:data:`arbees.messages.GAME_PHASES`) of ``live``, or ``None`` when its
    status is not one Kalshi documents (never guessed)."""
    if live.postponed or live.status == "postponed":
        return "postponed"
    if live.status in _CANCELLED:
        return "cancelled"
    return {"finished": "ended", "live": "live", "none": "scheduled"}.get(live.status)


def pick_milestone(event_ticker: str, milestones: Iterable[Milestone]) -> Milestone | str:
    """The one milestone of ``event_ticker`` among ``milestones``, or why there is none
    (``"none"`` or ``"ambiguous"``)."""
    related = [m for m in milestones if event_ticker in m.related_event_tickers]
    unique = {m.id: m for m in related}
    if len(unique) > 1:
        unique = {m.id: m for m in related if event_ticker in m.primary_event_tickers}
        if len(unique) != 1:
            return "ambiguous"
    if not unique:
        return "none"
    return next(iter(unique.values()))


@attrs.frozen
class LiveDataConfig:
    """Polling settings.

    Attributes:
        interval: seconds between two rounds of polls (at least 1).
        lookup_interval: seconds before an event without a milestone is looked up again.
        backoff_cap: the longest wait after failed requests.
        max_games: events followed at most (the rest are counted, not followed).
        channel_size: capacity of :attr:`KalshiLiveFeed.updates`.
    """

    interval: float = 10.0
    lookup_interval: float = 300.0
    backoff_cap: float = 300.0
    max_games: int = 5000
    channel_size: int = 256

    def __attrs_post_init__(self) -> None:
        if not self.interval >= 1:
            raise ConfigError(f"interval must be >= 1 s, got {self.interval!r}")
        if not self.lookup_interval > 0 or not self.backoff_cap >= self.interval:
            raise ConfigError("lookup_interval must be > 0 and backoff_cap >= interval")
        if self.max_games < 1 or self.channel_size < 1:
            raise ConfigError("max_games and channel_size must be >= 1")


@attrs.define
class LiveDataStats:
    """Counters.

    Attributes:
        polls: live-data requests answered.
        lookups: milestone look-ups answered.
        errors: requests that failed (each one backs the next round off).
        consecutive_failures: rounds failed in a row (0 after a good one).
        rejected: milestones or live-data entries refused by the decoders.
        no_milestone: look-ups that found no milestone for the event.
        ambiguous: look-ups that found several and none primary to the event.
        unknown_status: live data with a status that maps to no phase.
        reports: game states put on ``updates``.
        over_limit: events left unfollowed beyond ``max_games`` (last round).
        followed: events whose milestone is known and polled (last round).
    """

    polls: int = 0
    lookups: int = 0
    errors: int = 0
    consecutive_failures: int = 0
    rejected: int = 0
    no_milestone: int = 0
    ambiguous: int = 0
    unknown_status: int = 0
    reports: int = 0
    over_limit: int = 0
    followed: int = 0


KALSHI_LIVE_COUNTERS: dict[str, str] = {
    "followed": "Kalshi events whose live data is polled",
    "reports": "game-state changes reported from Kalshi's live data",
    "errors": "failed Kalshi live-data or milestone requests",
    "consecutive_failures": "Kalshi live-data rounds failed in a row (backing off)",
    "rejected": "milestones or live-data entries refused by the decoders",
    "unknown_status": "live data with an undocumented status (not reported)",
    "ambiguous": "events with several milestones, none primary (not followed)",
    "no_milestone": "look-ups that found no milestone for an event",
}
"""The counters exposed as ``kalshi_live_*`` gauges (name -> help)."""


class KalshiLiveFeed:
    """Kalshi's live data for the running games as :class:`~arbees.messages.GameState` s
    (see the module docstring). Run :meth:`run` in a nursery; read :attr:`updates`.

    Args:
        rest: the Kalshi REST client (its rate limit is shared with its other users).
        games: the Kalshi event tickers to follow, asked every round.
        config: polling settings.
    """

    def __init__(
        self,
        rest: KalshiRest,
        games: Callable[[], Iterable[str]],
        config: LiveDataConfig | None = None,
    ) -> None:
        self.rest = rest
        self.games = games
        self.config = config or LiveDataConfig()
        self.stats = LiveDataStats()
        self._send, self.updates = trio.open_memory_channel[GameState](self.config.channel_size)
        self._milestones: dict[str, str] = {}  # event ticker -> milestone id
        self._retry_at: dict[str, float] = {}  # event ticker -> next look-up (no milestone)
        self._last: dict[str, tuple[str, str, str, str]] = {}  # event -> last reported

    def __repr__(self) -> str:
        return f"KalshiLiveFeed(games={len(self._milestones)}, reports={self.stats.reports})"

    def counters(self) -> dict[str, int]:
        """The :class:`LiveDataStats` counters by name."""
        return attrs.asdict(self.stats)

    def delay(self) -> float:
        """Seconds until the next round: ``interval``, doubled per failure in a row."""
        cfg = self.config
        failures = min(self.stats.consecutive_failures, 30)
        return float(min(cfg.backoff_cap, cfg.interval * 2**failures))

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Poll until cancelled; ready at once (the first round starts immediately)."""
        async with self._send:
            task_status.started()
            while True:
                try:
                    await self.poll_once()
                except ArbeesError as exc:  # the client maps every HTTP/JSON failure
                    self.stats.errors += 1
                    self.stats.consecutive_failures += 1
                    first = self.stats.consecutive_failures == 1
                    log.log(
                        logging.WARNING if first else logging.INFO,
                        "kalshi live data: %s (%d failed rounds in a row, next in %.0fs)",
                        exc,
                        self.stats.consecutive_failures,
                        self.delay(),
                    )
                else:
                    self.stats.consecutive_failures = 0
                await trio.sleep(self.delay())

    async def poll_once(self) -> None:
        """One round: look up the new events' milestones, poll every followed milestone,
        report what changed. Raises the client's error on the first failed request."""
        wanted = sorted(set(self.games()))
        self.stats.over_limit = max(0, len(wanted) - self.config.max_games)
        followed = set(wanted[: self.config.max_games])
        for table in (self._milestones, self._retry_at, self._last):
            for gone in [t for t in table if t not in followed]:
                del table[gone]
        now = trio.current_time()
        for ticker in sorted(followed):
            if ticker not in self._milestones and self._retry_at.get(ticker, 0.0) <= now:
                await self._look_up(ticker, now)
        by_milestone: dict[str, list[str]] = {}
        for ticker, milestone in self._milestones.items():
            by_milestone.setdefault(milestone, []).append(ticker)
        self.stats.followed = len(self._milestones)
        ids = sorted(by_milestone)
        for start in range(0, len(ids), MAX_LIVE_DATAS):
            found, rejected = await self.rest.get_live_datas(ids[start : start + MAX_LIVE_DATAS])
            self.stats.polls += 1
            self.stats.rejected += len(rejected)
            for live in found:
                for ticker in sorted(by_milestone.get(live.milestone_id, ())):
                    await self._report(ticker, live)

    async def _look_up(self, ticker: str, now: float) -> None:
        try:
            milestones, rejected = await self.rest.get_milestones(related_event_ticker=ticker)
        except NotFoundError:
            milestones, rejected = [], []  # a venue (or fake) without milestones: none
        self.stats.lookups += 1
        self.stats.rejected += len(rejected)
        picked = pick_milestone(ticker, milestones)
        if isinstance(picked, Milestone):
            self._milestones[ticker] = picked.id
            self._retry_at.pop(ticker, None)
            return
        if picked == "ambiguous":
            self.stats.ambiguous += 1
        else:
            self.stats.no_milestone += 1
        log.info("kalshi live data: %s milestone for %s", picked, ticker)
        self._retry_at[ticker] = now + self.config.lookup_interval

    async def _report(self, ticker: str, live: LiveData) -> None:
        phase = phase_of(live)
        if phase is None:
            self.stats.unknown_status += 1
            log.info("kalshi live data: %s has status %r: not reported", ticker, live.status)
            return
        score = (
            f"{live.away_points}-{live.home_points}"
            if live.home_points is not None and live.away_points is not None
            else ""
        )
        seen = (phase, score, live.period, live.status)
        if self._last.get(ticker) == seen:
            return
        self._last[ticker] = seen
        state = GameState(
            venue=VENUE,
            key=ticker,
            phase=phase,
            timestamp_ms=now_ms(),
            score=score,
            period=live.period,
            status=live.status,
        )
        await self._send.send(state)
        self.stats.reports += 1
