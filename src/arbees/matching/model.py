"""Value objects of the game matcher: its venue-neutral inputs, its output and its reasons.

The matcher is pure logic (layer L1): it never imports a venue client. Discovery and
``arbees match`` turn the venues' typed events (each body decoded once, in the venue's
``models``) into these inputs with :mod:`arbees.matching.venues`, or build them directly.
Everything here is frozen and hashable so results can be compared, cached and put in sets.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final

import attrs

__all__ = [
    "POSTPONEMENT_NOTE",
    "KalshiGame",
    "KalshiTeamMarket",
    "MatchReport",
    "MatchedGame",
    "MatchedTeam",
    "PolymarketFees",
    "PolymarketGame",
    "PolymarketOutcome",
    "Reason",
    "Rejection",
    "Venue",
]

POSTPONEMENT_NOTE: Final = (
    "postponement/cancellation rules differ between Kalshi and Polymarket (e.g. a cancelled "
    "game may resolve 50-50 on one venue and follow other contract rules on the other): the "
    "pair is not risk-free if the game is not played as scheduled"
)


class Venue(StrEnum):
    """The venue a rejected input came from."""

    KALSHI = "kalshi"
    POLYMARKET = "polymarket"
    POLYMARKET_US = "polymarket-us"


class Reason(StrEnum):
    """Why an input was not matched. Values are stable strings for logs and JSON."""

    MALFORMED = "malformed"
    """A field is missing or has the wrong type."""
    BAD_TICKER = "bad_ticker"
    """A Kalshi event ticker that does not parse, or whose codes disagree with its markets."""
    BAD_START_TIME = "bad_start_time"
    """A start time that does not parse or has no UTC offset."""
    UNKNOWN_LEAGUE = "unknown_league"
    """Not an NBA/NHL game series / event."""
    LEAGUE_MISMATCH = "league_mismatch"
    """The sources of the league disagree, or the counterpart is in another league."""
    UNKNOWN_TEAM = "unknown_team"
    """A team name or code that the league's alias table does not know (or is ambiguous)."""
    TEAM_CONFLICT = "team_conflict"
    """Kalshi's ticker code and ``yes_sub_title`` name different teams."""
    SAME_TEAM = "same_team"
    """Both sides of a game resolve to the same team."""
    MISSING_TEAM_MARKET = "missing_team_market"
    """A Kalshi game event without exactly one market per team."""
    MISSING_TOKEN = "missing_token"
    """A Polymarket market without a token id per outcome."""
    DUPLICATE_TOKEN = "duplicate_token"
    """A Polymarket market whose two outcomes share one token id."""
    NOT_MONEYLINE = "not_moneyline"
    """A Polymarket spread, total, prop or other non-moneyline market."""
    CLOSED = "closed"
    """The market is closed, settled or finalized."""
    DUPLICATE_ID = "duplicate_id"
    """The same id appears twice with different content."""
    NO_DATE = "no_date"
    """Neither a start time nor a date is known."""
    DATE_MISMATCH = "date_mismatch"
    """The same teams exist on the other venue, but on another (US-Eastern) date."""
    START_WINDOW = "start_window"
    """The same teams and date exist on the other venue, but the start times are too far apart."""
    AMBIGUOUS = "ambiguous"
    """More than one candidate remained; the detail lists them."""
    NO_COUNTERPART = "no_counterpart"
    """No game with these teams exists on the other venue."""
    LINE_ONE_VENUE = "line_one_venue"
    """A total or spread line that only one venue lists for the game."""
    PUSH_LINE = "push_line"
    """A whole-number line: the game can land on it, and the venues settle a push
    differently."""
    OUTCOMES_DIFFER = "outcomes_differ"
    """The venues' winner markets have different outcomes (a draw on one venue only)."""
    INCOMPLETE = "incomplete"
    """A venue's winner market lacks an outcome (a team or the draw) or lists one twice."""
    UNMAPPED = "unmapped"
    """A venue's league or sport (a Gamma ``/sports`` entry) that the league table does not
    map to one of our leagues, or one of our leagues the venue's list does not name."""


