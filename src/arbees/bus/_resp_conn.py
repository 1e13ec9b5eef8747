"""Where the bus's raw RESP connections connect: the parameters redis-py parsed from the URL.

The hot paths (:mod:`arbees.bus._trio_publish`, :mod:`arbees.bus._trio_pubsub`) connect
the way redis-py would for the same URL, so both kinds of connection reach the same server
the same way: host/port/db, ``AUTH`` (password, or ACL user + password) and TLS for
``rediss://`` (the SSL context is built by redis-py's own ``SSLConnection`` from the URL's
options). The key/value calls keep using redis-py.
"""

from __future__ import annotations

import ssl
from typing import Any

import attrs
from redis.asyncio import Redis

__all__ = ["ConnParams", "conn_params"]


@attrs.frozen(repr=False)
class ConnParams:
    """Where and how to open a raw connection (derived from redis-py's parsed URL).

    Attributes:
        host: server host name or address.
        port: TCP port.
        db: database number (``SELECT``-ed when not 0).
        username: ACL user, or ``None`` for the default user.
        password: password, or ``None`` (never shown in ``repr``).
        ssl: the TLS context for ``rediss://``, else ``None``.
        connect_timeout: seconds for TCP + TLS + handshake.
        command_timeout: seconds a command's reply may take.
    """

    host: str
    port: int
    db: int = 0
    username: str | None = None
    password: str | None = None
    ssl: ssl.SSLContext | None = None
    connect_timeout: float = 2.0
    command_timeout: float = 5.0

    def __repr__(self) -> str:
        scheme = "rediss" if self.ssl else "redis"
        return f"ConnParams({scheme}://{self.host}:{self.port}/{self.db})"


def conn_params(client: Redis, connect_timeout: float, command_timeout: float) -> ConnParams:
    """The parameters redis-py parsed from the URL for ``client``'s connections."""
    pool = client.connection_pool
    conn: Any = pool.connection_class(**pool.connection_kwargs)
    context = conn.ssl_context.get() if hasattr(conn, "ssl_context") else None
    return ConnParams(
        host=conn.host,
        port=int(conn.port),
        db=int(conn.db or 0),
        username=conn.username or None,
        password=conn.password,
        ssl=context,
        connect_timeout=connect_timeout,
        command_timeout=command_timeout,
    )
