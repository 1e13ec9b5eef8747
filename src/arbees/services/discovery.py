"""What the orchestrator needs from the venues, as an interface, and how it becomes games.

The orchestrator is a service (layer L3): it must not know how Kalshi or Polymarket are
reached. It asks a :class:`GameSource` for :class:`MatchInputs` — the matcher's
venue-neutral inputs plus the two facts the matcher does not carry (each Kalshi series' fee
multiplier and each Polymarket market's minimum order size) — and turns the matcher's
report into :class:`GameSpec` s, the self-contained description of one game that goes into
every assignment. The venue-backed source lives in the wiring layer
(:mod:`arbees.wiring.discovery`: it decodes each venue body once and converts the typed
events with :mod:`arbees.matching.venues`); tests pass a scripted one.

Fees are never guessed low: a Polymarket market that does not say ``feesEnabled: false``
and has no usable ``feeSchedule`` (none, or a rate or exponent outside what the fee model
takes) is given the sports default rate (an overestimate loses a signal, an underestimate
would invent one), and the fallback is counted. A schedule that cannot be decoded at all
has its market refused by the Gamma decoder, with a rejection in the report.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Final, Protocol

import attrs

from arbees.errors import DecodeError
from arbees.matching import (
    KalshiGame,
    MatchedGame,
    MatchReport,
    PolymarketFees,
    PolymarketGame,
    Rejection,
    match_games,
)
from arbees.messages import MarketAssignment, TeamLeg
from arbees.money import Fixed

__all__ = [
    "DEFAULT_KALSHI_FEE_MULTIPLIER",
    "DEFAULT_POLY_FEE_RATE",
    "Discovery",
    "GameSource",
    "GameSpec",
    "MatchInputs",
    "StaticGameSource",
    "discover_games",
    "game_spec",
    "poly_fee_terms",
]

log = logging.getLogger(__name__)

DEFAULT_KALSHI_FEE_MULTIPLIER: Final = "1"
"""Used for a series whose fee info was not fetched (1 for the NBA/NHL game series)."""

DEFAULT_POLY_FEE_RATE: Final = "0.05"
"""The sports taker rate, used when a fee-enabled market has no readable schedule."""


@attrs.frozen
class MatchInputs:
    """One discovery's raw material: matcher inputs plus fee facts.

    Attributes:
        kalshi: Kalshi game events (open ones).
        polymarket: Polymarket two-outcome markets (open ones).
        rejections: inputs the decoders and converters already refused (reported with the
            match's).
        kalshi_fee_multipliers: series ticker -> exact fee multiplier string.
        poly_min_order_sizes: condition id -> minimum order size (micro-shares).
    """

    kalshi: tuple[KalshiGame, ...]
    polymarket: tuple[PolymarketGame, ...]
    rejections: tuple[Rejection, ...] = ()
    kalshi_fee_multipliers: Mapping[str, str] = attrs.field(factory=dict)
    poly_min_order_sizes: Mapping[str, Fixed] = attrs.field(factory=dict)


class GameSource(Protocol):
    """Where games come from. Raise any :class:`~arbees.errors.ArbeesError` on failure
    (venue down, bad body): the orchestrator logs it, alerts and keeps its assignments."""

    async def discover(self) -> MatchInputs: ...


@attrs.frozen
class GameSpec:
    """Everything an assignment says about one matched game.

    Attributes:
        game_id: stable id (the Kalshi event ticker).
        sport: league, e.g. ``"NBA"``.
        kalshi_event_ticker: the Kalshi event.
        condition_id: the Polymarket market.
        teams: ``(away, home)`` with each team's Kalshi ticker and Polymarket token.
        kalshi_fee_multiplier: exact decimal string.
        poly_fee_rate: exact decimal string (``"0"`` when fees are disabled).
        poly_fee_exponent: Polymarket fee exponent.
        poly_min_order_size: micro-shares, when known.
        start_time_ms: scheduled start, when known.
    """

    game_id: str
    sport: str
    kalshi_event_ticker: str
    condition_id: str
    teams: tuple[TeamLeg, ...]
    kalshi_fee_multiplier: str = DEFAULT_KALSHI_FEE_MULTIPLIER
    poly_fee_rate: str = DEFAULT_POLY_FEE_RATE
    poly_fee_exponent: int = 1
    poly_min_order_size: Fixed | None = None
    start_time_ms: int | None = None

    @property
    def tokens(self) -> tuple[str, ...]:
        """The Polymarket tokens, one per team."""
        return tuple(t.poly_token for t in self.teams)

    def venue_instruments(self) -> dict[str, tuple[str, ...]]:
        """Every instrument the game streams, by venue id (each one venue's check judges)."""
        return {
            "kalshi": tuple(t.kalshi_ticker for t in self.teams),
            "polymarket": self.tokens,
        }

    def instruments(self) -> tuple[str, str, tuple[TeamLeg, ...]]:
        """What identifies the tradable pair (a change means retire + add, not an update)."""
        return (self.kalshi_event_ticker, self.condition_id, self.teams)

    def shard_assignment(
        self, shard_id: str, *, action: str, epoch: int, timestamp_ms: int
    ) -> MarketAssignment:
        """The owning shard's (``platform="kalshi"``) message."""
        return MarketAssignment(
            platform="kalshi",
            market_id=self.kalshi_event_ticker,
            token_id="",
            shard_id=shard_id,
            sport=self.sport,
            game_id=self.game_id,
            action=action,
            teams=self.teams,
            kalshi_fee_multiplier=self.kalshi_fee_multiplier,
            poly_fee_rate=self.poly_fee_rate,
            poly_fee_exponent=self.poly_fee_exponent,
            poly_min_order_size=self.poly_min_order_size,
            start_time_ms=self.start_time_ms,
            epoch=epoch,
            timestamp_ms=timestamp_ms,
        )

    def monitor_assignments(
        self, shard_id: str, *, action: str, epoch: int, timestamp_ms: int
    ) -> list[MarketAssignment]:
        """The monitor's (``platform="polymarket"``) messages, one per token."""
        return [
            MarketAssignment(
                platform="polymarket",
                market_id=self.condition_id,
                token_id=leg.poly_token,
                shard_id=shard_id,
                sport=self.sport,
                game_id=self.game_id,
                action=action,
                teams=(leg,),
                kalshi_fee_multiplier=self.kalshi_fee_multiplier,
                poly_fee_rate=self.poly_fee_rate,
                poly_fee_exponent=self.poly_fee_exponent,
                poly_min_order_size=self.poly_min_order_size,
                start_time_ms=self.start_time_ms,
                epoch=epoch,
                timestamp_ms=timestamp_ms,
            )
            for leg in self.teams
        ]

    @classmethod
    def from_assignment(cls, message: MarketAssignment, condition_id: str = "") -> GameSpec:
        """Rebuild a spec from a stored shard assignment (orchestrator restart).

        A shard assignment names the Kalshi event, not the Polymarket market: pass the
        ``condition_id`` found in the stored token assignments.
        """
        if message.platform != "kalshi" or len(message.teams) != 2 or not message.game_id:
            raise DecodeError("not a stored shard assignment", field="platform")
        return cls(
            game_id=message.game_id,
            sport=message.sport,
            kalshi_event_ticker=message.market_id,
            condition_id=condition_id,
            teams=message.teams,
            kalshi_fee_multiplier=message.kalshi_fee_multiplier,
            poly_fee_rate=message.poly_fee_rate,
            poly_fee_exponent=message.poly_fee_exponent,
            poly_min_order_size=message.poly_min_order_size,
            start_time_ms=message.start_time_ms,
        )


@attrs.frozen
class Discovery:
    """One discovery's outcome.

    Attributes:
        games: game id -> spec, for every matched game.
        report: the full match report (with the converters' rejections).
        fee_defaults: markets whose Polymarket fee fell back to the default rate.
    """

    games: Mapping[str, GameSpec]
    report: MatchReport
    fee_defaults: int = 0


def poly_fee_terms(fees: PolymarketFees) -> tuple[str, int, bool]:
    """``(rate, exponent, defaulted)`` of a Polymarket market's fee fields.

    ``feesEnabled: false`` -> ``("0", 1)``. A usable ``feeSchedule`` (rate in [0, 1), whole
    exponent 1-4) -> its rate and exponent. Anything else -> :data:`DEFAULT_POLY_FEE_RATE`
    and ``defaulted=True``.
    """
    if fees.fees_enabled is False:
        return "0", 1, False
    rate, exponent = fees.rate, fees.exponent
    if (
        rate is not None
        and exponent is not None
        and rate.is_finite()
        and 0 <= rate < 1
        and exponent.is_finite()
        and exponent == exponent.to_integral_value()
        and 1 <= exponent <= 4
    ):
        return format(rate.normalize(), "f"), int(exponent), False
    return DEFAULT_POLY_FEE_RATE, 1, True


def game_spec(game: MatchedGame, inputs: MatchInputs) -> tuple[GameSpec, bool]:
    """The spec of a matched game; the flag says the Polymarket fee was defaulted."""
    series = game.kalshi_event_ticker.split("-", 1)[0]
    rate, exponent, defaulted = poly_fee_terms(game.polymarket_fees)
    start_ms = None if game.start_time is None else int(game.start_time.timestamp() * 1000)
    spec = GameSpec(
        game_id=game.kalshi_event_ticker,
        sport=game.league,
        kalshi_event_ticker=game.kalshi_event_ticker,
        condition_id=game.polymarket_condition_id,
        teams=tuple(TeamLeg(t.team_id, t.kalshi_ticker, t.polymarket_token_id) for t in game.teams),
        kalshi_fee_multiplier=inputs.kalshi_fee_multipliers.get(
            series, DEFAULT_KALSHI_FEE_MULTIPLIER
        ),
        poly_fee_rate=rate,
        poly_fee_exponent=exponent,
        poly_min_order_size=inputs.poly_min_order_sizes.get(game.polymarket_condition_id),
        start_time_ms=start_ms,
    )
    return spec, defaulted


def discover_games(
    inputs: MatchInputs, *, start_window: timedelta = timedelta(hours=3)
) -> Discovery:
    """Match ``inputs`` and build the specs (pure; the matcher does not depend on order)."""
    matched = match_games(inputs.kalshi, inputs.polymarket, start_window=start_window)
    report = MatchReport(matched.matches, tuple(sorted((*inputs.rejections, *matched.rejections))))
    games: dict[str, GameSpec] = {}
    defaults = 0
    for game in matched.matches:
        spec, defaulted = game_spec(game, inputs)
        if defaulted:
            defaults += 1
            log.warning(
                "polymarket %s has no readable fee schedule: using rate %s",
                spec.condition_id,
                DEFAULT_POLY_FEE_RATE,
            )
        games[spec.game_id] = spec
    return Discovery(games, report, defaults)


class StaticGameSource:
    """A :class:`GameSource` returning scripted inputs (tests, demos, replays).

    Set :attr:`inputs` to change what the next discovery sees, or :attr:`error` to make it
    fail with that exception.
    """

    def __init__(self, inputs: MatchInputs, *, error: Exception | None = None) -> None:
        self.inputs = inputs
        self.error = error
        self.calls = 0

    async def discover(self) -> MatchInputs:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.inputs
