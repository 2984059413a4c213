"""Golden text for a few events: what people read, plain and in colour."""

from __future__ import annotations

import pytest

from server.gateway import render
from world import events as ev


def plain(event: ev.Event, viewer: str) -> str:
    return render.plain(render.render(event, viewer))


def test_said_by_you_and_by_others() -> None:
    said = ev.Said("Ann", "player", "hello there")
    assert plain(said, "Ann") == "You say, 'hello there'"
    assert plain(said, "Bob") == "Ann says, 'hello there'"


def test_agents_are_tagged() -> None:
    said = ev.Said("Robo", "agent", "beep")
    assert plain(said, "Bob") == "[AI] Robo says, 'beep'"
    assert render.ansi(render.render(said, "Bob")) == (
        "\x1b[1;34m[AI] \x1b[0m\x1b[1;37mRobo\x1b[0m\x1b[1;33m says, 'beep'\x1b[0m")
    assert plain(ev.Arrived("Robo", "agent", "west"), "Ann") == (
        "[AI] Robo arrives from the west.")


def test_ansi_has_escape_codes_and_plain_has_none() -> None:
    spans = render.render(ev.Shouted("Ann", "player", "wolves!"), "Bob")
    assert "\x1b[" in render.ansi(spans)
    assert "\x1b" not in render.plain(spans)
    assert render.plain(spans) == "Ann shouts, 'wolves!'"


def test_players_cannot_inject_escape_codes() -> None:
    said = ev.Said("Ann", "player", "\x1b[2Jgotcha\x07")
    assert plain(said, "Bob") == "Ann says, '[2Jgotcha'"


@pytest.mark.parametrize(("event", "viewer", "text"), [
    (ev.Told("Ann", "player", "Bob", "psst"), "Ann", "You tell Bob, 'psst'"),
    (ev.Told("Ann", "player", "Bob", "psst"), "Bob", "Ann tells you, 'psst'"),
    (ev.Emoted("Ann", "player", "waves."), "Ann", "Ann waves."),
    (ev.Arrived("Ann", "player", "up"), "Bob", "Ann arrives from above."),
    (ev.Arrived("Ann", "player", None), "Bob", "Ann arrives."),
    (ev.Departed("Ann", "player", "north"), "Bob", "Ann leaves north."),
    (ev.Departed("Ann", "player", "down"), "Bob", "Ann leaves downwards."),
    (ev.DoorChanged("Ann", "south", "gate", "opened"), "Ann", "You open the gate to the south."),
    (ev.DoorChanged("Ann", "down", "trapdoor", "unlocked"), "Bob",
     "Ann unlocks the trapdoor down."),
    (ev.DoorChanged("someone", "north", "gate", "closed"), "Bob",
     "The gate to the north is closed from the other side."),
    (ev.ItemMoved("Ann", "a brass key", "key", "got"), "Ann", "You get a brass key."),
    (ev.ItemMoved("Ann", "a brass key", "key", "dropped"), "Bob", "Ann drops a brass key."),
    (ev.PositionChanged("Ann", "sleeping"), "Ann", "You go to sleep."),
    (ev.PositionChanged("Ann", "resting"), "Bob", "Ann sits down and rests."),
    (ev.Entered("Ann", "player", True), "Bob", "Ann has reconnected."),
    (ev.Left("Ann", "player", "quit"), "Bob", "Ann has left the game."),
    (ev.LinkLost("Ann"), "Bob", "Ann has lost their link."),
    (ev.InventoryListed([], 0, 100), "Ann", "You are carrying nothing."),
    (ev.Vitals(20, 24, 0, 0, 97, 100, 1, 0, 1000, "standing", None), "Ann",
     "HP 20/24  Mana 0/0  Moves 97/100"),
])
def test_golden_lines(event: ev.Event, viewer: str, text: str) -> None:
    assert plain(event, viewer) == text


def test_a_room() -> None:
    room = ev.RoomShown(
        id="haven:gate_yard", title="Gate Yard", description="An open yard.", zone="haven",
        exits={"north": "haven:south_street", "south": "haven:outside_gate"},
        doors={"south": {"name": "gate", "closed": True, "locked": False}},
        characters=[{"name": "Robo", "keyword": "robo", "kind": "agent", "level": 1,
                     "position": "resting", "linkdead": True}],
        items=[{"name": "a brass key", "keyword": "key", "short": ""}], flags=[],
    )
    assert plain(room, "Ann") == (
        "Gate Yard\nAn open yard.\n[Exits: north (south)]\nA brass key is here.\n"
        "[AI] Robo is resting here. (link-dead)")


def test_the_prompt() -> None:
    spans = render.prompt_spans("<24hp 0m 97mv> \x1b[2J")
    assert render.plain(spans) == "<24hp 0m 97mv> [2J"  # no escapes from a player's prompt
    assert render.ansi(spans) == "\x1b[32m<24hp 0m 97mv> [2J\x1b[0m"


def test_every_wire_event_has_a_renderer() -> None:
    # The module's own classes (slotted dataclasses leave their pre-slots twins behind).
    classes = [c for c in vars(ev).values()
               if isinstance(c, type) and issubclass(c, ev.Event) and c is not ev.Event]
    wire_events = [c for c in classes if not c.internal]
    assert len(wire_events) > 15
    missing = [c.__name__ for c in wire_events if c not in render.RENDERERS]
    assert missing == []


def test_personal_events() -> None:
    assert render.is_personal(ev.Said("Ann", "player", "hi"))
    assert not render.is_personal(ev.Emoted("Ann", "player", "waves."))
    assert not render.is_personal(ev.Entered("Ann", "player", False))
