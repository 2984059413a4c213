"""Commands against the real starter content, asserted on events (names and data), not English.

Every test builds a fresh `World` from the content (loaded once per process) with Ann
(a warrior) and Bob (a mage) standing in the town square, haven:square.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from helpers import events, log_of, names, new_world, starter_content

from world.commands.registry import (
    REGISTRY,
    Call,
    ParamKind,
    allowed,
    bind_call,
    parse_line,
    tool_schema,
)
from world.directions import Direction
from world.entities import Character, Position, Role
from world.errors import Code, Refused
from world.events import Delivery
from world.rules import REGEN_EVERY
from world.world import World

try:  # the real validator when the venv has it; the structural check below always runs
    import jsonschema
except ImportError:  # pragma: no cover - depends on the environment
    jsonschema = None

SEED = 7
SQUARE = "haven:square"


@dataclass
class Game:
    """A world with Ann and Bob in the square, and shorthands to act and to read events."""

    world: World
    ann: Character
    bob: Character

    def ok(self, who: Character, line: str) -> list[Delivery]:
        """Run a line that must succeed; return what it caused."""
        refusal = self.world.perform_line(who, line)
        assert refusal is None, (line, refusal.code, refusal.message)
        return self.world.drain()

    def ok_call(self, who: Character, tool: str, **args: Any) -> list[Delivery]:
        """Run a structured call that must succeed; return what it caused."""
        refusal = self.world.perform(who, Call(tool, args))
        assert refusal is None, (tool, args, refusal.code, refusal.message)
        return self.world.drain()

    def refused(self, who: Character, line: str | Call) -> str:
        """Run a line or call that must be refused with no event; return the code."""
        if isinstance(line, Call):
            refusal = self.world.perform(who, line)
        else:
            refusal = self.world.perform_line(who, line)
        assert refusal is not None, f"{line!r} was not refused"
        assert refusal.message
        assert self.world.drain() == []
        return refusal.code

    def enter(self, name: str, cls: str = "warrior", room: str | None = None,
              role: Role = Role.PLAYER) -> Character:
        """Bring in another character, optionally moved to `room`; drains."""
        ch = self.world.enter(name, cls, role=role)
        if room is not None:
            self.world.move(ch, room)
        self.world.drain()
        return ch


def new_game(seed: int = SEED) -> Game:
    world = new_world(seed)
    ann = world.enter("Ann", "warrior")
    bob = world.enter("Bob", "mage")
    world.drain()
    return Game(world, ann, bob)


@pytest.fixture
def g() -> Game:
    return new_game()


def state_of(ch: Character) -> tuple[Any, ...]:
    return (ch.room, ch.moves, ch.hp, ch.mana, ch.position, [it.proto for it in ch.inventory])


# ---- entering --------------------------------------------------------------------------


def test_enter_greets_the_newcomer_and_tells_the_room() -> None:
    world = new_world(SEED)
    world.enter("Ann", "warrior")
    first = world.drain()
    assert [(d.recipient.name, d.event.name) for d in first] == [("Ann", "room"), ("Ann", "vitals")]
    world.enter("Bob", "mage")
    second = world.drain()
    assert [(d.recipient.name, d.event.name) for d in second] == [
        ("Ann", "entered_game"), ("Bob", "room"), ("Bob", "vitals")]
    assert events(second, "entered_game") == [
        {"actor": "Bob", "kind": "player", "reconnected": False, "level": 1}]
    assert events(second, "vitals")[0]["max_mana"] == 30  # a mage, from classes.yaml


def test_enter_refuses_a_duplicate_or_an_unknown_class(g: Game) -> None:
    with pytest.raises(ValueError):
        g.world.enter("ann", "warrior")
    with pytest.raises(ValueError):
        g.world.enter("Cara", "necromancer")


# ---- movement --------------------------------------------------------------------------

NORTH_FORMS: list[str | Call] = [
    "n", "north", "go north", "go n", "walk north", "NORTH", "  n  ", "nor",
    Call("go", {"direction": "north"}), Call("go", {"direction": "n"}),
]


def _move_north(form: str | Call) -> tuple[list[Any], tuple[Any, ...]]:
    game = new_game()
    if isinstance(form, Call):
        refusal = game.world.perform(game.ann, form)
    else:
        refusal = game.world.perform_line(game.ann, form)
    assert refusal is None
    game.world.tick()
    return log_of(game.world.drain()), state_of(game.ann)


@pytest.mark.parametrize("form", NORTH_FORMS, ids=repr)
def test_every_form_of_north_gives_the_same_events(form: str | Call) -> None:
    assert _move_north(form) == _move_north(Call("go", {"direction": "north"}))


def test_moving_tells_both_rooms_and_shows_the_new_one(g: Game) -> None:
    cara = g.enter("Cara", room="haven:temple_steps")
    out = g.ok(g.ann, "n")
    assert g.ann.room == "haven:temple_steps"
    assert [(d.recipient.name, d.event.name) for d in out] == [
        ("Bob", "departed"), ("Cara", "arrived"), ("Ann", "room")]
    assert events(out, "departed") == [{"actor": "Ann", "kind": "player", "direction": "north"}]
    # She arrives from the south, where she came from.
    assert events(out, "arrived") == [{"actor": "Ann", "kind": "player", "direction": "south",
                                       "level": 1}]
    room = events(out, "room")[0]
    assert room["id"] == "haven:temple_steps"
    assert [c["name"] for c in room["characters"]] == [cara.name]
    back = g.ok(g.ann, "s")
    assert events(back, "arrived", "Bob") == [
        {"actor": "Ann", "kind": "player", "direction": "north", "level": 1}]
    assert events(back, "departed", "Cara")[0]["direction"] == "south"


def test_moving_costs_moves_and_the_next_tick_sends_vitals(g: Game) -> None:
    before = g.ann.moves
    out = g.ok(g.ann, "e")
    assert g.ann.moves == before - 1
    assert "vitals" not in names(out)
    g.world.tick()
    ticked = g.world.drain()
    assert [(d.recipient.name, d.event.name) for d in ticked] == [("Ann", "vitals")]
    assert ticked[0].event.to_data()["moves"] == before - 1
    g.world.tick()
    assert g.world.drain() == []  # nothing changed since


def test_no_exit_is_refused_and_nothing_changes(g: Game) -> None:
    before = state_of(g.ann)
    for line in ("sw", "up", "go down", Call("go", {"direction": "northeast"})):
        assert g.refused(g.ann, line) == Code.NO_EXIT
    assert state_of(g.ann) == before
    g.world.tick()
    assert g.world.drain() == []


def test_exhausted_characters_cannot_walk(g: Game) -> None:
    g.ann.moves = 0
    assert g.refused(g.ann, "n") == Code.EXHAUSTED
    assert g.ann.room == SQUARE


def test_a_closed_door_blocks_the_way(g: Game) -> None:
    g.world.move(g.ann, "haven:gate_yard")
    before = state_of(g.ann)
    assert g.refused(g.ann, "s") == Code.DOOR_CLOSED
    assert state_of(g.ann) == before


# ---- doors -----------------------------------------------------------------------------


def test_open_and_close_a_door_seen_from_both_sides(g: Game) -> None:
    g.world.move(g.ann, "haven:gate_yard")
    cara = g.enter("Cara", room="haven:outside_gate")
    out = g.ok(g.ann, "open gate")
    assert log_of(out) == [
        ("Ann", "door_changed",
         {"actor": "Ann", "direction": "south", "door": "gate", "action": "opened"}),
        ("Cara", "door_changed",
         {"actor": "someone", "direction": "north", "door": "gate", "action": "opened"}),
    ]
    assert g.refused(g.ann, "open s") == Code.ALREADY
    # One door, two sides: Cara walks in through it.
    g.ok(cara, "n")
    assert cara.room == "haven:gate_yard"
    g.ok(cara, "s")
    closed = g.ok(cara, "close north")
    assert events(closed, "door_changed", "Cara")[0]["action"] == "closed"
    assert events(closed, "door_changed", "Ann")[0]["actor"] == "someone"
    assert g.refused(g.ann, "close gate") == Code.ALREADY
    assert g.refused(g.ann, "s") == Code.DOOR_CLOSED
    # The gate has no key: it cannot be locked.
    assert g.refused(g.ann, "lock gate") == Code.NO_KEY


def test_door_words_that_are_not_doors(g: Game) -> None:
    assert g.refused(g.ann, "open n") == Code.NOT_A_DOOR  # an exit, but no door
    assert g.refused(g.ann, "open sw") == Code.NO_EXIT
    assert g.refused(g.ann, "open banana") == Code.NOT_HERE
    assert g.refused(g.ann, "open") == Code.BAD_ARGS


def test_doors_by_name_or_direction(g: Game) -> None:
    g.world.move(g.ann, "haven:market_row")
    assert events(g.ok(g.ann, "open door"), "door_changed", "Ann")[0]["direction"] == "north"
    g.ok(g.ann, "n")
    assert g.ann.room == "haven:shop"
    assert events(g.ok(g.ann, "close s"), "door_changed", "Ann")[0]["door"] == "door"


def test_locked_trapdoor_with_and_without_the_key(g: Game) -> None:
    g.ok(g.ann, "w")
    assert g.ann.room == "haven:tavern"
    g.world.move(g.bob, "haven:cellar")
    g.world.drain()
    assert g.refused(g.ann, "open down") == Code.DOOR_LOCKED
    assert g.refused(g.ann, "open trapdoor") == Code.DOOR_LOCKED
    assert g.refused(g.ann, "d") == Code.DOOR_CLOSED
    assert g.refused(g.ann, "unlock trapdoor") == Code.NO_KEY
    assert g.refused(g.ann, "lock trapdoor") == Code.ALREADY
    assert g.refused(g.bob, "unlock up") == Code.NO_KEY

    # The key lies in the stable, south of the tavern.
    g.ok(g.ann, "s")
    got = g.ok(g.ann, "get key")
    assert events(got, "item_moved", "Ann") == [
        {"actor": "Ann", "item": "a brass cellar key", "keyword": "key", "action": "got",
         "container": None, "target": None}]
    g.ok(g.ann, "n")

    out = g.ok(g.ann, "unlock trapdoor")
    assert log_of(out) == [
        ("Ann", "door_changed",
         {"actor": "Ann", "direction": "down", "door": "trapdoor", "action": "unlocked"}),
        ("Bob", "door_changed",
         {"actor": "someone", "direction": "up", "door": "trapdoor", "action": "unlocked"}),
    ]
    assert g.refused(g.ann, "unlock down") == Code.ALREADY
    assert events(g.ok(g.ann, "open d"), "door_changed", "Ann")[0]["action"] == "opened"
    assert g.refused(g.ann, "lock trapdoor") == Code.POSITION  # close it first
    assert events(g.ok(g.ann, "d"), "room", "Ann")[0]["id"] == "haven:cellar"

    # Bob, without the key, may close it but not lock it; Ann locks it from below.
    g.ok(g.bob, "close up")
    assert g.refused(g.bob, "lock up") == Code.NO_KEY
    locked = g.ok(g.ann, "lock up")
    assert events(locked, "door_changed", "Bob")[0]["action"] == "locked"
    assert g.refused(g.bob, "open up") == Code.DOOR_LOCKED
    # The room event tells structured clients about the door's state.
    door = events(g.ok(g.ann, "look"), "room")[0]["doors"]["up"]
    assert door == {"name": "trapdoor", "closed": True, "locked": True}


# ---- look ------------------------------------------------------------------------------


def test_look_shows_the_room_with_the_mandated_fields(g: Game) -> None:
    out = g.ok(g.ann, "look")
    assert [(d.recipient.name, d.event.name) for d in out] == [("Ann", "room")]
    room = out[0].event.to_data()
    for key in ("id", "name", "description", "exits", "characters", "items"):
        assert key in room
    assert room["id"] == SQUARE
    assert room["name"] == "Town Square"
    assert "fountain" in room["description"]
    assert room["exits"] == {"north": "haven:temple_steps", "east": "haven:market_row",
                             "west": "haven:tavern", "south": "haven:south_street"}
    # Everyone but the viewer.
    assert [{k: c[k] for k in ("name", "keyword", "kind", "level")}
            for c in room["characters"]] == [
        {"name": "Bob", "keyword": "bob", "kind": "player", "level": 1}]
    assert [{k: i[k] for k in ("name", "keyword")} for i in room["items"]] == [
        {"name": "a paper map of Haven", "keyword": "map"}]
    json.dumps(room)  # wire-safe


@pytest.mark.parametrize("form", ["l", "look here", "look room", "LOOK", "  look  ", "look at"])
def test_other_ways_to_look_at_the_room(g: Game, form: str) -> None:
    assert log_of(g.ok(g.ann, form)) == log_of(g.ok(g.ann, "look"))


def test_look_at_the_room_by_call(g: Game) -> None:
    expected = log_of(g.ok(g.ann, "look"))
    assert log_of(g.ok_call(g.ann, "look")) == expected
    assert log_of(g.ok_call(g.ann, "look", target="at ")) == expected


def test_look_at_a_character(g: Game) -> None:
    out = g.ok(g.ann, "look bob")
    assert names(out) == ["looked_at"]
    seen = out[0].event.to_data()
    assert (seen["target"], seen["target_kind"]) == ("Bob", "player")
    assert seen["details"]["class"] == "mage"
    assert seen["details"]["level"] == 1
    assert seen["details"]["condition"] == "excellent"
    assert events(g.ok(g.ann, "look me"), "looked_at")[0]["target"] == "Ann"


def test_look_at_an_item_on_the_floor_and_carried(g: Game) -> None:
    seen = events(g.ok(g.ann, "look map"), "looked_at")[0]
    assert (seen["target"], seen["target_kind"]) == ("a paper map of Haven", "item")
    assert seen["details"]["keyword"] == "map"
    g.ok(g.ann, "get map")
    assert events(g.ok(g.ann, "look at paper"), "looked_at")[0]["target_kind"] == "item"


@pytest.mark.parametrize(("word", "feature"), [
    ("fountain", "fountain"), ("at fountain", "fountain"), ("board", "notice board"),
    ("notice", "notice board"), ("notice board", "notice board"),
    ("'notice board'", "notice board"), ("at notice board", "notice board"),
    ("in fountain", "fountain"), ("cobble", "cobblestones"),
])
def test_look_at_a_feature(g: Game, word: str, feature: str) -> None:
    seen = events(g.ok(g.ann, f"look {word}"), "looked_at")[0]
    assert (seen["target"], seen["target_kind"]) == (feature, "feature")
    assert seen["description"] == starter_content().rooms[SQUARE].extras[feature]


@pytest.mark.parametrize("word", ["n", "north", "at n"])
def test_look_at_a_direction_beats_a_feature(g: Game, word: str) -> None:
    # The square has a "notice board": `look n` still looks north.
    seen = events(g.ok(g.ann, f"look {word}"), "looked_at")[0]
    assert (seen["target"], seen["target_kind"]) == ("north", "exit")
    assert seen["details"] == {"to": "haven:temple_steps", "door": None}


def test_look_through_a_closed_door(g: Game) -> None:
    g.world.move(g.ann, "haven:tavern")
    seen = events(g.ok(g.ann, "look d"), "looked_at")[0]
    assert seen["details"] == {"to": "haven:cellar", "door": "trapdoor"}


def test_look_at_nothing_there(g: Game) -> None:
    assert g.refused(g.ann, "look sw") == Code.NO_EXIT
    assert g.refused(g.ann, "look xyzzy") == Code.NOT_HERE
    assert g.refused(g.ann, "look 2.map") == Code.NOT_HERE


# ---- communication ---------------------------------------------------------------------


def test_say_is_heard_in_the_room_only(g: Game) -> None:
    g.enter("Cara", room="haven:temple_steps")
    out = g.ok(g.ann, "say   hello    there ")
    said = {"actor": "Ann", "kind": "player", "text": "hello there"}
    assert log_of(out) == [("Ann", "said", said), ("Bob", "said", said)]
    assert log_of(g.ok(g.ann, "'hello there")) == log_of(out)
    assert log_of(g.ok_call(g.ann, "say", text="hello there")) == log_of(out)
    assert g.refused(g.ann, "say") == Code.BAD_ARGS
    assert g.refused(g.ann, Call("say", {"text": "   "})) == Code.BAD_ARGS


def test_tell_reaches_another_room_privately(g: Game) -> None:
    g.enter("Cara", room="haven:bell_tower")
    out = g.ok(g.ann, "tell cara meet me at the gate")
    told = {"actor": "Ann", "kind": "player", "target": "Cara", "text": "meet me at the gate"}
    assert log_of(out) == [("Cara", "told", told), ("Ann", "told", told)]


def test_tell_refusals(g: Game) -> None:
    assert g.refused(g.ann, "tell nobody hello") == Code.NOT_HERE
    assert g.refused(g.ann, "tell ann hello") == Code.BAD_TARGET
    assert g.refused(g.ann, "tell bob") == Code.BAD_ARGS
    g.world.set_linkdead(g.bob, True)
    g.world.drain()
    assert g.refused(g.ann, "tell bob are you there?") == Code.NOT_HERE


def test_shout_reaches_everyone(g: Game) -> None:
    g.enter("Cara", room="haven:forest_edge")
    out = g.ok(g.ann, "shout wolves!")
    assert sorted(d.recipient.name for d in out) == ["Ann", "Bob", "Cara"]
    assert set(names(out)) == {"shouted"}
    assert events(out, "shouted", "Cara") == [
        {"actor": "Ann", "kind": "player", "text": "wolves!"}]
    assert log_of(g.ok(g.ann, "yell wolves!")) == log_of(out)


def test_emote(g: Game) -> None:
    g.enter("Cara", room="haven:temple_steps")
    out = g.ok(g.ann, "emote waves.")
    emoted = {"actor": "Ann", "kind": "player", "text": "waves."}
    assert log_of(out) == [("Ann", "emoted", emoted), ("Bob", "emoted", emoted)]
    assert log_of(g.ok(g.ann, ":waves.")) == log_of(out)
    assert log_of(g.ok(g.ann, "me waves.")) == log_of(out)


# ---- information -----------------------------------------------------------------------


def test_who_lists_everyone(g: Game) -> None:
    g.enter("Cara", room="haven:forest_edge")
    listed = events(g.ok(g.ann, "who"), "who_listed", "Ann")[0]["characters"]
    assert [c["name"] for c in listed] == ["Ann", "Bob", "Cara"]
    assert listed[1] == {"name": "Bob", "level": 1, "class": "mage", "kind": "player",
                         "title": "", "role": "player", "linkdead": False}


def test_score(g: Game) -> None:
    sheet = events(g.ok(g.ann, "score"), "score_shown", "Ann")[0]["sheet"]
    warrior = starter_content().classes["warrior"]
    assert sheet["name"] == "Ann"
    assert (sheet["class"], sheet["class_name"]) == ("warrior", "Warrior")
    assert (sheet["hp"], sheet["max_hp"]) == (warrior.hp, warrior.hp)
    assert sheet["attributes"] == warrior.attributes
    assert sheet["room"] == "Town Square"
    assert sheet["position"] == "standing"


def _help_names(g: Game, who: Character) -> list[str]:
    shown = events(g.ok(who, "help"), "help_shown", who.name)[0]
    assert shown["topic"] == ""
    return [c["name"] for c in shown["commands"]]


def test_help_index_lists_what_the_role_may_use(g: Game) -> None:
    player = _help_names(g, g.ann)
    assert "stats" not in player
    assert {"look", "go", "say", "help", "quit"} <= set(player)
    assert player == [s.name for s in REGISTRY.specs.values() if allowed(s, Role.PLAYER)]
    zed = g.enter("Zed", role=Role.ADMIN)
    admin = _help_names(g, zed)
    assert "stats" in admin
    assert admin == list(REGISTRY.specs)


def test_help_pages(g: Game) -> None:
    look = events(g.ok(g.ann, "help look"), "help_shown")[0]
    assert look["topic"] == "look"
    assert look["body"].startswith("Usage: look [target]")
    assert look["commands"] == [tool_schema(REGISTRY.specs["look"])]
    # A shortcut's help is its command's.
    assert events(g.ok(g.ann, "help n"), "help_shown")[0]["topic"] == "go"
    rules = events(g.ok(g.ann, "help rules"), "help_shown")[0]
    assert rules == {"topic": "rules", "body": starter_content().help["rules"], "commands": [],
                     "format": "markdown"}
    assert events(g.ok(g.ann, "help newb"), "help_shown")[0]["topic"] == "newbie"
    assert g.refused(g.ann, "help xyzzy") == Code.NO_HELP
    assert g.refused(g.ann, "help stats") == Code.NO_HELP  # not a player's command


def test_admin_command_is_forbidden_to_players(g: Game) -> None:
    assert g.refused(g.ann, "stats") == Code.FORBIDDEN
    assert g.refused(g.ann, Call("stats")) == Code.FORBIDDEN
    zed = g.enter("Zed", role=Role.ADMIN)
    out = g.ok(zed, "stats")
    assert log_of(out) == [("Zed", "server_request", {"kind": "stats", "args": {}})]
    assert out[0].event.internal


# ---- position --------------------------------------------------------------------------


def test_sleeping_refuses_most_commands_but_not_wake(g: Game) -> None:
    out = g.ok(g.ann, "sleep")
    changed = {"actor": "Ann", "position": "sleeping"}
    assert log_of(out) == [("Ann", "position_changed", changed), ("Bob", "position_changed",
                                                                   changed)]
    assert g.ann.position is Position.SLEEPING
    for line in ("n", "look", "say hi", "get map", "emote snores", "sleep", "rest",
                 Call("look"), Call("go", {"direction": "north"})):
        assert g.refused(g.ann, line) == Code.POSITION
    for line in ("who", "score", "help", "inventory"):
        g.ok(g.ann, line)
    woke = g.ok(g.ann, "wake")
    assert events(woke, "position_changed", "Bob") == [{"actor": "Ann", "position": "resting"}]
    assert g.refused(g.ann, "wake") == Code.ALREADY
    # Resting, a step stands you up first (as after death): said, then walked.
    walked = g.ok(g.ann, "n")
    assert names(walked, "Ann")[:2] == ["position_changed", "room"]
    assert events(walked, "position_changed", "Ann") == [{"actor": "Ann",
                                                          "position": "standing"}]
    assert g.ann.position is Position.STANDING
    assert g.refused(g.ann, "stand") == Code.ALREADY
    g.ok(g.ann, "s")


# ---- items -----------------------------------------------------------------------------


def test_get_drop_and_inventory(g: Game) -> None:
    g.ann.inventory.clear()  # her starting kit out of the way
    g.ann.equipment.clear()
    empty = events(g.ok(g.ann, "i"), "inventory_listed")[0]
    assert empty["items"] == []
    assert empty["weight"] == 0
    assert empty["max_weight"] > 0
    out = g.ok(g.ann, "get map")
    moved = {"actor": "Ann", "item": "a paper map of Haven", "keyword": "map", "action": "got",
             "container": None, "target": None}
    assert log_of(out) == [("Ann", "item_moved", moved), ("Bob", "item_moved", moved)]
    assert [it.proto for it in g.ann.inventory] == ["haven:haven_map"]
    assert g.world.rooms[SQUARE].items == []
    listed = events(g.ok(g.ann, "inventory"), "inventory_listed")[0]
    assert listed["items"] == [{"name": "a paper map of Haven", "keyword": "map", "weight": 1,
                                "type": "misc"}]
    assert listed["weight"] == 1
    assert g.refused(g.bob, "get map") == Code.NOT_HERE
    dropped = g.ok(g.ann, "drop paper")
    assert events(dropped, "item_moved", "Bob")[0]["action"] == "dropped"
    assert g.ann.inventory == []
    assert [it.proto for it in g.world.rooms[SQUARE].items] == ["haven:haven_map"]
    assert g.refused(g.ann, "drop map") == Code.NOT_CARRIED
    assert g.refused(g.ann, "get") == Code.BAD_ARGS


def test_too_heavy(g: Game) -> None:
    g.world.move(g.ann, "haven:smithy")
    for it in g.world.rooms["haven:smithy"].items:
        it.weight = 10_000
    assert g.refused(g.ann, "get horseshoe") == Code.TOO_HEAVY


# ---- system ----------------------------------------------------------------------------


def test_quit_asks_the_server(g: Game) -> None:
    out = g.ok(g.ann, "quit")
    assert log_of(out) == [("Ann", "server_request", {"kind": "quit", "args": {}})]
    assert out[0].event.internal
    assert g.ann.name.lower() in g.world.characters  # the server does the leaving


def test_password_needs_eight_characters(g: Game) -> None:
    assert g.refused(g.ann, "password oldsecret short") == Code.BAD_ARGS
    assert g.refused(g.ann, "password oldsecret") == Code.BAD_ARGS
    out = g.ok(g.ann, "password oldsecret newsecret")
    assert log_of(out) == [("Ann", "server_request",
                            {"kind": "password",
                             "args": {"old": "oldsecret", "new": "newsecret"}})]
    assert REGISTRY.specs["password"].sensitive


def test_linkdead_characters_get_only_internal_events(g: Game) -> None:
    g.world.set_linkdead(g.bob, True)
    assert log_of(g.world.drain()) == [("Ann", "link_lost", {"actor": "Bob"})]
    assert names(g.ok(g.ann, "say anyone?")) == ["said"]
    assert names(g.ok(g.bob, "quit")) == ["server_request"]
    g.world.set_linkdead(g.bob, False)
    back = g.world.drain()
    assert [(d.recipient.name, d.event.name) for d in back] == [
        ("Ann", "entered_game"), ("Bob", "room"), ("Bob", "vitals")]
    assert events(back, "entered_game")[0]["reconnected"] is True


# ---- the two faces: line and structured call ---------------------------------------------

EQUIVALENT: list[tuple[str, Call]] = [
    ("look", Call("look")),
    ("look fountain", Call("look", {"target": "fountain"})),
    ("look bob", Call("look", {"target": "bob"})),
    ("n", Call("go", {"direction": "north"})),
    ("sw", Call("go", {"direction": "southwest"})),
    ("say hi there", Call("say", {"text": "hi there"})),
    ("tell bob psst", Call("tell", {"target": "bob", "text": "psst"})),
    ("shout hey", Call("shout", {"text": "hey"})),
    ("emote grins.", Call("emote", {"text": "grins."})),
    ("get map", Call("get", {"item": "map"})),
    ("drop map", Call("drop", {"item": "map"})),
    ("inventory", Call("inventory")),
    ("who", Call("who")),
    ("score", Call("score")),
    ("help look", Call("help", {"topic": "look"})),
    ("help", Call("help")),
    ("open n", Call("open", {"door": "north"})),
    ("rest", Call("rest")),
    ("stats", Call("stats")),
    ("password oldsecret newsecret", Call("password", {"old": "oldsecret", "new": "newsecret"})),
]


def _outcome(action: str | Call) -> tuple[Any, ...]:
    game = new_game()
    if isinstance(action, Call):
        refusal = game.world.perform(game.ann, action)
    else:
        refusal = game.world.perform_line(game.ann, action)
    code = refusal.code if refusal else None
    return code, log_of(game.world.drain()), state_of(game.ann)


@pytest.mark.parametrize(("line", "call"), EQUIVALENT, ids=[e[0] for e in EQUIVALENT])
def test_a_line_and_its_call_do_the_same(line: str, call: Call) -> None:
    assert _outcome(line) == _outcome(call)


@pytest.mark.parametrize(("call", "code"), [
    (Call("fly"), Code.UNKNOWN_COMMAND),
    (Call("n"), Code.UNKNOWN_COMMAND),  # shortcuts are words, not tools
    (Call("Look"), Code.UNKNOWN_COMMAND),
    (Call("go", {"direction": "north", "speed": 3}), Code.BAD_ARGS),
    (Call("who", {"all": True}), Code.BAD_ARGS),
    (Call("say", {"text": 5}), Code.BAD_ARGS),
    (Call("look", {"target": ["map"]}), Code.BAD_ARGS),
    (Call("tell", {"target": "bob", "text": {"a": 1}}), Code.BAD_ARGS),
    (Call("go", {}), Code.BAD_ARGS),
    (Call("go", {"direction": None}), Code.BAD_ARGS),
    (Call("go", {"direction": ""}), Code.BAD_ARGS),
    (Call("go", {"direction": "sideways"}), Code.BAD_ARGS),
    (Call("tell", {"text": "hi"}), Code.BAD_ARGS),
    (Call("go", ["north"]), Code.BAD_ARGS),  # type: ignore[arg-type]
])
def test_bind_call_refuses_bad_calls(call: Call, code: Code) -> None:
    with pytest.raises(Refused) as info:
        bind_call(call)
    assert info.value.code == code
    game = new_game()
    assert game.refused(game.ann, call) == code


def test_bind_call_types_the_arguments() -> None:
    spec, args = bind_call(Call("go", {"direction": "ne"}))
    assert spec.name == "go"
    assert args == {"direction": Direction.NORTHEAST}
    spec, args = bind_call(Call("look", {"target": None}))
    assert (spec.name, args) == ("look", {})


# ---- schemas and examples --------------------------------------------------------------

_KEYWORDS = {"type", "properties", "required", "additionalProperties", "enum", "description"}
_TYPES = {"object", "string", "integer", "number", "boolean", "array", "null"}


def schema_problems(schema: Any, where: str = "") -> list[str]:
    """A structural check of the JSON-Schema subset the registry emits."""
    if not isinstance(schema, dict):
        return [f"{where}: not an object"]
    problems = [f"{where}: unexpected keyword {k}" for k in schema if k not in _KEYWORDS]
    if schema.get("type") not in _TYPES:
        problems.append(f"{where}: bad type {schema.get('type')!r}")
    if "description" in schema and not isinstance(schema["description"], str):
        problems.append(f"{where}: description is not a string")
    if "enum" in schema:
        enum = schema["enum"]
        if not (isinstance(enum, list) and enum and len(enum) == len(set(map(str, enum)))):
            problems.append(f"{where}: enum must be a non-empty list of unique values")
    if schema.get("type") == "object":
        props = schema.get("properties", {})
        if not isinstance(props, dict):
            problems.append(f"{where}: properties is not an object")
            props = {}
        for name, sub in props.items():
            problems += schema_problems(sub, f"{where}.{name}")
        required = schema.get("required", [])
        if not (isinstance(required, list) and len(required) == len(set(required))
                and all(isinstance(r, str) and r in props for r in required)):
            problems.append(f"{where}: required must list unique known properties")
        if not isinstance(schema.get("additionalProperties", True), bool):
            problems.append(f"{where}: additionalProperties must be a boolean here")
    return problems


def instance_problems(value: Any, schema: dict[str, Any], where: str = "") -> list[str]:
    """Validate `value` against the subset checked by `schema_problems`."""
    kind = schema["type"]
    checks = {
        "object": lambda v: isinstance(v, dict),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    }
    if not checks[kind](value):
        return [f"{where}: not {kind}"]
    problems = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in enum")
    if kind == "object":
        props = schema.get("properties", {})
        problems += [f"{where}: missing {r}" for r in schema.get("required", [])
                     if r not in value]
        if schema.get("additionalProperties") is False:
            problems += [f"{where}: unexpected {k}" for k in value if k not in props]
        for k, v in value.items():
            if k in props:
                problems += instance_problems(v, props[k], f"{where}.{k}")
    return problems


def as_json_args(args: dict[str, Any]) -> dict[str, Any]:
    """Parsed arguments as a client would send them."""
    return {k: (v.value if isinstance(v, Direction) else v if isinstance(v, int) else str(v))
            for k, v in args.items()}


SPECS = list(REGISTRY.specs.values())


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_tool_schema_is_valid_json_schema(spec: Any) -> None:
    tool = tool_schema(spec)
    assert tool["name"] == spec.name
    assert isinstance(tool["description"], str) and tool["description"]
    assert tool["role"] in {str(r) for r in Role}
    params = tool["parameters"]
    assert params["type"] == "object"
    assert params["additionalProperties"] is False
    assert schema_problems(params) == []
    assert list(params["properties"]) == [p.name for p in spec.params]
    for p in spec.params:
        prop = params["properties"][p.name]
        if p.kind is ParamKind.DIRECTION:
            assert prop["enum"] == [d.value for d in Direction]
    assert json.loads(json.dumps(tool)) == tool
    if jsonschema is not None:  # pragma: no cover - depends on the environment
        jsonschema.Draft202012Validator.check_schema(params)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_examples_parse_to_their_command_and_fit_its_schema(spec: Any) -> None:
    assert spec.examples, f"{spec.name} has no examples"
    params = tool_schema(spec)["parameters"]
    for example in spec.examples:
        parsed, args = parse_line(example)
        assert parsed.name == spec.name, example
        call_args = as_json_args(args)
        assert instance_problems(call_args, params) == [], example
        if jsonschema is not None:  # pragma: no cover - depends on the environment
            jsonschema.validate(call_args, params)
        # ...and the structured face reads it back the same.
        assert bind_call(Call(spec.name, call_args)) == (parsed, args), example


def test_the_structural_checker_catches_mistakes() -> None:
    good = tool_schema(REGISTRY.specs["tell"])["parameters"]
    assert schema_problems(good) == []
    assert schema_problems({**good, "required": ["nope"]}) != []
    assert schema_problems({**good, "type": "map"}) != []
    assert schema_problems({**good, "oneOf": []}) != []
    assert instance_problems({"target": "bob"}, good) == [": missing text"]
    assert instance_problems({"target": "bob", "text": 1}, good) == [".text: not string"]
    assert instance_problems({"target": "b", "text": "t", "x": 1}, good) == [": unexpected x"]


# ---- determinism -----------------------------------------------------------------------

SCRIPT: list[tuple[str, str]] = [
    ("Ann", "look"), ("Bob", "say hello"), ("Ann", "get map"), ("Ann", "w"), ("Ann", "s"),
    ("Ann", "get key"), ("Ann", "n"), ("Ann", "unlock trapdoor"), ("Ann", "open down"),
    ("Ann", "d"), ("Bob", "shout where are you?"), ("Ann", "tell bob in the cellar"),
    ("Bob", "rest"), ("Bob", "sleep"), ("Bob", "n"), ("Bob", "wake"), ("Ann", "e"),
    ("Ann", "look brickwork"), ("Bob", "who"), ("Ann", "score"), ("Bob", "help"),
    ("Ann", "xyzzy"), ("Bob", "stand"), ("Bob", "e"), ("Bob", "n"), ("Ann", "inventory"),
]


def run_script(seed: int) -> list[Any]:
    world = new_world(seed)
    chars = {"Ann": world.enter("Ann", "warrior"), "Bob": world.enter("Bob", "mage")}
    log: list[Any] = log_of(world.drain())
    for i, (who, line) in enumerate(SCRIPT):
        refusal = world.perform_line(chars[who], line)
        log.append((who, line, refusal.code if refusal else None))
        for _ in range(i % 5 * 8):
            world.tick()
        log.extend(log_of(world.drain()))
    log.append(world.snapshot(chars["Ann"]))
    return log


def test_same_seed_same_script_same_events() -> None:
    first = run_script(42)
    assert first == run_script(42)
    assert len(first) > len(SCRIPT) * 2
    json.dumps(first)  # the whole log is plain data


# ---- snapshots -------------------------------------------------------------------------


def test_snapshot_round_trip(g: Game) -> None:
    for line in ("w", "s", "get key", "rest"):
        g.ok(g.ann, line)
    for _ in range(7):
        g.world.tick()
    g.world.drain()
    ann = g.ann
    before = (ann.room, ann.moves, ann.hp, ann.mana, ann.position, ann.level, ann.xp)
    snap = json.loads(json.dumps(g.world.leave(ann, "quit")))
    assert snap["played_ticks"] == 7
    assert "ann" not in g.world.characters
    assert ann not in g.world.rooms["haven:stable"].characters
    assert log_of(g.world.drain()) == []  # Bob is elsewhere

    g.world.move(g.bob, "haven:stable")
    g.world.drain()
    back = g.world.enter("Ann", "warrior", state=snap)
    assert (back.room, back.moves, back.hp, back.mana, back.position, back.level,
            back.xp) == before
    assert [it.proto for it in back.inventory] == ["haven:healing_potion", "haven:cellar_key"]
    assert back.equipment.keys() == ann.equipment.keys()  # the kit once, not again
    assert back.played_ticks == 7
    out = g.world.drain()
    assert [(d.recipient.name, d.event.name) for d in out] == [
        ("Bob", "entered_game"), ("Ann", "room"), ("Ann", "vitals")]
    assert events(out, "room")[0]["id"] == "haven:stable"
    assert events(out, "vitals")[0]["moves"] == before[1]
    assert g.world.snapshot(back) == snap


def test_leave_tells_the_room(g: Game) -> None:
    g.world.leave(g.ann, "quit")
    assert log_of(g.world.drain()) == [
        ("Bob", "left_game", {"actor": "Ann", "kind": "player", "reason": "quit"})]


def test_snapshot_of_a_vanished_room_falls_back_to_the_start(g: Game) -> None:
    snap = g.world.leave(g.ann, "quit")
    snap["room"] = "haven:demolished"
    snap["inventory"] = [{"proto": "haven:cellar_key"}, {"proto": "haven:gone"}, "junk"]
    snap["hp"] = "lots"  # a mistyped value keeps the class default
    snap["position"] = "levitating"
    back = g.world.enter("Ann", "warrior", state=snap)
    assert back.room == starter_content().start_room
    assert back in g.world.rooms[starter_content().start_room].characters
    assert [it.proto for it in back.inventory] == ["haven:cellar_key"]
    assert back.hp == starter_content().classes["warrior"].hp
    assert back.position is Position.STANDING


# ---- regeneration ----------------------------------------------------------------------


def _walk(g: Game, who: Character, steps: int) -> None:
    for i in range(steps):
        g.ok(who, "n" if i % 2 == 0 else "s")


def test_moves_come_back_with_time(g: Game) -> None:
    _walk(g, g.ann, 10)
    assert g.ann.moves == g.ann.max_moves - 10
    g.world.tick()
    g.world.drain()
    regained = []
    for _ in range(REGEN_EVERY * 4):
        g.world.tick()
        for data in events(g.world.drain(), "vitals", "Ann"):
            regained.append(data["moves"])
    assert regained, "no vitals while regenerating"
    assert regained == sorted(regained)
    assert regained[-1] == g.ann.max_moves == g.ann.moves
    assert len(regained) == len(set(regained))  # vitals only when something changed


def test_resting_regenerates_faster_than_standing(g: Game) -> None:
    stander, rester, sleeper = g.ann, g.enter("Cara"), g.enter("Dora")  # all warriors
    for who in (stander, rester, sleeper):
        _walk(g, who, 20)
    g.ok(rester, "rest")
    g.ok(sleeper, "sleep")
    low = stander.max_moves - 20
    assert stander.moves == rester.moves == sleeper.moves == low
    for _ in range(REGEN_EVERY):
        g.world.tick()
    gains = [who.moves - low for who in (stander, rester, sleeper)]
    assert 0 < gains[0] < gains[1] < gains[2]


def test_quit_is_never_a_prefix(g: Game) -> None:
    """`q`, `qu`, `qui` must not end the game by accident (MUD players type `quit` in full);
    `quit` itself asks the server to save and go."""
    def quits(line: str) -> bool:
        g.world.perform_line(g.ann, line)
        return any(d.event.name == "server_request" and getattr(d.event, "kind", "") == "quit"
                   for d in g.world.drain())

    assert [typed for typed in ("q", "qu", "qui") if quits(typed)] == []
    assert quits("quit")
