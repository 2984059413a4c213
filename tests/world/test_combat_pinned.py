"""The combat formulas of world/systems/combat.py, pinned to values worked out by hand.

The rules, as the module's docstring states them:

- to hit: 50 % + 5 per level above the victim + the class's `hit` + `hit` mods
  + 2 per dexterity point over 10 - 2 per point of the victim's armour, within 5..95;
- a to-hit roll of 5 or less is a critical hit: double damage;
- damage: the weapon's dice (fists 1d3) + `damage` mods + (strength - 10) // 3,
  and never less than 1;
- flee: 50 + 3 per dexterity point over 10 + 5 per level above the foe, within 10..95.

Each expected number below is that arithmetic done on paper for the arena's
characters (tests/arena.py: the warrior class has `hit: 2`), never recomputed with
the code under test. Swings use a scripted random source, so the roll that makes a
hit, a miss or a critical hit is chosen by the test.
"""

from __future__ import annotations

from random import Random
from typing import Any

import pytest
from arena import mob, new_world, player
from helpers import events, log_of

from world.entities import Character, Effect, Item, ItemType, Position, Slot
from world.errors import Code
from world.systems import combat
from world.world import World


class Scripted(Random):
    """The world's random source, answering `randint` and `randrange` from a script (in
    order), and recording what was asked: every to-hit, dodge and flee roll is a d100."""

    def __init__(self, *answers: int) -> None:
        super().__init__(0)
        self.answers = list(answers)
        self.asked: list[tuple[int, int]] = []

    def randint(self, a: int, b: int) -> int:
        assert self.answers, f"an unscripted roll randint({a}, {b})"
        self.asked.append((a, b))
        value = self.answers.pop(0)
        assert a <= value <= b
        return value

    def randrange(self, n: int) -> int:  # type: ignore[override]
        assert self.answers, f"an unscripted randrange({n})"
        self.asked.append((0, n))
        value = self.answers.pop(0)
        assert 0 <= value < n
        return value


def armour(armor: int) -> Item:
    return Item(id=999, proto="", name="a plate", keywords=("plate",), description="",
                armor=armor)


def duel(ann_level: int = 1, rat_level: int = 1, **ann_attributes: int
         ) -> tuple[World, Character, Character]:
    """Ann (an arena warrior: dex 12, str 17, class hit 2) and a rat (level 1, all
    attributes 10, 1d2, no armour) at `ann_level` and `rat_level`; Ann's attributes
    overridden by `ann_attributes`; the rat with 100 hit points to spare."""
    world = new_world()
    ann = player(world, level=ann_level)
    ann.attributes.update(ann_attributes)
    rat = mob(world, "rat")
    rat.level = rat_level
    rat.hp = rat.max_hp = 100
    return world, ann, rat


# ---- to hit ------------------------------------------------------------------------


@pytest.mark.parametrize(("ann_level", "rat_level", "dex", "chance"), [
    (1, 1, 12, 56),    # 50 + 0 + 2 (class) + 2 * 2 (dex 12)
    (2, 1, 12, 61),    # 5 per level above
    (3, 1, 12, 66),
    (1, 2, 12, 51),    # 5 per level below
    (1, 4, 12, 41),
    (1, 1, 10, 52),    # no dexterity bonus
    (1, 1, 16, 64),    # 2 per dexterity point
    (1, 1, 7, 46),     # -2 per point under 10
    (8, 1, 12, 91),
    (9, 1, 12, 95),    # 96: capped at 95
    (20, 1, 25, 95),
    (1, 9, 12, 16),
    (1, 10, 3, 5),     # 50 - 45 + 2 - 14 = -7: at least 5
])
def test_hit_chance_of_a_player(ann_level: int, rat_level: int, dex: int, chance: int) -> None:
    world, ann, rat = duel(ann_level, rat_level, dex=dex)
    assert combat.hit_chance(world, ann, rat) == chance


