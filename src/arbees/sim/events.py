"""The simulator's event games: 3-way soccer, an NFL winner and an MLB total at a shared line.

Why a track of its own: these games reach the shard as *event games* (the event matcher's
:class:`~arbees.matching.events.MatchedEvent`, an assignment with ``outcomes`` and
``contracts``), not as the NBA/NHL team pairs of :mod:`arbees.sim.plan`. So their slate is
written into the fake venues' REST bodies exactly as the venues list such games (Kalshi:
three markets per soccer game, the tie among them, and one market per total line;
Gamma: one binary Yes/No market per soccer outcome, a two-token winner market, an
``Over``/``Under`` market per line, and the ``/teams`` catalogue the matcher resolves clubs
with) and flows through the real discovery, event matcher, orchestrator and shard. One total
line is listed on Kalshi only: the matcher must leave it unmatched, so nothing streams it.

The truth is the shard's own arithmetic again: every contract of an event read from the
simulator's books the way the shard reads its quotes, searched by
:func:`arbees.arb.event_opportunities` with the fee terms the orchestrator derives from the
same listings. Scenarios:

* **window** — one contract's ask falls until a cover of the event (e.g. Kalshi YES home +
  Polymarket YES draw + Polymarket YES away) pays 1-3 cents per contract after fees; after
  ``window_s`` the market goes back to its quiet book;
* **fee trap** — a contract's ask falls until a cover's best asks sum below $1 while fees
  keep every cover at or above $1;
* **depth trap** — a Polymarket contract shows a cheap ask of fewer shares than the market's
  minimum order (5): the cover looks cheap at the top of the book, but any order that can be
  placed walks into the quiet levels behind it;
* **stale trap** — during the pairs' stale-book trap (Kalshi stalled, ``stalls``), one
  Kalshi market's true YES ask rises 4 cents (queued on the stalled socket) and, once the
  shard's Kalshi copy is older than ``stale_after_s``, a Polymarket contract falls until a
  cover crosses the *old* Kalshi book only: the true books have no cover, so a signal
  there would be a signal from a stale book.

Between scenarios the books **random-walk** (``walk_rate``) as the pairs' do: each step
moves a cent of the event's fair probability from one outcome to another (at most
:data:`WALK_REACH` from where each started) and regenerates one market's book quiet around
its outcome's new probability; each venue's markets follow in their own steps, so the
venues' books move independently around the shared fair price. A walk step never
creates a cover: not in the books after it, and not in any mix the shard may hold of the
event's other markets as they were during the last :data:`IN_FLIGHT_S` seconds (each
venue's data is in flight separately), so the truth stays the books' own and any
signal outside a window is a false one. A scenario's opening move is held to the same
rule: a mix with recently walked books may show no cover the opened books lack. No walk
touches an event during its scenario and cooldown, nor during a ``frozen`` span (the
pairs' stale-book traps, when Kalshi is stalled, and their quiet spans).

Every book change touches one market; a Polymarket market whose two tokens are both
contracts (the NFL winner) reaches the shard one token at a time, so every move is checked
in that half-applied state too: it may show no cover the books before or after it lack.
Deterministic: its own ``random.Random`` derived from the seed (the walk another), so the
team-pair plan is the same with or without events.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

import attrs

from arbees.arb import ArbStats, Contract, Event, EventOpportunity, VenueTerms, event_opportunities
from arbees.book import Level, mirror_levels
from arbees.fees import KalshiFeeModel, PolymarketFeeModel, fee_terms, terms_model
from arbees.money import CENT, ONE, Fixed
from arbees.sim.books import POLY_FEE_RATE, POLY_MIN_ORDER, TICK, KalshiBook, TokenBook, tick_for
from arbees.sim.quiet import kalshi_book, lower_ask, raise_bid, token_book
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.fake_polymarket import FakePolymarket

__all__ = [
    "EVENT_TERMS",
    "EventMarket",
    "EventPlan",
    "EventStep",
    "EventTrap",
    "EventWindow",
    "SimEvent",
    "event_contracts",
    "event_truth",
    "install_events",
    "make_events",
    "plan_events",
    "raw_cover_sum",
]

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_EASTERN_OFFSET = timedelta(hours=-5)
_COUNTERS = ArbStats()  # keep the simulator's evaluations out of the process-wide counters

EVENT_TERMS: Final[Mapping[str, VenueTerms]] = {
    t.venue: VenueTerms(terms_model(t), min_order_size=t.min_order_size or 0)
    for t in (
        fee_terms("kalshi", KalshiFeeModel(multiplier=1)),
        fee_terms(
            "polymarket",
            PolymarketFeeModel(rate=POLY_FEE_RATE, exponent=1, min_order_size=POLY_MIN_ORDER),
        ),
    )
}
"""Each venue's fees and minimum order, as the orchestrator derives them from the listings."""


@attrs.frozen
class _Club:
    """A team of the event slate: Kalshi code and name, Gamma's catalogue entry."""

    code: str
    kalshi_name: str
    gamma_name: str
    alias: str


