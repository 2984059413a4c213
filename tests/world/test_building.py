"""Builder commands, undo, zone export and content reload, against the real starter content.

Asserted on events, edits and content, not English. `Game` holds a world with Bea (a
builder) and Pat (a player) in the town square, haven:square. The round trip builds
content again from exported zone documents with the real loader (`build_content`),
and the reload tests build changed content from the real YAML files.
"""

from __future__ import annotations

import copy
import dataclasses
import random
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from helpers import events, names, new_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.config import default_content_dir
from world import building
from world.building import Edit, EditError
from world.commands.registry import REGISTRY, Call, parse_line
from world.directions import Direction
from world.entities import Character, Role
from world.errors import Code, Refused
from world.events import Delivery
from world.prototypes import Content, ContentError, build_content
from world.systems import combat
from world.world import World

SQUARE = "haven:square"
CONTENT = default_content_dir()


@dataclass
class Game:
    """A world with Bea (builder) and Pat (player) in the square."""

    world: World
    bea: Character
    pat: Character

    def ok(self, line: str, who: Character | None = None) -> list[Delivery]:
        """Run a line that must succeed (Bea's by default); return what it caused."""
        refusal = self.world.perform_line(who or self.bea, line)
        assert refusal is None, (line, refusal.code, refusal.message)
        return self.world.drain()

    def refused(self, line: str, who: Character | None = None) -> Refused:
        """Run a line that must be refused; check that nothing was sent."""
        refusal = self.world.perform_line(who or self.bea, line)
        assert refusal is not None, line
        assert self.world.drain() == []
        return refusal


def game(seed: int = 5) -> Game:
    world = new_world(seed)
    bea = world.enter("Bea", "warrior", role=Role.BUILDER)
    pat = world.enter("Pat", "mage")
    world.drain()
    return Game(world, bea, pat)


def build_crypt(g: Game) -> None:
    """A small zone: three rooms, a door, an item and a mob prototype, two resets."""
    g.ok("zone create crypt The Old Crypt")
    g.ok("dig north Dusty Hall")
    g.ok("north")
    g.ok("rdesc Dust lies thick on the flagstones.")
    g.ok("dig east Bone Room")
    g.ok("door east add gate")
    g.ok("create item bone a yellowed bone")
    g.ok("create mob ghoul a hungry ghoul")
    g.ok("set ghoul level 3")
    g.ok("reset add mob ghoul 2")
    g.ok("reset add item bone")


def fingerprint(world: World) -> Any:
    """Everything a command could change, as plain data, to compare before and after."""
    rooms = {}
    for rid, room in world.rooms.items():
        rooms[rid] = (room.name, room.description, sorted(room.flags), dict(room.extras),
                      {d.value: (x.to, None if x.door is None else
                                 (x.door.name, x.door.closed, x.door.locked, x.door.key))
                       for d, x in room.exits.items()},
                      [c.id for c in room.characters], [i.id for i in room.items])
    return copy.deepcopy({
        "content": {z: building.export_zone(world, z) for z in world.content.zones},
        "rooms": rooms,
        "mobs": {m.id: (m.room, m.hp, m.level, m.gold) for m in world.mobs.values()},
        "characters": {n: world.snapshot(c) for n, c in world.characters.items()},
        "edits": [e.to_data() for e in world.edits],
        "undo": {k: [e.to_data() for e in v] for k, v in world.undo_stacks.items()},
        "next_reset": dict(world.next_reset),
        "rng": world.rng.getstate(),
        "time": world.time,
    })


def built(deliveries: list[Delivery]) -> list[dict[str, Any]]:
    return events(deliveries, "built", "Bea")


# ---- building a zone -------------------------------------------------------------------


def test_a_builder_builds_a_small_zone() -> None:
    g = game()
    w = g.world
    build_crypt(g)
    c = w.content
    assert c.zones["crypt"].name == "The Old Crypt"
    assert sorted(r for r, p in c.rooms.items() if p.zone == "crypt") == [
        "crypt:bone_room", "crypt:dusty_hall", "crypt:entrance"]
    hall = w.rooms["crypt:dusty_hall"]
    assert hall.description == "Dust lies thick on the flagstones."
    assert {d.value: x.to for d, x in hall.exits.items()} == {
        "south": "crypt:entrance", "east": "crypt:bone_room"}
    # The door is one door, closed, on both sides.
    east = hall.exits[Direction.EAST].door
    west = w.rooms["crypt:bone_room"].exits[Direction.WEST].door
    assert east is not None and east is west and east.closed and east.name == "gate"
    assert c.items["crypt:bone"].name == "a yellowed bone"
    assert c.mobs["crypt:ghoul"].level == 3
    assert [(r.mob, r.item, r.room, r.count) for r in c.resets["crypt"]] == [
        ("crypt:ghoul", None, "crypt:dusty_hall", 2), (None, "crypt:bone", "crypt:dusty_hall", 1)]
    # Every change is an edit, for the server, in order; all of them content.
    kinds = [e.kind for e in w.drain_edits()]
    assert kinds == ["zone.create", "room.dig", "room.set", "room.dig", "door.set",
                     "proto.create", "proto.create", "proto.set", "reset.add", "reset.add"]
    assert w.drain_edits() == []
    # A reset makes what the rules say, and a second one tops up without duplicating.
    out = g.ok("zone reset")
    assert [e["detail"]["made"] for e in built(out)] == [3]
    assert sorted(m.name for m in hall.characters if m.is_mob) == ["a hungry ghoul"] * 2
    assert [i.proto for i in hall.items] == ["crypt:bone"]
    assert built(g.ok("zone reset"))[0]["detail"]["made"] == 0
    # The world made the door work for players too.
    g.ok("open gate")
    assert not west.closed


