"""Small surprises of the first hour, fixed: `c` is cast, `buy 2 bread`, `look in corpse`,
a long `say` is cut with a word to the speaker, `consider all`, looking at what a room's
text mentions, wandering mobs' lines that fit the room, and the first step after death.
On the real starter content."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import events, names, new_world

from world.commands.registry import REGISTRY
from world.commands.social import MAX_SAY
from world.entities import Character, Position
from world.errors import Code
from world.events import Delivery
from world.systems import combat
from world.world import World

SQUARE = "haven:square"
TAVERN = "haven:tavern"
CELLAR = "haven:cellar"
TEMPLE = "haven:temple"


class Town:
    """Ann (a warrior) and Bob (a mage) in the square."""

    def __init__(self) -> None:
        self.world: World = new_world(11)
        self.ann: Character = self.world.enter("Ann", "warrior")
        self.bob: Character = self.world.enter("Bob", "mage")
        self.world.drain()

    def ok(self, who: Character, line: str) -> list[Delivery]:
        refusal = self.world.perform_line(who, line)
        assert refusal is None, (line, refusal.code, refusal.message)
        return self.world.drain()

    def refused(self, who: Character, line: str) -> str:
        refusal = self.world.perform_line(who, line)
        assert refusal is not None, f"{line!r} was not refused"
        assert self.world.drain() == []
        return refusal.code

    def move(self, who: Character, room: str) -> None:
        self.world.move(who, room)
        self.world.drain()


@pytest.fixture
def town() -> Town:
    return Town()


# ---- c is cast -----------------------------------------------------------------------


def test_c_is_cast_and_close_keeps_its_name(town: Town) -> None:
    assert REGISTRY.lookup("c") == REGISTRY.lookup("cast")
    assert REGISTRY.lookup("cl") == REGISTRY.lookup("close")
    rat = town.world.spawn_mob("haven:cellar_rat", "haven:temple_steps")
    town.move(town.bob, "haven:temple_steps")
    town.world.drain()
    out = town.ok(town.bob, "c 'magic missile' rat")
    assert [e["spell"] for e in events(out, "spell_cast", "Bob")] == ["magic_missile"]
    assert rat.fighting is town.bob or rat.position is Position.DEAD
    town.move(town.ann, TEMPLE)
    town.ok(town.ann, "open door")
    assert events(town.ok(town.ann, "close door"), "door_changed", "Ann")[0]["action"] == "closed"


# ---- buy 2 bread ---------------------------------------------------------------------


@pytest.mark.parametrize("line", ["buy 2 bread", "buy bread 2"])
def test_buy_a_count_of_something(town: Town, line: str) -> None:
    town.move(town.ann, TAVERN)
    town.ann.gold = 10
    town.ann.inventory.clear()
    out = town.ok(town.ann, line)
    bought = events(out, "item_bought", "Ann")
    assert [(b["item"], b["price"]) for b in bought] == [("a loaf of bread", 3)] * 2
    assert events(out, "gold_changed", "Ann") == [{"amount": -6, "total": 4,
                                                   "reason": "bought"}]
    assert [it.proto for it in town.ann.inventory] == ["haven:bread_loaf"] * 2


def test_buying_several_is_all_or_nothing(town: Town) -> None:
    town.move(town.ann, TAVERN)
    town.ann.gold = 10
    assert town.refused(town.ann, "buy 3 pie") == Code.TOO_POOR  # 15 gold
    assert town.refused(town.ann, "buy 11 bread") == Code.BAD_ARGS  # at most 10 at once
    assert town.refused(town.ann, "buy 0 bread") == Code.BAD_ARGS
    assert town.ann.gold == 10
    assert "2 bread" in REGISTRY.specs["buy"].params[0].description


# ---- look in ------------------------------------------------------------------------


def test_look_in_a_corpse_shows_what_is_inside(town: Town) -> None:
    town.move(town.ann, CELLAR)
    rat = next(ch for ch in town.world.rooms[CELLAR].characters if ch.is_mob)
    rat.gold = 2
    rat.inventory.append(town.world.make_item("haven:copper_coin"))
    combat.damage(town.world, town.ann, rat, 999, "hit")
    town.world.drain()
    seen = events(town.ok(town.ann, "look in corpse"), "item_examined", "Ann")
    assert seen[0]["item"] == "the corpse of a cellar rat"
    assert seen[0]["contents"] == [{"name": "an old copper coin", "keyword": "coin"}]
    assert seen[0]["gold"] == 2
    assert events(town.ok(town.ann, "examine corpse"), "item_examined") == seen
    town.ann.inventory.append(town.world.make_item("haven:bread_loaf"))
    assert town.refused(town.ann, "look in bread") == Code.NOT_CONTAINER


def test_look_in_a_feature_still_looks_at_it(town: Town) -> None:
    seen = events(town.ok(town.ann, "look in fountain"), "looked_at")
    assert seen[0]["target"] == "fountain"


# ---- a long say ----------------------------------------------------------------------


@pytest.mark.parametrize(("line", "event"), [
    ("say ", "said"), ("tell Bob ", "told"), ("shout ", "shouted"), ("emote ", "emoted")])
def test_a_long_line_of_speech_is_cut_and_the_speaker_told(town: Town, line: str,
                                                           event: str) -> None:
    out = town.ok(town.ann, line + "word " * 600)  # 3,000 characters
    heard = events(out, event, "Bob")
    assert len(heard) == 1 and len(heard[0]["text"]) == MAX_SAY
    mine = [d.event.name for d in out if d.recipient is town.ann]
    assert mine[-1] == "message"  # after the words themselves
    assert events(out, "message", "Ann") == [
        {"text": f"(Your words were cut to {MAX_SAY} characters.)", "level": "info"}]
    assert events(out, "message", "Bob") == []
    assert "message" not in names(town.ok(town.ann, line + "x" * MAX_SAY), "Ann")


def test_a_long_gtell_is_cut_and_the_speaker_told(town: Town) -> None:
    town.ok(town.bob, "follow Ann")
    town.ok(town.ann, "group Bob")
    out = town.ok(town.ann, "gtell " + "y" * 3000)
    assert len(events(out, "group_told", "Bob")[0]["text"]) == MAX_SAY
    assert events(out, "message", "Ann")[0]["text"].startswith("(Your words were cut")


def test_the_cut_is_well_under_the_message_limit() -> None:
    from server.config import Settings
    limit = Settings.model_fields["max_message_bytes"].default
    assert limit > MAX_SAY * 4  # even in 4-byte characters, a long line arrives to be cut


# ---- consider all --------------------------------------------------------------------


def test_consider_all_sizes_up_everyone_here_in_short(town: Town) -> None:
    town.move(town.ann, CELLAR)
    here = [ch.name for ch in town.world.rooms[CELLAR].characters if ch is not town.ann]
    assert len(here) >= 2
    considered = events(town.ok(town.ann, "consider all"), "considered", "Ann")
    assert [c["target"] for c in considered] == here
    assert all(c["brief"] for c in considered)
    one = events(town.ok(town.ann, "consider rat"), "considered", "Ann")[0]
    assert one["brief"] is False
    town.move(town.ann, "haven:bell_tower")
    assert town.refused(town.ann, "consider all") == Code.NOT_HERE


# ---- looking at what the room's text mentions ----------------------------------------


@pytest.mark.parametrize(("room", "word", "kind", "says"), [
    (TEMPLE, "windows", "feature", "morning sun"),
    (TEMPLE, "bell", "feature", "bronze bell"),
    ("haven:bell_tower", "bell", "feature", "RING FOR FIRE"),
    ("haven:temple_steps", "bell", "feature", "bronze bell"),
    ("haven:shop", "bell", "feature", "jingles"),
    (SQUARE, "fountain", "feature", "stone fish"),
    (SQUARE, "notice board", "feature", "help newbie"),
    (TAVERN, "fire", "feature", "A fire crackles in a wide hearth"),
    (TAVERN, "mugs", "feature", "Pewter mugs"),
    (TEMPLE, "door", "exit", "The door to the west is closed."),
    ("haven:gate_yard", "stair", "feature", "a stone stair climbs"),
])
def test_look_at_what_the_room_mentions(town: Town, room: str, word: str, kind: str,
                                        says: str) -> None:
    town.move(town.ann, room)
    seen = events(town.ok(town.ann, f"look {word}"), "looked_at", "Ann")
    assert seen[0]["target_kind"] == kind and says in seen[0]["description"]


@pytest.mark.parametrize("word", ["dragon", "the", "and", "xx"])
def test_words_not_in_the_room_are_not_seen(town: Town, word: str) -> None:
    assert town.refused(town.ann, f"look {word}") == Code.NOT_HERE


# ---- a wanderer's line fits the room -------------------------------------------------


def _line_of(town: Town, mob: Character) -> Any:
    room = events(town.ok(town.ann, "look"), "room", "Ann")[0]
    return next(c["short"] for c in room["characters"] if c["name"] == mob.name)


def test_a_wandering_mobs_line_shows_only_in_rooms_like_its_home(town: Town) -> None:
    snake = next(m for m in town.world.mobs.values() if m.proto == "haven:grass_snake")
    assert snake.room == "haven:mill_meadow" and snake.short
    town.move(town.ann, "haven:mill_meadow")
    assert _line_of(town, snake) == snake.short
    for outdoors in ("haven:cart_track", SQUARE):
        town.move(town.ann, outdoors)
        town.move(snake, outdoors)
        assert _line_of(town, snake) == snake.short
    town.move(town.ann, TEMPLE)
    town.move(snake, TEMPLE)  # indoors: the snake is just here
    assert _line_of(town, snake) == ""
    rat = next(m for m in town.world.mobs.values() if m.proto == "haven:cellar_rat"
               and m.room == CELLAR)
    town.move(rat, TEMPLE)  # an indoor creature keeps its line indoors...
    assert _line_of(town, rat) == rat.short
    town.move(town.ann, SQUARE)
    town.move(rat, SQUARE)  # ...and loses it outdoors
    assert _line_of(town, rat) == ""
    made = town.world.spawn_mob("haven:grass_snake", TAVERN)  # no home: as written
    town.move(town.ann, TAVERN)
    assert _line_of(town, made) == made.short


def test_every_wanderer_of_the_content_keeps_to_rooms_like_its_home_or_reads_plainly() -> None:
    world = new_world(2)
    for mob in world.mobs.values():
        if "wander" in mob.behaviours:
            home = world.rooms[mob.room]
            assert world.room_view(home, None).characters  # its home shows it
            line = next(c["short"] for c in world.room_view(home, None).characters
                        if c["name"] == mob.name)
            assert line == mob.short


# ---- after death ---------------------------------------------------------------------


def test_after_death_the_first_step_stands_you_up_and_goes(town: Town) -> None:
    town.move(town.ann, CELLAR)
    rat = next(ch for ch in town.world.rooms[CELLAR].characters if ch.is_mob)
    combat.damage(town.world, rat, town.ann, 999, "bite")
    town.world.drain()
    assert town.ann.room == TEMPLE
    assert town.ann.position is Position.RESTING
    out = town.ok(town.ann, "s")
    assert town.ann.room == "haven:temple_steps"
    assert names(out, "Ann")[:2] == ["position_changed", "room"]
    assert events(out, "position_changed", "Ann") == [{"actor": "Ann", "position": "standing"}]
    assert str(town.ann.position) == "standing"
    town.ok(town.ann, "sleep")
    assert town.refused(town.ann, "n") == Code.POSITION  # asleep: wake first
