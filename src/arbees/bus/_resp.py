"""RESP (the Redis wire protocol), sans-io: an incremental reply parser and a command encoder.

Why our own: on the bus's hot paths (pipelined PUBLISH, pub/sub pushes) redis-py runs a
stream reader, a coroutine and a response hook per message, and under trio-asyncio every
asyncio wake-up is a whole Trio scheduling round. A plain parser fed each read of a Trio
stream (:mod:`arbees.bus._trio_conn`) turns one socket read into one batch of values with
no wake-ups at all. It knows RESP2 (what a connection speaks unless it sends
``HELLO 3``) plus the RESP3 types a server might still push (``>`` push, ``_`` null,
``#`` boolean, ``,`` double, ``(`` big number, ``=`` verbatim string, ``%`` map, ``~`` set).

Everything here is pure and synchronous, so it is tested without sockets: any split of
the byte stream must parse to the same values, in time linear in the bytes, and bytes
that are not RESP (or break a limit: bulk length, elements per aggregate, nesting depth,
bytes per value) raise :class:`ProtocolError` and nothing else. The connection code then
drops and reconnects the connection.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "DEFAULT_MAX_BULK",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_ITEMS",
    "DEFAULT_MAX_VALUE",
    "ProtocolError",
    "RespError",
    "RespParser",
    "encode_command",
]

_CRLF: Final = b"\r\n"
_MAX_LINE: Final = 65_536  # no header or simple-string line is that long
DEFAULT_MAX_BULK: Final = 8 * 1024 * 1024
"""Largest bulk string accepted (Redis allows 512 MiB; a bus payload is far smaller)."""
DEFAULT_MAX_ITEMS: Final = 1_000_000
"""Most elements announced by one array, set, push or map (pairs count twice)."""
DEFAULT_MAX_DEPTH: Final = 32
"""Most aggregates nested in one value (pub/sub pushes and pipelined replies use 1-2)."""
DEFAULT_MAX_VALUE: Final = 64 * 1024 * 1024
"""Most wire bytes one top-level value may span (bounds the memory a reply can pin)."""

_AGGREGATES: Final = frozenset(b"*>~%|")
_INLINE: Final = 8
_LINE_VALUES: Final = frozenset(b":+-_#,(")


class ProtocolError(ValueError):
    """The byte stream is not RESP, or breaks a limit: the connection cannot be trusted.

    Attributes:
        values: the complete values parsed from the same read before the bad bytes (the
            caller may still use them; nothing valid is lost).
    """

    values: list[object]

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.values = []


class RespError(str):
    """An error reply (``-ERR ...``), returned as a value so a pipeline's other replies
    stay usable. ``str(error)`` is the server's text."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"RespError({str(self)!r})"


class _Aggregate:
    """An array, set, push, map or attribute still waiting for ``remaining`` elements."""

    __slots__ = ("items", "kind", "remaining")

    def __init__(self, kind: int, remaining: int) -> None:
        self.kind = kind
        self.remaining = remaining
        self.items: list[object] = []

    def build(self) -> object:
        items = self.items
        if self.kind == 37:  # % map
            keys = items[::2]
            if any(type(k) is list or type(k) is dict for k in keys):
                raise ProtocolError("RESP map with an aggregate as a key")
            return dict(zip(keys, items[1::2], strict=True))
        if self.kind == 124:  # | attribute: annotates the value that follows it
            return items[-1]
        return items