def test_dig_and_link_refuse_what_is_taken() -> None:
    g = game()
    assert g.refused("dig north Somewhere").code == Code.ALREADY  # the square has a north
    assert g.refused("link north haven:tavern").code == Code.ALREADY
    assert g.refused("link northeast nowhere:at_all").code == Code.NOT_HERE
    # The tavern already has a south exit: only a one-way link fits.
    g.ok("goto haven:temple")
    assert g.refused("link north haven:tavern").code == Code.ALREADY
    g.ok("link north haven:tavern oneway")
    assert g.world.content.rooms["haven:temple"].exits[Direction.NORTH].to == "haven:tavern"
    assert g.world.content.rooms["haven:tavern"].exits[Direction.SOUTH].to == "haven:stable"
    g.ok("unlink north")
    assert Direction.NORTH not in g.world.rooms["haven:temple"].exits
    assert g.world.rooms["haven:tavern"].exits[Direction.SOUTH].to == "haven:stable"
    assert g.refused("unlink north").code == Code.NO_EXIT


def test_a_link_makes_the_way_back_and_unlink_takes_both() -> None:
    g = game()
    g.ok("zone create crypt The Old Crypt")
    out = g.ok("link up haven:square")
    assert built(out)[0]["detail"] == {"direction": "up", "to": SQUARE, "oneway": False}
    assert g.world.rooms[SQUARE].exits[Direction.DOWN].to == "crypt:entrance"
    g.ok("up")
    assert g.bea.room == SQUARE
    g.ok("unlink down")
    assert Direction.DOWN not in g.world.rooms[SQUARE].exits
    assert Direction.UP not in g.world.rooms["crypt:entrance"].exits


def test_doors_can_be_locked_opened_and_removed() -> None:
    g = game()
    build_crypt(g)
    g.ok("door east lock gate bone")
    door = g.world.rooms["crypt:dusty_hall"].exits[Direction.EAST].door
    assert door is not None and door.locked and door.closed and door.key == "crypt:bone"
    proto = g.world.content.rooms["crypt:bone_room"].exits[Direction.WEST].door
    assert proto is not None and proto.locked and proto.key == "crypt:bone"
    g.ok("door east open")
    assert not door.closed and not door.locked
    assert g.refused("door east add gate").code == Code.ALREADY
    assert g.refused("door east wobble").code == Code.BAD_ARGS
    assert g.refused("door east lock gate nosuchkey").code == Code.NOT_HERE
    g.ok("door east remove")
    assert g.world.rooms["crypt:dusty_hall"].exits[Direction.EAST].door is None
    assert g.world.rooms["crypt:bone_room"].exits[Direction.WEST].door is None
    assert g.refused("door east close").code == Code.NOT_A_DOOR


def test_room_names_descriptions_flags_and_extras() -> None:
    g = game()
    g.ok("rname The Old Square")
    g.ok("rdesc A square, older than it looks.")
    out = g.ok("rflag pvp")
    assert built(out)[0]["detail"] == {"field": "flags", "flag": "pvp", "on": True}
    g.ok("rflag safe off")
    g.ok("set here extra.statue A statue of nobody in particular.")
    room = g.world.rooms[SQUARE]
    assert (room.name, room.description) == ("The Old Square", "A square, older than it looks.")
    assert room.flags == frozenset({"pvp", "water"})  # the fountain's water stays
    assert room.extras["statue"] == "A statue of nobody in particular."
    look = events(g.ok("look statue", g.pat), "looked_at")
    assert look[0]["description"] == "A statue of nobody in particular."
    assert g.refused("rflag sparkly").code == Code.BAD_VALUE
    assert g.refused("rflag safe maybe").code == Code.BAD_ARGS


# ---- set: typed, with clear errors ----------------------------------------------------------


