"""The sans-io RESP parser: any split parses to the same values, in linear time; hostile
bytes raise ProtocolError and nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbees.bus._resp import (
    DEFAULT_MAX_BULK,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_ITEMS,
    ProtocolError,
    RespError,
    RespParser,
    encode_command,
)
from arbees.bus._trio_publish import _hset, _publish

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


# -- hostile streams: limits, depth, linear time -------------------------------------------


def _feed_in_chunks(parser: RespParser, raw: bytes, size: int) -> list[object]:
    out: list[object] = []
    for i in range(0, len(raw), size):
        out.extend(parser.feed(raw[i : i + size]))
    return out


def _big_array(n: int) -> bytes:
    return b"*%d\r\n" % n + b"".join(b"$10\r\n%010d\r\n" % i for i in range(n))


@pytest.mark.parametrize("n", [20_000, 40_000])
def test_a_large_array_in_small_pieces_is_parsed_once(n: int) -> None:
    # The old parser re-parsed the whole array from its start on every read: quadratic
    # (20k items in 1.4 KB reads cost seconds of CPU). Each element is parsed exactly
    # once now, and no byte is searched twice for a line end (a CR split from its LF
    # costs one extra byte).
    raw = _big_array(n)
    parser = RespParser()
    [value] = _feed_in_chunks(parser, raw, 1400)
    assert value == [b"%010d" % i for i in range(n)]
    assert parser.steps == n + 1
    assert parser.scanned <= len(raw)
    assert len(parser) == 0


def test_work_is_linear_in_the_size_of_a_split_array() -> None:
    work = []
    for n in (20_000, 40_000):
        parser = RespParser()
        _feed_in_chunks(parser, _big_array(n), 1400)
        work.append(parser.steps + parser.scanned)
    assert work[1] <= 2.1 * work[0]


def test_a_long_bulk_string_byte_by_byte_is_linear() -> None:
    payload = b"y" * 20_000
    raw = b"$%d\r\n%b\r\n" % (len(payload), payload)
    parser = RespParser()
    got = _feed_in_chunks(parser, raw, 1)
    assert got == [payload]
    # only the short header is looked at again on each read, never the body
    assert parser.scanned <= len(raw) + 8 * len(raw)
    assert parser.steps == 1


def test_a_long_simple_string_byte_by_byte_scans_each_byte_once() -> None:
    raw = b"+" + b"z" * 30_000 + b"\r\n"
    parser = RespParser()
    assert _feed_in_chunks(parser, raw, 7) == ["z" * 30_000]
    reads = -(-len(raw) // 7)
    assert parser.scanned <= len(raw) + reads  # a possible lone CR is looked at again


def _nested(depth: int, tag: bytes = b"*") -> bytes:
    return (tag + b"1\r\n") * depth + b":1\r\n"


@pytest.mark.parametrize("tag", [b"*", b">", b"~", b"%", b"|"])
def test_deep_nesting_is_a_protocol_error_not_a_recursion_error(tag: bytes) -> None:
    raw = _nested(5000, tag)
    with pytest.raises(ProtocolError, match="deeper"):
        RespParser().feed(raw)
    with pytest.raises(ProtocolError, match="deeper"):
        _feed_in_chunks(RespParser(), raw, 3)


def test_nesting_up_to_the_limit_parses() -> None:
    value: object = 1
    for _ in range(DEFAULT_MAX_DEPTH):
        value = [value]
    assert RespParser().feed(_nested(DEFAULT_MAX_DEPTH)) == [value]
    with pytest.raises(ProtocolError):
        RespParser().feed(_nested(DEFAULT_MAX_DEPTH + 1))
    assert RespParser(max_depth=3).feed(_nested(3)) == [[[[1]]]]
    with pytest.raises(ProtocolError):
        RespParser(max_depth=3).feed(_nested(4))


def test_size_limits_are_protocol_errors_and_configurable() -> None:
    with pytest.raises(ProtocolError, match="bulk"):
        RespParser().feed(b"$%d\r\n" % (DEFAULT_MAX_BULK + 1))
    assert RespParser().feed(b"$3\r\nabc\r\n") == [b"abc"]
    with pytest.raises(ProtocolError, match="bulk"):
        RespParser(max_bulk=2).feed(b"$3\r\nabc\r\n")
    with pytest.raises(ProtocolError, match="elements"):
        RespParser().feed(b"*%d\r\n" % (DEFAULT_MAX_ITEMS + 1))
    with pytest.raises(ProtocolError, match="elements"):
        RespParser(max_items=2).feed(b"*3\r\n:1\r\n:2\r\n:3\r\n")
    with pytest.raises(ProtocolError, match="elements"):
        RespParser(max_items=2).feed(b"%3\r\n")
    assert RespParser(max_items=3).feed(b"*3\r\n:1\r\n:2\r\n:3\r\n") == [[1, 2, 3]]


def test_a_value_spanning_too_many_bytes_is_refused_while_it_arrives() -> None:
    parser = RespParser(max_value=10_000)
    raw = _big_array(2000)  # ~34 KB, every element small
    with pytest.raises(ProtocolError, match="larger"):
        _feed_in_chunks(parser, raw, 1000)
    # complete values of any total size are fine: the limit is per value
    parser = RespParser(max_value=100)
    assert len(parser.feed(b":1\r\n" * 1000)) == 1000
    assert len(_feed_in_chunks(parser, b"$10\r\n0123456789\r\n" * 100, 33)) == 100


@pytest.mark.parametrize(
    "raw",
    [
        b"%1\r\n*0\r\n:1\r\n",  # an aggregate as a map key
        b"%1\r\n%0\r\n:1\r\n",
        b"$" + b"9" * 5000 + b"\r\n",  # past Python's int-string limit
        b":" + b"9" * 5000 + b"\r\n",
        b"=-1\r\n",
        b"%-1\r\n",
        b",nope\r\n",
        b"+" + b"a" * 70_000 + b"\r\n",
    ],
)
def test_more_garbage_is_a_protocol_error(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        RespParser().feed(raw)
    with pytest.raises(ProtocolError):
        _feed_in_chunks(RespParser(), raw, 2)


hostile_streams = st.one_of(
    st.binary(max_size=200),
    st.lists(
        st.sampled_from(
            [b"*", b">", b"%", b"|", b"~", b"$", b":", b"+", b"-", b"_", b"#", b",", b"(", b"="]
        )
        | st.sampled_from([b"\r\n", b"1", b"-1", b"3", b"99", b"abc", b"\r", b"\n", b"0"]),
        max_size=60,
    ).map(b"".join),
)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(values, min_size=1, max_size=4),
    hostile_streams,
    st.integers(1, 64),
)
def test_hostile_bytes_raise_only_protocol_errors_after_the_valid_values(
    stream: list[tuple[object, bytes]], garbage: bytes, chunk: int
) -> None:
    # Valid values first, then anything: the valid ones come out intact, and the rest
    # either parses, waits for more bytes, or raises ProtocolError -- nothing else.
    expected = [v for v, _ in stream]
    raw = b"".join(r for _, r in stream)
    parser = RespParser(max_depth=8, max_items=1000, max_bulk=1000, max_value=100_000)
    got: list[object] = []
    try:
        for i in range(0, len(raw + garbage), chunk):
            got.extend(parser.feed((raw + garbage)[i : i + chunk]))
    except ProtocolError as exc:
        got.extend(exc.values)  # parsed from the same read before the bad bytes
    assert got[: len(expected)] == expected


def test_values_before_the_bad_bytes_of_a_read_travel_with_the_error() -> None:
    with pytest.raises(ProtocolError) as caught:
        RespParser().feed(b":1\r\n$2\r\nok\r\n?bad\r\n")
    assert caught.value.values == [1, b"ok"]


@given(
    key=st.text(max_size=40),
    field=st.text(max_size=40),
    channel=st.text(max_size=40),
    payload=st.binary(max_size=300),
)
def test_the_publishers_own_encoders_write_what_encode_command_writes(
    key: str, field: str, channel: str, payload: bytes
) -> None:
    assert _hset(key, field, payload) == encode_command(b"HSET", key, field, payload)
    assert _publish(channel, payload) == encode_command(b"PUBLISH", channel, payload)
