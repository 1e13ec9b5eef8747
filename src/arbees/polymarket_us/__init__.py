"""Polymarket US: the CFTC-regulated US exchange, reached directly (no VPN, no egress check).

Modules: ``auth`` (the Ed25519 request signer), ``wire`` + ``protocol`` + ``book`` (the
sans-io markets socket: frames, exact books in both book shapes, subscriptions of at most
100 markets).
"""
