"""Both fake venues in one standalone process, serving a small scripted slate of games.

The local rehearsal (``deploy/run-local.sh``) runs the deployed topology as separate OS
processes; they need venues to talk to that behave like Kalshi and Polymarket, from
discovery (Kalshi ``/series`` + ``/events`` with nested markets, Gamma ``/events``) to the
books (Kalshi WebSocket v2, Polymarket market channel). This module wires
:class:`~arbees.testing.fake_kalshi.FakeKalshi` and
:class:`~arbees.testing.fake_polymarket.FakePolymarket` to one slate:

* ``arb`` — OKC @ SAS: no opportunity after fees until :meth:`Venues.move`, then Kalshi
  YES OKC at 0.40 + Polymarket Spurs at 0.50 (100 contracts) opens one (profit $7.07 after
  Kalshi's quadratic fee and Polymarket's 5 % sports fee);
* ``quiet`` — BOS @ NYK: the move shifts its Polymarket book too, but its best combination
  only reaches $1.00 before fees, which the fees make a loss: it must never signal.

Kalshi auth is rehearsed for real: a throw-away RSA key (:mod:`arbees.testing.kalshi_keys`,
never a real credential) is generated per run, its PEM written next to the state file
(mode 0600), and the fake verifies every WebSocket upgrade and REST request against it.

Standalone::

    python -m arbees.testing.venues --state-file /tmp/run/venues.json --move-after 30

writes the URLs, the key id and path, and the slate to the state file (atomically, once
everything listens); ``kill -USR1 <pid>`` (or ``--move-after``) applies the price move and
records ``moved_ms`` in the same file. SIGINT/SIGTERM stop it cleanly.

:data:`FAKE_VENUES` is the registry of fake servers keyed by venue id, one per entry of
:data:`arbees.venues.VENUES` (a test holds the two equal): how to build a venue's fake, point
the venue's own feed at it and script a top of book in venue-neutral terms.
:func:`serve_fake` runs one for a block.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs
import trio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from arbees.polymarket.feed import FeedConfig
from arbees.testing.fake_kalshi import FakeKalshi, FakeKalshiUrls
from arbees.testing.fake_polymarket import FakePolymarket, FakeUrls
from arbees.testing.fake_polymarket_us import FakePolymarketUs, FakePolymarketUsUrls
from arbees.testing.kalshi_keys import TEST_KEY_ID, generate_test_key
from arbees.wsdriver import Backoff

__all__ = [
    "FAKE_VENUES",
    "FakeVenue",
    "SlateGame",
    "VenueUrls",
    "Venues",
    "build_slate",
    "main",
    "open_venues",
    "serve_fake",
    "write_json_atomic",
]

log = logging.getLogger(__name__)


@attrs.frozen
class FakeVenue:
    """One venue's fake server, as the tests and the demo run it.

    Attributes:
        id: the venue's id (its key in :data:`arbees.venues.VENUES` and here).
        server: builds the fake (keyword options are the fake's own); ``run`` serves it
            and is ``started`` with its URLs.
        feed_options: the keywords of the venue's feed factory (``Venue.feed``) that point
            it at a served fake: ``(urls, backoff) -> options``.
        set_top: scripts one instrument's best YES bid and ask (decimal strings, 10
            contracts each) on a fake, listing the instrument first where the venue
            needs it: ``(fake, instrument, bid, ask)``.
    """

    id: str
    server: Callable[..., Any] = attrs.field(repr=False)
    feed_options: Callable[[Any, Backoff], dict[str, Any]] = attrs.field(repr=False)
    set_top: Callable[[Any, str, str, str], None] = attrs.field(repr=False)


def _kalshi_server(**options: Any) -> FakeKalshi:
    return FakeKalshi(**{"require_auth": False, **options})


def _kalshi_feed_options(urls: FakeKalshiUrls, backoff: Backoff) -> dict[str, Any]:
    return {"url": urls.ws_url, "backoff": backoff}


def _kalshi_top(fake: FakeKalshi, ticker: str, bid: str, ask: str) -> None:
    fake.add_market(ticker)
    # Kalshi books are bids per side: the YES ask is 1 - the best NO bid.
    fake.set_book(ticker, yes=[(bid, 10)], no=[(str(Decimal(1) - Decimal(ask)), 10)])


def _polymarket_feed_options(urls: FakeUrls, backoff: Backoff) -> dict[str, Any]:
    return {"config": FeedConfig(url=urls.ws_url, backoff=backoff)}


def _polymarket_top(fake: FakePolymarket, token: str, bid: str, ask: str) -> None:
    fake.set_book(token, bids=[(bid, "10")], asks=[(ask, "10")])


def _polymarket_us_feed_options(urls: FakePolymarketUsUrls, backoff: Backoff) -> dict[str, Any]:
    # No maintenance window on a fake: a test run on a Thursday morning must not pause.
    return {"url": urls.ws_url, "backoff": backoff, "maintenance": None}


def _polymarket_us_top(fake: FakePolymarketUs, slug: str, bid: str, ask: str) -> None:
    fake.set_book(slug, bids=[(bid, "10")], offers=[(ask, "10")])


FAKE_VENUES: Mapping[str, FakeVenue] = MappingProxyType(
    {
        v.id: v
        for v in (
            FakeVenue("kalshi", _kalshi_server, _kalshi_feed_options, _kalshi_top),
            FakeVenue("polymarket", FakePolymarket, _polymarket_feed_options, _polymarket_top),
            FakeVenue(
                "polymarket-us",
                FakePolymarketUs,
                _polymarket_us_feed_options,
                _polymarket_us_top,
            ),
        )
    }
)
"""Every venue's fake, by venue id."""


