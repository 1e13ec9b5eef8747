"""Compose gives every Polymarket client outside the vpn namespace its own guarded route."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from arbees.egress.checker import is_loopback_host


@pytest.mark.parametrize("name", ["orchestrator", "game_shard"])
def test_polymarket_clients_outside_the_namespace_check_their_own_route(
    compose_json: dict[str, Any], name: str
) -> None:
    service = compose_json["services"][name]
    assert "network_mode" not in service  # outside the vpn namespace ...
    env = service["environment"]
    check = urlsplit(env["EGRESS_CHECK_URL"])
    # ... so a Gluetun control-server answer would not be trusted: an ipinfo-style URL,
    # fetched through the proxy with the Polymarket traffic, reports that route's exit
    assert check.scheme == "https"
    assert check.path == "/json"
    assert not is_loopback_host(check.hostname or "")
    assert env["EGRESS_FORBIDDEN_COUNTRIES"] == "US"
    assert env.get("POLYMARKET_EGRESS_CHECK") in (None, "")  # no opt-out by default


def test_the_orchestrator_reaches_gamma_only_through_the_vpn_proxy(
    compose_json: dict[str, Any],
) -> None:
    services = compose_json["services"]
    proxy = urlsplit(services["orchestrator"]["environment"]["POLYMARKET_PROXY_URL"])
    assert (proxy.scheme, proxy.hostname, proxy.port) == ("http", "vpn", 8888)
    assert services["vpn"]["environment"]["HTTPPROXY"] == "on"
