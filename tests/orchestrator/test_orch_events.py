"""The orchestrator assigns every league's events like moneylines: a 3-way soccer winner, a
total and a spread at a shared line, a college game, each a shard assignment with
``outcomes`` and ``contracts`` plus one monitor assignment per Polymarket token; a restart
restores them from the hashes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import httpx
import trio
from orch_fixtures import make_inputs
from orch_shards import FAST, FakeShard, wait_for
from tests.fee_terms import terms_of

from arbees.bus import MemoryBus
from arbees.codec import decode, encode
from arbees.fees import KalshiFeeModel, MarketFees, PolymarketFeeModel
from arbees.kalshi.models import parse_events
from arbees.matching.venue_listings import build_catalogue
from arbees.messages import GAME_ASSIGNMENTS_HASH, TOKEN_ASSIGNMENTS_HASH, MarketAssignment
from arbees.polymarket.models import parse_gamma_events, parse_gamma_teams
from arbees.services.discovery import GameSpec, StaticGameSource, discover_games
from arbees.services.orchestrator import open_orchestrator
from arbees.venues import Listing
from arbees.wiring.discovery import match_inputs

QUICK = attrs.evolve(FAST, settle_delay=0.0, discovery_interval=0.1)
DATA = Path(__file__).resolve().parent.parent / "data" / "matching" / "leagues"
EPL = "EPL:20261206:MCI-MUN:moneyline"
TOTAL = "MLB:20260926:BOS-NYY:total:8.5"


def body(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"), parse_float=Decimal)


def slate_inputs(poly_rates: dict[str, str] | None = None) -> Any:
    kalshi, _ = parse_events(body("kalshi_events.json"))
    gamma, _ = parse_gamma_events(body("gamma_events.json"))
    teams, _ = parse_gamma_teams(body("gamma_teams.json"))
    rates = poly_rates or {}
    k_fees = {e.event_ticker: MarketFees(KalshiFeeModel("1")) for e in kalshi}
    p_fees = {
        m.condition_id: MarketFees(PolymarketFeeModel(Decimal(rates.get(m.condition_id, "0.05"))))
        for e in gamma
        for m in e.markets
    }
    listings = {
        "kalshi": Listing(tuple(kalshi), (), k_fees),
        "polymarket": Listing(tuple(gamma), (), p_fees),
    }
    return match_inputs(listings, build_catalogue(teams))


def test_every_matched_event_becomes_a_spec_with_a_runnable_assignment() -> None:
    found = discover_games(slate_inputs())
    assert found.events is not None
    assert set(found.games) == {m.event_id for m in found.events.matches}
    assert len(found.games) == 9
    spec = found.games[EPL]
    assert spec.outcomes == ("EPL:MCI", "draw", "EPL:MUN")
    assert spec.kalshi_event_ticker == "KXEPLGAME-26DEC06MUNMCI"
    shard = spec.shard_assignment("s1", action="assign", epoch=1, timestamp_ms=1)
    assert shard.event_problem() is None
    assert decode(encode(shard)) == shard
    assert len(shard.contracts) == 12
    monitor = spec.monitor_assignments("s1", action="assign", epoch=1, timestamp_ms=1)
    poly = {c.instrument for c in shard.contracts if c.venue == "polymarket"}
    assert {m.token_id for m in monitor} == poly
    assert len({m.market_id for m in monitor}) == 3  # one market per outcome
    restored = GameSpec.from_assignment(
        shard, spec.condition_id, {m.token_id: m.market_id for m in monitor}
    )
    assert restored == spec
    total = found.games[TOTAL]
    assert total.outcomes == ("over", "under")
    assert total.venue_instruments()["kalshi"] == ("KXMLBTOTAL-26SEP261910NYYBOS-9",)


def test_an_event_uses_the_highest_fee_of_its_polymarket_markets() -> None:
    inputs = slate_inputs()
    spec = discover_games(inputs).games[EPL]
    draw_market = dict(spec.token_markets)[
        next(
            c.instrument for c in spec.contracts if c.outcome == "draw" and c.venue == "polymarket"
        )
    ]
    pricier = discover_games(slate_inputs({draw_market: "0.07"})).games[EPL]
    assert (terms_of(spec, "polymarket").rate, terms_of(pricier, "polymarket").rate) == (
        "0.05",
        "0.07",
    )


def test_a_two_team_pair_keeps_its_game_and_no_event_duplicates_it() -> None:
    base = make_inputs(range(2))
    inputs = attrs.evolve(slate_inputs(), kalshi=base.kalshi, polymarket=base.polymarket)
    found = discover_games(inputs)
    pairs = {k.event_ticker for k in base.kalshi}
    assert pairs <= set(found.games)
    assert not any(found.games[g].contracts for g in pairs)
    assert EPL in found.games


async def test_the_orchestrator_assigns_events_and_restores_them() -> None:
    bus = MemoryBus()
    source = StaticGameSource(slate_inputs())
    async with trio.open_nursery() as nursery:
        shard = FakeShard(bus, "s1")
        await nursery.start(shard.run)
        async with open_orchestrator(bus, source, QUICK):
            await wait_for(lambda: len(shard.games) == 9, 3)
        epl = next(m for m in shard.seen if m.game_id == EPL)
        assert epl.outcomes == ("EPL:MCI", "draw", "EPL:MUN")
        stored = await bus.hgetall(GAME_ASSIGNMENTS_HASH)
        tokens = await bus.hgetall(TOKEN_ASSIGNMENTS_HASH)
        assert EPL in stored
        assert (
            sum(isinstance(t, MarketAssignment) and t.game_id == EPL for t in tokens.values()) == 3
        )
        source.inputs = attrs.evolve(source.inputs, listings=())  # a restart that finds nothing new
        async with open_orchestrator(bus, source, QUICK) as again:
            assert again.stats.restored == 9
            assert again.stats.dropped_stored == 0
        nursery.cancel_scope.cancel()


async def test_venue_discovery_over_http_finds_every_league_on_the_fakes(tmp_path: Path) -> None:
    from arbees.kalshi.rest import KalshiRest
    from arbees.testing.fake_kalshi_rest import API_ROOT, FakeKalshiRest
    from arbees.testing.fake_polymarket import FakePolymarket
    from arbees.wiring.discovery import venue_game_source

    kalshi_fake = FakeKalshiRest()
    for series in body("kalshi_series.json")["series"]:
        kalshi_fake.add_series(series["ticker"], fee_multiplier=series["fee_multiplier"])
    for event in body("kalshi_events.json")["events"]:
        kalshi_fake.event_titles[event["event_ticker"]] = event["title"]
        for m in event["markets"]:
            strike = m.get("floor_strike")
            kalshi_fake.add_market(
                m["ticker"],
                event_ticker=event["event_ticker"],
                series_ticker=event["series_ticker"],
                yes_sub_title=m["yes_sub_title"],
                no_sub_title=m["no_sub_title"],
                strike_type=m.get("strike_type", ""),
                floor_strike=None if strike is None else str(strike),
            )
    gamma_fake = FakePolymarket()
    gamma_fake.events.extend(json.loads((DATA / "gamma_events.json").read_text(encoding="utf-8")))
    gamma_fake.teams.extend(json.loads((DATA / "gamma_teams.json").read_text(encoding="utf-8")))
    cache = tmp_path / "teams.json"
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(gamma_fake.run)
        async with (
            httpx.AsyncClient(transport=kalshi_fake.mock_transport()) as kclient,
            httpx.AsyncClient() as gclient,
        ):
            kalshi = KalshiRest(kclient, base_url=f"http://kalshi.test{API_ROOT}")
            source = venue_game_source(
                kalshi, gclient, gamma_url=urls.gamma_url, series=(), teams_cache=cache
            )
            found = discover_games(await source.discover())
        nursery.cancel_scope.cancel()
    assert set(found.games) == {
        "MLB:20260926:BOS-NYY:moneyline",
        TOTAL,
        EPL,
        "MLS:20261206:MIA-VAN:moneyline",
        "NCAAB:20261206:DUKE-UNC:moneyline",
        "NCAAB:20261206:NCST-WAKE:moneyline",
        "NFL:20261206:BUF-KC:moneyline",
        "NFL:20261206:BUF-KC:spread:KC:2.5",
        "SERIEA:20261206:INT-MIL:moneyline",
    }
    assert cache.exists()
    assert ("GET", "/teams") in gamma_fake.requests
    assert not any("KXNFLMVP" in target for _, target in kalshi_fake.rest_requests)


async def test_a_failed_series_keeps_its_games_until_it_answers_again() -> None:
    bus = MemoryBus()
    full = slate_inputs()
    college = {"NCAAB:20261206:DUKE-UNC:moneyline", "NCAAB:20261206:NCST-WAKE:moneyline"}
    # EPL's series failed this round; the college games are simply gone
    without_epl = attrs.evolve(
        full,
        listings=tuple(g for g in full.listings if g.league not in ("EPL", "NCAAB")),
        unavailable=("KXEPLGAME-",),
    )
    source = StaticGameSource(full)
    async with trio.open_nursery() as nursery:
        shard = FakeShard(bus, "s1")
        await nursery.start(shard.run)
        async with open_orchestrator(bus, source, QUICK) as orch:
            await wait_for(lambda: len(shard.games) == 9, 3)
            source.inputs = without_epl
            # that round was applied: the orchestrator retires one game at a time, so wait
            # for both college games (waiting for the first raced the second's retirement)
            await wait_for(lambda: not college & set(shard.games), 3)
            assert EPL in orch.games
            assert EPL in shard.games
            assert orch.stats.retired == 2
            source.inputs = attrs.evolve(without_epl, unavailable=())  # it answered: gone
            await wait_for(lambda: EPL not in shard.games, 3)
            assert orch.stats.retired == 3
        nursery.cancel_scope.cancel()


def test_a_series_refused_under_series_marks_its_games_unavailable() -> None:
    from arbees.errors import DecodeRejection

    listings = {
        "kalshi": Listing(
            (),
            (
                DecodeRejection("KXEPLGAME", "series refused: HTTP 500", "series"),
                DecodeRejection("KXNHLGAME", "unusable fee: 11", "fee_multiplier"),
            ),
        ),
        "polymarket": Listing(()),
    }
    assert match_inputs(listings).unavailable == ("KXEPLGAME-",)
