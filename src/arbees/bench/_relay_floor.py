"""The relay floor of ``arbees bench e2e``: the least any Python monitor can cost here.

Run as its own process (``python -m arbees.bench._relay_floor ...``) during the bench's
``relay`` phase, beside the real monitor, reading the SAME frames from the SAME fake venue
and writing to the SAME Redis. It does only what no monitor can skip, with nothing in
between: blocking sockets under one ``selectors`` loop (no Trio, no asyncio), WebSocket
framing by ``wsproto`` directly, each socket read's frames decoded with ``msgspec``, the
changes coalesced per token (newest wins), and ONE pipelined write per read (``PUBLISH`` +
``HSET`` per changed token) to a channel and hash of its own (``bench:relay``), so the
shard never sees them. Redis replies are read and dropped.

The bench divides this process's CPU time over the phase by the updates the venue sent in
it: CPU µs per update, the floor the monitor's own figure is compared with. On SIGINT or
SIGTERM it prints one JSON object of counts (``frames``, ``updates``, ``reads``,
``writes``) and exits 0.
"""

from __future__ import annotations

import argparse
import json
import selectors
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import msgspec
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Ping, Request, TextMessage

__all__ = ["CHANNEL", "HASH", "Relay", "main"]

CHANNEL = b"bench:relay"
HASH = b"bench:relay_latest"
_TOKENS_PER_SOCKET = 250


class _Change(msgspec.Struct):
    asset_id: str
    price: str
    size: str
    side: str
    best_bid: str = ""
    best_ask: str = ""


class _Frame(msgspec.Struct):
    event_type: str = ""
    market: str = ""
    timestamp: str = ""
    price_changes: list[_Change] = []


class _Out(msgspec.Struct, array_like=True):
    token: str
    best_bid: str
    best_ask: str
    price: str
    size: str
    side: str
    ts: str


_DECODE = msgspec.json.Decoder(_Frame | list[msgspec.Raw]).decode
_ENCODE = msgspec.json.Encoder().encode


def _bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


class _Stop(Exception):
    pass


class Relay:
    """The relay's sockets and counts (see the module docstring).

    Args:
        ws_url: the venue's market WebSocket URL (``ws://host:port/path``).
        redis_port: the Redis on 127.0.0.1.
        tokens: tokens to subscribe (250 per socket).
    """

    def __init__(self, ws_url: str, redis_port: int, tokens: list[str]) -> None:
        self.frames = 0
        self.updates = 0
        self.reads = 0
        self.writes = 0
        self._url = urlsplit(ws_url)
        self._tokens = tokens
        self._redis = socket.create_connection(("127.0.0.1", redis_port))
        self._redis.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._redis, selectors.EVENT_READ, None)
        self._socks: list[tuple[socket.socket, WSConnection]] = []

    def connect(self) -> None:
        """Open the sockets, subscribe, and wait for every snapshot."""
        host = self._url.hostname or "127.0.0.1"
        port = self._url.port or 80
        for i in range(0, len(self._tokens), _TOKENS_PER_SOCKET):
            chunk = self._tokens[i : i + _TOKENS_PER_SOCKET]
            sock = socket.create_connection((host, port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            ws = WSConnection(ConnectionType.CLIENT)
            sock.sendall(ws.send(Request(host=f"{host}:{port}", target=self._url.path or "/")))
            while not any(isinstance(e, AcceptConnection) for e in self._events(sock, ws)):
                pass
            body = json.dumps({"assets_ids": chunk, "type": "market"})
            sock.sendall(ws.send(TextMessage(data=body)))
            self._socks.append((sock, ws))
            self._sel.register(sock, selectors.EVENT_READ, (sock, ws))
        pending = len(self._socks)
        while pending:  # each socket's first frame is its snapshot dump (a JSON list)
            for key, _ in self._sel.select():
                if key.data is None:
                    self._redis.recv(65536)
                    continue
                sock, ws = key.data
                for ev in self._events(sock, ws):
                    if isinstance(ev, TextMessage) and ev.message_finished:
                        pending -= 1  # the snapshot (its last part)

    def _events(self, sock: socket.socket, ws: WSConnection) -> list[object]:
        data = sock.recv(262144)
        if not data:
            raise _Stop("venue closed the socket")
        ws.receive_data(data)
        out: list[object] = []
        for ev in ws.events():
            if isinstance(ev, Ping):
                sock.sendall(ws.send(ev.response()))
            elif isinstance(ev, CloseConnection):
                raise _Stop("venue closed the WebSocket")
            else:
                out.append(ev)
        return out

    def run(self) -> None:
        """Relay until stopped: one pipelined write per socket read."""
        redis = self._redis
        partial: dict[WSConnection, str] = {}
        while True:
            for key, _ in self._sel.select():
                if key.data is None:
                    if not redis.recv(262144):
                        raise _Stop("redis closed the socket")
                    continue
                sock, ws = key.data
                self.reads += 1
                latest: dict[str, bytes] = {}
                for ev in self._events(sock, ws):
                    if not isinstance(ev, TextMessage):
                        continue
                    if not ev.message_finished:  # a message split across reads
                        partial[ws] = partial.get(ws, "") + ev.data
                        continue
                    data = partial.pop(ws, "") + ev.data if partial else ev.data
                    self.frames += 1
                    frame = _DECODE(data)
                    if isinstance(frame, list):
                        continue  # a snapshot dump
                    ts = frame.timestamp
                    for c in frame.price_changes:
                        out = _Out(c.asset_id, c.best_bid, c.best_ask, c.price, c.size, c.side, ts)
                        latest[c.asset_id] = _ENCODE(out)
                if latest:
                    parts = []
                    for token, payload in latest.items():
                        parts.append(b"*3\r\n$7\r\nPUBLISH\r\n" + _bulk(CHANNEL) + _bulk(payload))
                        parts.append(
                            b"*4\r\n$4\r\nHSET\r\n"
                            + _bulk(HASH)
                            + _bulk(token.encode())
                            + _bulk(payload)
                        )
                    redis.sendall(b"".join(parts))
                    self.updates += len(latest)
                    self.writes += 1

    def counts(self) -> dict[str, int]:
        return {
            "frames": self.frames,
            "updates": self.updates,
            "reads": self.reads,
            "writes": self.writes,
        }


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ws-url", required=True)
    parser.add_argument("--redis-port", type=int, required=True)
    parser.add_argument("--tokens-file", type=Path, required=True, help="one token a line")
    parser.add_argument("--ready-file", type=Path, required=True,
                        help="created once every snapshot arrived")  # fmt: skip
    args = parser.parse_args(argv)
    tokens = [t for t in args.tokens_file.read_text().split() if t]
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    relay = Relay(args.ws_url, args.redis_port, tokens)
    why = "stopped"
    try:
        relay.connect()
        args.ready_file.write_text("ready\n")
        relay.run()
    except _Stop as exc:
        why = str(exc)
    except OSError as exc:
        why = f"socket error: {exc}"
    print(json.dumps({**relay.counts(), "stopped": why}), flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