@asynccontextmanager
async def serve_fake(
    venue_id: str, *, backoff: Backoff, **options: Any
) -> AsyncIterator[tuple[Any, dict[str, Any]]]:
    """Serve ``venue_id``'s fake (``options``: the fake's own) for the block; yields the
    fake and the options of the venue's feed factory that point a feed at it."""
    fake_venue = FAKE_VENUES[venue_id]
    fake = fake_venue.server(**options)
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        try:
            yield fake, fake_venue.feed_options(urls, backoff)
        finally:
            nursery.cancel_scope.cancel()


_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
POLY_FEE_SCHEDULE = {"rate": 0.05, "exponent": 1, "takerOnly": True, "rebateRate": 0.25}


@attrs.frozen
class SlateGame:
    """One scripted NBA game, listed on both venues.

    Attributes:
        name: short label (``"arb"`` or ``"quiet"``).
        game_id: the orchestrator's game id (the Kalshi event ticker).
        arbitrage: whether the price move opens a profitable opportunity after fees.
        away: away team (Kalshi code, city as Kalshi titles it, nickname as Polymarket does).
        home: home team, same shape.
        away_ticker: Kalshi market of the away team.
        home_ticker: Kalshi market of the home team.
        away_token: Polymarket token of the away team's outcome.
        home_token: Polymarket token of the home team's outcome.
        condition_id: Polymarket condition id of the moneyline market.
        day: game date (US Eastern; the start is 23:00 UTC that day).
    """

    name: str
    game_id: str
    arbitrage: bool
    away: tuple[str, str, str]
    home: tuple[str, str, str]
    away_ticker: str
    home_ticker: str
    away_token: str
    home_token: str
    condition_id: str
    day: date

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "game_id": self.game_id,
            "arbitrage": self.arbitrage,
            "kalshi_tickers": [self.away_ticker, self.home_ticker],
            "polymarket_tokens": [self.away_token, self.home_token],
            "condition_id": self.condition_id,
        }


@attrs.frozen
class VenueUrls:
    """Where the running venues listen (every URL on 127.0.0.1).

    Attributes:
        kalshi_ws_url: Kalshi WebSocket (``KALSHI_WS_URL``).
        kalshi_rest_url: Kalshi REST root (``KALSHI_REST_URL``).
        polymarket_ws_url: Polymarket market channel (``POLYMARKET_WS_URL``).
        polymarket_clob_url: CLOB REST (``POLYMARKET_CLOB_URL``).
        polymarket_gamma_url: Gamma REST (``POLYMARKET_GAMMA_URL``).
    """

    kalshi_ws_url: str
    kalshi_rest_url: str
    polymarket_ws_url: str
    polymarket_clob_url: str
    polymarket_gamma_url: str


def _game(
    n: int,
    name: str,
    arbitrage: bool,
    day: date,
    away: tuple[str, str, str],
    home: tuple[str, str, str],
) -> SlateGame:
    event = f"KXNBAGAME-{day:%y}{_MONTHS[day.month - 1]}{day:%d}{away[0]}{home[0]}"
    return SlateGame(
        name=name,
        game_id=event,
        arbitrage=arbitrage,
        away=away,
        home=home,
        away_ticker=f"{event}-{away[0]}",
        home_ticker=f"{event}-{home[0]}",
        # Gamma token ids are long decimal strings; these are obviously fake ones.
        away_token=f"{n}{'1' * 39}",
        home_token=f"{n}{'2' * 39}",
        condition_id="0x" + f"{0xA0 + n:064x}",
        day=day,
    )


def build_slate(day: date) -> list[SlateGame]:
    """The two games of the rehearsal, on ``day``."""
    return [
        _game(
            1,
            "arb",
            True,
            day,
            ("OKC", "Oklahoma City", "Thunder"),
            ("SAS", "San Antonio", "Spurs"),
        ),
        _game(2, "quiet", False, day, ("BOS", "Boston", "Celtics"), ("NYK", "New York", "Knicks")),
    ]


