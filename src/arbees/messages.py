"""Typed messages that travel on the bus, and the channel names.

Every message is an ``@attrs.frozen`` value with ``to_dict()`` / ``from_dict()``; the JSON
codec (:mod:`arbees.codec`) adds the schema version and type tag. Field names of the
seed's messages are kept, so a consumer written against the seed keeps working; fields
that must be exact carry an ``*_exact`` decimal string beside the seed's float.

Prices and sizes are :data:`arbees.money.Fixed` micro-units in Python. ``None`` means
"no price" (an empty side) and is written as ``null`` — never as zero.

Example::

    >>> from arbees.messages import SystemAlert
    >>> alert = SystemAlert(type="TEST", service="docs", error="hello", timestamp=0)
    >>> SystemAlert.from_dict(alert.to_dict()) == alert
    True
"""

from __future__ import annotations

import enum
import time
from typing import Any, ClassVar, Final, TypeVar, cast

import attrs

from arbees._wire import KINDS, Decoder, Encoder
from arbees.book import Level
from arbees.errors import DecodeError
from arbees.money import Fixed

__all__ = [
    "COMBOS",
    "GAME_ASSIGNMENTS_HASH",
    "LATEST_PRICES_HASH",
    "MESSAGE_TYPES",
    "SCHEMA_VERSION",
    "TOKEN_ASSIGNMENTS_HASH",
    "ArbSignal",
    "Channel",
    "MarketAssignment",
    "Message",
    "PolymarketPriceUpdate",
    "ServiceStatus",
    "ShardHeartbeat",
    "SignalLeg",
    "SystemAlert",
    "TeamLeg",
    "now_ms",
]

SCHEMA_VERSION: Final = 1
"""Written as ``"v"`` in every payload; decoders accept this version only."""


class Channel(enum.StrEnum):
    """Pub/sub channel names (the seed's names, plus arbees' own in the same style)."""

    POLYMARKET_PRICES = "polymarket:prices"
    MARKET_ASSIGNMENTS = "orchestrator:market_assignments"
    SYSTEM_ALERTS = "system:alerts"
    SIGNALS = "arbees:signals"
    SHARD_HEARTBEATS = "orchestrator:shard_heartbeats"
    SERVICE_STATUS = "arbees:service_status"


LATEST_PRICES_HASH: Final = "polymarket:latest_prices"
"""Redis hash: field = Polymarket token id, value = the latest encoded price update."""

GAME_ASSIGNMENTS_HASH: Final = "orchestrator:game_assignments"
"""Hash: field = game id, value = the shard's (``platform="kalshi"``) MarketAssignment."""

TOKEN_ASSIGNMENTS_HASH: Final = "orchestrator:token_assignments"
"""Hash: field = Polymarket token id, value = the monitor's MarketAssignment."""


def now_ms() -> int:
    """Wall-clock epoch milliseconds."""
    return time.time_ns() // 1_000_000


T = TypeVar("T", bound="Message")

COMBOS: Final = ("PolyYes+KalshiNo", "KalshiYes+PolyNo", "PolyOnly", "KalshiOnly")
"""The seed's four combinations, in mask-bit order (1, 2, 4, 8)."""


def _kind(kind: str, **meta: Any) -> dict[str, Any]:
    return {"kind": kind, **meta}


def f(
    kind: str, *, default: Any = attrs.NOTHING, choices: tuple[str, ...] = (), of: Any = None
) -> Any:
    """Declare a message field of a wire ``kind`` (see :mod:`arbees._wire`)."""
    return attrs.field(default=default, metadata=_kind(kind, choices=choices, of=of))


_Plan = tuple[tuple[str, Encoder | None, Encoder | None, Decoder | None, tuple[str, ...], Any], ...]


