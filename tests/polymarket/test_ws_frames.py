"""The driver's own frame reader against a server writing raw RFC 6455 frames.

``WsConnection`` reads server frames itself (``wsproto`` only shakes hands and frames what
the client sends). The server here writes exact bytes, so every rule is exercised: lengths
of 7, 16 and 64 bits, fragments, frames that came with the handshake response, pings, and
each protocol violation closing with its code.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import trio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Pong, Request

from arbees.wsdriver import Backoff, Message, WsConfig, WsDriver

FAST = Backoff(base=5.0, cap=5.0, healthy_after=5.0)


def frame(opcode: int, payload: bytes, *, fin: bool = True, mask: bool = False) -> bytes:
    head = bytearray([(0x80 if fin else 0) | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head.append(bit | n)
    elif n < 65536:
        head.append(bit | 126)
        head += n.to_bytes(2, "big")
    else:
        head.append(bit | 127)
        head += n.to_bytes(8, "big")
    if mask:
        head += b"\0\0\0\0"  # a zero mask leaves the payload as is
    return bytes(head) + payload


class RawServer:
    """Accepts one client, writes ``first`` with the 101 response and ``then`` after it."""

    def __init__(self, first: bytes, then: bytes = b"") -> None:
        self.first = first
        self.then = then
        self.client_events: list[object] = []

    async def serve(self, stream: trio.SocketStream) -> None:
        proto = WSConnection(ConnectionType.SERVER)
        accepted = False
        while not accepted:
            proto.receive_data(await stream.receive_some(65536))
            for event in proto.events():
                if isinstance(event, Request):
                    await stream.send_all(proto.send(AcceptConnection()) + self.first)
                    accepted = True
        if self.then:
            await stream.send_all(self.then)
        try:
            while data := await stream.receive_some(65536):
                proto.receive_data(data)
                self.client_events.extend(proto.events())
        except trio.BrokenResourceError:
            pass


async def run(
    server: RawServer, until: Callable[[list[Message], list[str]], bool], **cfg: object
) -> tuple[list[Message], list[str], WsDriver]:
    got: list[Message] = []
    before: list[Message] = []
    reasons: list[str] = []

    def on_batch(messages: list[Message], recv_ns: int) -> None:
        got.extend(messages)

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, server.serve, 0, host="127.0.0.1"))
        url = f"ws://127.0.0.1:{listeners[0].socket.getsockname()[1]}/ws"

        def on_disconnect(reason: str) -> None:
            if not reasons:
                before.extend(got)  # what the first connection delivered
            reasons.append(reason)

        driver = WsDriver(
            WsConfig(url, backoff=FAST, name="t", **cfg),  # type: ignore[arg-type]
            on_batch=on_batch,
            on_disconnect=on_disconnect,
        )
        nursery.start_soon(driver.run)
        with trio.fail_after(5):
            while not until(got, reasons):  # noqa: ASYNC110
                await trio.sleep(0.01)
        await trio.sleep(0.05)  # let the close reply reach the server
        nursery.cancel_scope.cancel()
    return (before if reasons else got), reasons[:1], driver


async def test_lengths_fragments_and_frames_sent_with_the_handshake() -> None:
    big = "x" * 70_000
    mid = "é" * 100
    first = frame(1, b"with-the-101")
    then = (
        frame(1, mid.encode())
        + frame(1, b"frag", fin=False)
        + frame(9, b"pi")  # a ping between fragments
        + frame(0, b"men", fin=False)
        + frame(0, b"ted")
        + frame(2, b"\x00\x01")
        + frame(1, big.encode())
    )
    server = RawServer(first, then)
    got, reasons, driver = await run(server, lambda got, _: len(got) == 5)
    assert got == ["with-the-101", mid, "fragmented", b"\x00\x01", big]
    assert reasons == []
    assert any(isinstance(e, Pong) and e.payload == b"pi" for e in server.client_events)
    assert driver.stats.messages == 5


async def close_code(then: bytes, **cfg: object) -> tuple[int | None, list[str], list[Message]]:
    server = RawServer(frame(1, b"ok"), then)
    got, reasons, _ = await run(server, lambda _, reasons: bool(reasons), **cfg)
    codes = [e.code for e in server.client_events if isinstance(e, CloseConnection)]
    return (codes[0] if codes else None), reasons, got


async def test_protocol_violations_close_with_their_code() -> None:
    cases = [
        (frame(1, b"masked", mask=True), 1002),
        (bytes([0x80 | 0x40 | 1, 1]) + b"r", 1002),  # a reserved bit
        (frame(3, b"?"), 1002),  # a reserved opcode
        (frame(9, b"p", fin=False), 1002),  # a fragmented control frame
        (frame(0, b"nothing to continue"), 1002),
        (frame(1, b"a", fin=False) + frame(1, b"b"), 1002),  # a new message mid-message
        (frame(1, b"\xff\xfe"), 1007),  # not UTF-8
    ]
    for then, code in cases:
        sent, reasons, got = await close_code(then)
        assert (sent, got) == (code, ["ok"]), then
        assert len(reasons) == 1
        assert f"code {code}" in reasons[0], reasons


async def test_an_oversized_message_is_refused_from_its_header() -> None:
    # the header announces 1 MiB; only 10 bytes of it are ever sent
    header = bytes([0x81, 127]) + (1 << 20).to_bytes(8, "big")
    sent, reasons, got = await close_code(header + b"0123456789", max_message_size=4096)
    assert (sent, got) == (1009, ["ok"])
    assert "max_message_size" in reasons[0]


async def test_a_server_close_is_answered_with_its_code() -> None:
    sent, reasons, got = await close_code(frame(8, (1001).to_bytes(2, "big") + b"bye"))
    assert (sent, got) == (1001, ["ok"])
    assert "code 1001" in reasons[0]


def _self_signed() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh certificate for 127.0.0.1 and a client trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as tmp:
        cert_path, key_path = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        cert_path.write_bytes(pem)
        key_path.write_bytes(key_pem)
        server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cadata=pem.decode())
    return server, client


async def test_wss_reads_frames_through_tls() -> None:
    server_ctx, client_ctx = _self_signed()
    server = RawServer(frame(1, b"hello"), frame(1, b"over tls") + frame(1, b"y" * 40_000))
    got: list[Message] = []

    def on_batch(messages: list[Message], recv_ns: int) -> None:
        got.extend(messages)

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            partial(
                trio.serve_ssl_over_tcp,
                server.serve,
                0,
                server_ctx,
                host="127.0.0.1",
                https_compatible=True,
            )
        )
        port = listeners[0].transport_listener.socket.getsockname()[1]
        driver = WsDriver(
            WsConfig(f"wss://127.0.0.1:{port}/ws", ssl_context=client_ctx, backoff=FAST),
            on_batch=on_batch,
        )
        nursery.start_soon(driver.run)
        with trio.fail_after(5):
            while len(got) < 3:  # noqa: ASYNC110
                await trio.sleep(0.01)
        nursery.cancel_scope.cancel()
    assert got == ["hello", "over tls", "y" * 40_000]
