"""Text is wrapped once, per client: events carry paragraphs unwrapped, and a text-mode
session wraps them to the window (telnet NAWS), else to `width`, else to 80 columns."""

from __future__ import annotations

import json
from typing import Any

from server.gateway import render
from server.gateway.session import Limits, Session
from server.wire import Subprotocol
from world.entities import Character, Kind
from world.events import RoomShown

FIRST = ("Cobblestones worn smooth by cart wheels spread out around a round stone fountain, "
         "its basin green with moss. Market stalls crowd the east side, the Crooked Lantern "
         "tavern leans in from the west, and pale temple steps rise to the north.")
SECOND = "A notice board stands beside the fountain, dead and grey."


class Game:
    def run(self, session: Session, msg: Any) -> None:
        pass

    def tool_list(self, session: Session, every: bool = False) -> list[dict[str, Any]]:
        return []

    def class_names(self) -> dict[str, str]:
        return {"warrior": "Warrior"}


def session(sub: Subprotocol = Subprotocol.TEXT, **settings: object) -> Session:
    s = Session("t1", sub, Game(), Limits(), now=0.0)
    s.hello("Aegent Quest", "")
    s.outbox()
    ch = Character(id=1, name="Ann", kind=Kind.PLAYER, cls="mage", room="haven:square")
    ch.settings.update({"color": False, "prompt": "", **settings})
    s.auth_succeeded(ch, "player")
    s.outbox()
    return s


def room() -> RoomShown:
    return RoomShown(id="haven:square", title="Town Square",
                     description=FIRST + "\n" + SECOND, zone="haven", exits={"north": "x"},
                     doors={}, characters=[], items=[], flags=[])


def lines_of(s: Session) -> list[str]:
    s.deliver(room())
    [frame] = s.outbox()
    assert isinstance(frame, str)
    return frame.rstrip("\n").split("\n")


def paragraphs(lines: list[str]) -> list[list[str]]:
    """The description's paragraphs as wrapped: the lines between the title and exits."""
    body = lines[1:lines.index("[Exits: north]")]
    out: list[list[str]] = [[]]
    for line in body:
        out[-1].append(line)
        if line.endswith(("grey.", "north.")):
            out.append([])
    return [p for p in out if p]


def assert_wrapped_once(lines: list[str], width: int) -> None:
    """Every line fits, and in each paragraph no line was broken while the next line's
    first word would still have fitted on it."""
    assert max(len(line) for line in lines) <= width, lines
    for para in paragraphs(lines):
        for a, b in zip(para, para[1:], strict=False):
            assert len(a) + 1 + len(b.split()[0]) > width, (a, b)


def test_the_window_width_is_the_only_wrap() -> None:
    for width in (70, 120):
        s = session()
        s.width = width  # telnet NAWS
        lines = lines_of(s)
        assert_wrapped_once(lines, width)
        assert [" ".join(p) for p in paragraphs(lines)] == [FIRST, SECOND]  # both stay
    s = session()
    s.width = 120
    assert max(len(line) for line in lines_of(s)) > 78  # no old wrap at 78 underneath


def test_without_a_window_the_setting_then_80_columns() -> None:
    lines = lines_of(session())
    assert_wrapped_once(lines, 80)
    assert max(map(len, lines)) > 78
    assert_wrapped_once(lines_of(session(width=60)), 60)
    assert FIRST in lines_of(session(width=0))  # `width off`: not wrapped at all
    s = session(width=60)
    s.width = 100  # the client's own window wins
    assert max(map(len, lines_of(s))) > 60


def test_structured_clients_get_paragraphs_unwrapped() -> None:
    s = session(Subprotocol.JSON)
    s.deliver(room())
    [frame] = s.outbox()
    msg = json.loads(frame)
    assert msg["text"] == f"Town Square\n{FIRST}\n{SECOND}\n[Exits: north]"
    assert msg["data"]["description"] == FIRST + "\n" + SECOND


def test_wrapped_lines_keep_their_indent() -> None:
    text = "  1. Rat Catcher: kill a rat. Not yet: 0 of 4 killed, so go on down to the cellar."
    assert render.wrap(text, 40) == ("  1. Rat Catcher: kill a rat. Not yet: 0\n"
                                     "  of 4 killed, so go on down to the\n"
                                     "  cellar.")
    assert render.wrap("one   two three", 10) == "one   two\nthree"
    assert render.wrap("one two      three", 10) == "one two\nthree"  # a run of spaces goes


def test_the_text_greeting_is_said_once() -> None:
    s = Session("t1", Subprotocol.TEXT, Game(), Limits(), now=0.0)
    s.hello("Aegent Quest", "Welcome to Aegent Quest, where people and agents play.")
    [frame] = s.outbox()
    assert isinstance(frame, str) and frame.count("Aegent Quest") == 1