class Message:
    """Mixin giving attrs message classes their wire form."""

    __slots__ = ()
    _spec: ClassVar[tuple[tuple[str, str, tuple[str, ...], Any], ...]]

    @classmethod
    def _plan(cls) -> _Plan:
        """Per field: name, ``to_dict`` encoder, wire encoder, decoder (``None`` for a
        nested list of messages), choices, nested type. Built once per class: the codec
        runs it for every message, so no per-field lookups remain on the hot path."""
        plan: _Plan | None = cls.__dict__.get("_plan_cache")
        if plan is None:
            rows: list[tuple[str, Encoder | None, Encoder | None, Decoder | None, Any, Any]] = []
            for name, kind, choices, of in cls._fields_spec():
                if kind == "nested":
                    rows.append((name, None, None, None, choices, of))
                else:
                    k = KINDS[kind]
                    rows.append((name, k.encode, k.wire, k.decode, choices, of))
            plan = tuple(rows)
            type.__setattr__(cls, "_plan_cache", plan)
        return plan

    @classmethod
    def _fields_spec(cls) -> tuple[tuple[str, str, tuple[str, ...], Any], ...]:
        spec: tuple[tuple[str, str, tuple[str, ...], Any], ...] | None
        spec = cls.__dict__.get("_spec_cache")
        if spec is None:
            spec = tuple(
                (a.name, a.metadata["kind"], a.metadata["choices"], a.metadata["of"])
                for a in attrs.fields(cast("type[attrs.AttrsInstance]", cls))
            )
            type.__setattr__(cls, "_spec_cache", spec)
        return spec

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict of this message's fields (without version/type tags)."""
        out: dict[str, Any] = {}
        for name, encode, _wire, _decode, _choices, _of in self._plan():
            value = getattr(self, name)
            if encode is None:
                out[name] = [item.to_dict() for item in value]
            else:
                encode(name, value, out)
        return out

    def _wire_into(self, out: dict[str, Any]) -> None:
        """Like :meth:`to_dict`, into ``out``, in the codec's form (floats as
        :class:`msgspec.Raw` rendered exactly as :mod:`json` would)."""
        for name, _encode, wire, _decode, _choices, _of in self._plan():
            value = getattr(self, name)
            if wire is None:
                items = []
                for item in value:
                    nested: dict[str, Any] = {}
                    item._wire_into(nested)
                    items.append(nested)
                out[name] = items
            else:
                wire(name, value, out)

    @classmethod
    def from_dict(cls: type[T], data: Any) -> T:
        """Validate ``data`` and build the message; unknown keys are ignored.

        Raises :class:`~arbees.errors.DecodeError` naming the first bad field.
        """
        if type(data) is not dict:
            raise DecodeError(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
        values: dict[str, Any] = {}
        for name, _encode, _wire, decode, choices, of in cls._plan():
            if decode is None:
                raw = data.get(name, [])
                if type(raw) is not list:
                    raise DecodeError("expected a list", field=name)
                try:
                    values[name] = tuple(of.from_dict(item) for item in raw)
                except DecodeError as exc:
                    raise DecodeError(str(exc), field=name) from None
                continue
            value = decode(name, data)
            if choices and value not in choices:
                raise DecodeError(f"{value!r:.40} is not one of {choices}", field=name)
            values[name] = value
        return cls(**values)


@attrs.frozen(slots=True)
class PolymarketPriceUpdate(Message):
    """One Polymarket token's top of book (plus depth), as the monitor publishes it.

    The seed's fields are kept: ``market_id, token_id, yes_bid, yes_ask, no_bid, no_ask,
    liquidity, timestamp_ms``. "yes" is this token's own outcome; "no" is the complementary
    outcome, whose book on Polymarket is the mirror (``no_ask = 1 - yes_bid``).

    Attributes:
        market_id: the condition id (``0x`` + 64 hex).
        token_id: the outcome token id (decimal string, up to 78 digits).
        yes_bid, yes_ask, no_bid, no_ask: best prices in micro-dollars, ``None`` when empty.
        liquidity: total size of the top levels quoted, in micro-shares.
        timestamp_ms: when the monitor published (epoch ms).
        yes_bid_size, yes_ask_size, no_bid_size, no_ask_size: sizes at the quoted prices.
        yes_asks, no_asks: ask depth best first (``no_asks`` mirrors the token's bids).
        venue_ts_ms: the venue's timestamp of the change (``None`` when it sent none).
        monitor_recv_ns: wall clock when the monitor received the frame.
        published_ns: wall clock when the monitor published this update.
        seq: per-market sequence number assigned by the monitor (gaps show bus loss).
        stream_seq: the monitor's sequence number over ALL its price updates (1, 2, ...;
            0 from publishers that do not number them). A consumer that sees every number
            knows it missed nothing; the monitor's health heartbeat carries the last one.
        stale: True when the monitor's book cannot be trusted (reconnect, tick change, ...).
        tick_size: the token's tick size when known.
    """

    market_id: str = f("str")
    token_id: str = f("str")
    yes_bid: Fixed | None = f("price")
    yes_ask: Fixed | None = f("price")
    no_bid: Fixed | None = f("price")
    no_ask: Fixed | None = f("price")
    liquidity: Fixed = f("money_float")
    timestamp_ms: int = f("int")
    yes_bid_size: Fixed | None = f("size", default=None)
    yes_ask_size: Fixed | None = f("size", default=None)
    no_bid_size: Fixed | None = f("size", default=None)
    no_ask_size: Fixed | None = f("size", default=None)
    yes_asks: tuple[Level, ...] = f("levels", default=())
    no_asks: tuple[Level, ...] = f("levels", default=())
    venue_ts_ms: int | None = f("opt_int", default=None)
    monitor_recv_ns: int = f("int", default=0)
    published_ns: int = f("int", default=0)
    seq: int = f("int", default=0)
    stale: bool = f("bool", default=False)
    tick_size: Fixed | None = f("size", default=None)
    stream_seq: int = f("int", default=0)


@attrs.frozen(slots=True)
class TeamLeg(Message):
    """One team of a matched game on both venues.

    Attributes:
        team: canonical team id (e.g. ``"NBA:OKC"``).
        kalshi_ticker: the Kalshi market whose YES pays if this team wins.
        poly_token: the Polymarket token that pays if this team wins.
    """

    team: str = f("str")
    kalshi_ticker: str = f("str")
    poly_token: str = f("str")


@attrs.frozen(slots=True)
class MarketAssignment(Message):
    """The orchestrator's instruction to a monitor or shard.

    The seed's fields ``platform, market_id, token_id, shard_id, sport`` are kept. One
    assignment per Polymarket token goes to the monitor (``platform="polymarket"``) and
    one per game to the owning shard (``platform="kalshi"``), the latter carrying both
    teams so the shard can pair Kalshi YES(team A) with token(team A).

    Attributes:
        platform: ``"polymarket"`` (monitor) or ``"kalshi"`` (shard).
        market_id: Polymarket condition id, or Kalshi event ticker.
        token_id: the Polymarket token (``""`` on a shard assignment).
        shard_id: the shard that owns the game.
        sport: league, e.g. ``"NBA"``.
        game_id: stable id of the matched game.
        action: ``"assign"`` or ``"unassign"``.
        teams: both teams' instruments (shard assignments).
        kalshi_fee_multiplier: the Kalshi series fee multiplier (exact decimal string).
        poly_fee_rate: Polymarket taker fee rate (exact decimal string, ``"0"`` when disabled).
        poly_fee_exponent: Polymarket fee exponent.
        poly_min_order_size: Polymarket minimum order size in micro-shares, when known.
        start_time_ms: scheduled start (epoch ms), when known.
        epoch: assignment generation; a newer epoch supersedes an older one.
        timestamp_ms: when the orchestrator published.
    """

    platform: str = f("str", choices=("polymarket", "kalshi"))
    market_id: str = f("str")
    token_id: str = f("str")
    shard_id: str = f("str")
    sport: str = f("str")
    game_id: str = f("str", default="")
    action: str = f("str", default="assign", choices=("assign", "unassign"))
    teams: tuple[TeamLeg, ...] = f("nested", default=(), of=TeamLeg)
    kalshi_fee_multiplier: str = f("str", default="1")
    poly_fee_rate: str = f("str", default="0")
    poly_fee_exponent: int = f("int", default=1)
    poly_min_order_size: Fixed | None = f("size", default=None)
    start_time_ms: int | None = f("opt_int", default=None)
    epoch: int = f("int", default=0)
    timestamp_ms: int = f("int", default=0)


@attrs.frozen(slots=True)
class SystemAlert(Message):
    """An operational alert (the seed's ``type, service, error, timestamp``).

    Attributes:
        type: machine-readable kind, e.g. ``"POLYMARKET_MONITOR_UNHEALTHY"``.
        service: the emitting service, e.g. ``"polymarket_monitor"``.
        error: a human-readable explanation (never contains secrets).
        timestamp: epoch milliseconds.
        severity: ``"info"``, ``"warning"`` or ``"critical"``.
        details: extra string fields (country, ip, counts, ...).
    """

    type: str = f("str")
    service: str = f("str")
    error: str = f("str")
    timestamp: int = f("int")
    severity: str = f("str", default="warning", choices=("info", "warning", "critical"))
    details: dict[str, str] = f("str_map", default=attrs.Factory(dict))


@attrs.frozen(slots=True)
class SignalLeg(Message):
    """One leg of an arbitrage signal.

    Attributes:
        venue: ``"kalshi"`` or ``"polymarket"``.
        instrument: Kalshi market ticker or Polymarket token id.
        side: ``"yes"`` or ``"no"`` of that instrument.
        price: average price per contract (micro-dollars).
        worst_price: the deepest level price taken.
        size: contracts/shares (micro-units).
        fee: the venue fee for the whole leg (micro-dollars).
    """

    venue: str = f("str", choices=("kalshi", "polymarket"))
    instrument: str = f("str")
    side: str = f("str", choices=("yes", "no"))
    price: Fixed = f("size")
    worst_price: Fixed = f("size")
    size: Fixed = f("size")
    fee: Fixed = f("size")


@attrs.frozen(slots=True)
class ArbSignal(Message):
    """An arbitrage opportunity's life: ``open``, ``update`` (material change), ``close``.

    Attributes:
        signal_id: stable id for this opportunity across open/update/close.
        event: ``"open"``, ``"update"`` or ``"close"``.
        shard_id: the shard that detected it.
        game_id: the matched game.
        combo: ``"PolyYes+KalshiNo"``, ``"KalshiYes+PolyNo"``, ``"PolyOnly"``, ``"KalshiOnly"``.
        team: the team whose YES is the "yes" of this combination.
        legs: the legs to buy (prices, sizes, fees).
        size: contracts per leg (micro-units).
        cost: total cost including fees (micro-dollars).
        fees: total fees (micro-dollars).
        profit: payout minus cost (micro-dollars; signed — a close may report 0).
        edge: profit per contract (micro-dollars).
        venue_ts_ms: venue timestamp of the triggering update.
        monitor_recv_ns: monitor receive time of the Polymarket side (0 when direct).
        bus_recv_ns: when the shard received the triggering update.
        detect_ns: when the shard finished the math.
        published_ns: when the signal was published.
        timestamp_ms: epoch ms of publication.
    """

    signal_id: str = f("str")
    event: str = f("str", choices=("open", "update", "close"))
    shard_id: str = f("str")
    game_id: str = f("str")
    combo: str = f("str", choices=COMBOS)
    team: str = f("str")
    legs: tuple[SignalLeg, ...] = f("nested", of=SignalLeg)
    size: Fixed = f("size")
    cost: Fixed = f("money")
    fees: Fixed = f("money")
    profit: Fixed = f("money")
    edge: Fixed = f("money")
    timestamp_ms: int = f("int")
    venue_ts_ms: int | None = f("opt_int", default=None)
    monitor_recv_ns: int = f("int", default=0)
    bus_recv_ns: int = f("int", default=0)
    detect_ns: int = f("int", default=0)
    published_ns: int = f("int", default=0)


@attrs.frozen(slots=True)
class ShardHeartbeat(Message):
    """A shard announcing it is alive, and what it holds.

    Attributes:
        shard_id: the shard's id.
        timestamp_ms: when it was sent.
        games: game ids the shard currently runs.
        capacity: how many games the shard is willing to take (0 = no limit).
        healthy: False while the shard cannot trust its Kalshi connection.
        started_ms: when the shard started (a restart shows as a new value).
    """

    shard_id: str = f("str")
    timestamp_ms: int = f("int")
    games: tuple[str, ...] = f("str_tuple", default=())
    capacity: int = f("int", default=0)
    healthy: bool = f("bool", default=True)
    started_ms: int = f("int", default=0)


@attrs.frozen(slots=True)
class ServiceStatus(Message):
    """A service's health heartbeat (also stored with a TTL for ``arbees health``).

    Attributes:
        service: ``"monitor"``, ``"shard"`` or ``"orchestrator"``.
        instance: the instance id (shard id, or the host name).
        healthy: False while the service cannot do its job (e.g. egress unverified).
        timestamp_ms: when it was written.
        reason: why it is unhealthy (empty when healthy).
        details: extra string fields (counts, state).
    """

    service: str = f("str")
    instance: str = f("str")
    healthy: bool = f("bool")
    timestamp_ms: int = f("int")
    reason: str = f("str", default="")
    details: dict[str, str] = f("str_map", default=attrs.Factory(dict))


MESSAGE_TYPES: Final[dict[str, type[Message]]] = {
    cls.__name__: cls
    for cls in (
        PolymarketPriceUpdate,
        MarketAssignment,
        SystemAlert,
        ArbSignal,
        ShardHeartbeat,
        ServiceStatus,
    )
}
"""Top-level message types by their wire ``type`` tag."""
