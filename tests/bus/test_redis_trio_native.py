"""The Trio-native raw connections (``_trio_conn``, ``_trio_publish``, ``_trio_pubsub``):
the handshake against real servers, refusals that never show the secret, a read handed
over whole, bytes that are not RESP counted and healed on both connections, and the
publisher's direct write when a pipeline is idle."""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable
from functools import partial

import pytest
import redis
import trio
import trio.testing
from bus_samples import price_update

from arbees import codec
from arbees.bus._redis_aio import Outbox, Outgoing, PubSubEvent
from arbees.bus._resp import RespParser
from arbees.bus._resp_conn import ConnParams
from arbees.bus._trio_conn import RespStream, open_stream
from arbees.bus._trio_publish import _Publisher, publish_session
from arbees.bus._trio_pubsub import PubSubStream, pubsub_session
from arbees.bus.redis import open_redis_bus
from arbees.messages import PolymarketPriceUpdate
from arbees.obs.metrics import Registry
from arbees.testing.redis_server import RedisServer
from arbees.wiring.metrics import bus_gauges

SECRET = "native-Pa55-k3y-991"
WAIT = 5.0


def everything_said(exc: BaseException) -> str:
    return str(exc) + repr(exc) + "".join(traceback.format_exception(exc))


async def until(predicate: object) -> None:
    assert callable(predicate)
    with trio.fail_after(WAIT):
        while not predicate():  # noqa: ASYNC110 - polls counters the bus updates
            await trio.sleep(0.005)


# -- the handshake ---------------------------------------------------------------------


async def test_acl_user_handshake_selects_the_db_and_answers_ping() -> None:
    with RedisServer(password=SECRET) as server:
        with redis.Redis.from_url(server.url) as admin:
            admin.execute_command(
                "ACL", "SETUSER", "carol", "on", f">{SECRET}-c", "~*", "&*", "+@all"
            )
        params = ConnParams("127.0.0.1", server.port, 3, "carol", f"{SECRET}-c")
        conn = await open_stream(params)
        try:
            assert SECRET not in repr(conn) + repr(params)
            assert await conn.command("CLIENT", "SETNAME", "native-probe") == "OK"
            info = await conn.command("CLIENT", "INFO")
            assert isinstance(info, bytes)
            assert b"user=carol" in info
            assert b"db=3" in info
            assert b"name=native-probe" in info
        finally:
            await conn.aclose()


@pytest.mark.parametrize("user", [None, "carol"])
async def test_a_wrong_password_is_refused_by_name_never_by_value(user: str | None) -> None:
    with RedisServer(password=SECRET) as server:
        with redis.Redis.from_url(server.url) as admin:
            admin.execute_command(
                "ACL", "SETUSER", "carol", "on", f">{SECRET}-c", "~*", "&*", "+@all"
            )
        wrong = "wrong-" + SECRET
        params = ConnParams("127.0.0.1", server.port, 0, user, wrong)
        with pytest.raises(ConnectionError, match="Redis refused AUTH: WRONGPASS") as info:
            await open_stream(params)
        said = everything_said(info.value)
        assert wrong not in said
        assert SECRET not in said


async def test_no_server_is_an_oserror_in_time() -> None:
    with trio.fail_after(WAIT):
        with pytest.raises(OSError, match="connect"):
            await open_stream(ConnParams("127.0.0.1", 1, connect_timeout=1.0))


# -- one read, one delivery ---------------------------------------------------------------


def _push(channel: bytes, payload: bytes) -> bytes:
    return b"*3\r\n$7\r\nmessage\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (
        len(channel),
        channel,
        len(payload),
        payload,
    )


