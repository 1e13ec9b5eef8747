"""arbees: real-time cross-venue arbitrage detection between Kalshi and Polymarket, on Trio."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
