"""Spells and skills pinned: every refusal's code and words, cooldown seconds, a missed
skill, the damage of kick and backstab, identify's sheet, and what a mob casts.

The lab world and the real content/spells.yaml of tests/world/test_magic.py. Expected
values are written out by hand from the rules in world/systems/magic.py's docstrings;
these were written to kill the mutants `make mutate` found there (docs/testing.md).
"""

from __future__ import annotations

from random import Random
from typing import Any

import pytest
from helpers import events
from test_magic import Lab, lab

from world.entities import Character, Effect, Item, Position, Slot
from world.errors import Code, Refused
from world.systems import combat, magic


class Scripted(Random):
    """`randint` answers from a script, in order (the success roll, then the dice)."""

    def __init__(self, *answers: int) -> None:
        super().__init__(0)
        self.answers = list(answers)

    def randint(self, a: int, b: int) -> int:
        value = self.answers.pop(0)
        assert a <= value <= b
        return value

    def choice(self, seq: Any) -> Any:
        assert len(seq) == 1, f"a choice among {seq}"
        return seq[0]


def refused(fn: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(Refused) as r:
        fn(*args, **kwargs)
    return r.value.code, r.value.message


def pick(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: data[k] for k in keys}


# ---- check_caster ------------------------------------------------------------------------


def test_what_a_caster_is_refused_and_why() -> None:
    lab_ = lab()
    world = lab_.world
    ann = lab_.enter("Ann", level=1)  # a mage who knows magic missile
    assert refused(magic.check_caster, world, ann, "frob") == (
        Code.UNKNOWN_SPELL, "There is no spell or skill called 'frob'.")
    assert refused(magic.check_caster, world, ann, "x" * 50) == (
        Code.UNKNOWN_SPELL, f"There is no spell or skill called '{'x' * 40}'.")
    assert refused(magic.check_caster, world, ann, "burning_hands") == (
        Code.NOT_LEARNED, "You don't know the spell burning hands.")
    assert refused(magic.check_caster, world, ann, "kick") == (
        Code.NOT_LEARNED, "You don't know how to kick.")
    ann.skills["fireball"] = 100
    assert refused(magic.check_caster, world, ann, "fireball") == (
        Code.LEVEL_TOO_LOW, "You need to be level 8 to use fireball.")
    ann.mana = 4
    assert refused(magic.check_caster, world, ann, "magic_missile") == (
        Code.NO_MANA, "You need 5 mana for magic missile; you have 4.")
    ann.mana = 5
    ann.position = Position.RESTING
    assert refused(magic.check_caster, world, ann, "magic_missile") == (
        Code.POSITION, "You need to stand up first.")
    ann.position = Position.STANDING
    assert magic.check_caster(world, ann, "magic_missile") is world.content.spells[
        "magic_missile"]
    rog = lab_.enter("Rog", "rogue", level=2)
    assert refused(magic.check_caster, world, rog, "dodge") == (
        Code.BAD_ARGS, "Dodge works by itself; there is nothing to cast.")


@pytest.mark.parametrize(("ticks_left", "seconds"), [(40, 4), (31, 4), (30, 3), (11, 2),
                                                     (10, 1), (1, 1)])
def test_a_cooldown_is_told_in_whole_seconds_rounded_up(ticks_left: int, seconds: int) -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    lab_.world.time = 500
    ann.cooldowns["fireball"] = 500 + ticks_left
    assert refused(magic.check_caster, lab_.world, ann, "fireball") == (
        Code.COOLDOWN, f"You can use fireball again in {seconds} s.")


# ---- naming a spell ------------------------------------------------------------------------


def test_find_spell() -> None:
    lab_ = lab()
    world = lab_.world
    cleric = lab_.enter("Cy", "cleric", level=1)  # knows cure light, not cause light yet
    assert magic.find_spell(world, cleric, "c") == ("cure_light", "")
    assert magic.find_spell(world, cleric, "magic", "missile big goblin") == (
        "magic_missile", "big goblin")
    assert refused(magic.find_spell, world, cleric, "' '") == (Code.BAD_ARGS, "Cast what?")
    assert refused(magic.find_spell, world, cleric, "xyz", "at all") == (
        Code.UNKNOWN_SPELL, "There is no spell or skill called 'xyz'.")
    assert refused(magic.find_spell, world, cleric, "q" * 45) == (
        Code.UNKNOWN_SPELL, f"There is no spell or skill called '{'q' * 40}'.")
    wiser = lab_.enter("Di", "cleric", level=12)
    assert refused(magic.find_spell, world, wiser, "c") == (
        Code.BAD_ARGS, "Which one: cure light, cause light?")


# ---- prepare: targets ------------------------------------------------------------------------


def test_what_a_target_is_refused_and_why() -> None:
    lab_ = lab()
    world = lab_.world
    ann = lab_.enter("Ann")
    assert refused(magic.prepare, world, ann, "magic_missile") == (
        Code.BAD_ARGS, "Use magic missile on whom?")
    assert refused(magic.prepare, world, ann, "magic_missile", "ghost") == (
        Code.NOT_HERE, "You see no 'ghost' here.")
    assert refused(magic.prepare, world, ann, "fireball") == (
        Code.BAD_TARGET, "There are no enemies here.")
    assert refused(magic.prepare, world, ann, "identify") == (
        Code.BAD_ARGS, "Use identify on which item?")
    assert refused(magic.prepare, world, ann, "identify", "ghost") == (
        Code.NOT_HERE, "You have or see no 'ghost'.")
    potion = world.make_item("lab:potion")
    assert refused(magic.prepare, world, ann, "frob", via=potion) == (
        Code.UNKNOWN_SPELL, "There is no spell called 'frob'.")
    assert refused(magic.prepare, world, ann, "identify", via=potion, forced=ann) == (
        Code.BAD_TARGET, "Identify needs an item.")
    world.move(ann, "lab:temple")
    lab_.mob("goblin", "lab:temple")
    assert refused(magic.prepare, world, ann, "fireball") == (
        Code.SAFE_ROOM, "This is a place of peace: no fighting here.")


def test_plans_name_their_victims() -> None:
    lab_ = lab()
    world = lab_.world
    ann = lab_.enter("Ann")
    goblin = lab_.mob("goblin")
    assert magic.prepare(world, ann, "armor").victims == [ann]  # an ally spell: yourself
    assert magic.prepare(world, ann, "magic_missile", "goblin").victims == [goblin]
    potion = world.make_item("lab:potion")
    plan = magic.prepare(world, ann, "bless", via=potion, forced=ann)
    assert (plan.victims, plan.via) == ([ann], potion)
    rock = world.make_item("lab:rock")
    ann.inventory.append(rock)
    assert magic.prepare(world, ann, "identify", "rock").item is rock


def test_rescue_refusals() -> None:
    lab_ = lab()
    world = lab_.world
    war = lab_.enter("War", "warrior", level=5)
    bob = lab_.enter("Bob", "warrior", level=5)
    assert refused(magic.prepare, world, war, "rescue") == (Code.BAD_ARGS, "Rescue whom?")
    assert refused(magic.prepare, world, war, "rescue", "me") == (
        Code.BAD_TARGET, "You can't rescue yourself.")
    assert refused(magic.prepare, world, war, "rescue", "bob") == (
        Code.BAD_TARGET, "Bob is not under attack.")
    world.move(war, "lab:yard")
    world.move(bob, "lab:yard")
    combat.engage(world, war, bob)
    combat.engage(world, lab_.mob("goblin", "lab:yard"), bob)
    assert refused(magic.prepare, world, war, "rescue", "bob") == (
        Code.BAD_TARGET, "You are the one fighting Bob!")


def test_backstab_refusals() -> None:
    lab_ = lab()
    world = lab_.world
    rog = lab_.enter("Rog", "rogue", level=8)
    goblin = lab_.mob("goblin")
    assert refused(magic.prepare, world, rog, "backstab", "goblin") == (
        Code.NO_WEAPON, "You need to wield a weapon to backstab.")
    rog.equipment[Slot.WIELD] = world.make_item("lab:dagger")
    bob = lab_.enter("Bob", "warrior")
    combat.engage(world, bob, goblin)
    assert refused(magic.prepare, world, rog, "backstab", "goblin") == (
        Code.BAD_TARGET, "a goblin is fighting and too alert to backstab.")
    rat = lab_.mob("rat")
    combat.engage(world, rog, rat)
    assert refused(magic.prepare, world, rog, "backstab", "goblin") == (
        Code.POSITION, "You are fighting already: too late to backstab.")


# ---- doing it ---------------------------------------------------------------------------------


def test_a_missed_skill_still_starts_the_fight_and_the_cooldown(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(magic, "success_chance", lambda *args: 0)
    lab_ = lab()
    war = lab_.enter("War", "warrior", level=5)
    goblin = lab_.mob("goblin")
    out = lab_.ok(war, "kick goblin")
    assert [pick(d, "actor", "skill", "target", "success", "damage")
            for d in events(out, "skill_used", "War")] == [
        {"actor": "War", "skill": "kick", "target": "a goblin", "success": False, "damage": 0}]
    assert war.fighting is goblin and goblin.hp == goblin.max_hp
    assert war.cooldowns["kick"] == lab_.world.time + 30


def test_a_missed_rescue_starts_no_fight(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(magic, "success_chance", lambda *args: 0)
    lab_ = lab()
    war = lab_.enter("War", "warrior", level=5)
    bob = lab_.enter("Bob", "warrior", level=5)
    goblin = lab_.mob("goblin")
    combat.engage(lab_.world, goblin, bob)
    lab_.world.drain()
    out = lab_.ok(war, "rescue bob")
    assert [pick(d, "actor", "skill", "target", "success", "damage")
            for d in events(out, "skill_used", "War")] == [
        {"actor": "War", "skill": "rescue", "target": "Bob", "success": False, "damage": 0}]
    assert war.fighting is None and goblin.fighting is bob


def test_a_lost_spell_costs_half_its_mana(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(magic, "success_chance", lambda *args: 0)
    lab_ = lab()
    ann = lab_.enter("Ann")
    lab_.mob("goblin")
    out = lab_.ok(ann, "cast 'burning hands' goblin")
    assert [pick(d, "actor", "spell", "reason") for d in events(out, "spell_failed", "Ann")] \
        == [{"actor": "Ann", "spell": "burning_hands", "reason": "concentration"}]
    assert ann.mana == 200 - 10 // 2


def strike(lab_: Lab, who: Character, line: str, *rolls: int) -> dict[str, Any]:
    lab_.world.rng = Scripted(*rolls)
    out = lab_.ok(who, line)
    [used] = events(out, "skill_used", who.name)
    return used


def test_kick_hurts_by_its_dice_level_and_strength(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(magic, "success_chance", lambda *args: 100)
    lab_ = lab()
    war = lab_.enter("War", "warrior", level=4)  # str 14: +1
    goblin = lab_.mob("goblin")
    used = strike(lab_, war, "kick goblin", 50, 3)  # 1d6: 3, + 0.5 a level: 2, + 1
    assert pick(used, "success", "damage") == {"success": True, "damage": 6}
    assert goblin.hp == goblin.max_hp - 6
    weak = lab_.enter("Weak", "warrior", level=4)
    weak.attributes["str"] = 4  # a negative strength bonus adds nothing
    assert pick(strike(lab_, weak, "kick goblin", 50, 3), "damage") == {"damage": 5}


def test_backstab_multiplies_the_weapon_hit_by_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(magic, "success_chance", lambda *args: 100)
    lab_ = lab()
    rog = lab_.enter("Rog", "rogue", level=8)
    rog.equipment[Slot.WIELD] = world_dagger = lab_.world.make_item("lab:dagger")  # 2d4+1
    assert world_dagger.damage is not None
    goblin = lab_.mob("goblin")
    used = strike(lab_, rog, "backstab goblin", 50, 2, 3)
    # (2 + 3 + 1, + strength 1) * (2 + 8 // 4)
    assert pick(used, "success", "damage") == {"success": True, "damage": 28}
    assert goblin.hp == goblin.max_hp - 28


def test_identify_shows_every_field() -> None:
    lab_ = lab()
    dagger: Item = lab_.world.make_item("lab:dagger")
    assert magic.item_details(dagger) == {
        "name": "a steel dagger", "keyword": "dagger", "type": "weapon", "weight": 2,
        "value": 30, "level": 0, "classes": [], "slot": "wield", "damage": "2d4+1",
        "average_damage": 6.0, "two_handed": False, "armor": 0, "mods": {"hit": 1},
        "effects": [], "capacity": 0, "flags": []}
    rock = lab_.world.make_item("lab:rock")
    details = magic.item_details(rock)
    assert (details["damage"], details["average_damage"], details["type"]) == (None, None,
                                                                               "misc")


# ---- what a mob casts ------------------------------------------------------------------


def test_a_mob_buffs_then_attacks_and_heals_when_low() -> None:
    lab_ = lab()
    world = lab_.world
    world.rng = Scripted()
    ann = lab_.enter("Ann")
    shaman = lab_.mob("shaman")  # magic missile, cure light, armor
    assert magic.mob_choice(world, shaman) is None  # not fighting
    combat.engage(world, ann, shaman)
    assert magic.mob_choice(world, shaman) == ("armor", shaman)
    shaman.effects.append(Effect("armor", until=None))
    assert magic.mob_choice(world, shaman) == ("magic_missile", ann)
    shaman.hp = shaman.max_hp * 40 // 100  # 40 %: not below it yet
    assert magic.mob_choice(world, shaman) == ("magic_missile", ann)
    shaman.hp -= 1
    assert magic.mob_choice(world, shaman) == ("cure_light", shaman)
    shaman.cooldowns["cure_light"] = world.time + 1
    assert magic.mob_choice(world, shaman) == ("magic_missile", ann)
    shaman.cooldowns["cure_light"] = world.time  # ready again on this very tick
    assert magic.mob_choice(world, shaman) == ("cure_light", shaman)
    shaman.mana = 7  # cure light costs 8, magic missile 5
    assert magic.mob_choice(world, shaman) == ("magic_missile", ann)
    shaman.mana = 4
    assert magic.mob_choice(world, shaman) is None
