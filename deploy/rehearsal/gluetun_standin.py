"""The Gluetun stand-in of the container rehearsal (deploy/rehearse-containers.sh).

Runs inside the stand-in image (the arbees image plus this file), as the compose file's
``vpn`` service. Sub-commands:

``serve``
    arbees' fake Gluetun control server on 127.0.0.1:8000, the API key taken from the role
    file the compose file mounts for the real Gluetun (the first ``apikey`` role of
    ``HTTP_CONTROL_SERVER_AUTH_CONFIG_FILEPATH``), the exit in the first of
    ``SERVER_COUNTRIES``. The key goes through an environment variable of this process only,
    never a command line. With ``HTTPPROXY=on`` (compose's default) it also serves Gluetun's
    HTTP proxy on 127.0.0.1:8888, the route of the orchestrator's Gamma discovery.
``healthcheck``
    exit 0 when the control server answers ``GET /v1/vpn/status`` with ``running``.
``set-exit COUNTRY``
    move the fake tunnel's exit (``PUT /fake/exit``): how the rehearsal flips the VPN to a
    forbidden country and back.

Standard library and arbees only; every request goes to 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import tomllib

CONTROL_PORT = 8000
HTTP_PROXY_PORT = 8888
DEFAULT_AUTH_FILE = "/gluetun/auth/config.toml"
# Documentation ranges (RFC 5737): the exit IPs the stand-in reports.
EXIT_IPS = {"united states": "198.51.100.9"}
DEFAULT_EXIT_IP = "203.0.113.7"


def api_key() -> str:
    """The API key of the first ``apikey`` role in the mounted role file."""
    path = os.environ.get("HTTP_CONTROL_SERVER_AUTH_CONFIG_FILEPATH") or DEFAULT_AUTH_FILE
    with open(path, "rb") as f:
        config = tomllib.load(f)
    for role in config.get("roles", []):
        key = role.get("apikey") if isinstance(role, dict) else None
        if role.get("auth") == "apikey" and isinstance(key, str) and key:
            return key
    raise SystemExit(f"gluetun stand-in: no apikey role in {path}")


def first_country() -> str:
    countries = os.environ.get("SERVER_COUNTRIES") or "United Kingdom"
    return countries.split(",")[0].strip() or "United Kingdom"


def request(method: str, path: str, body: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", CONTROL_PORT, timeout=5)
    try:
        headers = {"X-API-Key": api_key()}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def serve() -> int:
    from arbees.testing import fake_gluetun

    os.environ["GLUETUN_STANDIN_API_KEY"] = api_key()
    country = first_country()
    return fake_gluetun.main(
        [
            "--host",
            "127.0.0.1",
            "--port",
            str(CONTROL_PORT),
            "--country",
            country,
            "--ip",
            EXIT_IPS.get(country.lower(), DEFAULT_EXIT_IP),
            "--api-key-env",
            "GLUETUN_STANDIN_API_KEY",
            *(
                ["--http-proxy-port", str(HTTP_PROXY_PORT)]
                if os.environ.get("HTTPPROXY", "off").lower() == "on"
                else []
            ),
        ]
    )


def healthcheck() -> int:
    try:
        status, body = request("GET", "/v1/vpn/status")
    except OSError as exc:
        print(f"control server unreachable: {exc}")
        return 1
    if status == 200 and json.loads(body).get("status") == "running":
        return 0
    print(f"control server answered {status}: {body[:200]!r}")
    return 1


def set_exit(country: str) -> int:
    body = {"country": country, "ip": EXIT_IPS.get(country.lower(), DEFAULT_EXIT_IP)}
    status, answer = request("PUT", "/fake/exit", body)
    print(f"set-exit {country}: {status} {answer.decode(errors='replace')[:200]}")
    return 0 if status == 200 else 1


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "serve"
    if command == "serve" and len(argv) <= 1:
        return serve()
    if command == "healthcheck" and len(argv) == 1:
        return healthcheck()
    if command == "set-exit" and len(argv) == 2:
        return set_exit(argv[1])
    print("usage: gluetun_standin.py [serve | healthcheck | set-exit COUNTRY]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
