"""Prometheus metrics: cheap value holders, exposed through the ``prometheus_client`` library.

Counters, gauges and histograms with fixed label names. The hot path only updates a
dictionary or a list (no lock, no library call); at scrape time :class:`Registry`, a
``prometheus_client`` custom collector, turns the values into metric families and the
library renders them (``generate_latest``: names, label escaping, content negotiation).

``serve_metrics`` answers ``GET /metrics`` from Trio, with ``h11`` parsing HTTP: the
scrape runs on the service's own thread, so the ``read`` callbacks of the gauges see the
service's state without locks, and the server lives and dies with the service's nursery
(``prometheus_client.start_http_server`` would run a thread reading that state
concurrently). It binds ``127.0.0.1`` unless told otherwise. Anything but a well-formed
``GET``/``HEAD`` of ``/metrics`` is rejected with a 4xx, counted in
``arbees_metrics_requests_rejected_total{reason}`` and logged (first of each reason at
WARNING); so are a client too slow to send its request (``timeout``) and connections beyond
the ones served at once (``busy``), so a flood cannot pile up tasks.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Final

import h11
import trio
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

__all__ = ["Counter", "Gauge", "Histogram", "Registry", "serve_metrics"]

log = logging.getLogger(__name__)

LATENCY_BUCKETS_US: Final = (50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000, 250000)

# A scrape request is a request line and a few headers: anything longer is not one.
_MAX_REQUEST_BYTES: Final = 8192
# Seconds a client gets to send its request and read the answer.
_REQUEST_TIMEOUT: Final = 5.0
# Scrapes served at once; a connection beyond this is closed at once (and counted).
_MAX_CONNECTIONS: Final = 16


class _Metric:
    kind = ""

    def __init__(self, name: str, help: str, labels: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help
        self.label_names = tuple(labels)

    def family(self) -> Metric:
        raise NotImplementedError


class Counter(_Metric):
    """A monotonically increasing count; its name ends in ``_total``."""

    kind = "counter"

    def __init__(self, name: str, help: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, help, labels)
        self.values: dict[tuple[str, ...], float] = {}

    def inc(self, amount: float = 1, *labels: str) -> None:
        self.values[labels] = self.values.get(labels, 0) + amount

    def family(self) -> Metric:
        family = CounterMetricFamily(self.name, self.help, labels=self.label_names)
        for key, value in sorted(self.values.items()):
            family.add_metric(list(key), value)
        return family


class Gauge(Counter):
    """A value that goes up and down (or is read from a callback at scrape time)."""

    kind = "gauge"

    def __init__(
        self,
        name: str,
        help: str,
        labels: Sequence[str] = (),
        read: Callable[[], float] | None = None,
    ) -> None:
        _Metric.__init__(self, name, help, labels)
        self.values = {}
        self._read = read

    def set(self, value: float, *labels: str) -> None:
        self.values[labels] = value

    def family(self) -> Metric:
        if self._read is not None:
            self.values[()] = float(self._read())
        family = GaugeMetricFamily(self.name, self.help, labels=self.label_names)
        for key, value in sorted(self.values.items()):
            family.add_metric(list(key), value)
        return family


class Histogram(_Metric):
    """Cumulative buckets, sum and count (bucket bounds keep their written form in ``le``)."""

    kind = "histogram"

    def __init__(self, name: str, help: str, buckets: Sequence[float] = LATENCY_BUCKETS_US) -> None:
        super().__init__(name, help)
        self.buckets = tuple(sorted(buckets))
        self.counts = [0] * (len(self.buckets) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.sum += value
        self.count += 1

    def family(self) -> Metric:
        cumulative: list[tuple[str, float]] = []
        running = 0
        for bound, n in zip(self.buckets, self.counts, strict=False):
            running += n
            cumulative.append((str(bound), running))
        cumulative.append(("+Inf", self.count))
        return HistogramMetricFamily(self.name, self.help, buckets=cumulative, sum_value=self.sum)


class Registry(Collector):
    """Holds metrics; a ``prometheus_client`` collector over them.

    ``registry.collector_registry`` is the library registry this one is registered in (what
    ``generate_latest`` and friends take); :meth:`render` is the text exposition format.
    """

    def __init__(self, prefix: str = "arbees_") -> None:
        self.prefix = prefix
        self._metrics: dict[str, _Metric] = {}
        self._broken: set[str] = set()  # metrics whose collection failed (logged once each)
        self.collect_errors = 0
        self.collector_registry = CollectorRegistry(auto_describe=False)
        self.collector_registry.register(self)

    def _add(self, metric: _Metric) -> None:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} registered twice")
        self._metrics[metric.name] = metric

    def counter(self, name: str, help: str, labels: Sequence[str] = ()) -> Counter:
        if not name.endswith("_total"):
            # The exposition format appends _total to a counter's samples: a name without
            # it would be published under a different name than the one registered.
            raise ValueError(f"counter {name!r}: a counter's name must end in _total")
        c = Counter(self.prefix + name, help, labels)
        self._add(c)
        return c

    def gauge(
        self,
        name: str,
        help: str,
        labels: Sequence[str] = (),
        read: Callable[[], float] | None = None,
    ) -> Gauge:
        g = Gauge(self.prefix + name, help, labels, read)
        self._add(g)
        return g

    def histogram(
        self, name: str, help: str, buckets: Sequence[float] = LATENCY_BUCKETS_US
    ) -> Histogram:
        h = Histogram(self.prefix + name, help, buckets)
        self._add(h)
        return h

    def collect(self) -> Iterable[Metric]:
        """Every metric's family; one whose ``read`` callback fails is left out of this
        scrape (counted in ``collect_errors``, logged the first time), never failing the
        scrape or the service."""
        families: list[Metric] = []
        for metric in list(self._metrics.values()):
            try:
                families.append(metric.family())
            except Exception:
                self.collect_errors += 1
                if metric.name not in self._broken:
                    self._broken.add(metric.name)
                    log.warning("metric %s could not be collected", metric.name, exc_info=True)
        return families

    def render(self) -> str:
        """The Prometheus text exposition format (0.0.4) of every metric."""
        return generate_latest(self.collector_registry).decode()


class _Rejections:
    """Counts (and logs, the first of each reason at WARNING) refused scrape requests."""

    def __init__(self, registry: Registry) -> None:
        name = registry.prefix + "metrics_requests_rejected_total"
        existing = registry._metrics.get(name)  # serve_metrics may run twice on one registry
        if isinstance(existing, Counter):
            self.counter = existing
        else:
            self.counter = registry.counter(
                "metrics_requests_rejected_total",
                "requests to the metrics endpoint refused (bad HTTP, wrong path or method)",
                ("reason",),
            )

    def __call__(self, reason: str, detail: str) -> None:
        first = (reason,) not in self.counter.values
        self.counter.inc(1, reason)
        log.log(
            logging.WARNING if first else logging.DEBUG,
            "metrics endpoint: rejected a request (%s): %s",
            reason,
            detail,
        )


async def _read_request(conn: h11.Connection, stream: trio.SocketStream) -> h11.Request | None:
    """The request's head (its body, if any, is ignored: the connection closes after)."""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(bytes(await stream.receive_some(4096)))
        elif isinstance(event, h11.Request):
            return event
        else:  # the client closed (or paused) without a request
            return None


