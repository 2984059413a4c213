"""Golden text for the building events, and text for every event a real builder session sends."""

from __future__ import annotations

from helpers import new_world

from server.gateway import render
from world import building as bld
from world.entities import Role
from world.events import Event


def plain(event: Event, viewer: str = "Bea") -> str:
    return render.plain(render.render(event, viewer))


def test_every_building_event_has_a_renderer() -> None:
    classes = [c for c in vars(bld).values()  # internal signals are never rendered
               if isinstance(c, type) and issubclass(c, Event) and c is not Event
               and not c.internal]
    assert len(classes) >= 8
    assert [c.__name__ for c in classes if c not in render.RENDERERS] == []


def test_golden_texts() -> None:
    assert plain(bld.Built("room.dig", "crypt:hall", "crypt",
                           {"direction": "north", "from": "crypt:entrance", "name": "Hall"})) == (
        "You dig north to Hall (crypt:hall).")
    assert plain(bld.Built("proto.set", "crypt:bone", "crypt",
                           {"field": "mods", "value": {"str": 1}})) == (
        'crypt:bone: mods = {"str": 1}')
    assert plain(bld.Built("door.set", "crypt:hall", "crypt",
                           {"direction": "east", "action": "add",
                            "door": {"name": "gate", "key": "crypt:bone", "locked": True}})) == (
        "You put a gate east, closed, locked (key crypt:bone).")
    assert plain(bld.Built("undo.room.set", "crypt:hall", "crypt", {"undone": "room.set"})) == (
        "You undo your room.set of crypt:hall.")
    assert plain(bld.Purged("Bea", ["a rat", "a bone"])) == "You purge a rat, a bone."
    assert plain(bld.Purged("Bea", ["a rat"]), "Pat") == "Bea waves a hand, and a rat vanish."
    assert plain(bld.Teleported("Bea", "Pat", "haven:temple"), "Pat") == (
        "Bea teleports you away.")
    assert plain(bld.Teleported("Bea", "Pat", "haven:temple")) == (
        "You send Pat to haven:temple.")
    assert plain(bld.ResetsListed("crypt", "crypt:hall", 5.0, [
        {"n": 1, "kind": "mob", "proto": "crypt:ghoul", "name": "a ghoul", "room": "crypt:hall",
         "count": 2, "here": True}])) == (
        "Resets of zone crypt (every 5 min)\n*  1. mob crypt:ghoul (a ghoul) x2 in crypt:hall")
    assert plain(bld.Examined("zone", "crypt", "The Crypt\x1b[2J", {"levels": [1, 5]})) == (
        "zone crypt: The Crypt[2J\n  levels         [1, 5]")
    assert plain(bld.ZoneExported("crypt", "content/zones/crypt.yaml",
                                  {"rooms": 3, "items": 1})) == (
        "Zone crypt written to content/zones/crypt.yaml (3 rooms, 1 items).")
    assert render.is_personal(bld.Purged("Bea", [])) and render.is_personal(
        bld.Teleported("Bea", "Pat", "x"))


def test_a_real_build_session_reads_well() -> None:
    world = new_world(3)
    bea = world.enter("Bea", "warrior", role=Role.BUILDER)
    world.drain()
    lines = ["zone create crypt The Old Crypt", "dig north Dusty Hall", "north",
             "rdesc Dust.", "rflag dark", "set here extra.dust Grey.", "dig east Bone Room",
             "link up haven:square", "door east add gate", "door east lock", "door east open",
             "create item bone a bone", "set bone weight 3", "create mob ghoul a ghoul",
             "reset add mob ghoul", "reset list", "zone reset", "zone list", "spawn bone",
             "spawn ghoul", "set ghoul hp 3", "examine ghoul", "examine here", "examine mob:ghoul",
             "destroy ghoul", "purge", "set zone levels 2 4", "unlink up",
             "teleport Bea haven:square", "reset remove 1", "undo", "goto crypt:dusty_hall"]
    for line in lines:
        assert world.perform_line(bea, line) is None, line
        for d in world.drain():
            if isinstance(d.event, bld.Built):
                text = plain(d.event)
                assert text and not text.startswith(d.event.kind), text  # no generic fallback
            else:
                assert plain(d.event)