class RespParser:
    """Feed bytes as they arrive; get back every complete top-level value.

    Values: bulk strings are ``bytes`` (``None`` for a null bulk), simple strings ``str``,
    integers ``int``, errors :class:`RespError`, arrays and pushes ``list`` (``None`` for a
    null array). Raises :class:`ProtocolError` on bytes that are not RESP and on a value
    that breaks a limit; after that the parser (and its connection) must be dropped.

    The parser is resumable: a value split across reads keeps its finished elements on an
    explicit stack (no recursion, so nesting depth is a checked limit, not a crash) and
    the next read continues where the last one stopped, so the work is linear in the bytes
    received however they are split. ``steps`` (elements parsed) and ``scanned`` (bytes
    searched for line ends) count that work.

    Args:
        max_bulk: largest bulk/verbatim string or blob error, in bytes.
        max_items: most elements one aggregate may announce.
        max_depth: most aggregates nested inside one another.
        max_value: most bytes one top-level value may span on the wire.
    """

    __slots__ = (
        "_buf",
        "_partial",
        "_scan",
        "_stack",
        "max_bulk",
        "max_depth",
        "max_items",
        "max_value",
        "scanned",
        "steps",
    )

    def __init__(
        self,
        *,
        max_bulk: int = DEFAULT_MAX_BULK,
        max_items: int = DEFAULT_MAX_ITEMS,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_value: int = DEFAULT_MAX_VALUE,
    ) -> None:
        self._buf = bytearray()
        self._stack: list[_Aggregate] = []
        self._partial = 0  # bytes already consumed by the unfinished top-level value
        self._scan = 0  # where to resume looking for the end of an unfinished line
        self.max_bulk = max_bulk
        self.max_items = max_items
        self.max_depth = max_depth
        self.max_value = max_value
        self.steps = 0
        self.scanned = 0

    def __len__(self) -> int:
        """Bytes received but not yet part of a complete value."""
        return self._partial + len(self._buf)

    def feed(self, data: bytes | bytearray | memoryview) -> list[object]:
        """Add received bytes; return the top-level values they completed, in order."""
        buf = self._buf
        buf += data
        out: list[object] = []
        try:
            pos = self._run(buf, out)
            if self._partial + len(buf) - pos > self.max_value:
                raise ProtocolError(f"RESP value larger than {self.max_value} bytes")
        except ProtocolError as exc:
            exc.values = out
            raise
        if pos:
            del buf[:pos]
            if self._scan:
                self._scan -= pos
        return out

    def _run(self, buf: bytearray, out: list[object]) -> int:
        """Parse from the start of ``buf``; return how many bytes were consumed."""
        stack = self._stack
        end = len(buf)
        pos = 0
        top = 0 if stack else -1  # where the unfinished top-level value began in buf
        scan = self._scan
        steps = scanned = 0
        find = buf.find
        max_bulk = self.max_bulk
        try:
            while pos < end:
                start = scan if scan > pos else pos
                eol = find(_CRLF, start)
                if eol < 0:
                    scanned += end - start
                    if end - pos > _MAX_LINE:
                        raise ProtocolError("RESP line too long")
                    scan = end - 1  # a CR may be waiting for its LF
                    break
                scanned += eol - start
                scan = 0
                kind = buf[pos]
                after = eol + 2
                value: object
                if kind == 36:  # $ bulk string: the hot path
                    try:
                        n = int(buf[pos + 1 : eol])
                    except ValueError:
                        n = _int(buf, pos + 1, eol)  # raises the ProtocolError
                    if n < 0:
                        value = None
                        pos = after
                    else:
                        if n > max_bulk:
                            raise ProtocolError(f"bulk string of {n} bytes")
                        stop = after + n
                        if end < stop + 2:
                            break  # parsed again once the rest has arrived
                        if buf[stop : stop + 2] != _CRLF:
                            raise ProtocolError("bulk string not followed by CRLF")
                        value = bytes(buf[after:stop])
                        pos = stop + 2
                elif kind in _AGGREGATES:
                    n = _int(buf, pos + 1, eol)
                    short = None
                    if (kind == 42 or kind == 62) and 0 < n <= _INLINE:
                        # a short array of complete bulk strings (every pub/sub push) is
                        # built in place; anything else goes through the stack
                        short = _bulks(buf, after, end, n, max_bulk)
                    if short is not None:
                        value, pos = short
                        steps += n
                    elif n < 0:
                        if kind == 37 or kind == 124:
                            raise ProtocolError(f"bad map size {n}")
                        value = None
                        pos = after
                    else:
                        if n > self.max_items:
                            raise ProtocolError(f"aggregate of {n} elements")
                        if kind == 37 or kind == 124:  # map, attribute: key, value, ...
                            n = 2 * n + (kind == 124)  # an attribute then annotates a value
                        if n:
                            if len(stack) >= self.max_depth:
                                raise ProtocolError(f"RESP nested deeper than {self.max_depth}")
                            if not stack:
                                top = pos
                            stack.append(_Aggregate(kind, n))
                            pos = after
                            steps += 1
                            continue
                        value = {} if kind == 37 else []
                        pos = after
                elif eol - pos > _MAX_LINE:
                    raise ProtocolError("RESP line too long")
                elif kind in _LINE_VALUES:
                    value = _line_value(kind, buf, pos + 1, eol)
                    pos = after
                elif kind == 61 or kind == 33:  # = verbatim string, ! blob error
                    n = _int(buf, pos + 1, eol)
                    if n < 0 or n > max_bulk:
                        raise ProtocolError(f"bad length {n}")
                    stop = after + n
                    if end < stop + 2:
                        break
                    raw = bytes(buf[after:stop])
                    pos = stop + 2
                    if kind == 33:
                        value = RespError(raw.decode(errors="replace"))
                    else:
                        value = raw[4:] if raw[3:4] == b":" else raw
                else:
                    raise ProtocolError(f"unknown RESP type byte {bytes([kind])!r}")
                steps += 1
                # hand the value to its aggregate, closing every aggregate it completes
                while stack:
                    agg = stack[-1]
                    agg.items.append(value)
                    agg.remaining -= 1
                    if agg.remaining:
                        break
                    stack.pop()
                    value = agg.build()
                else:
                    out.append(value)
                    self._partial = 0
                    top = -1
        finally:
            self._scan = scan
            self.steps += steps
            self.scanned += scanned
        if stack:
            self._partial += pos - top
        return pos


