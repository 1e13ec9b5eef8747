"""The one coalescing sender every venue feed delivers through."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from arbees.coalesce import CoalescingSender


def _sender(
    size: int = 1,
) -> tuple[CoalescingSender[str, int, tuple[str, int]], trio.MemoryReceiveChannel[tuple[str, int]]]:
    send, receive = trio.open_memory_channel[tuple[str, int]](size)
    return CoalescingSender(send, lambda key, value: (key, value)), receive


async def test_goes_out_at_once_while_the_consumer_keeps_up() -> None:
    sender, receive = _sender(size=4)
    sender.offer("a", 1)
    sender.offer("a", 2)
    assert [receive.receive_nowait(), receive.receive_nowait()] == [("a", 1), ("a", 2)]
    assert (sender.stats.sent, sender.stats.coalesced, len(sender)) == (2, 0, 0)


async def test_newest_wins_and_a_requeued_key_keeps_its_first_change_place() -> None:
    sender, receive = _sender(size=1)
    sender.offer("a", 1)  # fills the channel
    sender.offer("b", 1)
    sender.offer("c", 1)
    sender.offer("b", 2)  # b keeps its place ahead of c, with its newest value
    sender.offer("b", 3)
    assert len(sender) == 2
    got = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(sender.run)
        for _ in range(3):
            got.append(await receive.receive())
        nursery.cancel_scope.cancel()
    assert got == [("a", 1), ("b", 3), ("c", 1)]
    assert (sender.stats.sent, sender.stats.coalesced) == (3, 2)


async def test_build_at_send_time_can_drop_and_discard_forgets() -> None:
    send, receive = trio.open_memory_channel[str](1)
    current = {"a": "A1", "b": "B1", "c": "C1"}
    sender = CoalescingSender[str, None, str](send, lambda key, _: current.get(key))
    sender.offer("a", None)
    sender.offer("b", None)
    sender.offer("c", None)
    current["b"] = "B2"  # built when it goes out: the newest state
    del current["c"]  # removed meanwhile: nothing is sent for it
    sender.offer("d", None)
    sender.discard("d")
    got = [receive.receive_nowait()]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(sender.run)
        got.append(await receive.receive())
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    assert got == ["A1", "B2"]
    assert sender.stats.sent == 2
    with pytest.raises(trio.WouldBlock):
        receive.receive_nowait()


async def test_cancelled_while_the_consumer_lags_and_resumes_with_the_queue_intact() -> None:
    sender, receive = _sender(size=1)
    sender.offer("a", 1)
    sender.offer("b", 1)
    with trio.move_on_after(0.05) as scope:
        await sender.run()  # blocked: the channel is full and nobody reads
    assert scope.cancelled_caught
    # "b" was taken for sending when the cancel hit it; a newer "b" still goes out.
    sender.offer("b", 2)
    assert receive.receive_nowait() == ("a", 1)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(sender.run)
        assert await receive.receive() == ("b", 2)
        nursery.cancel_scope.cancel()


async def test_a_held_read_builds_each_key_once_and_hands_it_over_at_flush() -> None:
    send, receive = trio.open_memory_channel[tuple[str, int]](2)
    built: list[tuple[str, int]] = []

    def build(key: str, value: int) -> tuple[str, int]:
        built.append((key, value))
        return (key, value)

    sender = CoalescingSender(send, build)
    sender.hold()
    for key, value in [("a", 1), ("b", 1), ("a", 2), ("c", 1), ("a", 3)]:
        sender.offer(key, value)
    with pytest.raises(trio.WouldBlock):
        receive.receive_nowait()  # nothing goes out while held
    assert built == []
    sender.flush()
    # first-change order, newest value, each built once; c waits for room (channel of 2)
    assert [receive.receive_nowait(), receive.receive_nowait()] == [("a", 3), ("b", 1)]
    assert built == [("a", 3), ("b", 1)]
    assert (sender.stats.sent, sender.stats.coalesced, len(sender)) == (2, 2, 1)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(sender.run)
        assert await receive.receive() == ("c", 1)
        nursery.cancel_scope.cancel()
    sender.offer("d", 1)  # not held any more: straight out
    assert receive.receive_nowait() == ("d", 1)


# -- a synchronous sink instead of the channel (the monitor's bus writer) ----------------


async def test_a_sink_gets_one_reads_values_as_one_list_newest_per_key() -> None:
    sender, receive = _sender(size=4)
    got: list[list[tuple[str, int]]] = []
    sender.set_sink(got.append)
    sender.hold()
    for key, value in (("a", 1), ("b", 1), ("a", 2), ("c", 1), ("b", 3)):
        sender.offer(key, value)
    assert got == []  # nothing before the read is over
    sender.flush()
    assert got == [[("a", 2), ("b", 3), ("c", 1)]]  # first-change order, newest values
    sender.offer("d", 1)  # outside a read: at once, alone
    assert got[-1] == [("d", 1)]
    with pytest.raises(trio.WouldBlock):
        receive.receive_nowait()  # the channel saw none of it
    assert (sender.stats.sent, sender.stats.coalesced) == (4, 2)


async def test_values_queued_behind_a_full_channel_go_to_a_sink_when_it_is_set() -> None:
    sender, receive = _sender(size=1)
    sender.offer("a", 1)  # fills the channel
    sender.offer("b", 1)
    sender.offer("c", 1)
    got: list[list[tuple[str, int]]] = []
    sender.set_sink(got.append)
    assert got == [[("b", 1), ("c", 1)]]  # nothing stranded in the queue
    assert receive.receive_nowait() == ("a", 1)  # what the channel held stays there
    async with trio.open_nursery() as nursery:
        nursery.start_soon(sender.run)  # with a sink, run() delivers nothing twice
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    assert got == [[("b", 1), ("c", 1)]]
    sender.set_sink(None)  # back to the channel
    sender.offer("e", 1)
    assert receive.receive_nowait() == ("e", 1)


async def test_a_sink_set_during_a_read_takes_that_read_at_its_flush() -> None:
    sender, _ = _sender(size=4)
    got: list[list[tuple[str, int]]] = []
    sender.hold()
    sender.offer("a", 1)
    sender.set_sink(got.append)
    assert got == []
    sender.offer("b", 1)
    sender.flush()
    assert got == [[("a", 1), ("b", 1)]]


async def test_a_build_returning_none_is_left_out_of_the_sinks_list() -> None:
    send, _ = trio.open_memory_channel[tuple[str, int]](4)
    sender = CoalescingSender[str, int, tuple[str, int]](
        send, lambda key, value: None if key == "gone" else (key, value)
    )
    got: list[list[tuple[str, int]]] = []
    sender.set_sink(got.append)
    sender.hold()
    sender.offer("gone", 1)
    sender.flush()
    assert got == []  # an empty read calls nobody
    sender.hold()
    sender.offer("gone", 1)
    sender.offer("x", 1)
    sender.flush()
    assert got == [[("x", 1)]]


async def test_read_runs_the_handler_over_one_read_and_hands_its_changes_on_once() -> None:
    sender, _ = _sender(size=4)
    got: list[list[tuple[str, int]]] = []
    sender.set_sink(got.append)
    seen: list[tuple[str, int]] = []

    def handle(message: str, received_ns: int) -> None:
        seen.append((message, received_ns))
        sender.offer(message[0], int(message[1:]))
        assert got == []  # nothing leaves while the read is being applied

    sender.read(["a1", "b1", "a2"], 7, handle)
    assert seen == [("a1", 7), ("b1", 7), ("a2", 7)]
    assert got == [[("a", 2), ("b", 1)]]

    def fails(message: str, received_ns: int) -> None:
        sender.offer("c", 1)
        raise ValueError(message)

    with pytest.raises(ValueError, match="x"):
        sender.read(["x"], 8, fails)
    assert got[-1] == [("c", 1)]  # what the read changed before the error still goes out
