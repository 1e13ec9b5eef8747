"""A fake Gluetun control server: a real loopback HTTP server with failure knobs.

The egress guard, the demo, the services' tests and the local deployment rehearsal all need
something that answers like Gluetun's control server (``:8000``) — and, more importantly,
that can misbehave on demand the way a real VPN container does: the tunnel goes down
(``public_ip`` becomes ``""``, status ``"stopped"``), the exit lands in the wrong country,
the server hangs, answers garbage or a 500, or refuses a missing/wrong API key with 401.

It is a real server (``trio.serve_tcp`` + h11) so that timeouts, refused keys and garbage
bodies travel through the actual HTTP client, not a mock.

Routes (all but ``/json`` require ``X-API-Key`` when ``api_key`` is set, like recent Gluetun
versions; ``/json`` stands for ipinfo.io, which asks for no key):

=========================  ====================================================================
``GET /v1/publicip/ip``    ``{"public_ip", "region", "country", "city", "organization", ...}``
                           (country as a NAME), or the ipinfo shape when ``style="ipinfo"``
``GET /v1/vpn/status``     ``{"status": "running"|"stopped"}``
``PUT /v1/vpn/status``     ``{"status": "stopped"|"running"}`` -> takes the tunnel down / up
``GET /json``              ipinfo-style ``{"ip", "country": "GB", ...}`` (like ipinfo.io/json)
``PUT /fake/exit``         fake-only: ``{"country": ..., "ip": ...}`` moves the exit
=========================  ====================================================================

Use in tests::

    fake = FakeGluetun(country="United Kingdom", api_key="s3cret")
    async with trio.open_nursery() as nursery:
        base_url = await nursery.start(fake.run)     # "http://127.0.0.1:<port>"
        fake.set_exit(country="United States", ip="198.51.100.9")
        fake.tunnel_down(); fake.hang(); fake.garbage(); fake.http_error(500); fake.healthy()

or ``async with open_fake_gluetun(...) as fake: ... fake.publicip_url``. Standalone, for the
local rehearsal (the API key is read from an environment variable, never from argv)::

    python -m arbees.testing.fake_gluetun --port 8000 --country "United Kingdom"

With ``--http-proxy-port 8888`` it also serves Gluetun's HTTP proxy (``HTTPPROXY=on``) on
the same host: :class:`arbees.testing.http_proxy.ForwardProxy`.
"""

from __future__ import annotations

import argparse
import hmac
import http
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, Literal

import h11
import trio

from arbees.egress.countries import normalize_country
from arbees.testing.http_proxy import ForwardProxy

__all__ = ["FakeGluetun", "Fault", "main", "open_fake_gluetun"]

log = logging.getLogger(__name__)

Fault = Literal["none", "hang", "garbage", "wrong_types", "http_error"]
Style = Literal["gluetun", "ipinfo"]

_MAX_REQUEST = 64 * 1024


