"""The session hooks telnet uses, sans I/O: password flag, wrap width, GMCP side channel."""

from __future__ import annotations

import re
from typing import Any

from server import wire
from server.gateway import gmcp, render
from server.gateway.session import Limits, Session, State
from server.wire import Subprotocol
from world.entities import Character, Item, ItemType, Kind
from world.events import GoldChanged, RoomShown, Said, Shouted, Told, Vitals

ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


class FakeGame:
    """A `GamePort` that runs nothing."""

    def run(self, session: Session, msg: wire.Command | wire.CallTool) -> None:
        pass

    def tool_list(self, session: Session, every: bool = False) -> list[dict[str, Any]]:
        return []

    def class_names(self) -> dict[str, str]:
        return {"warrior": "Warrior", "mage": "Mage"}


def text_session() -> Session:
    session = Session("t1", Subprotocol.TEXT, FakeGame(), Limits(), now=0.0)
    session.hello("Aegent Quest", "")
    session.outbox()
    return session


def ann() -> Character:
    return Character(id=1, name="Ann", kind=Kind.PLAYER, cls="mage", room="haven:square",
                     level=3)


def room() -> RoomShown:
    return RoomShown(id="haven:square", title="Town Square",
                     description="A wide square. " * 12, zone="haven",
                     exits={"north": "haven:temple_steps"}, doors={}, characters=[], items=[],
                     flags=[])


def vitals() -> Vitals:
    return Vitals(hp=10, max_hp=20, mana=5, max_mana=5, moves=90, max_moves=100, level=3,
                  xp=10, xp_next=3000, position="standing", fighting=None)


def state(session: Session) -> State:
    return session.state  # (a call, so that type checkers do not narrow the attribute)


def test_password_expected_during_the_password_questions_only() -> None:
    session = text_session()
    assert state(session) is State.ASK_NAME and not session.password_expected
    session.receive_frame("Ann", 0.0)
    session.name_checked(True, None)
    assert state(session) is State.ASK_PASSWORD and session.password_expected
    session.receive_frame("secret password", 0.0)
    assert not session.password_expected  # authenticating
    session.auth_failed("auth_failed", "Wrong name or password.")
    session.receive_frame("Bob", 0.0)
    session.name_checked(False, None)
    session.receive_frame("y", 0.0)
    assert state(session) is State.NEW_PASSWORD and session.password_expected
    session.receive_frame("a long secret", 0.0)
    assert state(session) is State.CONFIRM_PASSWORD and session.password_expected
    session.receive_frame("a long secret", 0.0)
    assert state(session) is State.CHOOSE_CLASS and not session.password_expected


def test_width_wraps_text_output_not_counting_colour() -> None:
    session = text_session()
    session.auth_succeeded(ann(), "player")
    session.width = 30
    session.deliver(room())
    text = session.outbox()[0]
    assert isinstance(text, str)
    body = text.rsplit("\n", 1)[0]  # the prompt is the last line
    assert "\x1b[" in body
    widths = [len(ANSI_CODE.sub("", line)) for line in body.split("\n")]
    assert max(widths) <= 30 and max(widths) >= 25
    assert "Town Square" in text
    # no window size: the default width (80)
    session.width = None
    session.deliver(room())
    unwrapped = session.outbox()[0]
    assert isinstance(unwrapped, str)
    assert max(len(ANSI_CODE.sub("", line)) for line in unwrapped.split("\n")) > 30


def test_wrap() -> None:
    assert render.wrap("one two three four", 3) == "one two\nthree four"  # 10 at least
    assert render.wrap("one two three four five", 10) == "one two\nthree four\nfive"
    assert render.wrap("a" * 25, 10) == "a" * 10 + "\n" + "a" * 10 + "\n" + "a" * 5
    assert render.wrap("keep\nbreaks here", 10) == "keep\nbreaks\nhere"
    coloured = render.ansi([("say", "You say, 'hello there friend'")])
    wrapped = render.wrap(coloured, 12)
    assert ANSI_CODE.sub("", wrapped) == "You say,\n'hello there\nfriend'"
    assert wrapped.startswith("\x1b[1;33m") and wrapped.endswith(render.RESET)


