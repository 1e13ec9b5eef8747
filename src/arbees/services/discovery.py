"""What the orchestrator needs from the venues, as an interface, and how it becomes games.

The orchestrator is a service (layer L3): it must not know how Kalshi or Polymarket are
reached. It asks a :class:`GameSource` for :class:`MatchInputs` — the matcher's
venue-neutral inputs plus what the matcher does not carry: each market's fee model, built by
its venue from the venue's own metadata (``Venue.fee_model``) — and turns the matcher's
report into :class:`GameSpec` s, the self-contained description of one game that goes into
every assignment. The venue-backed source lives in the wiring layer
(:mod:`arbees.wiring.discovery`: it decodes each venue body once and converts the typed
events with :mod:`arbees.matching.venues`); tests pass a scripted one.

Fees are never guessed low: a venue whose metadata has no fee fields gives its
conservative default, marked ``defaulted`` (Polymarket: the sports rate), and each matched
game with one is counted and logged; a Polymarket market absent from the fee models gets
the same default. A schedule that cannot be decoded, or that the fee model refuses (a rate
with more decimals than the fixed point holds), has its market refused by the venue's
listing, with a rejection in the report. Each game's fees go into its assignments as fee
terms keyed by venue id (:func:`arbees.fees.fee_terms`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Final, Protocol, TypeVar

import attrs

from arbees.errors import DecodeError
from arbees.fees import (
    POLYMARKET_SPORTS_RATE,
    KalshiFeeModel,
    MarketFees,
    PolymarketFeeModel,
    PolymarketUsFeeModel,
    fee_terms,
)
from arbees.matching import (
    KalshiGame,
    MatchedGame,
    MatchReport,
    PolymarketGame,
    Rejection,
    match_games,
)
from arbees.matching.catalogue import TeamCatalogue
from arbees.matching.events import EventReport, ListedGame, MatchedEvent, match_listings
from arbees.messages import EventContract, FeeTerms, MarketAssignment, TeamLeg

__all__ = [
    "DEFAULT_KALSHI_FEE_MULTIPLIER",
    "DEFAULT_POLY_FEE_RATE",
    "Discovery",
    "GameSource",
    "GameSpec",
    "MatchInputs",
    "StaticGameSource",
    "discover_games",
    "event_spec",
    "game_spec",
]

log = logging.getLogger(__name__)

DEFAULT_KALSHI_FEE_MULTIPLIER: Final = "1"
"""Used for a series whose fee info was not fetched (1 for the NBA/NHL game series)."""

DEFAULT_POLY_FEE_RATE: Final = format(POLYMARKET_SPORTS_RATE, "f")
"""The sports taker rate, used when a fee-enabled market has no readable schedule."""

_KALSHI_UNFETCHED: Final = KalshiFeeModel(multiplier=DEFAULT_KALSHI_FEE_MULTIPLIER)
_POLY_DEFAULT: Final = PolymarketFeeModel(POLYMARKET_SPORTS_RATE)
_DEFAULT_TERMS: Final = (
    fee_terms("kalshi", _KALSHI_UNFETCHED),
    fee_terms("polymarket", _POLY_DEFAULT),
)


@attrs.frozen
class MatchInputs:
    """One discovery's raw material: matcher inputs plus fee facts.

    Attributes:
        kalshi: Kalshi game events (open ones).
        polymarket: Polymarket two-outcome markets (open ones).
        rejections: inputs the decoders and converters already refused (reported with the
            match's).
        fees: venue id -> the id of a market its assignments name (Kalshi event ticker,
            Polymarket condition id) -> that market's fee model from the venue's metadata.
        listings: every venue's game listings of every league and market type (the event
            matcher's inputs, :mod:`arbees.matching.events`).
        catalogue: the team catalogue the listings are resolved in (``None``: no events).
        unavailable: prefixes of Kalshi event tickers (``"KXEPLGAME-"``) whose series failed
            this round: their games are kept as they are, not retired.
    """

    kalshi: tuple[KalshiGame, ...]
    polymarket: tuple[PolymarketGame, ...]
    rejections: tuple[Rejection, ...] = ()
    fees: Mapping[str, Mapping[str, MarketFees]] = attrs.field(factory=dict)
    listings: tuple[ListedGame, ...] = ()
    catalogue: TeamCatalogue | None = None
    unavailable: tuple[str, ...] = ()


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
        fees: each venue's fee terms (from its ``fee_model``), keyed by venue id; the
            default is each venue's documented default (Kalshi multiplier 1, Polymarket's
            sports rate).
        start_time_ms: scheduled start, when known.
        polymarket_event_slug: the Polymarket event slug, the game's key in Polymarket's
            game-state reports (``""`` when unknown).
        outcomes: an event game's outcomes (empty for a two-team game).
        contracts: an event game's contracts (``teams`` is then empty).
        token_markets: an event game's ``(Polymarket token, condition id)`` pairs.
    """

    game_id: str
    sport: str
    kalshi_event_ticker: str
    condition_id: str
    teams: tuple[TeamLeg, ...]
    fees: tuple[FeeTerms, ...] = attrs.field(factory=lambda: _DEFAULT_TERMS)
    start_time_ms: int | None = None
    outcomes: tuple[str, ...] = ()
    contracts: tuple[EventContract, ...] = ()
    token_markets: tuple[tuple[str, str], ...] = ()
    polymarket_event_slug: str = ""

    def fee_terms(self, venue: str) -> FeeTerms | None:
        """The fee terms of ``venue``, or None."""
        return next((t for t in self.fees if t.venue == venue), None)

    def fee_text(self) -> str:
        """The fee terms in a log line: ``kalshi kalshi x1, polymarket polymarket 0.05^1``."""
        return ", ".join(
            f"{t.venue} {t.kind}"
            + (f" x{t.multiplier}" if t.kind == "kalshi" else "")
            + (f" {t.rate}^{t.exponent}" if t.kind == "polymarket" else "")
            for t in self.fees
        )

    @property
    def tokens(self) -> tuple[str, ...]:
        """The Polymarket tokens, one per team (an event game: each contract's)."""
        if self.contracts:
            return tuple(sorted({c.instrument for c in self.contracts if c.venue == "polymarket"}))
        return tuple(t.poly_token for t in self.teams)

    def venue_instruments(self) -> dict[str, tuple[str, ...]]:
        """Every instrument the game streams, by venue id (each one venue's check judges)."""
        if self.contracts:
            found: dict[str, set[str]] = {}
            for c in self.contracts:
                found.setdefault(c.venue, set()).add(c.instrument)
            return {venue: tuple(sorted(ids)) for venue, ids in sorted(found.items())}
        return {
            "kalshi": tuple(t.kalshi_ticker for t in self.teams),
            "polymarket": self.tokens,
        }

    def instruments(self) -> tuple[object, ...]:
        """What identifies the tradable game (a change means retire + add, not an update)."""
        return (
            self.kalshi_event_ticker,
            self.condition_id,
            self.teams,
            self.outcomes,
            self.contracts,
            self.token_markets,
        )

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
            fees=self.fees,
            start_time_ms=self.start_time_ms,
            epoch=epoch,
            timestamp_ms=timestamp_ms,
            # each venue's key in its game-state reports (Kalshi's live data: the event)
            game_keys={
                venue: key
                for venue, key in (
                    ("kalshi", self.kalshi_event_ticker),
                    ("polymarket", self.polymarket_event_slug),
                )
                if key
            },
            outcomes=self.outcomes,
            contracts=self.contracts,
        )

    def monitor_assignments(
        self, shard_id: str, *, action: str, epoch: int, timestamp_ms: int
    ) -> list[MarketAssignment]:
        """The monitor's (``platform="polymarket"``) messages, one per token."""
        if self.contracts:
            markets = dict(self.token_markets)
            return [
                MarketAssignment(
                    platform="polymarket",
                    market_id=markets.get(token, self.condition_id),
                    token_id=token,
                    shard_id=shard_id,
                    sport=self.sport,
                    game_id=self.game_id,
                    action=action,
                    fees=self.fees,
                    start_time_ms=self.start_time_ms,
                    epoch=epoch,
                    timestamp_ms=timestamp_ms,
                )
                for token in self.tokens
            ]
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
                fees=self.fees,
                start_time_ms=self.start_time_ms,
                epoch=epoch,
                timestamp_ms=timestamp_ms,
            )
            for leg in self.teams
        ]

    @classmethod
    def from_assignment(
        cls,
        message: MarketAssignment,
        condition_id: str = "",
        token_markets: Mapping[str, str] | None = None,
    ) -> GameSpec:
        """Rebuild a spec from a stored shard assignment (orchestrator restart).

        A shard assignment names the Kalshi event, not the Polymarket market: pass the
        ``condition_id`` found in the stored token assignments (an event game: every
        token's market, ``token_markets``).
        """
        teams_ok = len(message.teams) == 2 or (message.is_event and not message.teams)
        if message.platform != "kalshi" or not teams_ok or not message.game_id:
            raise DecodeError("not a stored shard assignment", field="platform")
        if message.is_event:
            problem = message.event_problem()
            if problem is not None:
                raise DecodeError(f"stored event unusable: {problem}", field="contracts")
        return cls(
            game_id=message.game_id,
            sport=message.sport,
            kalshi_event_ticker=message.market_id,
            condition_id=condition_id,
            teams=message.teams,
            fees=message.fees,
            start_time_ms=message.start_time_ms,
            polymarket_event_slug=message.game_keys.get("polymarket", ""),
            outcomes=message.outcomes,
            contracts=message.contracts,
            token_markets=tuple(sorted((token_markets or {}).items())) if message.is_event else (),
        )


