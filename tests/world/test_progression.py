"""XP and levels in a small world of our own (tests/arena.py): kills scaled by the level
difference and split in a group, level-ups with their gains and new spells, the cap,
penalties that never cost a level, and what new characters know.
"""

from __future__ import annotations

import pytest
from arena import mob, new_world, player, rounds
from helpers import events, names

from world import rules
from world.entities import Character
from world.events import Killed
from world.systems import combat, progression
from world.world import World


def kill(world: World, killer: Character, victim: Character) -> None:
    """`killer` finishes `victim` with one blow (in a fight, as a round would)."""
    combat.engage(world, killer, victim)
    combat.damage(world, killer, victim, victim.hp + 10, "melee")


# ---- XP from kills -------------------------------------------------------------------


@pytest.mark.parametrize(("member", "victim", "percent"), [
    (5, 5, 100), (5, 6, 120), (5, 9, 180), (1, 10, 200), (5, 4, 80), (5, 1, 20), (9, 1, 5),
    (20, 1, 5),
])
def test_the_level_difference_scales_xp(member: int, victim: int, percent: int) -> None:
    assert progression.scale_percent(member, victim) == percent


def test_killing_a_mob_gives_xp_by_its_level() -> None:
    world = new_world()
    ann = player(world)
    goblin = mob(world, "goblin")  # level 3: 2 levels above Ann
    kill(world, ann, goblin)
    out = world.drain()
    amount = 371  # a level-3 mob's 40 + 9 * 25 = 265 XP, +40 % for 2 levels above Ann
    assert events(out, "xp_gained", "Ann") == [{"amount": amount, "reason": "kill",
                                                "source": "a goblin", "xp": amount,
                                                "xp_next": 1000, "title": ""}]
    assert ann.xp == amount
    assert names(out, "Ann").index("died") < names(out, "Ann").index("xp_gained")


def test_content_xp_wins_over_the_level_formula() -> None:
    world = new_world()
    ann = player(world)
    dummy = mob(world, "dummy")  # xp: 77
    kill(world, ann, dummy)
    assert ann.xp == 77


def test_a_real_fight_pays_out_at_the_end() -> None:
    world = new_world()
    ann = player(world, level=5)
    rat = mob(world, "rat")
    world.perform_line(ann, "kill rat")
    for _ in range(50):
        rounds(world)
        if rat.id not in world.mobs:
            break
    assert ann.xp == 9189 + 13  # level 5's total, + 20 % of a rat's 65 (4 levels below)


def test_a_group_in_the_room_shares_by_level() -> None:
    world = new_world()
    ann = player(world, level=3)
    bob = player(world, "Bob", "mage", level=1)
    cid = player(world, "Cid", "cleric", level=3, room="arena:field")
    for who in (bob, cid):
        world.move(who, "arena:yard")
        world.perform_line(who, "follow ann")
        world.perform_line(ann, f"group {who.name}")
    world.move(cid, "arena:field")  # Cid is elsewhere: no share
    world.drain()
    goblin = mob(world, "goblin")  # level 3
    base = rules.mob_xp(3) * 1.10  # two members here: 10 % more in all
    xp_ann, xp_bob = ann.xp, bob.xp
    kill(world, bob, goblin)
    out = world.drain()
    assert ann.xp - xp_ann == int(base * 3 / 4 * 100 / 100)
    assert bob.xp - xp_bob == int(base * 1 / 4 * 140 / 100)
    assert events(out, "xp_gained", "Cid") == []
    assert cid.xp == rules.xp_for_level(3)


def test_followers_outside_the_group_get_nothing() -> None:
    world = new_world()
    ann = player(world)
    bob = player(world, "Bob")
    world.perform_line(bob, "follow ann")
    rat = mob(world, "rat")
    kill(world, ann, rat)
    assert ann.xp == rules.mob_xp(1) and bob.xp == 0


def test_no_xp_for_mobs_killing_or_players_dying() -> None:
    world = new_world()
    ann = player(world, room="arena:pit")
    bob = player(world, "Bob", room="arena:pit")
    rat = mob(world, "rat", "arena:pit")
    dummy = mob(world, "dummy", "arena:pit")
    kill(world, dummy, rat)
    kill(world, ann, bob)
    out = world.drain()
    assert "xp_gained" not in names(out)
    assert ann.xp == 0
    world.signal(Killed(rat, None, "arena:pit"))  # poison with no caster: nobody to pay
    assert world.drain() == []


# ---- levels --------------------------------------------------------------------------


