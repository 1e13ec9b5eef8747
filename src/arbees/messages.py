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

from arbees._wire import (
    DEFAULT_LIMITS,
    KINDS,
    MAX_ID_CHARS,
    MAX_LIST_ITEMS,
    MAX_MAP_ENTRIES,
    MAX_MAP_VALUE_CHARS,
    MAX_TEXT_CHARS,
    MAX_TOKEN_ID_DIGITS,
    PUBLISHED_DEPTH,
    DecodeLimits,
    Decoder,
    Encoder,
    clip_text,
    is_token_id,
)
from arbees.book import Level
from arbees.errors import DecodeError
from arbees.money import Fixed, format_fixed

__all__ = [
    "COMBOS",
    "FEE_KINDS",
    "GAME_ASSIGNMENTS_HASH",
    "GAME_PHASES",
    "LATEST_PRICES_HASH",
    "MAX_CONTRACTS",
    "MAX_FEE_TERMS",
    "MAX_ID_CHARS",
    "MAX_LIST_ITEMS",
    "MAX_MAP_ENTRIES",
    "MAX_MAP_VALUE_CHARS",
    "MAX_TEXT_CHARS",
    "MAX_TOKEN_ID_DIGITS",
    "MESSAGE_TYPES",
    "PMUS_FEE_SCHEDULES",
    "PUBLISHED_DEPTH",
    "READ_SCHEMA_VERSIONS",
    "SCHEMA_VERSION",
    "TOKEN_ASSIGNMENTS_HASH",
    "ArbSignal",
    "Channel",
    "DecodeLimits",
    "EventContract",
    "FeeTerms",
    "GameState",
    "MarketAssignment",
    "Message",
    "PolymarketPriceUpdate",
    "ServiceStatus",
    "ShardHeartbeat",
    "SignalLeg",
    "SystemAlert",
    "TeamLeg",
    "VenueQuote",
    "is_token_id",
    "latest_quotes_hash",
    "now_ms",
    "quotes_channel",
]

SCHEMA_VERSION: Final = 3
"""Written as ``"schema"`` in every payload. Version 2 added venue-neutral signals (legs of
any venue, with an outcome; ``combo`` a free label); version 3 replaced the assignment's
Kalshi/Polymarket fee fields with fee terms keyed by venue id (``MarketAssignment.fees``).
Decoders also read versions 1 and 2 (:data:`READ_SCHEMA_VERSIONS`)."""

READ_SCHEMA_VERSIONS: Final = frozenset({1, 2, 3})
"""Versions the codec decodes: this one and the previous ones. Every version-1 payload is a
valid version-2 payload (version 2 only added fields with defaults and widened choices);
the codec reads a version-1 or -2 assignment's four fee fields (``kalshi_fee_multiplier``,
``poly_fee_rate``, ``poly_fee_exponent``, ``poly_min_order_size``) as the fee terms of
``"kalshi"`` and ``"polymarket"`` (:func:`arbees.codec.decode`)."""


class Channel(enum.StrEnum):
    """Pub/sub channel names (the seed's names, plus arbees' own in the same style)."""

    POLYMARKET_PRICES = "polymarket:prices"
    MARKET_ASSIGNMENTS = "orchestrator:market_assignments"
    SYSTEM_ALERTS = "system:alerts"
    SIGNALS = "arbees:signals"
    SHARD_HEARTBEATS = "orchestrator:shard_heartbeats"
    SERVICE_STATUS = "arbees:service_status"
    GAME_STATES = "arbees:game_states"


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

