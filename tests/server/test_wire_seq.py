"""server/wire.py for agents: the `observe` message and `seq` spliced into shared frames."""

from __future__ import annotations

import json
from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from server import wire


def test_observe_parses_with_and_without_an_id() -> None:
    assert wire.parse_message({"type": "observe"}) == wire.Observe()
    assert wire.parse_message({"type": "observe", "id": "o1"}) == wire.Observe(id="o1")
    with pytest.raises(wire.WireError) as err:
        wire.parse_message({"type": "observe", "id": 1.5})
    assert err.value.code == "bad_field"


@pytest.mark.parametrize("size", [0, 1, 4, 14, 15, 16, 300, 70000])
@pytest.mark.parametrize("seq", [0, 1, 127, 128, 65535, 65536, 2**32 - 1, 2**32, 2**40])
def test_with_seq_adds_the_key_at_the_end_in_both_codecs(size: int, seq: int) -> None:
    msg: dict[str, Any] = {f"k{i}": i for i in range(size)}
    packed = wire.with_seq(wire.encode_msgpack(msg), seq)
    assert isinstance(packed, bytes)
    assert msgpack.unpackb(packed, raw=False) == {**msg, "seq": seq}
    text = wire.with_seq(wire.encode_json(msg), seq)
    assert isinstance(text, str)
    assert json.loads(text) == {**msg, "seq": seq}
    assert list(json.loads(text))[-1] == "seq"


VALUES = st.one_of(st.integers(-2**63, 2**63 - 1), st.text(max_size=20), st.booleans(),
                   st.none(), st.lists(st.integers(0, 1000), max_size=3))


@given(st.dictionaries(st.text(max_size=8).filter(lambda k: k != "seq"), VALUES, max_size=40),
       st.integers(min_value=0, max_value=2**63))
def test_with_seq_is_the_same_as_encoding_with_seq(msg: dict[str, Any], seq: int) -> None:
    for encoded, decode in ((wire.encode_msgpack(msg), lambda b: msgpack.unpackb(b, raw=False)),
                            (wire.encode_json(msg), json.loads)):
        assert decode(wire.with_seq(encoded, seq)) == {**msg, "seq": seq}