async def test_every_message_of_one_read_is_handed_over_in_one_call() -> None:
    client, server = trio.testing.memory_stream_pair()
    batches: list[list[PubSubEvent]] = []
    session = PubSubStream(RespStream(client, 1.0), batches.append)
    fourth = _push(b"c", b"last")
    # three whole messages and the start of a fourth arrive in one read
    await server.send_all(b"".join(_push(b"c", b"%d" % i) for i in range(3)) + fourth[:20])
    async with trio.open_nursery() as nursery:
        nursery.start_soon(session.read)
        await until(lambda: len(batches) == 1)
        assert [e.data for e in batches[0]] == [b"0", b"1", b"2"]
        assert len(session.conn.parser) == 20  # the fourth waits for its rest
        await server.send_all(fourth[20:])
        await until(lambda: len(batches) == 2)
        nursery.cancel_scope.cancel()
    assert [e.data for e in batches[1]] == [b"last"]
    assert session.reads == 2


async def test_a_failing_delivery_loses_its_read_not_the_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, server = trio.testing.memory_stream_pair()
    calls: list[int] = []

    def deliver(batch: list[PubSubEvent]) -> None:
        calls.append(len(batch))
        if len(calls) == 1:
            raise RuntimeError("a bug downstream")

    session = PubSubStream(RespStream(client, 1.0), deliver)
    await server.send_all(_push(b"c", b"a") + _push(b"c", b"b"))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(session.read)
        await until(lambda: len(calls) == 1)
        await server.send_all(_push(b"c", b"c"))  # the connection still reads
        await until(lambda: len(calls) == 2)
        nursery.cancel_scope.cancel()
    assert calls == [2, 1]
    assert "pub/sub delivery failed; 2 events lost" in caplog.text


# -- bytes that are not RESP, on each connection --------------------------------------------


def _subscribed(command: list[bytes]) -> bytes:
    return b"".join(
        b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%b\r\n:%d\r\n" % (len(c), c, i)
        for i, c in enumerate(command[1:], 1)
    )


def _scripted_redis(
    **answers: Callable[[list[bytes]], bytes],
) -> Callable[[trio.SocketStream], Awaitable[None]]:
    """A server that answers like Redis (PING: PONG, anything else: OK), except for the
    commands named in ``answers`` (lower-case name -> the bytes to answer with)."""

    async def serve(stream: trio.SocketStream) -> None:
        parser = RespParser()
        while data := await stream.receive_some():
            for command in parser.feed(data):
                assert isinstance(command, list)
                name = command[0].decode().lower()
                if name in answers:
                    await stream.send_all(answers[name](command))
                elif name == "ping":
                    await stream.send_all(b"+PONG\r\n")
                else:
                    await stream.send_all(b"+OK\r\n")

    return serve


def _subscribed_then_oversized(command: list[bytes]) -> bytes:
    """After SUBSCRIBE: one good message and then, in the same write, a bulk string
    announced at 64 MiB (over the parser's 8 MiB cap)."""
    good = _push(b"raw:big", codec.encode(price_update(8)))
    bad = b"*3\r\n$7\r\nmessage\r\n$7\r\nraw:big\r\n$67108864\r\n"
    return _subscribed(command) + good + bad


_oversized_push_redis = _scripted_redis(subscribe=_subscribed_then_oversized)


async def test_an_oversized_push_is_counted_and_the_connection_replaced(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            partial(trio.serve_tcp, _oversized_push_redis, 0, host="127.0.0.1")
        )
        port = listeners[0].socket.getsockname()[1]
        url = f"redis://127.0.0.1:{port}/0"
        async with (
            open_redis_bus(url, backoff=(0.01, 0.05)) as bus,
            bus.subscribe("raw:big") as sub,
        ):
            registry = Registry()
            bus_gauges(registry, bus)
            with trio.fail_after(WAIT):
                assert (await sub.receive()).message == price_update(8)
            await until(lambda: bus.stats.protocol_errors >= 2 and bus.stats.reconnects >= 1)
            exported = [
                line
                for line in registry.render().splitlines()
                if line.startswith("arbees_bus_protocol_errors ")
            ]
            assert len(exported) == 1
            assert float(exported[0].split()[1]) >= 2
        nursery.cancel_scope.cancel()
    assert "bulk string of 67108864 bytes" in caplog.text


