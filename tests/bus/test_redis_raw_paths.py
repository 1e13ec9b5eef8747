"""RedisBus's raw RESP hot paths against real servers: refusals counted, db/ACL/TLS honoured,
dropped connections healed, a hung server detected, big payloads, and the flush at close."""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import redis
import trio
from bus_samples import price_update
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from arbees import codec
from arbees.bus._resp import RespParser
from arbees.bus.redis import open_redis_bus
from arbees.messages import PolymarketPriceUpdate
from arbees.testing.redis_server import RedisServer, free_port

WAIT = 5.0


def plain(url: str, **options: object) -> redis.Redis:
    return redis.Redis.from_url(url, **options)


async def until(predicate: object) -> None:
    assert callable(predicate)
    with trio.fail_after(WAIT):
        while not predicate():  # noqa: ASYNC110 - polls counters the bus updates
            await trio.sleep(0.005)


async def test_refused_hash_write_is_counted_and_the_rest_flows(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    key = "raw:not-a-hash"
    with plain(redis_server.url) as admin:
        admin.set(key, b"a plain string")  # HSET on it answers WRONGTYPE
    async with open_redis_bus(redis_server.url) as bus, bus.subscribe("raw:refused") as sub:
        await bus.publish_and_hset("raw:refused", price_update(1), key, "f")
        await bus.publish("raw:refused", price_update(2))
        with trio.fail_after(WAIT):
            # the PUBLISH of the refused pair still went out, in order with the next one
            assert (await sub.receive()).message == price_update(1)
            assert (await sub.receive()).message == price_update(2)
        await until(lambda: bus.stats.publish_failed == 1 and bus.stats.published == 1)
    assert "WRONGTYPE" in caplog.text


async def test_database_from_the_url_is_selected(redis_server: RedisServer) -> None:
    url = redis_server.url.rsplit("/", 1)[0] + "/5"
    async with open_redis_bus(url) as bus, bus.subscribe("raw:db5") as sub:
        await bus.publish_and_hset("raw:db5", price_update(3), "raw:db5:latest", "x")
        with trio.fail_after(WAIT):
            assert (await sub.receive()).message == price_update(3)
    with plain(url) as db5, plain(redis_server.url) as db0:
        assert db5.hget("raw:db5:latest", "x") is not None
        assert db0.hget("raw:db5:latest", "x") is None


async def test_acl_user_publishes_and_subscribes() -> None:
    with RedisServer(password="admin-pw-31") as server:
        with plain(server.url) as admin:
            admin.execute_command("ACL", "SETUSER", "bob", "on", ">bob-pw-77", "~*", "&*", "+@all")
        url = f"redis://bob:bob-pw-77@127.0.0.1:{server.port}/0"
        async with open_redis_bus(url) as bus, bus.subscribe("raw:acl") as sub:
            await bus.publish("raw:acl", price_update(4))
            with trio.fail_after(WAIT):
                assert (await sub.receive()).message == price_update(4)
        with plain(server.url) as admin:
            users = {c["user"] for c in admin.client_list()}
        assert "bob" not in users  # every connection of the bus is closed


async def _publish_until_received(bus: object, sub: object, channel: str, seq: int) -> None:
    from arbees.bus import Bus, Subscription

    assert isinstance(bus, Bus)
    assert isinstance(sub, Subscription)
    with trio.fail_after(WAIT):
        while True:
            await bus.publish(channel, price_update(seq))
            with trio.move_on_after(0.1):
                while True:
                    envelope = await sub.receive()
                    message = envelope.message
                    if isinstance(message, PolymarketPriceUpdate) and message.seq == seq:
                        return


async def test_killed_pubsub_connection_resubscribes(private_redis: RedisServer) -> None:
    async with (
        open_redis_bus(private_redis.url, backoff=(0.01, 0.05)) as bus,
        bus.subscribe("raw:kill-a") as a,
        bus.subscribe("raw:kill-b") as b,
    ):
        with plain(private_redis.url) as admin:
            assert admin.client_kill_filter(_type="pubsub") == 1
        await _publish_until_received(bus, a, "raw:kill-a", 10)
        await _publish_until_received(bus, b, "raw:kill-b", 11)
        assert bus.stats.reconnects >= 1


async def test_killed_publisher_connection_recovers(private_redis: RedisServer) -> None:
    async with (
        open_redis_bus(private_redis.url, backoff=(0.01, 0.05)) as bus,
        bus.subscribe("raw:pub-kill") as sub,
    ):
        await _publish_until_received(bus, sub, "raw:pub-kill", 1)
        with plain(private_redis.url) as admin:
            assert admin.client_kill_filter(_type="normal", skipme=True) >= 1
        await _publish_until_received(bus, sub, "raw:pub-kill", 2)
        assert bus.stats.reconnects >= 1


async def test_big_payloads_cross_many_reads_in_order(redis_server: RedisServer) -> None:
    channel = "raw:big"
    payloads = [bytes([65 + i]) * (300_000 + i) for i in range(12)]
    async with open_redis_bus(redis_server.url) as bus, bus.subscribe(channel) as sub:
        for payload in payloads:
            await bus.publish_raw(channel, payload)
        await bus.publish(channel, price_update(5))
        with trio.fail_after(WAIT):
            assert (await sub.receive()).message == price_update(5)
        assert sub.decode_errors == len(payloads)  # not JSON, but each arrived whole
    assert bus.stats.published == len(payloads) + 1


async def test_close_flushes_every_queued_publish(redis_server: RedisServer) -> None:
    with plain(redis_server.url) as admin:
        admin.delete("raw:flushed")
    async with open_redis_bus(redis_server.url, max_batch=64) as bus:
        for i in range(2000):
            await bus.publish_and_hset("raw:flush", price_update(i), "raw:flushed", str(i))
    assert bus.stats.published == 2000
    assert bus.stats.publish_failed == 0
    with plain(redis_server.url) as admin:
        assert admin.hlen("raw:flushed") == 2000


# -- a server that accepts publishes and never answers them -------------------------


def _reply_like_redis(name: bytes) -> bytes:
    """What a Redis 7 server answers to a command the scripted servers do not single out.

    ``HELLO 3`` gets the RESP3 map a real server sends (redis-py 8 sends it on connect
    unless told ``protocol=2``; a bare ``+OK`` there is no answer any server gives).
    """
    if name == b"HELLO":
        return (
            b"%7\r\n+server\r\n+redis\r\n+version\r\n+7.0.15\r\n+proto\r\n:3\r\n"
            b"+id\r\n:7\r\n+mode\r\n+standalone\r\n+role\r\n+master\r\n"
            b"+modules\r\n*0\r\n"
        )
    return b"+OK\r\n"


async def _hanging_redis(stream: trio.SocketStream) -> None:
    parser = RespParser()
    count = 0
    while data := await stream.receive_some():
        for command in parser.feed(data):
            assert isinstance(command, list)
            name = command[0].upper()
            if name == b"PING":
                await stream.send_all(b"+PONG\r\n")
            elif name == b"SUBSCRIBE":
                for channel in command[1:]:
                    count += 1
                    await stream.send_all(
                        b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%b\r\n:%d\r\n"
                        % (len(channel), channel, count)
                    )
            elif name != b"PUBLISH":  # PUBLISH: never answered
                await stream.send_all(_reply_like_redis(name))


async def test_a_hung_server_fails_the_publisher_after_command_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            partial(trio.serve_tcp, _hanging_redis, 0, host="127.0.0.1")
        )
        port = listeners[0].socket.getsockname()[1]
        url = f"redis://127.0.0.1:{port}/0"
        async with open_redis_bus(url, command_timeout=0.3, backoff=(0.05, 0.1)) as bus:
            await bus.publish("raw:hung", price_update(1))
            await until(lambda: bus.stats.publish_failed >= 1)
            assert bus.stats.published == 0
        nursery.cancel_scope.cancel()
    assert "no reply from Redis for 0.3 s" in caplog.text


