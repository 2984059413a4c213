"""The session state machine, sans I/O: frames in, frames and requests out.

The game around it is `FakeGame`, a recording fake of `GamePort`: it remembers the
commands it was asked to run and answers with fixed classes and tools.
"""

from __future__ import annotations

import json
from typing import Any

import msgpack
import pytest

from server import wire
from server.gateway import render
from server.gateway.session import AuthRequest, GameRequest, Limits, Session, State
from server.wire import Subprotocol
from world.entities import Character, Kind
from world.events import Emoted, Entered, Said, ServerRequest, Vitals

JSON, MSGPACK, TEXT = Subprotocol.JSON, Subprotocol.MSGPACK, Subprotocol.TEXT
CLASSES = {"warrior": "Warrior", "mage": "Mage", "cleric": "Cleric"}
TOOLS = [{"name": "look", "parameters": {"type": "object"}}]


class FakeGame:
    """A recording `GamePort`."""

    def __init__(self) -> None:
        self.ran: list[tuple[Session, wire.Command | wire.CallTool]] = []

    def run(self, session: Session, msg: wire.Command | wire.CallTool) -> None:
        self.ran.append((session, msg))

    def tool_list(self, session: Session, every: bool = False) -> list[dict[str, Any]]:
        return TOOLS

    def class_names(self) -> dict[str, str]:
        return dict(CLASSES)

    def lines(self) -> list[str]:
        return [m.line if isinstance(m, wire.Command) else f"call:{m.tool}" for _, m in self.ran]


def make(sub: Subprotocol = JSON, limits: Limits | None = None, game: FakeGame | None = None
         ) -> Session:
    return Session("s1", sub, game or FakeGame(), limits or Limits(), now=0.0,
                   address="127.0.0.1")


def game_of(session: Session) -> FakeGame:
    assert isinstance(session.game, FakeGame)
    return session.game


def decoded(session: Session) -> list[dict[str, Any]]:
    """Take the outbox of a structured session, decoded."""
    out = []
    for frame in session.outbox():
        if session.subprotocol is MSGPACK:
            assert isinstance(frame, bytes)
            out.append(msgpack.unpackb(frame, raw=False))
        else:
            assert isinstance(frame, str)
            out.append(json.loads(frame))
    return out


def encoded(session: Session, msg: Any) -> str | bytes:
    if session.subprotocol is MSGPACK:
        data: bytes = msgpack.packb(msg, use_bin_type=True)
        return data
    return json.dumps(msg)


def send(session: Session, msg: Any, now: float = 0.0) -> None:
    session.receive_frame(encoded(session, msg), now)


def ann() -> Character:
    return Character(id=1, name="Ann", kind=Kind.PLAYER, cls="warrior", room="haven:square",
                     hp=24, max_hp=24, mana=0, max_mana=0, moves=97, max_moves=100)


def playing(sub: Subprotocol = JSON, limits: Limits | None = None) -> Session:
    """A session that has logged in as Ann (its outbox emptied)."""
    session = make(sub, limits)
    session.auth_succeeded(ann(), "player")
    session.outbox()
    return session


# ---- hello ------------------------------------------------------------------------------


@pytest.mark.parametrize("sub", [JSON, MSGPACK])
def test_hello_for_structured_clients(sub: Subprotocol) -> None:
    session = make(sub)
    session.hello("Aegent Quest", "Welcome!", ["ws://a.example/ws", "ws://b.example/ws"])
    assert decoded(session) == [{
        "type": "hello", "protocol": wire.PROTOCOL_VERSION, "server": "Aegent Quest",
        "subprotocol": str(sub), "motd": "Welcome!", "classes": CLASSES,
        "login": ["password", "api_key"],
        "gateways": ["ws://a.example/ws", "ws://b.example/ws"],
    }]
    assert session.state is State.CONNECTED
    assert not session.ansi


def test_hello_for_text_starts_the_login_dialogue() -> None:
    session = make(TEXT)
    session.hello("Aegent Quest", "Welcome!")
    frames = session.outbox()
    assert len(frames) == 1 and isinstance(frames[0], str)
    assert "Aegent Quest" in frames[0] and "Welcome!" in frames[0]
    assert session.state is State.ASK_NAME
    assert session.ansi
    assert session.outbox() == []


# ---- malformed input -------------------------------------------------------------------

TOO_BIG = Limits(max_message=100)