@attrs.frozen
class Discovery:
    """One discovery's outcome.

    Attributes:
        games: game id -> spec, for every matched game.
        report: the full match report (with the converters' rejections).
        fee_defaults: matched games with a fee model that is a venue's default.
        events: the event matcher's report (every league and market type), when run.
        unavailable: :attr:`MatchInputs.unavailable`.
    """

    games: Mapping[str, GameSpec]
    report: MatchReport
    fee_defaults: int = 0
    events: EventReport | None = None
    unavailable: tuple[str, ...] = ()


_M = TypeVar("_M", KalshiFeeModel, PolymarketFeeModel, PolymarketUsFeeModel)
_US_DEFAULT: Final = PolymarketUsFeeModel()
POLYMARKET_US: Final = "polymarket-us"


def _market_fees(
    inputs: MatchInputs, venue: str, market: str, missing: _M, *, guessed: bool
) -> tuple[_M, bool]:
    """``(model, defaulted)`` of ``venue``'s ``market``; ``(missing, guessed)`` without one."""
    found = inputs.fees.get(venue, {}).get(market)
    if found is not None and isinstance(found.model, type(missing)):
        return found.model, found.defaulted
    return missing, guessed


def game_spec(game: MatchedGame, inputs: MatchInputs) -> tuple[GameSpec, bool]:
    """The spec of a matched game; the flag says a fee model was a venue's default."""
    # a series whose fee info was not fetched: its documented multiplier (1 for games)
    k_model, k_defaulted = _market_fees(
        inputs, "kalshi", game.kalshi_event_ticker, _KALSHI_UNFETCHED, guessed=False
    )
    p_model, p_defaulted = _market_fees(
        inputs, "polymarket", game.polymarket_condition_id, _POLY_DEFAULT, guessed=True
    )
    start_ms = None if game.start_time is None else int(game.start_time.timestamp() * 1000)
    spec = GameSpec(
        game_id=game.kalshi_event_ticker,
        sport=game.league,
        kalshi_event_ticker=game.kalshi_event_ticker,
        condition_id=game.polymarket_condition_id,
        teams=tuple(TeamLeg(t.team_id, t.kalshi_ticker, t.polymarket_token_id) for t in game.teams),
        fees=(fee_terms("kalshi", k_model), fee_terms("polymarket", p_model)),
        start_time_ms=start_ms,
        polymarket_event_slug=game.polymarket_event_slug,
    )
    return spec, k_defaulted or p_defaulted


