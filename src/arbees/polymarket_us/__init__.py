"""Polymarket US: the CFTC-regulated US exchange, reached directly (no VPN, no egress check).

Modules: ``auth`` (the Ed25519 request signer), ``wire`` + ``protocol`` + ``book`` (the
sans-io markets socket: frames, exact books in both book shapes, subscriptions of at most
100 markets), ``models`` (the one decoder of its REST bodies: events and markets with
their sports fields, books, best bid/offer) and ``rest`` (the public REST client, rate
limited to ~20 requests/s, bodies byte-capped), ``maintenance`` (the weekly window) and
``feed`` (the market-data feed on ``wsdriver``: one socket per 100 markets, the common
feed surface, the maintenance window sat out quietly). Its fake is
``arbees.testing.fake_polymarket_us``.
"""
