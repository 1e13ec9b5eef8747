"""How each venue settles a game's contracts: a normal result, a postponement, a cancellation.

Why this is data: a "locked" cross-venue cover pays $1 per contract only when every venue
settles on the same result. When a game is postponed or cancelled the venues part ways, and
a hedged position can pay far from $1 without any market move. The paper ledger
(:mod:`arbees.paper`) values every open position under every scenario with these rules, and
settles positions with them; a user who knows a market's own rules better overrides a
venue's entry (``PaperLedger(rules=...)``; ``PAPER_SETTLEMENT_RULES`` or
``--paper-settlement-rules`` for ``arbees shard --paper``, see :func:`parse_rules`).

The payoffs (per contract of ``size`` micro-units; ``v`` is the YES settlement value):

* :attr:`Payoff.RESULT` — the normal rule: YES pays $1 when its outcome happened, NO pays
  $1 when any other outcome did.
* :attr:`Payoff.OPEN_UNTIL_PLAYED` — nothing is paid now: the contract stays open and pays
  by the result of the rescheduled game (which may be any outcome).
* :attr:`Payoff.LAST_PRICE` — "scalar" / fair-price settlement: YES pays the market's last
  traded price ``v``, NO pays ``1 - v``.
* :attr:`Payoff.FIFTY_FIFTY` — YES and NO both pay $0.50.

Sources of the default rules (:data:`DEFAULT_RULES`):

* ``kalshi`` — postponed: LAST_PRICE. Issue 20 records a postponed Kalshi soccer game
  (September 2026) settled "scalar", every leg at its own last traded price (home 0.29,
  draw 0.43, away 0.28). Cancelled: LAST_PRICE too; Kalshi's sports rules settle a game that
  does not take place "to a fair price" (e.g. the pickleball match rules on kalshi.com:
  "If the match does not occur ... the market will resolve to a fair price").
* ``polymarket`` (international) — postponed: OPEN_UNTIL_PLAYED; cancelled: FIFTY_FIFTY.
  Issue 20, and the sports markets' rules text ("If the game is postponed, this market will
  remain open until the game has been completed. If the game is canceled entirely, with no
  makeup game, this market will resolve 50-50"). Newer markets may instead resolve at their
  "last fair market price" (docs.polymarket.com, concepts/last-fair-market-price): override
  ``cancelled`` with LAST_PRICE for those.
* ``polymarket-us`` — a CONSERVATIVE READING, not a confirmed rule (``confirmed=False``):
  its help pages say markets "stay open until the event is over" and give "If the game is
  canceled entirely with no make-up game, this market will settle 50-50" as an example of
  settlement terms (docs.polymarket.us, market rules structure); each market's own rules
  decide, and we have not read the exchange rulebook. So postponed: OPEN_UNTIL_PLAYED (the
  position stays at risk on every outcome, the worst case counts the worst of them) and
  cancelled: FIFTY_FIFTY. Override it when a market's rules say otherwise.

Pure: no I/O, no trio; amounts are exact micro-units (:mod:`arbees.money`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

import attrs

from arbees.errors import ConfigError
from arbees.money import ONE, Fixed

__all__ = [
    "DEFAULT_RULES",
    "HALF",
    "SCENARIOS",
    "Contract",
    "Payoff",
    "Ruling",
    "VenueRules",
    "contract_payout",
    "parse_rules",
    "rules_for",
]

HALF: Final = ONE // 2
"""$0.50 in micro-units: what every contract pays under :attr:`Payoff.FIFTY_FIFTY`."""

SCENARIOS: Final = ("result", "postponed", "cancelled")
"""What can happen to a game: it is played to a result, postponed, or cancelled."""


class Payoff(enum.Enum):
    """What one contract pays under a scenario (see the module docstring)."""

    RESULT = "result"
    OPEN_UNTIL_PLAYED = "open_until_played"
    LAST_PRICE = "last_price"
    FIFTY_FIFTY = "fifty_fifty"


@attrs.frozen(slots=True)
class VenueRules:
    """One venue's settlement rules for a game that is not played as scheduled.

    A played game always settles by :attr:`Payoff.RESULT`.

    Attributes:
        venue: the venue id (``"kalshi"``, ``"polymarket"``, ``"polymarket-us"``).
        postponed: the payoff of a postponed game's contracts.
        cancelled: the payoff of a cancelled game's contracts.
        source: where the rule comes from (issue, venue page, or "conservative reading").
        confirmed: False when the rule is our conservative reading, not the venue's own
            stated practice.
    """

    venue: str
    postponed: Payoff
    cancelled: Payoff
    source: str
    confirmed: bool = True

    def payoff(self, scenario: str) -> Payoff:
        """The payoff of ``scenario`` (one of :data:`SCENARIOS`)."""
        if scenario == "result":
            return Payoff.RESULT
        if scenario == "postponed":
            return self.postponed
        if scenario == "cancelled":
            return self.cancelled
        raise ConfigError(f"unknown settlement scenario {scenario!r}")


DEFAULT_RULES: Final[Mapping[str, VenueRules]] = {
    rules.venue: rules
    for rules in (
        VenueRules(
            "kalshi",
            postponed=Payoff.LAST_PRICE,
            cancelled=Payoff.LAST_PRICE,
            source="issue 20: postponed soccer game (Sept 2026) settled scalar at each "
            "leg's last traded price 0.29/0.43/0.28; kalshi.com sports rules: a game "
            "that does not occur resolves to a fair price",
        ),
        VenueRules(
            "polymarket",
            postponed=Payoff.OPEN_UNTIL_PLAYED,
            cancelled=Payoff.FIFTY_FIFTY,
            source="issue 20 and the sports markets' rules: open until played when "
            "postponed, 50-50 only when cancelled (newer markets: last fair market price)",
        ),
        VenueRules(
            "polymarket-us",
            postponed=Payoff.OPEN_UNTIL_PLAYED,
            cancelled=Payoff.FIFTY_FIFTY,
            source="conservative reading of docs.polymarket.us (markets stay open until "
            "the event is over; 50-50 when cancelled with no make-up game); each "
            "market's own rules decide",
            confirmed=False,
        ),
    )
}
"""The default rules by venue id (sources in the module docstring)."""


def parse_rules(text: str, base: Mapping[str, VenueRules] = DEFAULT_RULES) -> dict[str, VenueRules]:
    """``base`` with the overrides in ``text`` (``PAPER_SETTLEMENT_RULES``).

    ``text``: ``VENUE:SCENARIO=PAYOFF[,SCENARIO=PAYOFF]`` entries joined by ``;``, e.g.
    ``polymarket-us:postponed=last_price;polymarket:cancelled=last_price``. A scenario is
    ``postponed`` or ``cancelled``, a payoff a :class:`Payoff` value. A venue not in
    ``base`` must name both scenarios. Raises :class:`ConfigError` on anything else.
    """
    rules = dict(base)
    for entry in filter(None, (e.strip() for e in text.split(";"))):
        venue, sep, body = (part.strip() for part in entry.partition(":"))
        if not sep or not venue:
            raise ConfigError(f"settlement rule {entry[:80]!r}: expected VENUE:SCENARIO=PAYOFF")
        given: dict[str, Payoff] = {}
        for item in body.split(","):
            scenario, eq, payoff = (part.strip() for part in item.partition("="))
            if not eq or scenario not in ("postponed", "cancelled"):
                raise ConfigError(f"settlement rule {entry[:80]!r}: bad scenario {scenario!r}")
            try:
                given[scenario] = Payoff(payoff)
            except ValueError:
                choices = ", ".join(p.value for p in Payoff)
                raise ConfigError(
                    f"settlement rule {entry[:80]!r}: payoff {payoff[:40]!r} is not one of "
                    f"{choices}"
                ) from None
        old = rules.get(venue)
        if old is None and len(given) < 2:
            raise ConfigError(f"settlement rule for new venue {venue!r} must name both scenarios")
        rules[venue] = VenueRules(
            venue,
            postponed=given.get("postponed", old.postponed if old else Payoff.RESULT),
            cancelled=given.get("cancelled", old.cancelled if old else Payoff.RESULT),
            source="configured (PAPER_SETTLEMENT_RULES)",
        )
    return rules


def rules_for(rules: Mapping[str, VenueRules], venue: str) -> VenueRules:
    """``venue``'s rules; :class:`ConfigError` when there are none (never a guess)."""
    found = rules.get(venue)
    if found is None:
        raise ConfigError(f"no settlement rules for venue {venue!r}")
    return found


