"""The shard's decision core, with no I/O: assignments and quotes in, signals out.

For every matched game the shard evaluates two binary pairs, one per team::

    team A:  Kalshi market "A wins" (YES/NO asks)  x  Polymarket token A (asks) / token B (asks)
    team B:  Kalshi market "B wins"                x  Polymarket token B / token A

Polymarket's NO of token A *is* token B, so the Polymarket legs of a signal always name the
token to buy. ``PolyOnly`` (token A + token B) is the same trade for both teams and is only
evaluated on the first team.

An **event game** (an assignment with ``outcomes`` and ``contracts``, e.g. 3-outcome soccer
over Kalshi's three markets and Polymarket's three binary markets) is one event of the
kernel instead, over every contract's quote; where it flags, the exact cover search
(:func:`arbees.arb.event_opportunities`) signals each profitable cover under its label
(see :mod:`arbees.services.event_game`). Its signals follow the same open/update/close
rules; a stale or too-old quote is a missing contract until its source confirms it.

Correctness rules, enforced here so every transport gets them:

* a quote that is stale, or whose source has not confirmed liveness within
  ``max_age_ns``, or that is itself older than ``max_quote_age_ns`` (whatever its source
  confirms), never produces a signal — and closes any open one. Times from the future
  (a forged or badly clocked heartbeat or quote) count as *now*, never later, so no message
  can keep a price fresh beyond these bounds;
* a quote is as old as the later of its receive time and, where its venue stamps messages
  with their send time (``send_time_venues``), that time put on our clock by the venue's
  measured offset (:class:`arbees.lag.VenueClock`): a frame that waited in a buffer is
  not fresh because it was read just now. A liveness mark is moved back by how far behind
  the venue's latest timed quote arrived (it vouches for what was read, which is that far
  behind). While the process itself lags (:meth:`ShardEngine.set_lagging`), no signal
  opens or updates, liveness marks are not taken, and every book touched meanwhile is
  unusable until its source confirms it after the episode;
* each assignment is judged on its own: one with unusable fee terms (``"abc"``,
  ``"NaN"``, ``"1e999999"``, a negative rate, an absurd multiplier or exponent), or a
  contract on a venue it carries no fee terms for, is refused and the game is not run — a
  fee is never guessed, least of all as zero — while every other game keeps running;
  beyond ``max_games`` new games are refused;
* one ``open`` signal when an opportunity appears, ``update`` only on a material change
  (edge or size), ``close`` when it disappears: no spam on every tick;
* every decision is exact integer arithmetic (:mod:`arbees.arb`);
* a game's state (:meth:`ShardEngine.set_game_state`, folded by :mod:`arbees.gamestate`)
  rules too: while it is live, its quotes are usable only while younger than
  ``live_max_quote_age_ns`` (prices move with the score); once it has ended, is postponed
  or cancelled, its open signals close and no new one opens for as long as the shard runs
  it, whatever a later report says. Every signal carries the state it was made under.

The hot path (:meth:`ShardEngine.on_quotes`): one batch of quotes is stored, then the event
kernel (:class:`arbees.kernel.EventBatch`, the reusable form of
:func:`arbees.kernel.event_check`) scans every pair the batch touched at once, each
pair a binary event (this team wins or not) over two venues, an unusable quote counting as
missing; only the pairs it flags walk depth exactly (:func:`arbees.arb.find_opportunities`).
Its threshold (:func:`arbees.kernel.prefilter_edge`) makes it never miss a pair the exact
walk would signal. Pairs with an open signal, or with a stale or too-old side, are
evaluated exactly whatever the kernel says, so closes and the stale bookkeeping are as
before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs

from arbees.arb import (
    Combo,
    Contract,
    EventOpportunity,
    Opportunity,
    PairAsks,
    PairFees,
    VenueTerms,
    event_opportunities,
    find_opportunities,
)
from arbees.arb.depth import WalkMemo
from arbees.book import Level
from arbees.errors import ArbeesError, ConfigError
from arbees.identifiers import INSTRUMENT_CHECKS, InstrumentChecks
from arbees.kernel import MAX_OUTCOMES, EventBatch, contract_index, prefilter_edge
from arbees.lag import VenueClock
from arbees.messages import (
    MAX_LIST_ITEMS,
    ArbSignal,
    GameState,
    MarketAssignment,
    SignalLeg,
    TeamLeg,
    now_ms,
)
from arbees.money import CENT, ONE, Fixed
from arbees.services.event_game import (
    EVENT_VENUES,
    EventGame,
    event_game,
    instrument_problem,
    pair_fees,
    venue_terms,
)
from arbees.services.quotes import Quote

__all__ = ["AssignmentDelta", "Game", "ShardEngine", "ShardEngineStats"]

Key = tuple[str, str]  # (venue, instrument)
SignalKey = tuple[str, int, Combo]  # (game_id, team index, combo)
EventKey = tuple[str, str]  # (game_id, the cover's label)
EVENT = -1
"""The "team index" of an event game where pairs of a two-team game have 0 and 1."""


@attrs.frozen(slots=True)
class Game:
    """A game this shard runs.

    Attributes:
        game_id: the orchestrator's id.
        sport: league.
        teams: the two teams' instruments.
        fees: both venues' fee models for this game.
        epoch: the assignment generation that gave it to us.
        terms: each venue's fee model and minimum order size, from the assignment's fee
            terms (what the paper ledger prices each leg with).
        kernel_fees: ``(k_coef, p_rate)`` of ``fees`` for the event kernel, or None when
            the schedule is beyond it (see :func:`_kernel_params`); derived.
    """

    game_id: str
    sport: str
    teams: tuple[TeamLeg, TeamLeg]
    fees: PairFees
    epoch: int
    terms: Mapping[str, VenueTerms] = attrs.field(factory=dict)
    kernel_fees: tuple[int, int] | None = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "kernel_fees", _kernel_params(self.fees))


@attrs.frozen(slots=True)
class AssignmentDelta:
    """Instruments to start or stop watching after an assignment change.

    Apply removals before additions: an instrument may appear in both when a game's
    instruments changed.

    Attributes:
        add: instruments to start watching, by venue id.
        remove: instruments to stop watching, by venue id.
        signals: close signals for opportunities of removed games.
        rejected: why the assignment was refused (empty when it was applied or ignored).
        over_cap: it was refused because ``max_games`` games are running.
    """

    add: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    remove: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    signals: tuple[ArbSignal, ...] = ()
    rejected: str = ""
    over_cap: bool = False


@attrs.define
class ShardEngineStats:
    """Counters.

    Attributes:
        quotes: quotes processed.
        evaluations: pair evaluations run.
        suppressed_stale: evaluations skipped because a side was stale or too old.
        opened, updated, closed: signal events produced.
        ignored_assignments: assignments for other shards or malformed ones.
        rejected_assignments: assignments refused for an unusable field (e.g. a fee).
        refused_cap: new games refused because ``max_games`` were running.
        future_clamped: liveness confirmations or quotes timed in the future, taken as now.
        kernel_batches: batches of quotes scanned by the event kernel.
        kernel_scanned: pairs and event games scanned (once per batch that touched them).
        kernel_flagged: scanned pairs and event games the kernel flagged for the exact
            depth walk.
        halted: games stopped because they ended, were postponed or cancelled.
        late_quotes: quotes whose venue timestamp made them older than ``max_age_ns``
            when they arrived (they waited in a buffer, or the venue was slow).
        lag_episodes: process-lag episodes (:meth:`ShardEngine.set_lagging`).
        lag_held: signals not opened or updated because the process was lagging.
        lag_ignored_alive: liveness marks not taken because the process was lagging.
    """

    quotes: int = 0
    evaluations: int = 0
    suppressed_stale: int = 0
    opened: int = 0
    updated: int = 0
    closed: int = 0
    ignored_assignments: int = 0
    rejected_assignments: int = 0
    refused_cap: int = 0
    future_clamped: int = 0
    kernel_batches: int = 0
    kernel_scanned: int = 0
    kernel_flagged: int = 0
    halted: int = 0
    late_quotes: int = 0
    lag_episodes: int = 0
    lag_held: int = 0
    lag_ignored_alive: int = 0


SEND_TIME_VENUES = ("kalshi", "polymarket")
"""Venues whose quotes' ``venue_ts_ms`` is the time the venue sent the change: Kalshi's
``ts_ms`` of a delta, Polymarket's ``timestamp`` of a ``book`` / ``price_change``. Not
Polymarket US: its ``transact_time`` is the market's last transaction, which a full book
of a quiet market carries from long ago."""


@attrs.define
class _Open:
    signal_id: str
    opportunity: Opportunity


@attrs.define
class _OpenEvent:
    signal_id: str
    opportunity: EventOpportunity


def fees_for(assignment: MarketAssignment) -> dict[str, VenueTerms]:
    """Each venue's fee model and minimum order size from an assignment's fee terms
    (:func:`~arbees.services.event_game.venue_terms`); a two-team game also needs
    Kalshi's and Polymarket's, of their own fee kinds (it is that pair).

    Raises :class:`~arbees.errors.ConfigError` for any unusable or missing terms — never a
    default: a fee that cannot be read must stop that game, not be guessed.
    """
    terms = venue_terms(assignment)
    if not assignment.is_event and pair_fees(terms) is None:
        raise ConfigError("a two-team game needs kalshi and polymarket fee terms of their kinds")
    return terms


# A pair as a kernel event: outcome 0 = this team wins (Kalshi YES asks, its Polymarket
# token's asks), outcome 1 = it does not (Kalshi NO asks, the opponent's token's asks).
_VENUES = 2  # 0 Kalshi, 1 Polymarket
_PAIR_LEGS = 2  # contracts in a partition of a binary event
_SLOTS = MAX_OUTCOMES * 2 * _VENUES  # column entries per event
_COMBOS = tuple(Combo)
"""Every combination, in bit order (built once: :meth:`ShardEngine._evaluate` walks it)."""
_K_YES, _K_NO, _P_YES, _P_NO = (
    contract_index(0, outcome, 0, venue, _VENUES) for venue in (0, 1) for outcome in (0, 1)
)


def _best_ask(levels: tuple[Level, ...]) -> int:
    """The lowest valid ask price, 0 (missing) when there is none; never above the price
    the depth walk starts at, so the scan stays conservative even for an unsorted ladder."""
    if not levels:
        return 0
    low = min(levels)  # by price first
    if 0 < low[0] < ONE and low[1] > 0:
        return low[0]
    return min((p for p, size in levels if 0 < p < ONE and size > 0), default=0)


def _kernel_params(fees: PairFees) -> tuple[int, int] | None:
    """``(k_coef, p_rate)`` of a pair for the event kernel, or None when its schedule is
    beyond the kernel (a Kalshi multiplier not exact in micro-units, a Polymarket exponent
    other than 1): such pairs are always walked exactly."""
    try:
        return fees.kalshi.kernel_coef, fees.poly.kernel_rate
    except ArbeesError:
        return None


def _check_instruments(teams: tuple[TeamLeg, ...], checks: InstrumentChecks) -> None:
    """Raise :class:`ConfigError` unless both teams have instruments a source can stream."""
    tickers = [t.kalshi_ticker for t in teams]
    tokens = [t.poly_token for t in teams]
    for venue, instruments in (("kalshi", tickers), ("polymarket", tokens)):
        for instrument in instruments:
            problem = instrument_problem(venue, instrument, checks)
            if problem is not None:
                raise ConfigError(problem)
    if len(set(tickers)) != len(tickers) or len(set(tokens)) != len(tokens):
        raise ConfigError("two teams share an instrument")


def _watch_keys(game: Game | EventGame) -> list[tuple[Key, int]]:
    """The quotes a game reads, each with the index its watchers are filed under."""
    if isinstance(game, EventGame):
        return [(key, EVENT) for key in game.quote_keys()]
    out: list[tuple[Key, int]] = []
    for index, team in enumerate(game.teams):
        out.append((("kalshi", team.kalshi_ticker), index))
        out.append((("polymarket", team.poly_token), index))
    return out


def _keys(game: Game | EventGame) -> tuple[object, ...]:
    """What decides which instruments a game watches (equal: nothing to re-subscribe)."""
    if isinstance(game, EventGame):
        return ("event", tuple(game.quote_keys()))
    return ("pair", game.teams)


class ShardEngine:
    """Keeps the latest quote of every watched instrument and decides signals.

    Args:
        shard_id: this shard's id (assignments for other shards are ignored).
        max_age_ns: a quote is usable only while its source confirmed liveness this
            recently (see :meth:`set_alive`).
        max_quote_age_ns: ... and only while the quote itself is younger than this, whatever
            its source confirms (a quiet book older than this waits for its next change).
        max_games: games run at most; further new games are refused (``over_cap``).
        min_edge: minimum profit per contract (micro-dollars) for a signal.
        max_size: cap on contracts per signal (micro-units), ``None`` for no cap.
        edge_delta: an open signal is re-sent when its edge moves at least this much.
        size_ratio: ... or its size changes by at least this fraction.
        clock: wall clock in ns (injectable for tests).
        instrument_checks: each venue's instrument-id check, by venue id (the wiring
            passes the registered venues'); an assignment naming an instrument its venue
            refuses is rejected.
        live_max_quote_age_ns: while a game is live, its quotes are usable only while
            younger than this (at most ``max_quote_age_ns``); ``None``: no tighter limit.
        send_time_venues: venues whose quotes' venue timestamps are send times, aged by
            them too (see the module doc and :data:`SEND_TIME_VENUES`).
    """

    def __init__(
        self,
        shard_id: str,
        *,
        max_age_ns: int = 2_000_000_000,
        max_quote_age_ns: int = 600_000_000_000,
        max_games: int = 1000,
        min_edge: Fixed = 0,
        max_size: Fixed | None = None,
        edge_delta: Fixed = CENT // 2,
        size_ratio: float = 0.1,
        clock: Callable[[], int] = time.time_ns,
        instrument_checks: InstrumentChecks = INSTRUMENT_CHECKS,
        live_max_quote_age_ns: int | None = None,
        send_time_venues: Iterable[str] = SEND_TIME_VENUES,
    ) -> None:
        self.shard_id = shard_id
        self.instrument_checks = instrument_checks
        self.max_age_ns = max_age_ns
        self.max_quote_age_ns = max_quote_age_ns
        if not 1 <= max_games <= MAX_LIST_ITEMS:  # its heartbeat lists every game it runs
            raise ConfigError(f"max_games must be in 1..{MAX_LIST_ITEMS}: {max_games}")
        self.max_games = max_games
        self.min_edge = min_edge
        self.max_size = max_size
        self.edge_delta = edge_delta
        self.size_ratio = size_ratio
        self.clock = clock
        self.stats = ShardEngineStats()
        self.games: dict[str, Game] = {}
        self._watch: dict[Key, list[tuple[str, int]]] = {}
        self._quotes: dict[Key, Quote] = {}
        self._alive: dict[str, int] = {}
        self._down: set[str] = set()
        self._blocked: set[tuple[str, int]] = set()
        self._open: dict[SignalKey, _Open] = {}
        self._open_pairs: dict[tuple[str, int], int] = {}
        """Open signals per pair (``_open`` by its first two key parts), for the scan."""
        self._walks: dict[tuple[str, int], WalkMemo] = {}
        """The last exact walks of each pair with an open signal (see
        :func:`~arbees.arb.find_opportunities`'s ``memo``): such a pair is evaluated on
        every touch, and a touch of a leg its signal does not use walks nothing again."""
        self.events: dict[str, EventGame] = {}
        self._event_open: dict[EventKey, _OpenEvent] = {}
        self._serial = 0
        self._kernel = EventBatch(_VENUES)
        self._event_kernel = EventBatch(EVENT_VENUES)
        if live_max_quote_age_ns is not None and live_max_quote_age_ns <= 0:
            raise ConfigError(f"live_max_quote_age_ns must be > 0: {live_max_quote_age_ns}")
        self.live_max_quote_age_ns = min(
            max_quote_age_ns if live_max_quote_age_ns is None else live_max_quote_age_ns,
            max_quote_age_ns,
        )
        self._states: dict[str, GameState] = {}  # game -> the state its signals carry
        self._halted: set[str] = set()  # games ended, postponed or cancelled
        self._live_ids: set[str] = set()  # games live now
        self._live_keys: set[Key] = set()  # the quotes they read
        self.send_time_venues = tuple(send_time_venues)
        self._clocks = {venue: VenueClock() for venue in self.send_time_venues}
        self._as_of: dict[Key, int] = {}  # quotes older than received, by their venue time
        self._behind: dict[str, tuple[int, int]] = {}  # venue -> latest timed (recv, delay)
        self._lagging = False
        self._episode: set[Key] = set()  # quotes stored while the process lagged
        self._suspect: dict[Key, int] = {}  # ... usable once confirmed at or after this

    # -- assignments ---------------------------------------------------------------

    def apply(self, assignment: MarketAssignment) -> AssignmentDelta:
        """Apply one shard assignment (``platform="kalshi"``); others are ignored.

        A two-team game runs as two pairs; an event assignment (``outcomes`` and
        ``contracts``) as one :class:`~arbees.services.event_game.EventGame`."""
        is_event = assignment.is_event
        if assignment.platform != "kalshi" or (not is_event and len(assignment.teams) != 2):
            self.stats.ignored_assignments += 1
            return AssignmentDelta()
        game_id = assignment.game_id or assignment.market_id
        current: Game | EventGame | None = self.games.get(game_id) or self.events.get(game_id)
        if assignment.shard_id != self.shard_id or assignment.action == "unassign":
            if current is None or assignment.epoch < current.epoch:
                return AssignmentDelta()
            return self._remove(game_id)
        if current is not None and current.epoch > assignment.epoch:
            return AssignmentDelta()  # an older assignment arriving late
        game: Game | EventGame
        try:
            terms = fees_for(assignment)
            if is_event:
                game = event_game(assignment, terms, game_id, self.instrument_checks)
            else:
                _check_instruments(assignment.teams, self.instrument_checks)
                teams = (assignment.teams[0], assignment.teams[1])
                fees = pair_fees(terms)
                assert fees is not None  # (fees_for holds it)
                game = Game(game_id, assignment.sport, teams, fees, assignment.epoch, terms)
        except ConfigError as exc:
            # Never run a game on fees we cannot read (not even the previous ones: the
            # orchestrator says they changed), nor on contracts we cannot cover.
            self.stats.rejected_assignments += 1
            dropped = self._remove(game_id) if current is not None else AssignmentDelta()
            return attrs.evolve(dropped, rejected=str(exc))
        if current is None and self.game_count() >= self.max_games:
            self.stats.refused_cap += 1
            return AssignmentDelta(rejected=f"{self.max_games} games running", over_cap=True)
        if current is not None and _keys(current) == _keys(game):
            # fees, epoch or sides refreshed; same instruments
            self._store(game)
            return AssignmentDelta()
        delta = self._remove(game_id) if current is not None else AssignmentDelta()
        self._store(game)
        add: dict[str, list[str]] = {}
        for key, index in _watch_keys(game):
            watchers = self._watch.setdefault(key, [])
            if not watchers:
                add.setdefault(key[0], []).append(key[1])
            watchers.append((game_id, index))
        # A Polymarket pair also reads the opponent's token (for the NO leg's instrument name).
        return AssignmentDelta(
            add={venue: tuple(instruments) for venue, instruments in add.items()},
            remove=delta.remove,
            signals=delta.signals,
        )

    def _store(self, game: Game | EventGame) -> None:
        if isinstance(game, EventGame):
            self.events[game.game_id] = game
        else:
            self.games[game.game_id] = game

    def game_count(self) -> int:
        """Games running: two-team games and event games."""
        return len(self.games) + len(self.events)

    def game_ids(self) -> list[str]:
        """The ids of every game running, sorted."""
        return sorted([*self.games, *self.events])

    def drop(self, game_id: str) -> AssignmentDelta:
        """Stop running a game (e.g. a source refused one of its instruments)."""
        return self._remove(game_id)

    def _remove(self, game_id: str) -> AssignmentDelta:
        game: Game | EventGame | None = self.games.get(game_id) or self.events.get(game_id)
        if game is None:
            return AssignmentDelta()
        now = self.clock()
        signals = tuple(
            self._close(key, now_ns=now, trigger=None)
            for key in [k for k in self._open if k[0] == game_id]
        ) + tuple(
            self._close_event(key, now_ns=now, trigger=None)
            for key in [k for k in self._event_open if k[0] == game_id]
        )
        if isinstance(game, EventGame):
            del self.events[game_id]
        else:
            del self.games[game_id]
        self._forget_state(game_id)
        remove: dict[str, list[str]] = {}
        for key, index in _watch_keys(game):
            watchers = self._watch.get(key, [])
            if (game_id, index) in watchers:
                watchers.remove((game_id, index))
            if not watchers and key in self._watch:
                self._watch.pop(key, None)
                self._quotes.pop(key, None)
                self._as_of.pop(key, None)
                self._suspect.pop(key, None)
                self._episode.discard(key)
                remove.setdefault(key[0], []).append(key[1])
        return AssignmentDelta(
            remove={venue: tuple(instruments) for venue, instruments in remove.items()},
            signals=signals,
        )

    # -- quotes ----------------------------------------------------------------------

    def set_alive(self, venue: str, when_ns: int, healthy: bool = True) -> list[ArbSignal]:
        """Record that ``venue``'s source confirmed it is live and complete at ``when_ns``.

        ``healthy=False`` (e.g. the monitor lost its egress) makes every quote of that venue
        unusable until a healthy confirmation arrives; open signals are closed at once.
        A confirmation from the future counts as now (it cannot vouch for later). One
        that comes while the latest timed quote of the venue arrived late (within
        ``max_age_ns`` of it) vouches only for that much earlier: the source read up to
        ``when_ns`` what the venue had sent that long before. While the process lags
        (:meth:`set_lagging`) a healthy confirmation is not taken (counted).
        """
        if not healthy:
            was_down = venue in self._down
            self._down.add(venue)
            return [] if was_down else self.sweep()
        self._down.discard(venue)
        if self._lagging:
            self.stats.lag_ignored_alive += 1
            return []
        now = self.clock()
        if when_ns > now:
            self.stats.future_clamped += 1
            when_ns = now
        behind = self._behind.get(venue)
        if behind is not None and behind[1] and when_ns - behind[0] <= self.max_age_ns:
            when_ns -= behind[1]
        if when_ns > self._alive.get(venue, 0):
            self._alive[venue] = when_ns
        if self._suspect:
            for key in [k for k, at in self._suspect.items() if k[0] == venue and at <= when_ns]:
                del self._suspect[key]
        return self._retry_blocked()

    def set_lagging(self, lagging: bool, since_ns: int = 0) -> list[ArbSignal]:
        """The process lags (its scheduler wakes late, :class:`arbees.lag.LagGuard`) since
        ``since_ns``, or no longer.

        While it lags no signal opens or updates (closes still go out), liveness marks are
        not taken, and every quote this process read since ``since_ns`` (its bus receive
        time, else its receive time) or during the episode is marked suspect: once the
        episode is over it is unusable until a quote or a liveness mark of its venue at or
        after the episode's end confirms it. Then the held pairs are evaluated again.
        """
        if lagging == self._lagging:
            return []
        self._lagging = lagging
        if lagging:
            self.stats.lag_episodes += 1
            self._episode.update(
                key
                for key, quote in self._quotes.items()
                if (quote.bus_recv_ns or quote.received_ns) >= since_ns
            )
            return []
        now = self.clock()
        for key in self._episode:
            self._suspect[key] = now
        self._episode.clear()
        return self._retry_blocked()

    @property
    def lagging(self) -> bool:
        """Whether the process is lagging now (see :meth:`set_lagging`)."""
        return self._lagging

    def _retry_blocked(self) -> list[ArbSignal]:
        """Re-evaluate pairs that were held back by a stale/old side, now that a source
        confirmed liveness (no new quote may ever come for a quiet book)."""
        out: list[ArbSignal] = []
        for game_id, index in list(self._blocked):
            self._blocked.discard((game_id, index))
            if index == EVENT:
                event = self.events.get(game_id)
                keys = event.quote_keys() if event else []
                latest = [q for q in map(self._quotes.get, keys) if q is not None]
                if latest:
                    trigger = max(latest, key=lambda q: q.received_ns)
                    out.extend(self._evaluate_event(game_id, trigger))
                continue
            game = self.games.get(game_id)
            if game is None:
                continue
            team = game.teams[index]
            k = self._quotes.get(("kalshi", team.kalshi_ticker))
            p = self._quotes.get(("polymarket", team.poly_token))
            if k is None or p is None:
                continue
            trigger = k if k.received_ns >= p.received_ns else p
            out.extend(self._evaluate(game_id, index, trigger))
        return out

    def usable(self, quote: Quote | None, now_ns: int) -> bool:
        if quote is None or quote.stale or quote.venue in self._down:
            return False
        as_of = quote.received_ns
        if self._as_of:
            as_of = self._as_of.get((quote.venue, quote.instrument), as_of)
        if now_ns - as_of > self.max_quote_age_ns:
            return False
        if (
            self._live_keys
            and now_ns - as_of > self.live_max_quote_age_ns
            and (quote.venue, quote.instrument) in self._live_keys
        ):
            return False
        confirmed = max(as_of, self._alive.get(quote.venue, 0))
        if self._suspect:
            bound = self._suspect.get((quote.venue, quote.instrument))
            if bound is not None and confirmed < bound:
                return False
        return now_ns - confirmed <= self.max_age_ns

    def on_quote(self, quote: Quote) -> list[ArbSignal]:
        """Store a quote and re-evaluate every pair that reads it (a batch of one)."""
        return self.on_quotes((quote,))

    def on_quotes(self, quotes: Iterable[Quote]) -> list[ArbSignal]:
        """Store a batch of quotes, then scan every pair they touched with the event kernel
        and walk depth only where it flags (see the module doc)."""
        now = self.clock()
        touched: dict[tuple[str, int], Quote] = {}  # pair -> its latest quote (the trigger)
        clocks, as_of, behind, suspect = self._clocks, self._as_of, self._behind, self._suspect
        for quote in quotes:
            self.stats.quotes += 1
            key = (quote.venue, quote.instrument)
            watchers = self._watch.get(key)
            if watchers is None:
                continue
            if quote.received_ns > now:  # a clock ahead, or forged: never fresher than now
                self.stats.future_clamped += 1
                quote = attrs.evolve(quote, received_ns=now)
            self._quotes[key] = quote
            received = quote.received_ns
            # A stale quote says nothing of when its venue sent anything: a book marked
            # stale carries the time of its last change, not of the frame that marked it.
            timed = quote.venue_ts_ms is not None and not quote.stale
            clock = clocks.get(quote.venue) if timed else None
            if clock is not None:
                delay = clock.observe(received, quote.venue_ts_ms * 1_000_000)  # type: ignore[operator]
                behind[quote.venue] = (received, delay)
                if delay > 0:
                    received -= delay
                    as_of[key] = received
                    if now - received > self.max_age_ns:
                        self.stats.late_quotes += 1
                elif as_of:
                    as_of.pop(key, None)
            elif as_of:
                as_of.pop(key, None)
            if self._lagging:
                self._episode.add(key)
            elif suspect and suspect.get(key, received) <= received:
                suspect.pop(key, None)
            for pair in watchers:
                touched[pair] = quote
        if not touched:
            return []
        pairs = [pair for pair in touched if pair[1] != EVENT]
        events = [pair[0] for pair in touched if pair[1] == EVENT]
        self.stats.kernel_batches += 1
        out: list[ArbSignal] = []
        if pairs:
            for game_id, index in self._scan(pairs, now):
                out.extend(self._evaluate(game_id, index, touched[game_id, index]))
        if events:
            for game_id in self._scan_events(events, now):
                out.extend(self._evaluate_event(game_id, touched[game_id, EVENT]))
        return out

    def _scan(self, pairs: list[tuple[str, int]], now: int) -> list[tuple[str, int]]:
        """The pairs to evaluate exactly: those the kernel flags, plus those with an open
        signal (it may have to close) or a stale/old side (held back until it is fresh)."""
        n = len(pairs)
        scan = self._kernel
        scan.reset(n)
        asks, k_coef, p_rate = scan.asks, scan.k_coef, scan.p_rate
        always: list[bool] = []
        append = always.append
        usable = self.usable
        games, quotes, open_pairs = self.games, self._quotes, self._open_pairs
        for e, pair in enumerate(pairs):
            game = games[pair[0]]
            team = game.teams[pair[1]]
            k = quotes.get(("kalshi", team.kalshi_ticker))
            p = quotes.get(("polymarket", team.poly_token))
            params = game.kernel_fees
            if k is None or p is None:
                append(params is None or pair in open_pairs)
                continue  # a contract missing: never flagged
            fresh = usable(k, now) and usable(p, now)
            append(params is None or not fresh or pair in open_pairs)
            if not fresh or params is None:
                continue
            base = e * _SLOTS
            asks[base + _K_YES] = _best_ask(k.yes_asks)
            asks[base + _K_NO] = _best_ask(k.no_asks)
            asks[base + _P_YES] = _best_ask(p.yes_asks)
            asks[base + _P_NO] = _best_ask(p.no_asks)
            k_coef[base + _K_YES] = k_coef[base + _K_NO] = params[0]
            p_rate[base + _P_YES] = p_rate[base + _P_NO] = params[1]
        result = scan.check(prefilter_edge(self.min_edge, _PAIR_LEGS))
        flags = result.flags
        self.stats.kernel_scanned += n
        flagged = sum(flags)
        self.stats.kernel_flagged += flagged
        return [pair for pair, flag, must in zip(pairs, flags, always, strict=True) if flag or must]

    def _scan_events(self, game_ids: list[str], now: int) -> list[str]:
        """The event games to search exactly: those the kernel flags at the margin of
        their largest cover (one leg per outcome), plus those with an open signal or a
        stale/old quote (as for pairs). An unusable quote is a missing contract."""
        n = len(game_ids)
        scan = self._event_kernel
        scan.reset(n)
        asks, k_coef, p_rate, n_outcomes = scan.asks, scan.k_coef, scan.p_rate, scan.n_outcomes
        width = MAX_OUTCOMES * 2 * EVENT_VENUES
        always: list[bool] = []
        open_games = {key[0] for key in self._event_open}
        legs = 2
        for e, game_id in enumerate(game_ids):
            game = self.events[game_id]
            outcomes = len(game.event.outcomes)
            n_outcomes[e] = outcomes
            legs = max(legs, outcomes)
            params = game.kernel_fees
            stale = False
            base = e * width
            for i, c in enumerate(game.contracts):
                quote = self._quotes.get((c.venue, c.instrument))
                if quote is None:
                    continue
                if not self.usable(quote, now):
                    stale = True
                    continue
                if params is None:
                    continue
                slot = base + game.slots[i]
                asks[slot] = _best_ask(quote.yes_asks if c.side == "yes" else quote.no_asks)
                k_coef[slot], p_rate[slot] = params[i]
            always.append(params is None or stale or game_id in open_games)
        result = scan.check(prefilter_edge(self.min_edge, legs))
        flags = result.flags
        self.stats.kernel_scanned += n
        self.stats.kernel_flagged += sum(flags)
        return [g for g, flag, must in zip(game_ids, flags, always, strict=True) if flag or must]

    def sweep(self) -> list[ArbSignal]:
        """Close open signals whose inputs went stale or too old (call periodically)."""
        now = self.clock()
        out: list[ArbSignal] = []
        for key in list(self._open):
            game = self.games.get(key[0])
            if game is None:
                continue
            team = game.teams[key[1]]
            k = self._quotes.get(("kalshi", team.kalshi_ticker))
            p = self._quotes.get(("polymarket", team.poly_token))
            if not (self.usable(k, now) and self.usable(p, now)):
                self.stats.suppressed_stale += 1
                self._blocked.add((key[0], key[1]))
                out.append(self._close(key, now_ns=now, trigger=None))
        for event_key, current in list(self._event_open.items()):
            legs = current.opportunity.legs
            if not all(self.usable(self._quotes.get((x.venue, x.instrument)), now) for x in legs):
                self.stats.suppressed_stale += 1
                self._blocked.add((event_key[0], EVENT))
                out.append(self._close_event(event_key, now_ns=now, trigger=None))
        return out

    def _evaluate_event(self, game_id: str, trigger: Quote) -> list[ArbSignal]:
        """Search an event game's covers exactly over the usable quotes; open, update and
        close its signals (one per cover, by its label) as for pairs."""
        game = self.events[game_id]
        now = self.clock()
        self.stats.evaluations += 1
        contracts: list[Contract] = []
        stale = False
        for c in game.contracts:
            quote = self._quotes.get((c.venue, c.instrument))
            if quote is None:
                continue
            if not self.usable(quote, now):
                stale = True  # a missing contract until its source confirms it
                continue
            asks = quote.yes_asks if c.side == "yes" else quote.no_asks
            contracts.append(Contract(c.venue, c.instrument, c.outcome, c.side, asks))  # type: ignore[arg-type]
        if stale:
            self.stats.suppressed_stale += 1
            self._blocked.add((game_id, EVENT))
        found = (
            {}  # ended, postponed or cancelled: whatever the books say
            if game_id in self._halted
            else {
                opp.label: opp
                for opp in event_opportunities(
                    game.event,
                    contracts,
                    game.terms,
                    min_edge=self.min_edge,
                    max_size=self.max_size,
                )
            }
        )
        detect_ns = self.clock()
        out: list[ArbSignal] = []
        for key in [k for k in self._event_open if k[0] == game_id and k[1] not in found]:
            out.append(self._close_event(key, now_ns=detect_ns, trigger=trigger))
        for label, opp in found.items():
            key = (game_id, label)
            current = self._event_open.get(key)
            if self._lagging:
                if current is None or self._material(current.opportunity, opp):
                    self.stats.lag_held += 1
                    self._blocked.add((game_id, EVENT))
                continue
            if current is None:
                self._serial += 1
                signal_id = f"{self.shard_id}:{game_id}:event:{self._serial}"
                self._event_open[key] = _OpenEvent(signal_id, opp)
                self.stats.opened += 1
                out.append(self._event_signal("open", signal_id, game, opp, trigger, detect_ns))
            elif self._material(current.opportunity, opp):
                current.opportunity = opp
                self.stats.updated += 1
                out.append(
                    self._event_signal("update", current.signal_id, game, opp, trigger, detect_ns)
                )
        return out

    def _close_event(self, key: EventKey, *, now_ns: int, trigger: Quote | None) -> ArbSignal:
        current = self._event_open.pop(key)
        self.stats.closed += 1
        game = self.events[key[0]]
        return self._event_signal(
            "close", current.signal_id, game, current.opportunity, trigger, now_ns
        )

    def _event_signal(
        self,
        event: str,
        signal_id: str,
        game: EventGame,
        opp: EventOpportunity,
        trigger: Quote | None,
        detect_ns: int,
    ) -> ArbSignal:
        legs = tuple(
            SignalLeg(
                venue=leg.venue,
                instrument=leg.instrument,
                side=leg.side,
                price=leg.avg_price,
                worst_price=leg.worst_price,
                size=leg.size,
                fee=leg.fee,
                outcome=leg.outcome,
            )
            for leg in opp.legs
        )
        quotes = [self._quotes.get((leg.venue, leg.instrument)) for leg in opp.legs]
        return self._arb_signal(
            event,
            signal_id,
            opp,
            game_id=game.game_id,
            combo=opp.label,
            team="",
            legs=legs,
            monitor_recv_ns=max((q.monitor_recv_ns for q in quotes if q), default=0),
            trigger=trigger,
            detect_ns=detect_ns,
        )

    def _arb_signal(
        self,
        event: str,
        signal_id: str,
        opp: Opportunity | EventOpportunity,
        *,
        game_id: str,
        combo: str,
        team: str,
        legs: Sequence[SignalLeg],
        monitor_recv_ns: int,
        trigger: Quote | None,
        detect_ns: int,
    ) -> ArbSignal:
        """The one place a signal is built, for a pair's and an event game's opportunity
        alike: its totals from ``opp``, its latencies from the quote that triggered it."""
        return ArbSignal(
            signal_id=signal_id,
            event=event,
            shard_id=self.shard_id,
            game_id=game_id,
            combo=combo,
            team=team,
            legs=tuple(legs),
            size=opp.size,
            cost=opp.cost + opp.fees,
            fees=opp.fees,
            profit=opp.profit,
            edge=opp.edge_per_contract,
            timestamp_ms=now_ms(),
            venue_ts_ms=trigger.venue_ts_ms if trigger else None,
            monitor_recv_ns=monitor_recv_ns,
            bus_recv_ns=(trigger.bus_recv_ns or trigger.received_ns) if trigger else 0,
            detect_ns=detect_ns,
            published_ns=detect_ns,
            game_state=self._carried(game_id),
        )

    def _evaluate(self, game_id: str, index: int, trigger: Quote) -> list[ArbSignal]:
        game = self.games[game_id]
        team = game.teams[index]
        k = self._quotes.get(("kalshi", team.kalshi_ticker))
        p = self._quotes.get(("polymarket", team.poly_token))
        now = self.clock()
        self.stats.evaluations += 1
        found: dict[Combo, Opportunity] = {}
        if game_id in self._halted:
            pass  # ended, postponed or cancelled: whatever the books say
        elif k is not None and p is not None and self.usable(k, now) and self.usable(p, now):
            books = PairAsks(k.yes_asks, k.no_asks, p.yes_asks, p.no_asks)
            pair = (game_id, index)
            memo = self._walks.setdefault(pair, {}) if pair in self._open_pairs else None
            for opp in find_opportunities(
                books, game.fees, min_edge=self.min_edge, max_size=self.max_size, memo=memo
            ):
                if opp.combo is Combo.POLY_ONLY and index != 0:
                    continue
                found[opp.combo] = opp
        elif k is not None and p is not None:
            self.stats.suppressed_stale += 1
            self._blocked.add((game_id, index))
        if not found and (game_id, index) not in self._open_pairs:
            return []  # nothing found, nothing open to close: no signal either way
        detect_ns = self.clock()
        out: list[ArbSignal] = []
        for combo in _COMBOS:
            key = (game_id, index, combo)
            current = self._open.get(key)
            if combo not in found:
                if current is not None:
                    out.append(self._close(key, now_ns=detect_ns, trigger=trigger))
                continue
            opp = found[combo]
            if self._lagging:
                if current is None or self._material(current.opportunity, opp):
                    self.stats.lag_held += 1
                    self._blocked.add((game_id, index))
                continue
            if current is None:
                self._serial += 1
                signal_id = f"{self.shard_id}:{game_id}:{team.team}:{combo.label}:{self._serial}"
                self._open[key] = _Open(signal_id, opp)
                pair = (game_id, index)
                self._open_pairs[pair] = self._open_pairs.get(pair, 0) + 1
                self.stats.opened += 1
                out.append(self._signal("open", signal_id, game, index, opp, trigger, detect_ns))
            elif self._material(current.opportunity, opp):
                current.opportunity = opp
                self.stats.updated += 1
                out.append(
                    self._signal("update", current.signal_id, game, index, opp, trigger, detect_ns)
                )
        return out

    def _material(
        self, old: Opportunity | EventOpportunity, new: Opportunity | EventOpportunity
    ) -> bool:
        if abs(new.edge_per_contract - old.edge_per_contract) >= self.edge_delta:
            return True
        return abs(new.size - old.size) >= self.size_ratio * max(old.size, 1)

    def _close(self, key: SignalKey, *, now_ns: int, trigger: Quote | None) -> ArbSignal:
        current = self._open.pop(key)
        pair = (key[0], key[1])
        left = self._open_pairs[pair] - 1
        if left:
            self._open_pairs[pair] = left
        else:
            del self._open_pairs[pair]
            self._walks.pop(pair, None)
        self.stats.closed += 1
        game = self.games[key[0]]
        return self._signal(
            "close", current.signal_id, game, key[1], current.opportunity, trigger, now_ns
        )

    def _signal(
        self,
        event: str,
        signal_id: str,
        game: Game,
        index: int,
        opp: Opportunity,
        trigger: Quote | None,
        detect_ns: int,
    ) -> ArbSignal:
        team = game.teams[index]
        other = game.teams[1 - index]
        legs = []
        for leg in opp.legs:
            if leg.venue == "kalshi":
                instrument, side, outcome = team.kalshi_ticker, leg.outcome, team.team
            else:  # Polymarket: NO of this team's token is the opponent's token
                own = leg.outcome == "yes"
                instrument = team.poly_token if own else other.poly_token
                side, outcome = "yes", (team.team if own else other.team)
            legs.append(
                SignalLeg(
                    venue=leg.venue,
                    instrument=instrument,
                    side=side,
                    price=leg.avg_price,
                    worst_price=leg.worst_price,
                    size=leg.size,
                    fee=leg.fee,
                    outcome=outcome,
                )
            )
        poly = self._quotes.get(("polymarket", team.poly_token))
        return self._arb_signal(
            event,
            signal_id,
            opp,
            game_id=game.game_id,
            combo=opp.combo.label,
            team=team.team,
            legs=legs,
            monitor_recv_ns=poly.monitor_recv_ns if poly else 0,
            trigger=trigger,
            detect_ns=detect_ns,
        )

    # -- game state ------------------------------------------------------------------

    def set_game_state(self, game_id: str, state: GameState) -> list[ArbSignal]:
        """Apply the folded state of a game this shard runs (others are ignored).

        Live tightens its quotes' age limit; ended, postponed or cancelled halts the game:
        its open signals close now (carrying this state) and none opens again while the
        shard runs it, whatever a later report says.
        """
        if game_id not in self.games and game_id not in self.events:
            return []
        if game_id in self._halted:
            return []  # final on this side: the close carried the halting state
        self._states[game_id] = state
        if not state.halted:
            self._set_live(game_id, state.phase == "live")
            return []
        self._halted.add(game_id)
        self.stats.halted += 1
        self._set_live(game_id, False)
        now = self.clock()
        return [
            self._close(key, now_ns=now, trigger=None)
            for key in [k for k in self._open if k[0] == game_id]
        ] + [
            self._close_event(key, now_ns=now, trigger=None)
            for key in [k for k in self._event_open if k[0] == game_id]
        ]

    def outcomes(self, game_id: str) -> tuple[str, ...]:
        """The outcomes of a game this shard runs (a two-team game: its teams, as its
        signals' legs name them; ``()`` for an unknown game)."""
        if game_id in self.events:
            return self.events[game_id].event.outcomes
        game = self.games.get(game_id)
        return tuple(t.team for t in game.teams) if game else ()

    def game_state(self, game_id: str) -> GameState | None:
        """The state a game's signals carry now (``None``: no report of it)."""
        return self._states.get(game_id)

    def halted(self, game_id: str) -> bool:
        """Whether the game ended, was postponed or cancelled while this shard ran it."""
        return game_id in self._halted

    def _carried(self, game_id: str) -> tuple[GameState, ...]:
        state = self._states.get(game_id)
        return () if state is None else (state,)

    def _set_live(self, game_id: str, live: bool) -> None:
        if live:
            self._live_ids.add(game_id)
        else:
            self._live_ids.discard(game_id)
        self._live_keys = {
            key
            for live_id in self._live_ids
            for game in (self.games.get(live_id) or self.events.get(live_id),)
            if game is not None
            for key, _index in _watch_keys(game)
        }

    def _forget_state(self, game_id: str) -> None:
        self._states.pop(game_id, None)
        self._halted.discard(game_id)
        if game_id in self._live_ids:
            self._set_live(game_id, False)

    # -- views -----------------------------------------------------------------------

    def leg_asks(self, signal: ArbSignal) -> tuple[tuple[Level, ...], ...] | None:
        """The ask ladder this engine reads for each leg of ``signal``, as of now.

        Called right after a signal was produced, these are the books it was detected on
        (the paper ledger fills against them). A side that is not usable now (stale, too
        old) gives an empty ladder; an unknown game or team gives None.
        """
        now = self.clock()
        if signal.game_id in self.events:
            out_event: list[tuple[Level, ...]] = []
            for leg in signal.legs:
                quote = self._quotes.get((leg.venue, leg.instrument))
                if quote is None or not self.usable(quote, now):
                    out_event.append(())
                else:
                    out_event.append(quote.yes_asks if leg.side == "yes" else quote.no_asks)
            return tuple(out_event)
        game = self.games.get(signal.game_id)
        team = next((t for t in game.teams if t.team == signal.team), None) if game else None
        if team is None:
            return None
        k = self._quotes.get(("kalshi", team.kalshi_ticker))
        p = self._quotes.get(("polymarket", team.poly_token))
        out: list[tuple[Level, ...]] = []
        for leg in signal.legs:
            if leg.venue == "kalshi":
                quote, own = k, leg.side == "yes"
            else:  # the NO of this team's token is read as its mirrored bids
                quote, own = p, leg.instrument == team.poly_token
            if quote is None or not self.usable(quote, now):
                out.append(())
            else:
                out.append(quote.yes_asks if own else quote.no_asks)
        return tuple(out)

    def venue_terms(self, game_id: str) -> Mapping[str, VenueTerms] | None:
        """Each venue's fee model and minimum order size of a game this shard runs, by
        venue id, as its assignment's fee terms gave them (None for an unknown game)."""
        game = self.games.get(game_id) or self.events.get(game_id)
        return game.terms if game else None

    def last_prices(self, game_id: str) -> dict[tuple[str, str], Fixed]:
        """Each instrument of a game this shard runs at the last price its books showed:
        the YES midpoint of the best ask and the best bid (a NO ask mirrored) of the
        latest quote, rounded down to the micro-unit; an instrument without both sides
        is left out. What a scalar settlement of a halted game is paid at."""
        game = self.games.get(game_id) or self.events.get(game_id)
        out: dict[tuple[str, str], Fixed] = {}
        for key, _index in _watch_keys(game) if game else ():
            quote = self._quotes.get(key)
            if quote is not None and quote.yes_asks and quote.no_asks:
                ask, bid = quote.yes_asks[0].price, ONE - quote.no_asks[0].price
                out[key] = (ask + bid) // 2
        return out

    def open_signals(self) -> list[str]:
        return [o.signal_id for o in self._open.values()] + [
            o.signal_id for o in self._event_open.values()
        ]

    def watched(self, venue: str) -> Iterable[str]:
        return [instrument for v, instrument in self._watch if v == venue]