def test_gmcp_messages_when_enabled() -> None:
    session = text_session()
    session.gmcp_enabled = True
    session.auth_succeeded(ann(), "player")
    assert [p for p, _ in session.gmcp_out] == ["Char.Name", "Char.Status", "Comm.Channel.List"]
    assert session.gmcp_out[1][1] == {"name": "Ann", "fullname": "Ann", "level": 3,
                                      "class": "mage", "gold": 0, "xp": 0}
    session.gmcp_out.clear()
    session.deliver(vitals())
    session.deliver(room())
    session.deliver(Said("Bob", "player", "hi"))
    session.deliver(Told("Bob", "player", "Ann", "psst"))
    session.deliver(Shouted("Cat", "agent", "HEY"))
    packages = [p for p, _ in session.gmcp_out]
    assert packages == ["Char.Vitals", "Room.Info", "Comm.Channel.Text", "Comm.Channel.Text",
                        "Comm.Channel.Text"]
    data = dict(session.gmcp_out[:2])
    assert data["Char.Vitals"]["hp"] == 10 and data["Char.Vitals"]["max_hp"] == 20
    assert data["Room.Info"]["num"] == gmcp.room_number("haven:square")
    assert data["Room.Info"]["exits"] == {"n": gmcp.room_number("haven:temple_steps")}
    said, told = session.gmcp_out[2][1], session.gmcp_out[3][1]
    assert "\x1b[" in said["text"]  # the line as the session shows it: in colour, as IRE's
    assert {**said, "text": ANSI_CODE.sub("", said["text"])} == {
        "channel": "say", "talker": "Bob", "message": "hi", "text": "Bob says, 'hi'"}
    assert {**told, "text": ANSI_CODE.sub("", told["text"])} == {
        "channel": "tell", "talker": "Bob", "message": "psst", "text": "Bob tells you, 'psst'",
        "target": "Ann"}
    # the text is unchanged; the inventory (no world here) comes with the next take
    assert "Bob says, 'hi'" in ANSI_CODE.sub("", str(session.outbox()[0]))
    taken = session.take_gmcp()
    assert [p for p, _ in taken[:5]] == packages
    assert taken[5] == ("Char.Items.List", {"location": "inv", "items": []})
    assert session.gmcp_out == [] and session.take_gmcp() == []


def test_no_gmcp_unless_enabled() -> None:
    session = text_session()
    session.auth_succeeded(ann(), "player")
    session.deliver(vitals())
    session.deliver(room())
    assert session.gmcp_out == []
    structured = Session("j1", Subprotocol.JSON, FakeGame(), Limits(), now=0.0)
    structured.auth_succeeded(ann(), "player")
    structured.deliver(room())
    assert structured.gmcp_out == [] and len(structured.outbox()) == 2


def test_room_numbers_are_stable() -> None:
    assert gmcp.room_number("haven:square") == gmcp.room_number("haven:square")
    assert gmcp.room_number("haven:square") != gmcp.room_number("haven:tavern")
    assert 0 < gmcp.room_number("haven:square") < 2**31


# ---- GMCP, pinned: requests, the lists' sync, and where the channel brackets go -------------


def gmcp_session(**settings: Any) -> Session:
    """A text session with GMCP, playing Ann (with these settings); nothing queued."""
    session = text_session()
    session.gmcp_enabled = True
    character = ann()
    character.settings.update(settings)
    session.auth_succeeded(character, "player")
    session.outbox()
    session.take_gmcp()
    return session


def plain(text: str) -> str:
    return ANSI_CODE.sub("", text)


def test_gmcp_requests_are_answered_only_while_playing_with_gmcp_on() -> None:
    waiting = text_session()
    waiting.gmcp_enabled = True
    waiting.gmcp_request("Char.Items.Inv", "")
    assert waiting.gmcp_out == []  # not logged in yet
    off = text_session()
    off.auth_succeeded(ann(), "player")
    off.gmcp_request("Char.Items.Inv", "")
    assert off.gmcp_out == [] and off.take_gmcp() == []  # no GMCP: no sync either
    session = gmcp_session()
    session.gmcp_request("Char.Items.Inv", "")
    assert session.gmcp_out == [("Char.Items.List", {"location": "inv", "items": []})]
    session.gmcp_out.clear()
    coin = Item(id=8, proto="", name="a coin", keywords=("coin",), description="")
    bag = Item(id=7, proto="", name="a bag", keywords=("bag",), description="",
               type=ItemType.CONTAINER, contents=[coin])
    assert session.character is not None
    session.character.inventory.append(bag)
    session.gmcp_request("Char.Items.Contents", "7")  # what is in the bag of id 7
    assert session.gmcp_out == [("Char.Items.List", {
        "location": "rep7", "items": [{"id": "8", "name": "a coin", "keyword": "coin"}]})]


def test_take_gmcp_syncs_the_lists_only_while_playing() -> None:
    session = text_session()
    session.gmcp_enabled = True
    session.gmcp_out.append(("Core.Hello", {}))
    assert session.take_gmcp() == [("Core.Hello", {})]  # not playing: no lists
    session.auth_succeeded(ann(), "player")
    assert [p for p, _ in session.take_gmcp()] == [  # after a login, the lists whole
        "Char.Name", "Char.Status", "Comm.Channel.List", "Char.Items.List"]
    assert session.take_gmcp() == []  # nothing happened since
    session.deliver(Said("Bob", "player", "hi"))
    assert [p for p, _ in session.take_gmcp()] == ["Comm.Channel.Text"]  # the same things


