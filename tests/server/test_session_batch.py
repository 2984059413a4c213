"""Batched events, sans I/O: a session whose login asked for `batch` groups the events it
has for its client into `events` messages (docs/protocol.md, `events`).

What is pinned: the events before any other message go out before it, in one `events`
message; `outbox()` closes the group; the message's `seq` is its first event's, and
its events expanded one by one read exactly as a session without batch sends them; a
group is closed once its events reach `wire.EVENTS_FRAME_BYTES`, the next starting a new
message with the next number.
"""

from __future__ import annotations

import json
from typing import Any

import msgpack
import pytest

from server import wire
from server.gateway.session import Limits, Session, deliver_many
from server.wire import Subprotocol
from world.entities import Character, Kind
from world.events import Entered, Event, Said

JSON, MSGPACK = Subprotocol.JSON, Subprotocol.MSGPACK


class NoGame:
    """A `GamePort` for sessions that only log in and get events."""

    def run(self, session: Session, msg: wire.Command | wire.CallTool | wire.Observe) -> None:
        raise AssertionError("no command is run here")

    def tool_list(self, session: Session, every: bool = False) -> list[dict[str, Any]]:
        return []

    def class_names(self) -> dict[str, str]:
        return {"warrior": "Warrior"}


def decode(session: Session, frame: str | bytes) -> dict[str, Any]:
    if session.subprotocol is MSGPACK:
        assert isinstance(frame, bytes)
        msg: dict[str, Any] = msgpack.unpackb(frame, raw=False)
    else:
        assert isinstance(frame, str)
        msg = json.loads(frame)
    return msg


def taken(session: Session) -> list[dict[str, Any]]:
    """The session's outbox, decoded."""
    return [decode(session, f) for f in session.outbox()]


def send(session: Session, msg: dict[str, Any]) -> None:
    session.receive_frame(wire.encode_any(session.subprotocol, msg), 0.0)


