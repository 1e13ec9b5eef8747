"""The venues arbees trades on, behind one contract, and their registry.

:data:`VENUES` maps each venue's id to its :class:`~arbees.venues.base.Venue`;
:func:`get_venue` looks one up; :func:`instrument_checks` gives every venue's instrument-id
check. Adding a venue is one package (``arbees.<id>``: wire, protocol, feed with the common
feed surface, models, REST), one module here (``arbees.venues.<id>``, building its
``Venue``: feed, quote, instrument check, fee model, listings), one entry in :data:`VENUES`,
its discovery options in the wiring and its fake in ``arbees.testing.venues.FAKE_VENUES``
(the exact list: ``docs/architecture.md``, "Adding a venue").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from arbees.errors import ConfigError
from arbees.venues.base import Listing, Listings, Venue
from arbees.venues.kalshi import KALSHI
from arbees.venues.polymarket import POLYMARKET
from arbees.venues.polymarket_us import POLYMARKET_US

__all__ = ["VENUES", "Listing", "Listings", "Venue", "get_venue", "instrument_checks"]

VENUES: Mapping[str, Venue] = MappingProxyType(
    {v.id: v for v in (KALSHI, POLYMARKET, POLYMARKET_US)}
)
"""Every venue, by id."""


def get_venue(venue_id: str) -> Venue:
    """The venue called ``venue_id``; an unknown id is a :class:`ConfigError` naming the
    known ones."""
    try:
        return VENUES[venue_id]
    except KeyError:
        known = ", ".join(sorted(VENUES))
        raise ConfigError(f"unknown venue {venue_id[:60]!r} (known: {known})") from None


def instrument_checks() -> Mapping[str, Callable[[str], bool]]:
    """Each venue's instrument-id check (:attr:`Venue.accepts`), by venue id: what the
    wiring hands the services that validate an assignment's instruments."""
    return MappingProxyType({v.id: v.accepts for v in VENUES.values()})