def _int(buf: bytearray, start: int, stop: int) -> int:
    try:
        return int(buf[start:stop])
    except ValueError:
        raise ProtocolError(f"bad RESP integer {bytes(buf[start:stop])[:40]!r}") from None


def _bulks(
    buf: bytearray, pos: int, end: int, n: int, max_bulk: int
) -> tuple[list[object], int] | None:
    """``n`` complete bulk strings from ``pos``, or None (anything else: use the stack)."""
    items: list[object] = []
    find = buf.find
    for _ in range(n):
        if pos >= end or buf[pos] != 36:
            return None
        eol = find(_CRLF, pos, pos + 24)
        if eol < 0:
            return None
        try:
            size = int(buf[pos + 1 : eol])
        except ValueError:
            return None
        stop = eol + 2 + size
        if not 0 <= size <= max_bulk or end < stop + 2 or buf[stop : stop + 2] != _CRLF:
            return None
        items.append(bytes(buf[eol + 2 : stop]))
        pos = stop + 2
    return items, pos


def _line_value(kind: int, buf: bytearray, start: int, stop: int) -> object:
    """The value of a one-line type (integer, simple string, error, null, ...)."""
    if kind == 58 or kind == 40:  # : integer, ( big number
        return _int(buf, start, stop)
    if kind == 43:  # + simple string
        return buf[start:stop].decode(errors="replace")
    if kind == 45:  # - error
        return RespError(buf[start:stop].decode(errors="replace"))
    if kind == 95:  # _ null
        return None
    if kind == 35:  # # boolean
        return buf[start:stop] == b"t"
    try:  # , double
        return float(buf[start:stop])
    except ValueError:
        raise ProtocolError("bad RESP double") from None


def _arg(value: bytes | str | int) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, int):
        return str(value).encode()
    raise TypeError(f"a RESP argument must be bytes, str or int, not {type(value).__name__}")


def encode_command(*args: bytes | str | int) -> bytes:
    """One command as a RESP array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for value in args:
        raw = _arg(value)
        parts.append(b"$%d\r\n" % len(raw))
        parts.append(raw)
        parts.append(_CRLF)
    return b"".join(parts)