def expanded(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`events` messages as the `event` messages they hold, each with its seq."""
    out = []
    for msg in msgs:
        if msg["type"] == "events":
            assert all("seq" not in e for e in msg["events"])
            out += [{**e, "seq": msg["seq"] + i} for i, e in enumerate(msg["events"])]
        else:
            out.append(msg)
    return out


def logged_in(sub: Subprotocol, batch: bool, name: str = "Ann") -> Session:
    """A session that logged in (asking for `batch` or not), its outbox emptied."""
    session = Session("s1", sub, NoGame(), Limits(), now=0.0, address="127.0.0.1")
    login: dict[str, Any] = {"type": "login", "name": name, "password": "secret123", "id": 1}
    send(session, {**login, "batch": True} if batch else login)
    assert session.batch is batch
    session.auth_succeeded(Character(id=1, name=name, kind=Kind.PLAYER, cls="warrior",
                                     room="haven:square"), "player", 1)
    session.outbox()
    return session


def said(who: str, text: str) -> Said:
    return Said(who, "player", text)


@pytest.mark.parametrize("sub", [JSON, MSGPACK])
def test_events_go_in_one_message_before_the_next_other_message(sub: Subprotocol) -> None:
    session = logged_in(sub, batch=True)
    session.deliver(said("Bob", "one"))
    session.deliver(said("Cy", "two"))
    session.send(wire.result(7, True))  # a command's result: its events go first
    session.deliver(said("Bob", "three"))
    out = taken(session)
    assert [m["type"] for m in out] == ["events", "result", "events"]
    first, result, second = out
    assert first["seq"] == 1 and [e["data"]["text"] for e in first["events"]] == ["one", "two"]
    assert first["events"][0] == {"type": "event", "name": "said",
                                  "data": {"actor": "Bob", "kind": "player", "text": "one"},
                                  "text": "Bob says, 'one'"}
    assert result == {"type": "result", "id": 7, "ok": True}
    assert second["seq"] == 3 and [e["data"]["text"] for e in second["events"]] == ["three"]
    assert session.seq == 3


@pytest.mark.parametrize("sub", [JSON, MSGPACK])
def test_the_outbox_closes_the_group_and_numbers_go_on(sub: Subprotocol) -> None:
    session = logged_in(sub, batch=True)
    session.deliver(said("Bob", "one"))
    [msg] = taken(session)
    assert (msg["type"], msg["seq"], len(msg["events"])) == ("events", 1, 1)
    assert session.outbox() == []  # nothing waits: no empty `events` message
    for word in ("two", "three", "four"):
        session.deliver(said("Bob", word))
    [msg] = taken(session)
    assert msg["seq"] == 2 and [e["data"]["text"] for e in msg["events"]] == [
        "two", "three", "four"]
    send(session, {"type": "ping", "id": "p"})  # an answer with nothing before it
    assert taken(session) == [{"type": "pong", "id": "p"}]
    session.deliver(said("Bob", "five"))
    assert [(m["seq"], len(m["events"])) for m in taken(session)] == [(5, 1)]


@pytest.mark.parametrize("shared", [False, True], ids=["own", "shared"])
@pytest.mark.parametrize("sub", [JSON, MSGPACK])
def test_expanded_they_read_as_a_session_without_batch_sends_them(
        sub: Subprotocol, shared: bool) -> None:
    batched, plain = logged_in(sub, batch=True), logged_in(sub, batch=False)
    script: list[Event | str] = [said("Bob", "hi"), Entered("Cy", "player", False),
                                 "result", said("Ann", "hello"), said("Cy", "yo")]
    for step in script:
        cache: dict[Any, Any] | None = {} if shared else None  # one fan-out pass each
        for session in (batched, plain):
            if isinstance(step, str):
                session.send(wire.result(3, True))
            else:
                session.deliver(step, cache)
    got, want = taken(batched), taken(plain)
    assert [m["type"] for m in got] == ["events", "result", "events"]
    assert expanded(got) == want
    assert [m["seq"] for m in want if m["type"] == "event"] == [1, 2, 3, 4]


@pytest.mark.parametrize("sub", [JSON, MSGPACK])
def test_a_group_is_closed_at_the_frame_budget_and_the_next_goes_on_numbering(
        sub: Subprotocol) -> None:
    session = logged_in(sub, batch=True)
    session.deliver(said("Bob", "before"))
    session.send(wire.result(1, True))
    # Each event holds the chunk twice (its data and its text): a third of the budget
    # and a little more, so the third of a group passes it.
    chunk = "x" * (wire.EVENTS_FRAME_BYTES // 6 + 1)
    for i in range(5):
        session.deliver(said("Bob", f"{i}{chunk}"))
    frames = session.outbox()
    out = [decode(session, f) for f in frames]
    assert [(m["type"], m.get("seq"), len(m.get("events", ()))) for m in out] == [
        ("events", 1, 1), ("result", None, 0), ("events", 2, 3), ("events", 5, 2)]
    assert [e["data"]["text"][0] for m in out[2:] for e in m["events"]] == list("01234")
    # a group is closed by the event that takes it past the budget: by no more than that
    budget = wire.EVENTS_FRAME_BYTES
    assert budget <= len(frames[2]) < budget + 2 * len(chunk) + 200


def test_batch_is_asked_for_at_login_or_registration_only_as_a_boolean() -> None:
    session = Session("s1", JSON, NoGame(), Limits(), now=0.0, address="127.0.0.1")
    send(session, {"type": "register", "name": "Ann", "password": "secret123",
                   "batch": "yes", "id": "r"})
    [error] = taken(session)
    assert (error["type"], error["code"], error["id"]) == ("error", "bad_field", "r")
    assert session.requests == [] and not session.batch
    send(session, {"type": "register", "name": "Ann", "password": "secret123",
                   "batch": True, "id": "r"})
    assert session.batch and len(session.requests) == 1
    session.auth_failed("name_taken", "That name is taken.", "r")
    send(session, {"type": "login", "name": "Ann", "password": "secret123", "id": "l"})
    assert not session.batch  # the login that goes on decides


def test_deliver_many_gives_each_session_what_deliver_gives_it() -> None:
    """The gateway's fan-out loop (`deliver_many`) takes the usual case inline; every
    session, whatever its codec, batching, text mode or snoopers, and whether the event
    names it ("You say" for Ann), ends with exactly the output `deliver` gives it."""
    def sessions() -> list[Session]:
        out = [logged_in(sub, batch, name) for sub in (JSON, MSGPACK)
               for batch in (True, False) for name in ("Ann", "Bob")]
        text = Session("t1", Subprotocol.TEXT, NoGame(), Limits(), now=0.0)
        text.character = Character(id=9, name="Cy", kind=Kind.PLAYER, cls="warrior",
                                   room="haven:square")
        out.append(text)
        watcher = logged_in(JSON, True, "Dee")
        out[0].watchers.append(watcher)  # an admin snoops on the first Ann
        return out

    events: list[Event] = [said("Ann", "hello"), Entered("Eve", "player", False),
                           said("Bob", "hi"), said("Zed", "yo")]
    one_by_one, together = sessions(), sessions()
    for event in events:
        cache: dict[Any, Any] = {}
        for session in one_by_one:
            session.deliver(event, cache)
        deliver_many(event, together, {})
    for a, b in zip(one_by_one, together, strict=True):
        assert a.seq == b.seq == (0 if a.text_mode else len(events))  # text has no seq
        assert a.outbox() == b.outbox()
        for wa, wb in zip(a.watchers, b.watchers, strict=True):
            assert wa.outbox() == wb.outbox()  # what the snooper saw, too
