"""Property tests of the driver's own frame reader (``WsConnection``).

The reader is hand-written (the profile of issue 18 put ``wsproto``'s general-purpose
reader at the top of the monitor's hot path), so it is held to the protocol here, on any
input: any valid stream of server frames, cut into reads anywhere, gives exactly the
messages sent (fragments joined, a UTF-8 character split across fragments included) and a
pong for every ping; any bytes at all give only messages within the size cap or
``ConnectionClosed``, never another exception.
"""

from __future__ import annotations

import itertools

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.polymarket.test_ws_frames import frame
from trio_websocket import ConnectionClosed
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Pong, Request

from arbees.wsdriver import Message, _handshake

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class ScriptedStream(trio.abc.Stream):
    """A server that accepts the handshake, then hands the client ``chunks``, one per read,
    and records what the client sends after the handshake."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.server = WSConnection(ConnectionType.SERVER)
        self.chunks = list(chunks)
        self.pending: list[bytes] = []
        self.sent = bytearray()
        self.accepted = False

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await trio.lowlevel.checkpoint()
        if self.accepted:
            self.sent += data
            return
        self.server.receive_data(bytes(data))
        for event in self.server.events():
            if isinstance(event, Request):
                self.pending.append(self.server.send(AcceptConnection()))
                self.accepted = True

    async def wait_send_all_might_not_block(self) -> None:
        await trio.lowlevel.checkpoint()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        await trio.lowlevel.checkpoint()
        if self.pending:
            return self.pending.pop(0)
        return self.chunks.pop(0) if self.chunks else b""

    async def aclose(self) -> None:
        await trio.lowlevel.checkpoint()

    def client_pings_answered(self) -> list[bytes]:
        self.server.receive_data(bytes(self.sent))
        return [bytes(e.payload) for e in self.server.events() if isinstance(e, Pong)]


async def read_all(stream: ScriptedStream, max_size: int) -> tuple[list[Message], int]:
    conn = await _handshake(stream, "venue.test", "/ws", [], max_size)
    got: list[Message] = []
    for _ in range(10_000):  # bounded: every read consumes a chunk or ends the connection
        try:
            got += await conn.receive_batch()
        except ConnectionClosed as exc:
            return got, exc.reason.code
    raise AssertionError("the reader never ended")


def cut(data: bytes, points: list[int]) -> list[bytes]:
    bounds = sorted({p % (len(data) + 1) for p in points} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]


message = st.one_of(
    st.text(max_size=300).map(lambda t: ("text", t)),
    st.binary(max_size=300).map(lambda b: ("bytes", b)),
)


@PROPS
@given(
    messages=st.lists(
        st.tuples(
            message,
            st.lists(st.integers(0, 10_000), max_size=3),  # where the message is fragmented
            st.lists(st.binary(max_size=125), max_size=2),  # pings between its fragments
        ),
        max_size=8,
    ),
    reads=st.lists(st.integers(0, 100_000), max_size=12),  # where the socket reads end
)
def test_any_valid_stream_cut_anywhere_gives_every_message_and_a_pong_per_ping(
    messages: list[tuple[tuple[str, str | bytes], list[int], list[bytes]]],
    reads: list[int],
) -> None:
    wire = bytearray()
    want: list[Message] = []
    pings: list[bytes] = []
    for (kind, data), fragment_at, between in messages:
        payload = data.encode() if isinstance(data, str) else data
        parts = cut(payload, fragment_at) or [b""]
        for i, part in enumerate(parts):
            opcode = (1 if kind == "text" else 2) if i == 0 else 0
            wire += frame(opcode, part, fin=i == len(parts) - 1)
            if i < len(parts) - 1 and between:
                ping = between.pop(0)
                wire += frame(9, ping)  # a control frame between fragments is allowed
                pings.append(ping)
        want.append(data)
    stream = ScriptedStream(cut(bytes(wire), reads))

    got, code = trio.run(read_all, stream, 1 << 20)

    assert got == want
    assert code == 1006  # the script ended without a close frame
    assert stream.client_pings_answered() == pings


@PROPS
@given(
    chunks=st.lists(st.binary(min_size=1, max_size=200), max_size=10),
    max_size=st.integers(1, 300),
)
def test_any_bytes_give_bounded_messages_or_a_close_never_another_error(
    chunks: list[bytes], max_size: int
) -> None:
    got, code = trio.run(read_all, ScriptedStream(chunks), max_size)

    assert all(isinstance(m, str | bytes) for m in got)
    assert all(len(m.encode() if isinstance(m, str) else m) <= max_size for m in got)
    assert code in {1000, 1001, 1002, 1006, 1007, 1009} or 1000 <= code <= 4999


def test_a_ping_is_answered_with_its_payload() -> None:
    stream = ScriptedStream([frame(9, b"are you there"), frame(1, b"yes")])
    got, _ = trio.run(read_all, stream, 1000)
    assert got == ["yes"]
    assert stream.client_pings_answered() == [b"are you there"]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"\x00\x00", 1002),  # code 0: found by the property test above
        (b"\x03\xec", 1002),  # 1004: reserved
        (b"\x03\xed", 1002),  # 1005: never sent on the wire
        (b"\x07\xd0", 1002),  # 2000: reserved for the protocol
        (b"\x13\x88", 1002),  # 5000: out of range
        (b"\x03", 1002),  # a one-byte payload
        (b"\x03\xe8\xff", 1007),  # 1000 with a reason that is not UTF-8
        (b"\x03\xe8bye", 1000),
        (b"\x0f\xa0", 4000),  # an application's own code
        (b"", 1005),  # no code at all
    ],
)
def test_a_close_frame_gives_its_code_or_a_protocol_error(payload: bytes, code: int) -> None:
    got, closed = trio.run(read_all, ScriptedStream([bytes([0x88, len(payload)]) + payload]), 100)
    assert got == []
    assert closed == code