def _answer(registry: Registry, request: h11.Request) -> tuple[int, str, bytes, str]:
    """``(status, content type, body, rejection reason or "")`` for one request."""
    path = request.target.split(b"?", 1)[0]
    if path != b"/metrics":
        return 404, "text/plain; charset=utf-8", b"not found\n", "not_found"
    if request.method not in (b"GET", b"HEAD"):
        return 405, "text/plain; charset=utf-8", b"method not allowed\n", "method"
    accept = ",".join(v.decode("latin-1") for k, v in request.headers if k == b"accept")
    encoder, content_type = choose_encoder(accept)
    return 200, content_type, encoder(registry.collector_registry), ""


async def _handle(
    registry: Registry, rejected: _Rejections, stream: trio.SocketStream, limit_s: float
) -> None:
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_REQUEST_BYTES)
    try:
        with trio.move_on_after(limit_s) as timer:
            try:
                request = await _read_request(conn, stream)
            except h11.RemoteProtocolError as exc:
                rejected("bad_request", str(exc))
                status, ctype, body, method = 400, "text/plain", b"bad request\n", b"GET"
            else:
                if request is None:
                    return
                status, ctype, body, reason = _answer(registry, request)
                method = request.method
                if reason:
                    rejected(reason, f"{method!r} {request.target[:200]!r}")
            headers = [
                ("content-type", ctype),
                ("content-length", str(len(body))),
                ("connection", "close"),
            ]
            await stream.send_all(conn.send(h11.Response(status_code=status, headers=headers)))
            if method != b"HEAD":
                await stream.send_all(conn.send(h11.Data(data=body)))
            await stream.send_all(conn.send(h11.EndOfMessage()))
        if timer.cancelled_caught:
            rejected("timeout", f"no complete request/answer within {limit_s} s")
    except (trio.BrokenResourceError, trio.ClosedResourceError, h11.LocalProtocolError) as exc:
        log.debug("metrics endpoint: connection ended early: %s", type(exc).__name__)
    finally:
        await trio.aclose_forcefully(stream)


async def serve_metrics(
    registry: Registry,
    port: int,
    host: str = "127.0.0.1",
    *,
    request_timeout: float = _REQUEST_TIMEOUT,
    max_connections: int = _MAX_CONNECTIONS,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``GET /metrics`` on ``host:port`` until cancelled; ``started()`` reports the port.

    ``host`` defaults to loopback; a container that is scraped from its network binds
    ``0.0.0.0`` on purpose (``METRICS_ADDR``).
    """
    rejected = _Rejections(registry)
    slots = trio.CapacityLimiter(max_connections)
    listeners = await trio.open_tcp_listeners(port, host=host)
    bound = listeners[0].socket.getsockname()[1]
    log.info("metrics on http://%s:%d/metrics", host, bound)
    task_status.started(bound)

    async def handler(stream: trio.SocketStream) -> None:
        try:
            slots.acquire_nowait()
        except trio.WouldBlock:
            rejected("busy", f"more than {max_connections} connections at once")
            await trio.aclose_forcefully(stream)
            return
        try:
            await _handle(registry, rejected, stream, request_timeout)
        finally:
            slots.release()

    await trio.serve_listeners(handler, listeners)