MAX_TEAMS: Final = 4
"""Teams of one game assignment (two in every league arbees matches today)."""
MAX_OUTCOMES: Final = 3
"""Outcomes of an event game (home/draw/away; what the shard's event kernel scans)."""
MAX_OUTCOME_CHARS: Final = 32
"""One outcome's name (a team id, ``"draw"``); keeps a derived signal label an id."""
MAX_VENUE_CHARS: Final = 20
"""A venue id (``"polymarket"`` is 10)."""
MAX_SAME_CONTRACTS: Final = 4
"""Contracts of one event that buy the same side of the same outcome (one per venue)."""
MAX_CONTRACTS: Final = MAX_OUTCOMES * 2 * MAX_SAME_CONTRACTS
"""Contracts of one event assignment."""
MAX_LEGS: Final = 4
"""Legs of one signal (two for a binary pair, one per outcome at most for an event)."""
MAX_FEE_TERMS: Final = 8
"""Venues one assignment carries fee terms for."""
FEE_KINDS: Final = ("kalshi", "polymarket", "polymarket-us", "none")
"""Fee rules a venue's terms can name (the kinds :mod:`arbees.fees` implements, as in the
``arbees arb`` file): Kalshi's per-order rule, Polymarket's, Polymarket US's (the higher
of its two published taker fees, or either alone), or no fee at all."""

PMUS_FEE_SCHEDULES: Final = ("higher", "notional", "curve")
"""Polymarket US fee schedules (:class:`arbees.fees.PolymarketUsFeeModel`)."""


def _kind(kind: str, **meta: Any) -> dict[str, Any]:
    return {"kind": kind, **meta}


def f(
    kind: str,
    *,
    default: Any = attrs.NOTHING,
    choices: tuple[str, ...] = (),
    of: Any = None,
    max_items: int = 0,
    converter: Any = None,
) -> Any:
    """Declare a message field of a wire ``kind`` (see :mod:`arbees._wire`).

    A field with a ``default`` is optional on decode (a payload without it gets the
    default); ``nested`` lists (``of`` a message type) hold at most ``max_items``.
    """
    return attrs.field(
        default=default,
        converter=converter,
        metadata=_kind(kind, choices=choices, of=of, max_items=max_items),
    )


_Row = tuple[
    str, Encoder | None, Encoder | None, Decoder | None, tuple[str, ...], Any, bool, int, int
]
_Plan = tuple[_Row, ...]
_Spec = tuple[tuple[str, str, tuple[str, ...], Any, bool, int], ...]