def test_channel_text_keeps_colour_only_for_a_colour_client() -> None:
    grey = gmcp_session(color=False)
    grey.deliver(Said("Bob", "player", "hi"))
    assert grey.gmcp_out[0][1]["text"] == "Bob says, 'hi'"
    bright = gmcp_session()
    bright.deliver(Said("Bob", "player", "hi"))
    assert bright.gmcp_out[0][1]["text"] != "Bob says, 'hi'"
    assert plain(bright.gmcp_out[0][1]["text"]) == "Bob says, 'hi'"


def brackets(session: Session, frame: str) -> list[tuple[str, str, str]]:
    """Each inline message: (package, channel, the text from its offset to the next)."""
    marks = session.gmcp_inline
    ends = [at for at, _ in marks[1:]] + [len(frame)]
    return [(package, data, plain(frame[at:end])) for (at, (package, data)), end
            in zip(marks, ends, strict=True)]


def test_channel_brackets_go_around_the_line_in_the_frame() -> None:
    session = gmcp_session()
    session.deliver(Said("Bob", "player", "first"))
    session.deliver(vitals())  # no line: no bracket, and no shift
    session.deliver(Told("Ann", "player", "Bob", "psst"))  # Ann's own tell, to Bob
    [frame] = session.outbox()
    assert isinstance(frame, str)
    got = brackets(session, frame)
    assert [(p, d) for p, d, _ in got] == [
        ("Comm.Channel.Start", "say"), ("Comm.Channel.End", "say"),
        ("Comm.Channel.Start", "tell Bob"), ("Comm.Channel.End", "tell Bob")]
    assert got[0][2] == "Bob says, 'first'\n"
    assert got[2][2] == "You tell Bob, 'psst'\n"
    assert session.gmcp_inline[0][0] == 0 and session.gmcp_out == [
        ("Comm.Channel.Text", session.gmcp_out[0][1]), ("Char.Vitals", session.gmcp_out[1][1]),
        ("Comm.Channel.Text", session.gmcp_out[2][1])]


def test_channel_brackets_count_the_lines_as_wrapped() -> None:
    session = gmcp_session()
    session.width = 30
    session.deliver(room())  # a long description: several lines at 30 columns
    session.deliver(Shouted("Cat", "agent", "HEY " * 12))
    [frame] = session.outbox()
    assert isinstance(frame, str)
    got = brackets(session, frame)
    assert [(p, d) for p, d, _ in got] == [("Comm.Channel.Start", "shout"),
                                           ("Comm.Channel.End", "shout")]
    before = plain(frame[:session.gmcp_inline[0][0]])
    assert before.startswith("Town Square") and before.endswith("\n")
    shout = got[0][2]
    assert shout.startswith("[AI] Cat shouts") and shout.count("\n") > 1  # wrapped, then the end
    assert "HEY" not in got[1][2]  # after the end: the prompt only
    assert session.gmcp_inline[1][0] < len(frame)


def test_gmcp_events_are_read_for_the_sessions_character() -> None:
    session = gmcp_session()
    assert session.character is not None
    session.character.gold = 12
    session.deliver(GoldChanged(12, 12, "got"))  # the character's status goes along
    session.deliver(Told("Ann", "player", "Bob", "psst"))  # Ann's own tell: the tell to Bob
    assert session.gmcp_out[0] == ("Char.Status", {
        "name": "Ann", "fullname": "Ann", "level": 3, "class": "mage", "gold": 12, "xp": 0})
    assert session.gmcp_out[1][0] == "Comm.Channel.Text"
    assert plain(session.gmcp_out[1][1]["text"]) == "You tell Bob, 'psst'"


def test_a_notice_before_login_brackets_nothing() -> None:
    session = text_session()
    session.gmcp_enabled = True
    session.notify([("", "The server restarts in a minute.")])
    assert session.gmcp_out == [] and session.gmcp_inline == []
    assert "restarts" in str(session.outbox()[0])


def test_channel_brackets_in_a_frame_not_wrapped() -> None:
    session = gmcp_session(width=0)  # the character turned wrapping off
    session.deliver(room())
    session.deliver(Said("Bob", "player", "hi"))
    [frame] = session.outbox()
    assert isinstance(frame, str)
    got = brackets(session, frame)
    assert got[0][:2] == ("Comm.Channel.Start", "say") and got[0][2] == "Bob says, 'hi'\n"
    assert plain(frame[:session.gmcp_inline[0][0]]).count("\n") == 3  # the room, unwrapped