def test_set_checks_fields_and_values_against_the_schemas() -> None:
    g = game()
    build_crypt(g)
    before = fingerprint(g.world)
    cases = {
        "set ghoul levle 3": (Code.UNKNOWN_FIELD, "levle"),
        "set ghoul level lots": (Code.BAD_VALUE, "expected an integer"),
        "set ghoul level 99": (Code.BAD_VALUE, "less than or equal to 50"),
        "set bone weight -2": (Code.BAD_VALUE, "greater than or equal to 0"),
        "set bone type sandwich": (Code.BAD_VALUE, "unknown item type"),
        "set bone damage lots": (Code.BAD_VALUE, "should match pattern"),
        "set bone two_handed maybe": (Code.BAD_VALUE, "true or false"),
        "set bone mods luck=3": (Code.BAD_VALUE, "unknown modifier"),
        "set bone extends haven:map": (Code.UNKNOWN_FIELD, "extends"),
        "set ghoul equipment nosuch_item": (Code.BAD_VALUE, "unknown item"),
        "set here colour red": (Code.UNKNOWN_FIELD, "colour"),
        "set here flags safe sparkly": (Code.BAD_VALUE, "sparkly"),
        "set zone reset_minutes never": (Code.BAD_VALUE, "expected a number"),
        "set zone id other": (Code.UNKNOWN_FIELD, "id"),
        "set Pat level 0": (Code.BAD_VALUE, "from 1 to 50"),
        "set Pat gold many": (Code.BAD_VALUE, "expected an integer"),
        "set Pat role admin": (Code.UNKNOWN_FIELD, "role"),
        "set nobody level 3": (Code.NOT_HERE, "nobody"),
    }
    for line, (code, words) in cases.items():
        refusal = g.refused(line)
        assert (refusal.code, words in refusal.message) == (code, True), (line, refusal.message)
    assert fingerprint(g.world) == before


def test_set_changes_prototypes_rooms_zones_and_characters() -> None:
    g = game()
    build_crypt(g)
    c = g.world.content
    out = g.ok("set bone weight 4")
    assert built(out)[0]["detail"] == {"field": "weight", "value": 4}
    g.ok("set bone keywords bone femur")
    g.ok("set bone mods str=1 hit=2")
    g.ok("set item:bone type weapon")
    g.ok("set crypt:bone damage 1d6")
    g.ok("set ghoul gold 2 5")
    g.ok("set ghoul behaviours wander aggressive")
    g.ok("set ghoul inventory bone")
    g.ok('set ghoul loot [{"item": "bone", "chance": 50}]')
    g.ok("set ghoul hp none")
    bone, ghoul = c.items["crypt:bone"], c.mobs["crypt:ghoul"]
    assert (bone.weight, bone.keywords, bone.mods, bone.type, bone.damage) == (
        4, ["bone", "femur"], {"str": 1, "hit": 2}, "weapon", "1d6")
    assert (ghoul.gold, ghoul.behaviours, ghoul.inventory, ghoul.hp) == (
        (2, 5), ["wander", "aggressive"], ["crypt:bone"], None)
    assert ghoul.loot[0].item == "crypt:bone" and ghoul.loot[0].chance == 50
    g.ok("set zone reset_minutes 2.5")
    g.ok("set zone levels 3 6")
    assert (c.zones["crypt"].reset_minutes, c.zones["crypt"].levels) == (2.5, (3, 6))
    g.ok("set here items bone")
    assert c.rooms["crypt:dusty_hall"].items == ("crypt:bone",)
    g.ok("set Pat level 7")
    g.ok("set Pat title the Bold")
    assert (g.pat.level, g.pat.title) == (7, "the Bold")
    # A new spawn follows the changed prototype.
    g.ok("spawn ghoul")
    mob = next(m for m in g.world.mobs.values() if m.proto == "crypt:ghoul")
    assert "wander" in mob.behaviours and any(i.proto == "crypt:bone" for i in mob.inventory)


# ---- live things: spawn, destroy, purge, goto, teleport --------------------------------------


def test_spawn_purge_and_undo_restores() -> None:
    g = game()
    build_crypt(g)
    w = g.world
    hall = w.rooms["crypt:dusty_hall"]
    out = g.ok("spawn ghoul")
    assert names(out, "Bea") == ["arrived", "built"]
    g.ok("spawn bone")
    assert [i.proto for i in g.bea.inventory if i.proto == "crypt:bone"] == ["crypt:bone"]
    g.ok("drop bone")
    g.ok("spawn ghoul")
    g.ok("goto haven:square")
    g.ok("teleport Pat crypt:dusty_hall")
    assert g.pat.room == "crypt:dusty_hall"
    g.ok("goto Pat")
    assert g.refused("destroy pat").code == Code.BAD_TARGET
    out = g.ok("purge")
    assert events(out, "purged", "Pat")[0]["things"] == [
        "a hungry ghoul", "a hungry ghoul", "a yellowed bone"]
    assert [ch.name for ch in hall.characters] == ["Pat", "Bea"]  # players stay
    assert hall.items == []
    assert g.refused("purge").code == Code.NOT_HERE
    g.ok("undo")
    assert sorted(m.proto or "" for m in hall.characters if m.is_mob) == ["crypt:ghoul"] * 2
    assert [i.proto for i in hall.items] == ["crypt:bone"]
    g.ok("destroy ghoul")
    assert len([m for m in hall.characters if m.is_mob]) == 1
    g.ok("undo")
    assert len([m for m in hall.characters if m.is_mob]) == 2
    g.ok("destroy ghoul")
    g.ok("destroy ghoul")
    assert not [m for m in hall.characters if m.is_mob]
    assert not [m for m in w.mobs.values() if m.proto == "crypt:ghoul"]
    # Undo the teleport: Pat goes back to the square.
    stack = w.undo_stacks["bea"]
    while stack[-1].kind != "char.teleport":
        g.ok("undo")
    g.ok("undo")
    assert g.pat.room == SQUARE
    kinds = [e.kind for e in w.drain_edits()]
    assert "char.goto" in kinds and "purge" in kinds and "undo.purge" in kinds


