"""Spells and skills pinned, part two: names as players read them, targets, what each kind
does to whom (its lasting effect, its event, its numbers), missed skills, recall and
rescue, area spells, and the spells a fighting mob picks.

The lab of tests/world/test_magic.py with the real content/spells.yaml and a few spells
of our own, some named unlike their ids ("dark bolt" is `shadow_bolt`), so the words a
player reads are checked. Rolls come from a script; the success roll is the real rule
(world/systems/magic.py: 50 + proficiency / 2 + 3 per point of the casting attribute
over 12, for skills 3 per level over the victim, within 10..98). Written to kill the
mutants `make mutate` found surviving in magic.py (docs/testing.md).
"""

from __future__ import annotations

from functools import cache
from random import Random
from typing import Any

import pytest
import yaml
from helpers import events
from test_magic import CLASSES, SPELLS_FILE, ZONE, Lab

from world.entities import Character, Effect, Position, Slot
from world.errors import Code, Refused
from world.prototypes import Content, build_content
from world.systems import combat, groups, magic
from world.world import World

OURS: dict[str, Any] = {
    "shadow_bolt": {"name": "dark bolt", "description": "Shadow.", "kind": "damage",
                    "target": "enemy", "mana": 5, "dice": "1d4", "classes": {"mage": 1},
                    "effect": {"name": "chill", "duration": 50, "dot": "1d1", "period": 10}},
    "bitter_cure": {"name": "bitter draught", "description": "Heals, then stings.",
                    "kind": "heal", "target": "ally", "dice": "1d4", "classes": {"cleric": 1},
                    "effect": {"name": "sting", "duration": 30, "dot": "1d1"}},
    "claw_rake": {"name": "rake", "description": "Claws.", "skill": True, "kind": "kick",
                  "target": "enemy", "dice": "1d4", "classes": {"warrior": 1},
                  "effect": {"name": "bleed", "duration": 30, "dot": "1d1"}},
    "shove": {"name": "shove", "description": "A push.", "skill": True, "kind": "bash",
              "target": "enemy", "per_level": 1.0, "classes": {"warrior": 1}},
    "vanish": {"name": "vanish", "description": "Gone.", "skill": True, "kind": "recall",
               "target": "none", "classes": {"rogue": 1}},
    "mend": {"name": "mend", "description": "Mend yourself.", "kind": "heal",
             "target": "self", "dice": "1d1", "classes": {"warrior": 1}},
    "sap": {"name": "sap", "description": "Saps.", "kind": "debuff", "target": "enemy",
            "mana": 5, "classes": {"mage": 1},
            "effect": {"name": "sapped", "duration": 50, "mods": {"str": -1}}},
    "blur": {"name": "blur", "description": "Blurred.", "kind": "buff", "target": "self",
             "classes": {"mage": 1}, "effect": {"name": "blurred", "duration": 10}},
    "blast": {"name": "blast", "description": "Boom.", "kind": "damage", "target": "enemy",
              "dice": "1d2", "classes": {"mage": 1}},
    "blast_wave": {"name": "blast wave", "description": "Boom!", "kind": "damage",
                   "target": "enemy", "dice": "1d2", "classes": {"mage": 1}},
}
ITEMS = {"recall_scroll": {"name": "a scroll of recall", "keywords": ["scroll"],
                           "description": "Home.", "type": "scroll", "effects": ["recall"]}}


@cache
def content() -> Content:
    spells = yaml.safe_load(SPELLS_FILE.read_text(encoding="utf-8"))
    spells["spells"].update(OURS)
    zone = {**ZONE, "items": {**ZONE["items"], **ITEMS}}
    return build_content(("world.yaml", {"name": "Lab", "start_room": "lab:hall"}),
                         ("classes.yaml", CLASSES), [("zones/lab.yaml", zone)], {},
                         ("spells.yaml", spells))


def arcana() -> Lab:
    return Lab(World(content(), seed=5))


class Rolls(Random):
    """The world's random source from a script: `randint` answers in order (and records
    the ranges asked), `choice` must have just one thing to choose from."""

    def __init__(self, *answers: int) -> None:
        super().__init__(0)
        self.answers = list(answers)
        self.asked: list[tuple[int, int]] = []

    def randint(self, a: int, b: int) -> int:
        assert self.answers, f"an unscripted roll randint({a}, {b})"
        self.asked.append((a, b))
        value = self.answers.pop(0)
        assert a <= value <= b, (a, b, value)
        return value

    def choice(self, seq: Any) -> Any:
        assert len(seq) == 1, f"a choice among {seq}"
        return seq[0]


