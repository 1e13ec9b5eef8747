"""A fake Polymarket on loopback: the market WebSocket and the CLOB/Gamma REST endpoints.

It speaks the market channel as the live venue does (see ``docs/polymarket.md``), quirks
included, so the feed is tested against behaviour rather than against our own assumptions:

* subscribe with ``{"assets_ids": [...], "type": "market"}``; the initial dump is ONE JSON
  array with a ``book`` per known token, levels in LIVE order (bids ascending, asks
  descending); unknown tokens are simply absent (``[]`` if none is known);
* ``{"operation": "subscribe"|"unsubscribe"}`` on a live socket, no ack; a dynamic
  subscribe of a new token sends its ``book``;
* at most ``max_assets`` (500) assets per connection: above it, snapshots and updates for
  the extra assets silently never come;
* text ``PING`` -> text ``PONG`` (also while "stalled");
* a socket that does not subscribe within ``idle_timeout`` is dropped without a word;
* :meth:`FakePolymarket.set_level` broadcasts a ``price_change`` with ``best_bid`` /
  ``best_ask``; :meth:`FakePolymarket.set_book` replaces a book (and broadcasts it).

Knobs for the bad days: :attr:`FakePolymarket.stalled` (keep answering PONG, send no data),
:meth:`FakePolymarket.stall_connection` (the same for ONE socket: it answers PONG but its
data is silently dropped, while other and later sockets are served), :attr:`accept_delay`
(a slow handshake, to catch what happens while a client is still connecting),
:meth:`FakePolymarket.disconnect_all`, :meth:`FakePolymarket.send_raw` (garbage frames).
The REST books always serve the TRUE state (every ``set_book`` / ``set_level`` applies even
while sockets are stalled), as the live venue does when a socket has silently stopped.
``on_send(frame, time_ns)`` is called for each data frame sent (latency measurements).

REST (same port): ``GET /book``, ``POST /books`` (CLOB) and ``GET /events``, ``GET /markets``,
``GET /teams``, ``GET /sports``
(Gamma, ``limit``/``offset`` pagination, JSON arrays encoded as strings as live).
``/sports`` serves :attr:`FakePolymarket.sports` (:data:`DEFAULT_SPORTS`: the leagues of the
league table with their public series ids, plus sports no league maps); ``/events?series_id=``
serves the events of that series: an event's ``series`` ids when it lists them, else (the
fake's shortcut for hand-built events) the events whose sport, ``seriesSlug`` or slug prefix
is the same league as the series' sport code.
:meth:`FakePolymarket.fail_next` makes the next requests answer 429/5xx.

Example::

    fake = FakePolymarket()
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        fake.set_book("123", bids=[("0.48", "10")], asks=[("0.52", "5")])
        # connect a feed to urls.ws_url, a REST client to urls.clob_url / urls.gamma_url
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import math
import time
from collections.abc import Callable, Iterable
from functools import partial

import attrs
import trio
from trio_websocket import WebSocketConnection, WebSocketRequest, serve_websocket

from arbees.matching.leagues import gamma_league
from arbees.money import format_fixed, parse_fixed
from arbees.testing.fake_polymarket_http import page, serve_http
from arbees.testing.fake_ws import serve_connection

__all__ = ["DEFAULT_SPORTS", "FakePolymarket", "FakeUrls"]

log = logging.getLogger(__name__)

Levels = Iterable[tuple[str, str]]

# (sport code, series id, ordering, resolution): series ids as public code quoted them from
# GET /sports on 2026-02-10 (mlb's was not among them: invented); see tests/data/README
_SPORTS = (
    ("nfl", "10187", "away", "https://www.nfl.com/"),
    ("epl", "10188", "home", "https://www.premierleague.com/"),
    ("mls", "10189", "home", "https://www.mlssoccer.com/"),
    ("lal", "10193", "home", "https://www.laliga.com/"),
    ("bun", "10194", "home", "https://www.bundesliga.com/"),
    ("fl1", "10195", "home", "https://ligue1.com/"),
    ("sea", "10203", "home", "https://www.legaseriea.it/"),
    ("ucl", "10204", "home", "https://www.uefa.com/uefachampionsleague/"),
    ("cfb", "10210", "away", "https://www.ncaa.com/"),
    ("nba", "10345", "away", "https://www.nba.com/"),
    ("nhl", "10346", "away", "https://www.nhl.com/"),
    ("ncaab", "39", "away", "https://www.ncaa.com/"),
    ("mlb", "3", "away", "https://www.mlb.com/"),
    ("atp", "10365", "home", "https://www.atptour.com/"),
    ("cs2", "10310", "home", "https://www.hltv.org/"),
)
DEFAULT_SPORTS: tuple[dict[str, object], ...] = tuple(
    {
        "id": i,
        "sport": code,
        "image": f"https://example.invalid/sports/{code}.png",
        "resolution": resolution,
        "ordering": ordering,
        "tags": "1,100639",
        "series": series,
        "createdAt": "2025-11-05T17:04:00.000000Z",
    }
    for i, (code, series, ordering, resolution) in enumerate(_SPORTS, 1)
)
"""The fake's ``/sports`` body: every league of the league table and two sports none maps."""


