"""Options shared by the service commands, with environment-variable defaults.

The CLI is the only layer that reads the environment: each option's default comes from the
variable named in its help text, and a command-line value overrides it.
"""

from __future__ import annotations

import argparse
import os

from arbees.config import redact_url

__all__ = ["add_bus_options", "add_service_options", "env", "env_float", "env_int"]


def env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def env_int(name: str, default: int) -> int:
    return int(env(name, str(default)))


def env_float(name: str, default: float) -> float:
    return float(env(name, str(default)))


def add_bus_options(parser: argparse.ArgumentParser) -> None:
    default = env("REDIS_URL", "memory://")
    parser.add_argument(
        "--redis-url",
        default=default,
        help="bus URL: memory://, redis://[user:pass@]host:port/db or rediss://... "
        f"(env REDIS_URL; now {redact_url(default)})",
    )


def add_service_options(parser: argparse.ArgumentParser) -> None:
    add_bus_options(parser)
    parser.add_argument(
        "--log-level", default=env("LOG_LEVEL", "INFO"), help="log level (env LOG_LEVEL)"
    )
    parser.add_argument(
        "--log-format",
        default=env("LOG_FORMAT", "human"),
        choices=("human", "json"),
        help="log format (env LOG_FORMAT)",
    )
    metrics = os.environ.get("METRICS_PORT")
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=int(metrics) if metrics else None,
        help="serve Prometheus metrics on this port (env METRICS_PORT; off by default)",
    )
    parser.add_argument(
        "--metrics-addr",
        default=env("METRICS_ADDR", "127.0.0.1"),
        help="address the metrics server binds (env METRICS_ADDR; default 127.0.0.1, "
        "0.0.0.0 only where a scraper on another host must reach it)",
    )