_CLUBS: Final = {
    "EPL": (
        _Club("ARS", "Arsenal", "Arsenal", "Arsenal"),
        _Club("CHE", "Chelsea", "Chelsea", "Chelsea"),
        _Club("LIV", "Liverpool", "Liverpool", "Liverpool"),
        _Club("TOT", "Tottenham", "Tottenham Hotspur", "Spurs"),
    ),
    "NFL": (
        _Club("BUF", "Buffalo", "Bills", "Buffalo"),
        _Club("KC", "Kansas City", "Chiefs", "Kansas City"),
    ),
    "MLB": (
        _Club("NYY", "New York Y", "Yankees", "New York Yankees"),
        _Club("BOS", "Boston", "Red Sox", "Boston Red Sox"),
    ),
}
_SERIES: Final = {"3-way": "KXEPLGAME", "moneyline": "KXNFLGAME", "total": "KXMLBTOTAL"}
WALK_REACH: Final = 3 * CENT
"""How far the walk takes a market's fair probability from its starting one."""
IN_FLIGHT_S: Final = 0.5
"""How long a book change may take to reach the shard, for the walk's mixes (the demo's
scoring grace)."""
TOTAL_LINE: Final = "8.5"
"""The total both venues list."""
KALSHI_ONLY_LINE: Final = "9.5"
"""A total line only Kalshi lists: reported unmatched, never streamed."""


@attrs.frozen
class EventMarket:
    """One venue market of an event.

    Attributes:
        venue: ``"kalshi"`` or ``"polymarket"``.
        instrument: the Kalshi ticker, or the Polymarket market's first token.
        mirror: the Polymarket market's second token (its book mirrors the first's).
        condition_id: the Polymarket condition id (``""`` on Kalshi).
    """

    venue: str
    instrument: str
    mirror: str = ""
    condition_id: str = ""


@attrs.frozen
class SimEvent:
    """One simulated event game.

    Attributes:
        index: position among the events.
        kind: ``"3-way"`` (soccer winner), ``"moneyline"`` (two-team winner) or ``"total"``
            (over/under at :data:`TOTAL_LINE`).
        league: ``"EPL"``, ``"NFL"`` or ``"MLB"``.
        away, home: the teams (Kalshi lists soccer home first, the others away first).
        day: the Eastern date.
        start_utc: scheduled start.
        event_ticker: the Kalshi event ticker.
        game_id: the orchestrator's id of the matched event.
        outcomes: the matched event's outcomes, in its order.
        markets: the venue markets that carry the contracts.
        contracts: ``(market index, mirror token?, outcome)`` of every contract the shard
            reads (each on both sides).
        probs: per market, the fair probability its first instrument's YES pays.
    """

    index: int
    kind: str
    league: str
    away: _Club
    home: _Club
    day: date
    start_utc: datetime
    event_ticker: str
    game_id: str
    outcomes: tuple[str, ...]
    markets: tuple[EventMarket, ...]
    contracts: tuple[tuple[int, bool, str], ...]
    probs: tuple[Fixed, ...]

    @property
    def slug(self) -> str:
        first, second = (self.home, self.away) if self.kind == "3-way" else (self.away, self.home)
        return f"{self.league.lower()}-{first.code.lower()}-{second.code.lower()}-{self.day}"


EventBooks = tuple[KalshiBook | TokenBook, ...]
"""One book per market of an event (a Polymarket market: its first token's)."""


def _token(rng: random.Random) -> str:
    return str(rng.getrandbits(240) + 10**70)