@attrs.frozen
class FakeUrls:
    """Where the fake venue listens.

    Attributes:
        ws_url: market-channel WebSocket URL.
        clob_url: CLOB REST base URL.
        gamma_url: Gamma REST base URL (same server).
    """

    ws_url: str
    clob_url: str
    gamma_url: str


@attrs.define
class _Book:
    market: str
    bids: dict[int, int] = attrs.Factory(dict)
    asks: dict[int, int] = attrs.Factory(dict)
    tick_size: str = "0.01"


@attrs.define(eq=False)
class _Conn:
    ws: WebSocketConnection
    send_channel: trio.MemorySendChannel[str]
    receive_channel: trio.MemoryReceiveChannel[str]
    scope: trio.CancelScope = attrs.Factory(trio.CancelScope)
    assets: list[str] = attrs.Factory(list)
    subscribed: trio.Event = attrs.Factory(trio.Event)
    stalled: bool = False


class FakePolymarket:
    """Scriptable fake Polymarket (see the module docstring)."""

    def __init__(self, *, max_assets: int = 500, idle_timeout: float = 5.0) -> None:
        self.max_assets = max_assets
        self.idle_timeout = idle_timeout
        self.books: dict[str, _Book] = {}
        self.markets: list[dict[str, object]] = []
        self.events: list[dict[str, object]] = []
        self.teams: list[dict[str, object]] = []
        self.sports: list[dict[str, object]] = [dict(s) for s in DEFAULT_SPORTS]
        self.connections: list[_Conn] = []
        self.stalled = False
        self.accept_delay = 0.0
        self.on_send: Callable[[str, int], None] | None = None
        self.requests: list[tuple[str, str]] = []
        self.series_asked: list[str] = []  # each /events?series_id= in order
        self.total_connections = 0
        self._failures: list[tuple[int, str | None]] = []
        self._ts = itertools.count(1_760_000_000_000)

    # -- state ----------------------------------------------------------------------------

    def set_book(
        self, token: str, bids: Levels, asks: Levels, *, market: str = "", broadcast: bool = True
    ) -> None:
        """Replace a token's book (prices/sizes as decimal strings); send it to subscribers."""
        old = self.books.get(token)
        book = _Book(market or (old.market if old else "0x" + token[-64:].rjust(64, "0")))
        if old is not None:
            book.tick_size = old.tick_size  # a tick change is its own event, never implied
        book.bids = {parse_fixed(p): parse_fixed(s) for p, s in bids if parse_fixed(s)}
        book.asks = {parse_fixed(p): parse_fixed(s) for p, s in asks if parse_fixed(s)}
        self.books[token] = book
        if broadcast:
            self._broadcast(token, json.dumps(self._book_event(token)))

    def set_level(self, token: str, side: str, price: str, size: str) -> None:
        """Set one level's total size ("0" deletes); broadcast a ``price_change``."""
        book = self.books[token]
        levels = book.bids if side.upper() == "BUY" else book.asks
        p, s = parse_fixed(price), parse_fixed(size)
        if s:
            levels[p] = s
        else:
            levels.pop(p, None)
        entry = {
            "asset_id": token,
            "price": price,
            "size": size,
            "side": side.upper(),
            "hash": f"{next(self._ts):x}",
            "best_bid": format_fixed(max(book.bids)) if book.bids else "0",
            "best_ask": format_fixed(min(book.asks)) if book.asks else "1",
        }
        frame = {
            "market": book.market,
            "price_changes": [entry],
            "timestamp": str(_now_ms()),
            "event_type": "price_change",
        }
        self._broadcast(token, json.dumps(frame))

    def add_market(
        self,
        question: str,
        tokens: tuple[str, str],
        *,
        outcomes: tuple[str, str] = ("Yes", "No"),
        event_title: str | None = None,
        **extra: object,
    ) -> dict[str, object]:
        """Add a Gamma market (and its event); returns the market JSON as Gamma serves it."""
        n = len(self.markets) + 1
        market: dict[str, object] = {
            "id": str(100000 + n),
            "question": question,
            "conditionId": "0x" + f"{n:064x}",
            "slug": question.lower().replace(" ", "-")[:60],
            "outcomes": json.dumps(list(outcomes)),
            "outcomePrices": json.dumps(["0.5", "0.5"]),
            "clobTokenIds": json.dumps(list(tokens)),
            "active": True,
            "closed": False,
            "enableOrderBook": True,
            "orderPriceMinTickSize": 0.01,
            "orderMinSize": 5,
            "volume": "0",
            "volumeNum": 0,
            "negRisk": False,
            "feesEnabled": False,
        }
        market.update(extra)
        self.markets.append(market)
        event = {
            "id": str(200000 + n),
            "title": event_title or question,
            "slug": str(market["slug"]),
            "active": True,
            "closed": False,
            "markets": [market],
        }
        self.events.append(event)
        for token in tokens:
            self.books.setdefault(token, _Book(str(market["conditionId"])))
        return market

    # -- knobs ----------------------------------------------------------------------------

    def disconnect_all(self) -> None:
        """Close every WebSocket connection (server side)."""
        for conn in list(self.connections):
            conn.scope.cancel()

    def stall_connection(self, index: int = -1, stalled: bool = True) -> None:
        """Silently drop every data frame to one open connection (PONG still answered).

        ``index`` is into :attr:`connections` (oldest first; ``-1`` = the newest). New
        connections are not affected, so a client that reconnects is served again.
        """
        self.connections[index].stalled = stalled

    def send_raw(self, frame: str) -> None:
        """Send a raw text frame to every subscribed connection (e.g. garbage)."""
        for conn in self.connections:
            if not conn.stalled:
                self._send(conn, frame)

    def fail_next(self, status: int, count: int = 1, path: str | None = None) -> None:
        """Answer the next ``count`` REST requests (optionally only to ``path``) with ``status``."""
        self._failures.extend([(status, path)] * count)

    # -- wire -----------------------------------------------------------------------------

    def _book_event(self, token: str) -> dict[str, object]:
        book = self.books[token]
        return {
            "market": book.market,
            "asset_id": token,
            "timestamp": str(_now_ms()),
            "hash": f"{next(self._ts):x}",
            # LIVE order: bids ascending and asks descending (best price LAST in both).
            "bids": [
                {"price": format_fixed(p), "size": format_fixed(book.bids[p])}
                for p in sorted(book.bids)
            ],
            "asks": [
                {"price": format_fixed(p), "size": format_fixed(book.asks[p])}
                for p in sorted(book.asks, reverse=True)
            ],
            "tick_size": book.tick_size,
            "last_trade_price": "",
            "event_type": "book",
        }

    def _send(self, conn: _Conn, frame: str) -> None:
        with contextlib.suppress(trio.WouldBlock, trio.ClosedResourceError):
            conn.send_channel.send_nowait(frame)

    def _broadcast(self, token: str, frame: str) -> None:
        if self.stalled:
            return
        for conn in self.connections:
            if not conn.stalled and token in conn.assets[: self.max_assets]:
                self._send(conn, frame)

    def _snapshots(self, conn: _Conn, tokens: list[str]) -> None:
        if self.stalled or conn.stalled:
            return
        allowed = set(conn.assets[: self.max_assets])
        dump = [self._book_event(t) for t in tokens if t in self.books and t in allowed]
        self._send(conn, json.dumps(dump))

    async def _writer(self, conn: _Conn) -> None:
        async for frame in conn.receive_channel:
            await conn.ws.send_message(frame)
            if frame != "PONG" and self.on_send is not None:
                self.on_send(frame, time.time_ns())

    async def _idle_killer(self, conn: _Conn) -> None:
        with trio.move_on_after(self.idle_timeout):
            await conn.subscribed.wait()
            return
        conn.scope.cancel()  # the live server drops idle unsubscribed sockets silently

    def _on_message(self, conn: _Conn, text: str) -> None:
        if text == "PING":
            self._send(conn, "PONG")
            return
        try:
            body = json.loads(text)
        except ValueError:
            return
        if not isinstance(body, dict) or not isinstance(body.get("assets_ids"), list):
            return
        ids = [str(t) for t in body["assets_ids"]]
        op = body.get("operation")
        if op == "unsubscribe":
            conn.assets = [t for t in conn.assets if t not in set(ids)]
            return
        new = [t for t in ids if t not in conn.assets]
        conn.assets.extend(new)
        conn.subscribed.set()
        if op == "subscribe":
            if new:
                self._snapshots(conn, new)
        elif body.get("initial_dump", True):
            self._snapshots(conn, new)

    async def _ws_handler(self, request: WebSocketRequest) -> None:
        if self.accept_delay > 0:
            await trio.sleep(self.accept_delay)
        ws = await request.accept()
        send, receive = trio.open_memory_channel[str](math.inf)
        conn = _Conn(ws, send, receive)
        self.total_connections += 1
        await serve_connection(
            ws,
            conn,
            self.connections,
            scope=conn.scope,
            send=send,
            tasks=(partial(self._writer, conn), partial(self._idle_killer, conn)),
            on_message=lambda message: self._on_message(conn, str(message)),
        )

    # -- REST -----------------------------------------------------------------------------

    def _rest_book(self, token: str) -> dict[str, object]:
        ev = self._book_event(token)
        ev.pop("event_type")
        ev.update({"min_order_size": "5", "neg_risk": False})
        return ev

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes
    ) -> tuple[int, object]:
        self.requests.append((method, path))
        for i, (status, only) in enumerate(self._failures):
            if only is None or only == path:
                del self._failures[i]
                return status, {"error": f"injected {status}"}
        if method == "GET" and path == "/book":
            token = (query.get("token_id") or [""])[0]
            if not token:
                return 400, {"error": "Invalid payload"}
            if token not in self.books:
                return 404, {"error": "No orderbook exists for the requested token id"}
            return 200, self._rest_book(token)
        if method == "POST" and path == "/books":
            try:
                wanted = [str(item["token_id"]) for item in json.loads(body)]
            except (ValueError, TypeError, KeyError):
                return 400, {"error": "Invalid payload"}
            return 200, [self._rest_book(t) for t in wanted if t in self.books]
        if method == "GET" and path == "/teams":
            return 200, page(self.teams, query)
        if method == "GET" and path == "/sports":
            return 200, self.sports
        if method == "GET" and path in ("/events", "/markets"):
            items = self.events if path == "/events" else self.markets
            closed = (query.get("closed") or ["false"])[0] == "true"
            items = [i for i in items if bool(i.get("closed")) == closed]
            if path == "/events" and (series := (query.get("series_id") or [""])[0]):
                self.series_asked.append(series)
                items = [i for i in items if self._in_series(i, series)]
            return 200, page(items, query)
        return 404, {"error": "not found"}

    def _in_series(self, event: dict[str, object], series: str) -> bool:
        listed = event.get("series")
        if isinstance(listed, list):
            return any(isinstance(s, dict) and str(s.get("id")) == series for s in listed)
        code = next((s.get("sport") for s in self.sports if str(s.get("series")) == series), None)
        league = gamma_league(code) if isinstance(code, str) else None
        sport = event.get("sport")
        names = [
            sport.get("sport") if isinstance(sport, dict) else sport,
            event.get("seriesSlug"),
            str(event.get("slug", "")).split("-", 1)[0],
        ]
        return league is not None and any(
            isinstance(n, str) and n and gamma_league(n) == league for n in names
        )

    # -- lifecycle ------------------------------------------------------------------------

    async def run(
        self, *, task_status: trio.TaskStatus[FakeUrls] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve until cancelled; ``started`` with the :class:`FakeUrls` once listening."""
        async with trio.open_nursery() as nursery:
            server = await nursery.start(
                partial(serve_websocket, self._ws_handler, "127.0.0.1", 0, ssl_context=None)
            )
            port = await nursery.start(serve_http, self._route)
            http = f"http://127.0.0.1:{port}"
            task_status.started(FakeUrls(f"ws://127.0.0.1:{server.port}/ws/market", http, http))


def _now_ms() -> int:
    """The venue's send time of a frame: the wall clock, as the venue stamps its messages
    (a shard ages a price by it, :class:`arbees.lag.VenueClock`)."""
    return time.time_ns() // 1_000_000
