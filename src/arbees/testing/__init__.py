"""Test and demo helpers: real local servers that play the venues, Redis and Gluetun.

Nothing in the library imports this package; tests, benchmarks and ``arbees demo`` do.
"""
