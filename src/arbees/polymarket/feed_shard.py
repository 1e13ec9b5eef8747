"""One socket of the Polymarket feed: its tokens, its driver, its subscriptions and resyncs.

Split from :mod:`arbees.polymarket.feed` so the subtle per-connection rules live in one
small place:

* ``on_connect`` subscribes the shard's CURRENT token set and re-reads it after every frame
  it awaits. ``PolymarketFeed.add_tokens`` / ``remove_tokens`` leave a shard whose driver is
  not yet ``connected`` to this hook; the driver turns ``connected`` right after the hook
  returns, with no checkpoint in between, so a token added while the subscribe frame was in
  flight is sent before returning instead of being lost until some later reconnect.
* ``resync`` (a reconnect: the only reliable way to get fresh snapshots) happens at most once
  per ``resync_interval``; one asked for sooner is deferred to the end of the interval and
  dropped if its books recovered meanwhile, so a stale book is never simply forgotten.

The shard reaches into its feed (protocol, stats, nursery, staleness marking) on purpose:
it is the feed's private part, not a public API.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

import trio
from trio_websocket import WebSocketConnection

from arbees.polymarket.protocol import TEXT_FRAMES
from arbees.polymarket.wire import subscribe_frame, update_frame
from arbees.wsdriver import Message, WsConfig, WsDriver

if TYPE_CHECKING:
    from arbees.polymarket.feed import PolymarketFeed

__all__ = ["FeedShard"]

log = logging.getLogger(__name__)


def _is_data(message: Message) -> bool:
    return not (isinstance(message, str) and message in TEXT_FRAMES)


class FeedShard:
    """One WebSocket connection of a ``PolymarketFeed`` and the tokens it carries."""

    def __init__(self, feed: PolymarketFeed, index: int) -> None:
        self.feed = feed
        self.index = index
        self.tokens: dict[str, None] = {}  # ordered set
        self.scope = trio.CancelScope()
        self.last_resync = -math.inf
        self.subscribed_at = math.inf  # trio time this connection's subscriptions went out
        self.deferred: set[str] = set()  # tokens a deferred resync is waiting for
        cfg = feed.config
        self.driver = WsDriver(
            WsConfig(
                cfg.url,
                proxy=cfg.proxy,
                heartbeat_text="PING",
                heartbeat_interval=cfg.ping_interval,
                silence_timeout=cfg.silence_timeout,
                is_data=_is_data,
                backoff=cfg.backoff,
                connect_timeout=cfg.connect_timeout,
                max_message_size=cfg.max_message_size,
                message_queue_size=cfg.message_queue_size,
                name=f"polymarket-ws-{index}",
                gate=cfg.gate,
                fatal_statuses=frozenset(),
            ),
            on_message=feed._on_frame,
            on_connect=self._on_connect,
            on_disconnect=self._on_disconnect,
        )

    @property
    def room(self) -> int:
        return self.feed.config.tokens_per_socket - len(self.tokens)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        with self.scope:
            await self.driver.run(task_status=task_status)

    async def _on_connect(self, ws: WebSocketConnection) -> None:
        # Subscribe the CURRENT token set, re-read after every await (see the module
        # docstring): returning with no checkpoint after the last read is what makes it safe.
        custom = self.feed.config.custom_features
        self.subscribed_at = math.inf
        sent: dict[str, None] = {}
        first = True
        while True:
            added = [t for t in self.tokens if t not in sent]
            removed = [t for t in sent if t not in self.tokens]
            if not added and not removed:
                break
            sent.update(dict.fromkeys(added))
            for token in removed:
                del sent[token]
            if added:
                if first:
                    frame = subscribe_frame(added, custom_features=custom)
                else:
                    frame = update_frame("subscribe", added, custom_features=custom)
                    log.info("%s: %d token(s) added while connecting", self.name, len(added))
                first = False
                await ws.send_message(frame)
            if removed:
                await ws.send_message(update_frame("unsubscribe", removed))
        self.subscribed_at = trio.current_time()

    @property
    def name(self) -> str:
        return self.driver.config.name

    def _on_disconnect(self, reason: str) -> None:
        self.subscribed_at = math.inf
        self.feed._mark_stale(self.tokens, f"reconnecting: {reason}")

    def resync(self, why: str, tokens: Iterable[str] = ()) -> bool:
        """Reconnect for fresh snapshots; within ``resync_interval`` of the last one, defer
        it (for ``tokens``) to the end of the interval. True when reconnecting now."""
        now = trio.current_time()
        wait = self.last_resync + self.feed.config.resync_interval - now
        if wait > 0:
            self._defer(why, tokens, wait)
            return False
        self.last_resync = now
        self.feed.stats.resyncs += 1
        log.info("%s: resync (%s)", self.name, why)
        self.driver.request_reconnect(f"resync: {why}")
        return True

    def _defer(self, why: str, tokens: Iterable[str], wait: float) -> None:
        nursery = self.feed._nursery
        pending = not self.deferred
        self.deferred.update(tokens)
        if pending and self.deferred and nursery is not None:
            self.feed.stats.resyncs_deferred += 1
            nursery.start_soon(self._deferred_resync, why, wait)

    async def _deferred_resync(self, why: str, wait: float) -> None:
        await trio.sleep(wait)
        books = self.feed.protocol.books
        still = [t for t in self.deferred if t in self.tokens and t in books and books[t].stale]
        self.deferred.clear()
        if still and self in self.feed._shards:
            self.resync(f"deferred: {why}", still)
