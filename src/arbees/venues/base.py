"""The venue contract: what one venue gives the rest of arbees.

A :class:`Venue` is a frozen value naming a venue's parts; each venue package builds one in
``arbees.venues.<id>`` and :data:`arbees.venues.VENUES` lists them. The services never see
it: ``arbees.wiring`` looks a venue up by id and hands the services what it builds (an
:class:`~arbees.services.interfaces.InstrumentFeed` with the one surface every venue's feed
offers, the quotes its updates convert to, each instrument-id check, and the orchestrator's
game source over every venue's :class:`Listings`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import attrs

from arbees.errors import DecodeRejection
from arbees.fees import MarketFees
from arbees.services.interfaces import InstrumentFeed
from arbees.services.quotes import Quote

__all__ = ["Listing", "Listings", "Venue"]


@attrs.frozen
class Listing:
    """One venue's open listings from one discovery round.

    Attributes:
        events: the venue's typed events, as its ``models`` decoder gave them.
        rejected: the items its decoder (or its fee model) refused, for the match report.
        fees: each market's fee model from the venue's metadata (``Venue.fee_model``), by
            the market id its assignments name (Kalshi event ticker, Polymarket condition
            id).
        structure: the venue's own structured data matching reads first, when it has some
            (Kalshi: a :class:`~arbees.matching.kalshi_structure.KalshiStructure` of its
            milestones and structured targets), else ``None``.
    """

    events: tuple[Any, ...]
    rejected: tuple[DecodeRejection, ...] = ()
    fees: Mapping[str, MarketFees] = attrs.field(factory=dict)
    structure: Any = None


class Listings(Protocol):
    """Where one venue's open listings come from (``Venue.listings`` builds one). Raise
    any :class:`~arbees.errors.ArbeesError` on failure: that discovery round fails."""

    async def fetch(self) -> Listing: ...


@attrs.frozen
class Venue:
    """One venue's parts, as the wiring uses them.

    Attributes:
        id: the venue's name on the bus, in quotes and in assignments (``"kalshi"``).
        feed: builds the venue's market-data feed for a list of instruments; the keyword
            options are the venue's own (URL, credentials, reconnect policy...).
        quote: converts one of the feed's updates into the shard's
            :class:`~arbees.services.quotes.Quote`.
        accepts: the venue's instrument-id check (a Kalshi ticker, a Polymarket token id):
            what its feed can stream. The services apply it to every instrument an
            assignment names, through :func:`arbees.venues.instrument_checks`.
        fee_model: one market's fee model from the venue's own metadata (a Kalshi
            ``Series``, a Polymarket ``GammaMarket``): what discovery puts in the
            assignments' fee fields.
        listings: builds the venue's discovery (:class:`Listings`: its open events fetched
            and decoded once, with their fee models); the keyword options are the venue's
            own (REST client, series or tags, egress gate...).
    """

    id: str
    feed: Callable[..., InstrumentFeed] = attrs.field(repr=False)
    quote: Callable[[Any], Quote] = attrs.field(repr=False)
    accepts: Callable[[str], bool] = attrs.field(repr=False)
    fee_model: Callable[[Any], MarketFees] = attrs.field(repr=False)
    listings: Callable[..., Listings] = attrs.field(repr=False)