def make_events(rng: random.Random, *, day: date) -> tuple[SimEvent, ...]:
    """Two EPL games, an NFL game and an MLB total (shared line), on ``day``."""
    epl, mlb, nfl = _CLUBS["EPL"], _CLUBS["MLB"], _CLUBS["NFL"]
    plan: tuple[tuple[str, str, _Club, _Club], ...] = (
        ("3-way", "EPL", epl[1], epl[0]),
        ("total", "MLB", mlb[0], mlb[1]),
        ("3-way", "EPL", epl[3], epl[2]),
        ("moneyline", "NFL", nfl[0], nfl[1]),
    )
    out = []
    for index, (kind, league, away, home) in enumerate(plan):
        hour = 15 if league == "EPL" else 19
        start_local = datetime.combine(day, time(hour + index % 2, 0))
        start_utc = (start_local - _EASTERN_OFFSET).replace(tzinfo=UTC)
        stamp = f"{day:%y}{_MONTHS[day.month - 1]}{day:%d}"
        if kind == "total":
            stamp += f"{start_local:%H%M}"
        first, second = (home, away) if kind == "3-way" else (away, home)
        event_ticker = f"{_SERIES[kind]}-{stamp}{first.code}{second.code}"
        codes = "-".join(sorted((away.code, home.code)))
        ids = sorted((f"{league}:{away.code}", f"{league}:{home.code}"))
        markets: list[EventMarket] = []
        contracts: list[tuple[int, bool, str]] = []
        if kind == "3-way":
            outcomes: tuple[str, ...] = (ids[0], "draw", ids[1])
            p_home = rng.randint(38, 50) * CENT
            p_draw = rng.randint(24, 30) * CENT
            p_of = {f"{league}:{home.code}": p_home, "draw": p_draw}
            p_of[f"{league}:{away.code}"] = ONE - p_home - p_draw
            probs = []
            for outcome in outcomes:
                code = "TIE" if outcome == "draw" else outcome.split(":")[1]
                markets.append(EventMarket("kalshi", f"{event_ticker}-{code}"))
                contracts.append((len(markets) - 1, False, outcome))
                markets.append(EventMarket("polymarket", _token(rng), _token(rng), _condition(rng)))
                contracts.append((len(markets) - 1, False, outcome))
                probs += [p_of[outcome], p_of[outcome]]
            game_id = f"{league}:{day:%Y%m%d}:{codes}:moneyline"
        elif kind == "moneyline":
            outcomes = tuple(ids)
            p_away = rng.randint(35, 65) * CENT
            markets.append(EventMarket("kalshi", f"{event_ticker}-{away.code}"))
            markets.append(EventMarket("kalshi", f"{event_ticker}-{home.code}"))
            markets.append(EventMarket("polymarket", _token(rng), _token(rng), _condition(rng)))
            away_id, home_id = f"{league}:{away.code}", f"{league}:{home.code}"
            contracts += [(0, False, away_id), (1, False, home_id)]
            contracts += [(2, False, away_id), (2, True, home_id)]
            probs = [p_away, ONE - p_away, p_away]
            game_id = f"{league}:{day:%Y%m%d}:{codes}:moneyline"
        else:
            outcomes = ("over", "under")
            p_over = rng.randint(40, 60) * CENT
            markets.append(EventMarket("kalshi", f"{event_ticker}-{int(float(TOTAL_LINE)) + 1}"))
            markets.append(EventMarket("polymarket", _token(rng), _token(rng), _condition(rng)))
            contracts += [(0, False, "over"), (1, False, "over")]
            probs = [p_over, p_over]
            game_id = f"{league}:{day:%Y%m%d}:{codes}:total:{TOTAL_LINE}"
        out.append(
            SimEvent(
                index=index,
                kind=kind,
                league=league,
                away=away,
                home=home,
                day=day,
                start_utc=start_utc,
                event_ticker=event_ticker,
                game_id=game_id,
                outcomes=outcomes,
                markets=tuple(markets),
                contracts=tuple(contracts),
                probs=tuple(probs),
            )
        )
    return tuple(out)


def _condition(rng: random.Random) -> str:
    return "0x" + f"{rng.getrandbits(256):064x}"


# -- truth ---------------------------------------------------------------------------------


def _asks(
    event: SimEvent, books: EventBooks, market: int, mirror: bool, lagging: EventBooks | None
) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
    """``(YES asks, NO asks)`` of one contract's instrument, as the shard reads its quote.

    ``lagging``: the books the shard still holds for a Polymarket market's second token
    (the fake sends the first token's book, then the second's).
    """
    book = books[market]
    if isinstance(book, KalshiBook):
        return book.yes_asks, book.no_asks
    if mirror:
        if lagging is not None:
            old = lagging[market]
            assert isinstance(old, TokenBook)
            book = old
        return mirror_levels(book.bids), book.asks
    return book.asks, mirror_levels(book.bids)


def event_contracts(
    event: SimEvent, books: EventBooks, lagging: EventBooks | None = None
) -> list[Contract]:
    """Every contract of ``event`` with its asks (a contract without asks is left out)."""
    out = []
    for market, mirror, outcome in event.contracts:
        info = event.markets[market]
        instrument = info.mirror if mirror else info.instrument
        yes, no = _asks(event, books, market, mirror, lagging)
        for side, asks in (("yes", yes), ("no", no)):
            if asks:
                out.append(Contract(info.venue, instrument, outcome, side, asks))  # type: ignore[arg-type]
    return out


def event_truth(
    event: SimEvent, books: EventBooks, lagging: EventBooks | None = None
) -> dict[str, EventOpportunity]:
    """Every profitable cover of the event's books, by label (the shard's signal keys)."""
    found = event_opportunities(
        Event(event.outcomes),
        event_contracts(event, books, lagging),
        EVENT_TERMS,
        counters=_COUNTERS,
    )
    return {opp.label: opp for opp in found}


def raw_cover_sum(event: SimEvent, books: EventBooks) -> Fixed:
    """The cheapest cover's best asks summed, before fees and depth."""
    full = (1 << len(event.outcomes)) - 1
    index = {o: i for i, o in enumerate(event.outcomes)}
    block: dict[int, Fixed] = {}
    for c in event_contracts(event, books):
        bit = 1 << index[c.outcome]
        mask = bit if c.side == "yes" else full ^ bit
        block[mask] = min(block.get(mask, ONE * 10), c.asks[0].price)
    best: dict[int, Fixed] = {0: 0}
    for mask in range(1, full + 1):
        low = mask & -mask
        options = [
            price + best[mask ^ sub]
            for sub, price in block.items()
            if sub & low and sub & mask == sub and (mask ^ sub) in best
        ]
        if options:
            best[mask] = min(options)
    return best.get(full, ONE * 10)


