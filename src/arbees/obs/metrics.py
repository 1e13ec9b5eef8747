"""A minimal Prometheus registry and exposition endpoint (text format 0.0.4).

Counters, gauges and histograms with fixed label names; ``serve_metrics`` answers
``GET /metrics`` on a port. Small on purpose: the services need a handful of series and the
hot path must only do a dictionary update.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable, Sequence
from typing import Final

import trio

__all__ = ["Counter", "Gauge", "Histogram", "Registry", "serve_metrics"]

log = logging.getLogger(__name__)

LATENCY_BUCKETS_US: Final = (50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000, 250000)


def _labels(names: Sequence[str], values: tuple[str, ...]) -> str:
    if not names:
        return ""
    inner = ",".join(
        f'{n}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for n, v in zip(names, values, strict=True)
    )
    return "{" + inner + "}"


class _Metric:
    kind = ""

    def __init__(self, name: str, help: str, labels: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help
        self.label_names = tuple(labels)

    def render(self) -> list[str]:
        raise NotImplementedError


class Counter(_Metric):
    """A monotonically increasing count."""

    kind = "counter"

    def __init__(self, name: str, help: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, help, labels)
        self.values: dict[tuple[str, ...], float] = {}

    def inc(self, amount: float = 1, *labels: str) -> None:
        self.values[labels] = self.values.get(labels, 0) + amount

    def render(self) -> list[str]:
        return [
            f"{self.name}{_labels(self.label_names, k)} {v}" for k, v in sorted(self.values.items())
        ]


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
        super().__init__(name, help, labels)
        self._read = read

    def set(self, value: float, *labels: str) -> None:
        self.values[labels] = value

    def render(self) -> list[str]:
        if self._read is not None:
            self.values[()] = float(self._read())
        return super().render()


class Histogram(_Metric):
    """Cumulative buckets, sum and count."""

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

    def render(self) -> list[str]:
        lines = []
        running = 0
        for bound, n in zip(self.buckets, self.counts, strict=False):
            running += n
            lines.append(f'{self.name}_bucket{{le="{bound}"}} {running}')
        lines.append(f'{self.name}_bucket{{le="+Inf"}} {self.count}')
        lines.append(f"{self.name}_sum {self.sum}")
        lines.append(f"{self.name}_count {self.count}")
        return lines


class Registry:
    """Holds metrics and renders them."""

    def __init__(self, prefix: str = "arbees_") -> None:
        self.prefix = prefix
        self._metrics: dict[str, _Metric] = {}

    def _add(self, metric: _Metric) -> None:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} registered twice")
        self._metrics[metric.name] = metric

    def counter(self, name: str, help: str, labels: Sequence[str] = ()) -> Counter:
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

    def render(self) -> str:
        lines: list[str] = []
        for metric in self._metrics.values():
            lines.append(f"# HELP {metric.name} {metric.help}")
            lines.append(f"# TYPE {metric.name} {metric.kind}")
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"


async def serve_metrics(
    registry: Registry,
    port: int,
    host: str = "0.0.0.0",
    *,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``GET /metrics`` until cancelled; ``started()`` reports the bound port."""

    async def handle(stream: trio.SocketStream) -> None:
        try:
            with trio.move_on_after(5):
                request = b""
                while b"\r\n\r\n" not in request and len(request) < 8192:
                    chunk = await stream.receive_some(4096)
                    if not chunk:
                        return
                    request += chunk
                line = request.split(b"\r\n", 1)[0].split()
                if len(line) >= 2 and line[0] == b"GET" and line[1].split(b"?")[0] == b"/metrics":
                    body = registry.render().encode()
                    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                else:
                    body = b"not found\n"
                    head = b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
                await stream.send_all(
                    head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
                )
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await stream.aclose()

    listeners = await trio.open_tcp_listeners(port, host=host)
    bound = listeners[0].socket.getsockname()[1]
    log.info("metrics on http://%s:%d/metrics", host, bound)
    task_status.started(bound)
    await trio.serve_listeners(handle, listeners)