@pytest.mark.parametrize(("sub", "data", "code"), [
    (JSON, "{", "bad_json"),
    (JSON, "", "bad_json"),
    (JSON, b'{"type": "ping"}', "bad_frame"),
    (JSON, '{"type": "dance"}', "unknown_type"),
    (JSON, '{"line": "look"}', "missing_field"),
    (JSON, '{"type": "command"}', "missing_field"),
    (JSON, '{"type": "login", "name": "Ann"}', "missing_field"),
    (JSON, '{"type": "command", "line": "look", "id": [1]}', "bad_field"),
    (JSON, '{"type": "command", "line": "look", "id": true}', "bad_field"),
    (JSON, '{"type": "command", "line": 5}', "bad_field"),
    (JSON, '{"type": "call", "tool": "go", "args": ["north"]}', "bad_field"),
    (JSON, '[{"type": "ping"}]', "bad_message"),
    (JSON, '"ping"', "bad_message"),
    (JSON, '{"type": "command", "line": "' + "x" * 100 + '"}', "too_large"),
    (MSGPACK, b"\xc1", "bad_msgpack"),
    (MSGPACK, msgpack.packb({1: "one"}), "bad_msgpack"),
    (MSGPACK, '{"type": "ping"}', "bad_frame"),
    (MSGPACK, msgpack.packb(["ping"]), "bad_message"),
    (MSGPACK, msgpack.packb({"type": "nope"}), "unknown_type"),
    (MSGPACK, msgpack.packb({"type": "command", "line": "x" * 100}), "too_large"),
])
def test_bad_frames_get_error_frames_and_the_session_goes_on(
    sub: Subprotocol, data: str | bytes, code: str
) -> None:
    session = make(sub, TOO_BIG)
    session.receive_frame(data, 1.0)
    [error] = decoded(session)
    assert error["type"] == "error"
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert game_of(session).ran == []
    assert session.state is State.CONNECTED
    send(session, {"type": "ping", "id": 1})
    assert decoded(session) == [{"type": "pong", "id": 1}]


def test_errors_carry_the_message_id() -> None:
    session = make()
    send(session, {"type": "dance", "id": "q1"})
    send(session, {"type": "command", "id": 7})
    assert [(e["code"], e.get("id")) for e in decoded(session)] == [
        ("unknown_type", "q1"), ("missing_field", 7)]


def test_ping_and_tools() -> None:
    session = make(MSGPACK)
    send(session, {"type": "ping"})
    send(session, {"type": "tools", "id": 3})
    assert decoded(session) == [{"type": "pong"}, {"type": "tools", "tools": TOOLS, "id": 3}]


# ---- logging in --------------------------------------------------------------------------


@pytest.mark.parametrize("msg", [
    {"type": "command", "line": "look"},
    {"type": "command", "line": "look", "id": 9},
    {"type": "call", "tool": "look"},
])
def test_commands_before_login_are_refused(msg: dict[str, Any]) -> None:
    session = make()
    send(session, msg)
    [error] = decoded(session)
    assert error["code"] == "not_authenticated"
    assert error.get("id") == msg.get("id")
    assert game_of(session).ran == []


def test_login_becomes_an_auth_request() -> None:
    session = make()
    send(session, {"type": "login", "name": "Ann", "password": "secret123", "id": 1})
    assert session.state is State.AUTHENTICATING
    assert session.requests == [AuthRequest("login", "Ann", "secret123", None, 1)]
    assert decoded(session) == []
    # One at a time.
    send(session, {"type": "login", "name": "Ann", "password": "secret123", "id": 2})
    assert [(e["code"], e["id"]) for e in decoded(session)] == [("busy", 2)]
    assert len(session.requests) == 1


def test_register_becomes_an_auth_request() -> None:
    session = make(MSGPACK)
    send(session, {"type": "register", "name": "Bob", "password": "secret123",
                   "class": "mage", "id": "r"})
    assert session.state is State.AUTHENTICATING
    assert session.requests == [AuthRequest("register", "Bob", "secret123", "mage", "r")]


def test_an_api_key_login_becomes_an_auth_request() -> None:
    session = make()
    send(session, {"type": "login", "api_key": "aq_k_secret", "id": 4})
    assert decoded(session) == []
    assert session.requests == [AuthRequest("api_key", "", "aq_k_secret", None, 4)]
    assert session.state is State.AUTHENTICATING