@attrs.frozen(order=True)
class Rejection:
    """An input the matcher or a converter refused, and why.

    Attributes:
        venue: where the input came from.
        id: the input's id (Kalshi event ticker, Polymarket condition id or event slug).
        reason_code: the machine-readable reason.
        detail: a human-readable explanation (never contains secrets).
    """

    venue: Venue
    id: str
    reason_code: Reason
    detail: str


@attrs.frozen
class KalshiTeamMarket:
    """One team's binary market in a Kalshi game event (YES = that team wins).

    Attributes:
        ticker: market ticker, e.g. ``"KXNBAGAME-26OCT20OKCSAS-OKC"``.
        code: the team code (the ticker's last segment), e.g. ``"OKC"``.
        yes_sub_title: the team label Kalshi shows, e.g. ``"Oklahoma City"`` (may be empty).
        status: Kalshi's market status (``"active"``, ``"finalized"``...), may be empty.
    """

    ticker: str
    code: str
    yes_sub_title: str = ""
    status: str = ""


@attrs.frozen
class KalshiGame:
    """A Kalshi NBA/NHL game event with its two team markets.

    Attributes:
        event_ticker: e.g. ``"KXNBAGAME-26OCT20OKCSAS"``.
        series_ticker: e.g. ``"KXNBAGAME"``.
        league: ``"NBA"`` / ``"NHL"`` (anything else is rejected by the matcher).
        eastern_date: the game date from the ticker (US-Eastern).
        away: the first team of the ticker.
        home: the second team of the ticker.
        start_time: tz-aware start time when known, else ``None`` (Kalshi's close and
            expiration times are padded and are NOT start times).
        title: the event title, for reports.
    """

    event_ticker: str
    series_ticker: str
    league: str
    eastern_date: date
    away: KalshiTeamMarket
    home: KalshiTeamMarket
    start_time: datetime | None = None
    title: str = ""


@attrs.frozen
class PolymarketOutcome:
    """One outcome token of a Polymarket market.

    Attributes:
        name: the outcome label, e.g. ``"Thunder"``.
        token_id: the CLOB token id (decimal uint256 string).
    """

    name: str
    token_id: str


@attrs.frozen
class PolymarketFees:
    """Polymarket fee fields as decoded (exact), for the fee model to interpret.

    The schedule's fields are all ``None`` when the market has no ``feeSchedule``.

    Attributes:
        fees_enabled: ``feesEnabled`` (``None`` when absent).
        fee_type: ``feeType`` (``None`` when absent).
        rate: ``feeSchedule.rate``.
        exponent: ``feeSchedule.exponent``.
        taker_only: ``feeSchedule.takerOnly``.
        rebate_rate: ``feeSchedule.rebateRate``.
    """

    fees_enabled: bool | None = None
    fee_type: str | None = None
    rate: Decimal | None = None
    exponent: Decimal | None = None
    taker_only: bool | None = None
    rebate_rate: Decimal | None = None


@attrs.frozen
class PolymarketGame:
    """One two-outcome Polymarket market of a sports event (moneyline or not).

    Attributes:
        event_slug: e.g. ``"nba-okc-sas-2026-10-20"``.
        market_id: Gamma market id.
        condition_id: ``0x`` + 64 hex (the CLOB ``market``).
        question: e.g. ``"Thunder vs. Spurs"``.
        league: ``"NBA"`` / ``"NHL"``.
        outcomes: the two outcomes in venue order (NOT reliably away/home).
        start_time: from ``gameStartTime`` (UTC), tz-aware, or ``None``.
        slug_date: the date at the end of the event slug (US-Eastern), or ``None``.
        sports_market_type: ``sportsMarketType`` (``"moneyline"``, ``"spreads"``...) or ``None``.
        line: the spread/total line as raw text, ``None`` when absent.
        market_slug: the market's own slug.
        closed: Gamma ``closed``.
        fees: the market's fee fields.
    """

    event_slug: str
    market_id: str
    condition_id: str
    question: str
    league: str
    outcomes: tuple[PolymarketOutcome, PolymarketOutcome]
    start_time: datetime | None = None
    slug_date: date | None = None
    sports_market_type: str | None = None
    line: str | None = None
    market_slug: str = ""
    closed: bool = False
    fees: PolymarketFees = PolymarketFees()

    @property
    def id(self) -> str:
        """The id used in reports: the condition id, else ``market:<id>``."""
        return self.condition_id or f"market:{self.market_id}"


