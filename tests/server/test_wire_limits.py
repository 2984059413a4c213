"""The codecs' and the parser's bounds: nesting, declared lengths, what an `id` may be."""

from __future__ import annotations

import tracemalloc
from typing import Any

import msgpack
import pytest

from server import wire
from server.wire import WireError


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def test_json_nesting_is_bounded_at_max_depth() -> None:
    n = wire.MAX_DEPTH
    assert wire.decode_json("[" * n + "1" + "]" * n) == _nested(n)
    for text in ("[" * (n + 1) + "]" * (n + 1), '{"a":' * (n + 1) + "1" + "}" * (n + 1),
                 "[" * 100_000):
        with pytest.raises(WireError) as err:
            wire.decode_json(text)
        assert err.value.code == "bad_json" and "nested deeper" in err.value.message


def test_brackets_inside_json_strings_do_not_count() -> None:
    text = '{"type":"command","line":"say ' + "[{" * 100 + '\\"]"}'
    assert wire.decode_json(text)["line"].startswith("say [{[{")


def test_msgpack_nesting_is_bounded_at_max_depth() -> None:
    n = wire.MAX_DEPTH
    assert wire.decode_msgpack(msgpack.packb(_nested(n))) == _nested(n)
    deep = [msgpack.packb(_nested(n + 1)), msgpack.packb({"a": _nested(n)}),
            b"\x91" * 4000 + b"\xc0", b"\x81\xa4type" + b"\x91" * 1000 + b"\xc0"]
    for data in deep:
        with pytest.raises(WireError) as err:
            wire.decode_msgpack(data)
        assert err.value.code == "bad_msgpack"


@pytest.mark.parametrize("data", [
    b"\xdf\xff\xff\xff\xff",  # a map claiming 2**32 entries
    b"\xdd\xff\xff\xff\xff" + b"\xc0" * 64,  # an array claiming 2**32 items
    b"\xdb\xff\xff\xff\xff" + b"a" * 64,  # a str claiming 4 GB
    b"\xc6\xff\xff\xff\xff" + b"a" * 64,  # a bin claiming 4 GB
    b"\xc9\xff\xff\xff\xff\x05" + b"a" * 64,  # an ext claiming 4 GB
    b"\x81\xa4type\xdb\x7f\xff\xff\xff",  # a str of 2 GB as a value
], ids=["map", "array", "str", "bin", "ext", "str-value"])
def test_msgpack_declared_lengths_allocate_nothing_beyond_the_frame(data: bytes) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(WireError) as err:
            wire.decode_msgpack(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.value.code == "bad_msgpack"
    assert peak < 256 * 1024  # bytes; the frames are tiny and nothing big was made


@pytest.mark.parametrize(("value", "why"), [
    (b"raw", "bytes values"),
    (b"", "bytes values"),  # empty: past msgpack's own length limit, found by its marks
    (msgpack.ExtType(3, b"x"), "ExtType values"),
    (msgpack.ExtType(3, b""), "ExtType values"),
    (msgpack.Timestamp(1, 0), "Timestamp values"),
])
def test_msgpack_outside_the_json_model_is_refused(value: Any, why: str) -> None:
    with pytest.raises(WireError, match=why):
        wire.decode_msgpack(msgpack.packb({"type": "ping", "x": [value]}, use_bin_type=True))
    with pytest.raises(WireError, match="map keys must be strings"):
        wire.decode_msgpack(msgpack.packb({"type": "ping", b"k": 1}, use_bin_type=True))


def test_msgpack_text_full_of_bin_and_ext_type_bytes_is_plain() -> None:
    """UTF-8 text and numbers hold the bin and ext type bytes too (Ą is C4 84, 200 is
    CC C8): a frame full of them is looked at, not refused."""
    value = {"type": "say", "text": "ĄĆĘ" * 200, "n": [196, 197, 198, 199, 200, 201] * 50}
    assert wire.decode_msgpack(msgpack.packb(value)) == value


def test_msgpack_empty_bin_behind_many_type_bytes_is_refused() -> None:
    """However many bin/ext type bytes text and numbers put before it, an empty bin (the
    one kind msgpack's own limits let through) is found and refused."""
    value = {"type": "say", "text": "ĄĆĘ" * 500, "n": [196, 197, 198, 199, 200] * 100,
             "x": [b""]}
    with pytest.raises(WireError, match="bytes values"):
        wire.decode_msgpack(msgpack.packb(value, use_bin_type=True))


@pytest.mark.parametrize("text", ['"\\ud800"', '{"a":"\\udc00"}', "NaN", "[Infinity]",
                                  "1e400", '"\\ud83d"'])
def test_json_that_cannot_be_sent_back_is_refused(text: str) -> None:
    with pytest.raises(WireError) as err:
        wire.decode_json(text)
    assert err.value.code == "bad_json"
    assert wire.decode_json('"\\ud83d\\ude00"') == "\U0001f600"  # a proper pair is fine


@pytest.mark.parametrize("good", [0, -1, 2**63 - 1, -(2**63), "", "x" * 64, "é" * 64])
def test_ids_that_can_be_sent_back(good: Any) -> None:
    assert wire.parse_message({"type": "ping", "id": good}).id == good


@pytest.mark.parametrize("bad", [2**63, -(2**63) - 1, 2**64, 10**100, 1.0, float("nan"), True,
                                 False, [1], {"a": 1}, b"id", "x" * 65, "\ud800"], ids=repr)
def test_ids_that_cannot_be_sent_back_are_refused(bad: Any) -> None:
    with pytest.raises(WireError) as err:
        wire.parse_message({"type": "command", "line": "say hi", "id": bad})
    assert err.value.code == "bad_field" and err.value.id is None


def test_unknown_type_names_only_strings() -> None:
    with pytest.raises(WireError, match=r"unknown message type \(list\)") as err:
        wire.parse_message({"type": _nested(30), "id": 1})
    assert err.value.code == "unknown_type" and err.value.id == 1
    with pytest.raises(WireError, match="unknown message type 'xxxx"):
        wire.parse_message({"type": "x" * 1000})