class FakeGluetun:
    """A loopback stand-in for Gluetun's control server.

    Args:
        country: exit country as Gluetun names it (``"United Kingdom"``); a code also works.
        ip: exit IP (documentation range by default).
        api_key: when set, every route requires ``X-API-Key: <api_key>`` (else 401).
        style: ``"gluetun"`` (country NAME) or ``"ipinfo"`` (``ip`` + ISO code) for
            ``/v1/publicip/ip``.
        host, port: where to listen (port 0 = ephemeral).

    Counters: ``requests`` (all), ``unauthorized`` (401s sent).
    """

    def __init__(
        self,
        *,
        country: str = "United Kingdom",
        ip: str = "203.0.113.7",
        region: str = "England",
        city: str = "London",
        organization: str = "AS9009 M247 Europe SRL",
        api_key: str | None = None,
        style: Style = "gluetun",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.country = country
        self.ip = ip
        self.region = region
        self.city = city
        self.organization = organization
        self._api_key = api_key or None
        self.style: Style = style
        self.tunnel_running = True
        self.fault: Fault = "none"
        self.error_status = 500
        self.requests = 0
        self.unauthorized = 0
        self._host = host
        self._port = port
        self._base_url: str | None = None

    def __repr__(self) -> str:
        key = "'***'" if self._api_key else "None"
        return (
            f"FakeGluetun(url={self._base_url!r}, country={self.country!r}, ip={self.ip!r}, "
            f"running={self.tunnel_running}, fault={self.fault!r}, api_key={key})"
        )

    # -- knobs -------------------------------------------------------------------------

    def set_exit(
        self,
        *,
        country: str,
        ip: str | None = None,
        region: str | None = None,
        city: str | None = None,
        organization: str | None = None,
    ) -> None:
        """Move the tunnel's exit (and bring the tunnel up)."""
        self.country = country
        if ip is not None:
            self.ip = ip
        if region is not None:
            self.region = region
        if city is not None:
            self.city = city
        if organization is not None:
            self.organization = organization
        self.tunnel_running = True

    def tunnel_down(self) -> None:
        """Answer like Gluetun with the VPN down: empty ``public_ip``, status ``stopped``."""
        self.tunnel_running = False

    def tunnel_up(self) -> None:
        self.tunnel_running = True

    def hang(self) -> None:
        """Read requests but never answer (the client's timeout must fire)."""
        self.fault = "hang"

    def garbage(self) -> None:
        """Answer 200 with a body that is not JSON."""
        self.fault = "garbage"

    def wrong_types(self) -> None:
        """Answer 200 with JSON of the right keys but wrong types."""
        self.fault = "wrong_types"

    def http_error(self, status: int = 500) -> None:
        """Answer every request with ``status``."""
        self.fault = "http_error"
        self.error_status = status

    def healthy(self) -> None:
        """Clear any fault and bring the tunnel up."""
        self.fault = "none"
        self.tunnel_running = True

    # -- addresses -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` once running."""
        if self._base_url is None:
            raise RuntimeError("FakeGluetun is not running yet")
        return self._base_url

    @property
    def publicip_url(self) -> str:
        return self.base_url + "/v1/publicip/ip"

    @property
    def ipinfo_url(self) -> str:
        return self.base_url + "/json"

    # -- answers -------------------------------------------------------------------------

    def _gluetun_body(self) -> dict[str, Any]:
        if not self.tunnel_running:
            return {
                "public_ip": "",
                "region": "",
                "country": "",
                "city": "",
                "hostname": "",
                "location": "",
                "organization": "",
                "postal_code": "",
                "timezone": "",
            }
        return {
            "public_ip": self.ip,
            "region": self.region,
            "country": self.country,
            "city": self.city,
            "hostname": "",
            "location": "51.5085,-0.1257",
            "organization": self.organization,
            "postal_code": "",
            "timezone": "Europe/London",
        }

    def _ipinfo_body(self) -> dict[str, Any]:
        if not self.tunnel_running:
            return {"ip": "", "country": ""}
        return {
            "ip": self.ip,
            "city": self.city,
            "region": self.region,
            "country": normalize_country(self.country) or self.country,
            "org": self.organization,
            "timezone": "Europe/London",
        }

    def _authorized(self, request: h11.Request) -> bool:
        if self._api_key is None:
            return True
        for name, value in request.headers:
            if name == b"x-api-key":
                return hmac.compare_digest(value, self._api_key.encode())
        return False

    def _answer(self, request: h11.Request, body: bytes) -> tuple[int, bytes] | None:
        """``(status, body)``, or ``None`` to hang."""
        method = request.method.decode()
        path = request.target.decode().split("?", 1)[0]
        if not (path == "/json" and method == "GET") and not self._authorized(request):
            self.unauthorized += 1
            return 401, b"Unauthorized\n"
        if path == "/fake/exit" and method == "PUT":
            try:
                spec = json.loads(body)
                self.set_exit(country=str(spec["country"]), ip=spec.get("ip"))
            except (ValueError, KeyError, TypeError):
                return 400, b'{"error": "expected {\\"country\\": ..., \\"ip\\": ...}"}'
            return 200, b'{"outcome": "moved"}'
        if path == "/v1/vpn/status" and method == "PUT":
            try:
                wanted = json.loads(body)["status"]
            except (ValueError, KeyError, TypeError):
                return 400, b'{"error": "expected {\\"status\\": \\"running\\"|\\"stopped\\"}"}'
            if wanted not in ("running", "stopped"):
                return 400, b'{"error": "status must be running or stopped"}'
            self.tunnel_running = wanted == "running"
            return 200, json.dumps({"outcome": wanted}).encode()
        if method != "GET" or path not in ("/v1/publicip/ip", "/v1/vpn/status", "/json"):
            return 404, b"404 page not found\n"
        if self.fault == "hang":
            return None
        if self.fault == "http_error":
            return self.error_status, b'{"error": "internal error"}'
        if self.fault == "garbage":
            return 200, b"<html>{not json at all"
        if path == "/v1/vpn/status":
            return 200, json.dumps(
                {"status": "running" if self.tunnel_running else "stopped"}
            ).encode()
        if self.fault == "wrong_types":
            return 200, b'{"public_ip": 1234, "country": ["United Kingdom"]}'
        if path == "/json" or self.style == "ipinfo":
            return 200, json.dumps(self._ipinfo_body()).encode()
        return 200, json.dumps(self._gluetun_body()).encode()

    # -- server --------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled; ``started()`` reports the base URL once listening."""
        listeners = await trio.open_tcp_listeners(self._port, host=self._host)
        sockname = listeners[0].socket.getsockname()
        host = f"[{sockname[0]}]" if ":" in sockname[0] else sockname[0]
        self._base_url = f"http://{host}:{sockname[1]}"
        log.info("fake Gluetun control server listening on %s", self._base_url)
        async with trio.open_nursery() as nursery:
            await nursery.start(partial(trio.serve_listeners, self._handle, listeners))
            task_status.started(self._base_url)

    async def _handle(self, stream: trio.SocketStream) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_REQUEST)
        try:
            while True:
                got = await self._next_request(conn, stream)
                if got is None:
                    return
                request, body = got
                self.requests += 1
                answer = self._answer(request, body)
                if answer is None:  # hang: never answer, return when the client gives up
                    while await stream.receive_some(4096):
                        pass
                    return
                status, payload = answer
                ctype = b"application/json" if payload[:1] in (b"{", b"[") else b"text/plain"
                headers = [
                    (b"content-type", ctype),
                    (b"content-length", str(len(payload)).encode()),
                ]
                await stream.send_all(
                    conn.send(
                        h11.Response(status_code=status, headers=headers, reason=_phrase(status))
                    )
                    or b""
                )
                await stream.send_all(conn.send(h11.Data(data=payload)) or b"")
                await stream.send_all(conn.send(h11.EndOfMessage()) or b"")
                if conn.our_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError) as exc:
            log.debug("fake Gluetun connection ended: %r", exc)
        finally:
            await trio.aclose_forcefully(stream)

    @staticmethod
    async def _next_request(
        conn: h11.Connection, stream: trio.SocketStream
    ) -> tuple[h11.Request, bytes] | None:
        request: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await stream.receive_some(65536))
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > _MAX_REQUEST:
                    return None
            elif isinstance(event, h11.EndOfMessage) and request is not None:
                return request, bytes(body)
            else:  # ConnectionClosed, PAUSED
                return None