async def _silent_after_subscribe(stream: trio.SocketStream) -> None:
    """Answers like Redis until the connection subscribes, then never says a word."""
    parser = RespParser()
    subscribed = False
    while data := await stream.receive_some():
        for command in parser.feed(data):
            assert isinstance(command, list)
            name = command[0].upper()
            if subscribed:
                continue
            if name == b"PING":
                await stream.send_all(b"+PONG\r\n")
            elif name == b"SUBSCRIBE":
                subscribed = True
                for i, channel in enumerate(command[1:], 1):
                    await stream.send_all(
                        b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%b\r\n:%d\r\n"
                        % (len(channel), channel, i)
                    )
            else:
                await stream.send_all(_reply_like_redis(name))


async def test_a_silent_pubsub_connection_is_pinged_then_replaced(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            partial(trio.serve_tcp, _silent_after_subscribe, 0, host="127.0.0.1")
        )
        port = listeners[0].socket.getsockname()[1]
        url = f"redis://127.0.0.1:{port}/0"
        async with open_redis_bus(url, command_timeout=0.2, backoff=(0.01, 0.05)) as bus:
            await until(lambda: bus.stats.reconnects >= 1)
        nursery.cancel_scope.cancel()
    assert "lost the pub/sub connection" in caplog.text


# -- TLS (rediss://) ----------------------------------------------------------------


