"""A private ``redis-server`` on a free loopback port, started and stopped by pid."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from types import TracebackType

__all__ = ["RedisServer", "RedisUnavailable", "free_port"]


class RedisUnavailable(RuntimeError):
    """No ``redis-server`` binary on PATH."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _PortTaken(Exception):
    """redis-server exited because another process holds its port."""


class RedisServer:
    """A throw-away redis-server bound to 127.0.0.1 with persistence off.

    ``password`` (optional) sets ``requirepass``. ``stop()`` kills the process (SIGKILL by
    default, to play a crash); ``start()`` again reuses the same port, so clients can be
    tested for reconnection.
    """

    def __init__(self, port: int | None = None, *, password: str | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisUnavailable("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self._own_port = port is None
        self.port = port or free_port()
        self.password = password
        self._dir = tempfile.mkdtemp(prefix="arbees-redis-")
        self._first_start = True
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self, timeout: float = 10.0) -> None:
        """Start and wait until it answers. A port this object chose itself may have been
        taken by another process in between (concurrent test runs): then a new one is
        chosen, a few times; a port given by the caller, or the one a restart reuses, is
        never changed."""
        for _attempt in range(4):
            try:
                self._start(timeout)
                return
            except _PortTaken:
                if not (self._own_port and self._first_start):
                    raise RuntimeError(f"redis-server could not bind port {self.port}") from None
                self.port = free_port()
        raise RuntimeError("redis-server found no free port")

    def _start(self, timeout: float) -> None:
        args = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", self._dir,
            "--daemonize", "no", "--loglevel", "warning",
        ]  # fmt: skip
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                if self._port_in_use():
                    raise _PortTaken
                raise RuntimeError(f"redis-server exited with {code}")
            if self._ping():
                self._first_start = False
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def _port_in_use(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", self.port))
            except OSError:
                return True
            return False

    def _ping(self) -> bool:
        """True once OUR process answers on the port (its ``INFO server`` names our pid):
        another process's server on a port we lost must never pass for ours."""
        assert self.proc is not None
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                cmd = b"INFO server\r\n"
                if self.password:
                    cmd = b"AUTH %s\r\n" % self.password.encode() + cmd
                s.sendall(cmd)
                data = b""
                while b"process_id:" not in data or not data.endswith(b"\r\n\r\n"):
                    chunk = s.recv(65536)
                    if not chunk or len(data) > 1 << 20:
                        break
                    data += chunk
                return f"process_id:{self.proc.pid}\r\n".encode() in data
        except OSError:
            return False

    def stop(self, *, graceful: bool = False) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            if graceful:
                self.proc.terminate()
            else:
                self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop(graceful=True)
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        pw = "***" if self.password else None
        return f"RedisServer(port={self.port}, pid={self.pid}, password={pw})"


def in_ci() -> bool:
    return bool(os.environ.get("CI"))