def _gamma_event(game: SlateGame, n: int) -> dict[str, object]:
    slug = f"nba-{game.away[0].lower()}-{game.home[0].lower()}-{game.day.isoformat()}"
    title = f"{game.away[2]} vs. {game.home[2]}"
    market = {
        "id": str(740000 + n),
        "question": title,
        "conditionId": game.condition_id,
        "slug": slug,
        "outcomes": json.dumps([game.away[2], game.home[2]]),
        "outcomePrices": json.dumps(["0.5", "0.5"]),
        "clobTokenIds": json.dumps([game.away_token, game.home_token]),
        "active": True,
        "closed": False,
        "enableOrderBook": True,
        "orderPriceMinTickSize": 0.01,
        "orderMinSize": 5,
        "negRisk": False,
        "gameStartTime": f"{game.day.isoformat()} 23:00:00+00",
        "sportsMarketType": "moneyline",
        "feesEnabled": True,
        "feeType": "sports_fees_v2",
        "feeSchedule": POLY_FEE_SCHEDULE,
    }
    return {
        "id": str(930000 + n),
        "slug": slug,
        "title": title,
        "active": True,
        "closed": False,
        "tags": [
            {"id": "1", "label": "Sports", "slug": "sports"},
            {"id": "745", "label": "NBA", "slug": "nba"},
        ],
        "seriesSlug": "nba",
        "startTime": f"{game.day.isoformat()}T23:00:00Z",
        "markets": [market],
    }