def test_crossing_the_threshold_gains_a_level_with_its_gains_and_spells() -> None:
    world = new_world()
    ann = player(world)
    assert ann.skills == {"kick": progression.LEARN_PROFICIENCY}
    before = (ann.max_hp, ann.max_mana, ann.max_moves, dict(ann.attributes))
    progression.gain_xp(world, ann, rules.xp_for_level(2) - 1, "kill", "a rat")
    assert ann.level == 1
    world.drain()
    progression.gain_xp(world, ann, 1, "kill", "a rat")
    out = world.drain()
    assert names(out, "Ann") == ["xp_gained", "level_gained"]
    gained = events(out, "level_gained", "Ann")[0]
    # Warrior: 10 hp a level + (con 17 - 12) // 2 (con grew by 1 first); 5 moves; str 0.5 a
    # level (a point at even levels), con 1 a level; and the level-2 skill.
    assert gained == {"level": 2, "hp": 12, "mana": 0, "moves": 5,
                      "attributes": {"str": 1, "con": 1},
                      "learned": [{"id": "second_wind", "name": "second wind", "skill": True}]}
    assert ann.level == 2
    assert ann.max_hp == before[0] + 12 and ann.max_moves == before[2] + 5
    assert ann.attributes["con"] == before[3]["con"] + 1
    assert ann.attributes["str"] == before[3]["str"] + 1
    assert ann.skills["second_wind"] == progression.LEARN_PROFICIENCY
    world.tick()
    vitals = events(world.drain(), "vitals", "Ann")[-1]
    assert vitals["level"] == 2 and vitals["xp_next"] == 3031


def test_fractional_growth_adds_up_over_levels() -> None:
    world = new_world()
    ann = player(world)
    strength = ann.attributes["str"]
    progression.gain_xp(world, ann, rules.xp_for_level(5), "quest")
    assert ann.level == 5
    assert ann.attributes["str"] == strength + 2  # 0.5 a level: at levels 2..5, two points
    gained = [e["attributes"].get("str", 0) for e in events(world.drain(), "level_gained")]
    assert gained == [1, 0, 1, 0]


def test_many_levels_at_once_each_announced() -> None:
    world = new_world()
    bob = player(world, "Bob", "mage")
    assert bob.skills == {"magic_missile": progression.LEARN_PROFICIENCY}
    progression.gain_xp(world, bob, rules.xp_for_level(4) + 10, "quest:arena:big")
    out = world.drain()
    assert [e["level"] for e in events(out, "level_gained")] == [2, 3, 4]
    assert events(out, "xp_gained")[0]["reason"] == "quest"
    assert events(out, "xp_gained")[0]["source"] == "arena:big"
    learned = [e["learned"] for e in events(out, "level_gained")]
    assert learned == [[], [{"id": "armor", "name": "armor", "skill": False}], []]
    mana = events(out, "level_gained")[0]["mana"]
    assert mana == 10 + (18 - 12) // 2
    assert bob.max_mana == 30 + sum(e["mana"] for e in events(out, "level_gained"))


def test_the_level_cap() -> None:
    world = new_world()
    ann = player(world, level=rules.LEVEL_CAP - 1)
    got = progression.gain_xp(world, ann, 10**9, "kill", "a god")
    assert ann.level == rules.LEVEL_CAP
    assert ann.xp == 111174  # level 20's total
    assert got == 111174 - 101961  # from level 19's
    world.drain()
    assert progression.gain_xp(world, ann, 500, "kill", "a rat") == 0
    assert world.drain() == []
    assert ann.level == rules.LEVEL_CAP
    assert ann.skills.get("fireball") is None  # a mage spell: not a warrior's


def test_losing_xp_never_costs_a_level() -> None:
    world = new_world()
    ann = player(world, level=4)
    ann.xp += 100
    assert progression.lose_xp(world, ann, 40, "flee") == 40
    assert progression.lose_xp(world, ann, 10_000, "death") == 60
    assert ann.level == 4 and ann.xp == rules.xp_for_level(4)
    assert progression.lose_xp(world, ann, 10, "death") == 0
    out = world.drain()
    assert [e["amount"] for e in events(out, "xp_lost", "Ann")] == [40, 60]


def test_penalties_scale_with_the_level() -> None:
    assert progression.death_penalty(player(new_world(), level=1)) == 100
    assert progression.flee_penalty(player(new_world(), level=1)) == 20
    world = new_world()
    high = player(world, level=10)
    assert progression.death_penalty(high) == progression.level_span(10) // 10


def test_mobs_gain_no_xp() -> None:
    world = new_world()
    rat = mob(world, "rat")
    assert progression.gain_xp(world, rat, 100, "kill") == 0
    assert rat.xp == 0


# ---- what characters know -----------------------------------------------------------------


def test_new_characters_know_their_level_one_spells() -> None:
    world = new_world()
    expected = {"warrior": {"kick"}, "mage": {"magic_missile"}, "cleric": {"armor"},
                "rogue": set()}
    for n, (cls, spells) in enumerate(expected.items()):
        ch = world.enter(f"New{'abcd'[n]}", cls)
        assert set(ch.skills) == spells


def test_restored_characters_keep_theirs_and_learn_what_they_are_due() -> None:
    world = new_world()
    ann = world.enter("Ann", "mage")
    ann.level = 3
    ann.skills["magic_missile"] = 99
    snap = world.leave(ann, "quit")
    snap["skills"].pop("armor", None)
    again = world.enter("Ann", "mage", state=snap)
    assert again.skills == {"magic_missile": 99, "armor": progression.LEARN_PROFICIENCY}
