"""RedisBus-only behaviour: credentials, redaction, faults, and clean cancellation."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator

import pytest
import redis
import trio
import trio.lowlevel
from bus_samples import price_update

from arbees.bus import open_bus
from arbees.bus.redis import RedisBus, open_redis_bus
from arbees.errors import BusError, ConfigError
from arbees.messages import Channel, PolymarketPriceUpdate, SystemAlert
from arbees.testing.redis_server import RedisServer, free_port

PASSWORD = "s3cret-Pa55-zq81"
WRONG = "not-the-Pa55word-xk42"
WAIT = 5.0


def everything_said(exc: BaseException) -> str:
    """str, repr and the whole formatted chain of an exception."""
    return str(exc) + repr(exc) + "".join(traceback.format_exception(exc))


def plain(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def all_tasks() -> list[trio.lowlevel.Task]:
    tasks, stack = [], [trio.lowlevel.current_root_task()]
    while stack:
        task = stack.pop()
        assert task is not None
        tasks.append(task)
        for nursery in task.child_nurseries:
            stack.extend(nursery.child_tasks)
    return tasks


@pytest.fixture
def password_redis() -> Iterator[RedisServer]:
    server = RedisServer(password=PASSWORD)
    server.start()
    yield server
    server.close()


async def test_password_never_shown(
    password_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = password_redis.url
    assert PASSWORD in url
    async with open_bus(url) as bus:
        assert isinstance(bus, RedisBus)
        for text in (repr(bus), str(bus), bus.safe_url):
            assert PASSWORD not in text
        assert "***@" in bus.safe_url
        async with bus.subscribe("pw:chan") as sub:
            await bus.publish("pw:chan", price_update(1))
            with trio.fail_after(WAIT):
                assert (await sub.receive()).message == price_update(1)
    assert caplog.records, "the bus logs nothing at DEBUG? then this test proves little"
    assert PASSWORD not in caplog.text


async def test_acl_user_in_url(password_redis: RedisServer) -> None:
    with plain(password_redis.url) as admin:
        admin.execute_command("ACL", "SETUSER", "alice", "on", ">alice-pw-9", "~*", "&*", "+@all")
    url = f"redis://alice:alice-pw-9@127.0.0.1:{password_redis.port}/0"
    async with open_redis_bus(url) as bus:
        assert "alice-pw-9" not in repr(bus)
        assert bus.safe_url.startswith("redis://")
        assert f"***@127.0.0.1:{password_redis.port}" in bus.safe_url
        await bus.set("acl:key", price_update(1))
        assert await bus.get("acl:key") == price_update(1)


async def test_wrong_password_is_a_clean_bus_error(
    password_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"redis://:{WRONG}@127.0.0.1:{password_redis.port}/0"
    with pytest.raises(BusError) as info:
        async with open_redis_bus(url):
            pytest.fail("must not connect")  # pragma: no cover
    said = everything_said(info.value)
    assert f"***@127.0.0.1:{password_redis.port}/0" in str(info.value)  # the redacted URL
    assert WRONG not in said
    assert PASSWORD not in said
    assert WRONG not in caplog.text


async def test_unreachable_redis_is_a_bus_error_naming_the_url() -> None:
    port = free_port()
    with pytest.raises(BusError, match=f"127.0.0.1:{port}") as info:
        async with open_redis_bus(f"redis://:{PASSWORD}@127.0.0.1:{port}/0", connect_timeout=1):
            pytest.fail("must not connect")  # pragma: no cover
    assert PASSWORD not in everything_said(info.value)


def test_non_redis_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"\*\*\*"):
        RedisBus(f"http://u:{PASSWORD}@host/")


async def test_errors_in_the_block_pass_through_unchanged(redis_server: RedisServer) -> None:
    with pytest.raises(KeyError, match="mine"):
        async with open_redis_bus(redis_server.url):
            raise KeyError("mine")


async def test_undecodable_values_are_skipped_and_counted(redis_server: RedisServer) -> None:
    with plain(redis_server.url) as client:
        client.hset("kv:bad", mapping={"good": b"x", "bad": b"{nope"})
        client.set("kv:bad-value", b"\x00garbage")
    async with open_redis_bus(redis_server.url) as bus:
        await bus.hset("kv:bad", "good", price_update(1))
        assert await bus.hgetall("kv:bad") == {"good": price_update(1)}
        assert await bus.hget("kv:bad", "bad") is None
        assert await bus.get("kv:bad-value") is None
        assert bus.stats.decode_errors == 3


async def test_restart_reconnects_resubscribes_and_reports_lost(
    private_redis: RedisServer,
) -> None:
    channel = "fault:prices"
    async with (
        open_redis_bus(private_redis.url) as bus,
        bus.subscribe(channel, Channel.SYSTEM_ALERTS) as sub,
    ):
        await bus.publish(channel, price_update(0))
        with trio.fail_after(WAIT):
            assert (await sub.receive()).message == price_update(0)

        private_redis.stop()  # SIGKILL
        for i in range(1, 21):
            await bus.publish(channel, price_update(i))  # must not raise
            await trio.sleep(0.01)
        with trio.fail_after(WAIT):
            while bus.stats.publish_failed < 20:  # noqa: ASYNC110 - polls a counter
                await trio.sleep(0.01)
        with pytest.raises(BusError, match="HGET"):
            await bus.hget("fault:latest", "x")

        private_redis.start()  # same port
        restarted = trio.current_time()
        alert: SystemAlert | None = None
        probe: PolymarketPriceUpdate | None = None
        with trio.fail_after(2.0):
            async with trio.open_nursery() as nursery:

                async def keep_probing() -> None:
                    seq = 100
                    while True:
                        await bus.publish(channel, price_update(seq))
                        seq += 1
                        await trio.sleep(0.05)

                nursery.start_soon(keep_probing)
                async for envelope in sub:
                    message = envelope.message
                    if isinstance(message, SystemAlert) and message.type == "BUS_PUBLISH_FAILED":
                        alert = message
                    elif isinstance(message, PolymarketPriceUpdate) and message.seq >= 100:
                        probe = probe or message
                    if alert is not None and probe is not None:
                        nursery.cancel_scope.cancel()
        assert trio.current_time() - restarted < 2.0
        assert alert is not None
        assert int(alert.details["lost"]) >= 20
        assert bus.stats.reconnects >= 2  # the reader's and the publisher's connections
        assert bus.stats.publish_failed >= 20
        await bus.hset("fault:latest", "x", price_update(1))  # key/value works again
        assert await bus.hget("fault:latest", "x") == price_update(1)


async def test_cancelling_the_scope_leaves_no_task_behind(redis_server: RedisServer) -> None:
    await trio.lowlevel.checkpoint()
    baseline = len(all_tasks())
    received = 0
    with trio.move_on_after(0.5) as scope:
        async with (
            open_redis_bus(redis_server.url) as bus,
            trio.open_nursery() as nursery,
            bus.subscribe("cancel:chan") as sub,
        ):

            async def publish_forever() -> None:
                i = 0
                while True:
                    await bus.publish("cancel:chan", price_update(i))
                    i += 1
                    await trio.sleep(0.001)

            nursery.start_soon(publish_forever)
            async for _ in sub:
                received += 1
    assert scope.cancelled_caught
    assert received > 0
    assert len(all_tasks()) == baseline
    assert bus._closed
