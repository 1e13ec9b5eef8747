"""The sans-io RESP parser: any split of the byte stream parses to the same values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbees.bus._resp import ProtocolError, RespError, RespParser, encode_command

# A RESP value and its bytes, built together (RESP2 types plus RESP3 pushes and nulls).
scalars = st.one_of(
    st.binary(max_size=40).map(lambda b: (b, b"$%d\r\n%b\r\n" % (len(b), b))),
    st.just((None, b"$-1\r\n")),
    st.just((None, b"_\r\n")),
    st.integers(-(2**63), 2**63).map(lambda i: (i, b":%d\r\n" % i)),
    st.text("abcXYZ 019-_", max_size=20).map(lambda t: (t, b"+%b\r\n" % t.encode())),
    st.text("abcXYZ 019_", max_size=20).map(
        lambda t: (RespError("ERR " + t), b"-ERR %b\r\n" % t.encode())
    ),
)


def _array(items: list[tuple[object, bytes]], tag: bytes) -> tuple[object, bytes]:
    head = b"%b%d\r\n" % (tag, len(items))
    return [v for v, _ in items], head + b"".join(raw for _, raw in items)


values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5).map(lambda xs: _array(xs, b"*")),
        st.lists(inner, max_size=5).map(lambda xs: _array(xs, b">")),
    ),
    max_leaves=20,
)


def _pubsub_message(channel: bytes, payload: bytes) -> bytes:
    return b"*3\r\n$7\r\nmessage\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (
        len(channel),
        channel,
        len(payload),
        payload,
    )


@given(st.lists(values, min_size=1, max_size=8), st.data())
def test_any_split_parses_identically(
    stream: list[tuple[object, bytes]], data: st.DataObject
) -> None:
    expected = [v for v, _ in stream]
    raw = b"".join(r for _, r in stream)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=10)))
    parser = RespParser()
    got: list[object] = []
    start = 0
    for cut in [*cuts, len(raw)]:
        got.extend(parser.feed(raw[start:cut]))
        start = cut
    assert got == expected
    assert len(parser) == 0
    assert RespParser().feed(raw) == expected


@given(st.lists(st.tuples(st.binary(max_size=30), st.binary(max_size=300)), max_size=10))
def test_byte_by_byte_pubsub_pushes(messages: list[tuple[bytes, bytes]]) -> None:
    raw = b"".join(_pubsub_message(c, p) for c, p in messages)
    parser = RespParser()
    got: list[object] = []
    for i in range(len(raw)):
        got.extend(parser.feed(raw[i : i + 1]))
    assert got == [[b"message", c, p] for c, p in messages]


@given(st.lists(st.one_of(st.binary(max_size=20), st.text(max_size=10), st.integers()), max_size=6))
def test_encoded_commands_parse_back(args: list[bytes | str | int]) -> None:
    expected = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    expected = [a.encode() if isinstance(a, str) else a for a in expected]
    assert RespParser().feed(encode_command(*args)) == [expected]


def test_resp3_types() -> None:
    raw = b"#t\r\n#f\r\n,1.5\r\n(12345678901234567890\r\n=7\r\ntxt:abc\r\n"
    raw += b"%1\r\n+k\r\n:1\r\n~1\r\n:2\r\n"
    raw += b"|1\r\n+ttl\r\n:3\r\n:42\r\n!5\r\nERR x\r\n"
    assert RespParser().feed(raw) == [
        True,
        False,
        1.5,
        12345678901234567890,
        b"abc",
        {"k": 1},
        [2],
        42,
        RespError("ERR x"),
    ]


def test_null_array_and_empty_values() -> None:
    assert RespParser().feed(b"*-1\r\n*0\r\n$0\r\n\r\n+\r\n") == [None, [], b"", ""]


@pytest.mark.parametrize(
    "raw",
    [
        b"?what\r\n",
        b":12x\r\n",
        b"$3\r\nabcd\r\n",  # bulk longer than announced
        b"$99999999999\r\n",
        b"*x\r\n",
        b"x" * 70_000,  # no line end in sight
    ],
)
def test_garbage_is_a_protocol_error(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        RespParser().feed(raw)


def test_error_reply_is_a_value() -> None:
    [error] = RespParser().feed(b"-WRONGTYPE Operation against a key\r\n")
    assert isinstance(error, RespError)
    assert str(error).startswith("WRONGTYPE")
    assert "WRONGTYPE" in repr(error)


def test_bad_argument_type() -> None:
    with pytest.raises(TypeError):
        encode_command("SET", 1.5)  # type: ignore[arg-type]
