"""The subscriber floor of ``arbees bench shard``: the least any Python shard can cost here.

Run as its own process (``python -m arbees.bench._shard_floor ...``) beside the real shard,
subscribed to the SAME channel on the SAME Redis, so it receives exactly the bytes the
shard receives. It does only what no shard can skip, with nothing in between: one blocking
socket (no Trio, no asyncio, no selectors), each read fed to the sans-io RESP parser every
bus connection of arbees uses (:class:`~arbees.bus._resp.RespParser`), and each message's
payload decoded by ``msgspec.json.decode`` into plain Python objects. Nothing is checked,
stored or evaluated.

The bench divides this process's CPU time over the load by the updates it sent: CPU µs per
update, the floor the shard's own figure is compared with. Once subscribed it creates the
``--ready-file``; on SIGINT or SIGTERM it prints one JSON object of counts (``messages``,
``reads``, ``bytes``) and exits 0.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

import msgspec

from arbees.bus._resp import RespParser, encode_command

__all__ = ["main"]


class _Stop(Exception):
    pass


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--channel", required=True)
    parser.add_argument("--ready-file", required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    counts = {"messages": 0, "reads": 0, "bytes": 0}
    decode = msgspec.json.decode
    resp = RespParser()
    try:
        with socket.create_connection(("127.0.0.1", args.port)) as sock:
            sock.sendall(encode_command("SUBSCRIBE", args.channel))
            subscribed = False
            while True:
                data = sock.recv(262_144)
                if not data:
                    break
                counts["reads"] += 1
                counts["bytes"] += len(data)
                for value in resp.feed(data):
                    if type(value) is list and len(value) == 3:
                        if value[0] == b"message":
                            decode(value[2])
                            counts["messages"] += 1
                        elif value[0] == b"subscribe" and not subscribed:
                            subscribed = True
                            Path(args.ready_file).touch()
    except _Stop:
        pass
    print(json.dumps(counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