@attrs.frozen
class MatchedTeam:
    """One team of a matched game, with its instrument on each venue.

    YES on this team's Kalshi market pays exactly when this token pays.

    Attributes:
        team_id: canonical id, e.g. ``"NBA:OKC"``.
        name: full team name.
        kalshi_ticker: the Kalshi market whose YES is this team winning.
        polymarket_token_id: the Polymarket token that pays if this team wins.
        polymarket_outcome: that token's outcome label.
    """

    team_id: str
    name: str
    kalshi_ticker: str
    polymarket_token_id: str
    polymarket_outcome: str


@attrs.frozen
class MatchedGame:
    """A game both venues list, with the instruments paired team by team.

    YES(team A) on Kalshi ≡ token(team A) on Polymarket ≡ NO(team B) on Kalshi (no ties in
    NBA/NHL).

    Attributes:
        league: ``"NBA"`` / ``"NHL"``.
        eastern_date: the game date (US-Eastern).
        start_time: UTC start time (Polymarket's, else Kalshi's), or ``None``.
        away: the first team of the Kalshi ticker.
        home: the second team of the Kalshi ticker.
        kalshi_event_ticker: the Kalshi event.
        polymarket_condition_id: the Polymarket market (condition id).
        polymarket_event_slug: the Polymarket event slug.
        polymarket_question: the market question, for reports.
        polymarket_fees: the market's fee fields.
        notes: caveats; always includes :data:`POSTPONEMENT_NOTE`.
    """

    league: str
    eastern_date: date
    start_time: datetime | None
    away: MatchedTeam
    home: MatchedTeam
    kalshi_event_ticker: str
    polymarket_condition_id: str
    polymarket_event_slug: str
    polymarket_question: str = ""
    polymarket_fees: PolymarketFees = PolymarketFees()
    notes: tuple[str, ...] = (POSTPONEMENT_NOTE,)

    @property
    def teams(self) -> tuple[MatchedTeam, MatchedTeam]:
        """``(away, home)``."""
        return (self.away, self.home)

    def team(self, team_id: str) -> MatchedTeam:
        """The side with canonical id ``team_id``; raises ``KeyError`` if not in this game."""
        for side in self.teams:
            if side.team_id == team_id:
                return side
        raise KeyError(team_id)

    def opponent(self, team_id: str) -> MatchedTeam:
        """The other side of ``team_id`` (whose Kalshi NO ≡ this team's YES)."""
        side = self.team(team_id)
        return self.home if side is self.away else self.away


@attrs.frozen
class MatchReport:
    """The matcher's answer: the pairs it is sure of, and everything else with a reason.

    Attributes:
        matches: matched games, ordered by (date, league, Kalshi event ticker).
        rejections: rejected or unmatched inputs, ordered by (venue, id, reason).
    """

    matches: tuple[MatchedGame, ...]
    rejections: tuple[Rejection, ...]

    def rejection_counts(self) -> dict[str, int]:
        """Rejections counted per reason code (sorted by code), for logs and metrics."""
        counts: dict[str, int] = {}
        for rejection in self.rejections:
            counts[rejection.reason_code.value] = counts.get(rejection.reason_code.value, 0) + 1
        return dict(sorted(counts.items()))