def test_hit_chance_counts_armour_and_hit_mods() -> None:
    world, ann, rat = duel()
    rat.equipment[Slot.BODY] = armour(5)
    assert combat.hit_chance(world, ann, rat) == 56 - 10  # 2 per point of armour
    rat.attributes["dex"] = 16  # the victim's dexterity is armour too: (16 - 10) // 2
    assert combat.hit_chance(world, ann, rat) == 56 - 16
    ann.effects.append(Effect("bless", mods={"hit": 7}))
    assert combat.hit_chance(world, ann, rat) == 56 - 16 + 7
    rat.equipment[Slot.HEAD] = armour(30)
    assert combat.hit_chance(world, ann, rat) == 5  # far below: the floor


def test_hit_chance_of_a_mob_has_no_class_but_its_content_hit() -> None:
    world, ann, rat = duel()
    # The rat at Ann: 50 + 0 - 2 * armour (Ann's dex 12: (12 - 10) // 2 = 1).
    assert combat.hit_chance(world, rat, ann) == 48
    ogre = mob(world, "ogre")  # level 10, `hit: 10`, dex 12
    ogre.level = 2
    assert combat.hit_chance(world, ogre, ann) == 50 + 5 + 10 + 4 - 2
    ogre.level = 10
    assert combat.hit_chance(world, ogre, ann) == 95


def test_a_level_difference_helps_the_higher_and_is_antisymmetric() -> None:
    for diff in range(-4, 5):
        world, ann, rat = duel(5 + diff, 5)
        assert combat.hit_chance(world, ann, rat) == 56 + 5 * diff


# ---- damage ------------------------------------------------------------------------


@pytest.mark.parametrize(("strength", "bonus"), [
    (10, 0), (12, 0), (13, 1), (15, 1), (16, 2), (17, 2), (18, 2), (19, 3), (25, 5),
    (9, -1), (7, -1), (6, -2), (4, -2), (3, -3),   # (strength - 10) // 3 rounds down
])
def test_damage_bonus_from_strength(strength: int, bonus: int) -> None:
    _, ann, _ = duel(str=strength)
    assert combat.damage_bonus(ann) == bonus


def test_damage_bonus_adds_damage_mods() -> None:
    _, ann, _ = duel(str=16)
    ann.effects.append(Effect("rage", mods={"damage": 3}))
    assert combat.damage_bonus(ann) == 2 + 3


def hit(world: World, ann: Character, rat: Character, *rolls: int) -> dict[str, Any]:
    """Ann swings once at the rat with these rolls: the to-hit d100, then the dice."""
    world.rng = rng = Scripted(*rolls)
    world.drain()
    combat.swing(world, ann, rat)
    assert rng.answers == [], "a roll was scripted but not used"
    assert rng.asked[0] == (1, 100)
    [landed] = events(world.drain(), "hit_landed", "Ann")
    return landed