def test_auth_answers() -> None:
    session = make()
    send(session, {"type": "login", "name": "Ann", "password": "wrong", "id": 1})
    session.auth_failed("auth_failed", "Wrong name or password.", 1)
    assert decoded(session) == [{"type": "auth", "ok": False, "id": 1, "error": {
        "code": "auth_failed", "message": "Wrong name or password."}}]
    assert session.state is State.CONNECTED
    send(session, {"type": "login", "name": "Ann", "password": "secret123", "id": 2})
    session.auth_succeeded(ann(), "player", 2, created=False)
    assert decoded(session) == [{"type": "auth", "ok": True, "created": False, "id": 2,
                                 "character": {"name": "Ann", "class": "warrior", "level": 1,
                                               "kind": "player", "role": "player"}}]
    assert session.playing
    send(session, {"type": "login", "name": "Ann", "password": "secret123", "id": 3})
    assert [e["code"] for e in decoded(session)] == ["already_authenticated"]


# ---- commands and flood control ------------------------------------------------------------


def test_commands_run_at_once_then_queue_then_are_refused() -> None:
    session = playing(limits=Limits(rate=2.0, burst=3, queue=2))
    for i in range(7):
        send(session, {"type": "command", "line": f"c{i}", "id": i}, now=0.0)
    assert game_of(session).lines() == ["c0", "c1", "c2"]
    assert session.queued == 2
    assert [(e["code"], e["id"]) for e in decoded(session)] == [
        ("rate_limited", 5), ("rate_limited", 6)]

    session.tick(0.25)  # half a token: nothing yet
    assert game_of(session).lines() == ["c0", "c1", "c2"]
    session.tick(0.5)
    assert game_of(session).lines() == ["c0", "c1", "c2", "c3"]
    session.tick(1.0)
    assert game_of(session).lines() == ["c0", "c1", "c2", "c3", "c4"]
    assert session.queued == 0
    # The bucket is empty: the next command waits for the next token, in order.
    send(session, {"type": "call", "tool": "look"}, now=1.0)
    send(session, {"type": "command", "line": "c7"}, now=1.0)
    assert session.queued == 2
    session.tick(2.0)
    assert game_of(session).lines()[-2:] == ["call:look", "c7"]
    assert session.queued == 0


def test_the_bucket_refills_up_to_the_burst() -> None:
    session = playing(limits=Limits(rate=10.0, burst=2, queue=5))
    for i in range(2):
        send(session, {"type": "command", "line": f"a{i}"}, now=0.0)
    for i in range(4):  # a long pause refills only the burst
        send(session, {"type": "command", "line": f"b{i}"}, now=100.0)
    assert game_of(session).lines() == ["a0", "a1", "b0", "b1"]
    assert session.queued == 2


def test_calls_reach_the_game_as_sent() -> None:
    session = playing()
    send(session, {"type": "call", "tool": "go", "args": {"direction": "north"}, "id": "x"})
    send(session, {"type": "call", "tool": "who", "args": None})
    [(_, first), (_, second)] = game_of(session).ran
    assert first == wire.CallTool("go", {"direction": "north"}, "x")
    assert second == wire.CallTool("who", {}, None)


# ---- text mode ---------------------------------------------------------------------------------


def text_session() -> Session:
    session = make(TEXT)
    session.hello("Aegent Quest", "")
    session.outbox()
    return session


def say(session: Session, line: str) -> None:
    session.receive_frame(line, 0.0)


def test_text_mode_creates_a_character() -> None:
    session = text_session()
    say(session, "ann")
    assert session.state is State.AUTHENTICATING
    assert session.requests == [AuthRequest("exists", "Ann", "", None, None)]
    session.requests.clear()
    session.name_checked(False, None)
    assert session.state is State.CONFIRM_NAME
    say(session, "y")
    assert session.state is State.NEW_PASSWORD
    say(session, "short")
    assert session.state is State.NEW_PASSWORD
    say(session, "secret123")
    assert session.state is State.CONFIRM_PASSWORD
    say(session, "secret999")
    assert session.state is State.NEW_PASSWORD  # mismatch: type it again
    say(session, "secret456")
    say(session, "secret456")
    assert session.state is State.CHOOSE_CLASS
    say(session, "necromancer")
    assert session.state is State.CHOOSE_CLASS
    assert session.requests == []
    say(session, "ma")
    assert session.state is State.AUTHENTICATING
    assert session.requests == [AuthRequest("register", "Ann", "secret456", "mage", None)]
    say(session, "hello?")  # while waiting: nothing more is asked of the shell
    assert len(session.requests) == 1
    assert game_of(session).ran == []


