"""The market plan: a seeded, fully precomputed timeline of book changes plus its ground truth.

Why precompute: the demo, the benchmarks and the tests must agree on what *should* have been
detected, independently of how fast the machine plays the timeline back. So every random
choice is made here, from ``random.Random(seed)``, before any socket exists: the slate, the
starting books, the random walk (one instrument per step), the injected arbitrage windows,
and the traps. After every step the game's books are evaluated with
:func:`arbees.sim.books.truth` (the shard's own arithmetic), and every change of that truth
becomes a :class:`Window` edge — so the ground truth *is* ``find_opportunities`` on the
simulator's books, by construction.

Kinds of scenario (all times in seconds from the start of playback):

* **window** — one leg of one team's pair moves until the pair is profitable after fees by
  1-3 cents per contract, holds for ``window_s``, then returns to a quiet book;
* **fee trap** — a leg moves until the two legs' raw prices sum below $1 while fees keep the
  cost at or above $1: not arbitrage, must never be signalled;
* **stale trap** — Kalshi stops sending (``stall``), the true Kalshi price moves away (queued
  on the socket), and once the shard's Kalshi copy is older than ``stale_after_s`` the
  Polymarket price crosses the *old* Kalshi price only. A signal there would be a signal
  from a stale book. Polymarket returns to quiet before Kalshi resumes.

The random walk never creates an opportunity: a step whose books would have one is
skipped, so every window in the truth is an injected one.

With ``event_games`` the plan also carries the event games of :mod:`arbees.sim.events`
(``Plan.events``: their own steps, windows and traps, on the same clock).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from typing import Final, Literal

import attrs

from arbees.arb import Opportunity
from arbees.money import CENT, ONE, Fixed
from arbees.sim.books import TICK, GameBooks, KalshiBook, TokenBook, TruthKey, tick_for, truth
from arbees.sim.events import EventPlan, plan_events
from arbees.sim.games import SimGame, make_games
from arbees.sim.quiet import kalshi_book, lower_ask, raise_bid, token_book

__all__ = ["Plan", "PlanConfig", "Step", "Trap", "Window", "make_plan"]

Instrument = Literal["kalshi_a", "kalshi_b", "poly"]
_INSTRUMENTS: Final[tuple[Instrument, ...]] = ("poly", "poly", "kalshi_a", "kalshi_b")


@attrs.frozen
class PlanConfig:
    """What to simulate.

    Attributes:
        seed: the random seed (everything is derived from it).
        games: games in the slate.
        duration_s: length of the timeline.
        walk_rate: random-walk steps per second (each changes one instrument's book).
        first_day: Eastern date of the first games.
        warmup_s: no scenario starts before this.
        scenario_gap_s: (min, max) seconds between scenario starts.
        window_s: (min, max) duration of an arbitrage window.
        trap_s: duration of a fee trap.
        cooldown_s: a game rests this long after a scenario.
        fee_trap_share: share of scenarios that are fee traps.
        stale_traps: schedule stale traps (needs ``duration_s`` >= 4.5).
        stale_after_s: seconds of Kalshi silence before the stale trap's crossing.
        stale_every_s: at most one stale trap per this many seconds.
        quiet_spans: ``(start, end)`` seconds during which the market is frozen: no walk
            step, and no scenario overlaps them (e.g. the soak's fault phases, during
            which some copies of the books are legitimately out of date).
        event_games: also list the event games of :mod:`arbees.sim.events` (3-way soccer,
            an NFL winner, an MLB total) with their own windows and traps.
    """

    seed: int = 1
    games: int = 12
    duration_s: float = 30.0
    walk_rate: float = 50.0
    first_day: date = date(2026, 11, 26)
    warmup_s: float = 0.3
    scenario_gap_s: tuple[float, float] = (0.25, 0.6)
    window_s: tuple[float, float] = (0.8, 1.4)
    trap_s: float = 0.8
    cooldown_s: float = 0.8
    fee_trap_share: float = 0.3
    stale_traps: bool = True
    stale_after_s: float = 1.4
    stale_every_s: float = 12.0
    quiet_spans: tuple[tuple[float, float], ...] = ()
    event_games: bool = False


@attrs.frozen
class Step:
    """One change applied to the venues at ``at``.

    Attributes:
        at: seconds from the start of playback.
        game: slate index (-1 for a venue-wide action).
        instrument: which book changes (``""`` for an action).
        kalshi: the new Kalshi book (for ``kalshi_a``/``kalshi_b``).
        poly: the new token-A book (for ``poly``; token B is its mirror).
        action: ``"walk"``, ``"open"``, ``"close"``, ``"trap"``, ``"untrap"``, ``"stall"``,
            ``"resume"``.
    """

    at: float
    game: int
    instrument: str = ""
    kalshi: KalshiBook | None = None
    poly: TokenBook | None = None
    action: str = "walk"


@attrs.frozen
class Window:
    """One opportunity's life in the true books (a ``(game, team, combo)`` interval).

    Attributes:
        game: slate index.
        team: 0 (away) or 1 (home).
        combo: the combination's label, as in signals.
        open_step, close_step: indexes of the steps that opened and closed it (-1: open at
            the end of the timeline).
        opened_at, closed_at: their times (seconds).
        opportunity: the opportunity right after opening (size, profit, legs).
        venue: the venue whose change opened it.
    """

    game: int
    team: int
    combo: str
    open_step: int
    close_step: int
    opened_at: float
    closed_at: float
    opportunity: Opportunity
    venue: str

    @property
    def duration(self) -> float:
        return self.closed_at - self.opened_at


@attrs.frozen
class Trap:
    """A stretch where a naive detector would signal but the truth has no opportunity.

    Attributes:
        game: slate index.
        kind: ``"fees"`` (raw sum below $1, not after fees) or ``"stale"`` (crosses only the
            stale copy of a Kalshi book).
        start_step, end_step: steps that set it up and removed it.
        start, end: their times (seconds).
        raw_sum: the two legs' best prices summed (micro-dollars), below $1.
    """

    game: int
    kind: str
    start_step: int
    end_step: int
    start: float
    end: float
    raw_sum: Fixed


@attrs.frozen
class Plan:
    """The timeline and its truth.

    Attributes:
        config: what was asked.
        games: the slate.
        initial: each game's books at time 0.
        steps: changes in time order.
        windows: every opportunity interval of the true books.
        traps: every trap.
        skipped_walks: random-walk steps dropped because they would have opened an
            opportunity.
        events: the event games' slate, timeline and truth (empty unless
            ``config.event_games``).
    """

    config: PlanConfig
    games: tuple[SimGame, ...]
    initial: tuple[GameBooks, ...]
    steps: tuple[Step, ...]
    windows: tuple[Window, ...]
    traps: tuple[Trap, ...]
    skipped_walks: int
    events: EventPlan = attrs.field(factory=EventPlan)


def _with(
    books: GameBooks, instrument: str, kalshi: KalshiBook | None, poly: TokenBook | None
) -> GameBooks:
    """``books`` with one instrument replaced."""
    if instrument == "kalshi_a" and kalshi is not None:
        return GameBooks(kalshi, books.kalshi_b, books.poly_a)
    if instrument == "kalshi_b" and kalshi is not None:
        return GameBooks(books.kalshi_a, kalshi, books.poly_a)
    if instrument == "poly" and poly is not None:
        return GameBooks(books.kalshi_a, books.kalshi_b, poly)
    raise ValueError(f"no book for {instrument}")


class _Planner:
    def __init__(self, config: PlanConfig) -> None:
        self.cfg = config
        self.rng = random.Random(config.seed)
        self.games = tuple(make_games(config.games, self.rng, first_day=config.first_day))
        self.p: list[Fixed] = []
        for game in self.games:
            if game.lopsided:
                p = self.rng.randint(965, 985) * 1000
                self.p.append(p if self.rng.random() < 0.5 else ONE - p)
            else:
                self.p.append(self.rng.randint(25, 75) * CENT)
        self.books = [self._quiet(i) for i in range(len(self.games))]
        self.initial = tuple(self.books)
        self.steps: list[Step] = []
        self.truth: list[dict[TruthKey, Opportunity]] = [{} for _ in self.games]
        self.open: dict[tuple[int, TruthKey], tuple[int, float, Opportunity, str]] = {}
        self.windows: list[Window] = []
        self.traps: list[Trap] = []
        self.stalls: list[tuple[float, float]] = []
        self.skipped = 0

    # -- books ---------------------------------------------------------------------------

    def _quiet(self, game: int) -> GameBooks:
        p = self.p[game]
        for _ in range(50):
            books = GameBooks(
                kalshi_book(p, self.rng), kalshi_book(ONE - p, self.rng), token_book(p, self.rng)
            )
            if not truth(books):
                return books
        raise AssertionError(f"no quiet books at p={p}")  # pragma: no cover

    def _quiet_instrument(self, game: int, instrument: str) -> GameBooks | None:
        """The game's books with one instrument regenerated quiet (``None`` if impossible)."""
        p = self.p[game]
        for _ in range(20):
            if instrument == "poly":
                books = _with(self.books[game], "poly", None, token_book(p, self.rng))
            else:
                q = p if instrument == "kalshi_a" else ONE - p
                books = _with(self.books[game], instrument, kalshi_book(q, self.rng), None)
            if not truth(books):
                return books
        return None

    def _restore(
        self,
        at: float,
        game: int,
        instrument: str,
        action: str,
        fallback: GameBooks | None = None,
    ) -> int:
        """Make the game quiet again: one instrument if possible, else all three.

        The three books of a full restore reach the system in any order (two venues, two
        connections; Polymarket's tokens in separate frames), so the new books must be quiet
        in every mix with the old ones (:func:`_mixtures_quiet`) — otherwise the system
        legitimately sees an opportunity the step-by-step truth never had. When no such set
        is found, ``instrument`` goes back to its book in ``fallback`` (the game's quiet books
        before the scenario moved it): a one-book change, quiet by construction. Without a
        fallback (a walk) nothing is emitted and ``-1`` is returned.
        """
        books = self._quiet_instrument(game, instrument)
        if books is not None:
            return self._emit(at, game, instrument, books, action)
        current = self.books[game]
        books = self._quiet(game)
        for _ in range(50):
            if _mixtures_quiet(current, books):
                break
            books = self._quiet(
                game
            )  # whatever order the system sees the three changes in, no opportunity
        else:
            if fallback is None:
                return -1
            return self._emit(
                at,
                game,
                instrument,
                _with(current, instrument, _kalshi_of(fallback, instrument), fallback.poly_a),
                action,
            )
        index = -1
        for name in ("kalshi_a", "kalshi_b", "poly"):
            current = self.books[game]
            step_books = _with(
                current,
                name,
                books.kalshi_a if name == "kalshi_a" else books.kalshi_b,
                books.poly_a,
            )
            index = self._emit(at, game, name, step_books, action)
        return index

    # -- steps and truth -----------------------------------------------------------------

    def _emit(self, at: float, game: int, instrument: str, books: GameBooks, action: str) -> int:
        step = Step(
            at=at,
            game=game,
            instrument=instrument,
            kalshi=books.kalshi_a
            if instrument == "kalshi_a"
            else books.kalshi_b
            if instrument == "kalshi_b"
            else None,
            poly=books.poly_a if instrument == "poly" else None,
            action=action,
        )
        self.steps.append(step)
        index = len(self.steps) - 1
        self.books[game] = books
        now = truth(books)
        before = self.truth[game]
        venue = "polymarket" if instrument == "poly" else "kalshi"
        for key in before.keys() - now.keys():
            o_step, o_at, opp, o_venue = self.open.pop((game, key))
            self.windows.append(Window(game, key[0], key[1], o_step, index, o_at, at, opp, o_venue))
        for key in now.keys() - before.keys():
            self.open[(game, key)] = (index, at, now[key], venue)
        self.truth[game] = now
        return index

    def _action(self, at: float, action: str) -> int:
        self.steps.append(Step(at=at, game=-1, action=action))
        return len(self.steps) - 1

    def walk(self, at: float, held: set[int]) -> None:
        if any(a <= at <= b for a, b in self.cfg.quiet_spans):
            return
        free = [i for i in range(len(self.games)) if i not in held]
        if not free:
            return
        game = self.rng.choice(free)
        instrument = self.rng.choice(_INSTRUMENTS)
        stalled = any(a - 0.2 <= at <= b + 0.3 for a, b in self.stalls)
        if stalled:
            # Kalshi is stalled: its books must not move under the system's feet, or a
            # stale-but-not-yet-old Kalshi copy could cross a fresh Polymarket price.
            instrument = "poly"
        lo, hi = (960_000, 990_000) if self.games[game].lopsided else (200_000, 800_000)
        if self.p[game] < ONE // 2 and self.games[game].lopsided:
            lo, hi = ONE - hi, ONE - lo
        step = self.rng.choice((-1, 0, 1)) * tick_for(self.p[game])
        self.p[game] = min(max(self.p[game] + step, lo), hi)
        books = self._quiet_instrument(game, instrument)
        if books is None:  # this instrument cannot follow p alone without an opportunity
            self.skipped += 1
            if not stalled:
                self._restore(at, game, instrument, "walk")
            return
        self._emit(at, game, instrument, books, "walk")

    # -- mispricings -----------------------------------------------------------------------

    def _move(
        self, game: int, team: int, combo: str, accept: Callable[[GameBooks, int], bool]
    ) -> tuple[str, GameBooks, int] | None:
        """Move the one leg ``combo`` buys for ``team`` a tick at a time until ``accept``.

        Returns ``(instrument, books, raw_sum)`` or ``None`` when no move within 60 ticks
        is acceptable.
        """
        books = self.books[game]
        size = self.rng.randint(20, 200) * ONE
        venue_poly = self.rng.random() < 0.5
        poly_leg = "no" if combo == "KalshiYes+PolyNo" else "yes"
        kalshi_leg = "yes" if combo == "KalshiYes+PolyNo" else "no"
        for k in range(1, 61):
            if venue_poly or combo not in ("KalshiYes+PolyNo", "PolyYes+KalshiNo"):
                instrument = "poly"
                a = books.poly_a
                tick = tick_for(a.bids[0].price if a.bids else ONE // 2)
                # Token A's bids are the NO asks of team 0 and the YES asks of team 1.
                raise_a_bid = (team == 0) == (poly_leg == "no")
                if raise_a_bid:
                    price = a.bids[0].price + k * tick
                    if price >= ONE - tick:
                        return None
                    bids, asks = raise_bid(a.bids, a.asks, price, size, tick)
                else:
                    price = a.asks[0].price - k * tick
                    if price <= tick:
                        return None
                    bids, asks = lower_ask(a.bids, a.asks, price, size, tick)
                new = _with(books, "poly", None, TokenBook(bids, asks))
            else:
                instrument = "kalshi_a" if team == 0 else "kalshi_b"
                kb = books.kalshi_a if team == 0 else books.kalshi_b
                if kalshi_leg == "yes":  # YES ask = 1 - best NO bid: raise the NO bid
                    price = kb.no_bids[0].price + k * TICK
                    if price >= ONE - TICK:
                        return None
                    no_bids = raise_bid(kb.no_bids, (), price, size, TICK)[0]
                    yes_bids = tuple(lvl for lvl in kb.yes_bids if lvl.price + price < ONE - TICK)
                    new_k = KalshiBook(yes_bids=yes_bids, no_bids=no_bids)
                else:
                    price = kb.yes_bids[0].price + k * TICK
                    if price >= ONE - TICK:
                        return None
                    yes_bids = raise_bid(kb.yes_bids, (), price, size, TICK)[0]
                    no_bids = tuple(lvl for lvl in kb.no_bids if lvl.price + price < ONE - TICK)
                    new_k = KalshiBook(yes_bids=yes_bids, no_bids=no_bids)
                new = _with(books, instrument, new_k, None)
            raw = _raw_sum(new, team, combo)
            if raw is not None and accept(new, raw):
                return instrument, new, raw
        return None

    def window(self, at: float, game: int) -> float | None:
        team = self.rng.randint(0, 1)
        combo = self.rng.choice(("KalshiYes+PolyNo", "PolyYes+KalshiNo"))
        edge = self.rng.randint(1, 3) * CENT
        key = (team, combo)

        def accept(books: GameBooks, raw: int) -> bool:
            opp = truth(books).get(key)
            return opp is not None and opp.edge_per_contract >= edge

        moved = self._move(game, team, combo, accept)
        if moved is None:
            return None
        instrument, books, _raw = moved
        before = self.books[game]
        self._emit(at, game, instrument, books, "open")
        end = at + self.rng.uniform(*self.cfg.window_s)
        self._restore(end, game, instrument, "close", before)
        return end

    def fee_trap(self, at: float, game: int) -> float | None:
        if self.games[game].lopsided:
            return None  # fees near 0/1 are too small to hide a raw edge
        team = self.rng.randint(0, 1)
        combo = self.rng.choice(("KalshiYes+PolyNo", "PolyYes+KalshiNo"))

        def accept(books: GameBooks, raw: int) -> bool:
            return raw < ONE and not truth(books)

        moved = self._move(game, team, combo, accept)
        if moved is None:
            return None
        instrument, books, raw = moved
        before = self.books[game]
        start = self._emit(at, game, instrument, books, "trap")
        end_at = at + self.cfg.trap_s
        end = self._restore(end_at, game, instrument, "untrap", before)
        self.traps.append(Trap(game, "fees", start, end, at, end_at, raw))
        return end_at

    def stale_trap(self, at: float, game: int) -> float | None:
        """Stall Kalshi, move its true price away, cross only the stale copy on Polymarket."""
        if self.games[game].lopsided:
            return None
        old = self.books[game]
        team = 0
        combo = "KalshiYes+PolyNo"
        kb = old.kalshi_a
        # The true Kalshi YES ask rises by 4 cents (its best NO bids go away).
        drop = 4 * CENT
        no_bids = tuple(
            lvl.__class__(lvl.price - drop, lvl.size) for lvl in kb.no_bids if lvl.price > drop
        )
        moved_true = attrs.evolve(old, kalshi_a=KalshiBook(kb.yes_bids, no_bids))
        if truth(moved_true):
            return None

        def crosses_stale_only(books: GameBooks, raw: int) -> bool:
            true_books = attrs.evolve(books, kalshi_a=moved_true.kalshi_a)
            opp = truth(books).get((team, combo))
            return opp is not None and opp.edge_per_contract >= CENT and not truth(true_books)

        found = None
        a = old.poly_a
        tick = tick_for(a.bids[0].price)
        size = self.rng.randint(20, 200) * ONE
        for k in range(1, 40):
            price = a.bids[0].price + k * tick
            if price >= ONE - tick:
                break
            bids, asks = raise_bid(a.bids, a.asks, price, size, tick)
            candidate = attrs.evolve(old, poly_a=TokenBook(bids, asks))
            if crosses_stale_only(candidate, 0):
                found = candidate
                break
        if found is None:
            return None
        self._action(at, "stall")
        self.stalls.append((at, at + self.cfg.stale_after_s + 0.5))
        self._emit(at + 0.1, game, "kalshi_a", moved_true, "walk")
        cross_at = at + self.cfg.stale_after_s
        poly_true = attrs.evolve(found, kalshi_a=moved_true.kalshi_a)
        start = self._emit(cross_at, game, "poly", poly_true, "trap")
        raw = _raw_sum(found, team, combo) or ONE
        end_at = cross_at + 0.4
        end = self._restore(end_at, game, "poly", "untrap", moved_true)
        self._action(end_at + 0.1, "resume")
        self.traps.append(Trap(game, "stale", start, end, cross_at, end_at, raw))
        return end_at + 0.1

    # -- timeline --------------------------------------------------------------------------

    def run(self) -> Plan:
        cfg = self.cfg
        stale_slots = _stale_slots(cfg)
        busy_until = [0.0] * len(self.games)
        events: list[float] = []
        t = cfg.warmup_s + self.rng.uniform(*cfg.scenario_gap_s)
        while t < cfg.duration_s:
            events.append(t)
            t += self.rng.uniform(*cfg.scenario_gap_s)
        walk_dt = 1.0 / cfg.walk_rate if cfg.walk_rate > 0 else cfg.duration_s + 1
        walk_t = walk_dt
        pending_stale = list(stale_slots)
        for start in events:
            while walk_t < start:
                held = {i for i, until in enumerate(busy_until) if until > walk_t}
                self.walk(walk_t, held)
                walk_t += walk_dt
            if pending_stale and start >= pending_stale[0][0]:
                pending_stale.pop(0)
                games = [i for i, u in enumerate(busy_until) if u <= start]
                self.rng.shuffle(games)
                for game in games:
                    end = self.stale_trap(start, game)
                    if end is not None:
                        busy_until[game] = end + cfg.cooldown_s
                        break
                continue
            if any(s <= start + max(cfg.window_s[1], cfg.trap_s) + 0.3 and start <= e + 1.0
                   for s, e in stale_slots):  # fmt: skip
                continue  # keep the stale phases (and their recovery) free of scenarios
            reach = start + max(cfg.window_s[1], cfg.trap_s) + 0.1
            if any(a <= reach and start <= b for a, b in cfg.quiet_spans):
                continue  # a scenario (and its restore) never overlaps a frozen span
            free = [i for i, until in enumerate(busy_until) if until <= start]
            if not free:
                continue
            game = self.rng.choice(free)
            if self.rng.random() < cfg.fee_trap_share:
                end = self.fee_trap(start, game)
            else:
                end = self.window(start, game)
            if end is not None:
                busy_until[game] = end + cfg.cooldown_s
        while walk_t < cfg.duration_s:
            held = {i for i, until in enumerate(busy_until) if until > walk_t}
            self.walk(walk_t, held)
            walk_t += walk_dt
        order = sorted(range(len(self.steps)), key=lambda i: (self.steps[i].at, i))
        return attrs.evolve(self._finish(order), events=self._events(stale_slots))

    def _events(self, stale_slots: list[tuple[float, float]]) -> EventPlan:
        """The event games' plan, its scenarios kept off the stale and quiet phases like
        the pairs' (its own random stream: the pairs' plan does not change)."""
        cfg = self.cfg
        if not cfg.event_games:
            return EventPlan()
        rng = random.Random(f"event-starts:{cfg.seed}")
        reach = max(cfg.window_s[1], cfg.trap_s)
        starts = []
        t = cfg.warmup_s + rng.uniform(*cfg.scenario_gap_s)
        while t < cfg.duration_s:
            near_stale = any(s <= t + reach + 0.3 and t <= e + 1.0 for s, e in stale_slots)
            frozen = any(a <= t + reach + 0.1 and t <= b for a, b in cfg.quiet_spans)
            if not near_stale and not frozen:
                starts.append(t)
            t += rng.uniform(*cfg.scenario_gap_s)
        return plan_events(
            cfg.seed,
            cfg.first_day,
            starts=starts,
            window_s=cfg.window_s,
            trap_s=cfg.trap_s,
            cooldown_s=cfg.cooldown_s,
            duration_s=cfg.duration_s,
            # each event walks about as often as a pair's game, at most 3 steps a second
            walk_rate=min(3.0, cfg.walk_rate / max(cfg.games, 1)),
            # Kalshi is stalled around a stale trap; a quiet span is frozen
            frozen=[(s - 0.5, e + 1.0) for s, e in [*stale_slots, *self.stalls]]
            + list(cfg.quiet_spans),
            stalls=[s for s in self.stalls if s[1] <= cfg.duration_s],
            stale_after_s=cfg.stale_after_s,
        )

    def _finish(self, order: list[int]) -> Plan:
        remap = {old: new for new, old in enumerate(order)}
        steps = tuple(self.steps[i] for i in order)
        windows = [
            attrs.evolve(w, open_step=remap[w.open_step], close_step=remap[w.close_step])
            for w in self.windows
        ]
        for (game, key), (o_step, o_at, opp, venue) in self.open.items():
            windows.append(
                Window(game, key[0], key[1], remap[o_step], -1, o_at, float("inf"), opp, venue)
            )
        traps = [
            attrs.evolve(t, start_step=remap[t.start_step], end_step=remap[t.end_step])
            for t in self.traps
        ]
        windows.sort(key=lambda w: (w.opened_at, w.game, w.team, w.combo))
        traps.sort(key=lambda t: t.start)
        return Plan(
            self.cfg, self.games, self.initial, steps, tuple(windows), tuple(traps), self.skipped
        )


def _kalshi_of(books: GameBooks, instrument: str) -> KalshiBook | None:
    """``books``' Kalshi book for ``instrument`` (``None`` for ``"poly"``)."""
    if instrument == "kalshi_a":
        return books.kalshi_a
    if instrument == "kalshi_b":
        return books.kalshi_b
    return None


def _mixtures_quiet(old: GameBooks, new: GameBooks) -> bool:
    """No opportunity in any mix of old and new books (venues update at different times)."""
    for mask in range(1, 7):
        mixed = GameBooks(
            new.kalshi_a if mask & 1 else old.kalshi_a,
            new.kalshi_b if mask & 2 else old.kalshi_b,
            new.poly_a if mask & 4 else old.poly_a,
        )
        if truth(mixed):
            return False
    return True


def _raw_sum(books: GameBooks, team: int, combo: str) -> int | None:
    from arbees.sim.books import pair_asks

    asks = pair_asks(books, team)
    legs = {
        "KalshiYes+PolyNo": (asks.kalshi_yes, asks.poly_no),
        "PolyYes+KalshiNo": (asks.poly_yes, asks.kalshi_no),
    }.get(combo)
    if legs is None or not legs[0] or not legs[1]:
        return None
    return legs[0][0].price + legs[1][0].price


def _stale_slots(cfg: PlanConfig) -> list[tuple[float, float]]:
    """``(start, end)`` of the stale-trap phases: one near the end, more every period."""
    if not cfg.stale_traps or cfg.duration_s < 4.5:
        return []
    length = cfg.stale_after_s + 0.6
    slots = []
    start = cfg.duration_s - length - 0.3
    while start > cfg.warmup_s + 1.0:
        slots.append((start, start + length))
        start -= cfg.stale_every_s
    return sorted(slots)


def make_plan(config: PlanConfig) -> Plan:
    """Build the whole timeline and its ground truth for ``config`` (deterministic)."""
    return _Planner(config).run()