@attrs.frozen(slots=True)
class Contract:
    """A held contract, as settlement sees it.

    Attributes:
        venue: the venue id.
        instrument: the venue's market or token id (whose last price a scalar settles at).
        side: ``"yes"`` or ``"no"`` of that instrument (a scalar pays its YES price or
            one minus it).
        outcome: the event outcome the contract is about.
        pays_if: True when the contract pays on ``outcome`` happening, False when it pays
            on any other outcome (a NO; or a binary pair's opponent token when the signal
            did not name outcomes).
    """

    venue: str
    instrument: str
    side: str
    outcome: str
    pays_if: bool

    @classmethod
    def of(cls, venue: str, instrument: str, side: str, outcome: str) -> Contract:
        """A contract whose YES pays on ``outcome`` (the usual case)."""
        return cls(venue, instrument, side, outcome, pays_if=side == "yes")


@attrs.frozen(slots=True)
class Ruling:
    """What happened to a game.

    Attributes:
        scenario: ``"result"``, ``"postponed"`` or ``"cancelled"`` (:data:`SCENARIOS`).
        winner: the outcome that happened (a ``"result"`` only).
        prices: each instrument's last traded YES price by ``(venue, instrument)``, for the
            venues that settle at :attr:`Payoff.LAST_PRICE`.
    """

    scenario: str
    winner: str = ""
    prices: Mapping[tuple[str, str], Fixed] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ConfigError(f"unknown settlement scenario {self.scenario!r}")
        if (self.scenario == "result") != bool(self.winner):
            raise ConfigError("a result names its winner; a postponement or cancellation none")
        for key, price in self.prices.items():
            if type(price) is not int or not 0 <= price <= ONE:
                raise ConfigError(f"last price of {key!r} must be micro-units in [0, 1]")

    @classmethod
    def result(cls, winner: str) -> Ruling:
        """The game was played and ``winner`` happened."""
        return cls("result", winner=winner)


def contract_payout(
    contract: Contract,
    size: Fixed,
    payoff: Payoff,
    *,
    winner: str = "",
    last_price: Fixed | None = None,
) -> Fixed | None:
    """What ``size`` of ``contract`` pays under ``payoff``; None while it stays open.

    ``winner`` is needed for :attr:`Payoff.RESULT`, ``last_price`` (the instrument's YES
    price) for :attr:`Payoff.LAST_PRICE`. Fractions of a micro-dollar are rounded down
    (the conservative side of a payout).
    """
    if payoff is Payoff.OPEN_UNTIL_PLAYED:
        return None
    if payoff is Payoff.RESULT:
        if not winner:
            raise ConfigError("a result payoff needs the winner")
        happened = contract.outcome == winner
        return size if happened == contract.pays_if else 0
    if payoff is Payoff.FIFTY_FIFTY:
        return size * HALF // ONE
    if last_price is None:
        raise ConfigError(f"no last price for {contract.venue} {contract.instrument}")
    value = last_price if contract.side == "yes" else ONE - last_price
    return size * value // ONE
