"""RESP (the Redis wire protocol), sans-io: an incremental reply parser and a command encoder.

Why our own: on the bus's hot paths (pipelined PUBLISH, pub/sub pushes) redis-py runs a
stream reader, a coroutine and a response hook per message, and under trio-asyncio every
asyncio wake-up is a whole Trio scheduling round. A plain parser fed straight from an
``asyncio.Protocol.data_received`` callback turns one socket read into one batch of
values with no wake-ups at all. It knows RESP2 (what a connection speaks unless it sends
``HELLO 3``) plus the RESP3 types a server might still push (``>`` push, ``_`` null,
``#`` boolean, ``,`` double, ``(`` big number, ``=`` verbatim string, ``%`` map, ``~`` set).

Everything here is pure and synchronous, so it is tested without sockets: any split of
the byte stream must parse to the same values.
"""

from __future__ import annotations

from typing import Final

__all__ = ["ProtocolError", "RespError", "RespParser", "encode_command"]

_CRLF: Final = b"\r\n"
_INCOMPLETE: Final = object()  # sentinel: the buffer ends inside a value
_MAX_BULK: Final = 512 * 1024 * 1024  # Redis' own proto-max-bulk-len default
_MAX_ITEMS: Final = 1 << 32


class ProtocolError(ValueError):
    """The byte stream is not RESP: the connection cannot be trusted any more."""


class RespError(str):
    """An error reply (``-ERR ...``), returned as a value so a pipeline's other replies
    stay usable. ``str(error)`` is the server's text."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"RespError({str(self)!r})"


class RespParser:
    """Feed bytes as they arrive; get back every complete top-level value.

    Values: bulk strings are ``bytes`` (``None`` for a null bulk), simple strings ``str``,
    integers ``int``, errors :class:`RespError`, arrays and pushes ``list`` (``None`` for a
    null array). Raises :class:`ProtocolError` on bytes that are not RESP.
    """

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def __len__(self) -> int:
        """Bytes buffered but not yet part of a complete value."""
        return len(self._buf)

    def feed(self, data: bytes | bytearray | memoryview) -> list[object]:
        buf = self._buf
        buf += data
        out: list[object] = []
        pos = 0
        end = len(buf)
        parse = self._parse
        while pos < end:
            value, new = parse(buf, pos)
            if value is _INCOMPLETE:
                break
            out.append(value)
            pos = new
        if pos:
            del buf[:pos]
        return out

    def _int(self, buf: bytearray, start: int, stop: int) -> int:
        try:
            return int(buf[start:stop])
        except ValueError:
            raise ProtocolError(f"bad RESP integer {bytes(buf[start:stop])[:40]!r}") from None

    def _parse(self, buf: bytearray, pos: int) -> tuple[object, int]:
        """One value starting at ``pos``: ``(value, next position)`` or ``(_INCOMPLETE, pos)``."""
        eol = buf.find(_CRLF, pos)
        if eol < 0:
            if len(buf) - pos > 65536:  # no header line is that long
                raise ProtocolError("RESP header line too long")
            return _INCOMPLETE, pos
        kind = buf[pos]
        after = eol + 2
        if kind == 36:  # $ bulk string
            n = self._int(buf, pos + 1, eol)
            if n < 0:
                return None, after
            if n > _MAX_BULK:
                raise ProtocolError(f"bulk string of {n} bytes")
            stop = after + n
            if len(buf) < stop + 2:
                return _INCOMPLETE, pos
            if buf[stop : stop + 2] != _CRLF:
                raise ProtocolError("bulk string not followed by CRLF")
            return bytes(buf[after:stop]), stop + 2
        if kind == 42 or kind == 62 or kind == 126:  # * array, > push, ~ set
            n = self._int(buf, pos + 1, eol)
            if n < 0:
                return None, after
            if n > _MAX_ITEMS:
                raise ProtocolError(f"array of {n} items")
            items: list[object] = []
            cursor = after
            for _ in range(n):
                value, cursor = self._parse(buf, cursor)
                if value is _INCOMPLETE:
                    return _INCOMPLETE, pos
                items.append(value)
            return items, cursor
        if kind == 58:  # : integer
            return self._int(buf, pos + 1, eol), after
        if kind == 43:  # + simple string
            return buf[pos + 1 : eol].decode(errors="replace"), after
        if kind == 45:  # - error
            return RespError(buf[pos + 1 : eol].decode(errors="replace")), after
        if kind == 95:  # _ null
            return None, after
        if kind == 35:  # # boolean
            return buf[pos + 1 : eol] == b"t", after
        if kind == 44:  # , double
            try:
                return float(buf[pos + 1 : eol]), after
            except ValueError:
                raise ProtocolError("bad RESP double") from None
        if kind == 40:  # ( big number
            return self._int(buf, pos + 1, eol), after
        if kind == 61 or kind == 33:  # = verbatim string, ! blob error
            n = self._int(buf, pos + 1, eol)
            stop = after + n
            if n < 0 or n > _MAX_BULK:
                raise ProtocolError(f"bad length {n}")
            if len(buf) < stop + 2:
                return _INCOMPLETE, pos
            raw = bytes(buf[after:stop])
            if kind == 33:
                return RespError(raw.decode(errors="replace")), stop + 2
            return raw[4:] if raw[3:4] == b":" else raw, stop + 2
        if kind == 37 or kind == 124:  # % map, | attribute: flattened key, value, ...
            n = self._int(buf, pos + 1, eol)
            if n < 0 or n > _MAX_ITEMS:
                raise ProtocolError(f"bad map size {n}")
            flat: list[object] = []
            cursor = after
            for _ in range(2 * n):
                value, cursor = self._parse(buf, cursor)
                if value is _INCOMPLETE:
                    return _INCOMPLETE, pos
                flat.append(value)
            if kind == 124:  # an attribute annotates the value that follows it
                value, cursor = self._parse(buf, cursor)
                return (_INCOMPLETE, pos) if value is _INCOMPLETE else (value, cursor)
            return dict(zip(flat[::2], flat[1::2], strict=True)), cursor
        raise ProtocolError(f"unknown RESP type byte {bytes([kind])!r}")


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