# -- timeline ------------------------------------------------------------------------------


@attrs.frozen
class EventStep:
    """One event market's new book at ``at``.

    Attributes:
        at: seconds from the start of playback.
        event: index among the events.
        market: index among the event's markets.
        book: the new book (a Polymarket market: its first token's).
        action: ``"walk"``, ``"open"``, ``"close"``, ``"trap"``, ``"untrap"``, or
            ``"stale"`` (a stale trap's Kalshi move, queued while Kalshi is stalled).
    """

    at: float
    event: int
    market: int
    book: KalshiBook | TokenBook
    action: str


@attrs.frozen
class EventWindow:
    """One cover's life in the event's true books.

    Attributes:
        event: index among the events.
        label: the cover's label (the signal's ``combo``).
        open_step, close_step: indexes into the event steps (-1: open at the end).
        opened_at, closed_at: their times (seconds).
        opportunity: the cover right after opening.
    """

    event: int
    label: str
    open_step: int
    close_step: int
    opened_at: float
    closed_at: float
    opportunity: EventOpportunity


@attrs.frozen
class EventTrap:
    """A stretch where a cover looks cheap at the top of the book but pays nothing.

    Attributes:
        event: index among the events.
        kind: ``"fees"``, ``"depth"`` or ``"stale"``.
        start_step, end_step: the event steps that set it up and removed it.
        start, end: their times (seconds).
        raw_sum: the cheapest cover's best asks summed (below $1); a stale trap: in the
            books the shard last got from Kalshi before it stalled.
    """

    event: int
    kind: str
    start_step: int
    end_step: int
    start: float
    end: float
    raw_sum: Fixed


@attrs.frozen
class EventPlan:
    """The event games' slate, starting books, timeline and truth.

    Attributes:
        events: the slate.
        initial: each event's books at time 0.
        steps: book changes in time order.
        windows: every cover interval of the true books.
        traps: every trap.
        skipped_walks: walk steps dropped because every try would have shown a cover.
    """

    events: tuple[SimEvent, ...] = ()
    initial: tuple[EventBooks, ...] = ()
    steps: tuple[EventStep, ...] = ()
    windows: tuple[EventWindow, ...] = ()
    traps: tuple[EventTrap, ...] = ()
    skipped_walks: int = 0


def _three_yes(opp: EventOpportunity) -> bool:
    """A cover buying YES on three outcomes, on both venues."""
    yes = [leg for leg in opp.legs if leg.side == "yes"]
    return len(yes) == len(opp.legs) == 3 and len({leg.venue for leg in yes}) == 2


def _fair(event: SimEvent) -> dict[str, Fixed]:
    """Each outcome's fair probability, from the event's markets (they sum to $1)."""
    fair = {o: event.probs[m] for m, mirror, o in event.contracts if not mirror}
    missing = [o for o in event.outcomes if o not in fair]
    for outcome in missing:  # the total's "under": no contract of its own
        fair[outcome] = ONE - sum(fair.values())
    return fair


def _quiet_books(event: SimEvent, rng: random.Random) -> EventBooks:
    for _ in range(200):
        books: EventBooks = tuple(
            kalshi_book(p, rng) if m.venue == "kalshi" else token_book(p, rng)
            for m, p in zip(event.markets, event.probs, strict=True)
        )
        if raw_cover_sum(event, books) >= ONE + 2 * CENT and not event_truth(event, books):
            return books
    raise AssertionError(f"no quiet books for {event.game_id}")  # pragma: no cover


def _cheapen(
    book: KalshiBook | TokenBook, mirror: bool, side: str, k: int, size: Fixed
) -> KalshiBook | TokenBook | None:
    """``book`` with the ask of one contract (its ``side`` of the first token, or of the
    mirror token) ``k`` ticks lower at ``size``; ``None`` past the price range."""
    if isinstance(book, KalshiBook):
        # YES ask = 1 - best NO bid: raise the NO bid (and the reverse for NO).
        raise_no = side == "yes"
        own = book.no_bids if raise_no else book.yes_bids
        other = book.yes_bids if raise_no else book.no_bids
        price = own[0].price + k * TICK
        if price >= ONE - TICK:
            return None
        bids = raise_bid(own, (), price, size, TICK)[0]
        kept = tuple(lvl for lvl in other if lvl.price + price < ONE - TICK)
        return KalshiBook(yes_bids=kept, no_bids=bids) if raise_no else KalshiBook(bids, kept)
    # First token: YES ask = its ask, NO ask = 1 - its bid. Mirror token: the reverse.
    lower = (side == "yes") != mirror
    if lower:
        tick = tick_for(book.asks[0].price)
        price = book.asks[0].price - k * tick
        if price <= tick:
            return None
        bids, asks = lower_ask(book.bids, book.asks, price, size, tick)
    else:
        tick = tick_for(book.bids[0].price)
        price = book.bids[0].price + k * tick
        if price >= ONE - tick:
            return None
        bids, asks = raise_bid(book.bids, book.asks, price, size, tick)
    if not bids or not asks:
        return None
    return TokenBook(bids, asks)