class Venues:
    """Fake Kalshi + fake Polymarket scripted with :func:`build_slate`.

    Args:
        day: the games' date (default: tomorrow, UTC).
        kalshi_key: verify Kalshi signatures with this key's public half; ``None`` accepts
            unsigned connections (``require_auth=False``).
        key_id: the Kalshi key id the signatures must name.

    Attributes: ``kalshi``, ``polymarket`` (the fakes), ``slate``, ``moved_ms`` (epoch ms of
    the price move, ``None`` before it).
    """

    def __init__(
        self,
        *,
        day: date | None = None,
        kalshi_key: rsa.RSAPrivateKey | None = None,
        key_id: str = TEST_KEY_ID,
    ) -> None:
        self.slate = build_slate(day or (datetime.now(UTC) + timedelta(days=1)).date())
        self.kalshi = FakeKalshi(
            public_key=kalshi_key.public_key() if kalshi_key is not None else None,
            key_id=key_id if kalshi_key is not None else None,
            require_auth=kalshi_key is not None,
            heartbeat_interval=5.0,
        )
        self.polymarket = FakePolymarket(idle_timeout=30.0)
        self.moved_ms: int | None = None
        self._script()

    def __repr__(self) -> str:
        return f"<Venues games={[g.name for g in self.slate]} moved_ms={self.moved_ms}>"

    def game(self, name: str) -> SlateGame:
        return next(g for g in self.slate if g.name == name)

    def _script(self) -> None:
        k, p = self.kalshi, self.polymarket
        k.add_series("KXNBAGAME", fee_multiplier=1, title="Pro Basketball Game")
        for n, g in enumerate(self.slate, 1):
            k.event_titles[g.game_id] = f"{g.away[1]} at {g.home[1]}"
            for team, ticker in ((g.away, g.away_ticker), (g.home, g.home_ticker)):
                k.add_market(
                    ticker,
                    event_ticker=g.game_id,
                    series_ticker="KXNBAGAME",
                    title=f"{g.away[1]} at {g.home[1]} Winner?",
                    yes_sub_title=team[1],
                    no_sub_title=team[1],
                    close_time=f"{g.day + timedelta(days=14)}T03:00:00Z",
                    expected_expiration_time=f"{g.day + timedelta(days=1)}T05:00:00Z",
                )
            p.events.append(_gamma_event(g, n))
        arb, quiet = self.game("arb"), self.game("quiet")
        # Kalshi books are bids per side: YES ask = 1 - best NO bid.
        # arb:   OKC YES ask 0.40, NO ask 0.62; SAS YES ask 0.60, NO ask 0.50.
        k.set_book(arb.away_ticker, yes=[("0.38", 100)], no=[("0.60", 100)])
        k.set_book(arb.home_ticker, yes=[("0.50", 100)], no=[("0.40", 100)])
        # quiet: BOS YES ask 0.48, NO ask 0.55; NYK YES ask 0.54, NO ask 0.56.
        k.set_book(quiet.away_ticker, yes=[("0.45", 100)], no=[("0.52", 100)])
        k.set_book(quiet.home_ticker, yes=[("0.44", 100)], no=[("0.46", 100)])
        # Polymarket before the move: every cross-venue pair costs >= 1.01 before fees.
        self._poly(arb, ("0.38", "0.45"), ("0.55", "0.62"))
        self._poly(quiet, ("0.46", "0.49"), ("0.50", "0.53"))

    def _poly(self, g: SlateGame, away: tuple[str, str], home: tuple[str, str]) -> None:
        for token, (bid, ask) in ((g.away_token, away), (g.home_token, home)):
            self.polymarket.set_book(token, [(bid, "100")], [(ask, "100")], market=g.condition_id)

    def move(self) -> bool:
        """Apply the scripted price move (once); False when it was already applied."""
        if self.moved_ms is not None:
            return False
        arb, quiet = self.game("arb"), self.game("quiet")
        # arb: Spurs ask falls to 0.50 -> Kalshi YES OKC 0.40 + Polymarket SAS 0.50 = 0.90.
        self._poly(arb, ("0.50", "0.52"), ("0.48", "0.50"))
        # quiet: Knicks ask falls to 0.52 -> Kalshi YES BOS 0.48 + 0.52 = 1.00: a loss after fees.
        self._poly(quiet, ("0.47", "0.50"), ("0.49", "0.52"))
        self.moved_ms = time.time_ns() // 1_000_000
        log.info("price move applied at %d", self.moved_ms)
        return True

    async def run(
        self, *, task_status: trio.TaskStatus[VenueUrls] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve both venues until cancelled; ``started`` with their :class:`VenueUrls`."""
        async with trio.open_nursery() as nursery:
            k = await nursery.start(self.kalshi.run)
            p = await nursery.start(self.polymarket.run)
            task_status.started(VenueUrls(k.ws_url, k.rest_url, p.ws_url, p.clob_url, p.gamma_url))


@asynccontextmanager
async def open_venues(**kwargs: Any) -> AsyncIterator[tuple[Venues, VenueUrls]]:
    """Run :class:`Venues` (keyword args as its own) for the block; yields it and its URLs."""
    venues = Venues(**kwargs)
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(venues.run)
        try:
            yield venues, urls
        finally:
            nursery.cancel_scope.cancel()


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON so a reader never sees a half-written file (temp file + rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def _state(venues: Venues, urls: VenueUrls, key_path: Path | None) -> dict[str, object]:
    return {
        "pid": os.getpid(),
        **attrs.asdict(urls),
        "kalshi_key_id": TEST_KEY_ID if key_path is not None else None,
        "kalshi_private_key_path": str(key_path) if key_path is not None else None,
        "games": [g.to_json() for g in venues.slate],
        "moved_ms": venues.moved_ms,
    }


async def _serve(
    state_file: Path,
    key: rsa.RSAPrivateKey | None,
    key_path: Path | None,
    move_after: float | None,
) -> None:
    venues = Venues(kalshi_key=key)
    with trio.open_signal_receiver(signal.SIGUSR1, signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            urls = await nursery.start(venues.run)
            write_json_atomic(state_file, _state(venues, urls, key_path))
            print(f"fake venues ready: {urls}; state in {state_file}", flush=True)

            def move(why: str) -> None:
                if venues.move():
                    write_json_atomic(state_file, _state(venues, urls, key_path))
                    print(f"price move applied ({why}) at {venues.moved_ms}", flush=True)

            if move_after is not None:

                async def delayed() -> None:
                    await trio.sleep(move_after)
                    move(f"after {move_after:g} s")

                nursery.start_soon(delayed)
            async for signum in signals:
                if signum != signal.SIGUSR1:
                    print(f"fake venues: {signal.Signals(signum).name}, stopping", flush=True)
                    nursery.cancel_scope.cancel()
                    break
                move("SIGUSR1")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m arbees.testing.venues``: serve the slate until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m arbees.testing.venues",
        description="Fake Kalshi (WebSocket + REST) and fake Polymarket (WebSocket + CLOB + "
        "Gamma) on 127.0.0.1 ports, scripted with two NBA games: one that turns into a "
        "cross-venue arbitrage when the price move is applied, one that never does. Send "
        "SIGUSR1 (or use --move-after) to apply the move.",
    )
    parser.add_argument("--state-file", required=True, help="where to write URLs and slate (JSON)")
    parser.add_argument(
        "--move-after", type=float, default=None, metavar="SEC", help="apply the move after SEC"
    )
    parser.add_argument(
        "--no-auth",
        action="store_true",
        help="accept unsigned Kalshi connections instead of verifying a generated test key",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    state_file = Path(args.state_file).resolve()
    key_path: Path | None = None
    key = None
    if not args.no_auth:
        key = generate_test_key()
        key_path = state_file.with_name("kalshi_test_key.pem")
        _write_key(key_path, key)
    trio.run(_serve, state_file, key, key_path, args.move_after)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
