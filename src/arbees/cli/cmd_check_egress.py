"""``arbees check-egress``: one egress check, for humans, health checks and scripts.

Run it inside the VPN's network namespace before starting the Polymarket monitor (or as a
container health check): it asks Gluetun's control server (``/v1/publicip/ip``) or an
ipinfo-style ``/json`` endpoint where traffic leaves, applies the same policy as the
monitor's guard, prints the verdict with country and IP, and exits 0 only when verified
(1 when not, 2 on a usage/configuration error). The API key is read from an environment
variable — never from the command line, where ``ps`` would show it — and never printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import httpx
import trio

from arbees.cli._common import secret_environ
from arbees.config import redact_url
from arbees.egress import EgressSettings, EgressState, country_label
from arbees.egress.settings import API_KEY_ENV, URL_ENV
from arbees.errors import ConfigError

__all__ = ["register"]

EXIT_VERIFIED = 0
EXIT_UNVERIFIED = 1
EXIT_USAGE = 2


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "check-egress",
        help="verify where traffic leaves (VPN exit country) and exit 0 only if allowed",
        description="Check egress once against Gluetun's control server (/v1/publicip/ip) or "
        "an ipinfo-style JSON endpoint. Exit status: 0 verified, 1 not verified, 2 usage "
        f"error. Environment: {URL_ENV}, {API_KEY_ENV}, EGRESS_FORBIDDEN_COUNTRIES "
        "(default US), EGRESS_REQUIRED_COUNTRIES, EGRESS_CHECK_TIMEOUT.",
    )
    p.add_argument(
        "--url",
        help=f"egress source URL (default: ${URL_ENV}); inside the VPN's namespace: "
        "http://localhost:8000/v1/publicip/ip",
    )
    p.add_argument(
        "--api-key-env",
        default=API_KEY_ENV,
        metavar="NAME",
        help=f"environment variable holding the control-server API key (default {API_KEY_ENV})",
    )
    p.add_argument(
        "--forbidden",
        metavar="LIST",
        help="comma list of forbidden exit countries, codes or names "
        "(default: $EGRESS_FORBIDDEN_COUNTRIES or US; 'none' for none)",
    )
    p.add_argument(
        "--required",
        metavar="LIST",
        help="comma list; when set the exit country must be one of them "
        "(default: $EGRESS_REQUIRED_COUNTRIES)",
    )
    p.add_argument("--timeout", type=float, metavar="S", help="seconds for the check (default 5)")
    p.add_argument("--json", action="store_true", help="print the verdict as one JSON object")
    p.set_defaults(handler=_handle)


async def _check(settings: EgressSettings) -> EgressState:
    async with httpx.AsyncClient(timeout=settings.timeout) as client:
        return await settings.checker(client).check(settings.policy)


def _handle(args: argparse.Namespace) -> int:
    try:
        settings = EgressSettings.from_env(
            secret_environ(),
            url=args.url,
            api_key_env=args.api_key_env,
            forbidden=args.forbidden,
            required=args.required,
            timeout=args.timeout,
        )
        state = trio.run(_check, settings)
    except ConfigError as exc:
        print(f"arbees check-egress: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    source = redact_url(settings.url)
    if args.json:
        out = state.to_json() | {"source": source, "policy": settings.policy.describe()}
        print(json.dumps(out, sort_keys=True))
    elif state.verified:
        print(
            f"egress VERIFIED: country {country_label(state.country)}, IP {state.ip} "
            f"(source {source}; {settings.policy.describe()})"
        )
    else:
        print(f"egress NOT VERIFIED ({state.kind}): {state.reason}")
    return EXIT_VERIFIED if state.verified else EXIT_UNVERIFIED
