"""The session's words and edges, pinned: the text-mode dialogue line by line, the exact
errors of the structured protocol, frame sizes and line endings, snooping, the prompt,
and the fan-out cache's points of view.

These are golden tests of what a person or a client sees: each expected line is
written out here (styled with the same `render` spans the session uses), so a changed
prompt, message, boundary or point of view fails. They were written to kill the
mutants that `make mutate` found surviving in server/gateway/session.py (docs/testing.md).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from server import wire
from server.gateway import render
from server.gateway.session import AuthRequest, GameRequest, Limits, Session, State
from server.host.identity import AgentIdentity
from server.wire import Subprotocol
from world.entities import Character, Kind
from world.events import Message, Said, Snooped, Vitals

JSON, TEXT = Subprotocol.JSON, Subprotocol.TEXT
CLASSES = {"warrior": "Warrior", "mage": "Mage"}


class Game:
    """A recording `GamePort`: what it ran, for which session, and the tool lists asked."""

    def __init__(self, classes: dict[str, str] | None = None) -> None:
        self.ran: list[tuple[Session, Any]] = []
        self.tool_asks: list[tuple[Session, bool]] = []
        self.classes = classes or CLASSES

    def run(self, session: Session, msg: Any) -> None:
        self.ran.append((session, msg))

    def tool_list(self, session: Session, every: bool = False) -> list[dict[str, Any]]:
        self.tool_asks.append((session, every))
        return [{"name": "look", "every": every}]

    def class_names(self) -> dict[str, str]:
        return dict(self.classes)


def ann(**settings: Any) -> Character:
    return Character(id=1, name="Ann", kind=Kind.PLAYER, cls="warrior", room="x:y", hp=20,
                     max_hp=24, mana=3, max_mana=5, moves=90, max_moves=100, xp=1500, level=2,
                     settings=dict(settings))


def session(sub: Subprotocol = JSON, game: Game | None = None, now: float = 0.0,
            limits: Limits | None = None) -> Session:
    return Session("s7", sub, game or Game(), limits or Limits(), now=now)


def playing(sub: Subprotocol = JSON, **settings: Any) -> Session:
    s = session(sub)
    s.auth_succeeded(ann(**settings), "player")
    s.outbox()
    return s


def frames(s: Session) -> list[dict[str, Any]]:
    return [json.loads(f) for f in s.outbox()]


def a(*spans: tuple[str, str]) -> str:
    """One line as a colour terminal gets it."""
    return render.ansi(list(spans))


def err(message: str) -> str:
    return a(("error", message))


def screen(s: Session) -> list[str]:
    """The lines of one text-mode outbox frame, without the prompt after them."""
    [frame] = s.outbox()
    assert isinstance(frame, str) and frame.endswith("\n")
    return frame[:-1].split("\n")


def typed(s: Session, line: str) -> None:
    s.receive_frame(line + "\r\n", 0.0)


# ---- the text-mode dialogue ------------------------------------------------------------


def test_a_new_character_by_text_line_by_line() -> None:
    s = session(TEXT)
    s.hello("Aegent Quest", "Be kind.")
    [frame] = s.outbox()
    assert frame == "\n".join([a(("heading", "Welcome to Aegent Quest!")), "Be kind.",
                               "By what name are you known? "]) + "\n"
    typed(s, "ann")
    assert s.requests == [AuthRequest("exists", "Ann", "", None, None)]
    assert s.outbox() == []
    typed(s, "ann")  # while the shell checks the name
    assert screen(s) == [err("One moment, please...")]
    s.name_checked(False, None)
    assert screen(s) == ["Did I get that right, Ann (y/n)? "]
    typed(s, "yes")
    assert screen(s) == ["Give me a password for Ann: "]
    typed(s, "seven77")  # 7 characters: too short
    assert screen(s) == [err("A password needs at least 8 characters."), "Password: "]
    typed(s, "eight888")  # 8 is enough
    assert screen(s) == ["Please retype the password: "]
    typed(s, "eight889")
    assert screen(s) == [err("The passwords don't match."), "Give me a password: "]
    typed(s, "eight888")
    typed(s, "eight888")
    assert screen(s) == ["Please retype the password: ", "Choose a class: [W]arrior, [M]age: "]
    typed(s, "druid")
    assert screen(s) == [err("That is not a class here."),
                         "Choose a class: [W]arrior, [M]age: "]
    typed(s, "m")
    assert s.requests[-1] == AuthRequest("register", "Ann", "eight888", "mage", None)
    assert s.state is State.AUTHENTICATING


def test_an_existing_character_by_text() -> None:
    s = session(TEXT)
    s.hello("Q", "")
    assert screen(s) == [a(("heading", "Welcome to Q!")), "By what name are you known? "]
    typed(s, "")
    assert screen(s) == ["By what name are you known? "]
    typed(s, "bob")
    s.name_checked(True, None)
    assert screen(s) == ["Password: "]
    assert s.password_expected
    typed(s, "secret")
    assert s.requests[-1] == AuthRequest("login", "Bob", "secret", None, None)
    typed(s, "secret")  # again, while the shell checks it
    assert screen(s) == [err("One moment, please...")] and len(s.requests) == 2
    s.auth_failed("auth_failed", "Wrong name or password.")
    assert screen(s) == [err("Wrong name or password."), "By what name are you known? "]
    typed(s, "x")
    s.name_checked(False, "That name is not allowed.")
    assert screen(s) == [err("That name is not allowed."), "By what name are you known? "]
    assert s.state is State.ASK_NAME


def test_no_is_not_yes_and_a_class_by_its_name() -> None:
    s = session(TEXT, Game({"warrior": "Fighter", "mage": "Mage"}))
    s.hello("Q", "")
    s.outbox()
    typed(s, "cy")
    s.name_checked(False, None)
    typed(s, "no")
    assert screen(s) == ["Did I get that right, Cy (y/n)? ", "By what name are you known? "]
    typed(s, "cy")
    s.name_checked(False, None)
    for line in ("y", "long secret", "long secret", "fig"):  # the class by its name
        typed(s, line)
    assert s.requests[-1] == AuthRequest("register", "Cy", "long secret", "warrior", None)


def test_line_endings_of_every_kind_make_one_line_each() -> None:
    s = session(TEXT)
    s.hello("Q", "")
    s.outbox()
    s.receive_frame("ann\r\n", 0.0)  # one line, not "ann" and an empty one
    assert [r.name for r in s.requests] == ["Ann"] and s.outbox() == []
    s = playing(TEXT)
    s.receive_frame("look\rsay hi\r\nnorth\n\n", 0.0)
    assert [m.line for _, m in game_of(s).ran] == ["look", "say hi", "north"]


def game_of(s: Session) -> Game:
    assert isinstance(s.game, Game)
    return s.game


def test_bad_utf8_in_text_mode_is_refused_by_name() -> None:
    s = session(TEXT)
    s.hello("Q", "")
    s.outbox()
    s.receive_frame(b"\xff\xfe", 0.0)
    assert screen(s) == [err("Please send UTF-8 text.")]


# ---- the structured protocol's errors ----------------------------------------------------


def test_structured_errors_are_exact() -> None:
    s = session()
    s.receive(wire.Command("look", id=1))
    s.receive(wire.Usage("report", id=2))
    assert frames(s) == [
        {"type": "error", "code": "not_authenticated", "message": "Log in first.", "id": 1},
        {"type": "error", "code": "not_authenticated", "message": "Log in first.", "id": 2}]
    s.receive(wire.Login(id=3))  # no name, no password: asked of the shell as empty
    assert s.requests == [AuthRequest("login", "", "", None, 3)]
    s.receive(wire.Login("Ann", "pw", id=4))
    assert frames(s) == [{"type": "error", "code": "busy",
                          "message": "A login is already under way.", "id": 4}]
    s.auth_succeeded(ann(), "player", id=3)
    assert frames(s) == [{"type": "auth", "ok": True, "created": False, "id": 3,
                          "character": {"name": "Ann", "class": "warrior", "level": 2,
                                        "kind": "player", "role": "player"}}]
    s.receive(wire.Register("Ann", "pw", id=5))
    assert frames(s) == [{"type": "error", "code": "already_authenticated",
                          "message": "You are already playing.", "id": 5}]


def test_rate_limited_says_so() -> None:
    s = session(limits=Limits(rate=1.0, burst=1, queue=0))
    s.auth_succeeded(ann(), "player")
    s.outbox()
    s.receive(wire.Command("a"))
    s.receive(wire.Command("b", id=9))
    assert frames(s) == [{"type": "error", "code": "rate_limited", "id": 9,
                          "message": "Slow down: too many commands at once; this one was "
                                     "dropped."}]


def test_commands_and_queued_commands_run_for_this_session() -> None:
    s = session(limits=Limits(rate=1.0, burst=1, queue=5))
    s.auth_succeeded(ann(), "player")
    s.receive(wire.Command("a"))
    s.receive(wire.Command("b"))
    s.tick(5.0)
    assert [(who, m.line) for who, m in game_of(s).ran] == [(s, "a"), (s, "b")]


def test_usage_messages_go_to_the_shell() -> None:
    s = playing()
    msg = wire.Usage("report", model="m", id=4)
    s.receive(msg)
    assert s.requests == [GameRequest("usage_message", {"message": msg})]


def test_advance_goes_to_the_shell_only_while_playing() -> None:
    s = session()
    s.receive(wire.Advance(3, id=7))
    assert frames(s) == [{"type": "error", "code": "not_authenticated",
                          "message": "Log in first.", "id": 7}]
    assert s.requests == []
    s = playing()
    s.receive(wire.Advance(3, id=8))
    assert s.requests == [GameRequest("advance", {"ticks": 3, "id": 8})]


def test_an_agent_is_told_whose_it_is_at_login() -> None:
    s = session()
    s.agent = AgentIdentity("robo", "Robo", "olga", "k1", frozenset())
    s.auth_succeeded(ann(), "player", id=2)
    assert frames(s) == [{"type": "auth", "ok": True, "created": False, "id": 2,
                          "character": {"name": "Ann", "class": "warrior", "level": 2,
                                        "kind": "player", "role": "player", "owner": "olga"}}]


def test_tools_asks_the_game_for_this_session_with_or_without_all() -> None:
    s = playing()
    s.receive(wire.Tools(id="t"))
    s.receive(wire.Tools(all=True))
    assert game_of(s).tool_asks == [(s, False), (s, True)]
    assert frames(s) == [{"type": "tools", "id": "t", "tools": [{"name": "look",
                                                                "every": False}]},
                         {"type": "tools", "tools": [{"name": "look", "every": True}]}]


# ---- frames ------------------------------------------------------------------------------


def test_the_size_limit_counts_utf8_bytes_and_allows_exactly_the_limit() -> None:
    s = session(limits=Limits(max_message=64))
    exact = json.dumps({"type": "ping", "id": "x" * 38})
    assert len(exact) == 64
    s.receive_frame(exact, 1.0)
    assert frames(s) == [{"type": "pong", "id": "x" * 38}]
    s.receive_frame(exact + " ", 2.0)
    [too] = frames(s)
    assert too["code"] == "too_large"
    wide = json.dumps({"type": "ping", "id": "é" * 20}, ensure_ascii=False)  # 33 + 40 bytes
    assert len(wide) < 64 < len(wide.encode())
    s.receive_frame(wide, 3.0)
    assert [f["code"] for f in frames(s)] == ["too_large"]


def test_input_times_are_kept() -> None:
    s = session(now=3.0)
    assert s.last_input == 3.0
    s.receive_frame(json.dumps({"type": "ping"}), 12.5)
    assert (s.now, s.last_input) == (12.5, 12.5)


# ---- what a playing session shows ---------------------------------------------------------


def test_the_prompt_fills_every_field() -> None:
    s = playing(TEXT, prompt="%h/%H %m/%M %v/%V %x/%X L%l> ")
    s.say([("", "hello")])
    [frame] = s.outbox()
    assert frame == "hello\n" + a(("prompt", "20/24 3/5 90/100 1500/3031 L2> "))


def test_no_prompt_outside_play_and_none_when_set_empty() -> None:
    s = playing(TEXT, prompt="")
    s.say([("", "hi")])
    assert s.outbox() == ["hi\n"]
    s = playing(TEXT)
    s.close("bye")
    s.say([("", "bye")])
    assert s.outbox() == ["bye\n"]


def test_colour_follows_the_setting() -> None:
    s = playing(TEXT, color=False, prompt="")
    s.say([("error", "plain")])
    assert s.outbox() == ["plain\n"]
    s = playing(TEXT, prompt="")
    s.say([("error", "red")])
    assert s.outbox() == [a(("error", "red")) + "\n"]


def test_a_width_that_is_not_a_number_is_ignored() -> None:
    shown = []
    for settings in ({"width": "wide"}, {}):
        s = playing(TEXT, prompt="", **settings)
        s.say([("", "word " * 30)])
        shown.append(s.outbox())
    assert shown[0] == shown[1]


def test_structured_events_carry_colour_text_when_asked() -> None:
    s = playing()
    s.ansi = True
    s.deliver(Message("Look out!", "warning"))
    [event] = frames(s)
    assert event["text"] == render.ansi(render.render(Message("Look out!", "warning"), "Ann"))
    assert "\x1b[" in event["text"]


def test_notify_is_an_info_message() -> None:
    s = playing()
    s.notify([("", "Saved.")])
    [event] = frames(s)
    assert (event["name"], event["data"]) == ("message", {"text": "Saved.", "level": "info"})


def test_a_session_without_a_character_reads_as_a_bystander() -> None:
    s = session(TEXT)
    said = Said("Ann", "player", "hi")
    s.deliver(said)
    assert screen(s) == [render.ansi(render.render(said, ""))]
    assert render.plain(render.render(said, "")) == "Ann says, 'hi'"


# ---- points of view and the fan-out cache -------------------------------------------------


def test_own_events_read_you_with_or_without_a_shared_cache() -> None:
    said = Said("Ann", "player", "hi")
    for sub in (TEXT, JSON):
        alone = playing(sub, prompt="")
        alone.deliver(said)  # no cache: this session's own
        shared = playing(sub, prompt="")
        shared.deliver(said, {})
        for s in (alone, shared):
            text = s.outbox()[0]
            assert isinstance(text, str)
            assert "You say, 'hi'" in text and "Ann says" not in text


def test_one_cache_keeps_each_point_of_view_and_each_event_apart() -> None:
    cache: dict[Any, Any] = {}
    first, second = Said("Ann", "player", "one"), Said("Ann", "player", "two")
    for sub in (TEXT, JSON):
        mine, theirs = playing(sub, prompt="", color=False), session(sub)
        theirs.auth_succeeded(Character(id=2, name="Bob", kind=Kind.PLAYER, cls="mage",
                                        room="x:y", settings={"prompt": "", "color": False}),
                              "player")
        theirs.outbox()
        for event in (first, second):
            mine.deliver(event, cache)
            theirs.deliver(event, cache)
        got_mine = "".join(str(f) for f in mine.outbox())
        got_theirs = "".join(str(f) for f in theirs.outbox())
        assert "You say, 'one'" in got_mine and "You say, 'two'" in got_mine
        assert "Ann says, 'one'" in got_theirs and "Ann says, 'two'" in got_theirs
        assert "You say" not in got_theirs and "Ann says" not in got_mine


# ---- snooping ------------------------------------------------------------------------------


def test_a_snooping_admin_gets_a_plain_copy_of_what_is_shown() -> None:
    watcher = playing()
    s = playing(TEXT, prompt="")
    s.watchers.append(watcher)
    s.deliver(Said("Ann", "player", "hi"))  # the watched one's own words: "You say"
    s.deliver(Vitals(20, 24, 3, 5, 90, 100, 1500, 3031, 2, "standing", None))  # not copied
    s.say([("error", "Careful.")])
    s.echo("north", typed=True)
    copies = [f["data"] for f in frames(watcher)]
    assert copies == [{"target": "Ann", "text": "You say, 'hi'", "input": False},
                      {"target": "Ann", "text": "Careful.", "input": False},
                      {"target": "Ann", "text": "north", "input": True}]
    before_login = session(TEXT)
    before_login.watchers.append(watcher)
    before_login.echo("hello?")
    assert [f["data"] for f in frames(watcher)] == [{"target": "s7", "text": "hello?",
                                                    "input": False}]


@pytest.mark.parametrize("sub", [TEXT, JSON])
def test_snooped_copies_are_not_copied_again(sub: Subprotocol) -> None:
    watcher = playing(sub)
    s = playing(sub)
    s.watchers.append(watcher)
    s.deliver(Snooped("Cid", "x"))
    assert frames(watcher) == [] if sub is JSON else watcher.outbox() == []


# ---- the structured `exists` question ------------------------------------------------------


def test_structured_exists_asks_the_shell_one_at_a_time_within_the_bucket() -> None:
    s = session(limits=Limits(rate=1.0, burst=2, queue=5))
    s.receive(wire.Exists("Ann", id=1))
    assert s.requests == [AuthRequest("exists", "Ann", "", None, 1)]
    assert s.state is State.AUTHENTICATING
    s.receive(wire.Exists("Bob", id=2))
    assert frames(s) == [{"type": "error", "code": "busy",
                          "message": "A login is already under way.", "id": 2}]
    s.name_checked(True, None, id=1)
    assert frames(s) == [{"type": "exists", "name": "Ann", "exists": True, "id": 1}]
    assert s.state is State.CONNECTED
    s.receive(wire.Exists("Cy", id=3))  # the second token
    s.name_checked(False, "That name is not allowed.")
    assert frames(s) == [{"type": "exists", "name": "Cy", "exists": False,
                          "problem": "That name is not allowed."}]
    s.receive(wire.Exists("Di", id=4))  # no token left: one a second
    assert frames(s) == [{"type": "error", "code": "rate_limited",
                          "message": "Slow down: too many questions at once.", "id": 4}]
    assert len(s.requests) == 2
    s.receive_frame(json.dumps({"type": "ping"}), 1.0)  # a second later: one token again
    frames(s)
    s.receive(wire.Exists("Di", id=5))
    assert s.requests[-1] == AuthRequest("exists", "Di", "", None, 5)
    s.auth_succeeded(ann(), "player")
    frames(s)
    s.receive(wire.Exists("Ed", id=6))
    assert frames(s) == [{"type": "error", "code": "already_authenticated",
                          "message": "You are already playing.", "id": 6}]
