"""The tests' private redis-server never passes another process's server off as its own.

CI runs the three Pythons' suites at once; a port one suite's server chose can be taken by
another's before it binds.
"""

from __future__ import annotations

import pytest

from arbees.testing.redis_server import RedisServer


def test_a_self_chosen_port_lost_to_another_server_moves_to_a_new_one() -> None:
    with RedisServer() as other:
        ours = RedisServer(password="pw")
        ours.port = other.port  # as if `other` took the port between choosing and binding
        try:
            ours.start()
            assert ours.port != other.port
            ours.restart()  # a restart keeps the port it has
            assert ours.port != other.port
            assert ours._ping()
        finally:
            ours.close()


def test_a_port_the_caller_gave_is_never_changed() -> None:
    with RedisServer() as other:
        ours = RedisServer(port=other.port)
        try:
            with pytest.raises(RuntimeError, match="could not bind"):
                ours.start(timeout=5)
            assert ours.port == other.port
        finally:
            ours.close()