def test_text_mode_logs_in_an_existing_character() -> None:
    session = text_session()
    say(session, "Bob")
    session.requests.clear()
    session.name_checked(True, None)
    assert session.state is State.ASK_PASSWORD
    say(session, "secret123")
    assert session.requests == [AuthRequest("login", "Bob", "secret123", None, None)]
    session.auth_failed("auth_failed", "Wrong password.")
    assert session.state is State.ASK_NAME


def test_text_mode_refused_or_unconfirmed_names_ask_again() -> None:
    session = text_session()
    say(session, "x")
    session.name_checked(False, "A name has 3 to 16 letters.")
    assert session.state is State.ASK_NAME
    say(session, "Cara")
    session.name_checked(False, None)
    say(session, "no")
    assert session.state is State.ASK_NAME
    say(session, "   ")
    assert session.state is State.ASK_NAME


def test_text_mode_newline_terminated_lines() -> None:
    """Clients that end each line with a newline (or CRLF) must not send an extra empty line."""
    session = text_session()
    say(session, "Ann\r\n")
    assert session.requests == [AuthRequest("exists", "Ann", "", None, None)]
    session.outbox()
    session.name_checked(False, None)
    say(session, "y\n")
    say(session, "secret123\n")
    assert session.state is State.CONFIRM_PASSWORD
    say(session, "secret123\r\n")
    assert session.state is State.CHOOSE_CLASS


def test_text_mode_playing_lines_become_commands() -> None:
    session = make(TEXT)
    session.auth_succeeded(ann(), "player")
    assert session.outbox() == []  # text mode: the world greets, not the session
    say(session, "look\r\nn\n\n  \nsay hi  \n")
    assert game_of(session).lines() == ["look", "n", "say hi"]


def test_text_mode_rejects_bad_utf8() -> None:
    session = text_session()
    session.receive_frame(b"\xff\xfe", 0.0)
    assert session.state is State.ASK_NAME
    assert len(session.outbox()) == 1
    session.receive_frame(b"Ann", 0.0)
    assert session.requests == [AuthRequest("exists", "Ann", "", None, None)]


def test_text_mode_output_ends_with_the_prompt() -> None:
    session = make(TEXT)
    ch = ann()
    session.auth_succeeded(ch, "player")
    session.deliver(Vitals(24, 24, 0, 0, 97, 100, 1, 0, 1000, "standing", None))
    assert session.outbox() == []  # vitals only feed the prompt
    session.deliver(Said("Bob", "player", "hi"))
    session.deliver(Emoted("Bob", "player", "waves."))
    [frame] = session.outbox()
    assert isinstance(frame, str)
    prompt = render.ansi(render.prompt_spans(f"<{ch.hp}/{ch.max_hp}hp {ch.mana}/{ch.max_mana}m "
                                             f"{ch.moves}/{ch.max_moves}mv> "))
    assert frame.split("\n") == [
        render.ansi(render.render(Said("Bob", "player", "hi"), "Ann")),
        render.ansi(render.render(Emoted("Bob", "player", "waves."), "Ann")),
        prompt,
    ]


# ---- delivering events ------------------------------------------------------------------


def test_events_become_event_frames() -> None:
    session = playing(MSGPACK)
    session.deliver(Said("Bob", "agent", "beep"))
    assert decoded(session) == [{"type": "event", "name": "said",
                                 "data": {"actor": "Bob", "kind": "agent", "text": "beep"},
                                 "text": "[AI] Bob says, 'beep'", "seq": 1}]
    assert session.seq == 1


def test_internal_events_become_requests() -> None:
    session = playing()
    session.deliver(ServerRequest("quit", {}))
    assert session.requests == [GameRequest("quit", {})]
    assert session.outbox() == []


