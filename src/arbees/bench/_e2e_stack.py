"""The deployed topology for the end-to-end benchmarks, minus the orchestrator.

Why no orchestrator: its job (discovery, matching, balancing) is not what ``bench e2e`` or
``bench soak`` measure, and it would add a third process competing for two cores. Its
*output* is all the monitor and the shard need, so the bench writes it directly — the
assignment hashes ``orchestrator:game_assignments`` / ``orchestrator:token_assignments``
with the same :class:`~arbees.messages.MarketAssignment` shapes the orchestrator stores —
before the services start, and they load them on start-up as in production.

The services are real ``arbees monitor`` and ``arbees shard`` processes (see
:mod:`arbees.bench._e2e_procs`) talking to a private redis-server, the fake venues and a
fake Gluetun control server in the bench process; everything on 127.0.0.1.
:class:`BusTap` is the bench's own subscriber: it records every signal, the services'
health heartbeats (the monitor's published count, the shard's games) and, when asked, the
price updates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import msgspec
import trio

from arbees.bus import Bus
from arbees.bus._resp import RespParser, encode_command
from arbees.messages import (
    GAME_ASSIGNMENTS_HASH,
    TOKEN_ASSIGNMENTS_HASH,
    ArbSignal,
    Channel,
    FeeTerms,
    MarketAssignment,
    PolymarketPriceUpdate,
    ServiceStatus,
    TeamLeg,
)
from arbees.money import ONE
from arbees.services.discovery import GameSpec

__all__ = [
    "BenchGame",
    "BusTap",
    "PriceStamp",
    "ReceivedSignal",
    "assignments_for",
    "monitor_argv",
    "shard_argv",
    "wait_until",
    "write_assignments",
]

log = logging.getLogger(__name__)


@attrs.frozen
class BenchGame:
    """One game as the services see it.

    Attributes:
        game_id: the orchestrator's game id.
        sport: league.
        teams: both teams (team id, Kalshi ticker, Polymarket token).
        condition_id: the Polymarket market.
        kalshi_fee_multiplier, poly_fee_rate, poly_min_order_size: fee data as the
            orchestrator derives it from discovery.
    """

    game_id: str
    sport: str
    teams: tuple[TeamLeg, TeamLeg]
    condition_id: str
    kalshi_fee_multiplier: str = "1"
    poly_fee_rate: str = "0.05"
    poly_min_order_size: int = 5 * ONE


def assignments_for(game: BenchGame, shard_id: str, epoch: int = 1) -> list[MarketAssignment]:
    """The shard's game assignment and the monitor's two token assignments, built exactly as
    the orchestrator builds them (:class:`~arbees.services.discovery.GameSpec`)."""
    spec = GameSpec(
        game_id=game.game_id,
        sport=game.sport,
        kalshi_event_ticker=game.game_id,
        condition_id=game.condition_id,
        teams=game.teams,
        fees=(
            FeeTerms("kalshi", "kalshi", multiplier=game.kalshi_fee_multiplier),
            FeeTerms(
                "polymarket",
                "polymarket",
                rate=game.poly_fee_rate,
                min_order_size=game.poly_min_order_size,
            ),
        ),
    )
    now = int(time.time() * 1000)
    return [
        spec.shard_assignment(shard_id, action="assign", epoch=epoch, timestamp_ms=now),
        *spec.monitor_assignments(shard_id, action="assign", epoch=epoch, timestamp_ms=now),
    ]


async def write_assignments(
    bus: Bus, games: Iterable[BenchGame], shard_id: str, *, shard: bool = True
) -> None:
    """Store the assignments as the orchestrator would (``shard=False``: tokens only)."""
    for game in games:
        for a in assignments_for(game, shard_id):
            if a.platform == "kalshi":
                if shard:
                    await bus.hset(GAME_ASSIGNMENTS_HASH, a.game_id, a)
            else:
                await bus.hset(TOKEN_ASSIGNMENTS_HASH, a.token_id, a)


def monitor_argv(
    redis_url: str,
    ws_url: str,
    egress_url: str,
    clob_url: str,
    *,
    instance: str = "bench-monitor",
    silence_timeout: float = 30.0,
    egress_interval: float = 5.0,
    log_level: str = "WARNING",
) -> list[str]:
    return [
        "monitor", "--redis-url", redis_url, "--ws-url", ws_url, "--egress-url", egress_url,
        "--clob-url", clob_url,
        "--egress-interval", str(egress_interval), "--silence-timeout", str(silence_timeout),
        "--instance", instance, "--log-level", log_level,
    ]  # fmt: skip


def shard_argv(
    redis_url: str,
    kalshi_ws_url: str,
    *,
    shard_id: str = "bench-shard",
    max_price_age_ms: int = 2000,
    kalshi_silence_timeout: float = 30.0,
    log_level: str = "WARNING",
) -> list[str]:
    return [
        "shard", "--redis-url", redis_url, "--shard-id", shard_id,
        "--kalshi-ws-url", kalshi_ws_url, "--polymarket-via-redis", "true",
        "--max-price-age-ms", str(max_price_age_ms),
        "--kalshi-silence-timeout", str(kalshi_silence_timeout), "--log-level", log_level,
    ]  # fmt: skip


class PriceStamp(msgspec.Struct):
    """The parts of a price update the bench measures with (decoded by ``msgspec`` alone:
    the bench's subscriber must not cost what the full codec costs per update).

    Attributes:
        token_id: the token.
        venue_ts_ms: the venue frame's timestamp.
        published_ns: when the monitor published it.
        monitor_recv_ns: when the monitor read the frame.
    """

    token_id: str = ""
    venue_ts_ms: int | None = None
    published_ns: int = 0
    monitor_recv_ns: int = 0


_STAMP = msgspec.json.Decoder(PriceStamp).decode


@attrs.frozen
class ReceivedSignal:
    """A signal as the tap saw it.

    Attributes:
        signal: the message.
        received_ns: when the tap received it.
    """

    signal: ArbSignal
    received_ns: int


@attrs.define
class BusTap:
    """The bench's subscriber: signals, health heartbeats and (optionally) price updates.

    Attributes:
        signals: every signal, in arrival order.
        status: the latest health heartbeat per ``(service, instance)``.
        on_price: called with ``(update, received_ns)`` for each price update while
            :meth:`prices` runs.
        prices_seen: price updates received by :meth:`prices`.
        health_log: ``(received_ns, service, instance, healthy, reason)`` at every change
            of a service's health.
    """

    bus: Bus
    signals: list[ReceivedSignal] = attrs.Factory(list)
    status: dict[tuple[str, str], ServiceStatus] = attrs.Factory(dict)
    on_price: Callable[[Any, int], None] | None = None
    prices_seen: int = 0
    health_log: list[tuple[int, str, str, bool, str]] = attrs.Factory(list)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with self.bus.subscribe(
            Channel.SIGNALS, Channel.SERVICE_STATUS, buffer=262_144
        ) as sub:
            task_status.started()
            async for envelope in sub:
                message = envelope.message
                if isinstance(message, ArbSignal):
                    self.signals.append(ReceivedSignal(message, envelope.received_ns))
                elif isinstance(message, ServiceStatus):
                    key = (message.service, message.instance)
                    old = self.status.get(key)
                    if old is None or old.healthy != message.healthy:
                        self.health_log.append(
                            (envelope.received_ns, *key, message.healthy, message.reason)
                        )
                    self.status[key] = message

    async def prices(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Receive price updates until cancelled (a second subscription, so it can stop)."""
        async with self.bus.subscribe(Channel.POLYMARKET_PRICES, buffer=262_144) as sub:
            task_status.started()
            async for envelope in sub:
                message = envelope.message
                if isinstance(message, PolymarketPriceUpdate):
                    self.prices_seen += 1
                    if self.on_price is not None:
                        self.on_price(message, envelope.received_ns)

    async def price_stamps(
        self, port: int, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Like :meth:`prices`, on a raw RESP connection to the Redis at 127.0.0.1:``port``,
        each payload decoded into a :class:`PriceStamp` (``on_price`` gets those)."""
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream:
            await stream.send_all(encode_command(b"SUBSCRIBE", Channel.POLYMARKET_PRICES))
            parser = RespParser()
            started = False
            while data := await stream.receive_some(262_144):
                now = time.time_ns()
                for value in parser.feed(data):
                    if type(value) is not list or len(value) != 3:
                        continue
                    if value[0] == b"message":
                        try:
                            stamp = _STAMP(value[2])
                        except msgspec.DecodeError:
                            continue
                        self.prices_seen += 1
                        if self.on_price is not None:
                            self.on_price(stamp, now)
                    elif value[0] == b"subscribe" and not started:
                        started = True
                        task_status.started()

    def detail(self, service: str, instance: str, key: str, default: int = 0) -> int:
        """An integer detail of a service's latest heartbeat (``default`` when unknown)."""
        status = self.status.get((service, instance))
        if status is None:
            return default
        try:
            return int(status.details.get(key, default))
        except ValueError:
            return default

    def healthy(self, service: str, instance: str) -> bool:
        status = self.status.get((service, instance))
        return status is not None and status.healthy


async def wait_until(
    predicate: Callable[[], bool],
    within: float,
    what: str,
    *,
    poll: float = 0.05,
    check: Callable[[], Any] | None = None,
) -> float:
    """Poll ``predicate`` (no event exists across processes); seconds waited.

    ``check`` is called on every poll (e.g. to raise when a service process died).
    Raises ``TimeoutError`` naming ``what``.
    """
    start = time.monotonic()
    with trio.move_on_after(within):
        while True:
            if check is not None:
                check()
            if predicate():
                return time.monotonic() - start
            await trio.sleep(poll)
    raise TimeoutError(f"timed out after {within:.0f} s waiting for {what}")
