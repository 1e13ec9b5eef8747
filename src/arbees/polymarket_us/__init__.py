"""Polymarket US: the CFTC-regulated US exchange, reached directly (no VPN, no egress check).

Modules:

- ``auth``: the Ed25519 request signer (key from a chmod-600 file);
- ``wire`` + ``protocol`` + ``book``: the sans-io markets socket (frames, exact books in
  both book shapes, subscriptions of at most 100 markets);
- ``models``: the one decoder of its REST bodies (events and markets with their sports
  fields, books, best bid/offer); ``rest``: the public REST client (~20 requests/s,
  bodies byte-capped);
- ``maintenance``: the weekly window; ``feed``: the market-data feed on ``wsdriver`` (one
  socket per 100 markets, the common feed surface, the window sat out quietly);
  ``audit``: its books compared with REST (a silently stalled socket is distrusted);
- ``replay``: record and fold (``arbees record polymarket-us``, ``arbees book FILE
  --venue polymarket-us``); ``record``: that CLI sub-command, found by
  ``arbees.cli.cmd_record``.

Its ``Venue`` is ``arbees.venues.polymarket_us``; its fake
``arbees.testing.fake_polymarket_us``.
"""
