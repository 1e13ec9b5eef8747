"""A faithful fake Kalshi venue on loopback: WebSocket v2 + REST, driven by a script.

Tests, the demo and end-to-end runs use it to exercise the real feed and REST client over
real sockets, quirks included::

    fake = FakeKalshi(public_key=signer_public_key)        # None: accept any signature
    fake.add_market("KXNBAGAME-26OCT20OKCSAS-OKC", event_ticker="KXNBAGAME-26OCT20OKCSAS",
                    yes_sub_title="Oklahoma City")
    fake.set_book("KXNBAGAME-26OCT20OKCSAS-OKC", yes=[("0.41", 10)], no=[("0.55", "2.5")])
    urls = await nursery.start(fake.run)                    # FakeKalshiUrls(ws_url, rest_url)
    ...
    fake.apply_delta("KXNBAGAME-26OCT20OKCSAS-OKC", "no", "0.56", 7)   # broadcast a delta

What it plays like the real venue (docs/kalshi.md): 401 at the upgrade on a missing/bad
signature; ``Ping(b"heartbeat")`` every ``heartbeat_interval`` (a client that does not pong
within ``pong_timeout`` is dropped); ``subscribed`` per channel WITHOUT seq; a snapshot
burst taking seq 1..N on one sid, deltas continuing that counter; ``ok``/``unsubscribed``
consuming a seq; a repeated ``subscribe`` answered by ``ok`` and NO snapshot; new sids after
``unsubscribe`` + ``subscribe``; ``get_snapshot``/``add_markets``/``delete_markets``;
empty-book snapshots without side keys (``market_id: ""`` for unknown tickers); ``ticker``
frames without seq and with fields omitted.

Knobs for failure tests: :meth:`FakeKalshi.drop_next_deltas` (burn seqs), :meth:`send_error`
(e.g. 25, killing the book subscriptions), :meth:`stall`/:meth:`resume`,
:meth:`disconnect_all`, :meth:`rate_limit_next` (REST 429). Prices and sizes are given as
decimal strings or numbers and read exactly (:func:`arbees.money.parse_fixed`).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import math
import time
from collections.abc import Callable, Iterable
from typing import Any, Literal

import attrs
import trio
from cryptography.hazmat.primitives.asymmetric import rsa
from trio_websocket import (
    ConnectionClosed,
    WebSocketConnection,
    WebSocketRequest,
    serve_websocket,
)

from arbees.kalshi.auth import HEADER_SIGNATURE, verify_headers
from arbees.money import ONE, Fixed, parse_fixed
from arbees.testing.fake_kalshi_rest import FakeKalshiRest, FakeMarket

__all__ = ["WS_PATH", "FakeKalshi", "FakeKalshiUrls", "FakeMarket"]

log = logging.getLogger(__name__)

WS_PATH = "/trade-api/ws/v2"
Side = Literal["yes", "no"]
LevelsIn = Iterable[tuple[object, object]]


@attrs.frozen
class FakeKalshiUrls:
    """Where a running fake listens.

    Attributes:
        ws_url: ``ws://127.0.0.1:PORT/trade-api/ws/v2``.
        rest_url: ``http://127.0.0.1:PORT/trade-api/v2`` (the REST API root).
    """

    ws_url: str
    rest_url: str


def fmt_price(p: Fixed) -> str:
    """Micro-units → Kalshi price string with 4 decimals (more only if needed)."""
    whole, frac = divmod(p, ONE)
    text = f"{whole}.{frac:06d}"
    return text[:-2] if text.endswith("00") else text


def fmt_count(c: Fixed) -> str:
    """Micro-units → Kalshi ``*_fp`` count string with 2 decimals (more only if needed)."""
    sign = "-" if c < 0 else ""
    whole, frac = divmod(abs(c), ONE)
    return f"{sign}{whole}.{f'{frac:06d}'.rstrip('0').ljust(2, '0')}"


class _Sub:
    __slots__ = ("channel", "seq", "sid", "tickers")

    def __init__(self, sid: int, channel: str, tickers: list[str]) -> None:
        self.sid = sid
        self.channel = channel
        self.tickers = list(dict.fromkeys(tickers))
        self.seq = 0


class _Conn:
    def __init__(self, ws: WebSocketConnection) -> None:
        self.ws = ws
        self.subs: dict[int, _Sub] = {}
        self.next_sid = 1
        self.send, self.recv = trio.open_memory_channel[str](math.inf)
        self.scope = trio.CancelScope()


class FakeKalshi(FakeKalshiRest):
    """The fake venue. All knobs are synchronous; frames go out in the order they are made.

    Args:
        public_key: verify signatures with this key (``None`` accepts any headers, but they
            must still be present when ``require_auth``).
        key_id: when given, the ``KALSHI-ACCESS-KEY`` header must equal it.
        heartbeat_interval: seconds between ``Ping(b"heartbeat")``.
        pong_timeout: drop a client that has not answered a ping within this.

    Attributes for assertions: ``connections`` (accepted upgrades), ``auth_failures``,
    ``signatures`` (signature header of each accepted upgrade), ``commands`` (every command
    received, decoded), ``dropped`` (deltas burnt by :meth:`drop_next_deltas`), ``pongs``
    (heartbeat pings the client answered). ``on_send(frame, time_ns)`` is called after each
    frame is written to a socket (latency measurements).
    """

    def __init__(
        self,
        *,
        public_key: rsa.RSAPublicKey | None = None,
        key_id: str | None = None,
        require_auth: bool = True,
        heartbeat_interval: float = 10.0,
        pong_timeout: float = 20.0,
    ) -> None:
        super().__init__(public_key=public_key, key_id=key_id)
        self.require_auth = require_auth
        self.heartbeat_interval = heartbeat_interval
        self.pong_timeout = pong_timeout
        self.connections = 0
        self.auth_failures = 0
        self.signatures: list[str] = []
        self.commands: list[dict[str, Any]] = []
        self.dropped = 0
        self.pongs = 0
        self._conns: set[_Conn] = set()
        self._drops = 0
        self._stalled = False
        self._unstalled = trio.Event()
        self._unstalled.set()
        self.on_send: Callable[[str, int], None] | None = None

    # ------------------------------------------------------------------ running
    async def run(
        self, *, task_status: trio.TaskStatus[FakeKalshiUrls] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve WebSocket and REST on 127.0.0.1 (ephemeral ports) until cancelled."""
        async with trio.open_nursery() as nursery:
            ws_server = await nursery.start(
                lambda task_status: serve_websocket(
                    self._handle, "127.0.0.1", 0, ssl_context=None, task_status=task_status
                )
            )
            rest_port = await nursery.start(self.serve_rest)
            task_status.started(
                FakeKalshiUrls(
                    f"ws://127.0.0.1:{ws_server.port}{WS_PATH}",
                    f"http://127.0.0.1:{rest_port}/trade-api/v2",
                )
            )

    async def _handle(self, request: WebSocketRequest) -> None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers}
        path = request.path.split("?", 1)[0]
        if path != WS_PATH:
            await request.reject(404, body=b'{"error":"not found"}')
            return
        if self.require_auth and not self._auth_ok(headers, "GET", WS_PATH):
            self.auth_failures += 1
            await request.reject(401, body=b'{"error":"unauthorized"}')
            return
        sig = {k.lower(): v for k, v in headers.items()}.get(HEADER_SIGNATURE.lower(), "")
        ws = await request.accept()
        self.connections += 1
        self.signatures.append(sig)
        conn = _Conn(ws)
        self._conns.add(conn)
        try:
            with conn.scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._writer, conn)
                    nursery.start_soon(self._heartbeat, conn)
                    while True:
                        try:
                            text = await ws.get_message()
                        except ConnectionClosed:
                            break
                        self._on_command(conn, text)
                    nursery.cancel_scope.cancel()
        finally:
            self._conns.discard(conn)

    def _auth_ok(self, headers: dict[str, str], method: str, path: str) -> bool:
        lower = {k.lower() for k in headers}
        if not {"kalshi-access-key", "kalshi-access-timestamp", "kalshi-access-signature"} <= lower:
            return False
        if self.public_key is None:
            return True
        return verify_headers(self.public_key, headers, method, path, key_id=self.key_id)

    async def _writer(self, conn: _Conn) -> None:
        async for text in conn.recv:
            while self._stalled:
                await self._unstalled.wait()
            try:
                await conn.ws.send_message(text)
            except ConnectionClosed:
                conn.scope.cancel()
                return
            if self.on_send is not None:
                self.on_send(text, time.time_ns())

    async def _heartbeat(self, conn: _Conn) -> None:
        for n in itertools.count():
            await trio.sleep(self.heartbeat_interval)
            while self._stalled:
                await self._unstalled.wait()
            with trio.move_on_after(self.pong_timeout) as cs:
                try:
                    await conn.ws.ping(b"heartbeat")
                except ConnectionClosed:
                    return
            if cs.cancelled_caught:
                log.info("fake kalshi: no pong after ping %d, dropping the client", n)
                conn.scope.cancel()
                return
            self.pongs += 1

    # ------------------------------------------------------------------ knobs
    def set_book(self, ticker: str, *, yes: LevelsIn = (), no: LevelsIn = ()) -> None:
        """Replace a market's book; subscribers receive the difference as deltas."""
        market = self.market(ticker)
        for side, levels in (("yes", yes), ("no", no)):
            new = {parse_fixed(p): parse_fixed(s) for p, s in levels}
            old = market.yes if side == "yes" else market.no
            for price in sorted(set(old) | set(new)):
                change = new.get(price, 0) - old.get(price, 0)
                if change:
                    self.apply_delta(ticker, side, price, change, _exact=True)  # type: ignore[arg-type]

    def apply_delta(
        self, ticker: str, side: Side, price: object, delta: object, *, _exact: bool = False
    ) -> None:
        """Change one level by a signed ``delta`` and broadcast the ``orderbook_delta``."""
        p = price if _exact and isinstance(price, int) else parse_fixed(price, field="price")
        d = delta if _exact and isinstance(delta, int) else parse_fixed(delta, field="delta")
        market = self.market(ticker)
        levels = market.yes if side == "yes" else market.no
        size = levels.get(p, 0) + d
        if size < 0:
            raise ValueError(f"{ticker} {side} level {fmt_price(p)} would go negative")
        if size:
            levels[p] = size
        else:
            levels.pop(p, None)
        ts_ms = int(time.time() * 1000)
        for conn in list(self._conns):
            # Book deltas before ticker frames: the ticker describes the book AFTER the change.
            subs = sorted(conn.subs.values(), key=lambda s: s.channel == "ticker")
            for sub in subs:
                if ticker not in sub.tickers:
                    continue
                if sub.channel == "orderbook_delta":
                    msg = {
                        "market_ticker": ticker,
                        "market_id": market.market_id,
                        "price_dollars": fmt_price(p),
                        "delta_fp": fmt_count(d),
                        "side": side,
                        "ts_ms": ts_ms,
                    }
                    self._emit(conn, sub, {"type": "orderbook_delta", "sid": sub.sid, "msg": msg})
                elif sub.channel == "ticker":
                    self._send(conn, self._ticker_frame(sub.sid, market, ts_ms))

    def drop_next_deltas(self, count: int = 1) -> None:
        """Burn the seq of the next ``count`` deltas (to any client) without sending them."""
        self._drops += count

    def send_error(
        self, code: int = 25, message: str = "buffer overflow", *, kill: bool = True
    ) -> None:
        """Send ``error`` to every client; ``kill`` drops their book subscriptions (as 10/25 do)."""
        for conn in list(self._conns):
            self._send(conn, {"type": "error", "msg": {"code": code, "msg": message}})
            if kill:
                for sid in [s.sid for s in conn.subs.values() if s.channel == "orderbook_delta"]:
                    del conn.subs[sid]

    def stall(self) -> None:
        """Stop sending anything (frames and pings queue up) until :meth:`resume`."""
        if not self._stalled:
            self._stalled = True
            self._unstalled = trio.Event()

    def resume(self) -> None:
        self._stalled = False
        self._unstalled.set()

    def disconnect_all(self) -> None:
        """Close every client connection (they should reconnect)."""
        for conn in list(self._conns):
            conn.scope.cancel()

    @property
    def client_count(self) -> int:
        return len(self._conns)

    def sids(self) -> dict[int, tuple[str, list[str]]]:
        """``sid -> (channel, tickers)`` over all connections (for assertions)."""
        return {s.sid: (s.channel, list(s.tickers)) for c in self._conns for s in c.subs.values()}

    # ------------------------------------------------------------------ frames
    def _send(self, conn: _Conn, obj: dict[str, Any]) -> None:
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            conn.send.send_nowait(json.dumps(obj, separators=(",", ":")))

    def _emit(self, conn: _Conn, sub: _Sub, obj: dict[str, Any]) -> None:
        """Send a frame that consumes ``sub``'s seq (maybe burning it via the drop knob)."""
        sub.seq += 1
        obj["seq"] = sub.seq
        if obj["type"] == "orderbook_delta" and self._drops > 0:
            self._drops -= 1
            self.dropped += 1
            return
        self._send(conn, obj)

    def _snapshot(self, conn: _Conn, sub: _Sub, ticker: str) -> None:
        market = self.markets.get(ticker)
        msg: dict[str, Any] = {"market_ticker": ticker, "market_id": ""}
        if market is not None:
            msg["market_id"] = market.market_id
            if market.yes:
                msg["yes_dollars_fp"] = [
                    [fmt_price(p), fmt_count(s)] for p, s in sorted(market.yes.items())
                ]
            if market.no:
                msg["no_dollars_fp"] = [
                    [fmt_price(p), fmt_count(s)] for p, s in sorted(market.no.items())
                ]
        self._emit(conn, sub, {"type": "orderbook_snapshot", "sid": sub.sid, "msg": msg})

    def _ticker_frame(self, sid: int, market: FakeMarket, ts_ms: int) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "market_ticker": market.ticker,
            "market_id": market.market_id,
            "ts_ms": ts_ms,
        }
        if market.yes:
            best = max(market.yes)
            msg["yes_bid_dollars"] = fmt_price(best)
            msg["yes_bid_size_fp"] = fmt_count(market.yes[best])
        if market.no:  # the real venue sometimes omits fields; so do we when a side is empty
            msg["yes_ask_dollars"] = fmt_price(ONE - max(market.no))
        return {"type": "ticker", "sid": sid, "msg": msg}

    # ------------------------------------------------------------------ commands
    def _error(self, conn: _Conn, cid: object, code: int, text: str) -> None:
        self._send(conn, {"id": cid, "type": "error", "msg": {"code": code, "msg": text}})

    def _on_command(self, conn: _Conn, text: str | bytes) -> None:
        try:
            cmd = json.loads(text)
        except ValueError:
            self._error(conn, None, 1, "Unable to process message")
            return
        if not isinstance(cmd, dict):
            self._error(conn, None, 1, "Unable to process message")
            return
        self.commands.append(cmd)
        cid, name, params = cmd.get("id"), cmd.get("cmd"), cmd.get("params")
        if name == "subscribe":
            self._subscribe(conn, cid, params or {})
        elif name == "unsubscribe":
            for sid in (params or {}).get("sids", []):
                sub = conn.subs.pop(sid, None)
                if sub is None:
                    self._error(conn, cid, 7, "Unknown subscription ID")
                else:
                    sub.seq += 1
                    self._send(
                        conn, {"id": cid, "sid": sid, "seq": sub.seq, "type": "unsubscribed"}
                    )
        elif name == "update_subscription":
            self._update(conn, cid, params or {})
        elif name == "list_subscriptions":
            subs = [{"channel": s.channel, "sid": s.sid} for s in conn.subs.values()]
            self._send(conn, {"id": cid, "type": "ok", "msg": subs})
        else:
            self._error(conn, cid, 5, "Unknown command")

    def _subscribe(self, conn: _Conn, cid: object, params: dict[str, Any]) -> None:
        channels = params.get("channels")
        if not channels:
            self._error(conn, cid, 2, "Params required")
            return
        tickers = list(params.get("market_tickers") or [])
        if params.get("market_ticker"):
            tickers.append(params["market_ticker"])
        for channel in channels:
            if channel not in ("orderbook_delta", "ticker", "trade", "market_lifecycle_v2"):
                self._error(conn, cid, 8, "Unknown channel name")
                continue
            if channel == "orderbook_delta" and not tickers:
                self._error(conn, cid, 14, "Market Ticker required")
                continue
            existing = [s for s in conn.subs.values() if s.channel == channel]
            covered = {t for s in existing for t in s.tickers}
            missing = [t for t in tickers if t not in covered]
            if existing and not missing:
                sub = existing[0]  # already subscribed: ok, and NO snapshot
                sub.seq += 1
                self._send(
                    conn,
                    {
                        "id": cid,
                        "sid": sub.sid,
                        "seq": sub.seq,
                        "type": "ok",
                        "msg": {"market_tickers": list(sub.tickers)},
                    },
                )
                continue
            sub = _Sub(conn.next_sid, channel, missing)
            conn.next_sid += 1
            conn.subs[sub.sid] = sub
            self._send(
                conn, {"id": cid, "type": "subscribed", "msg": {"channel": channel, "sid": sub.sid}}
            )
            self._initial(conn, sub, sub.tickers)

    def _initial(self, conn: _Conn, sub: _Sub, tickers: Iterable[str]) -> None:
        ts_ms = int(time.time() * 1000)
        for t in tickers:
            if sub.channel == "orderbook_delta":
                self._snapshot(conn, sub, t)
            elif sub.channel == "ticker" and t in self.markets:
                self._send(conn, self._ticker_frame(sub.sid, self.markets[t], ts_ms))

    def _update(self, conn: _Conn, cid: object, params: dict[str, Any]) -> None:
        sids = params.get("sids") or ([params["sid"]] if "sid" in params else [])
        tickers = list(params.get("market_tickers") or [])
        action = params.get("action")
        if (
            len(sids) != 1
            or not tickers
            or action
            not in (
                "add_markets",
                "delete_markets",
                "get_snapshot",
            )
        ):
            self._error(conn, cid, 2, "Params required")
            return
        sub = conn.subs.get(sids[0])
        if sub is None:
            self._error(conn, cid, 7, "Unknown subscription ID")
            return
        if action == "add_markets":
            sub.tickers.extend(t for t in tickers if t not in sub.tickers)
        elif action == "delete_markets":
            sub.tickers = [t for t in sub.tickers if t not in tickers]
        sub.seq += 1
        self._send(
            conn,
            {
                "id": cid,
                "sid": sub.sid,
                "seq": sub.seq,
                "type": "ok",
                "msg": {"market_tickers": list(sub.tickers)},
            },
        )
        if action in ("add_markets", "get_snapshot"):
            self._initial(conn, sub, [t for t in tickers if t in sub.tickers])
