"""Polymarket's sports WebSocket, sans-io: frames in, game results and pongs out.

The channel (``wss://sports-api.polymarket.com/ws``, documented at
docs.polymarket.com/market-data/websocket/sports; sample frames in
``tests/data/polymarket/sports/``) needs no auth and no subscribe message: once connected it
broadcasts a ``sport_result`` JSON object whenever a game goes live, its score or period
changes, or it ends, for every active game::

    {"gameId": 19439, "leagueAbbreviation": "nfl", "slug": "nfl-lac-buf-2025-01-26",
     "homeTeam": "LAC", "awayTeam": "BUF", "status": "InProgress", "score": "3-16",
     "period": "Q4", "elapsed": "5:18", "live": true, "ended": false, "turn": "lac"}

The server sends the text frame ``ping`` every 5 s and closes a connection that has not
answered ``pong`` within 10 s. :class:`SportsProtocol` answers every ``ping`` (queued in
:meth:`SportsProtocol.data_to_send`, h11 style) and turns each result into a
:class:`SportResult` keyed by the game's ``slug`` (the Polymarket event slug; the same key
the orchestrator puts in an assignment's ``game_keys``).

Decoding happens once, here, and is bounded: a frame over :data:`MAX_FRAME_BYTES`, one that
is not JSON, not an object (or array of objects), a result without a usable ``slug``, with
``live``/``ended`` that are not booleans or text fields that are not short strings is
rejected, counted by reason (:attr:`SportsStats.rejected`) and logged (throttled); nothing
raises. Frames of other shapes (an unknown message type) are counted and ignored.

The phase (:func:`phase_of`) is read conservatively: a status saying postponed or
cancelled wins, then ``ended`` (or a final status), then ``live`` (or an in-progress
status); anything else is scheduled.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import attrs
import msgspec

from arbees.errors import HOSTILE_INPUT_ERRORS
from arbees.messages import GameState
from arbees.obs.throttle import ThrottledLog

__all__ = [
    "MAX_FIELD_CHARS",
    "MAX_FRAME_BYTES",
    "MAX_RESULTS_PER_FRAME",
    "SPORTS_WS_URL",
    "SportResult",
    "SportsProtocol",
    "SportsStats",
    "phase_of",
]

log = logging.getLogger(__name__)

SPORTS_WS_URL: Final = "wss://sports-api.polymarket.com/ws"
"""The public sports channel (no auth, no subscription)."""

MAX_FRAME_BYTES: Final = 1024 * 1024
"""A result is a few hundred bytes and the docs send one per frame; the cap leaves room for
an undocumented batch (an array of every active game) and refuses anything larger unread
(the feed's socket closes on it, see :mod:`arbees.polymarket.sports_feed`)."""
MAX_RESULTS_PER_FRAME: Final = 5000
"""Results of one frame at most."""
MAX_FIELD_CHARS: Final = 64
"""Longest score, period, elapsed, status or league text accepted (``"000-000|2-0|Bo3"``
is 15)."""
MAX_SLUG_CHARS: Final = 200

PING: Final = "ping"
PONG: Final = "pong"

_POSTPONED: Final = frozenset({"postponed"})
_CANCELLED: Final = frozenset({"canceled", "cancelled"})
# Status words by sport (the docs' tables; soccer adds Break, PenaltyShootout, Awarded):
# a final or awarded result ends the game; a break, a shootout or a suspension mid-game
# is still in play (its prices move on news, so it counts as live).
_FINAL: Final = frozenset(
    {"final", "f/ot", "f/so", "finished", "forfeit", "awarded", "notnecessary"}
)
_IN_PROGRESS: Final = frozenset(
    {"inprogress", "in progress", "live", "break", "penaltyshootout", "suspended"}
)


def phase_of(*, status: str, live: bool, ended: bool) -> str:
    """The phase (:data:`arbees.messages.GAME_PHASES`) of a result, read conservatively."""
    word = status.strip().lower()
    if word in _CANCELLED:
        return "cancelled"
    if word in _POSTPONED:
        return "postponed"
    if ended or word in _FINAL:
        return "ended"
    if live or word in _IN_PROGRESS:
        return "live"
    return "scheduled"


@attrs.frozen(slots=True)
class SportResult:
    """One decoded ``sport_result``.

    Attributes:
        slug: the game's event slug (its key).
        phase: the phase read from ``status``, ``live`` and ``ended`` (:func:`phase_of`).
        status: the venue's status word (``"InProgress"``, ``"finished"``), ``""`` if none.
        live: the venue's ``live`` flag.
        ended: the venue's ``ended`` flag.
        score: the score text, ``""`` if none.
        period: the period text (``"Q4"``, ``"HT"``), ``""`` if none.
        elapsed: the elapsed text, ``""`` if none.
        league: ``leagueAbbreviation``, ``""`` if none.
        game_id: the venue's numeric ``gameId``, when given.
        recv_ns: wall clock when the frame arrived.
    """

    slug: str
    phase: str
    status: str
    live: bool
    ended: bool
    score: str
    period: str
    elapsed: str
    league: str
    game_id: int | None
    recv_ns: int

    def game_state(self) -> GameState:
        """This result as the bus message (venue ``"polymarket"``, key = the slug)."""
        return GameState(
            venue="polymarket",
            key=self.slug,
            phase=self.phase,
            timestamp_ms=self.recv_ns // 1_000_000,
            score=self.score,
            period=self.period,
            elapsed=self.elapsed,
            status=self.status,
        )


@attrs.define
class SportsStats:
    """Counters of one protocol.

    Attributes:
        frames: frames received.
        pings: ``ping`` frames answered.
        results: results decoded.
        ignored: JSON objects that are not a result (no ``slug`` and no game fields).
        rejected: refused frames or results, by reason.
    """

    frames: int = 0
    pings: int = 0
    results: int = 0
    ignored: int = 0
    rejected: dict[str, int] = attrs.Factory(dict)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


class _Bad(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


_RESULT_FIELDS: Final = ("slug", "live", "ended", "score", "period", "status", "gameId")


class SportsProtocol:
    """The sports channel's state machine (see the module docstring); no I/O."""

    def __init__(self) -> None:
        self.stats = SportsStats()
        self._outgoing: list[str] = []
        self._log = ThrottledLog(log, "sports rejection")

    def data_to_send(self) -> list[str]:
        """The frames to send now (a ``pong`` per ``ping``), emptied by the call."""
        out, self._outgoing = self._outgoing, []
        return out

    def receive(self, frame: str | bytes, recv_ns: int) -> list[SportResult]:
        """Decode one frame; never raises (bad input is counted, logged and dropped)."""
        self.stats.frames += 1
        if len(frame) > MAX_FRAME_BYTES:
            self._reject("oversized", f"frame of {len(frame)} bytes")
            return []
        if isinstance(frame, bytes):
            try:
                frame = frame.decode("utf-8")
            except UnicodeDecodeError:
                self._reject("not_utf8", "binary frame that is not UTF-8")
                return []
        text = frame.strip()
        if text.lower() == PING:
            self.stats.pings += 1
            self._outgoing.append(PONG)
            return []
        if text.lower() == PONG:
            return []
        try:
            body = msgspec.json.decode(text)
        except (msgspec.DecodeError, *HOSTILE_INPUT_ERRORS) as exc:
            self._reject("not_json", f"{type(exc).__name__}: {text[:60]!r}")
            return []
        items = body if type(body) is list else [body]
        if len(items) > MAX_RESULTS_PER_FRAME:
            self._reject("too_many", f"{len(items)} results in one frame")
            return []
        out: list[SportResult] = []
        for item in items:
            try:
                result = self._result(item, recv_ns)
            except _Bad as exc:
                self._reject(exc.reason, str(exc))
                continue
            if result is not None:
                self.stats.results += 1
                out.append(result)
        return out

    def _result(self, item: Any, recv_ns: int) -> SportResult | None:
        if type(item) is not dict:
            raise _Bad("not_object", f"a {type(item).__name__} where a result belongs")
        if not any(name in item for name in _RESULT_FIELDS):
            self.stats.ignored += 1
            return None
        slug = item.get("slug")
        if type(slug) is not str or not _is_slug(slug):
            raise _Bad("bad_slug", f"slug {str(slug)[:60]!r}")
        live = _flag(item, "live")
        ended = _flag(item, "ended")
        status = _text(item, "status")
        game_id = item.get("gameId")
        if game_id is not None and (type(game_id) is not int or not 0 <= game_id < 2**63):
            raise _Bad("bad_field", f"gameId {str(game_id)[:30]!r}")
        return SportResult(
            slug=slug,
            phase=phase_of(status=status, live=live, ended=ended),
            status=status,
            live=live,
            ended=ended,
            score=_text(item, "score"),
            period=_text(item, "period"),
            elapsed=_text(item, "elapsed"),
            league=_text(item, "leagueAbbreviation"),
            game_id=game_id,
            recv_ns=recv_ns,
        )

    def _reject(self, reason: str, detail: str) -> None:
        rejected = self.stats.rejected
        rejected[reason] = rejected.get(reason, 0) + 1
        self._log("polymarket sports: rejected (%s): %s", reason, detail)


def _is_slug(slug: str) -> bool:
    return (
        0 < len(slug) <= MAX_SLUG_CHARS
        and slug.isascii()
        and slug.isprintable()
        and not any(c in slug for c in ' "\\')
    )


def _flag(item: dict[str, Any], name: str) -> bool:
    value = item.get(name, False)
    if type(value) is not bool:
        raise _Bad("bad_field", f"{name} is not a boolean: {str(value)[:30]!r}")
    return value


def _text(item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    if value is None:
        return ""
    if type(value) is not str or len(value) > MAX_FIELD_CHARS:
        raise _Bad("bad_field", f"{name} is not a short string: {str(value)[:30]!r}")
    return value