class Message:
    """Mixin giving attrs message classes their wire form."""

    __slots__ = ()
    max_bytes: ClassVar[int] = 256 * 1024
    """The largest payload of this type the codec accepts (see :mod:`arbees.codec`)."""

    @classmethod
    def _plan(cls) -> _Plan:
        """Per field: name, ``to_dict`` encoder, wire encoder, decoder (``None`` for a
        nested list of messages), choices, nested type, optional (has a default), clock
        (see :class:`arbees._wire.Kind`), most nested items. Built once per class: the
        codec runs it for every message, so no per-field lookups remain on the hot path."""
        plan: _Plan | None = cls.__dict__.get("_plan_cache")
        if plan is None:
            rows: list[_Row] = []
            for name, kind, choices, of, optional, max_items in cls._fields_spec():
                if kind == "nested":
                    rows.append((name, None, None, None, choices, of, optional, 0, max_items))
                else:
                    k = KINDS[kind]
                    rows.append(
                        (name, k.encode, k.wire, k.decode, choices, of, optional, k.clock, 0)
                    )
            plan = tuple(rows)
            type.__setattr__(cls, "_plan_cache", plan)
        return plan

    @classmethod
    def _fields_spec(cls) -> _Spec:
        spec: _Spec | None = cls.__dict__.get("_spec_cache")
        if spec is None:
            spec = tuple(
                (
                    a.name,
                    a.metadata["kind"],
                    a.metadata["choices"],
                    a.metadata["of"],
                    a.default is not attrs.NOTHING,
                    a.metadata["max_items"],
                )
                for a in attrs.fields(cast("type[attrs.AttrsInstance]", cls))
            )
            type.__setattr__(cls, "_spec_cache", spec)
        return spec

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict of this message's fields (without version/type tags)."""
        out: dict[str, Any] = {}
        for name, encode, _wire, _decode, _choices, _of, _opt, _clock, _max in self._plan():
            value = getattr(self, name)
            if encode is None:
                out[name] = [item.to_dict() for item in value]
            else:
                encode(name, value, out)
        return out

    def _wire_into(self, out: dict[str, Any]) -> None:
        """Like :meth:`to_dict`, into ``out``, in the codec's form (floats as
        :class:`msgspec.Raw` rendered exactly as :mod:`json` would)."""
        for name, _encode, wire, _decode, _choices, _of, _opt, _clock, _max in self._plan():
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
    def from_dict(cls: type[T], data: Any, *, limits: DecodeLimits | None = None) -> T:
        """Validate ``data`` and build the message; unknown keys are ignored, fields with a
        default may be missing.

        Raises :class:`~arbees.errors.DecodeError` naming the first bad field. ``limits``
        gives the clock rules (default: 5 s of skew on this process's wall clock).
        """
        return cls._decode_dict(data, (limits or DEFAULT_LIMITS).horizons())

    @classmethod
    def _decode_dict(cls: type[T], data: Any, horizons: tuple[int, int]) -> T:
        if type(data) is not dict:
            raise DecodeError(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
        values: dict[str, Any] = {}
        for name, _encode, _wire, decode, choices, of, optional, clock, max_items in cls._plan():
            if decode is None:
                if optional and name not in data:
                    continue
                raw = data.get(name, [])
                if type(raw) is not list:
                    raise DecodeError("expected a list", field=name)
                if len(raw) > max_items:
                    raise DecodeError(f"{len(raw)} items, over {max_items}", field=name)
                try:
                    values[name] = tuple(of._decode_dict(item, horizons) for item in raw)
                except DecodeError as exc:
                    raise DecodeError(str(exc), field=name) from None
                continue
            try:
                value = decode(name, data)
            except DecodeError:
                if optional and name not in data:
                    continue  # a missing field with a default takes the default
                raise
            if choices:
                # The constant, not the decoded copy: one string, not one per message
                # (10,000 assignments held 1.1 MB of "polymarket"s and "assign"s).
                try:
                    value = choices[choices.index(value)]
                except ValueError:
                    raise DecodeError(
                        f"{value!r:.40} is not one of {choices}", field=name
                    ) from None
            if clock and value is not None:
                latest = horizons[0] if clock > 0 else horizons[1]
                if value * abs(clock) > latest:
                    raise DecodeError("later than now plus the allowed clock skew", field=name)
            values[name] = value
        message = cls(**values)
        message._check_decoded()
        return message

    def _check_decoded(self) -> None:
        """Rules across fields, checked on decode (a type overrides it)."""


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
        yes_asks, no_asks: ask depth best (lowest price) first, unique by price, at most
            :data:`PUBLISHED_DEPTH` levels (``no_asks`` mirrors the token's bids).
        venue_ts_ms: the venue's timestamp of the change (``None`` when it sent none).
        monitor_recv_ns: wall clock when the monitor received the frame.
        published_ns: wall clock when the monitor published this update.
        seq: per-market sequence number assigned by the monitor (gaps show bus loss).
        stream_seq: the monitor's sequence number over ALL its price updates (1, 2, ...;
            0 from publishers that do not number them). A consumer that sees every number
            knows it missed nothing; the monitor's health heartbeat carries the last one.
        stale: True when the monitor's book cannot be trusted (reconnect, tick change, ...).
        tick_size: the token's tick size when known.

    Decoding refuses prices outside (0, 1), and a *fresh* crossed or locked book (best bid
    at or above the best ask on either side): Polymarket matches such orders at once, so it
    is never a live state. A ``stale`` update may be crossed — the monitor publishes a
    crossed book as stale precisely so consumers stop using the last price.
    """

    max_bytes: ClassVar[int] = 16 * 1024
    """The largest legitimate update (78-digit token, full depth, 15-digit sizes) is about
    1.2 KB; 16 KiB leaves room for extra keys of seed-style publishers."""

    market_id: str = f("id")
    token_id: str = f("token")
    yes_bid: Fixed | None = f("price")
    yes_ask: Fixed | None = f("price")
    no_bid: Fixed | None = f("price")
    no_ask: Fixed | None = f("price")
    liquidity: Fixed = f("money_float")
    timestamp_ms: int = f("ms")
    yes_bid_size: Fixed | None = f("size", default=None)
    yes_ask_size: Fixed | None = f("size", default=None)
    no_bid_size: Fixed | None = f("size", default=None)
    no_ask_size: Fixed | None = f("size", default=None)
    yes_asks: tuple[Level, ...] = f("levels", default=())
    no_asks: tuple[Level, ...] = f("levels", default=())
    venue_ts_ms: int | None = f("venue_ms", default=None)
    monitor_recv_ns: int = f("ns", default=0)
    published_ns: int = f("ns", default=0)
    seq: int = f("int", default=0)
    stale: bool = f("bool", default=False)
    tick_size: Fixed | None = f("size", default=None)
    stream_seq: int = f("int", default=0)

    def _check_decoded(self) -> None:
        if self.stale:
            return
        for name, bid, ask in (
            ("yes_bid", self.yes_bid, self.yes_ask),
            ("no_bid", self.no_bid, self.no_ask),
        ):
            if bid is not None and ask is not None and bid >= ask:
                raise DecodeError(
                    f"crossed book on a fresh update: bid {format_fixed(bid)}"
                    f" >= ask {format_fixed(ask)}",
                    field=name,
                )


@attrs.frozen(slots=True)
class TeamLeg(Message):
    """One team of a matched game on both venues.

    Attributes:
        team: canonical team id (e.g. ``"NBA:OKC"``).
        kalshi_ticker: the Kalshi market whose YES pays if this team wins.
        poly_token: the Polymarket token that pays if this team wins.
    """

    team: str = f("id")
    kalshi_ticker: str = f("id")
    poly_token: str = f("token")


@attrs.frozen(slots=True)
class EventContract(Message):
    """One contract of an event game: an instrument of one venue and the side bought.

    The shard reads ``venue``'s quote of ``instrument``: its YES asks buy ``side="yes"``,
    its NO asks ``side="no"``. YES pays $1 when ``outcome`` happens, NO when any other
    outcome does (see :mod:`arbees.arb.event`). A Kalshi market is named by its ticker (its
    YES and NO books); a Polymarket binary market by its YES token: ``side="no"`` buys the
    market's other token, whose asks the quote carries as the mirror of the YES token's
    bids — as a signal leg, ``(token, "no")`` means "buy that market's NO token".

    Attributes:
        venue: the venue id (``"kalshi"``, ``"polymarket"``).
        instrument: the venue's market or token id.
        outcome: one of the assignment's ``outcomes``.
        side: ``"yes"`` or ``"no"``.
    """

    venue: str = f("id")
    instrument: str = f("id")
    outcome: str = f("id")
    side: str = f("id", choices=("yes", "no"))


@attrs.frozen(slots=True)
class FeeTerms(Message):
    """What one venue charges and accepts for one game's markets, keyed by its venue id.

    The shard builds each leg's fee model from the terms of the leg's venue
    (:func:`arbees.fees.terms_model`), so a venue whose rule is one of :data:`FEE_KINDS`
    needs no code in the shard. Discovery writes them from each venue's ``fee_model``
    (:func:`arbees.fees.fee_terms`).

    Attributes:
        venue: the venue id (``"kalshi"``, ``"polymarket"``, ...).
        kind: the fee rule, one of :data:`FEE_KINDS`.
        multiplier: ``kind="kalshi"``: the series fee multiplier (exact decimal string).
        rate: ``kind="polymarket"``: the taker fee rate (exact decimal string; ``"0"``
            charges nothing); ``kind="polymarket-us"``: the coefficient of its
            ``rate x C x p x (1 - p)`` fee.
        exponent: ``kind="polymarket"``: the fee exponent.
        min_order_size: the smallest order the venue takes, micro-units, when known.
        schedule: ``kind="polymarket-us"``: which of its published fees applies, one of
            :data:`PMUS_FEE_SCHEDULES` (``"higher"``: the larger of the two, per fill).
        taker_bps: ``kind="polymarket-us"``: its notional fee in basis points.
    """

    venue: str = f("id")
    kind: str = f("id", choices=FEE_KINDS)
    multiplier: str = f("decimal", default="1")
    rate: str = f("decimal", default="0")
    exponent: int = f("int", default=1)
    min_order_size: Fixed | None = f("size", default=None)
    schedule: str = f("id", default="higher", choices=PMUS_FEE_SCHEDULES)
    taker_bps: int = f("int", default=30)


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
        fees: the fee terms of each venue the game trades on, one per venue id (a
            shard refuses a contract on a venue without them).
        start_time_ms: scheduled start (epoch ms), when known.
        epoch: assignment generation; a newer epoch supersedes an older one.
        timestamp_ms: when the orchestrator published.
        outcomes: an event game's mutually exclusive, exhaustive outcomes (e.g.
            ``("home", "draw", "away")``); empty for a binary two-team game.
        contracts: an event game's contracts, each naming one of ``outcomes``; the shard
            covers the outcomes with them (see :meth:`event_problem`).
        game_keys: the game's key in each venue's game-state reports, by venue id (e.g.
            ``{"polymarket": "nba-okc-sas-2026-10-20"}``, its event slug); empty when
            unknown (payloads written before it decode to empty).
    """

    platform: str = f("id", choices=("polymarket", "kalshi"))
    market_id: str = f("id")
    token_id: str = f("opt_token")
    shard_id: str = f("id")
    sport: str = f("id")
    game_id: str = f("id", default="")
    action: str = f("id", default="assign", choices=("assign", "unassign"))
    teams: tuple[TeamLeg, ...] = f("nested", default=(), of=TeamLeg, max_items=MAX_TEAMS)
    fees: tuple[FeeTerms, ...] = f("nested", default=(), of=FeeTerms, max_items=MAX_FEE_TERMS)
    start_time_ms: int | None = f("opt_int", default=None)
    epoch: int = f("int", default=0)
    timestamp_ms: int = f("ms", default=0)
    outcomes: tuple[str, ...] = f("id_tuple", default=())
    contracts: tuple[EventContract, ...] = f(
        "nested", default=(), of=EventContract, max_items=MAX_CONTRACTS
    )
    game_keys: dict[str, str] = f("str_map", default=attrs.Factory(dict))

    def _check_decoded(self) -> None:
        # (:func:`arbees.codec.decode` also holds the fee terms to the fee models' rules.)
        if self.platform == "polymarket" and not self.token_id:
            raise DecodeError("a monitor assignment needs a token id", field="token_id")
        venues = [t.venue for t in self.fees]
        if len(set(venues)) != len(venues):
            raise DecodeError("fee terms name a venue twice", field="fees")
        if any(not v or len(v) > MAX_VENUE_CHARS for v in venues):
            raise DecodeError(f"a fee venue id empty or over {MAX_VENUE_CHARS} chars", field="fees")

    def fee_terms(self, venue: str) -> FeeTerms | None:
        """The fee terms of ``venue``, or None when the assignment carries none."""
        return next((t for t in self.fees if t.venue == venue), None)

    @property
    def is_event(self) -> bool:
        """An event game (``outcomes``/``contracts`` given) rather than a two-team pair."""
        return bool(self.outcomes or self.contracts)

    def event_problem(self) -> str | None:
        """Why this event assignment cannot be run, or ``None`` when it can.

        Rules: 2 to :data:`MAX_OUTCOMES` distinct outcomes of at most
        :data:`MAX_OUTCOME_CHARS` characters; no ``teams`` beside them; every contract
        names one of them, on a venue id of at most :data:`MAX_VENUE_CHARS` characters; no
        contract twice; at most :data:`MAX_SAME_CONTRACTS` contracts buy the same side of
        the same outcome.
        """
        outcomes = self.outcomes
        if not 2 <= len(outcomes) <= MAX_OUTCOMES:
            return f"an event needs 2 to {MAX_OUTCOMES} outcomes, got {len(outcomes)}"
        if len(set(outcomes)) != len(outcomes):
            return "outcomes repeat"
        if any(not o or len(o) > MAX_OUTCOME_CHARS for o in outcomes):
            return f"an outcome is empty or over {MAX_OUTCOME_CHARS} characters"
        if self.teams:
            return "an event assignment has outcomes and contracts, not teams"
        if not self.contracts:
            return "an event without contracts"
        seen: set[tuple[str, str, str, str]] = set()
        per_block: dict[tuple[str, str], int] = {}
        for c in self.contracts:
            key = (c.venue, c.instrument, c.outcome, c.side)
            if c.outcome not in outcomes:
                return f"contract {c.venue} {c.instrument[:40]} names no outcome of the event"
            if not c.venue or len(c.venue) > MAX_VENUE_CHARS or not c.instrument:
                return f"contract with a bad venue or instrument: {c.venue[:40]!r}"
            if key in seen:
                return f"contract {c.venue} {c.instrument[:40]} {c.side} given twice"
            seen.add(key)
            block = per_block[c.outcome, c.side] = per_block.get((c.outcome, c.side), 0) + 1
            if block > MAX_SAME_CONTRACTS:
                return f"over {MAX_SAME_CONTRACTS} contracts for {c.side} {c.outcome}"
        return None


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

    type: str = f("id")
    service: str = f("id")
    error: str = f("text", converter=clip_text)
    timestamp: int = f("ms")
    severity: str = f("id", default="warning", choices=("info", "warning", "critical"))
    details: dict[str, str] = f("str_map", default=attrs.Factory(dict))


@attrs.frozen(slots=True)
class SignalLeg(Message):
    """One leg of an arbitrage signal: one order on one venue.

    Attributes:
        venue: the venue id, e.g. ``"kalshi"`` or ``"polymarket"``.
        instrument: the venue's market or token id (Kalshi ticker, Polymarket token id).
        side: ``"yes"`` or ``"no"`` of that instrument.
        price: average price per contract (micro-dollars).
        worst_price: the deepest level price taken.
        size: contracts/shares (micro-units).
        fee: the venue fee for the whole leg (micro-dollars).
        outcome: the event outcome the instrument is about (a team, ``"draw"``, ...): YES
            pays when it happens, NO when any other outcome does. ``""`` in version-1
            payloads, which did not carry it.
    """

    venue: str = f("id")
    instrument: str = f("id")
    side: str = f("id", choices=("yes", "no"))
    price: Fixed = f("size")
    worst_price: Fixed = f("size")
    size: Fixed = f("size")
    fee: Fixed = f("size")
    outcome: str = f("id", default="")


GAME_PHASES: Final = ("scheduled", "live", "ended", "postponed", "cancelled")
"""A game's phases (see :mod:`arbees.gamestate`): the last three stop its signals."""


@attrs.frozen(slots=True)
class GameState(Message):
    """One venue's report of a game's state, on ``arbees:game_states``; also what a signal
    carries (:attr:`ArbSignal.game_state`): there, the report that decided the game's
    folded state (:func:`arbees.gamestate.fold`).

    Attributes:
        venue: the reporting venue's id (``"polymarket"``).
        key: the game's key at that venue (Polymarket: the event slug, e.g.
            ``"nba-okc-sas-2026-10-20"``); assignments map games to it
            (:attr:`MarketAssignment.game_keys`).
        phase: one of :data:`GAME_PHASES`.
        score: the venue's score text (format varies by sport: ``"3-16"``), ``""`` if none.
        period: the venue's period text (``"Q4"``, ``"2H"``, ``"HT"``), ``""`` if none.
        elapsed: time elapsed in the period as the venue writes it (``"5:18"``), or ``""``.
        status: the venue's own status word (``"InProgress"``, ``"Postponed"``), or ``""``.
        timestamp_ms: when the report was received (epoch ms).
    """

    max_bytes: ClassVar[int] = 4 * 1024

    venue: str = f("id")
    key: str = f("id")
    phase: str = f("id", choices=GAME_PHASES)
    timestamp_ms: int = f("ms")
    score: str = f("text", default="", converter=clip_text)
    period: str = f("text", default="", converter=clip_text)
    elapsed: str = f("text", default="", converter=clip_text)
    status: str = f("text", default="", converter=clip_text)

    @property
    def halted(self) -> bool:
        """Ended, postponed or cancelled: no signal may be open or opened."""
        return self.phase in ("ended", "postponed", "cancelled")


@attrs.frozen(slots=True)
class ArbSignal(Message):
    """An arbitrage opportunity's life: ``open``, ``update`` (material change), ``close``.

    Attributes:
        signal_id: stable id for this opportunity across open/update/close.
        event: ``"open"``, ``"update"`` or ``"close"``.
        shard_id: the shard that detected it.
        game_id: the matched game.
        combo: the cover's name: for a binary Kalshi x Polymarket pair one of the seed's
            four (:data:`COMBOS`: ``"PolyYes+KalshiNo"``, ``"KalshiYes+PolyNo"``,
            ``"PolyOnly"``, ``"KalshiOnly"``), otherwise derived from the legs, each
            ``"<venue> <SIDE> <outcome>"`` joined by ``" + "`` (e.g. ``"kalshi YES home +
            polymarket YES draw + polymarket YES away"``).
        team: the team whose YES is the "yes" of a seed combination; ``""`` for an event
            cover (its legs name their outcomes).
        legs: the legs to buy (prices, sizes, fees), one per block of the cover: two for a
            binary pair, up to :data:`MAX_LEGS` for an event.
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
        game_state: the game's state when the signal was made: empty when the shard has no
            report of it (and in payloads written before it), else one
            :class:`GameState`, the report that decided it (a ``close`` because the game
            ended carries the ``ended`` report).
    """

    signal_id: str = f("id")
    event: str = f("id", choices=("open", "update", "close"))
    shard_id: str = f("id")
    game_id: str = f("id")
    combo: str = f("id")
    team: str = f("id")
    legs: tuple[SignalLeg, ...] = f("nested", of=SignalLeg, max_items=MAX_LEGS)
    size: Fixed = f("size")
    cost: Fixed = f("money")
    fees: Fixed = f("money")
    profit: Fixed = f("money")
    edge: Fixed = f("money")
    timestamp_ms: int = f("ms")
    venue_ts_ms: int | None = f("venue_ms", default=None)
    monitor_recv_ns: int = f("ns", default=0)
    bus_recv_ns: int = f("ns", default=0)
    detect_ns: int = f("ns", default=0)
    published_ns: int = f("ns", default=0)
    game_state: tuple[GameState, ...] = f("nested", default=(), of=GameState, max_items=1)


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

    shard_id: str = f("id")
    timestamp_ms: int = f("ms")
    games: tuple[str, ...] = f("id_tuple", default=())
    capacity: int = f("int", default=0)
    healthy: bool = f("bool", default=True)
    started_ms: int = f("ms", default=0)


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

    service: str = f("id")
    instance: str = f("id")
    healthy: bool = f("bool")
    timestamp_ms: int = f("ms")
    reason: str = f("text", default="", converter=clip_text)
    details: dict[str, str] = f("str_map", default=attrs.Factory(dict))


def quotes_channel(venue: str) -> str:
    """The channel of ``venue``'s :class:`VenueQuote` s: ``quotes:<venue>``.

    One channel per venue rather than one for all: a shard subscribes to (and decodes) only
    the venues it reads, and the ACL can give each venue's monitor its own channel. The
    international Polymarket keeps the seed's ``polymarket:prices``
    (:class:`PolymarketPriceUpdate`)."""
    return f"quotes:{venue}"


def latest_quotes_hash(venue: str) -> str:
    """Redis hash of ``venue``'s latest quotes: field = instrument, value = the latest
    encoded :class:`VenueQuote` (``quotes:<venue>:latest``)."""
    return f"quotes:{venue}:latest"


@attrs.frozen(slots=True)
class VenueQuote(Message):
    """One instrument's book on any venue (top of book and depth), as a monitor publishes
    it on ``quotes:<venue>`` (:func:`quotes_channel`) for a venue other than the
    international Polymarket, whose monitor keeps the seed's :class:`PolymarketPriceUpdate`.

    Attributes:
        venue: the venue id (``"polymarket-us"``), at most 20 characters.
        instrument: the venue's instrument id (a Polymarket US market slug).
        bids: bid depth, best (highest price) first, unique by price, at most
            :data:`PUBLISHED_DEPTH` levels (exact micro-units).
        asks: ask depth, best (lowest price) first, unique by price, at most
            :data:`PUBLISHED_DEPTH` levels. For a binary instrument the NO asks are the
            mirror of ``bids`` (``1 - bid``).
        timestamp_ms: when the monitor published (epoch ms).
        venue_ts_ms: the venue's timestamp of the change (``None`` when it sent none).
        monitor_recv_ns: wall clock when the monitor received the frame.
        published_ns: wall clock when the monitor published this quote.
        seq: per-instrument sequence number assigned by the monitor.
        stream_seq: the monitor's sequence number over all its quotes (1, 2, ...; see
            :attr:`PolymarketPriceUpdate.stream_seq`): its health heartbeat carries the
            last one, so a consumer knows when it missed one.
        stale: the monitor's book cannot be trusted (reconnect, failed audit, ...).

    Decoding refuses a fresh crossed or locked book (best bid at or above the best ask); a
    ``stale`` quote may be crossed.
    """

    max_bytes: ClassVar[int] = 16 * 1024

    venue: str = f("id")
    instrument: str = f("id")
    timestamp_ms: int = f("ms")
    bids: tuple[Level, ...] = f("bid_levels", default=())
    asks: tuple[Level, ...] = f("levels", default=())
    venue_ts_ms: int | None = f("venue_ms", default=None)
    monitor_recv_ns: int = f("ns", default=0)
    published_ns: int = f("ns", default=0)
    seq: int = f("int", default=0)
    stream_seq: int = f("int", default=0)
    stale: bool = f("bool", default=False)

    def _check_decoded(self) -> None:
        if not self.venue or len(self.venue) > MAX_VENUE_CHARS:
            raise DecodeError(f"a venue id empty or over {MAX_VENUE_CHARS} chars", field="venue")
        if not self.instrument:
            raise DecodeError("an empty instrument id", field="instrument")
        if not self.stale and self.bids and self.asks and self.bids[0][0] >= self.asks[0][0]:
            raise DecodeError(
                f"crossed book: bid {format_fixed(self.bids[0][0])} >= "
                f"ask {format_fixed(self.asks[0][0])} on a fresh quote",
                field="bids",
            )


MESSAGE_TYPES: Final[dict[str, type[Message]]] = {
    cls.__name__: cls
    for cls in (
        PolymarketPriceUpdate,
        MarketAssignment,
        SystemAlert,
        ArbSignal,
        ShardHeartbeat,
        ServiceStatus,
        GameState,
        VenueQuote,
    )
}
"""Top-level message types by their wire ``type`` tag."""
