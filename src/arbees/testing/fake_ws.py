"""The connection life the fake Polymarket venues share: one accepted WebSocket, its queued
frames, its tasks, its messages, and a clean close.

:func:`serve_connection` runs one accepted connection until the client closes it or its
``scope`` is cancelled (a fake's "disconnect"): it lists ``conn`` in ``connections`` for the
duration, runs the fake's tasks (its writer first, then pingers, heartbeats, idle killers)
beside a reader that hands every message to ``on_message``, and on the way out unlists the
connection, closes its send channel (so a frame queued afterwards is dropped, never an
error) and closes the socket with ``close_code`` (shielded, at most a second).
:func:`write_frames` is the plain writer: every queued frame, in order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import TypeVar

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

__all__ = ["serve_connection", "write_frames"]

C = TypeVar("C")


async def serve_connection(
    ws: WebSocketConnection,
    conn: C,
    connections: list[C],
    *,
    scope: trio.CancelScope,
    send: trio.MemorySendChannel[str],
    tasks: Iterable[Callable[[], Awaitable[object]]],
    on_message: Callable[[str | bytes], object],
    close_code: int = 1001,
    close_reason: str = "going away",
) -> None:
    """Serve one accepted connection (see the module docstring)."""
    connections.append(conn)
    try:
        with scope:
            async with trio.open_nursery() as nursery:
                for task in tasks:
                    # named after the task it runs (what a Trio instrument reports)
                    nursery.start_soon(
                        _until_closed, task, nursery.cancel_scope, name=_name_of(task)
                    )
                try:
                    while True:
                        on_message(await ws.get_message())
                except ConnectionClosed:
                    pass
                nursery.cancel_scope.cancel()
    finally:
        connections.remove(conn)
        send.close()
        with trio.move_on_after(1) as cleanup:
            cleanup.shield = True
            await ws.aclose(close_code, close_reason)


def _name_of(task: Callable[[], Awaitable[object]]) -> str:
    fn = task.func if isinstance(task, partial) else task
    return f"{fn.__module__}.{fn.__qualname__}"


async def _until_closed(task: Callable[[], Awaitable[object]], scope: trio.CancelScope) -> None:
    """Run one of a connection's tasks; the peer gone (a client that dropped the socket
    while a frame was being sent) ends the connection as the reader's close does, never
    the fake server."""
    try:
        await task()
    except ConnectionClosed:
        scope.cancel()


async def write_frames(ws: WebSocketConnection, receive: trio.MemoryReceiveChannel[str]) -> None:
    """Send every frame queued on ``receive``, in order, until the channel closes."""
    async for frame in receive:
        await ws.send_message(frame)