def test_purge_takes_named_things_and_never_players_things() -> None:
    g = game()
    build_crypt(g)
    g.ok("zone reset")
    g.ok("spawn bone")
    g.ok("drop bone")
    out = g.ok("purge all.bone")
    assert events(out, "purged", "Bea")[0]["things"] == ["a yellowed bone", "a yellowed bone"]
    assert [m.proto for m in g.world.rooms["crypt:dusty_hall"].characters if m.is_mob] == [
        "crypt:ghoul"] * 2
    g.ok("purge ghoul")
    assert not [m for m in g.world.rooms["crypt:dusty_hall"].characters if m.is_mob]
    assert g.refused("destroy nothing_here").code == Code.NOT_HERE


def test_goto_and_teleport_move_people_and_mobs() -> None:
    g = game()
    out = g.ok("goto haven:temple")
    assert g.bea.room == "haven:temple"
    assert events(out, "departed", "Pat") == [{"actor": "Bea", "kind": "player",
                                               "direction": None}]
    assert g.refused("goto haven:temple").code == Code.ALREADY
    assert g.refused("goto nowhere:room").code == Code.NOT_HERE
    g.ok("goto square")  # a local id of the zone you are in
    g.ok("goto haven:cellar")
    rat = next(m for m in g.world.rooms["haven:cellar"].characters if m.is_mob)
    out = g.ok(f"teleport {rat.keyword} haven:square")
    assert rat.room == SQUARE and "arrived" in names(out, "Pat")
    g.ok(f"goto {rat.keyword}")
    assert g.bea.room == SQUARE
    out = g.ok("teleport Pat haven:temple")
    sent = [{"actor": "Bea", "target": "Pat", "to": "haven:temple"}]
    assert events(out, "teleported", "Pat") == events(out, "teleported", "Bea") == sent
    assert events(out, "room", "Pat")[0]["id"] == "haven:temple"
    g.ok("teleport Pat here")
    assert g.pat.room == SQUARE


def test_a_fighter_whisked_away_is_out_of_its_fight() -> None:
    """`teleport` and `goto` signal `Displaced`: combat takes the character out of its
    fight, and a foe left with nobody to fight stands down."""
    g = game()
    g.ok("goto haven:cellar")
    rat = next(m for m in g.world.rooms["haven:cellar"].characters if m.is_mob)
    g.ok(f"teleport {rat.keyword} haven:square")
    combat.engage(g.world, g.pat, rat)
    assert g.pat.fighting is rat and rat.fighting is g.pat
    g.ok("teleport Pat haven:temple")
    assert g.pat.fighting is None and g.pat.id not in g.world.fighters
    assert rat.fighting is None and rat.id not in g.world.fighters
    g.ok("goto haven:square")
    combat.engage(g.world, g.bea, rat)
    g.ok("goto haven:temple")
    assert g.bea.fighting is None and rat.fighting is None and not g.world.fighters


def test_undo_takes_back_content_changes_one_by_one() -> None:
    g = game()
    w = g.world
    untouched = fingerprint(w)["content"]
    build_crypt(g)
    g.ok("set bone weight 7")
    g.ok("goto haven:square")
    g.ok("rname Somewhere Else")
    g.ok("unlink west")
    assert g.bea.room == SQUARE
    while w.undo_stacks.get("bea"):
        g.ok("undo")
    assert g.refused("undo").code == Code.NOTHING_TO_UNDO
    assert fingerprint(w)["content"] == untouched
    assert "crypt:dusty_hall" not in w.rooms and "crypt" not in w.next_reset
    assert g.bea.room == SQUARE


def test_undo_of_a_room_someone_stands_in_moves_them_out() -> None:
    g = game()
    g.ok("dig northeast Lookout")
    g.ok("teleport Pat haven:lookout")
    stack = g.world.undo_stacks["bea"]
    stack.insert(0, stack.pop())  # leave the teleport aside: undo the dig itself
    refusal = g.world.perform_line(g.bea, "undo")
    assert refusal is None
    out = g.world.drain()
    assert g.pat.room == SQUARE  # the room it was dug from
    assert events(out, "room", "Pat")[0]["id"] == SQUARE