def _phrase(status: int) -> bytes:
    try:
        return http.HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


@asynccontextmanager
async def open_fake_gluetun(**kwargs: Any) -> AsyncIterator[FakeGluetun]:
    """Run a :class:`FakeGluetun` for the duration of the block (keyword args as its own)."""
    fake = FakeGluetun(**kwargs)
    async with trio.open_nursery() as nursery:
        await nursery.start(fake.run)
        try:
            yield fake
        finally:
            nursery.cancel_scope.cancel()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m arbees.testing.fake_gluetun``: serve until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m arbees.testing.fake_gluetun",
        description="A fake Gluetun control server for local rehearsals (loopback only by "
        'default). Take the tunnel down with: curl -X PUT -d \'{"status":"stopped"}\' '
        "URL/v1/vpn/status; move the exit with: curl -X PUT -d "
        '\'{"country":"United States","ip":"198.51.100.9"}\' URL/fake/exit',
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--country", default="United Kingdom")
    parser.add_argument("--ip", default="203.0.113.7")
    parser.add_argument("--style", choices=["gluetun", "ipinfo"], default="gluetun")
    parser.add_argument(
        "--api-key-env",
        metavar="NAME",
        help="require X-API-Key equal to the value of this environment variable",
    )
    parser.add_argument(
        "--http-proxy-port",
        type=int,
        metavar="PORT",
        help="also serve Gluetun's HTTP proxy (HTTPPROXY) on this port of --host",
    )
    args = parser.parse_args(argv)
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env) or None
        if api_key is None:
            parser.error(f"environment variable {args.api_key_env} is not set")
    fake = FakeGluetun(
        country=args.country,
        ip=args.ip,
        api_key=api_key,
        style=args.style,
        host=args.host,
        port=args.port,
    )

    async def serve() -> None:
        async with trio.open_nursery() as nursery:
            url = await nursery.start(fake.run)
            print(f"fake Gluetun control server on {url} ({fake!r})", flush=True)
            if args.http_proxy_port is not None:
                proxy = ForwardProxy(host=args.host, port=args.http_proxy_port)
                port = await nursery.start(proxy.run)
                print(f"fake Gluetun HTTP proxy on {args.host}:{port}", flush=True)

    logging.basicConfig(level=logging.INFO)
    from arbees.cli import run_trio  # the exit codes and Ctrl-C of every entry point

    return run_trio("fake Gluetun", serve)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
