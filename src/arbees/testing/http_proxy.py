"""A forwarding HTTP proxy for tests and rehearsals, like Gluetun's ``HTTPPROXY`` (:8888).

It serves ``CONNECT host:port`` (what a WebSocket or HTTPS client asks a proxy for) and the
absolute-form requests an HTTP client sends for ``http://`` URLs (``GET http://host:port/path``
becomes ``GET /path`` on a connection to ``host:port``), and records the ``host:port`` of every
connection it opens on a client's behalf, so a test can prove which route traffic took.
It binds where it is told (127.0.0.1 by default) and is no security boundary: a fake.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import trio

__all__ = ["ForwardProxy", "pump"]

_MAX_HEAD = 65_536


async def pump(src: trio.SocketStream, dst: trio.SocketStream, done: trio.CancelScope) -> None:
    """Copy ``src`` to ``dst`` until either side closes, then cancel ``done`` (both ends)."""
    try:
        while chunk := await src.receive_some(65536):
            await dst.send_all(chunk)
    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
        pass
    done.cancel()  # either side closing closes both


class ForwardProxy:
    """An HTTP proxy recording the ``host:port`` of every connection it opens for a client.

    Attributes:
        targets: ``host:port`` of each upstream connection, in order.
        port: the port it listens on (known once ``run`` has started).
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.targets: list[str] = []
        self.port = port
        self._host = host

    async def run(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled; ``started()`` reports the port once listening."""
        listeners = await trio.open_tcp_listeners(self.port, host=self._host)
        self.port = listeners[0].socket.getsockname()[1]
        async with trio.open_nursery() as nursery:
            await nursery.start(trio.serve_listeners, self._handle, listeners)
            task_status.started(self.port)

    async def _handle(self, client: trio.SocketStream) -> None:
        head = b""
        try:
            while b"\r\n\r\n" not in head and len(head) < _MAX_HEAD:
                chunk = await client.receive_some(65536)
                if not chunk:
                    return
                head += chunk
            line, _, rest = head.partition(b"\r\n")
            method, target, version = line.decode("latin-1").split(" ", 2)
            if method == "CONNECT":
                hostport, forward = target, b""
                reply = b"HTTP/1.1 200 Connection established\r\n\r\n"
            else:  # GET http://host:port/path -> GET /path to host:port
                url = urlsplit(target)
                hostport = f"{url.hostname}:{url.port or 80}"
                path = (url.path or "/") + (f"?{url.query}" if url.query else "")
                forward, reply = f"{method} {path} {version}\r\n".encode() + rest, b""
            self.targets.append(hostport)
            host, port = hostport.rsplit(":", 1)
            async with (
                client,
                await trio.open_tcp_stream(host, int(port)) as upstream,
                trio.open_nursery() as nursery,
            ):
                if reply:
                    await client.send_all(reply)
                if forward:
                    await upstream.send_all(forward)
                nursery.start_soon(pump, client, upstream, nursery.cancel_scope)
                nursery.start_soon(pump, upstream, client, nursery.cancel_scope)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError, ValueError):
            pass