class _EventPlanner:
    def __init__(self, seed: int, day: date) -> None:
        self.rng = random.Random(f"events:{seed}")
        self.events = make_events(self.rng, day=day)
        self.books = [_quiet_books(e, self.rng) for e in self.events]
        self.initial = tuple(self.books)
        self.steps: list[EventStep] = []
        self.truth: list[dict[str, EventOpportunity]] = [{} for _ in self.events]
        self.open: dict[tuple[int, str], tuple[int, float, EventOpportunity]] = {}
        self.windows: list[EventWindow] = []
        self.traps: list[EventTrap] = []
        self.walk_rng = random.Random(f"event-walk:{seed}")
        self.fair = [_fair(e) for e in self.events]
        self.start_fair = [dict(f) for f in self.fair]
        # per event and market: (time, book) of every book it had, oldest first
        self.history: list[list[list[tuple[float, KalshiBook | TokenBook]]]] = [
            [[(0.0, book)] for book in books] for books in self.books
        ]
        self.skipped_walks = 0

    def _with(self, event: int, market: int, book: KalshiBook | TokenBook) -> EventBooks:
        books = list(self.books[event])
        books[market] = book
        return tuple(books)

    def _halfway_ok(self, event: int, market: int, before: EventBooks, after: EventBooks) -> bool:
        """No cover shows while only the first token of a two-token market has changed
        that the books before or after the change lack."""
        ev = self.events[event]
        if not any(m == market and mirror for m, mirror, _ in ev.contracts):
            return True
        halfway = event_truth(ev, after, lagging=before)
        return halfway.keys() <= event_truth(ev, before).keys() | event_truth(ev, after).keys()

    def _mixes(self, at: float, event: int, market: int, books: EventBooks) -> Iterator[EventBooks]:
        """``books`` with every other market as the shard may still hold it at ``at``: its
        book at ``at - IN_FLIGHT_S`` or any book it got since."""
        options: list[list[KalshiBook | TokenBook]] = []
        for m, history in enumerate(self.history[event]):
            if m == market:
                options.append([books[m]])
                continue
            recent = [b for t, b in history if t > at - IN_FLIGHT_S]
            older = [b for t, b in history if t <= at - IN_FLIGHT_S]
            options.append((older[-1:] + recent) or [books[m]])
        for mix in itertools.product(*options):
            if mix != books:
                yield mix

    def _mixes_ok(self, at: float, event: int, market: int, books: EventBooks) -> bool:
        """No mix of ``books`` with the other markets' recent books shows a cover
        ``books`` lack."""
        ev = self.events[event]
        allowed = event_truth(ev, books).keys()
        return all(
            event_truth(ev, mix).keys() <= allowed for mix in self._mixes(at, event, market, books)
        )

    def walk(self, at: float, event: int) -> None:
        """A cent of ``event``'s fair probability moved between two outcomes, and one
        market's book regenerated quiet around its outcome's probability."""
        rng = self.walk_rng
        ev = self.events[event]
        fair, start = self.fair[event], self.start_fair[event]
        market = rng.randrange(len(ev.markets))
        outcome = next(o for m, mirror, o in ev.contracts if m == market and not mirror)
        other = rng.choice([o for o in ev.outcomes if o != outcome])
        step = rng.choice((-1, 1)) * CENT
        moved = {outcome: fair[outcome] + step, other: fair[other] - step}
        if all(
            abs(p - start[o]) <= WALK_REACH and 3 * CENT <= p <= ONE - 3 * CENT
            for o, p in moved.items()
        ):
            fair.update(moved)
        p = fair[outcome]
        old = self.books[event]
        for _ in range(3):
            kind = ev.markets[market].venue
            book = kalshi_book(p, rng) if kind == "kalshi" else token_book(p, rng)
            new = self._with(event, market, book)
            if (
                raw_cover_sum(ev, new) >= ONE + 2 * CENT
                and not event_truth(ev, new)
                and self._halfway_ok(event, market, old, new)
                and self._halfway_ok(event, market, new, old)
                and self._mixes_ok(at, event, market, new)
            ):
                self._emit(at, event, market, new, "walk")
                return
        self.skipped_walks += 1

    def _emit(self, at: float, event: int, market: int, books: EventBooks, action: str) -> int:
        self.steps.append(EventStep(at, event, market, books[market], action))
        self.history[event][market].append((at, books[market]))
        index = len(self.steps) - 1
        self.books[event] = books
        now = event_truth(self.events[event], books)
        before = self.truth[event]
        for label in before.keys() - now.keys():
            o_step, o_at, opp = self.open.pop((event, label))
            self.windows.append(EventWindow(event, label, o_step, index, o_at, at, opp))
        for label in now.keys() - before.keys():
            self.open[(event, label)] = (index, at, now[label])
        self.truth[event] = now
        return index

    def _move(
        self, at: float, event: int, kind: str, edge: Fixed, *, three_yes: bool = False
    ) -> tuple[int, EventBooks, Fixed] | None:
        """One contract made cheaper until the books show a ``kind`` scenario (with
        ``three_yes``: a window that has a cover of YES on every outcome across venues)."""
        ev = self.events[event]
        old = self.books[event]
        choices = [
            (m, mirror, side)
            for m, mirror, _ in ev.contracts
            for side in ("yes", "no")
            if kind != "depth" or ev.markets[m].venue == "polymarket"
        ]
        self.rng.shuffle(choices)
        for market, mirror, side in choices[:6]:
            if kind == "depth":
                size = self.rng.randint(1, POLY_MIN_ORDER // ONE - 1) * ONE
            else:
                size = self.rng.randint(20, 200) * ONE
            for k in range(1, 40):
                book = _cheapen(old[market], mirror, side, k, size)
                if book is None:
                    break
                new = self._with(event, market, book)
                raw = raw_cover_sum(ev, new)
                found = event_truth(ev, new)
                if kind == "window":
                    ok = bool(found) and max(o.edge_per_contract for o in found.values()) >= edge
                    ok = ok and (not three_yes or any(map(_three_yes, found.values())))
                else:
                    ok = raw < ONE and not found
                if ok:
                    if (
                        self._halfway_ok(event, market, old, new)
                        and self._halfway_ok(event, market, new, old)
                        and self._mixes_ok(at, event, market, new)
                    ):
                        return market, new, raw
                    break
                if found and kind != "window":
                    break  # past a trap's range: lower is an opportunity
        return None

    def scenario(self, at: float, event: int, kind: str, length: float) -> float | None:
        edge = self.rng.randint(1, 3) * CENT
        ev = self.events[event]
        # a soccer game's first window: a cover YES on home, draw and away across venues
        # (with walked books a two-leg cover of one outcome is often cheaper)
        first = not any(w.event == event for w in self.windows) and not any(
            e == event for e, _ in self.open
        )
        three_yes = kind == "window" and ev.kind == "3-way" and first
        moved = self._move(at, event, kind, edge, three_yes=three_yes)
        if moved is None:
            return None
        market, books, raw = moved
        before = self.books[event]
        start = self._emit(at, event, market, books, "open" if kind == "window" else "trap")
        end_at = at + length
        end = self._emit(end_at, event, market, before, "close" if kind == "window" else "untrap")
        if kind != "window":
            self.traps.append(EventTrap(event, kind, start, end, at, end_at, raw))
        return end_at

    def stale_trap(self, stall_at: float, stale_after_s: float, event: int) -> float | None:
        """Raise one Kalshi market's true YES ask while Kalshi is stalled, then cross its
        stale copy only with a Polymarket contract; returns the end of the trap."""
        ev = self.events[event]
        old = self.books[event]
        kalshi = [m for m, info in enumerate(ev.markets) if info.venue == "kalshi"]
        poly = [
            (m, mirror, side)
            for m, mirror, _ in ev.contracts
            if ev.markets[m].venue == "polymarket"
            for side in ("yes", "no")
        ]
        self.rng.shuffle(kalshi)
        self.rng.shuffle(poly)
        size = self.rng.randint(20, 200) * ONE
        for k_market in kalshi:
            book = old[k_market]
            assert isinstance(book, KalshiBook)
            drop = 4 * CENT
            no_bids = tuple(
                Level(lvl.price - drop, lvl.size) for lvl in book.no_bids if lvl.price > drop
            )
            moved = self._with(event, k_market, KalshiBook(book.yes_bids, no_bids))
            if event_truth(ev, moved):
                continue
            for market, mirror, side in poly:
                for k in range(1, 40):
                    cheap = _cheapen(old[market], mirror, side, k, size)
                    if cheap is None:
                        break
                    stale = list(old)
                    stale[market] = cheap
                    true = list(moved)
                    true[market] = cheap
                    if event_truth(ev, tuple(true)):
                        break  # past the trap's range: the true books have a cover
                    seen = event_truth(ev, tuple(stale))
                    if not seen or max(o.edge_per_contract for o in seen.values()) < CENT:
                        continue
                    if not (
                        self._halfway_ok(event, market, moved, tuple(true))
                        and self._halfway_ok(event, market, tuple(true), moved)
                    ):
                        break
                    self._emit(stall_at + 0.1, event, k_market, moved, "stale")
                    cross_at = stall_at + stale_after_s
                    start = self._emit(cross_at, event, market, tuple(true), "trap")
                    end_at = cross_at + 0.4
                    end = self._emit(end_at, event, market, moved, "untrap")
                    raw = raw_cover_sum(ev, tuple(stale))
                    self.traps.append(EventTrap(event, "stale", start, end, cross_at, end_at, raw))
                    return end_at
        return None

    def finish(self) -> EventPlan:
        order = sorted(range(len(self.steps)), key=lambda i: (self.steps[i].at, i))
        remap = {old: new for new, old in enumerate(order)}
        windows = [
            attrs.evolve(w, open_step=remap[w.open_step], close_step=remap[w.close_step])
            for w in self.windows
        ]
        for (event, label), (o_step, o_at, opp) in self.open.items():
            windows.append(EventWindow(event, label, remap[o_step], -1, o_at, float("inf"), opp))
        traps = [
            attrs.evolve(t, start_step=remap[t.start_step], end_step=remap[t.end_step])
            for t in self.traps
        ]
        windows.sort(key=lambda w: (w.opened_at, w.event, w.label))
        traps.sort(key=lambda t: t.start)
        return EventPlan(
            self.events,
            self.initial,
            tuple(self.steps[i] for i in order),
            tuple(windows),
            tuple(traps),
            self.skipped_walks,
        )


# The first scenario of each event (a 5 s demo has time for about one each), then random.
_FIRST: Final = ("window", "window", "fees", "window")


def plan_events(
    seed: int,
    day: date,
    *,
    starts: Sequence[float],
    window_s: tuple[float, float],
    trap_s: float,
    cooldown_s: float,
    duration_s: float = 0.0,
    walk_rate: float = 0.0,
    frozen: Sequence[tuple[float, float]] = (),
    stalls: Sequence[tuple[float, float]] = (),
    stale_after_s: float = 0.0,
) -> EventPlan:
    """The event games' plan: a scenario at each of ``starts`` (seconds) on a free event;
    until ``duration_s``, ``walk_rate`` walk steps per second and event between them, none
    during a ``frozen`` span; a stale trap on a free event during each of ``stalls`` (the
    pairs' Kalshi ``(stall, resume)`` times)."""
    planner = _EventPlanner(seed, day)
    rng = planner.rng
    busy_until = [0.0] * len(planner.events)
    played = [0] * len(planner.events)
    walk_dt = 1.0 / (walk_rate * len(planner.events)) if walk_rate > 0 else math.inf
    walk_t = walk_dt

    def walk_until(t: float) -> None:
        nonlocal walk_t
        while walk_t < t:
            free = [i for i, until in enumerate(busy_until) if until <= walk_t]
            if free and not any(a <= walk_t <= b for a, b in frozen):
                planner.walk(walk_t, planner.walk_rng.choice(free))
            walk_t += walk_dt

    pending = sorted(stalls)

    def stale_traps_until(t: float) -> None:
        while pending and pending[0][0] <= t:
            stall_at, resume_at = pending.pop(0)
            walk_until(stall_at)
            free = [i for i, until in enumerate(busy_until) if until <= stall_at]
            rng.shuffle(free)
            for event in free:
                if planner.stale_trap(stall_at, stale_after_s, event) is not None:
                    busy_until[event] = resume_at + cooldown_s
                    break

    for start in starts:
        stale_traps_until(start)
        walk_until(start)
        free = [i for i, until in enumerate(busy_until) if until <= start]
        if not free:
            continue
        event = min(free, key=lambda i: (played[i], i))
        if played[event] == 0:
            kind = _FIRST[event % len(_FIRST)]
        else:
            kind = rng.choice(("window", "window", "fees", "depth"))
        length = rng.uniform(*window_s) if kind == "window" else trap_s
        end = planner.scenario(start, event, kind, length)
        played[event] += 1
        if end is not None:
            busy_until[event] = end + cooldown_s
    stale_traps_until(duration_s)
    walk_until(duration_s)
    return planner.finish()


# -- discovery -------------------------------------------------------------------------------


def _gamma_market(
    ev: SimEvent,
    market: EventMarket,
    *,
    index: int,
    question: str,
    outcomes: tuple[str, str],
    slug: str,
    sports_type: str,
    group_title: str = "",
    line: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(760000 + ev.index * 10 + index),
        "question": question,
        "conditionId": market.condition_id,
        "slug": slug,
        "outcomes": json.dumps(list(outcomes)),
        "outcomePrices": json.dumps(["0.5", "0.5"]),
        "clobTokenIds": json.dumps([market.instrument, market.mirror]),
        "active": True,
        "closed": False,
        "enableOrderBook": True,
        "negRisk": ev.kind == "3-way",
        "groupItemTitle": group_title,
        "orderPriceMinTickSize": 0.01,
        "orderMinSize": POLY_MIN_ORDER // ONE,
        "sportsMarketType": sports_type,
        "gameStartTime": ev.start_utc.strftime("%Y-%m-%d %H:%M:%S+00"),
        "feesEnabled": True,
        "feeType": "sports_fees_v2",
        "feeSchedule": {"rate": float(POLY_FEE_RATE), "exponent": 1, "takerOnly": True},
    }
    if line is not None:
        out["line"] = float(line)
    return out


def gamma_event(ev: SimEvent) -> dict[str, Any]:
    """The Gamma ``/events`` entry of one event game (as the fixtures of
    ``tests/data/matching/leagues`` list such games)."""
    slug = ev.slug
    poly = [m for m in ev.markets if m.venue == "polymarket"]
    poly_of = {o: ev.markets[m] for m, _, o in ev.contracts if ev.markets[m].venue == "polymarket"}
    names = f"{ev.home.gamma_name} vs. {ev.away.gamma_name}"
    if ev.kind == "3-way":
        title = names
        markets = [
            _gamma_market(
                ev,
                poly_of[outcome],
                index=i,
                question=question,
                outcomes=("Yes", "No"),
                slug=f"{slug}-{suffix}",
                sports_type="moneyline",
                group_title=group,
            )
            for i, (outcome, question, suffix, group) in enumerate(
                (
                    (
                        f"{ev.league}:{ev.home.code}",
                        f"Will {ev.home.gamma_name} win on {ev.day}?",
                        "home",
                        ev.home.gamma_name,
                    ),
                    ("draw", f"Will {names} end in a draw?", "draw", f"Draw ({names})"),
                    (
                        f"{ev.league}:{ev.away.code}",
                        f"Will {ev.away.gamma_name} win on {ev.day}?",
                        "away",
                        ev.away.gamma_name,
                    ),
                )
            )
        ]
    elif ev.kind == "moneyline":
        title = f"{ev.away.gamma_name} vs. {ev.home.gamma_name}"
        markets = [
            _gamma_market(
                ev,
                poly[0],
                index=0,
                question=title,
                outcomes=(ev.away.gamma_name, ev.home.gamma_name),
                slug=slug,
                sports_type="moneyline",
            )
        ]
    else:
        title = f"{ev.away.gamma_name} vs. {ev.home.gamma_name}"
        line = TOTAL_LINE.replace(".", "pt")
        markets = [
            _gamma_market(
                ev,
                poly[0],
                index=0,
                question=f"{title}: O/U {TOTAL_LINE}",
                outcomes=("Over", "Under"),
                slug=f"{slug}-total-{line}",
                sports_type="totals",
                line=TOTAL_LINE,
            )
        ]
    league = ev.league.lower()
    return {
        "id": str(960000 + ev.index),
        "ticker": slug,
        "slug": slug,
        "title": title,
        "active": True,
        "closed": False,
        "negRisk": ev.kind == "3-way",
        "tags": [
            {"id": "1", "label": "Sports", "slug": "sports"},
            {"id": str(300 + ev.index), "label": ev.league, "slug": league},
        ],
        "seriesSlug": league,
        "gameId": 95000 + ev.index,
        "startTime": ev.start_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventDate": str(ev.day),
        "markets": markets,
    }


def _gamma_teams(events: Sequence[SimEvent]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for ev in events:
        for club in (ev.away, ev.home):
            seen.setdefault(
                (ev.league, club.code),
                {
                    "id": 5000 + len(seen),
                    "name": club.gamma_name,
                    "league": ev.league.lower(),
                    "record": "",
                    "logo": "",
                    "abbreviation": club.code.lower(),
                    "alias": club.alias,
                    "createdAt": "2025-08-01T00:00:00Z",
                    "updatedAt": "2026-11-30T00:00:00Z",
                },
            )
    return list(seen.values())


def install_events(events: Sequence[SimEvent], kalshi: FakeKalshi, poly: FakePolymarket) -> None:
    """Publish the event games on both fakes' REST/Gamma endpoints (books set separately)."""
    for series in sorted({_SERIES[e.kind] for e in events}):
        kalshi.add_series(series, fee_multiplier=1)
    for ev in events:
        series = _SERIES[ev.kind]
        if ev.kind == "3-way":
            title = f"{ev.home.kalshi_name} vs {ev.away.kalshi_name}"
        else:
            title = f"{ev.away.kalshi_name} at {ev.home.kalshi_name}"
        if ev.kind == "total":
            kalshi.event_titles[ev.event_ticker] = f"{title}: Total Runs"
            for line in (TOTAL_LINE, KALSHI_ONLY_LINE):
                ticker = f"{ev.event_ticker}-{int(float(line)) + 1}"
                kalshi.add_market(
                    ticker,
                    event_ticker=ev.event_ticker,
                    series_ticker=series,
                    title=f"{title}: Over {line} runs?",
                    yes_sub_title=f"Over {line} runs scored",
                    no_sub_title=f"Over {line} runs scored",
                    strike_type="greater",
                    floor_strike=line,
                )
        else:
            kalshi.event_titles[ev.event_ticker] = title
            for market in ev.markets:
                if market.venue != "kalshi":
                    continue
                code = market.instrument.rsplit("-", 1)[1]
                club = ev.home if code == ev.home.code else ev.away
                name = "Tie" if code == "TIE" else club.kalshi_name
                kalshi.add_market(
                    market.instrument,
                    event_ticker=ev.event_ticker,
                    series_ticker=series,
                    title=f"{title} Winner?",
                    yes_sub_title=name,
                    no_sub_title=name,
                )
        event = gamma_event(ev)
        poly.events.append(event)
        poly.markets.extend(event["markets"])
    poly.teams.extend(_gamma_teams(events))
