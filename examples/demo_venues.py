"""Local stand-ins for Kalshi, Polymarket and the VPN, with one scripted NBA game.

``single_process.py --demo`` and the tests of the examples run against these, so every
example works offline. The fakes come from :mod:`arbees.testing` and speak the venues' real
protocols on 127.0.0.1 (WebSocket + REST), so the services under test cannot tell them from
the real thing; this module only scripts a market on them:

* Kalshi: series ``KXNBAGAME``, one event (tonight, Oklahoma City at San Antonio) with a
  market per team;
* Polymarket: the same game as a Gamma event with two outcome tokens (Thunder, Spurs),
  fee-enabled like a real sports market;
* a fake Gluetun control server that says the tunnel exits in the United Kingdom.

:meth:`DemoVenues.quiet` sets books with no arbitrage after fees and
:meth:`DemoVenues.open_arb` makes one appear (Kalshi YES OKC 0.40 + Polymarket Spurs 0.50).

Example::

    async with open_demo_venues() as venues:
        print(venues.kalshi_ws_url, venues.gamma_url)
        venues.open_arb()
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs
import trio

from arbees.testing.fake_gluetun import FakeGluetun
from arbees.testing.fake_kalshi import FakeKalshi
from arbees.testing.fake_polymarket import FakePolymarket

__all__ = ["EGRESS_API_KEY", "DemoVenues", "open_demo_venues"]

EGRESS_API_KEY = "demo-control-server-key"
P_OKC = "7" * 40
P_SAS = "8" * 40


def _event_ticker(day: dt.date) -> str:
    return f"KXNBAGAME-{day:%y}{day.strftime('%b').upper()}{day:%d}OKCSAS"


@attrs.define
class DemoVenues:
    """Where the running fakes listen, and the scripted game's instruments.

    Attributes:
        kalshi: the fake Kalshi (WebSocket + REST).
        polymarket: the fake Polymarket (WebSocket + CLOB/Gamma REST).
        gluetun: the fake VPN control server.
        kalshi_ws_url, kalshi_rest_url: Kalshi endpoints.
        polymarket_ws_url, clob_url, gamma_url: Polymarket endpoints.
        egress_url: the control server's public-IP route.
        event_ticker: the game's Kalshi event.
        k_okc, k_sas: Kalshi markets "OKC wins" / "SAS wins".
        condition: the Polymarket market's condition id.
    """

    kalshi: FakeKalshi
    polymarket: FakePolymarket
    gluetun: FakeGluetun
    kalshi_ws_url: str
    kalshi_rest_url: str
    polymarket_ws_url: str
    clob_url: str
    gamma_url: str
    egress_url: str
    event_ticker: str
    k_okc: str
    k_sas: str
    condition: str
    p_okc: str = P_OKC
    p_sas: str = P_SAS

    def quiet(self) -> None:
        """Books with no arbitrage after fees."""
        self.kalshi.set_book(self.k_okc, yes=[("0.38", 100)], no=[("0.60", 100)])
        self.kalshi.set_book(self.k_sas, yes=[("0.50", 100)], no=[("0.40", 100)])
        self.polymarket.set_book(
            self.p_okc, [("0.38", "100")], [("0.45", "100")], market=self.condition
        )
        self.polymarket.set_book(
            self.p_sas, [("0.55", "100")], [("0.62", "100")], market=self.condition
        )

    def open_arb(self) -> None:
        """The Spurs token's ask falls to 0.50: Kalshi YES OKC 0.40 + Spurs 0.50 < $1."""
        self.polymarket.set_book(
            self.p_okc, [("0.50", "100")], [("0.52", "100")], market=self.condition
        )
        self.polymarket.set_book(
            self.p_sas, [("0.48", "100")], [("0.50", "100")], market=self.condition
        )


def _script_game(kalshi: FakeKalshi, poly: FakePolymarket, day: dt.date) -> tuple[str, str]:
    event = _event_ticker(day)
    start = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=dt.UTC)
    kalshi.add_series("KXNBAGAME", fee_multiplier=1)
    kalshi.add_series("KXNHLGAME", fee_multiplier=1)  # no games tonight
    kalshi.event_titles[event] = "Oklahoma City at San Antonio"
    for team, name in (("OKC", "Oklahoma City"), ("SAS", "San Antonio")):
        kalshi.add_market(
            f"{event}-{team}",
            event_ticker=event,
            series_ticker="KXNBAGAME",
            title="Oklahoma City at San Antonio Winner?",
            yes_sub_title=name,
            no_sub_title=name,
            expected_expiration_time=(start + dt.timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    slug = f"nba-okc-sas-{day.isoformat()}"
    market = poly.add_market(
        "Thunder vs. Spurs",
        (P_OKC, P_SAS),
        outcomes=("Thunder", "Spurs"),
        event_title="Thunder vs. Spurs",
        slug=slug,
        gameStartTime=start.strftime("%Y-%m-%d %H:%M:%S+00"),
        feesEnabled=True,
        feeType="sports_fees_v2",
        feeSchedule={"rate": 0.05, "exponent": 1, "takerOnly": True, "rebateRate": 0.25},
        sportsMarketType="moneyline",
    )
    poly.events[-1].update(
        {
            "ticker": slug,
            "slug": slug,
            "tags": [
                {"id": "1", "label": "Sports", "slug": "sports"},
                {"id": "745", "label": "NBA", "slug": "nba"},
                {"id": "100639", "label": "Games", "slug": "games"},
            ],
            "seriesSlug": "nba",
            "startTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventDate": day.isoformat(),
        }
    )
    return event, str(market["conditionId"])


@asynccontextmanager
async def open_demo_venues(*, day: dt.date | None = None) -> AsyncIterator[DemoVenues]:
    """Run the three fakes with the scripted game (quiet books) for the block."""
    # The game is "tonight" in US Eastern time, as a real slate would be.
    day = day or (dt.datetime.now(dt.UTC) - dt.timedelta(hours=5)).date()
    kalshi = FakeKalshi(require_auth=False)
    poly = FakePolymarket()
    gluetun = FakeGluetun(country="United Kingdom", api_key=EGRESS_API_KEY)
    event, condition = _script_game(kalshi, poly, day)
    async with trio.open_nursery() as nursery:
        k_urls = await nursery.start(kalshi.run)
        p_urls = await nursery.start(poly.run)
        g_url = await nursery.start(gluetun.run)
        venues = DemoVenues(
            kalshi=kalshi,
            polymarket=poly,
            gluetun=gluetun,
            kalshi_ws_url=k_urls.ws_url,
            kalshi_rest_url=k_urls.rest_url,
            polymarket_ws_url=p_urls.ws_url,
            clob_url=p_urls.clob_url,
            gamma_url=p_urls.gamma_url,
            egress_url=f"{g_url}/v1/publicip/ip",
            event_ticker=event,
            k_okc=f"{event}-OKC",
            k_sas=f"{event}-SAS",
            condition=condition,
        )
        venues.quiet()
        yield venues
        nursery.cancel_scope.cancel()
