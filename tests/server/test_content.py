"""Content loading: the starter content is sound, and broken files say file:line: key: what.

Each broken case copies content/ into tmp_path and breaks one thing.
"""

from __future__ import annotations

import json
import shutil
from collections import deque
from pathlib import Path

import pytest
from helpers import starter_content

from server.config import default_content_dir
from server.host import content as loader
from world.prototypes import ContentError

ZONE = "zones/haven.yaml"


# ---- the starter content ------------------------------------------------------------------


def test_starter_content_loads() -> None:
    c = starter_content()
    assert c.start_room == "haven:square"
    assert c.start_room in c.rooms
    assert len([r for r in c.rooms.values() if r.zone == "haven"]) == 24
    assert {"warrior", "mage"} <= set(c.classes)
    assert {"rules", "newbie"} <= set(c.help)
    assert all(c.help.values())
    for room in c.rooms.values():
        assert room.name and room.description
        assert all(item in c.items for item in room.items)


def test_every_exit_resolves_and_has_a_way_back() -> None:
    c = starter_content()
    for rid, room in c.rooms.items():
        for direction, ex in room.exits.items():
            assert ex.to in c.rooms, f"{rid} {direction}"
            back = c.rooms[ex.to].exits.get(direction.opposite)
            assert back is not None and back.to == rid, f"{rid} {direction} has no way back"
            # A door is written on both sides, with the same name and key.
            assert (ex.door is None) == (back.door is None), f"{rid} {direction}"
            if ex.door is not None and back.door is not None:
                assert (ex.door.name, ex.door.key) == (back.door.name, back.door.key)
                if ex.door.key is not None:
                    assert ex.door.key in c.items


def test_every_room_is_reachable_from_the_start() -> None:
    c = starter_content()
    seen = {c.start_room}
    todo = deque([c.start_room])
    while todo:
        for ex in c.rooms[todo.popleft()].exits.values():
            if ex.to not in seen:
                seen.add(ex.to)
                todo.append(ex.to)
    assert seen == set(c.rooms)


def test_the_doors_of_haven() -> None:
    rooms = starter_content().rooms
    trapdoor = rooms["haven:tavern"].exits[next(
        d for d in rooms["haven:tavern"].exits if d.value == "down")].door
    assert trapdoor is not None
    assert (trapdoor.name, trapdoor.locked, trapdoor.key) == ("trapdoor", True,
                                                              "haven:cellar_key")
    assert "haven:cellar_key" in rooms["haven:stable"].items
    doors = {(rid, d.value) for rid, r in rooms.items() if r.zone == "haven"
             for d, ex in r.exits.items() if ex.door}
    assert doors == {
        ("haven:gate_yard", "south"), ("haven:outside_gate", "north"),
        ("haven:tavern", "down"), ("haven:cellar", "up"),
        ("haven:market_row", "north"), ("haven:shop", "south"),
        ("haven:temple", "west"), ("haven:garden", "east"),
    }


def test_json_schema_for_editors() -> None:
    schemas = json.loads(loader.json_schema_text())
    assert set(schemas) == {"world.yaml", "classes.yaml", "zones/*.yaml", "spells.yaml"}