def _us_fee_terms(event: MatchedEvent, inputs: MatchInputs) -> tuple[FeeTerms, bool] | None:
    """Polymarket US's fee terms for ``event`` (``None`` without a Polymarket US leg): its
    markets' one model, or when they differ every schedule at its highest parameters
    (``schedule="higher"``: a fee is never guessed low); the flag says one was a default."""
    slugs = sorted({leg.market for leg in event.legs if leg.venue == POLYMARKET_US})
    if not slugs:
        return None
    found = [_market_fees(inputs, POLYMARKET_US, slug, _US_DEFAULT, guessed=True) for slug in slugs]
    models = {m for m, _ in found}
    sizes = [m.min_order_size for m in models if m.min_order_size is not None]
    model = (
        next(iter(models))
        if len(models) == 1
        else PolymarketUsFeeModel(
            schedule="higher",
            taker_bps=max(m.taker_bps for m in models),
            rate=max(m.rate for m in models),
            min_order_size=max(sizes) if sizes else None,
        )
    )
    return fee_terms(POLYMARKET_US, model), any(d for _, d in found)


def event_spec(event: MatchedEvent, inputs: MatchInputs) -> tuple[GameSpec, bool]:
    """The spec of a matched event (3-way winner, total, spread, or a two-team winner of a
    league the team-pair matcher does not cover); the flag says a fee model was a venue's
    default. Its Polymarket markets may publish different schedules: the highest rate is
    used (a fee is never guessed low). A Polymarket US leg brings that venue's terms
    (:func:`_us_fee_terms`); its slugs stream on the shard's own feed, never through the
    monitor (no token, no monitor assignment)."""
    venue_events = dict(event.venue_events)
    kalshi_event = venue_events.get("kalshi", event.event_id)
    k_model, k_defaulted = _market_fees(
        inputs, "kalshi", kalshi_event, _KALSHI_UNFETCHED, guessed=False
    )
    token_markets = sorted(
        {(leg.instrument, leg.market) for leg in event.legs if leg.venue == "polymarket"}
    )
    conditions = sorted({market for _, market in token_markets})
    p_models = [
        _market_fees(inputs, "polymarket", c, _POLY_DEFAULT, guessed=True) for c in conditions
    ] or [(_POLY_DEFAULT, True)]
    enabled = [(m, d) for m, d in p_models if m.enabled]
    # the highest rate, then the lowest exponent ((p(1-p))**e falls as e grows)
    p_model = max(
        (m for m, _ in enabled), key=lambda m: (m.rate, -m.exponent), default=p_models[0][0]
    )
    sizes = [m.min_order_size for m, _ in p_models if m.min_order_size is not None]
    start_ms = None if event.start_time is None else int(event.start_time.timestamp() * 1000)
    us = _us_fee_terms(event, inputs)
    spec = GameSpec(
        game_id=event.event_id,
        sport=event.league,
        kalshi_event_ticker=kalshi_event,
        condition_id=conditions[0] if conditions else "",
        teams=(),
        fees=(
            fee_terms("kalshi", k_model),
            attrs.evolve(
                fee_terms("polymarket", p_model), min_order_size=max(sizes) if sizes else None
            ),
            *(() if us is None else (us[0],)),
        ),
        start_time_ms=start_ms,
        outcomes=event.outcomes,
        contracts=tuple(
            EventContract(leg.venue, leg.instrument, leg.outcome, leg.side) for leg in event.legs
        ),
        token_markets=tuple(token_markets),
    )
    us_defaulted = us is not None and us[1]
    return spec, k_defaulted or any(d for _, d in p_models) or us_defaulted


