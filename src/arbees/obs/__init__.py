"""Observability: logging set-up, Prometheus metrics, and service health heartbeats."""
