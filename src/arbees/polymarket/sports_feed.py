"""The Polymarket sports feed: one self-healing socket, game states out to one consumer.

:class:`SportsFeed` runs the sports channel (:mod:`arbees.polymarket.sports`) on the shared
:class:`~arbees.wsdriver.WsDriver`: no subscribe message on connect, a ``pong`` for every
``ping`` the server sends (it closes a socket that has not answered within 10 s), a
silence watchdog and full-jitter reconnects. The server pings every 5 s, so a socket that
delivered no frame at all, not even a ``ping``, for ``silence_timeout`` seconds is dead
however open it looks: the watchdog counts every frame, pings included.

Every connection is opened inside the route's connect gate (``gate``: the monitor's
verified egress, see :func:`arbees.egress.open_polymarket_route`), like the market socket.

Delivery: each result becomes a :class:`~arbees.messages.GameState` on :attr:`updates`
through the shared :class:`~arbees.coalesce.CoalescingSender`, keyed by the game's slug:
the reader never waits, and a slow consumer gets each game's newest state.
"""

from __future__ import annotations

from collections.abc import Awaitable

import attrs
import trio

from arbees.coalesce import CoalescingSender
from arbees.errors import ConfigError
from arbees.gate import ConnectGate
from arbees.messages import GameState
from arbees.polymarket.sports import MAX_FRAME_BYTES, SPORTS_WS_URL, SportResult, SportsProtocol
from arbees.wsdriver import Backoff, Message, WsConfig, WsDriver

__all__ = ["SportsFeed", "SportsFeedConfig"]


@attrs.frozen
class SportsFeedConfig:
    """Sports feed settings (defaults are the live venue's).

    Attributes:
        url: the sports WebSocket URL.
        silence_timeout: no frame (a ``ping`` included) for this long -> reconnect; the
            server pings every 5 s, so the default is three missed pings.
        backoff: reconnect policy.
        channel_size: capacity of the consumer channel.
        proxy: optional HTTP CONNECT proxy ``http://[user:pass@]host:port`` (redacted).
        connect_timeout: bound on a connection's setup.
        gate: asked before every connection (the route's egress gate); ``None``: none.
    """

    url: str = SPORTS_WS_URL
    silence_timeout: float = 15.0
    backoff: Backoff = attrs.field(factory=Backoff)
    channel_size: int = 256
    proxy: str | None = attrs.field(default=None, repr=lambda p: "None" if p is None else "***")
    connect_timeout: float = 10.0
    gate: ConnectGate | None = attrs.field(default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.silence_timeout > 0:
            raise ConfigError(f"silence_timeout must be > 0, got {self.silence_timeout!r}")
        if self.channel_size < 1:
            raise ConfigError(f"channel_size must be >= 1, got {self.channel_size!r}")


class SportsFeed:
    """The sports channel as a stream of :class:`~arbees.messages.GameState` (see the
    module docstring). Run :meth:`run` in a nursery; read :attr:`updates`."""

    def __init__(self, config: SportsFeedConfig | None = None) -> None:
        self.config = config or SportsFeedConfig()
        self.protocol = SportsProtocol()
        send, self.updates = trio.open_memory_channel[GameState](self.config.channel_size)
        self._sender: CoalescingSender[str, SportResult, GameState] = CoalescingSender(
            send, lambda _slug, result: result.game_state()
        )
        cfg = self.config
        self.driver = WsDriver(
            WsConfig(
                cfg.url,
                proxy=cfg.proxy,
                silence_timeout=cfg.silence_timeout,
                backoff=cfg.backoff,
                connect_timeout=cfg.connect_timeout,
                # one result is a few hundred bytes; a frame over the protocol's cap is
                # refused by it anyway, so nothing larger needs buffering
                max_message_size=MAX_FRAME_BYTES,
                name="polymarket-sports",
                gate=cfg.gate,
                # no credentials here: a refusal is about where we are, never fatal
                fatal_statuses=frozenset(),
            ),
            on_message=self._on_frame,
        )

    def __repr__(self) -> str:
        return f"SportsFeed({self.driver!r})"

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Connect and keep connected until cancelled; ready once the first connection is
        open."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._sender.run)
            await nursery.start(self.driver.run)
            task_status.started()

    def counters(self) -> dict[str, int]:
        """``reconnects``, ``rejected``, ``pings``, ``results``, ``coalesced``, ``watchdog``."""
        stats = self.protocol.stats
        return {
            "reconnects": self.driver.stats.reconnects,
            "rejected": stats.rejected_total,
            "pings": stats.pings,
            "results": stats.results,
            "coalesced": self._sender.stats.coalesced,
            "watchdog": self.driver.stats.watchdog_fires,
        }

    def _on_frame(self, message: Message, recv_ns: int) -> Awaitable[None] | None:
        for result in self.protocol.receive(message, recv_ns):
            self._sender.offer(result.slug, result)
        replies = self.protocol.data_to_send()
        return self._reply(replies) if replies else None

    async def _reply(self, frames: list[str]) -> None:
        for frame in frames:
            await self.driver.send(frame)