# ---- broken content -------------------------------------------------------------------------


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A private copy of content/."""
    target = tmp_path / "content"
    shutil.copytree(default_content_dir(), target)
    return target


def line_of(text: str, needle: str) -> int:
    """The 1-based line where `needle` (unique in `text`) starts."""
    assert text.count(needle) == 1, needle
    return text[: text.index(needle)].count("\n") + 1


def break_file(root: Path, name: str, old: str, new: str) -> str:
    """Replace `old` (which must occur once) by `new` in one file; return the new text."""
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return text


def load_error(root: Path) -> ContentError:
    with pytest.raises(ContentError) as info:
        loader.load(root)
    return info.value


def assert_reported(err: ContentError, file: str, key: str, line: int, *words: str) -> None:
    text = str(err)
    assert text.startswith(f"content/{file}:{line}: {key}: "), text
    assert err.file == f"content/{file}"
    assert err.line == line
    assert ".".join(str(p) for p in err.path) == key
    for word in words:
        assert word in err.message, (word, text)


def test_invalid_yaml(content_dir: Path) -> None:
    text = break_file(content_dir, ZONE, "    name: Town Square\n", "    name: Town: Square\n")
    err = load_error(content_dir)
    assert str(err).startswith(f"content/{ZONE}:{line_of(text, 'Town: Square')}: (top): ")
    assert err.path == ()
    assert "not valid YAML" in err.message


def test_unknown_field_in_a_room(content_dir: Path) -> None:
    text = break_file(content_dir, ZONE, "    name: Town Square\n",
                      "    name: Town Square\n    colour: red\n")
    err = load_error(content_dir)
    assert_reported(err, ZONE, "rooms.square.colour", line_of(text, "colour: red"),
                    "Extra inputs")


def test_exit_to_a_missing_room(content_dir: Path) -> None:
    text = break_file(content_dir, ZONE, "      north: temple_steps\n      east: market_row\n",
                      "      north: nowhere\n      east: market_row\n")
    err = load_error(content_dir)
    assert_reported(err, ZONE, "rooms.square.exits.north", line_of(text, "north: nowhere"),
                    "haven:nowhere")


def test_missing_description(content_dir: Path) -> None:
    original = (content_dir / ZONE).read_text(encoding="utf-8")
    start = original.index("    description: >-\n      Cobblestones")
    end = original.index("    flags: [safe]", start)
    text = break_file(content_dir, ZONE, original[start:end], "")
    err = load_error(content_dir)
    # The key is missing, so the line is its room's.
    assert_reported(err, ZONE, "rooms.square.description", line_of(text, "\n  square:\n") + 1,
                    "required")


def test_bad_key_reference(content_dir: Path) -> None:
    text = break_file(
        content_dir, ZONE,
        "down: {to: cellar, door: {name: trapdoor, closed: true, locked: true, key: cellar_key}}",
        "down: {to: cellar, door: {name: trapdoor, closed: true, locked: true, key: lost_key}}",
    )
    err = load_error(content_dir)
    assert_reported(err, ZONE, "rooms.tavern.exits.down.door.key",
                    line_of(text, "key: lost_key"), "haven:lost_key")


def test_bad_direction(content_dir: Path) -> None:
    text = break_file(content_dir, ZONE, "      north: temple_steps\n      east: market_row\n",
                      "      northward: temple_steps\n      east: market_row\n")
    err = load_error(content_dir)
    # Reported on the room's exits (the check runs on the whole map), naming the word.
    exits_line = line_of(text, "      northward:") - 1
    assert text.splitlines()[exits_line - 1] == "    exits:"
    assert_reported(err, ZONE, "rooms.square.exits", exits_line, "'northward'",
                    "not a direction")


def test_typo_in_a_door_names_the_key(content_dir: Path) -> None:
    text = break_file(content_dir, ZONE,
                      "\n      south: {to: outside_gate, door: {name: gate, closed: true}}",
                      "\n      south: {to: outside_gate, dor: {name: gate, closed: true}}")
    err = load_error(content_dir)
    assert_reported(err, ZONE, "rooms.gate_yard.exits.south.dor", line_of(text, "dor: {"),
                    "Extra inputs")


def test_unknown_item_in_a_room(content_dir: Path) -> None:
    text = break_file(content_dir, ZONE, "    items: [haven_map]\n",
                      "    items: [haven_map, unicorn]\n")
    err = load_error(content_dir)
    assert_reported(err, ZONE, "rooms.square.items.1", line_of(text, "[haven_map, unicorn]"),
                    "haven:unicorn")


def test_unknown_start_room(content_dir: Path) -> None:
    text = break_file(content_dir, "world.yaml", "\nstart_room: haven:square",
                      "\nstart_room: haven:atlantis")
    err = load_error(content_dir)
    assert_reported(err, "world.yaml", "start_room", line_of(text, "\nstart_room:") + 1,
                    "haven:atlantis")


def test_bad_class_value(content_dir: Path) -> None:
    original = (content_dir / "classes.yaml").read_text(encoding="utf-8")
    mage_hp = original.index("    hp: 18\n")
    text = original[:mage_hp] + "    hp: 0\n" + original[mage_hp + len("    hp: 18\n"):]
    (content_dir / "classes.yaml").write_text(text, encoding="utf-8")
    err = load_error(content_dir)
    assert_reported(err, "classes.yaml", "classes.mage.hp", line_of(text, "    hp: 0\n"),
                    "greater than or equal to 1")


def test_a_zone_defined_twice(content_dir: Path) -> None:
    shutil.copy(content_dir / ZONE, content_dir / "zones" / "kopie.yaml")
    text = (content_dir / "zones" / "kopie.yaml").read_text(encoding="utf-8")
    err = load_error(content_dir)
    assert_reported(err, "zones/kopie.yaml", "zone.id", line_of(text, "  id: haven"),
                    "twice")


def test_a_missing_file(content_dir: Path) -> None:
    (content_dir / "classes.yaml").unlink()
    err = load_error(content_dir)
    assert err.file == "content/classes.yaml"
    assert "not found" in str(err)


def test_a_kit_names_an_unknown_item(content_dir: Path) -> None:
    text = break_file(content_dir, "classes.yaml", "kit: [haven:mace,", "kit: [haven:maze,")
    err = load_error(content_dir)
    assert_reported(err, "classes.yaml", "classes.cleric.kit.0",
                    line_of(text, "kit: [haven:maze,"), "unknown item 'haven:maze'")


def test_a_kit_needs_full_item_ids(content_dir: Path) -> None:
    text = break_file(content_dir, "classes.yaml", "kit: [haven:mace,", "kit: [mace,")
    err = load_error(content_dir)
    assert_reported(err, "classes.yaml", "classes.cleric.kit", line_of(text, "kit: [mace,"),
                    "'mace' is not a full item id")
