"""A tiny HTTP/1.1 server on Trio + h11, for the fake venues' REST endpoints.

Just enough HTTP to be a faithful loopback stand-in (keep-alive, Content-Length bodies,
JSON answers); routing is a callable ``(method, path, query, body) -> (status, json)``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import h11
import trio

__all__ = ["Route", "page", "serve_http"]

log = logging.getLogger(__name__)

Route = Callable[[str, str, dict[str, list[str]], bytes], tuple[int, object]]

_MAX_BODY = 1 << 20


def page(items: list[dict[str, object]], query: dict[str, list[str]]) -> list[dict[str, object]]:
    """The ``offset``/``limit`` page of ``items`` a listing asks for (limit 20 unless given)."""
    offset = int((query.get("offset") or ["0"])[0])
    limit = int((query.get("limit") or ["20"])[0])
    return items[offset : offset + limit]


async def _read_request(
    conn: h11.Connection, stream: trio.abc.Stream
) -> tuple[h11.Request, bytes] | None:
    request: h11.Request | None = None
    body = b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(bytes(await stream.receive_some(65536)))
            continue
        if isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > _MAX_BODY:
                return None
        elif isinstance(event, h11.EndOfMessage):
            return (request, body) if request is not None else None
        else:  # ConnectionClosed, PAUSED
            return None


async def _handle(route: Route, stream: trio.SocketStream) -> None:
    conn = h11.Connection(h11.SERVER)
    try:
        while True:
            got = await _read_request(conn, stream)
            if got is None:
                return
            request, body = got
            target = urlsplit(request.target.decode("latin-1"))
            query = parse_qs(target.query)
            try:
                status, payload = route(request.method.decode(), target.path, query, body)
            except Exception:  # a bug in a test route must not kill the server silently
                log.exception("fake http route failed")
                status, payload = 500, {"error": "internal error"}
            data = json.dumps(payload).encode()
            headers = [("content-type", "application/json"), ("content-length", str(len(data)))]
            await stream.send_all(conn.send(h11.Response(status_code=status, headers=headers)))
            await stream.send_all(conn.send(h11.Data(data=data)))
            await stream.send_all(conn.send(h11.EndOfMessage()))
            if conn.our_state is h11.MUST_CLOSE:
                return
            conn.start_next_cycle()
    except (h11.RemoteProtocolError, h11.LocalProtocolError, trio.BrokenResourceError):
        return
    finally:
        await trio.aclose_forcefully(stream)


async def serve_http(
    route: Route, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED
) -> None:
    """Serve ``route`` on 127.0.0.1 (ephemeral port); ``started`` with the port."""
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_serve, route, listeners)
        task_status.started(port)


async def _serve(route: Route, listeners: list[trio.SocketListener]) -> None:
    async def handler(stream: trio.SocketStream) -> None:
        await _handle(route, stream)

    await trio.serve_listeners(handler, listeners)
