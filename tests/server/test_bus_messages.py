"""The bus's messages (server/bus/messages.py) and its bounded subscription (base.py).

Every message type round-trips through msgpack unchanged; anything else is refused by
`decode` with a `BusMessageError` whose code and text say what is wrong; `encode` refuses
what is not plain data or too large. The subscription keeps its bound and marks where
it dropped messages with a `Gap`.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgpack
import pytest

from server.bus import (
    MAX_MESSAGE_BYTES,
    VERSION,
    AdminInput,
    Answer,
    BusClosed,
    BusMessageError,
    Call,
    Command,
    Delivery,
    Disconnect,
    Enter,
    Gap,
    Leave,
    LinkLost,
    Message,
    Reply,
    Request,
    SessionIn,
    SessionOut,
    Subjects,
    Subscription,
    Tick,
    decode,
    encode,
)
from server.bus.messages import INPUTS, OUTPUTS, TYPES, decode_many, encode_many

SAMPLES: list[Message] = [
    Command("g1", "s1", 7, "say hello", id="c-1"),
    Command("g1", "s1", 7, "look"),
    Call("g1", "s1", 7, "go", {"direction": "north"}, id=3),
    Enter("g2", "s9", "Ann", "player", "mage", created=True, state={"hp": 20, "inv": [1]}),
    Enter("g2", "s9", "Bob", "admin", "warrior"),
    Leave("g1", "s1", 7),
    LinkLost("g1", "s1", 7),
    Tick(123_456),
    AdminInput("root", "broadcast", {"text": "Reboot in 5 minutes."}),
    Delivery("g1", [7, 8, 9], {"type": "event", "name": "said", "text": "hi"}, tick=5, seq=42),
    Answer("g1", "s1", False, id="c-1", code="not_here", message="You don't see that here."),
    Answer("g1", "s1", True, id=None),
    Answer("g1", "s1", True, id=4, n=12, view={"hp": 20, "max_hp": 20, "level": 2}),
    SessionIn("g1", "s1", "auth", {"kind": "login", "name": "ann", "password": "hunter22"}),
    SessionIn("g1", "s1", "lost"),
    SessionOut("g1", "s1", "say", {"spans": [["error", "No."]]}),
    Disconnect("g1", "s1", "taken over", "Someone logged in as you from elsewhere."),
    Request("g1", "s1", "login", {"name": "ann", "password": "hunter22"}),
    Reply(True, {"character": 7, "role": "player"}),
    Reply(False, code="auth_failed", message="Wrong name or password."),
]


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda m: type(m).TYPE)
def test_every_message_round_trips(msg: Message) -> None:
    data = encode(msg)
    assert decode(data) == msg
    assert msgpack.unpackb(data)["v"] == VERSION


def test_every_type_has_a_sample_and_a_family() -> None:
    assert {type(m) for m in SAMPLES} == set(TYPES.values())
    assert set(INPUTS) | set(OUTPUTS) | {Request, Reply} == set(TYPES.values())


def test_a_password_is_not_in_a_requests_repr() -> None:
    assert "hunter22" not in repr(Request("g", "s", "login", {"password": "hunter22"}))


def _raw(**body: Any) -> bytes:
    data: bytes = msgpack.packb(body, use_bin_type=True)
    return data


@pytest.mark.parametrize(("data", "code", "words"), [
    (b"\xc1", "bad_msgpack", "invalid msgpack"),
    (b"", "bad_msgpack", "invalid msgpack"),
    (_raw(v=1, t="tick", tick=1) + b"\x00", "bad_msgpack", "invalid msgpack"),
    (msgpack.packb([1, "tick", 5]), "bad_message", "a map with 'v' and 't'"),
    (_raw(t="tick", tick=1), "bad_version", "'v'"),
    (_raw(v="1", t="tick", tick=1), "bad_version", "not an integer"),
    (_raw(v=VERSION + 1, t="tick", tick=1), "bad_version", "newer than this process's"),
    (_raw(v=1, t="teleport"), "unknown_type", "unknown message type 'teleport'"),
    (_raw(v=1, tick=1), "unknown_type", "(NoneType)"),
    (_raw(v=1, t="tick"), "missing_field", "tick: 'tick' is required"),
    (_raw(v=1, t="tick", tick="soon"), "bad_field", "'tick' must be an integer"),
    (_raw(v=1, t="tick", tick=True), "bad_field", "'tick' must be an integer"),
    (_raw(v=1, t="command", gateway="g", session="s", character=1, line=None),
     "bad_field", "'line' must be a string"),
    (_raw(v=1, t="delivery", gateway="g", recipients=[1, "x"], event={}),
     "bad_field", "'recipients' must be a list of integers"),
    (_raw(v=1, t="delivery", gateway="g", recipients=[1, True], event={}),
     "bad_field", "'recipients' must be a list of integers"),
    (_raw(v=1, t="delivery", gateway="g", recipients=[1], event=[]),
     "bad_field", "'event' must be a map"),
    (_raw(v=1, t="answer", gateway="g", session="s", ok=1), "bad_field", "true or false"),
    (_raw(v=1, t="answer", gateway="g", session="s", ok=True, code=5),
     "bad_field", "'code' must be a string or nil"),
    (_raw(v=1, t="reply", ok=True, data={1: 2}), "bad_msgpack", "invalid msgpack"),
    (_raw(v=1, t="reply", ok=True, data={"blob": b"\x00"}), "bad_msgpack", "bytes"),
    (b"\x91" * 40 + b"\xc0", "bad_msgpack", "nested deeper"),
    (b"\x00" * (MAX_MESSAGE_BYTES + 1), "too_large", "more than the bus's"),
], ids=lambda v: v if isinstance(v, str) and " " not in v else None)
def test_malformed_bytes_are_refused_with_a_clear_error(data: bytes, code: str,
                                                        words: str) -> None:
    with pytest.raises(BusMessageError) as refused:
        decode(data)
    assert refused.value.code == code
    assert words in str(refused.value)


def test_a_batch_decodes_to_its_messages_each_checked_alone() -> None:
    msgs: list[Message] = [Tick(1), Delivery("g", [], {"name": "said"}), Tick(2)]
    payloads, errors = encode_many(msgs)
    assert errors == [] and len(payloads) == 1
    assert decode_many(payloads[0]) == msgs
    assert encode_many([Tick(3)])[0] == [encode(Tick(3))]  # one message: no batch around it
    one_bad = b"\x93" + encode(Tick(1)) + _raw(v=1, t="tick") + encode(Tick(2))
    got = decode_many(one_bad)
    assert got[0] == Tick(1) and got[2] == Tick(2)
    assert isinstance(got[1], BusMessageError) and got[1].code == "missing_field"
    (refused,) = decode_many(b"\xc1")
    assert isinstance(refused, BusMessageError) and refused.code == "bad_msgpack"
    with pytest.raises(BusMessageError, match="a map with 'v' and 't'"):
        decode(payloads[0])  # `decode` takes one message, not a batch


def test_a_batch_is_split_to_fit_and_keeps_what_encodes() -> None:
    third = MAX_MESSAGE_BYTES // 3
    msgs: list[Message] = [Delivery("g", [i], {"t": "x" * third}) for i in range(4)]
    msgs.insert(1, Delivery("g", [9], {"bad": object()}))
    payloads, errors = encode_many(msgs)
    assert [e.code for e in errors] == ["not_data"]
    assert all(len(p) <= MAX_MESSAGE_BYTES for p in payloads) and len(payloads) == 2
    assert [m for p in payloads for m in decode_many(p)] == msgs[:1] + msgs[2:]
    many: list[Message] = [Tick(i) for i in range(20)]  # past a fixarray's 15
    (payload,), _ = encode_many(many)
    assert payload[:3] == b"\xdc\x00\x14" and decode_many(payload) == many


def test_unknown_keys_are_ignored_so_fields_can_be_added() -> None:
    assert decode(_raw(v=1, t="tick", tick=4, zone="limbo")) == Tick(4)


def test_decode_takes_only_bytes() -> None:
    with pytest.raises(BusMessageError, match="expected bytes"):
        decode("{}")  # type: ignore[arg-type]


def test_encode_refuses_what_is_not_data() -> None:
    with pytest.raises(BusMessageError) as refused:
        encode(Delivery("g", [1], {"who": object()}))
    assert refused.value.code == "not_data"
    with pytest.raises(BusMessageError, match="bytes values"):
        encode(Reply(True, {"blob": b"\x00"}))
    with pytest.raises(BusMessageError, match="not a bus message"):
        encode(Gap(1))  # type: ignore[arg-type]


def test_encode_refuses_a_message_over_the_bound() -> None:
    big = Delivery("g", [1], {"text": "x" * MAX_MESSAGE_BYTES})
    with pytest.raises(BusMessageError) as refused:
        encode(big)
    assert refused.value.code == "too_large"
    assert f"more than the bus's {MAX_MESSAGE_BYTES}" in str(refused.value)
    encode(Delivery("g", [1], {"text": "x" * (MAX_MESSAGE_BYTES - 200)}))


def test_subjects_refuse_ids_that_are_not_one_token() -> None:
    subjects = Subjects("t1")
    assert subjects.outputs("gw-1") == "t1.out.gw-1"
    assert subjects.stream == "T1_JOURNAL"
    for bad in ("", "a.b", "a b", "*", ">", "x" * 65):
        with pytest.raises(ValueError, match="gateway id"):
            subjects.outputs(bad)
    with pytest.raises(ValueError, match="bus prefix"):
        Subjects("a.b")


async def test_a_full_subscription_drops_the_newest_and_marks_the_gap() -> None:
    sub: Subscription[Tick] = Subscription("t.in", (Tick,), limit=3)
    accepted = [sub.offer(Tick(n)) for n in range(10)]
    assert accepted == [True] * 3 + [False] * 7
    assert (sub.received, sub.dropped, sub.pending()) == (3, 7, 4)
    assert [await sub.get() for _ in range(2)] == [Tick(0), Tick(1)]
    assert sub.offer(Tick(10))  # room again: the gap goes in before it
    assert [await sub.get() for _ in range(3)] == [Tick(2), Gap(7), Tick(10)]
    # a gap at the end is seen without waiting for another message
    for n in range(5):
        sub.offer(Tick(20 + n))
    assert [await sub.get() for _ in range(4)] == [Tick(20), Tick(21), Tick(22), Gap(2)]


async def test_a_subscription_wakes_its_reader_and_ends_when_closed() -> None:
    sub: Subscription[Tick] = Subscription("t.in", (Tick,), limit=5)
    reader = asyncio.ensure_future(sub.get())
    await asyncio.sleep(0)
    sub.offer(Tick(1))
    assert await asyncio.wait_for(reader, 1) == Tick(1)
    sub.offer(Tick(2))
    await sub.close()
    assert not sub.offer(Tick(3))
    assert [m async for m in sub] == [Tick(2)]
    with pytest.raises(BusClosed):
        await sub.get()


def test_a_subscription_counts_and_reports_what_does_not_belong() -> None:
    errors: list[Exception] = []
    sub: Subscription[Tick] = Subscription("t.in", (Tick,), limit=5, on_error=errors.append)
    assert not sub.feed(b"junk")
    assert not sub.feed(encode(Answer("g", "s", True)))
    assert sub.feed(encode(Tick(1)))
    assert (sub.malformed, sub.received) == (2, 1)
    assert "invalid msgpack" in str(errors[0])
    assert "type 'answer' does not belong on t.in" in str(errors[1])


def test_the_in_process_bus_never_loads_nats_py() -> None:
    """`aegent serve` uses `server.bus` and `InProcBus` only: nats-py stays unloaded."""
    code = ("import sys, server.bus, server.bus.inproc\n"
            "print(sorted(m for m in sys.modules if m == 'nats' or m.startswith('nats.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"
