"""Polymarket US: the CFTC-regulated US exchange, reached directly (no VPN, no egress check).

Modules: ``auth`` (the Ed25519 request signer).
"""