def refused(fn: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(Refused) as r:
        fn(*args, **kwargs)
    return r.value.code, r.value.message


def cast(lab_: Lab, who: Character, sid: str, target: Any = None, *rolls: int) -> list[Any]:
    """`who` uses `sid` on `target` with these rolls (all used); what the room saw."""
    world = lab_.world
    world.rng = rng = Rolls(*rolls)
    magic.use(world, who, sid, target)
    assert rng.answers == []
    return world.drain()


# ---- names ----------------------------------------------------------------------------------


def test_a_spell_reads_by_its_name_not_its_id() -> None:
    lab_ = arcana()
    world = lab_.world
    ann = lab_.enter("Ann", level=1, skills={})
    wat = lab_.enter("Wat", "warrior", level=1, skills={})
    spells = world.content.spells
    assert magic.display("shadow_bolt") == "shadow bolt"
    assert magic.display("shadow_bolt", spells["shadow_bolt"]) == "dark bolt"
    assert refused(magic.check_caster, world, ann, "shadow_bolt") == (
        Code.NOT_LEARNED, "You don't know the spell dark bolt.")
    assert refused(magic.check_caster, world, wat, "claw_rake") == (
        Code.NOT_LEARNED, "You don't know how to rake.")
    ann.skills["shadow_bolt"] = 100
    assert refused(magic.prepare, world, ann, "shadow_bolt") == (
        Code.BAD_ARGS, "Use dark bolt on whom?")


def test_finding_a_spell_by_name_id_or_prefix() -> None:
    lab_ = arcana()
    world = lab_.world
    ann = lab_.enter("Ann", level=1)  # a mage: dark bolt, blast, blast wave...
    assert magic.find_spell(world, ann, "dark_bolt") == ("shadow_bolt", "")
    assert magic.find_spell(world, ann, "'dark'bolt'") == ("shadow_bolt", "")
    assert magic.find_spell(world, ann, "blast") == ("blast", "")  # exact, not a prefix
    assert magic.find_spell(world, ann, "dar", "big goblin") == ("shadow_bolt", "big goblin")
    assert magic.find_spell(world, ann, "dark", "bo goblin") == ("shadow_bolt", "goblin")
    wat = lab_.enter("Wat", "warrior", level=1, skills={})  # knows none: all of them count
    assert refused(magic.find_spell, world, wat, "b") == (
        Code.BAD_ARGS, "Which one: burning hands, bless, bash, backstab, bitter draught, "
                       "blur?")


# ---- targets --------------------------------------------------------------------------------


def test_what_a_spell_is_aimed_at() -> None:
    lab_ = arcana()
    world = lab_.world
    ann = lab_.enter("Ann", "cleric", level=12)
    ann.skills.update({"shadow_bolt": 100})
    rock = world.make_item("lab:rock")
    ann.inventory.append(rock)
    assert magic.prepare(world, ann, "armor", "self").victims == [ann]
    assert magic.prepare(world, ann, "armor", "me").victims == [ann]
    assert magic.prepare(world, ann, "armor", rock).victims == [ann]  # not a someone: you
    assert refused(magic.prepare, world, ann, "shadow_bolt", rock) == (
        Code.BAD_ARGS, "Use dark bolt on whom?")
    assert magic.prepare(world, ann, "identify", rock).item is rock
    assert refused(magic.prepare, world, ann, "identify", ann) == (
        Code.BAD_ARGS, "Use identify on which item?")
    assert refused(magic.prepare, world, ann, "shadow_bolt", "g" * 45) == (
        Code.NOT_HERE, f"You see no '{'g' * 40}' here.")
    assert refused(magic.prepare, world, ann, "identify", "r" * 45) == (
        Code.NOT_HERE, f"You have or see no '{'r' * 40}'.")
    potion = world.make_item("lab:potion")
    assert refused(magic.prepare, world, ann, "z" * 45, via=potion) == (
        Code.UNKNOWN_SPELL, f"There is no spell called '{'z' * 40}'.")
    wat = lab_.enter("Wat", "warrior", level=1)
    assert magic.prepare(world, wat, "mend").victims == [wat]  # a self spell
    wat.hp = 10
    cast(lab_, wat, "mend", None, 1, 1)  # the roll, then 1d1
    assert wat.hp == 11


def test_an_area_spell_hits_those_fighting_you_and_the_strangers_here() -> None:
    lab_ = arcana()
    world = lab_.world
    world.move(ann := lab_.enter("Ann"), "lab:yard")  # pvp
    bob = lab_.enter("Bob", "warrior")
    world.move(bob, "lab:yard")
    goblin = lab_.mob("goblin", "lab:yard")
    keeper = lab_.mob("shopkeeper", "lab:yard")
    rat = lab_.mob("rat", "lab:yard")
    assert magic.room_enemies(world, ann) == [goblin, rat]  # the shopkeeper is spared
    combat.engage(world, ann, goblin)
    keeper.fighting = ann  # it fights Ann, who fights another: an enemy all the same
    bob.fighting = ann
    assert magic.room_enemies(world, ann) == [bob, goblin, keeper, rat]
    rat.position = Position.DEAD
    assert rat not in magic.room_enemies(world, ann)


def test_an_area_spell_spares_a_mob_of_the_casters_group() -> None:
    lab_ = arcana()
    world = lab_.world
    leo = lab_.enter("Leo", "warrior")
    ann = lab_.enter("Ann")
    rat = lab_.mob("rat")
    goblin = lab_.mob("goblin")
    for member in (ann, rat):  # the rat follows Leo, not Ann
        groups.follow(world, member, leo)
        groups.add_member(world, leo, member)
    assert magic.room_enemies(world, ann) == [goblin]


# ---- what each kind does ------------------------------------------------------------------


def test_a_damage_spell_leaves_its_effect_from_its_caster_at_its_level() -> None:
    lab_ = arcana()
    world = lab_.world
    ann = lab_.enter("Ann", level=8)
    goblin = lab_.mob("goblin")  # 200 hp
    world.time = 100
    out = cast(lab_, ann, "shadow_bolt", "goblin", 1, 3, 1)  # the roll, 1d4, the dot's 1d1
    assert events(out, "spell_hit", "Ann") == [{"actor": "Ann", "spell": "shadow_bolt",
                                                "target": "a goblin", "damage": 3,
                                                "condition": "a few scratches"}]
    assert goblin.effects == [Effect(name="chill", source="shadow_bolt", until=150,
                                     dot=1 + 8 // 4, period=10, caster="Ann")]


def test_an_area_spell_names_no_target_and_skips_who_has_gone() -> None:
    lab_ = arcana()
    world = lab_.world
    ann = lab_.enter("Ann", level=8)
    goblin = lab_.mob("goblin")
    rat = lab_.mob("rat")
    rat.hp = rat.max_hp = 100
    plan = magic.prepare(world, ann, "fireball")
    assert plan.victims == [goblin, rat]
    world.move(goblin, "lab:yard")  # gone before the blast
    world.rng = Rolls(1, 1, 1, 1, 1)  # the roll, 4d6
    magic.perform(world, plan)
    out = world.drain()
    assert events(out, "spell_cast", "Ann") == [
        {"actor": "Ann", "kind": "player", "spell": "fireball", "target": None}]
    assert [e["target"] for e in events(out, "spell_hit", "Ann")] == ["a rat"]
    assert goblin.hp == goblin.max_hp and rat.hp == 100 - (4 + 8)


def test_identify_names_the_item_it_is_cast_at() -> None:
    lab_ = arcana()
    ann = lab_.enter("Ann")
    rock = lab_.world.make_item("lab:rock")
    ann.inventory.append(rock)
    out = cast(lab_, ann, "identify", "rock", 1)
    assert events(out, "spell_cast", "Ann") == [
        {"actor": "Ann", "kind": "player", "spell": "identify", "target": "a grey rock"}]
    assert [e["item"] for e in events(out, "item_identified", "Ann")] == ["a grey rock"]


def test_a_heal_gives_what_is_missing_and_leaves_its_effect() -> None:
    lab_ = arcana()
    world = lab_.world
    cy = lab_.enter("Cy", "cleric", level=8)
    bob = lab_.enter("Bob", "warrior")
    out = cast(lab_, cy, "cure_light", "bob", 1, 8)  # 1d8+4: 12, + 4 for the level
    assert events(out, "healed", "Bob") == [
        {"actor": "Cy", "target": "Bob", "amount": 0, "spell": "cure_light"}]
    assert bob.hp == bob.max_hp
    bob.hp -= 10
    world.time = 10
    cast(lab_, cy, "bitter_cure", "bob", 1, 2, 1)  # the roll, 1d4, the sting's 1d1
    assert bob.hp == bob.max_hp - 8
    assert bob.effects == [Effect(name="sting", source="bitter_cure", until=40,
                                  dot=1 + 8 // 4, period=20, caster="Cy")]


def test_a_buff_on_a_friend_starts_no_fight_and_a_second_haste_does_nothing() -> None:
    lab_ = arcana()
    ann = lab_.enter("Ann")
    bob = lab_.enter("Bob", "warrior")
    cast(lab_, ann, "armor", "bob", 1)
    assert ann.fighting is None and bob.fighting is None
    assert [e.source for e in bob.effects] == ["armor"]
    cast(lab_, ann, "haste", "bob", 1)
    ann.cooldowns.clear()
    out = cast(lab_, ann, "haste", "bob", 1)  # stacking: ignore
    assert events(out, "spell_failed", "Bob") == [
        {"actor": "Ann", "spell": "haste", "reason": "no_effect"}]


# ---- skills ------------------------------------------------------------------------------------


def test_a_kick_that_kills_says_so_and_is_credited() -> None:
    lab_ = arcana()
    wat = lab_.enter("Wat", "warrior", level=4)
    wat.attributes["str"] = 16  # + (16 - 10) // 3 = 2
    rat = lab_.mob("rat")  # 5 hp
    out = cast(lab_, wat, "kick", "rat", 1, 3)  # 1d6: 3, + 0.5 a level: 2, + 2
    assert events(out, "skill_used", "Wat") == [
        {"actor": "Wat", "skill": "kick", "target": "a rat", "success": True, "damage": 7,
         "condition": "dead"}]
    assert [e["killer"] for e in events(out, "died", "Wat")] == ["Wat"]
    assert rat.position is Position.DEAD


def test_a_kick_tells_the_condition_it_leaves_and_a_rake_its_bleeding() -> None:
    lab_ = arcana()
    world = lab_.world
    wat = lab_.enter("Wat", "warrior", level=8)
    goblin = lab_.mob("goblin")
    goblin.hp = goblin.max_hp = 20
    out = cast(lab_, wat, "kick", "goblin", 1, 6)  # 6 + 4 + 1 (str 14) = 11 of 20
    assert [(e["damage"], e["condition"]) for e in events(out, "skill_used", "Wat")] == [
        (11, "badly wounded")]
    world.time = 0
    wat.cooldowns.clear()
    cast(lab_, wat, "claw_rake", "goblin", 1, 1, 1)  # the roll, 1d4, the bleeding's 1d1
    assert [(e.name, e.dot, e.caster, e.source) for e in goblin.effects] == [
        ("bleed", 1 + 8 // 4, "Wat", "claw_rake")]


def test_a_shove_of_no_dice_hurts_by_level_and_at_least_1() -> None:
    lab_ = arcana()
    wat = lab_.enter("Wat", "warrior", level=3)
    wat.attributes["str"] = 10
    lab_.mob("goblin")
    out = cast(lab_, wat, "shove", "goblin", 1)  # no dice: 1.0 a level
    assert [e["damage"] for e in events(out, "skill_used", "Wat")] == [3]
    weak = lab_.enter("Weak", "warrior", level=1)
    weak.attributes["str"] = 10
    out = cast(lab_, weak, "shove", "goblin", 1)
    assert [e["damage"] for e in events(out, "skill_used", "Weak")] == [1]


def backstab_bare(str_: int, damage_mod: int, level: int = 9) -> int:
    """A rogue checked with a dagger in hand, who puts it away before the blow: the
    damage of the stab with bare hands (no dice: 1)."""
    lab_ = arcana()
    world = lab_.world
    rog = lab_.enter("Rog", "rogue", level=level)
    rog.attributes["str"] = str_
    if damage_mod:
        rog.effects.append(Effect("fury", mods={"damage": damage_mod}))
    rog.equipment[Slot.WIELD] = world.make_item("lab:dagger")
    goblin = lab_.mob("goblin")
    goblin.hp = goblin.max_hp = 500
    plan = magic.prepare(world, rog, "backstab", "goblin")
    del rog.equipment[Slot.WIELD]
    world.rng = Rolls(1)  # the roll only: no dice to roll
    magic.perform(world, plan)
    [used] = events(world.drain(), "skill_used", "Rog")
    assert used["actor"] == "Rog" and isinstance(used["damage"], int)
    return int(used["damage"])


def test_a_backstab_without_a_weapon_strikes_with_bare_hands() -> None:
    # (1 + damage mods + (str - 10) // 3) * (2 + level // 4), at least 1.
    assert backstab_bare(16, 2) == (1 + 2 + 2) * 4
    assert backstab_bare(16, 0, level=8) == (1 + 0 + 2) * 4
    assert backstab_bare(4, 0) == 1  # (1 - 2) * 4


def test_a_missed_skill_with_no_one_to_miss_is_lost_concentration() -> None:
    lab_ = arcana()
    world = lab_.world
    rog = lab_.enter("Rog", "rogue", level=1, skills={"vanish": 0})
    rog.attributes["dex"] = 12
    lab_.enter("Bob", "warrior")
    out = cast(lab_, rog, "vanish", None, 51)  # 50 + 0 + 0: a 51 misses
    assert events(out, "spell_failed", "Bob") == [
        {"actor": "Rog", "spell": "vanish", "reason": "concentration"}]
    assert rog.room == "lab:hall" and world.fighters == {}


def test_a_skill_counts_the_level_of_its_victim() -> None:
    lab_ = arcana()
    world = lab_.world
    wat = lab_.enter("Wat", "warrior", level=1, skills={"kick": 50})
    lab_.mob("goblin").level = 5
    world.rng = rng = Rolls(70)  # 50 + 25 + 3 * 2 (dex 14) - 3 * 4 (levels) = 69
    magic.use(world, wat, "kick", "goblin")
    assert rng.asked == [(1, 100)]
    assert [e["success"] for e in events(world.drain(), "skill_used", "Wat")] == [False]


def test_a_lost_spell_costs_half_its_mana_rounded_down() -> None:
    lab_ = arcana()
    ann = lab_.enter("Ann", level=1, skills={"magic_missile": 0})
    ann.attributes["int"] = ann.attributes["wis"] = 3  # 50 - 27 = 23
    lab_.mob("goblin")
    cast(lab_, ann, "magic_missile", "goblin", 24)
    assert ann.mana == 200 - 5 // 2 and isinstance(ann.mana, int)


def test_the_chance_of_a_spell_not_known() -> None:
    lab_ = arcana()
    ann = lab_.enter("Ann", level=1, skills={})
    kick = lab_.world.content.spells["kick"]
    assert magic.success_chance(ann, "kick", kick) == 50 + 0 + 3 * (14 - 12)


# ---- recall and rescue -----------------------------------------------------------------------


def test_recall_takes_you_to_the_temple_in_the_sight_of_those_there() -> None:
    lab_ = arcana()
    world = lab_.world
    cy = lab_.enter("Cy", "cleric", level=12)
    bob = lab_.enter("Bob", "warrior")
    world.move(bob, "lab:temple")
    out = cast(lab_, cy, "recall", None, 1)
    assert events(out, "arrived", "Bob") == [
        {"actor": "Cy", "kind": "player", "direction": None, "level": 12}]
    [view] = events(out, "room", "Cy")
    assert view["id"] == "lab:temple" and [c["name"] for c in view["characters"]] == ["Bob"]


def test_a_scroll_of_recall_read_out_of_a_fight_sends_no_vitals() -> None:
    lab_ = arcana()
    world = lab_.world
    cy = lab_.enter("Cy", "cleric", level=12)
    scroll = world.make_item("lab:recall_scroll")
    magic.perform(world, magic.prepare(world, cy, "recall", via=scroll))
    world.tick()
    assert cy.room == "lab:temple"
    assert events(world.drain(), "vitals", "Cy") == []


def test_a_rescuer_takes_the_blows_and_keeps_its_own_foe() -> None:
    lab_ = arcana()
    world = lab_.world
    wat = lab_.enter("Wat", "warrior", level=5)
    bob = lab_.enter("Bob", "warrior", level=5)
    rat = lab_.mob("rat")
    goblin = lab_.mob("goblin")
    rat.hp = rat.max_hp = 100
    combat.engage(world, wat, rat)
    combat.engage(world, goblin, bob)
    out = cast(lab_, wat, "rescue", "bob", 1)
    assert events(out, "rescued", "Bob") == [{"actor": "Wat", "target": "Bob",
                                              "foe": "a goblin"}]
    assert goblin.fighting is wat and wat.fighting is rat
    assert wat.position is Position.FIGHTING
    assert bob.fighting is None and bob.id not in world.fighters


# ---- what a mob casts ------------------------------------------------------------------------


def fighting_shaman(*skills: str) -> tuple[World, Character, Character]:
    lab_ = arcana()
    world = lab_.world
    ann = lab_.enter("Ann")
    shaman = lab_.mob("shaman")
    shaman.skills = {sid: 75 for sid in skills}
    combat.engage(world, ann, shaman)
    world.rng = Rolls()
    return world, ann, shaman


def test_a_mob_never_picks_what_it_cannot_use_in_a_fight() -> None:
    world, ann, shaman = fighting_shaman("nonesuch", "dodge", "recall", "identify", "rescue",
                                         "backstab", "magic_missile")
    assert magic.mob_choice(world, shaman) == ("magic_missile", ann)


def test_a_mob_picks_what_it_can_pay_for_and_is_ready() -> None:
    world, ann, shaman = fighting_shaman("fireball", "magic_missile")
    shaman.cooldowns["fireball"] = world.time + 5
    assert magic.mob_choice(world, shaman) == ("magic_missile", ann)
    shaman.cooldowns.clear()
    shaman.skills = {"magic_missile": 75}
    shaman.mana = 5  # just enough
    assert magic.mob_choice(world, shaman) == ("magic_missile", ann)


@pytest.mark.parametrize(("sid", "effect", "again"), [
    ("weaken", "weaken", True),  # stacks: worth another
    ("sap", "sapped", False),  # refreshes: not while it lasts
    ("poison", "poison", False),
    ("hold", "held", False),
])
def test_a_mob_lays_a_curse_once_unless_it_stacks(sid: str, effect: str, again: bool) -> None:
    world, ann, shaman = fighting_shaman(sid)
    assert magic.mob_choice(world, shaman) == (sid, ann)
    ann.effects.append(Effect(effect, until=world.time + 100))
    assert magic.mob_choice(world, shaman) == ((sid, ann) if again else None)


# ---- content checks ------------------------------------------------------------------------


def test_what_the_content_check_says_of_faulty_spells() -> None:
    faulty = {
        "numb": {"name": "numb", "description": "x", "kind": "dot", "target": "enemy",
                 "effect": {"name": "numb", "duration": 10}},  # no dot dice
        "bare": {"name": "bare", "description": "x", "kind": "dot", "target": "enemy"},
        "flash": {"name": "flash", "description": "x", "kind": "buff", "target": "self",
                  "effect": {"name": "flash"}},  # no duration
        "blink": {"name": "blink", "description": "x", "kind": "buff", "target": "self",
                  "effect": {"name": "blink", "duration": 1}},  # one tick: fine
        "mend_foe": {"name": "mend foe", "description": "x", "kind": "heal",
                     "target": "enemy", "dice": "1d4"},
    }
    hall = {"zone": {"id": "lab", "name": "Lab"},
            "rooms": {"hall": {"name": "Hall", "description": "Bare."}}}
    spells = build_content(("world.yaml", {"name": "Lab", "start_room": "lab:hall"}),
                           ("classes.yaml", CLASSES), [("zones/lab.yaml", hall)], {},
                           ("spells.yaml", {"spells": faulty}))
    assert magic.check_content(spells) == [
        "spells.numb: a dot spell's effect needs dot dice",
        "spells.bare: a dot spell needs an effect",
        "spells.flash: an effect needs a duration",
        "spells.mend_foe: a heal spell takes target ally or self",
    ]
