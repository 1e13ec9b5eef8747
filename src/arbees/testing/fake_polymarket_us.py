"""A fake Polymarket US on loopback: the markets WebSocket and the public REST endpoints.

Faithful to the venue's documentation (docs.polymarket.us; see
:mod:`arbees.polymarket_us.wire`), so the feed is tested against the documented format:

* the WebSocket lives at ``/v1/ws/markets``; with a ``public_key`` every upgrade must carry
  ``X-PM-Access-Key`` / ``X-PM-Timestamp`` / ``X-PM-Signature`` with an Ed25519
  signature over ``timestamp + "GET" + "/v1/ws/markets"``: anything else (a signature over
  ``/``, a stale timestamp, another key) is refused with HTTP 401;
* ``{"subscribe": {"request_id", "subscription_type": 1, "market_slugs": [...]}}``:
  more than 100 slugs is an error frame; otherwise each known market's full book is sent
  (``market_data``, levels best first), and every later book change is broadcast to the
  subscriptions holding the market as a full replacement;
* ``shape="delta"`` (the other reading of the venue's books): a subscription still starts
  with full books, but later changes carry only the levels that changed, as new totals
  (``qty`` ``"0"`` removes a level);
* ``{"unsubscribe": {"request_id"}}`` ends that subscription;
* optional server heartbeats (``{"heartbeat": {}}`` every ``heartbeat_interval``).

REST (another port): ``GET /v1/events``, ``GET /v1/markets`` (``limit``/``offset``),
``GET /v1/markets/{slug}/book`` and ``/bbo`` (``bidDepth``/``askDepth`` = level counts).

Knobs: :meth:`FakePolymarketUs.disconnect_all`, :meth:`FakePolymarketUs.send_raw`,
:attr:`FakePolymarketUs.down` (refuse every upgrade with 503: a maintenance window),
:attr:`FakePolymarketUs.stalled` (book changes are not broadcast, REST stays true: a
silently stalled socket; a new subscription still gets its snapshots).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import partial

import attrs
import trio
from cryptography.hazmat.primitives.asymmetric import ed25519
from trio_websocket import WebSocketConnection, WebSocketRequest, serve_websocket

from arbees.money import format_fixed, parse_fixed
from arbees.polymarket_us.auth import WS_MARKETS_PATH, verify_headers
from arbees.polymarket_us.wire import MAX_MARKETS_PER_SUBSCRIPTION
from arbees.testing.fake_polymarket_http import page, serve_http
from arbees.testing.fake_ws import serve_connection, write_frames

__all__ = ["FakePolymarketUs", "FakePolymarketUsUrls"]

log = logging.getLogger(__name__)

Levels = Iterable[tuple[str, str]]


@attrs.frozen
class FakePolymarketUsUrls:
    """Where the fake listens.

    Attributes:
        ws_url: the markets WebSocket (path ``/v1/ws/markets``).
        rest_url: the REST gateway root.
    """

    ws_url: str
    rest_url: str


@attrs.define(eq=False)
class _Conn:
    ws: WebSocketConnection
    send_channel: trio.MemorySendChannel[str]
    scope: trio.CancelScope = attrs.Factory(trio.CancelScope)
    subscriptions: dict[str, list[str]] = attrs.Factory(dict)


class FakePolymarketUs:
    """Scriptable fake Polymarket US (see the module docstring).

    Args:
        public_key: verify every upgrade's signature with it; ``None`` accepts unsigned.
        key_id: the key id the signatures must name (with ``public_key``).
        heartbeat_interval: seconds between server heartbeats (``None``: none).
        shape: ``"full"`` (every book message a full book) or ``"delta"``.
    """

    def __init__(
        self,
        *,
        public_key: ed25519.Ed25519PublicKey | None = None,
        key_id: str | None = None,
        heartbeat_interval: float | None = None,
        shape: str = "full",
    ) -> None:
        self.shape = shape
        self.public_key = public_key
        self.key_id = key_id
        self.heartbeat_interval = heartbeat_interval
        self.books: dict[str, tuple[dict[int, int], dict[int, int]]] = {}
        self.events: list[dict[str, object]] = []
        self.markets: list[dict[str, object]] = []
        self.connections: list[_Conn] = []
        self.rejected_upgrades = 0
        self.total_connections = 0
        self.down = False
        self.requests: list[str] = []
        self.subscribed = trio.Event()  # set by the first subscription (tests wait on it)
        self.stalled = False

    # -- state ----------------------------------------------------------------------------

    def set_book(self, slug: str, bids: Levels = (), offers: Levels = ()) -> None:
        """Replace a market's book and broadcast it to the subscriptions holding it (not
        while :attr:`stalled`: REST still serves the true book)."""
        old = self.books.get(slug)
        self.books[slug] = new = (
            {parse_fixed(p): parse_fixed(q) for p, q in bids},
            {parse_fixed(p): parse_fixed(q) for p, q in offers},
        )
        if self.stalled:
            return
        change: tuple[dict[int, int], dict[int, int]] | None = None
        if self.shape == "delta" and old is not None:

            def diff(before: dict[int, int], after: dict[int, int]) -> dict[int, int]:
                return {
                    p: after.get(p, 0)
                    for p in before.keys() | after.keys()
                    if before.get(p) != after.get(p)
                }

            change = (diff(old[0], new[0]), diff(old[1], new[1]))
        for conn in self.connections:
            for request_id, slugs in conn.subscriptions.items():
                if slug in slugs:
                    self._send(conn, self._market_data(request_id, slug, change))

    def disconnect_all(self) -> None:
        """Drop every socket (the client should reconnect and resubscribe)."""
        for conn in list(self.connections):
            conn.scope.cancel()

    def send_raw(self, frame: str) -> None:
        """Send a frame as is to every socket (garbage tests)."""
        for conn in self.connections:
            self._send(conn, frame)

    @property
    def subscription_sizes(self) -> list[int]:
        """Markets per live subscription, over every socket."""
        return [len(s) for c in self.connections for s in c.subscriptions.values()]

    # -- frames ---------------------------------------------------------------------------

    def _market_data(
        self,
        request_id: str,
        slug: str,
        change: tuple[dict[int, int], dict[int, int]] | None = None,
    ) -> str:
        bids, offers = self.books[slug] if change is None else change

        def side(levels: dict[int, int], best_high: bool) -> list[dict[str, object]]:
            return [
                {
                    "px": {"value": format_fixed(p), "currency": "USD"},
                    "qty": format_fixed(levels[p]),
                }
                for p in sorted(levels, reverse=best_high)
            ]

        return json.dumps(
            {
                "request_id": request_id,
                "subscription_type": 1,
                "market_data": {
                    "market_slug": slug,
                    "bids": side(bids, True),
                    "offers": side(offers, False),
                    "state": 1,
                    "transact_time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                },
            }
        )

    def _send(self, conn: _Conn, frame: str) -> None:
        with contextlib.suppress(trio.WouldBlock, trio.ClosedResourceError):
            conn.send_channel.send_nowait(frame)

    def _on_message(self, conn: _Conn, text: str) -> None:
        try:
            body = json.loads(text)
        except ValueError:
            return
        if not isinstance(body, dict):
            return
        sub, unsub = body.get("subscribe"), body.get("unsubscribe")
        if isinstance(unsub, dict):
            conn.subscriptions.pop(str(unsub.get("request_id")), None)
        if not isinstance(sub, dict):
            return
        request_id = str(sub.get("request_id", ""))
        slugs = sub.get("market_slugs")
        if not isinstance(slugs, list) or not slugs or sub.get("subscription_type") != 1:
            self._send(conn, json.dumps({"request_id": request_id, "error": "bad subscribe"}))
            return
        if len(slugs) > MAX_MARKETS_PER_SUBSCRIPTION:
            error = f"at most {MAX_MARKETS_PER_SUBSCRIPTION} markets per subscription"
            self._send(conn, json.dumps({"request_id": request_id, "error": error}))
            return
        conn.subscriptions[request_id] = [str(s) for s in slugs]
        for slug in conn.subscriptions[request_id]:
            if slug in self.books:
                self._send(conn, self._market_data(request_id, slug))
        self.subscribed.set()

    # -- sockets --------------------------------------------------------------------------

    def _authorized(self, request: WebSocketRequest) -> bool:
        if self.public_key is None:
            return True
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers}
        # The venue checks the signature over its documented path, whatever was signed.
        return verify_headers(self.public_key, headers, "GET", WS_MARKETS_PATH, key_id=self.key_id)

    async def _ws_handler(self, request: WebSocketRequest) -> None:
        if self.down:
            await request.reject(503, body=b"maintenance")
            return
        if request.path.split("?", 1)[0] != WS_MARKETS_PATH:
            await request.reject(404)
            return
        if not self._authorized(request):
            self.rejected_upgrades += 1
            await request.reject(401, body=b'{"error": "unauthorized"}')
            return
        ws = await request.accept()
        send, receive = trio.open_memory_channel[str](math.inf)
        conn = _Conn(ws, send)
        self.total_connections += 1
        tasks = [partial(write_frames, ws, receive)]
        if self.heartbeat_interval is not None:
            tasks.append(partial(self._heartbeats, conn, self.heartbeat_interval))
        await serve_connection(
            ws,
            conn,
            self.connections,
            scope=conn.scope,
            send=send,
            tasks=tasks,
            on_message=lambda message: self._on_message(conn, str(message)),
        )

    async def _heartbeats(self, conn: _Conn, interval: float) -> None:
        while True:
            await trio.sleep(interval)
            self._send(conn, json.dumps({"heartbeat": {"ts": time.time_ns() // 1_000_000}}))

    # -- REST -----------------------------------------------------------------------------

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes
    ) -> tuple[int, object]:
        self.requests.append(path)
        if method != "GET":
            return 405, {"error": "method not allowed"}
        if path in ("/v1/events", "/v1/markets"):
            key = path.rsplit("/", 1)[1]
            items = self.events if key == "events" else self.markets
            return 200, {key: page(items, query)}
        parts = path.split("/")
        if len(parts) == 5 and parts[:3] == ["", "v1", "markets"] and parts[4] in ("book", "bbo"):
            slug = parts[3]
            if slug not in self.books:
                return 404, {"error": "market not found"}
            bids, offers = self.books[slug]
            if parts[4] == "book":
                data = json.loads(self._market_data("", slug))["market_data"]
                return 200, {
                    "marketData": {
                        "marketSlug": slug,
                        "bids": data["bids"],
                        "offers": data["offers"],
                        "state": "MARKET_STATE_OPEN",
                        "transactTime": data["transact_time"],
                    }
                }
            md: dict[str, object] = {
                "marketSlug": slug,
                "bidDepth": len(bids),
                "askDepth": len(offers),
            }
            if bids:
                md["bestBid"] = {"value": format_fixed(max(bids)), "currency": "USD"}
            if offers:
                md["bestAsk"] = {"value": format_fixed(min(offers)), "currency": "USD"}
            return 200, {"marketData": md}
        return 404, {"error": "not found"}

    # -- lifecycle ------------------------------------------------------------------------

    async def run(
        self, *, task_status: trio.TaskStatus[FakePolymarketUsUrls] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve until cancelled; ``started`` with the :class:`FakePolymarketUsUrls`."""
        async with trio.open_nursery() as nursery:
            server = await nursery.start(
                partial(serve_websocket, self._ws_handler, "127.0.0.1", 0, ssl_context=None)
            )
            port = await nursery.start(serve_http, self._route)
            task_status.started(
                FakePolymarketUsUrls(
                    f"ws://127.0.0.1:{server.port}{WS_MARKETS_PATH}", f"http://127.0.0.1:{port}"
                )
            )