# A PUBLISH answered with bytes that are not RESP.
_garbage_reply_redis = _scripted_redis(
    subscribe=_subscribed, publish=lambda command: b"?not resp\r\n"
)


async def test_garbage_replies_to_the_publisher_are_counted_never_a_crash() -> None:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            partial(trio.serve_tcp, _garbage_reply_redis, 0, host="127.0.0.1")
        )
        port = listeners[0].socket.getsockname()[1]
        url = f"redis://127.0.0.1:{port}/0"
        async with open_redis_bus(url, backoff=(0.01, 0.05)) as bus:
            await bus.publish("raw:garbage", price_update(1))
            await until(lambda: bus.stats.protocol_errors >= 1)
            await until(lambda: bus.stats.publish_failed >= 1)
            assert bus.stats.published == 0
        nursery.cancel_scope.cancel()


# -- the publisher session itself -----------------------------------------------------------


async def test_the_session_returns_once_the_closed_outbox_is_answered(
    redis_server: RedisServer,
) -> None:
    outbox = Outbox(1000)
    counted: list[tuple[int, int]] = []
    params = ConnParams("127.0.0.1", redis_server.port)
    for i in range(300):
        outbox.put(Outgoing("raw:session", codec.encode(price_update(i)), "raw:session", str(i)))
    outbox.close()
    with trio.fail_after(WAIT):
        await publish_session(params, outbox, 64, lambda s, r, e: counted.append((s, r)))
    assert sum(s for s, _ in counted) == 300
    assert not outbox.in_flight
    assert outbox.waker is None
    with redis.Redis.from_url(redis_server.url) as admin:
        assert admin.hlen("raw:session") == 300


async def test_an_idle_pipeline_is_written_by_the_put_itself(redis_server: RedisServer) -> None:
    """With nothing in flight, ``put`` writes on the caller's task: the bytes are in flight
    before the caller yields (no writer wake-up, no scheduling round first)."""
    outbox = Outbox(1000)
    sent = trio.Event()
    params = ConnParams("127.0.0.1", redis_server.port)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(publish_session, params, outbox, 64, lambda s, r, e: sent.set())
        with trio.fail_after(WAIT):
            while outbox.waker is None:  # noqa: ASYNC110 - the session installs its waker
                await trio.sleep(0.001)
        outbox.put(Outgoing("raw:direct", codec.encode(price_update(1))))
        assert outbox.in_flight == 1  # taken and written already, synchronously
        assert not outbox.items
        with trio.fail_after(WAIT):
            await sent.wait()
        outbox.close()
    assert not outbox.in_flight


