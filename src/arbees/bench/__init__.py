"""Benchmarks behind ``arbees bench``: one module per benchmark, each with ``register(sub)``."""
