"""The shard engine on an event game: 3-outcome soccer covered across venues, scanned by
the event kernel, searched exactly where it flags; bad event assignments are refused."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from arbees.book import Level
from arbees.bus import open_bus
from arbees.bus.memory import MemoryBus
from arbees.errors import ConfigError
from arbees.fees import kalshi_fee, polymarket_fee
from arbees.messages import (
    GAME_ASSIGNMENTS_HASH,
    Channel,
    EventContract,
    MarketAssignment,
    SystemAlert,
    TeamLeg,
)
from arbees.money import ONE, parse_fixed
from arbees.services.quotes import Quote
from arbees.services.shard import GameShard, open_game_shard
from arbees.services.shard_engine import ShardEngine
from tests.fee_terms import with_pair_terms
from tests.services.test_shard_isolation import ScriptedSource

SEC = 1_000_000_000
OUTCOMES = ("home", "draw", "away")
KALSHI = {o: f"KXEPLGAME-26DEC06ARSCHE-{o.upper()}" for o in OUTCOMES}
POLY = {o: str(1000 + i) * 10 for i, o in enumerate(OUTCOMES)}  # each outcome's YES token
LABEL = "kalshi YES home + polymarket YES draw + polymarket YES away"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000 * SEC

    def __call__(self) -> int:
        return self.now


def p(text: str) -> int:
    return parse_fixed(text)


def contracts() -> tuple[EventContract, ...]:
    out = []
    for o in OUTCOMES:
        for venue, instrument in (("kalshi", KALSHI[o]), ("polymarket", POLY[o])):
            out += [EventContract(venue, instrument, o, side) for side in ("yes", "no")]
    return tuple(out)


def soccer(**kw: object) -> MarketAssignment:
    fields: dict[str, object] = {
        "platform": "kalshi",
        "market_id": "KXEPLGAME-26DEC06ARSCHE",
        "token_id": "",
        "shard_id": "s1",
        "sport": "EPL",
        "game_id": "epl-1",
        "poly_fee_rate": "0.05",
        "epoch": 1,
        "outcomes": OUTCOMES,
        "contracts": contracts(),
    }
    fields.update(kw)
    return MarketAssignment(**with_pair_terms(fields))


def quote(clock: Clock, venue: str, outcome: str, yes: str, no: str, size: int = 100) -> Quote:
    instrument = KALSHI[outcome] if venue == "kalshi" else POLY[outcome]
    return Quote(
        venue=venue,
        instrument=instrument,
        yes_asks=(Level(p(yes), size * ONE),),
        no_asks=(Level(p(no), size * ONE),),
        stale=False,
        received_ns=clock.now,
    )


# (YES ask, NO ask) per outcome. Every cover's best asks sum to $1.00 or more, so far that
# the kernel flags none (its margin is 3 x LEG_MARGIN). Polymarket's draw at 0.26 opens one:
# Kalshi YES home 0.40 + Polymarket YES draw 0.26 + Polymarket YES away 0.28 = 0.94.
QUIET_K = {"home": ("0.40", "0.64"), "draw": ("0.34", "0.76"), "away": ("0.34", "0.74")}
QUIET_P = {"home": ("0.44", "0.62"), "draw": ("0.32", "0.70"), "away": ("0.28", "0.76")}
OPEN_DRAW = ("0.26", "0.76")


def engine() -> tuple[ShardEngine, Clock]:
    clock = Clock()
    eng = ShardEngine("s1", max_age_ns=2 * SEC, clock=clock)
    delta = eng.apply(soccer())
    assert delta.rejected == ""
    assert set(delta.add["kalshi"]) == set(KALSHI.values())
    assert set(delta.add["polymarket"]) == set(POLY.values())
    assert eng.game_ids() == ["epl-1"]
    return eng, clock


def quiet(eng: ShardEngine, clock: Clock) -> None:
    batch = [quote(clock, "kalshi", o, *QUIET_K[o]) for o in OUTCOMES]
    batch += [quote(clock, "polymarket", o, *QUIET_P[o], size=80) for o in OUTCOMES]
    assert eng.on_quotes(batch) == []


def test_quiet_books_are_scanned_by_the_kernel_and_never_walked() -> None:
    eng, clock = engine()
    quiet(eng, clock)
    assert (eng.stats.kernel_batches, eng.stats.kernel_scanned) == (1, 1)
    assert eng.stats.kernel_flagged == 0
    assert eng.stats.evaluations == 0


def test_a_three_leg_cover_opens_one_signal_with_exact_legs_and_profit() -> None:
    eng, clock = engine()
    quiet(eng, clock)
    (sig,) = eng.on_quote(quote(clock, "polymarket", "draw", *OPEN_DRAW))
    assert (sig.event, sig.combo, sig.team, sig.game_id) == ("open", LABEL, "", "epl-1")
    assert eng.stats.kernel_flagged == 1
    size = 80 * ONE  # Polymarket away offers 80
    legs = [(leg.venue, leg.instrument, leg.side, leg.outcome, leg.price) for leg in sig.legs]
    assert legs == [
        ("kalshi", KALSHI["home"], "yes", "home", p("0.40")),
        ("polymarket", POLY["draw"], "yes", "draw", p("0.26")),
        ("polymarket", POLY["away"], "yes", "away", p("0.28")),
    ]
    fees = [
        kalshi_fee(p("0.40"), size),
        polymarket_fee(p("0.26"), size, rate=Decimal("0.05")),
        polymarket_fee(p("0.28"), size, rate=Decimal("0.05")),
    ]
    assert fees == [p("1.35"), p("0.7696"), p("0.8064")]
    assert [leg.fee for leg in sig.legs] == fees
    assert all(leg.size == size for leg in sig.legs)
    assert sig.size == size
    assert sig.fees == sum(fees)
    assert sig.cost == p("75.2") + sum(fees)
    assert sig.profit == p("1.874") == size - sig.cost
    assert sig.edge == p("0.023425")
    # The same books again: no spam. The draw back to 0.30: the cover closes.
    assert eng.on_quote(quote(clock, "polymarket", "draw", *OPEN_DRAW)) == []
    (close,) = eng.on_quote(quote(clock, "polymarket", "draw", *QUIET_P["draw"]))
    assert (close.event, close.signal_id, close.combo) == ("close", sig.signal_id, LABEL)
    assert eng.open_signals() == []


def test_a_stale_leg_closes_the_cover_and_it_reopens_when_confirmed() -> None:
    eng, clock = engine()
    quiet(eng, clock)
    (sig,) = eng.on_quote(quote(clock, "polymarket", "draw", *OPEN_DRAW))
    clock.now += 3 * SEC  # nothing confirmed the quotes for longer than max_age
    (close,) = eng.sweep()
    assert (close.event, close.signal_id) == ("close", sig.signal_id)
    assert eng.set_alive("kalshi", clock.now) == []  # Polymarket is still unconfirmed
    (again,) = eng.set_alive("polymarket", clock.now)
    assert (again.event, again.combo) == ("open", LABEL)
    assert again.signal_id != sig.signal_id


def test_leg_asks_and_fees_of_an_event_signal() -> None:
    eng, clock = engine()
    quiet(eng, clock)
    (sig,) = eng.on_quote(quote(clock, "polymarket", "draw", *OPEN_DRAW))
    books = eng.leg_asks(sig)
    assert books is not None
    assert [ladder[0].price for ladder in books] == [p("0.40"), p("0.26"), p("0.28")]
    assert set(eng.venue_terms("epl-1") or {}) == {"kalshi", "polymarket"}


def test_unassign_closes_open_covers_and_unwatches_every_instrument() -> None:
    eng, clock = engine()
    quiet(eng, clock)
    (sig,) = eng.on_quote(quote(clock, "polymarket", "draw", *OPEN_DRAW))
    delta = eng.apply(soccer(action="unassign", epoch=2))
    assert [(s.event, s.signal_id) for s in delta.signals] == [("close", sig.signal_id)]
    assert set(delta.remove["kalshi"]) == set(KALSHI.values())
    assert set(delta.remove["polymarket"]) == set(POLY.values())
    assert eng.game_ids() == []
    assert list(eng.watched("kalshi")) == []


def test_a_binary_game_and_an_event_game_run_side_by_side() -> None:
    eng, clock = engine()
    teams = (TeamLeg("NBA:OKC", "KX-OKC", "111"), TeamLeg("NBA:SAS", "KX-SAS", "222"))
    pair = soccer(game_id="nba-1", outcomes=(), contracts=(), teams=teams)
    assert set(eng.apply(pair).add.get("kalshi", ())) == {"KX-OKC", "KX-SAS"}
    assert eng.game_ids() == ["epl-1", "nba-1"]
    quiet(eng, clock)
    (sig,) = eng.on_quote(quote(clock, "polymarket", "draw", *OPEN_DRAW))
    assert sig.game_id == "epl-1"


BAD = [
    ("one outcome", {"outcomes": ("home",)}, "2 to 3 outcomes"),
    ("four outcomes", {"outcomes": ("a", "b", "c", "d")}, "2 to 3 outcomes"),
    ("repeated outcome", {"outcomes": ("home", "home", "away")}, "repeat"),
    ("no contracts", {"contracts": ()}, "without contracts"),
    ("teams too", {"teams": (TeamLeg("x", "KX-X", "1"),)}, "not teams"),
    (
        "unknown outcome",
        {"contracts": (EventContract("kalshi", "KX-H", "win", "yes"),)},
        "no outcome",
    ),
    (
        "twice",
        {"contracts": (EventContract("kalshi", "KX-H", "home", "yes"),) * 2},
        "twice",
    ),
    (
        "a venue without fee terms",
        {"contracts": (EventContract("betfair", "1.23", "home", "yes"),)},
        "no fee terms",
    ),
    (
        "not a token",
        {"contracts": (EventContract("polymarket", "tok", "home", "yes"),)},
        "not a polymarket instrument",
    ),
    (
        "five on one side of an outcome",
        {"contracts": tuple(EventContract("kalshi", f"K{i}", "home", "yes") for i in range(5))},
        "over 4 contracts",
    ),
    ("unusable fee", {"poly_fee_rate": "NaN"}, "fee"),
]


@pytest.mark.parametrize(("changes", "why"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_event_assignment_is_counted_and_refused_never_a_crash(
    changes: dict[str, object], why: str
) -> None:
    eng, _ = engine()
    delta = eng.apply(soccer(game_id="epl-2", **changes))
    assert why in delta.rejected
    assert delta.add == {}
    assert eng.stats.rejected_assignments == 1
    assert eng.game_ids() == ["epl-1"]  # every other game keeps running


def test_a_refused_update_of_a_running_event_game_stops_it() -> None:
    eng, _ = engine()
    delta = eng.apply(soccer(epoch=2, outcomes=("home", "away", "home")))
    assert "repeat" in delta.rejected
    assert eng.game_ids() == []
    assert set(delta.remove["polymarket"]) == set(POLY.values())


def test_same_instruments_new_epoch_keeps_watching() -> None:
    eng, _ = engine()
    swapped = tuple(attrs.evolve(c, side="yes") for c in contracts() if c.side == "yes")
    delta = eng.apply(soccer(epoch=2, contracts=swapped))
    assert (delta.add, delta.remove, delta.rejected) == ({}, {}, "")
    assert eng.events["epl-1"].epoch == 2


async def test_the_shard_sends_each_venue_its_instruments_and_refuses_bad_events() -> None:
    """The shard's sources are keyed by venue id: an event game's Kalshi markets go to the
    Kalshi source, its tokens to the Polymarket one; a bad event assignment is counted,
    alerted and dropped while the good one runs."""
    kalshi, poly = ScriptedSource("kalshi"), ScriptedSource("polymarket")
    async with open_bus("memory://") as bus, bus.subscribe(Channel.SYSTEM_ALERTS) as alerts:
        await bus.hset(GAME_ASSIGNMENTS_HASH, "epl-1", soccer())
        bad = soccer(game_id="epl-2", outcomes=("home", "away"))  # draw contracts: no outcome
        await bus.hset(GAME_ASSIGNMENTS_HASH, "epl-2", bad)
        eng = ShardEngine("s1")
        async with open_game_shard(bus, eng, kalshi, poly) as shard:
            assert kalshi.added == set(KALSHI.values())
            assert poly.added == set(POLY.values())
            assert eng.game_ids() == ["epl-1"]
            assert shard.stats.rejected_assignments == 1
            alert = (await alerts.__anext__()).message
            assert isinstance(alert, SystemAlert)
            assert "no outcome" in alert.error


def test_two_sources_for_one_venue_are_refused() -> None:
    with pytest.raises(ConfigError, match="one venue"):
        GameShard(
            MemoryBus(), ShardEngine("s1"), ScriptedSource("kalshi"), ScriptedSource("kalshi")
        )