async def test_the_watchdog_fails_only_replies_overdue_a_whole_period(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, server = trio.testing.memory_stream_pair()
    outbox = Outbox(10)
    pub = _Publisher(RespStream(client, 1.0), outbox, 8, lambda s, r, e: None)
    outbox.waker = pub.wake
    async with trio.open_nursery() as nursery:
        nursery.start_soon(pub.guarded, pub.write)
        nursery.start_soon(pub.guarded, pub.read)
        nursery.start_soon(pub.guarded, partial(pub.watch, 1.0))
        await trio.sleep(0.95)  # idle for almost a whole period, then one write
        outbox.put(Outgoing("c", b"x"))
        await trio.sleep(0.5)  # a check passed while its reply was 0.05 s due: not overdue
        assert pub.error is None
        await server.send_all(b":1\r\n")
        await trio.sleep(3.0)
        assert pub.error is None
        assert not outbox.in_flight
        outbox.put(Outgoing("c", b"y"))  # never answered: failed within two periods
        await trio.sleep(2.01)
        assert isinstance(pub.error, TimeoutError)
        assert str(pub.error) == "no reply from Redis for 1.0 s"
        nursery.cancel_scope.cancel()


# -- Redis killed mid-stream ----------------------------------------------------------------


async def test_a_kill_mid_stream_loses_only_counted_messages(private_redis: RedisServer) -> None:
    """Publishing without pause while Redis is SIGKILLed and restarted: every publish ends
    up published or counted as failed (plus the one outage alert), the subscription comes
    back by itself and receives what is published after the restart."""
    channel = "native:kill"
    sent = 0
    async with (
        open_redis_bus(private_redis.url, backoff=(0.01, 0.05)) as bus,
        bus.subscribe(channel) as sub,
    ):

        async def publish(n: int) -> None:
            nonlocal sent
            for _ in range(n):
                await bus.publish_and_hset(channel, price_update(sent), "native:kill:h", "f")
                sent += 1
                await trio.sleep(0.001)

        await publish(50)
        private_redis.stop()  # SIGKILL, mid-stream
        await publish(50)
        private_redis.start()  # same port
        await until(lambda: bus.stats.reconnects >= 2)  # the reader's and the publisher's
        with trio.fail_after(WAIT):
            while True:  # the resubscribed reader gets what is published now
                await publish(1)
                with trio.move_on_after(0.05):
                    message = (await sub.receive()).message
                    while not (isinstance(message, PolymarketPriceUpdate) and message.seq >= 100):
                        message = (await sub.receive()).message
                    break
        alert = 1
        await until(lambda: bus.stats.published + bus.stats.publish_failed == sent + alert)
        assert bus.stats.publish_failed >= 1
        assert bus.stats.protocol_errors == 0


async def test_cancelling_the_sessions_closes_their_connections(redis_server: RedisServer) -> None:
    params = ConnParams("127.0.0.1", redis_server.port)
    outbox = Outbox(100_000)
    connected: list[PubSubStream | None] = []
    with redis.Redis.from_url(redis_server.url) as admin:
        before = len(admin.client_list())
        with trio.move_on_after(0.3) as scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(publish_session, params, outbox, 64, lambda s, r, e: None)
                nursery.start_soon(
                    pubsub_session, params, lambda: ["native:cancel"], lambda b: None,
                    connected.append,
                )  # fmt: skip
                while True:  # publishing when the cancellation lands
                    outbox.put(Outgoing("native:cancel", codec.encode(price_update(1))))
                    await trio.sleep(0.001)
        assert scope.cancelled_caught
        assert outbox.waker is None
        assert connected[0] is not None
        assert connected[-1] is None  # the pub/sub session said it is gone
        with trio.fail_after(WAIT):
            while len(admin.client_list()) != before:  # noqa: ASYNC110 - the server's view
                await trio.sleep(0.01)


# -- reading ---------------------------------------------------------------------------


async def test_a_reply_over_many_full_reads_arrives_whole(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A read that fills the buffer is followed by another without waiting (the reply goes
    # on); one that does not fill it waits for the socket first, so no read ever fails.
    from arbees.bus import _trio_conn

    big = bytes(range(256)) * 1200  # 300 kB: several full 64 kB reads in a row
    conn = await open_stream(ConnParams("127.0.0.1", redis_server.port, 3))
    try:
        assert conn.raw is not None  # plain TCP: the direct read path
        assert await conn.command("SET", "big-reply", big) == "OK"
        recv = conn.raw.recv
        failed: list[int] = []
        reads: list[int] = []

        class Counting:
            def recv(self, n: int) -> bytes:
                try:
                    data = recv(n)
                except BlockingIOError:
                    failed.append(n)
                    raise
                reads.append(len(data))
                return data

            def close(self) -> None:
                pass

        conn.raw = Counting()  # type: ignore[assignment]
        monkeypatch.setattr(_trio_conn, "_RUN", 2)  # yields between full reads as well
        for _ in range(3):
            assert await conn.command("GET", "big-reply") == big
        assert failed == []  # never a read of a drained socket
        assert sum(reads) >= 3 * len(big)  # every byte through the direct path
        assert reads.count(65_536) >= 3 * 4  # full reads, each followed by another
    finally:
        await conn.aclose()
