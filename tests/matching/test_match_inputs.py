"""The converters from raw venue JSON into matcher inputs: shapes, quirks, rejections."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from match_fixtures import DATA, kalshi_games_of, load, polymarket_games_of

from arbees.errors import DecodeError
from arbees.matching import Reason, Venue
from arbees.matching.eastern import eastern
from arbees.matching.venues import parse_event_ticker
from arbees.polymarket.models import parse_datetime


def _kalshi_event() -> dict[str, Any]:
    kalshi, _ = load("straightforward")
    return copy.deepcopy(kalshi["events"][0])


def _gamma_event() -> dict[str, Any]:
    _, gamma = load("straightforward")
    return copy.deepcopy(gamma[0])


def _one_kalshi(event: Any) -> tuple[list[Any], list[Any]]:
    return kalshi_games_of({"events": [event], "cursor": ""})


# ---- Kalshi ---------------------------------------------------------------------------


def test_kalshi_event_converts() -> None:
    games, rejections = _one_kalshi(_kalshi_event())
    assert rejections == []
    (game,) = games
    assert game.event_ticker == "KXNBAGAME-26OCT20OKCSAS"
    assert game.series_ticker == "KXNBAGAME"
    assert game.league == "NBA"
    assert game.eastern_date == date(2026, 10, 20)
    assert game.start_time is None  # close/expiration times are padded, never used
    assert (game.away.code, game.away.ticker) == ("OKC", "KXNBAGAME-26OCT20OKCSAS-OKC")
    assert (game.home.code, game.home.yes_sub_title) == ("SAS", "San Antonio")
    assert game.away.status == "active"


@pytest.mark.parametrize(
    ("ticker", "series", "day", "start", "codes"),
    [
        ("KXNBAGAME-26OCT20OKCSAS", "KXNBAGAME", date(2026, 10, 20), None, "OKCSAS"),
        ("KXNHLGAME-27JAN05LANJ", "KXNHLGAME", date(2027, 1, 5), None, "LANJ"),
        ("KXMLBGAME-26JUL041905NYYBOS", "KXMLBGAME", date(2026, 7, 4), time(19, 5), "NYYBOS"),
    ],
)
def test_parse_event_ticker(
    ticker: str, series: str, day: date, start: time | None, codes: str
) -> None:
    assert parse_event_ticker(ticker) == (series, day, start, codes)


@pytest.mark.parametrize(
    "ticker",
    ["KXNBAGAME", "KXNBAGAME-26XYZ20OKCSAS", "KXNBAGAME-26FEB30OKCSAS", "KXNBAGAME-26OCT20O"],
)
def test_parse_event_ticker_refuses(ticker: str) -> None:
    with pytest.raises(DecodeError):
        parse_event_ticker(ticker)


def test_kalshi_codes_come_from_the_market_tickers() -> None:
    # 2- and 3-letter codes: "LA" + "NJ", not "LAN" + "J"
    event = _kalshi_event()
    event["series_ticker"] = "KXNHLGAME"
    event["event_ticker"] = "KXNHLGAME-26OCT20LANJ"
    for market, code in zip(event["markets"], ("NJ", "LA"), strict=True):
        market["ticker"] = f"KXNHLGAME-26OCT20LANJ-{code}"
    (game,), _ = _one_kalshi(event)
    assert (game.away.code, game.home.code) == ("LA", "NJ")


def test_kalshi_hhmm_gives_an_eastern_start_time() -> None:
    event = _kalshi_event()
    event["event_ticker"] = "KXNBAGAME-26OCT201930OKCSAS"
    for market in event["markets"]:
        market["ticker"] = market["ticker"].replace("26OCT20", "26OCT201930")
    (game,), _ = _one_kalshi(event)
    assert game.start_time == datetime(2026, 10, 20, 19, 30, tzinfo=eastern())
    assert game.start_time.astimezone(UTC) == datetime(2026, 10, 20, 23, 30, tzinfo=UTC)


def _mutate(fn: Any) -> dict[str, Any]:
    event = _kalshi_event()
    fn(event)
    return event


KALSHI_REJECTS = [
    ("not an object", ["nope"], "events[0]", Reason.MALFORMED),
    (
        "other series",
        _mutate(lambda e: e.update(series_ticker="KXMLBGAME")),
        "KXNBAGAME-26OCT20OKCSAS",
        Reason.UNKNOWN_LEAGUE,
    ),
    (
        "series disagrees with ticker",
        _mutate(lambda e: e.update(series_ticker="KXNHLGAME")),
        "KXNBAGAME-26OCT20OKCSAS",
        Reason.LEAGUE_MISMATCH,
    ),
    (
        "codes do not spell the ticker",
        _mutate(lambda e: e["markets"][1].update(ticker="KXNBAGAME-26OCT20OKCSAS-SA")),
        "KXNBAGAME-26OCT20OKCSAS",
        Reason.BAD_TICKER,
    ),
    (
        "market of another event",
        _mutate(lambda e: e["markets"][1].update(ticker="KXNBAGAME-26OCT21OKCSAS-SAS")),
        "KXNBAGAME-26OCT20OKCSAS",
        Reason.BAD_TICKER,
    ),
    (
        "one team missing",
        _mutate(lambda e: e["markets"].pop()),
        "KXNBAGAME-26OCT20OKCSAS",
        Reason.MISSING_TEAM_MARKET,
    ),
    (
        "no nested markets",
        _mutate(lambda e: e.pop("markets")),
        "KXNBAGAME-26OCT20OKCSAS",
        Reason.MISSING_TEAM_MARKET,
    ),
    (
        "third market",
        _mutate(
            lambda e: e["markets"].append(
                dict(e["markets"][0], ticker=e["markets"][0]["ticker"] + "X")
            )
        ),
        "KXNBAGAME-26OCT20OKCSAS",
        Reason.MISSING_TEAM_MARKET,
    ),
    (
        "same market twice",
        _mutate(lambda e: e["markets"].__setitem__(1, e["markets"][0])),
        "KXNBAGAME-26OCT20OKCSAS",
        Reason.SAME_TEAM,
    ),
    (
        "ticker of wrong type",
        _mutate(lambda e: e["markets"][0].update(ticker=12)),
        "KXNBAGAME-26OCT20OKCSAS",
        Reason.MALFORMED,
    ),
    (
        "finalized",
        _mutate(lambda e: e["markets"][0].update(status="finalized")),
        "KXNBAGAME-26OCT20OKCSAS",
        Reason.CLOSED,
    ),
    (
        "bad date",
        _mutate(lambda e: e.update(event_ticker="KXNBAGAME-26FEB30OKCSAS")),
        "KXNBAGAME-26FEB30OKCSAS",
        Reason.BAD_TICKER,
    ),
]


@pytest.mark.parametrize(
    ("event", "ident", "reason"),
    [case[1:] for case in KALSHI_REJECTS],
    ids=[case[0] for case in KALSHI_REJECTS],
)
def test_kalshi_rejections(event: Any, ident: str, reason: Reason) -> None:
    games, rejections = _one_kalshi(event)
    assert games == []
    assert [(r.venue, r.id, r.reason_code) for r in rejections] == [(Venue.KALSHI, ident, reason)]
    assert rejections[0].detail


def test_kalshi_never_reads_no_sub_title() -> None:
    event = _kalshi_event()
    for market in event["markets"]:
        market["no_sub_title"] = "Boston"
    (game,), _ = _one_kalshi(event)
    assert "Boston" not in repr(game)


@pytest.mark.parametrize("body", [[], {"markets": []}, {"events": {}}, "x", None])
def test_kalshi_body_of_wrong_shape_raises(body: Any) -> None:
    with pytest.raises(DecodeError):
        kalshi_games_of(body)


# ---- Polymarket -----------------------------------------------------------------------


def test_gamma_event_converts_string_encoded_arrays() -> None:
    games, rejections = polymarket_games_of([_gamma_event()])
    assert rejections == []
    (game,) = games
    raw = _gamma_event()["markets"][0]
    assert game.event_slug == "nba-okc-sas-2026-10-20"
    assert game.condition_id == raw["conditionId"]
    assert game.market_id == raw["id"]
    assert game.league == "NBA"
    assert [o.name for o in game.outcomes] == ["Thunder", "Spurs"]
    assert [o.token_id for o in game.outcomes] == json.loads(raw["clobTokenIds"])
    assert game.start_time == datetime(2026, 10, 21, 0, 0, tzinfo=UTC)
    assert game.start_time.astimezone(eastern()).date() == date(2026, 10, 20)
    assert game.slug_date == date(2026, 10, 20)
    assert game.sports_market_type == "moneyline"
    assert game.line is None
    assert game.fees.fees_enabled is True


def test_gamma_accepts_real_arrays_and_single_event_and_pagination_shapes() -> None:
    event = _gamma_event()
    market = event["markets"][0]
    market["outcomes"] = json.loads(market["outcomes"])
    market["clobTokenIds"] = json.loads(market["clobTokenIds"])
    for body in (event, {"data": [event], "pagination": {"hasMore": False}}):
        games, rejections = polymarket_games_of(body)
        assert len(games) == 1
        assert rejections == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-21 00:00:00+00", datetime(2026, 10, 21, tzinfo=UTC)),
        ("2026-04-05 15:10:00+00", datetime(2026, 4, 5, 15, 10, tzinfo=UTC)),
        ("2026-10-21T00:00:00Z", datetime(2026, 10, 21, tzinfo=UTC)),
        ("2026-10-20 20:00:00-04:00", datetime(2026, 10, 21, tzinfo=UTC)),
    ],
)
def test_parse_game_start_time(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text, "gameStartTime", require_offset=True)
    assert parsed == expected
    assert parsed is not None
    assert parsed.tzinfo == UTC


@pytest.mark.parametrize("text", ["2026-10-21 00:00:00", "tomorrow"])
def test_parse_game_start_time_refuses(text: str) -> None:
    with pytest.raises(DecodeError):
        parse_datetime(text, "gameStartTime", require_offset=True)


def test_empty_game_start_time_is_absent_not_guessed() -> None:
    # Gamma sends "" for "no start time": the game is then matched on its slug date alone.
    event = _gamma_event()
    event["markets"][0]["gameStartTime"] = ""
    (game,), rejections = polymarket_games_of([event])
    assert rejections == []
    assert game.start_time is None
    assert game.slug_date == date(2026, 10, 20)


def _gamma_mutate(fn: Any) -> dict[str, Any]:
    event = _gamma_event()
    fn(event, event["markets"][0])
    return event


GAMMA_REJECTS = [
    (
        "naive start",
        lambda e, m: m.update(gameStartTime="2026-10-21 00:00:00"),
        Reason.BAD_START_TIME,
    ),
    ("start wrong type", lambda e, m: m.update(gameStartTime=17), Reason.BAD_START_TIME),
    ("tokens missing", lambda e, m: m.pop("clobTokenIds"), Reason.MISSING_TOKEN),
    ("one token", lambda e, m: m.update(clobTokenIds='["123"]'), Reason.MISSING_TOKEN),
    ("same token", lambda e, m: m.update(clobTokenIds='["123", "123"]'), Reason.DUPLICATE_TOKEN),
    ("token not decimal", lambda e, m: m.update(clobTokenIds='["0xab", "12"]'), Reason.MALFORMED),
    # The feed refuses anything but a uint256 in decimal: never let discovery assign one.
    (
        "token too long",
        lambda e, m: m.update(clobTokenIds=f'["{"9" * 79}", "12"]'),
        Reason.MALFORMED,
    ),
    (
        "token over uint256",
        lambda e, m: m.update(clobTokenIds=f'["12", "{"9" * 78}"]'),
        Reason.MALFORMED,
    ),
    (
        "token of 10k digits",
        lambda e, m: m.update(clobTokenIds=f'["{"1" * 10_000}", "12"]'),
        Reason.MALFORMED,
    ),
    ("outcomes garbage", lambda e, m: m.update(outcomes="[Thunder"), Reason.MALFORMED),
    ("outcomes not list", lambda e, m: m.update(outcomes='{"a": 1}'), Reason.MALFORMED),
    # json.loads raised RecursionError (not a ValueError) out of the matcher
    ("outcomes nested deep", lambda e, m: m.update(outcomes="[" * 100_000), Reason.MALFORMED),
    (
        "tokens huge integer",
        lambda e, m: m.update(clobTokenIds="[" + "7" * 5000 + "]"),
        Reason.MALFORMED,
    ),
    (
        "three outcomes",
        lambda e, m: m.update(outcomes='["A", "B", "Draw"]', clobTokenIds='["1", "2", "3"]'),
        Reason.NOT_MONEYLINE,
    ),
    # Three labels for two tokens: a token is missing, whatever the market's kind.
    (
        "three labels, two tokens",
        lambda e, m: m.update(outcomes='["A", "B", "Draw"]'),
        Reason.MISSING_TOKEN,
    ),
    ("closed", lambda e, m: m.update(closed=True), Reason.CLOSED),
    ("no condition id", lambda e, m: m.pop("conditionId"), Reason.MALFORMED),
    ("line of wrong type", lambda e, m: m.update(line=[1]), Reason.MALFORMED),
]


@pytest.mark.parametrize(
    ("mutate", "reason"), [c[1:] for c in GAMMA_REJECTS], ids=[c[0] for c in GAMMA_REJECTS]
)
def test_gamma_market_rejections(mutate: Any, reason: Reason) -> None:
    games, rejections = polymarket_games_of([_gamma_mutate(mutate)])
    assert games == []
    assert [(r.venue, r.reason_code) for r in rejections] == [(Venue.POLYMARKET, reason)]


GAMMA_EVENT_REJECTS = [
    (
        "tags say NHL",
        lambda e, m: e.update(tags=[{"id": "899", "label": "NHL", "slug": "nhl"}]),
        Reason.LEAGUE_MISMATCH,
    ),
    ("seriesSlug says NHL", lambda e, m: e.update(seriesSlug="nhl"), Reason.LEAGUE_MISMATCH),
    (
        "no league anywhere",
        lambda e, m: e.update(slug="okc-sas-2026-10-20", tags=[], seriesSlug=None, title="x"),
        Reason.UNKNOWN_LEAGUE,
    ),
    ("no markets", lambda e, m: e.update(markets=[]), Reason.MISSING_TOKEN),
]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [c[1:] for c in GAMMA_EVENT_REJECTS],
    ids=[c[0] for c in GAMMA_EVENT_REJECTS],
)
def test_gamma_event_rejections(mutate: Any, reason: Reason) -> None:
    event = _gamma_mutate(mutate)
    games, rejections = polymarket_games_of([event])
    assert games == []
    assert [(r.id, r.reason_code) for r in rejections] == [(event["slug"], reason)]


def test_gamma_league_from_title_when_nothing_else_says() -> None:
    event = _gamma_event()
    event.update(
        slug="okc-sas-2026-10-20", tags=[], seriesSlug=None, title="NBA: Thunder vs. Spurs"
    )
    (game,), _ = polymarket_games_of([event])
    assert game.league == "NBA"


def test_gamma_garbage_events_are_counted_not_fatal() -> None:
    good = _gamma_event()
    games, rejections = polymarket_games_of([3, {"slug": ""}, good, {"markets": [1]}])
    assert len(games) == 1
    assert [r.id for r in rejections] == ["events[0]", "events[1]", "events[3]"]
    assert {r.reason_code for r in rejections} == {Reason.MALFORMED}


def test_gamma_real_politics_sample_is_rejected_as_not_a_game() -> None:
    body = json.loads((DATA / "gamma_events_list_nautilus.json").read_text(encoding="utf-8"))
    games, rejections = polymarket_games_of(body)
    assert games == []
    assert [(r.id, r.reason_code) for r in rejections] == [
        ("democratic-presidential-nominee-2028", Reason.UNKNOWN_LEAGUE)
    ]


@pytest.mark.parametrize("body", ["x", 3, None, {"events": []}])
def test_gamma_body_of_wrong_shape_raises(body: Any) -> None:
    with pytest.raises(DecodeError):
        polymarket_games_of(body)


def test_missing_time_zone_database_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import zoneinfo

    from arbees.errors import ConfigError
    from arbees.matching import eastern as eastern_module

    def missing(key: str) -> zoneinfo.ZoneInfo:
        raise zoneinfo.ZoneInfoNotFoundError(key)

    monkeypatch.setattr(eastern_module, "ZoneInfo", missing)
    with pytest.raises(ConfigError, match="tzdata"):
        eastern_module.eastern.__wrapped__()
