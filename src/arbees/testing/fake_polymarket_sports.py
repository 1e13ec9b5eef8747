"""A fake Polymarket sports WebSocket on loopback, speaking the channel as documented.

As the live channel (docs.polymarket.com, "Sports WebSocket"; samples in
``tests/data/polymarket/sports``):

* no auth and no subscribe message: every connection receives every result broadcast;
* the server sends the text frame ``ping`` every ``ping_interval`` seconds (5 live) and
  closes a connection that has not answered ``pong`` within ``pong_timeout`` seconds (10
  live), counted in :attr:`FakePolymarketSports.pong_timeouts`;
* :meth:`FakePolymarketSports.result` broadcasts one ``sport_result`` object.

Knobs for the bad days: :attr:`FakePolymarketSports.silent` (the socket stays open but
sends nothing at all, pings included, and expects no pong), :meth:`send_raw` (any frame,
garbage included), :meth:`disconnect_all`.

Example::

    fake = FakePolymarketSports()
    async with trio.open_nursery() as nursery:
        url = await nursery.start(fake.run)
        fake.result("nba-okc-sas-2026-10-20", live=True, score="10-8", period="Q1")
"""

from __future__ import annotations

import json
import math
from functools import partial

import attrs
import trio
from trio_websocket import WebSocketConnection, WebSocketRequest, serve_websocket

from arbees.testing.fake_ws import serve_connection, write_frames

__all__ = ["FakePolymarketSports"]


@attrs.define(eq=False)
class _Conn:
    ws: WebSocketConnection
    send: trio.MemorySendChannel[str]
    scope: trio.CancelScope = attrs.Factory(trio.CancelScope)
    answered: int = 0  # pongs received
    asked: int = 0  # pings sent


class FakePolymarketSports:
    """Scriptable fake sports channel (see the module docstring)."""

    def __init__(self, *, ping_interval: float = 5.0, pong_timeout: float = 10.0) -> None:
        self.ping_interval = ping_interval
        self.pong_timeout = pong_timeout
        self.silent = False
        self.connections: list[_Conn] = []
        self.total_connections = 0
        self.pings_sent = 0
        self.pongs = 0
        self.pong_timeouts = 0
        self.sent: list[str] = []

    def result(
        self,
        slug: str,
        *,
        live: bool = False,
        ended: bool = False,
        status: str = "",
        score: str = "",
        period: str = "",
        elapsed: str = "",
        league: str = "nba",
        game_id: int = 1,
    ) -> dict[str, object]:
        """Broadcast one ``sport_result`` (documented field names); returns it."""
        body: dict[str, object] = {
            "gameId": game_id,
            "leagueAbbreviation": league,
            "slug": slug,
            "status": status or ("finished" if ended else "InProgress" if live else "Scheduled"),
            "score": score,
            "period": period,
            "live": live,
            "ended": ended,
        }
        if elapsed:
            body["elapsed"] = elapsed
        self.send_raw(json.dumps(body))
        return body

    def send_raw(self, frame: str) -> None:
        """Send ``frame`` as is to every connection (nothing while :attr:`silent`)."""
        if self.silent:
            return
        self.sent.append(frame)
        for conn in self.connections:
            conn.send.send_nowait(frame)

    def disconnect_all(self) -> None:
        """Close every connection (server side)."""
        for conn in list(self.connections):
            conn.scope.cancel()

    async def run(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled; ``started`` with the ``ws://`` URL once listening."""
        async with trio.open_nursery() as nursery:
            server = await nursery.start(
                partial(serve_websocket, self._handler, "127.0.0.1", 0, ssl_context=None)
            )
            task_status.started(f"ws://127.0.0.1:{server.port}/ws")

    async def _handler(self, request: WebSocketRequest) -> None:
        ws = await request.accept()
        send, receive = trio.open_memory_channel[str](math.inf)
        conn = _Conn(ws, send)
        self.total_connections += 1
        await serve_connection(
            ws,
            conn,
            self.connections,
            scope=conn.scope,
            send=send,
            tasks=(partial(write_frames, ws, receive), partial(self._pinger, conn)),
            on_message=partial(self._on_message, conn),
            close_code=1000,
            close_reason="bye",
        )

    def _on_message(self, conn: _Conn, message: str | bytes) -> None:
        if message == "pong":
            conn.answered += 1
            self.pongs += 1

    async def _pinger(self, conn: _Conn) -> None:
        while True:
            await trio.sleep(self.ping_interval)
            if self.silent:
                continue
            conn.asked += 1
            self.pings_sent += 1
            conn.send.send_nowait("ping")
            asked = conn.asked
            with trio.move_on_after(self.pong_timeout):
                while conn.answered < asked:  # noqa: ASYNC110 - the reader counts pongs
                    await trio.sleep(min(0.05, self.pong_timeout / 10))
                continue
            self.pong_timeouts += 1
            conn.scope.cancel()
            return