def test_undo_refuses_what_no_longer_fits() -> None:
    g = game()
    g.ok("dig northeast Lookout")
    g.world.perform_line(g.bea, "goto haven:lookout")
    cara = g.world.enter("Cara", "cleric", role=Role.BUILDER)
    g.world.perform_line(cara, "goto haven:lookout")
    g.world.perform_line(cara, "dig up Crow's Nest")
    g.world.drain()
    before = fingerprint(g.world)
    refusal = g.refused("undo")  # Bea's lookout has Cara's room hanging off it now
    assert refusal.code == Code.CONFLICT and "crow_s_nest" in refusal.message
    assert fingerprint(g.world) == before


# ---- examine -----------------------------------------------------------------------------------


def test_examine_shows_builders_every_field() -> None:
    g = game()
    build_crypt(g)
    g.ok("zone reset")
    room = events(g.ok("examine here"), "examined", "Bea")[0]
    assert room["kind"] == "room" and room["id"] == "crypt:dusty_hall"
    assert room["fields"]["exits"]["east"]["door"]["name"] == "gate"
    assert room["fields"]["prototype"]["name"] == "Dusty Hall"
    mob = events(g.ok("examine ghoul"), "examined", "Bea")[0]
    assert mob["kind"] == "mob" and mob["fields"]["level"] == 3
    assert {"hp", "max_hp", "attributes", "behaviours", "reset_key"} <= set(mob["fields"])
    proto = events(g.ok("examine mob:ghoul"), "examined", "Bea")[0]
    assert proto["kind"] == "mob_proto" and proto["fields"]["level"] == 3
    item = events(g.ok("examine bone"), "examined", "Bea")[0]
    assert item["kind"] == "item" and item["fields"]["proto"] == "crypt:bone"
    zone = events(g.ok("examine zone"), "examined", "Bea")[0]
    assert zone["fields"]["rooms"] == ["crypt:bone_room", "crypt:dusty_hall", "crypt:entrance"]
    pat = events(g.ok("examine Pat"), "examined", "Bea")[0]
    assert pat["kind"] == "player" and pat["fields"]["cls"] == "mage"
    for word in ("me", "SELF"):  # the builder, as `Ctx.character_here` has it
        me = events(g.ok(f"examine {word}"), "examined", "Bea")[0]
        assert (me["kind"], me["id"]) == ("player", "Bea")
    # A player still examines items as before.
    g.ok("goto haven:square")
    seen = events(g.ok("examine map", g.pat), "item_examined", "Pat")
    assert seen and seen[0]["item"]
    assert g.refused("examine haven:square", g.pat).code == Code.NOT_HERE


def test_lists_of_resets_and_zones() -> None:
    g = game()
    build_crypt(g)
    listed = events(g.ok("reset list"), "resets_listed", "Bea")[0]
    assert [(r["n"], r["proto"], r["count"], r["here"]) for r in listed["resets"]] == [
        (1, "crypt:ghoul", 2, True), (2, "crypt:bone", 1, True)]
    g.ok("reset remove 1")
    assert [r.item for r in g.world.content.resets["crypt"]] == ["crypt:bone"]
    assert g.refused("reset remove 5").code == Code.BAD_ARGS
    assert g.refused("reset add mob nosuch").code == Code.NOT_HERE
    assert g.refused("reset add mob ghoul 99").code == Code.BAD_VALUE
    zones = events(g.ok("zone list"), "zones_listed", "Bea")[0]["zones"]
    assert {z["id"]: z["rooms"] for z in zones}["crypt"] == 3
    assert g.refused("zone create crypt Again").code == Code.EXISTS
    assert g.refused("create mob ghoul").code == Code.EXISTS


# ---- refused for players, with nothing changed --------------------------------------------------


BUILDER_SPECS = sorted((s for s in REGISTRY.specs.values() if s.role.rank > Role.PLAYER.rank),
                       key=lambda s: s.name)


def _calls(spec: Any) -> list[Call]:
    """Structured calls for a command: its examples parsed, plus one with no arguments."""
    calls = [Call(spec.name, {})]
    for line in spec.examples:
        try:
            _, args = parse_line(line)
        except Refused:
            continue
        calls.append(Call(spec.name, {k: v.value if isinstance(v, Direction) else str(v)
                                      for k, v in args.items()}))
    return calls


def test_builder_commands_exist_with_help_and_examples() -> None:
    wanted = {"dig", "link", "unlink", "door", "rname", "rdesc", "rflag", "create", "set",
              "spawn", "destroy", "purge", "goto", "teleport", "zone", "reset", "undo"}
    specs = {s.name: s for s in REGISTRY.specs.values() if s.category == "building"}
    assert wanted <= set(specs)
    for spec in specs.values():
        assert spec.role is Role.BUILDER and spec.examples and spec.help.startswith(spec.summary)
    assert REGISTRY.specs["reload"].role is Role.ADMIN