def pick(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The fields of an event these rules are about (events may carry more)."""
    return {k: data[k] for k in keys}


def test_a_plain_hit_is_the_dice_plus_the_strength_bonus() -> None:
    world, ann, rat = duel(str=16)  # fists 1d3, +2
    assert hit(world, ann, rat, 50, 2) == {"actor": "Ann", "target": "a rat", "damage": 4,
                                           "weapon": "hit", "critical": False,
                                           "condition": "a few scratches"}
    assert rat.hp == 96


def test_a_hit_with_a_weapon_rolls_its_dice() -> None:
    world, ann, rat = duel(str=16)
    ann.equipment[Slot.WIELD] = world.make_item("arena:sword")  # 2d4
    landed = hit(world, ann, rat, 30, 3, 4)
    assert (landed["damage"], landed["weapon"]) == (3 + 4 + 2, "a short sword")


def test_the_to_hit_roll_must_not_exceed_the_chance() -> None:
    world, ann, rat = duel(str=16)  # 56 %
    assert hit(world, ann, rat, 56, 1)["damage"] == 3
    landed = hit(world, ann, rat, 57)  # a miss rolls no dice
    assert landed == {"actor": "Ann", "target": "a rat", "damage": 0, "weapon": "miss",
                      "critical": False, "condition": "a few scratches"}
    assert rat.hp == 97


@pytest.mark.parametrize(("roll", "critical"), [(1, True), (5, True), (6, False)])
def test_a_roll_of_5_or_less_is_a_critical_hit_for_double_damage(roll: int,
                                                                  critical: bool) -> None:
    world, ann, rat = duel(str=16)
    landed = hit(world, ann, rat, roll, 3)
    assert landed["critical"] is critical
    assert landed["damage"] == (3 + 2) * (2 if critical else 1)
    assert rat.hp == 100 - landed["damage"]


def test_a_critical_hit_doubles_the_bonus_too() -> None:
    world, ann, rat = duel(str=19)  # +3
    ann.effects.append(Effect("rage", mods={"damage": 2}))
    assert hit(world, ann, rat, 2, 1)["damage"] == (1 + 3 + 2) * 2


@pytest.mark.parametrize("roll", [40, 3])
def test_a_hit_does_at_least_1_damage(roll: int) -> None:
    world, ann, rat = duel(str=3)  # (3 - 10) // 3 = -3: fists of 1 do -2, doubled -4
    landed = hit(world, ann, rat, roll, 1)
    assert landed["damage"] == 1
    assert landed["critical"] is (roll <= 5)
    assert rat.hp == 99


def test_a_dodge_roll_within_the_victims_chance_avoids_the_hit() -> None:
    world, ann, rat = duel(str=16)
    rat.skills["dodge"] = 50  # 50 // 5 + (10 - 10) = 10 %
    world.rng = rng = Scripted(30, 10)
    combat.swing(world, ann, rat)
    assert rng.asked == [(1, 100), (1, 100)]
    out = world.drain()
    assert [pick(d, "actor", "attacker") for d in events(out, "dodged", "Ann")] == [
        {"actor": "a rat", "attacker": "Ann"}]
    assert events(out, "hit_landed") == [] and rat.hp == 100
    assert hit(world, ann, rat, 30, 11, 2)["damage"] == 4  # 11 > 10: hit


# ---- rounds, fleeing, judging a fight ----------------------------------------------


def test_attacks_per_round() -> None:
    world, ann, rat = duel(9)
    assert combat.attacks_per_round(world, ann) == 1
    ann.level = 10  # a warrior's second attack
    assert combat.attacks_per_round(world, ann) == 2
    ann.effects.append(Effect("haste", flags=frozenset({"hasted"})))
    assert combat.attacks_per_round(world, ann) == 3
    ann.effects.append(Effect("daze", flags=frozenset({"stunned"})))
    assert combat.attacks_per_round(world, ann) == 0
    mage = player(world, "Bea", "mage", level=15)
    assert combat.attacks_per_round(world, mage) == 1
    rat.level = 12  # a mob has no class's extra attack
    assert combat.attacks_per_round(world, rat) == 1


@pytest.mark.parametrize(("ann_level", "rat_level", "dex", "chance"), [
    (1, 1, 12, 56),    # 50 + 3 * 2 + 0
    (3, 1, 12, 66),    # + 5 per level above
    (1, 3, 12, 46),
    (1, 1, 10, 50),
    (1, 1, 18, 74),
    (1, 10, 3, 10),    # 50 - 21 - 45: at least 10
    (1, 8, 10, 15),
    (10, 1, 25, 95),   # at most 95
    (8, 1, 13, 94),
])
def test_flee_chance(ann_level: int, rat_level: int, dex: int, chance: int) -> None:
    world, ann, rat = duel(ann_level, rat_level, dex=dex)
    combat.engage(world, ann, rat)
    assert combat.flee_chance(world, ann) == chance


def test_flee_chance_out_of_a_fight_has_no_level_term() -> None:
    world, ann, _ = duel(7, dex=14)
    assert combat.flee_chance(world, ann) == 62


def test_expected_damage() -> None:
    world, ann, rat = duel(str=16)
    # Fists average 2, +2: 4 a hit; 56 % to hit, plus 5 % criticals counted twice.
    assert combat.expected_damage(world, ann, rat) == pytest.approx(0.56 * 4 + 0.05 * 4)
    rat.skills["dodge"] = 50  # 10 % dodged
    assert combat.expected_damage(world, ann, rat) == pytest.approx(2.44 * 0.9)
    rat.skills.clear()
    ann.level = 10  # 95 %, two attacks
    assert combat.expected_damage(world, ann, rat) == pytest.approx((0.95 * 4 + 0.2) * 2)
    ann.level, ann.attributes["str"] = 1, 3  # 2 - 3 a hit: at least 1
    assert combat.expected_damage(world, ann, rat) == pytest.approx(0.56 + 0.05)
    # The rat (1d2: 1.5 a hit) at Ann: 48 %.
    assert combat.expected_damage(world, rat, ann) == pytest.approx(0.48 * 1.5 + 0.05 * 1.5)


@pytest.mark.parametrize(("ann_hp", "rat_hp", "win", "lose", "verdict"), [
    # Ann does 2.44 a round, the rat 0.795: rounds = ceil(hp / per round).
    (24, 10, 5, 31, "easy"),
    (2, 2, 1, 3, "easy"),      # 3 times as long as she needs
    (1, 2, 1, 2, "fair"),
    (2, 4, 2, 3, "fair"),      # half again as long
    (1, 4, 2, 2, "risky"),
    (3, 10, 5, 4, "risky"),    # 0.8
    (2, 10, 5, 3, "deadly"),
    (1, 5, 3, 2, "deadly"),
])
def test_assess(ann_hp: int, rat_hp: int, win: int, lose: int, verdict: str) -> None:
    world, ann, rat = duel(str=16)
    ann.hp, rat.hp = ann_hp, rat_hp
    got = combat.assess(world, ann, rat)
    assert got == combat.Assessment(verdict, 56, 2.4, 0.8, win, lose)


def test_assess_counts_the_joiners_on_both_sides_and_never_for_no_damage() -> None:
    world, ann, rat = duel(str=16)
    rat.hp = 10
    other = mob(world, "rat")
    got = combat.assess(world, ann, rat, [other])
    # Two rats to beat (5 rounds each), two rats' blows (1.59 a round: 16 rounds).
    assert got == combat.Assessment("fair", 56, 2.4, 1.6, 10, 16, ("a rat",))
    rat.effects.append(Effect("daze", flags=frozenset({"stunned"})))
    got = combat.assess(world, ann, rat)
    assert (got.rounds_to_lose, got.damage_taken_per_round, got.verdict) == (999, 0.0, "easy")


# ---- who may fight whom --------------------------------------------------------------


def test_can_attack_says_why_not() -> None:
    world, ann, rat = duel()
    assert combat.can_attack(world, ann, ann) == (Code.BAD_TARGET, "You can't attack yourself.")
    merchant = mob(world, "merchant")
    assert combat.can_attack(world, ann, merchant) == (
        Code.BAD_TARGET, "A merchant is under the town's protection.")
    bob = player(world, "Bob")
    assert combat.can_attack(world, ann, bob) == (
        Code.NO_PVP, "You may fight other players only where the room allows it.")
    assert combat.can_attack(world, ann, rat) is None
    rat.position = Position.DEAD
    assert combat.can_attack(world, ann, rat) == (Code.BAD_TARGET, "a rat is already dead.")
    world.move(ann, "arena:temple")
    world.move(bob, "arena:temple")
    assert combat.can_attack(world, ann, bob) == (
        Code.SAFE_ROOM, "This is a place of peace: no fighting here.")
    world.move(ann, "arena:pit")
    world.move(bob, "arena:pit")
    assert combat.can_attack(world, ann, bob) is None


def test_retarget_turns_a_fighter_on_another_foe() -> None:
    world, ann, rat = duel()
    goblin = mob(world, "goblin")
    combat.engage(world, ann, rat)
    world.drain()
    combat.retarget(world, ann, rat)  # the same foe: nothing happens
    assert world.drain() == []
    combat.retarget(world, ann, goblin)
    assert (ann.fighting, goblin.fighting, rat.fighting) == (goblin, ann, ann)
    assert [pick(d, "actor", "kind", "target", "target_kind")
            for d in events(world.drain(), "fight_started", "Ann")] == [
        {"actor": "Ann", "kind": "player", "target": "a goblin", "target_kind": "mob"}]
    bob = player(world, "Bob")
    combat.retarget(world, bob, goblin)  # not fighting yet: an ordinary engage
    assert bob.fighting is goblin and bob.id in world.fighters


# ---- damage and death ----------------------------------------------------------------


def test_damage_kills_at_zero_not_before_and_never_heals() -> None:
    world, ann, rat = duel()
    rat.hp = 5
    assert combat.damage(world, ann, rat, -3, "melee") is False and rat.hp == 5
    assert combat.damage(world, ann, rat, 4, "melee") is False and rat.hp == 1
    assert combat.damage(world, ann, rat, 1, "melee") is True
    assert rat.position is Position.DEAD and rat.id not in world.mobs
    assert combat.damage(world, ann, rat, 1, "melee") is False  # dead already


def test_a_dead_mob_leaves_this_corpse() -> None:
    world, ann, rat = duel()
    rat.gold = 3
    combat.engage(world, ann, rat)
    world.drain()
    next_id = world.new_id() + 1
    combat.damage(world, None, rat, 500, "poison")  # no killer
    out = log_of(world.drain())
    assert [pick(d, "actor", "kind", "killer", "room") for who, n, d in out
            if n == "died" and who == "Ann"] == [
        {"actor": "a rat", "kind": "mob", "killer": None, "room": "arena:yard"}]
    [corpse] = [it for it in world.rooms["arena:yard"].items if it.type is ItemType.CORPSE]
    assert (corpse.id, corpse.proto, corpse.name, corpse.keywords) == (
        next_id, "", "the corpse of a rat", ("corpse", "rat", "a rat"))
    assert (corpse.description, corpse.short) == (
        "The body of a rat lies here, still and cold.", "The corpse of a rat lies here.")
    assert (corpse.weight, corpse.capacity, corpse.decay_at, corpse.owner, corpse.gold) == (
        100, 10_000, world.time + combat.CORPSE_DECAY, None, 3)
    assert world.decaying[corpse.id] is corpse
    assert ann.fighting is None and not world.fighters


def test_a_dead_follower_leaves_its_leader() -> None:
    world, ann, rat = duel()
    rat.following = ann
    ann.followers.append(rat)
    combat.damage(world, ann, rat, 500, "melee")
    assert ann.followers == [] and rat.following is None


@pytest.mark.parametrize(("max_hp", "woke_with"), [(50, 5), (24, 2), (9, 1), (5, 1)])
def test_a_dead_player_wakes_at_the_temple_with_a_tenth_of_its_hit_points(
        max_hp: int, woke_with: int) -> None:
    world, ann, rat = duel()
    bob = player(world, "Bob", room="arena:temple")
    ann.max_hp = max_hp
    combat.damage(world, rat, ann, 999, "melee")
    assert ann.hp == woke_with and type(ann.hp) is int
    assert (ann.room, ann.position) == ("arena:temple", Position.RESTING)
    out = log_of(world.drain())
    assert [pick(d, "actor", "kind", "direction") for who, n, d in out
            if who == "Bob" and n == "arrived"] == [
        {"actor": "Ann", "kind": "player", "direction": None}]
    assert [n for who, n, _ in out if who == "Ann" and n == "arrived"] == []
    [room] = [d for who, n, d in out if who == "Ann" and n == "room"]
    assert room["id"] == "arena:temple" and "Bob" in str(room["characters"])
    [corpse] = [it for it in world.rooms["arena:yard"].items if it.type is ItemType.CORPSE]
    assert corpse.owner == "Ann"
    assert bob.room == "arena:temple"


def test_recall_point() -> None:
    world, ann, _ = duel()
    assert combat.recall_point(world, ann) == "arena:temple"  # the zone's recall room
    ann.recall = "arena:field"
    assert combat.recall_point(world, ann) == "arena:field"
    ann.recall = "nowhere:at_all"
    assert combat.recall_point(world, ann) == "arena:temple"


# ---- fleeing and wimpy -------------------------------------------------------------------


def flee_from_the_rat(ann_xp: int, *rolls: int, level: int = 1) -> tuple[World, Character,
                                                                          bool, list[Any]]:
    world, ann, rat = duel(level)
    ann.xp += ann_xp
    player(world, "Bob", room="arena:pit")
    combat.engage(world, ann, rat)
    world.drain()
    world.rng = rng = Scripted(*rolls)
    got = combat.flee(world, ann)
    assert rng.answers == [] and rng.asked[0] == (1, 100)
    return world, ann, got, log_of(world.drain())


def test_a_flee_roll_equal_to_the_chance_gets_away_by_the_exit_drawn() -> None:
    # 56 %: 50 + 3 * (dex 12 - 10); the exits of the yard: north, east, south.
    world, ann, got, out = flee_from_the_rat(500, 56, 1)
    assert got is True and ann.room == "arena:pit" and ann.fighting is None
    fled = [pick(d, "actor", "kind", "direction", "success", "wimpy", "xp_lost")
            for who, n, d in out if n == "fled" and who == "Ann"]
    assert fled == [{"actor": "Ann", "kind": "player", "direction": "east", "success": True,
                     "wimpy": False, "xp_lost": 20}]  # 2 % of level 1's 1,000
    assert ann.xp == 480
    assert [pick(d, "actor", "kind", "direction") for who, n, d in out
            if who == "Bob" and n == "arrived"] == [
        {"actor": "Ann", "kind": "player", "direction": "west"}]
    assert [n for who, n, _ in out if who == "Ann" and n == "arrived"] == []
    [room] = [d for who, n, d in out if who == "Ann" and n == "room"]
    assert room["id"] == "arena:pit" and "Bob" in str(room["characters"])


def test_a_flee_roll_over_the_chance_fails() -> None:
    _, ann, got, out = flee_from_the_rat(500, 57)
    assert got is False and ann.room == "arena:yard" and ann.fighting is not None
    assert [pick(d, "actor", "kind", "direction", "success", "wimpy", "xp_lost")
            for who, n, d in out if n == "fled" and who == "Ann"] == [
        {"actor": "Ann", "kind": "player", "direction": None, "success": False,
         "wimpy": False, "xp_lost": 0}]


@pytest.mark.parametrize(("level", "extra_xp", "cost"), [
    (1, 0, 0),       # nothing above the level's start: nothing to lose
    (1, 7, 7),       # never below the level's start
    (2, 5, 5),
    (2, 900, 40),    # 2 % of level 2's 2,031
])
def test_the_xp_a_flee_costs(level: int, extra_xp: int, cost: int) -> None:
    _, ann, got, out = flee_from_the_rat(extra_xp, 1, 0, level=level)
    assert got is True
    assert [d["xp_lost"] for who, n, d in out if n == "fled" and who == "Ann"] == [cost]


def test_one_way_out_needs_no_draw() -> None:
    world, ann, rat = duel()
    world.move(ann, "arena:field")
    world.move(rat, "arena:field")
    combat.engage(world, ann, rat)
    world.rng = rng = Scripted(1)
    assert combat.flee(world, ann) is True and ann.room == "arena:yard"
    assert rng.asked == [(1, 100)]


def test_wimpy_check() -> None:
    world, ann, rat = duel()
    ann.wimpy = 10
    ann.hp = 10
    assert combat.wimpy_check(world, ann) is False  # not fighting
    combat.engage(world, ann, rat)
    assert combat.wimpy_check(world, ann) is False  # at its wimpy, not below
    world.rng = Scripted(100)  # the flee fails, but it tried
    ann.hp = 9
    assert combat.wimpy_check(world, ann) is True
    ann.wimpy, ann.hp = 1, 0
    world.rng = Scripted(100)
    assert combat.wimpy_check(world, ann) is True
    ann.wimpy = 0
    assert combat.wimpy_check(world, ann) is False
    rat.wimpy, rat.hp = 50, 1
    assert combat.wimpy_check(world, rat) is False  # mobs flee by their behaviours
