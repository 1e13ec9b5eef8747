"""The shard engine under overload: a price is as old as its venue says, and while the
process lags no signal opens until its books are confirmed fresh again."""

from __future__ import annotations

import attrs

from arbees.bus.memory import MemoryBus
from arbees.obs.metrics import Registry
from arbees.services.quotes import Quote
from arbees.services.shard import GameShard
from arbees.services.shard_engine import ShardEngine
from arbees.wiring.metrics import shard_gauges
from tests.cli.test_cli_shard_metrics import gauge
from tests.services.test_shard_engine import SEC, Clock, assignment, kq, pq
from tests.services.test_shard_isolation import ScriptedSource

MS = 1_000_000


def engine(**kw: object) -> tuple[ShardEngine, Clock]:
    clock = Clock()
    eng = ShardEngine("s1", max_age_ns=2 * SEC, clock=clock, **kw)  # type: ignore[arg-type]
    eng.apply(assignment())
    return eng, clock


def timed(quote: Quote, sent_ns: int) -> Quote:
    """``quote`` stamped by its venue as sent at ``sent_ns`` (the venue's clock)."""
    return attrs.evolve(quote, venue_ts_ms=sent_ns // MS)


def warm_up(eng: ShardEngine, clock: Clock, offset_ns: int) -> None:
    """A few quotes of each venue whose clock is ``offset_ns`` behind ours, 20-60 ms in
    transit: the engine learns the offset (unprofitable books, no signal)."""
    for transit in (60, 20, 40):
        clock.now += SEC
        sent = clock.now - offset_ns - transit * MS
        assert eng.on_quotes([timed(kq(clock, "0.60", "0.60"), sent)]) == []
        assert eng.on_quotes([timed(pq(clock, "0.60", "0.60"), sent)]) == []


def test_a_frame_read_now_but_sent_long_ago_is_stale() -> None:
    eng, clock = engine()
    warm_up(eng, clock, 0)
    clock.now += SEC
    assert eng.on_quote(timed(kq(clock, "0.40", "0.62"), clock.now - 20 * MS)) == []
    # Read now, so by its receive time it is fresh; the venue sent it 2.5 s ago.
    late = timed(pq(clock, "0.52", "0.50"), clock.now - 2_500 * MS)
    assert eng.on_quote(late) == []
    assert eng.stats.late_quotes == 1
    assert eng.stats.suppressed_stale >= 1
    # The same book sent just now is taken.
    signals = eng.on_quote(timed(pq(clock, "0.52", "0.50"), clock.now - 20 * MS))
    assert [s.event for s in signals] == ["open"]
    assert eng.stats.late_quotes == 1


def test_a_late_frame_within_the_age_limit_ages_from_when_it_was_sent() -> None:
    eng, clock = engine()
    warm_up(eng, clock, 0)
    clock.now += SEC
    eng.on_quote(timed(kq(clock, "0.40", "0.62"), clock.now - 20 * MS))
    signals = eng.on_quote(timed(pq(clock, "0.52", "0.50"), clock.now - 1_500 * MS))
    assert [s.event for s in signals] == ["open"]  # 1.5 s old: still within 2 s
    assert eng.stats.late_quotes == 0
    clock.now += 600 * MS  # 2.1 s since it was sent, 0.6 s since it was read
    assert [s.event for s in eng.sweep()] == ["close"]


def test_a_constant_clock_offset_is_measured_not_taken_for_age() -> None:
    for offset in (7 * SEC, -5 * SEC, 0):  # the venue's clock behind, ahead, equal
        eng, clock = engine()
        warm_up(eng, clock, offset)
        clock.now += SEC
        eng.on_quote(timed(kq(clock, "0.40", "0.62"), clock.now - offset - 30 * MS))
        signals = eng.on_quote(timed(pq(clock, "0.52", "0.50"), clock.now - offset - 50 * MS))
        assert [s.event for s in signals] == ["open"], offset
        assert eng.stats.late_quotes == 0
        # ... and a frame 3 s later than the measured offset is still refused.
        eng2, clock2 = engine()
        warm_up(eng2, clock2, offset)
        clock2.now += SEC
        eng2.on_quote(timed(kq(clock2, "0.40", "0.62"), clock2.now - offset - 30 * MS))
        late = timed(pq(clock2, "0.52", "0.50"), clock2.now - offset - 3 * SEC)
        assert eng2.on_quote(late) == [], offset
        assert eng2.stats.late_quotes == 1


def test_a_venue_without_send_times_is_aged_by_receive_time_only() -> None:
    eng, clock = engine(send_time_venues=("kalshi",))
    warm_up(eng, clock, 0)
    clock.now += SEC
    eng.on_quote(timed(kq(clock, "0.40", "0.62"), clock.now - 20 * MS))
    signals = eng.on_quote(timed(pq(clock, "0.52", "0.50"), clock.now - 10 * SEC))
    assert [s.event for s in signals] == ["open"]
    assert eng.stats.late_quotes == 0


def test_a_liveness_mark_does_not_refresh_a_book_read_late() -> None:
    eng, clock = engine()
    warm_up(eng, clock, 0)
    clock.now += SEC
    eng.on_quote(timed(kq(clock, "0.40", "0.62"), clock.now - 20 * MS))
    eng.on_quote(timed(pq(clock, "0.52", "0.50"), clock.now - 2_500 * MS))
    # The source vouches for everything read up to now; what it read was 2.5 s behind.
    assert eng.set_alive("polymarket", clock.now) == []
    # Once a timely frame shows the stream caught up, its marks count in full again.
    clock.now += 100 * MS
    eng.on_quote(timed(pq(clock, "0.60", "0.60"), clock.now - 20 * MS))
    eng.on_quote(timed(pq(clock, "0.52", "0.50"), clock.now - 20 * MS))
    assert eng.open_signals()


def test_a_lag_episode_holds_new_signals_until_fresh_data_after_it() -> None:
    eng, clock = engine()
    clock.now += SEC
    eng.on_quote(kq(clock, "0.40", "0.62"))
    assert eng.set_lagging(True, clock.now - 100 * MS) == []
    assert eng.lagging
    # Read during the episode: perhaps long in a buffer; not acted on.
    assert eng.on_quote(pq(clock, "0.52", "0.50")) == []
    assert eng.stats.lag_held == 1
    assert eng.set_alive("kalshi", clock.now) == []  # not taken while lagging
    assert eng.stats.lag_ignored_alive == 1
    clock.now += 300 * MS
    assert eng.set_lagging(False) == []  # over, but the books it touched are unconfirmed
    assert eng.stats.lag_episodes == 1
    # A mark from before the episode's end confirms nothing touched in it.
    assert eng.set_alive("polymarket", clock.now - 50 * MS) == []
    assert eng.set_alive("kalshi", clock.now) == []  # Kalshi: confirmed; Polymarket: not
    clock.now += 10 * MS
    signals = eng.set_alive("polymarket", clock.now)
    assert [s.event for s in signals] == ["open"]


def test_a_new_quote_after_the_episode_confirms_its_book() -> None:
    eng, clock = engine()
    clock.now += SEC
    eng.set_lagging(True, clock.now)
    eng.on_quote(kq(clock, "0.40", "0.62"))
    eng.on_quote(pq(clock, "0.52", "0.50"))
    clock.now += 100 * MS
    eng.set_lagging(False)
    clock.now += 10 * MS
    assert eng.on_quote(pq(clock, "0.52", "0.50")) == []  # Kalshi's is still unconfirmed
    signals = eng.on_quote(kq(clock, "0.40", "0.62"))
    assert [s.event for s in signals] == ["open"]


def test_books_read_just_before_the_lag_was_noticed_are_suspect_too() -> None:
    eng, clock = engine()
    clock.now += SEC
    eng.on_quote(kq(clock, "0.39", "0.62"))
    clock.now += SEC
    eng.on_quote(kq(clock, "0.40", "0.62"))  # read while the process was already behind
    eng.set_lagging(True, clock.now - 10 * MS)  # noticed later, dated back
    clock.now += 100 * MS
    eng.set_lagging(False)
    assert eng.on_quote(pq(clock, "0.52", "0.50")) == []
    assert eng.open_signals() == []


def test_closes_still_go_out_while_lagging() -> None:
    eng, clock = engine()
    clock.now += SEC
    eng.on_quote(kq(clock, "0.40", "0.62"))
    assert [s.event for s in eng.on_quote(pq(clock, "0.52", "0.50"))] == ["open"]
    eng.set_lagging(True, clock.now)
    signals = eng.on_quote(pq(clock, "0.70", "0.70"))
    assert [s.event for s in signals] == ["close"]
    assert eng.stats.lag_held == 0


def test_a_book_marked_stale_does_not_pass_for_a_late_frame() -> None:
    """A feed marks a book stale with the time of its last change and a fresh receive time
    (a cross-check failed, a sequence gap): not evidence that the venue's stream is behind."""
    eng, clock = engine()
    warm_up(eng, clock, 0)
    clock.now += SEC
    eng.on_quote(timed(kq(clock, "0.40", "0.62"), clock.now - 20 * MS))
    marked = attrs.evolve(timed(pq(clock, "0.52", "0.50"), clock.now - 30 * SEC), stale=True)
    assert eng.on_quote(marked) == []
    assert eng.stats.late_quotes == 0
    clock.now += 10 * MS
    eng.on_quote(timed(pq(clock, "0.60", "0.60", stale=False), clock.now - 40 * MS))
    clock.now += 10 * MS
    # Liveness still counts in full: the stale mark did not set the venue 30 s behind.
    eng.set_alive("kalshi", clock.now)
    signals = eng.on_quote(timed(pq(clock, "0.52", "0.50"), clock.now - 20 * MS))
    assert [s.event for s in signals] == ["open"]
    clock.now += 1_500 * MS  # both books quiet, both sources confirm
    eng.set_alive("kalshi", clock.now)
    eng.set_alive("polymarket", clock.now)
    clock.now += 1_000 * MS
    assert eng.sweep() == []  # still confirmed 1 s ago


def test_a_bus_quote_counts_as_read_when_this_process_read_it() -> None:
    eng, clock = engine()
    clock.now += SEC
    # The monitor read it 300 ms ago; this shard took it off the bus just now.
    read = attrs.evolve(pq(clock, "0.52", "0.50"), received_ns=clock.now - 300 * MS)
    assert eng.on_quote(read) == []
    eng.set_lagging(True, clock.now - 10 * MS)  # the shard was behind from 10 ms ago
    clock.now += 100 * MS
    assert eng.set_lagging(False) == []
    assert eng.on_quote(kq(clock, "0.40", "0.62")) == []  # Polymarket's is suspect
    clock.now += 10 * MS
    assert [s.event for s in eng.set_alive("polymarket", clock.now)] == ["open"]


def test_the_shard_gauges_show_late_quotes_and_lag() -> None:
    eng, clock = engine()
    shard = GameShard(MemoryBus(), eng, ScriptedSource("kalshi"), ScriptedSource("polymarket"))
    registry = Registry()
    shard_gauges(registry, shard.bus, shard)
    warm_up(eng, clock, 0)
    eng.on_quote(timed(pq(clock, "0.60", "0.60"), clock.now - 3 * SEC))
    eng.set_lagging(True, clock.now)
    eng.on_quote(kq(clock, "0.40", "0.62"))
    eng.on_quote(pq(clock, "0.52", "0.50"))
    text = registry.render()
    assert gauge(text, "shard_late_quotes") == 1
    assert gauge(text, "shard_lagging") == 1
    assert gauge(text, "shard_lag_episodes") == 1
    assert gauge(text, "shard_lag_held") == 1
    eng.set_lagging(False)
    assert gauge(registry.render(), "shard_lagging") == 0
