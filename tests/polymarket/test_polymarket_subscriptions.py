"""The feed's subscription state, sans-io: placement, frames per connection, resyncs."""

from __future__ import annotations

import json
import math

import pytest

from arbees.errors import ConfigError
from arbees.polymarket.subscriptions import Placement, Resync, Subscriptions


def tok(i: int) -> str:
    return str(10**70 + i)


A, B, C, D, E = (tok(i) for i in range(1, 6))


def frames(subs: Subscriptions, index: int) -> list[dict[str, object]]:
    return [json.loads(f) for f in subs.frames(index)]


def test_tokens_fill_sockets_with_room_then_open_new_ones() -> None:
    subs = Subscriptions(2, resync_interval=1.0)
    assert subs.add([A, B, C, A]) == Placement({}, [0, 1])
    assert subs.layout() == [[A, B], [C]]
    assert subs.add([C, D, E]) == Placement({1: [D]}, [2])
    assert subs.layout() == [[A, B], [C, D], [E]]
    assert (subs.socket_of[D], D in subs, "x" in subs) == (1, True, False)
    with pytest.raises(ConfigError):
        Subscriptions(501, resync_interval=1.0)


def test_a_connection_subscribes_its_current_set_with_one_initial_frame() -> None:
    subs = Subscriptions(10, resync_interval=1.0, custom_features=True)
    subs.add([A, B])
    subs.connection_made(0)
    assert frames(subs, 0) == [
        {"assets_ids": [A, B], "type": "market", "initial_dump": True,
         "custom_feature_enabled": True}
    ]  # fmt: skip
    # a token added while that frame was in flight goes out as an update, before connected
    subs.add([C])
    assert frames(subs, 0) == [
        {"operation": "subscribe", "assets_ids": [C], "custom_feature_enabled": True}
    ]
    assert subs.frames(0) == []  # up to date: the connect loop ends
    subs.subscribed(0, 12.5)
    assert subs.sockets[0].subscribed_at == 12.5


def test_a_removal_unsubscribes_and_a_reconnect_subscribes_only_what_is_left() -> None:
    subs = Subscriptions(10, resync_interval=1.0)
    subs.add([A, B, C])
    subs.connection_made(0)
    subs.frames(0)
    removal = subs.remove([B, "unknown"])
    assert (removal.left, removal.closed, removal.tokens) == ({0: [B]}, [], [B])
    assert frames(subs, 0) == [{"operation": "unsubscribe", "assets_ids": [B]}]
    assert subs.connection_lost(0) == [A, C]  # their books are unconfirmed now
    assert subs.sockets[0].subscribed_at == math.inf
    subs.connection_made(0)
    assert frames(subs, 0) == [{"assets_ids": [A, C], "type": "market", "initial_dump": True}]


def test_a_socket_left_empty_is_closed_and_forgotten() -> None:
    subs = Subscriptions(2, resync_interval=1.0)
    subs.add([A, B, C])
    removal = subs.remove([C, A])
    assert (removal.left, removal.closed) == ({0: [A]}, [1])
    assert list(subs.sockets) == [0]
    assert subs.tokens == [B]
    assert subs.frames(1) == []
    assert subs.connection_lost(1) == []
    assert subs.request_resync(1, [C], 0.0) == Resync(False)
    # a new socket never reuses a closed one's index (its driver may still be stopping)
    assert subs.add([D, E]) == Placement({0: [D]}, [2])


def test_resyncs_are_throttled_per_socket_and_a_deferred_one_starts_once() -> None:
    subs = Subscriptions(2, resync_interval=10.0)
    subs.add([A, B, C])
    assert subs.request_resync(0, [A], 100.0) == Resync(True)
    assert subs.request_resync(1, [C], 101.0) == Resync(True)  # its own interval
    assert subs.request_resync(0, [A], 103.0) == Resync(False, 7.0)
    assert subs.request_resync(0, [B], 104.0) == Resync(False)  # already waiting
    subs.remove([B])
    assert subs.take_deferred(0) == [A]  # B left the socket meanwhile
    assert subs.take_deferred(0) == []
    assert subs.request_resync(0, [A], 110.0) == Resync(True)