def test_shared_frames_for_events_that_read_the_same_for_everyone() -> None:
    a, b = playing(), playing()
    b.deliver(Entered("Dan", "player", False))
    b.outbox()
    cache: dict[Any, str | bytes] = {}
    event = Entered("Cara", "player", False)
    a.deliver(event, cache)
    b.deliver(event, cache)
    [fa], [fb] = a.outbox(), b.outbox()
    assert len(cache) == 1  # encoded once; each session's seq is spliced into the bytes
    assert json.loads(fa)["seq"] == 1 and json.loads(fb)["seq"] == 2
    shared = str(cache[next(iter(cache))])
    assert fa == shared[:-1] + ',"seq":1}' and fb == shared[:-1] + ',"seq":2}'
    assert fa.startswith('{"type":"event"')  # the type stays first
    # Personal events ("You say" / "Ann says") are rendered per reader.
    said = Said("Ann", "player", "hi")
    a.deliver(said, cache)
    b.deliver(said, cache)
    [pa], [pb] = a.outbox(), b.outbox()
    assert json.loads(pa)["text"] == "You say, 'hi'"
    assert json.loads(pb)["text"] == "You say, 'hi'"  # both are Ann here
    other = make()
    other.auth_succeeded(Character(2, "Bob", Kind.PLAYER, "mage", "haven:square"), "player")
    other.outbox()
    other.deliver(said, cache)
    assert json.loads(other.outbox()[0])["text"] == "Ann says, 'hi'"
    # Another codec never gets a JSON frame from the cache.
    m = playing(MSGPACK)
    m.deliver(event, cache)
    [fm] = m.outbox()
    assert isinstance(fm, bytes)
    assert msgpack.unpackb(fm, raw=False) == json.loads(fa)


def test_shared_lines_in_text_mode() -> None:
    a, b = playing(TEXT), playing(TEXT)
    cache: dict[Any, str | bytes] = {}
    event = Emoted("Cara", "player", "waves.")
    a.deliver(event, cache)
    b.deliver(event, cache)
    assert len(cache) == 1
    assert a.outbox() == b.outbox()


def test_notify_and_close() -> None:
    session = playing()
    session.notify([("", "The server is shutting down.")], "warning")
    [msg] = decoded(session)
    assert (msg["name"], msg["data"]) == ("message", {"text": "The server is shutting down.",
                                                      "level": "warning"})
    session.close("shutdown")
    assert session.state is State.CLOSED
    assert session.close_reason == "shutdown"
    send(session, {"type": "ping"})
    assert decoded(session) == []


def test_text_mode_prompt_and_colour_follow_the_characters_settings() -> None:
    session = make(TEXT)
    ch = ann()
    ch.settings.update({"prompt": "[%h hp|%v mv|%% %q] ", "color": False})
    session.auth_succeeded(ch, "player")
    session.deliver(Said("Bob", "player", "hi"))
    [frame] = session.outbox()
    assert "\x1b[" not in frame
    assert frame.endswith(f"[{ch.hp} hp|{ch.moves} mv|% %q] ")
    ch.settings["color"] = True
    ch.settings["prompt"] = ""
    session.deliver(Said("Bob", "player", "hi"))
    [frame] = session.outbox()
    assert "\x1b[" in frame and frame.endswith("\n")


def test_text_mode_wraps_to_the_characters_width_setting() -> None:
    session = make(TEXT)
    ch = ann()
    ch.settings.update({"width": 20, "color": False, "prompt": ""})
    session.auth_succeeded(ch, "player")
    session.deliver(Said("Bob", "player", "one two three four five six seven eight"))
    [frame] = session.outbox()
    assert all(len(line) <= 20 for line in frame.split("\n")), frame
    session.width = 80  # a telnet client's own window size wins
    session.deliver(Said("Bob", "player", "one two three four five six seven eight"))
    [frame] = session.outbox()
    assert "one two three four five six seven eight" in frame


def test_bystanders_share_one_rendering_of_a_personal_event() -> None:
    cache: dict[Any, str | bytes] = {}
    said = Said("Ann", "player", "hello")
    frames = {}
    for name in ("Ann", "Bob", "Cat"):
        session = make(JSON)
        ch = ann()
        ch.name = name
        session.auth_succeeded(ch, "player")
        session.outbox()
        session.deliver(said, cache)
        [frames[name]] = session.outbox()
    assert "You say" in str(frames["Ann"])
    assert "Ann says" in str(frames["Bob"]) and "Ann says" in str(frames["Cat"])
    frames_made = [key for key in cache if key[0] != "names"]
    assert len(frames_made) == 2  # the speaker's own, and one for every bystander
