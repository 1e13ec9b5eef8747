"""Service processes for the end-to-end benchmarks: start, watch, measure, always stop.

Why a module of its own: ``arbees bench e2e`` and ``arbees bench soak`` run the monitor and
the shard as SEPARATE OS PROCESSES (``python -m arbees monitor|shard``), exactly as they are
deployed, and a benchmark that leaves a process behind on Ctrl-C or on a failure is worse
than no benchmark. :class:`ServiceGroup` owns every process it starts (each in its own
session, so a terminal's Ctrl-C reaches only the bench, which then stops them in order:
SIGINT, a grace period, SIGKILL), and it is a context manager so ``finally`` always runs.

CPU and memory come from ``/proc`` (psutil is not a dependency): the scheduler's own
on-CPU time of each of the process's threads (``/proc/<pid>/task/*/schedstat``, in ns;
``utime + stime`` of ``/proc/<pid>/stat``, in clock ticks of 10 ms, where that file is
missing) and ``VmRSS`` / ``VmHWM`` of ``/proc/<pid>/status``. Ticks made a short phase of a
light process read 0.0 s (the relay floor's 100 updates in one second cost about 4 ms).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType, TracebackType

import attrs

__all__ = [
    "ProcSample",
    "ServiceGroup",
    "ServiceProc",
    "interrupted",
    "machine_busy",
    "proc_sample",
    "service_env",
    "stop_on_sigterm",
]

_TICKS = os.sysconf("SC_CLK_TCK")


@attrs.frozen
class ProcSample:
    """One look at a process.

    Attributes:
        cpu_s: user + system CPU seconds used so far.
        rss_kb: current resident set size (``VmRSS``), KiB.
        hwm_kb: peak resident set size (``VmHWM``), KiB.
        at: ``time.monotonic()`` of the sample.
    """

    cpu_s: float
    rss_kb: int
    hwm_kb: int
    at: float


def proc_sample(pid: int) -> ProcSample | None:
    """CPU and memory of ``pid`` from ``/proc`` (``None`` when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    cpu = _scheduled_s(pid)
    if cpu is None:
        # the command name (field 2) may contain spaces: split after its closing parenthesis
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14, 15)
    mem = {}
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            mem[key] = int(value.split()[0])
    return ProcSample(cpu, mem.get("VmRSS", 0), mem.get("VmHWM", 0), time.monotonic())


def _scheduled_s(pid: int) -> float | None:
    """Seconds ``pid``'s live threads have run on a CPU (``None``: not available here)."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(FileNotFoundError):  # a thread that just ended
                total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e9


def machine_busy() -> tuple[float, float]:
    """``(busy, total)`` CPU seconds of the whole machine so far (``/proc/stat``), to tell
    how loaded the box was during a phase (other programs included)."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return (0.0, 0.0)
    ticks = [int(x) for x in first[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return ((sum(ticks) - idle) / _TICKS, sum(ticks) / _TICKS)


@attrs.define
class ServiceProc:
    """A started service.

    Attributes:
        name: label in reports (``monitor``, ``shard``).
        proc: the process.
        log_path: where its stdout/stderr go.
        expected_exit: set once the bench asked it to stop (its exit is not a crash).
    """

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    expected_exit: bool = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def crashed(self) -> bool:
        """It exited without being asked to."""
        return not self.expected_exit and self.proc.poll() is not None

    def sample(self) -> ProcSample | None:
        return proc_sample(self.proc.pid)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class ServiceGroup:
    """Starts ``python -m arbees <command>`` processes and stops every one of them on exit.

    Args:
        log_dir: where each process's output goes (a fresh temporary directory by default).
        grace: seconds a process gets after SIGINT before SIGKILL.
    """

    def __init__(self, log_dir: Path | None = None, *, grace: float = 5.0) -> None:
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="arbees-bench-"))
        self.grace = grace
        self.procs: list[ServiceProc] = []

    def start(
        self, name: str, argv: list[str], env: dict[str, str], *, module: str = "arbees"
    ) -> ServiceProc:
        """Start ``python -m MODULE *argv`` (``arbees`` by default) in its own session."""
        log_path = self.log_dir / f"{name}-{len(self.procs)}.log"
        with log_path.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", module, *argv],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        service = ServiceProc(name, proc, log_path)
        self.procs.append(service)
        return service

    def stop(self, service: ServiceProc) -> int | None:
        """SIGINT, wait ``grace``, then SIGKILL; returns the exit status."""
        service.expected_exit = True
        proc = service.proc
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=self.grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            except ProcessLookupError:  # pragma: no cover - raced with its exit
                pass
        return proc.returncode

    def stop_all(self) -> None:
        for service in reversed(self.procs):
            self.stop(service)

    def crashed(self) -> list[ServiceProc]:
        return [p for p in self.procs if p.crashed()]

    def __enter__(self) -> ServiceGroup:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()


def service_env(**extra: str) -> dict[str, str]:
    """The environment for a service: ours without any venue/bus secret, plus ``extra``."""
    drop = ("REDIS_URL", "REDIS_PASSWORD", "KALSHI_", "EGRESS_", "POLYMARKET_", "PAPER")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    # The load's fake Polymarket numbers its frames with a counter in `timestamp` (each
    # toggle's id): not a send time, so the shard ages only Kalshi's quotes by theirs.
    env["SHARD_VENUE_SEND_TIMES"] = "kalshi"
    env.update(extra)
    return env


@contextlib.contextmanager
def stop_on_sigterm(*cleanups: Callable[[], None]) -> Iterator[None]:
    """While inside, SIGTERM (``kill``, ``timeout``) runs ``cleanups`` and exits 143.

    Ctrl-C (SIGINT) unwinds through the ``with`` blocks and their ``__exit__`` already;
    SIGTERM would kill the bench at once and leave its services running in their own
    sessions, so it stops them first.
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        for cleanup in cleanups:
            with contextlib.suppress(Exception):
                cleanup()
        os._exit(128 + signum)

    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread; its caller handles SIGTERM
        return
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is Ctrl-C, however Trio wrapped it (a bench handler then exits 130
    quietly, its ``with`` blocks having stopped every process already)."""
    if isinstance(exc, KeyboardInterrupt):
        return True
    if isinstance(exc, BaseExceptionGroup):
        _, rest = exc.split(KeyboardInterrupt)
        return rest is None
    return False