@pytest.mark.parametrize("spec", BUILDER_SPECS, ids=lambda s: s.name)
def test_a_player_is_refused_every_builder_command(spec: Any) -> None:
    g = game()
    build_crypt(g)
    g.ok("zone reset")
    g.world.drain_edits()
    g.world.move(g.pat, "crypt:dusty_hall")
    before = fingerprint(g.world)
    lines = [spec.name, *spec.examples]
    for line in lines:
        refusal = g.world.perform_line(g.pat, line)
        assert refusal is not None and refusal.code == Code.FORBIDDEN, (line, refusal)
        assert g.world.drain() == []
    for call in _calls(spec):
        refusal = g.world.perform(g.pat, call)
        assert refusal is not None and refusal.code == Code.FORBIDDEN, (call, refusal)
        assert g.world.drain() == []
    assert fingerprint(g.world) == before
    assert g.world.drain_edits() == []


def test_every_builder_example_works_for_a_builder_by_line_and_by_call() -> None:
    """The examples in the help are real: by line and as calls they are answered, never
    crash, and a call does what its line does."""
    for spec in (s for s in BUILDER_SPECS if s.category == "building"):
        for line, call in zip(spec.examples, _calls(spec)[1:], strict=True):
            by_line, by_call = game(), game()
            build_crypt(by_line)
            build_crypt(by_call)
            r1 = by_line.world.perform_line(by_line.bea, line)
            r2 = by_call.world.perform(by_call.bea, call)
            assert (r1 and r1.code) == (r2 and r2.code), (line, r1, r2)
            assert r1 is None or r1.code in {str(c) for c in Code}
            assert names(by_line.world.drain()) == names(by_call.world.drain()), line
            assert fingerprint(by_line.world)["content"] == fingerprint(by_call.world)["content"]


# ---- export: the loader's format, round trip ----------------------------------------------------


def _read(name: str) -> tuple[str, Any]:
    return name, yaml.safe_load((CONTENT / name).read_text(encoding="utf-8"))


def _rebuild(world: World, zone_docs: list[tuple[str, Any]]) -> Content:
    world_doc = ("world.yaml", {"name": world.content.name, "start_room": world.content.start_room,
                                "motd": world.content.motd})
    return build_content(world_doc, _read("classes.yaml"), zone_docs, world.content.help,
                         _read("spells.yaml"))


def _same_content(a: Content, b: Content) -> None:
    assert a.zones == b.zones
    assert a.rooms == b.rooms
    assert a.items == b.items
    assert a.mobs == b.mobs
    assert a.resets == b.resets
    assert a.quests == b.quests


def test_export_then_build_content_gives_the_same_world_back() -> None:
    g = game()
    build_crypt(g)
    g.ok("goto haven:square")
    g.ok("door west add curtain")
    g.ok("set haven:haven_map weight 2")
    g.ok("goto haven:cellar")
    g.ok("reset add item haven:haven_map 3")
    w = g.world
    docs = [(f"zones/{z}.yaml", building.export_zone(w, z)) for z in w.content.zones]
    # Through YAML and back: the documents are plain data the loader reads.
    docs = [(name, yaml.safe_load(yaml.safe_dump(doc, sort_keys=False))) for name, doc in docs]
    _same_content(_rebuild(w, docs), w.content)
    crypt = dict(docs)["zones/crypt.yaml"]
    assert crypt["rooms"]["dusty_hall"]["exits"] == {
        "south": "entrance", "east": {"to": "bone_room", "door": {"name": "gate"}}}
    assert crypt["resets"] == [{"mob": "ghoul", "room": "dusty_hall", "count": 2},
                               {"item": "bone", "room": "dusty_hall"}]
    assert crypt["mobs"]["ghoul"]["level"] == 3
    haven = dict(docs)["zones/haven.yaml"]
    assert haven["rooms"]["square"]["exits"]["west"] == {"to": "tavern",
                                                         "door": {"name": "curtain"}}
    assert haven["rooms"]["forest_edge"]["exits"]["south"] == "greenwood:trailhead"


def test_the_starter_content_exports_as_it_was_loaded() -> None:
    w = new_world()
    docs = [(f"zones/{z}.yaml", building.export_zone(w, z)) for z in w.content.zones]
    _same_content(_rebuild(w, docs), w.content)


def test_zone_export_asks_the_server_to_write_the_file() -> None:
    g = game()
    build_crypt(g)
    out = g.ok("zone export")
    request = events(out, "server_request", "Bea")[0]
    assert request["kind"] == "zone_export" and request["args"]["zone"] == "crypt"
    assert request["args"]["document"] == building.export_zone(g.world, "crypt")
    assert g.refused("zone export nowhere").code == Code.NOT_HERE
    assert g.refused("zone frobnicate").code == Code.BAD_ARGS