def _write_certs(directory: Path) -> None:
    """A CA and a server certificate as RFC 5280 wants them: Python 3.13's default context
    verifies strictly (VERIFY_X509_STRICT) and refuses a chain without key identifiers."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "arbees test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "server.pem").write_bytes(cert.public_bytes(pem))
    (directory / "server.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set and redis-server is not installed")
        pytest.skip("redis-server is not installed")  # a developer machine; never in CI
    _write_certs(tmp_path)
    port = free_port()
    args = [
        binary, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
        "--tls-cert-file", str(tmp_path / "server.pem"),
        "--tls-key-file", str(tmp_path / "server.key"),
        "--tls-ca-cert-file", str(tmp_path / "ca.pem"),
        "--tls-auth-clients", "no", "--requirepass", "tls-pw-5",
        "--save", "", "--appendonly", "no", "--dir", str(tmp_path),
    ]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                pytest.fail(f"redis-server (TLS) exited with {proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("redis-server (TLS) did not listen")
                time.sleep(0.02)
        yield port, tmp_path / "ca.pem"
    finally:
        proc.kill()
        proc.wait(timeout=10)


async def test_rediss_url_runs_the_hot_paths_over_tls(
    tls_redis: tuple[int, Path], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port, ca = tls_redis
    url = f"rediss://:tls-pw-5@127.0.0.1:{port}/0?ssl_ca_certs={ca}"
    async with open_redis_bus(url) as bus, bus.subscribe("raw:tls") as sub:
        await bus.publish_and_hset("raw:tls", price_update(6), "raw:tls:latest", "x")
        with trio.fail_after(WAIT):
            assert (await sub.receive()).message == price_update(6)
        assert await bus.hget("raw:tls:latest", "x") == price_update(6)
    assert "tls-pw-5" not in caplog.text


# -- a server that sends bytes that are not RESP --------------------------------------------


async def _poisoning_redis(stream: trio.SocketStream) -> None:
    """Answers like Redis; after SUBSCRIBE pushes one good message and, in the same write,
    an array nested 5,000 deep (the old parser recursed until RecursionError)."""
    parser = RespParser()
    while data := await stream.receive_some():
        for command in parser.feed(data):
            assert isinstance(command, list)
            name = command[0].upper()
            if name == b"PING":
                await stream.send_all(b"+PONG\r\n")
            elif name == b"SUBSCRIBE":
                out = b""
                for i, channel in enumerate(command[1:], 1):
                    out += b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%b\r\n:%d\r\n" % (
                        len(channel),
                        channel,
                        i,
                    )
                payload = codec.encode(price_update(7))
                out += b"*3\r\n$7\r\nmessage\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (
                    len(b"raw:poison"),
                    b"raw:poison",
                    len(payload),
                    payload,
                )
                await stream.send_all(out + b"*1\r\n" * 5000 + b":1\r\n")
            else:
                await stream.send_all(_reply_like_redis(name))


async def test_bytes_that_are_not_resp_drop_the_connection_not_the_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            partial(trio.serve_tcp, _poisoning_redis, 0, host="127.0.0.1")
        )
        port = listeners[0].socket.getsockname()[1]
        url = f"redis://127.0.0.1:{port}/0"
        async with (
            open_redis_bus(url, backoff=(0.01, 0.05)) as bus,
            bus.subscribe("raw:poison") as sub,
        ):
            with trio.fail_after(WAIT):
                # the good message sent ahead of the poison in the same write arrives
                assert (await sub.receive()).message == price_update(7)
            await until(lambda: bus.stats.reconnects >= 1)
        nursery.cancel_scope.cancel()
    assert "not RESP (RESP nested deeper than 32)" in caplog.text
