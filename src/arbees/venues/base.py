"""The venue contract: what one venue gives the rest of arbees.

A :class:`Venue` is a frozen value naming a venue's parts; each venue package builds one in
``arbees.venues.<id>`` and :data:`arbees.venues.VENUES` lists them. The services never see
it: ``arbees.wiring`` looks a venue up by id and hands the services what it builds (an
:class:`~arbees.services.interfaces.InstrumentFeed` with the one surface every venue's feed
offers, and the quotes its updates convert to).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from arbees.fees import MarketFees
from arbees.services.interfaces import InstrumentFeed
from arbees.services.quotes import Quote

__all__ = ["Venue"]


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
    """

    id: str
    feed: Callable[..., InstrumentFeed] = attrs.field(repr=False)
    quote: Callable[[Any], Quote] = attrs.field(repr=False)
    accepts: Callable[[str], bool] = attrs.field(repr=False)
    fee_model: Callable[[Any], MarketFees] = attrs.field(repr=False)