# ---- edits replay (the server's persistence) ---------------------------------------------------


def test_replaying_the_edits_on_a_fresh_world_rebuilds_the_zone() -> None:
    g = game()
    build_crypt(g)
    g.ok("set bone weight 5")
    g.ok("zone reset")
    g.ok("spawn ghoul")
    g.ok("goto haven:square")
    g.ok("rname Market Cross")
    g.ok("undo")
    g.ok("rflag pvp")
    edits = g.world.drain_edits()
    stored = [Edit.from_data(copy.deepcopy(e.to_data())) for e in edits]  # as a database would
    fresh = new_world(9)
    applied = [fresh.apply_edit(e) for e in stored]
    assert applied == [e.persistent for e in edits]
    assert [e.kind for e in edits if not e.persistent] == ["zone.reset", "mob.spawn", "char.goto"]
    for z in g.world.content.zones:
        assert building.export_zone(fresh, z) == building.export_zone(g.world, z)
    assert fresh.rooms[SQUARE].name == "Town Square" and "pvp" in fresh.rooms[SQUARE].flags
    assert fresh.rooms["crypt:bone_room"].exits[Direction.WEST].door is not None
    # Replaying twice changes nothing more: an edit is a state, not a difference.
    once = fingerprint(fresh)["content"]
    for e in stored:
        fresh.apply_edit(e)
    assert fingerprint(fresh)["content"] == once


def test_a_replayed_edit_that_no_longer_fits_is_refused_whole() -> None:
    w = new_world()
    before = fingerprint(w)
    bad = Edit("Bea", "exit.link", SQUARE, None,
               {"rooms": {SQUARE: {"name": "Town Square", "description": "x",
                                   "exits": {"up": "crypt:nowhere"}}}}, "haven")
    with pytest.raises(EditError, match="unknown room 'crypt:nowhere'"):
        w.apply_edit(bad)
    with pytest.raises(EditError, match="name"):
        w.apply_edit(Edit("Bea", "room.set", SQUARE, None, {"rooms": {SQUARE: {"name": ""}}},
                          "haven"))
    with pytest.raises(EditError, match="unknown part"):
        w.apply_edit(Edit("Bea", "room.set", SQUARE, None, {"stuff": {}}, "haven"))
    assert fingerprint(w) == before


def test_worlds_do_not_share_their_content() -> None:
    g = game()
    g.ok("rname Changed")
    assert new_world().content.rooms[SQUARE].name == "Town Square"


# ---- reload ------------------------------------------------------------------------------------


def _docs() -> dict[str, Any]:
    return {f"zones/{p.name}": yaml.safe_load(p.read_text(encoding="utf-8"))
            for p in sorted((CONTENT / "zones").glob("*.yaml"))}


def _content(zones: dict[str, Any]) -> Content:
    return build_content(_read("world.yaml"), _read("classes.yaml"), list(zones.items()),
                         {}, _read("spells.yaml"))


def test_reload_keeps_everyone_and_everything_where_it_is() -> None:
    g = game()
    w = g.world
    g.ok("goto haven:cellar")
    w.move(g.pat, "haven:bell_tower")
    g.ok("spawn haven:haven_map")
    mobs = {m.id: m.room for m in w.mobs.values()}
    carried = [i.id for i in g.bea.inventory]
    floor = {rid: [i.id for i in r.items] for rid, r in w.rooms.items()}
    zones = _docs()
    haven = zones["zones/haven.yaml"]
    haven["rooms"]["cellar"]["name"] = "The Damp Cellar"
    del haven["rooms"]["bell_tower"]
    del haven["rooms"]["temple"]["exits"]["up"]
    del haven["rooms"]["cistern"]  # rats live there
    del haven["rooms"]["cellar"]["exits"]["east"]
    haven["resets"] = [r for r in haven["resets"] if r["room"] != "cistern"]
    haven["rooms"]["vestry"] = {"name": "Vestry", "description": "Robes on pegs.",
                                "exits": {"north": "temple"}}
    haven["rooms"]["temple"]["exits"]["south"] = "vestry"
    haven["rooms"]["temple_steps"]["exits"].pop("north")
    haven["rooms"]["temple_steps"]["exits"]["north"] = "square"  # a loop, why not
    w.reload(_content(zones))
    out = w.drain()
    assert w.rooms["haven:cellar"].name == "The Damp Cellar"
    assert "haven:bell_tower" not in w.rooms and "haven:vestry" in w.rooms
    assert w.rooms["haven:temple"].exits[Direction.SOUTH].to == "haven:vestry"
    assert g.bea.room == "haven:cellar" and [i.id for i in g.bea.inventory] == carried
    assert g.pat.room == w.content.start_room  # its room vanished
    # Mobs stay where they are; those of the vanished room are gone (resets remake them).
    assert {m.id: m.room for m in w.mobs.values()} == {
        i: r for i, r in mobs.items() if r != "haven:cistern"}
    assert any(r == "haven:cistern" for r in mobs.values())
    assert all([i.id for i in w.rooms[r].items] == ids for r, ids in floor.items()
               if r in w.rooms and r != SQUARE)
    assert events(out, "content_reloaded", "Bea")[0]["moved"] == 1
    assert events(out, "room", "Pat")[0]["id"] == w.content.start_room