def _event_games(
    inputs: MatchInputs, games: dict[str, GameSpec], start_window: timedelta
) -> tuple[EventReport | None, int]:
    """Add the matched events to ``games``: an event whose instruments a two-team game
    already streams is left to that game, unless the event lists the game on a venue the
    two-team game lacks (Polymarket US): then the event replaces it, so a game on three
    venues is one game. Returns the report and the fee defaults."""
    if inputs.catalogue is None or not inputs.listings:
        return None, 0
    report = match_listings(inputs.listings, inputs.catalogue, start_window=start_window)
    owner = {
        i: game_id
        for game_id, spec in games.items()
        for ids in spec.venue_instruments().values()
        for i in ids
    }
    defaults = 0
    for event in report.matches:
        spec, defaulted = event_spec(event, inputs)
        venues = spec.venue_instruments()
        pairs = sorted(
            {owner[i] for ids in venues.values() for i in ids if owner.get(i, "") in games}
        )
        if spec.game_id in games or pairs:
            covered = {v for game_id in pairs for v in games[game_id].venue_instruments()}
            if not pairs or set(venues) <= covered:
                log.debug("event %s is already a two-team game", spec.game_id)
                continue
            for game_id in pairs:
                log.info("event %s on %s replaces game %s", spec.game_id, sorted(venues), game_id)
                del games[game_id]
        defaults += defaulted
        games[spec.game_id] = spec
    return report, defaults


def discover_games(
    inputs: MatchInputs, *, start_window: timedelta = timedelta(hours=3)
) -> Discovery:
    """Match ``inputs`` and build the specs (pure; the matcher does not depend on order):
    the two-team games of the team-pair matcher, then every other matched event."""
    matched = match_games(inputs.kalshi, inputs.polymarket, start_window=start_window)
    report = MatchReport(matched.matches, tuple(sorted((*inputs.rejections, *matched.rejections))))
    games: dict[str, GameSpec] = {}
    defaults = 0
    for game in matched.matches:
        spec, defaulted = game_spec(game, inputs)
        if defaulted:
            defaults += 1
            log.warning(
                "game %s: a venue gave no readable fee schedule, its default is used (%s)",
                spec.game_id,
                spec.fee_text(),
            )
        games[spec.game_id] = spec
    events, event_defaults = _event_games(inputs, games, start_window)
    return Discovery(games, report, defaults + event_defaults, events, inputs.unavailable)


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
