"""The REST half of the fake Kalshi venue: market/event/series state and a tiny h11 server.

:class:`FakeKalshiRest` holds the scriptable market state shared with the WebSocket half
(:class:`~arbees.testing.fake_kalshi.FakeKalshi` derives from it) and answers
``/series`` (by ``category``), ``/series/{t}``, ``/events`` (nested markets, cursor
pagination), ``/markets`` (filters, pagination), ``/markets/{t}`` and
``/markets/{t}/orderbook`` (``orderbook_fp``) under ``/trade-api/v2``. Requests that carry
``KALSHI-ACCESS-*`` headers are verified (path without query) and answered 401 when wrong.
:meth:`FakeKalshiRest.rate_limit_next` makes the next requests answer 429
``{"error": "too many requests"}`` like the venue.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import h11
import httpx
import trio
from cryptography.hazmat.primitives.asymmetric import rsa

from arbees.kalshi.auth import verify_headers
from arbees.money import ONE, Fixed

__all__ = ["API_ROOT", "FakeKalshiRest", "FakeMarket"]

API_ROOT = "/trade-api/v2"
_STATUS_FILTER = {
    "open": {"active"},
    "closed": {"closed"},
    "settled": {"determined", "finalized", "settled"},
    "unopened": {"initialized", "unopened"},
    "paused": {"inactive", "paused"},
}


def _price(p: Fixed) -> str:
    whole, frac = divmod(p, ONE)
    text = f"{whole}.{frac:06d}"
    return text[:-2] if text.endswith("00") else text


def _count(c: Fixed) -> str:
    whole, frac = divmod(c, ONE)
    return f"{whole}.{f'{frac:06d}'.rstrip('0').ljust(2, '0')}"


@attrs.define
class FakeMarket:
    """One scripted market (mutable: the fake changes it).

    Attributes:
        ticker: market ticker.
        event_ticker: its event (e.g. ``KXNBAGAME-26OCT20OKCSAS``).
        series_ticker: its series (e.g. ``KXNBAGAME``).
        title: market title.
        yes_sub_title: the team / outcome name.
        no_sub_title: as the venue sends it (often the SAME team).
        status: response status (``active``, ``closed``, ``determined``, ``finalized``...).
        close_time: ISO time.
        expected_expiration_time: ISO time.
        fee_waiver_expiration_time: ISO time or ``None``.
        market_id: a uuid.
        yes: YES bids price → size (micro-units).
        no: NO bids price → size.
        strike_type: ``"greater"`` for a total / spread market (``""``: none).
        floor_strike: the line YES is above (a decimal string), when set.
    """

    ticker: str
    event_ticker: str = ""
    series_ticker: str = ""
    title: str = ""
    yes_sub_title: str = ""
    no_sub_title: str = ""
    status: str = "active"
    close_time: str = "2026-10-21T06:00:00Z"
    expected_expiration_time: str = "2026-10-21T03:00:00Z"
    fee_waiver_expiration_time: str | None = None
    market_id: str = attrs.field(factory=lambda: str(uuid.uuid4()))
    yes: dict[Fixed, Fixed] = attrs.field(factory=dict)
    no: dict[Fixed, Fixed] = attrs.field(factory=dict)
    strike_type: str = ""
    floor_strike: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ticker": self.ticker,
            "event_ticker": self.event_ticker,
            "market_type": "binary",
            "title": self.title,
            "yes_sub_title": self.yes_sub_title,
            "no_sub_title": self.no_sub_title,
            "status": self.status,
            "close_time": self.close_time,
            "expected_expiration_time": self.expected_expiration_time,
            "yes_bid_dollars": _price(max(self.yes)) if self.yes else "0.0000",
            "yes_ask_dollars": _price(ONE - max(self.no)) if self.no else "1.0000",
            "price_level_structure": "linear_cent",
        }
        if self.fee_waiver_expiration_time is not None:
            out["fee_waiver_expiration_time"] = self.fee_waiver_expiration_time
        if self.strike_type:
            out["strike_type"] = self.strike_type
        if self.floor_strike is not None:
            out["floor_strike"] = self.floor_strike
        return out


class FakeKalshiRest:
    """Scriptable REST state + handler (see the module docstring)."""

    def __init__(
        self, *, public_key: rsa.RSAPublicKey | None = None, key_id: str | None = None
    ) -> None:
        self.public_key = public_key
        self.key_id = key_id
        self.markets: dict[str, FakeMarket] = {}
        self.series: dict[str, dict[str, Any]] = {}
        self.event_titles: dict[str, str] = {}
        self.rest_requests: list[tuple[str, str]] = []
        self._rate_limited = 0

    # ------------------------------------------------------------------ scripting
    def add_market(self, ticker: str, **fields: Any) -> FakeMarket:
        """Create or update a market (keyword fields as in :class:`FakeMarket`)."""
        market = self.markets.get(ticker)
        if market is None:
            if "event_ticker" not in fields and "-" in ticker:
                fields["event_ticker"] = ticker.rsplit("-", 1)[0]
            if "series_ticker" not in fields:
                fields["series_ticker"] = (fields.get("event_ticker") or ticker).split("-")[0]
            market = self.markets[ticker] = FakeMarket(ticker, **fields)
        else:
            for k, v in fields.items():
                setattr(market, k, v)
        return market

    def market(self, ticker: str) -> FakeMarket:
        """The market, created with defaults if unknown."""
        return self.markets.get(ticker) or self.add_market(ticker)

    def add_series(
        self,
        ticker: str,
        *,
        fee_type: str = "quadratic",
        fee_multiplier: object = 1,
        title: str = "",
    ) -> None:
        self.series[ticker] = {
            "ticker": ticker,
            "title": title or ticker,
            "frequency": "custom",
            "category": "Sports",
            "fee_type": fee_type,
            "fee_multiplier": fee_multiplier,
        }

    def rate_limit_next(self, count: int = 1) -> None:
        """Answer the next ``count`` REST requests with 429."""
        self._rate_limited += count

    # ------------------------------------------------------------------ handling
    def handle_rest(
        self, method: str, target: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        """Answer one request (``target`` = path + query); returns ``(status, json body)``."""
        parts = urlsplit(target)
        path = parts.path
        self.rest_requests.append((method, target))
        if self._rate_limited > 0:
            self._rate_limited -= 1
            return 429, {"error": "too many requests"}
        if any(k.lower().startswith("kalshi-access-") for k in headers) and (
            self.public_key is not None
            and not verify_headers(self.public_key, headers, method, path, key_id=self.key_id)
        ):
            return 401, {"error": "unauthorized"}
        if method != "GET" or not path.startswith(API_ROOT + "/"):
            return 404, {"error": "not found"}
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        route = path[len(API_ROOT) + 1 :].split("/")
        if route[0] == "series" and len(route) == 1:  # GET /series?category=
            listed = [
                s
                for s in self.series.values()
                if "category" not in query or s["category"] == query["category"]
            ]
            return 200, {"series": listed, "cursor": ""}
        if route[0] == "series" and len(route) == 2:
            series = self.series.get(route[1])
            return (200, {"series": series}) if series else (404, {"error": "not found"})
        if route[0] == "events" and len(route) == 1:
            return 200, self._events(query)
        if route[0] == "markets" and len(route) == 1:
            return 200, self._markets(query)
        if route[0] == "markets" and len(route) in (2, 3):
            market = self.markets.get(route[1])
            if market is None:
                return 404, {"error": "not found"}
            if len(route) == 2:
                return 200, {"market": market.to_json()}
            if route[2] == "orderbook":
                book = {
                    "yes_dollars": [[_price(p), _count(s)] for p, s in sorted(market.yes.items())],
                    "no_dollars": [[_price(p), _count(s)] for p, s in sorted(market.no.items())],
                }
                return 200, {"orderbook_fp": book}
        return 404, {"error": "not found"}

    @staticmethod
    def _page(items: list[Any], query: dict[str, str], cap: int) -> tuple[list[Any], str]:
        start = int(query.get("cursor") or 0)
        limit = min(int(query.get("limit") or 100), cap)
        end = start + limit
        return items[start:end], (str(end) if end < len(items) else "")

    def _select(self, query: dict[str, str]) -> list[FakeMarket]:
        out = list(self.markets.values())
        if "series_ticker" in query:
            out = [m for m in out if m.series_ticker == query["series_ticker"]]
        if "event_ticker" in query:
            wanted = set(query["event_ticker"].split(","))
            out = [m for m in out if m.event_ticker in wanted]
        if "tickers" in query:
            wanted = set(query["tickers"].split(","))
            out = [m for m in out if m.ticker in wanted]
        if "status" in query:
            ok = _STATUS_FILTER.get(query["status"], {query["status"]})
            out = [m for m in out if m.status in ok]
        return out

    def _markets(self, query: dict[str, str]) -> dict[str, Any]:
        page, cursor = self._page(self._select(query), query, 1000)
        return {"markets": [m.to_json() for m in page], "cursor": cursor}

    def _events(self, query: dict[str, str]) -> dict[str, Any]:
        markets = self._select(query)
        events: dict[str, list[FakeMarket]] = {}
        for m in markets:
            events.setdefault(m.event_ticker, []).append(m)
        page, cursor = self._page(sorted(events), query, 200)
        nested = query.get("with_nested_markets", "").lower() == "true"
        out = []
        for et in page:
            ev: dict[str, Any] = {
                "event_ticker": et,
                "series_ticker": events[et][0].series_ticker,
                "title": self.event_titles.get(et, et),
                "sub_title": "",
                "mutually_exclusive": True,
            }
            if nested:
                ev["markets"] = [m.to_json() for m in events[et]]
            out.append(ev)
        return {"events": out, "cursor": cursor}

    def mock_transport(self) -> httpx.MockTransport:
        """An in-process ``httpx`` transport answering like :meth:`serve_rest` (unit tests)."""

        def handler(request: httpx.Request) -> httpx.Response:
            target = request.url.raw_path.decode("ascii")
            status, body = self.handle_rest(request.method, target, dict(request.headers))
            return httpx.Response(status, json=body)

        return httpx.MockTransport(handler)

    async def serve_rest(
        self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve the REST API over HTTP/1.1 on 127.0.0.1; ``started`` with the port."""
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        port = listeners[0].socket.getsockname()[1]
        async with trio.open_nursery() as nursery:
            await nursery.start(trio.serve_listeners, self._serve_http, listeners)
            task_status.started(port)

    async def _serve_http(self, stream: trio.SocketStream) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                event = conn.next_event()
                while event is h11.NEED_DATA:
                    conn.receive_data(await stream.receive_some(65536))
                    event = conn.next_event()
                if not isinstance(event, h11.Request):
                    return
                while not isinstance(conn.next_event(), h11.EndOfMessage | h11.ConnectionClosed):
                    conn.receive_data(await stream.receive_some(65536))
                headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in event.headers}
                status, body = self.handle_rest(
                    event.method.decode(), event.target.decode("ascii"), headers
                )
                data = json.dumps(body).encode()
                head = h11.Response(
                    status_code=status,
                    headers=[
                        ("content-type", "application/json"),
                        ("content-length", str(len(data))),
                    ],
                )
                await stream.send_all(conn.send(head) or b"")
                await stream.send_all(conn.send(h11.Data(data=data)) or b"")
                await stream.send_all(conn.send(h11.EndOfMessage()) or b"")
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return
                conn.start_next_cycle()
        except (h11.RemoteProtocolError, trio.BrokenResourceError, trio.ClosedResourceError):
            return
        finally:
            await stream.aclose()