def test_reload_keeps_the_state_of_doors_that_did_not_change() -> None:
    g = game()
    w = g.world
    g.ok("goto haven:temple")
    g.ok("open door")
    door = w.rooms["haven:temple"].exits[Direction.WEST].door
    assert door is not None and not door.closed
    w.reload(_content(_docs()))
    same = w.rooms["haven:temple"].exits[Direction.WEST].door
    assert same is door and not same.closed
    assert w.rooms["haven:garden"].exits[Direction.EAST].door is door


def test_a_broken_content_is_not_applied() -> None:
    g = game()
    w = g.world
    zones = _docs()
    zones["zones/haven.yaml"]["rooms"]["square"]["exits"]["north"] = "nowhere"
    with pytest.raises(ContentError, match="unknown room 'haven:nowhere'"):
        _content(zones)
    before = fingerprint(w)
    good = _content(_docs())
    with pytest.raises(EditError, match="start room"):
        w.reload(dataclasses.replace(good, start_room="haven:nowhere"))
    classes = {k: v for k, v in good.classes.items() if k != "mage"}
    with pytest.raises(EditError, match="Pat is a mage"):
        w.reload(dataclasses.replace(good, classes=classes))
    rooms = dict(good.rooms)
    del rooms["haven:tavern"]
    with pytest.raises(EditError, match="unknown room 'haven:tavern'"):
        w.reload(dataclasses.replace(good, rooms=rooms))
    assert fingerprint(w) == before
    assert w.drain() == []


def test_reload_drops_progress_of_vanished_quests_and_undo_stacks() -> None:
    g = game()
    g.ok("rname Somewhere")
    qid = next(iter(g.world.content.quests))
    g.pat.quests[qid] = {"count": 0}
    zones = _docs()
    for doc in zones.values():
        doc.pop("quests", None)
    g.world.reload(_content(zones))
    g.world.drain()
    assert g.pat.quests == {} and g.world.undo_stacks == {}
    assert g.world.rooms[SQUARE].name == "Town Square"
    assert g.refused("undo").code == Code.NOTHING_TO_UNDO


# ---- fuzz: builders never crash the world -------------------------------------------------------

BUILD_WORDS = ["here", "zone", "ghoul", "bone", "crypt", "crypt:ghoul", "item:bone", "mob:ghoul",
               "haven:square", "square", "pat", "bea", "name", "level", "flags", "extra.x", "mods",
               "gold", "loot", "add", "remove", "list", "create", "reset", "export", "mob", "item",
               "oneway", "on", "off", "-", "[1]", '{"a": 1}', "none", "0", "-5", "99999999999",
               *[d.value for d in Direction]]
BUILD_VERBS = sorted(s.name for s in BUILDER_SPECS if s.category == "building") + ["examine"]


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(BUILD_VERBS),
       st.lists(st.one_of(st.sampled_from(BUILD_WORDS), st.text(max_size=8)), max_size=4))
def test_builder_lines_never_crash(verb: str, args: list[str]) -> None:
    g = game()
    build_crypt(g)
    codes = {str(c) for c in Code}
    for _ in range(2):
        refusal = g.world.perform_line(g.bea, " ".join([verb, *args]))
        assert refusal is None or refusal.code in codes
        for d in g.world.drain():
            d.event.to_data()
    # Whatever happened, the content is still whole: it exports and loads again.
    docs = [(f"zones/{z}.yaml", building.export_zone(g.world, z)) for z in g.world.content.zones]
    _same_content(_rebuild(g.world, docs), g.world.content)
    while g.world.undo_stacks.get("bea"):
        assert g.world.perform_line(g.bea, "undo") is None


def test_random_build_sessions_undo_back_to_the_start() -> None:
    rng = random.Random(11)
    lines = ["dig north Hall", "dig east Side Room", "rname Renamed", "rflag dark",
             "create item trinket", "set trinket weight 3", "create mob imp", "set imp level 2",
             "reset add mob imp", "door north add", "link down haven:cellar", "spawn imp",
             "purge", "east", "west", "north", "south", "set here flags safe pvp"]
    for _ in range(5):
        g = game(rng.randint(0, 100))
        start = fingerprint(g.world)["content"]
        g.ok("zone create lab The Lab")
        for _ in range(25):
            g.world.perform_line(g.bea, rng.choice(lines))
            g.world.drain()
        while g.world.undo_stacks.get("bea"):
            assert g.world.perform_line(g.bea, "undo") is None
        assert fingerprint(g.world)["content"] == start
