"""Mob behaviours pinned: their config read to the letter, the active sets each mob is
filed in and out of, loot rolls, and who fights alongside whom.

The rules are those of world/systems/behaviours.py's docstring; the world is
tests/npc_content.py's, with a few more rooms, mobs and items of our own. Expected
values are written out here by hand; these tests were written to kill the mutants
`make mutate` found surviving in behaviours.py (docs/testing.md).
"""

from __future__ import annotations

import copy
from random import Random
from typing import Any

import npc_content
from helpers import events

from world.entities import Character, Effect, Kind, Position
from world.prototypes import build_content
from world.systems import behaviours, combat
from world.world import World

ZONE = copy.deepcopy(npc_content.ZONE_T)
ZONE["rooms"].update({
    # The first exit of the gate is a closed door: a wanderer looks past it.
    "gate": {"name": "Gate", "description": "A gate.",
             "exits": {"north": {"to": "vault", "door": {"name": "gate", "closed": True}},
                       "east": "b"}},
    "vault": {"name": "Vault", "description": "A vault.",
              "exits": {"south": {"to": "gate", "door": {"name": "gate", "closed": True}}}},
})
ZONE["items"].update({
    "altar": {"name": "a heavy altar", "keywords": ["altar"], "description": "Stone.",
              "value": 900, "flags": ["no_take"]},
})
ZONE["mobs"].update({
    "walker": {**ZONE["mobs"]["rat"], "name": "a walker", "keywords": ["walker"],
               "behaviours": ["wander"]},  # no config: every 40 ticks, half the time
    "pacer": {**ZONE["mobs"]["rat"], "name": "a pacer", "keywords": ["pacer"],
              "behaviours": [{"wander": {"every": 0, "chance": 100}}]},
    "crow": {**ZONE["mobs"]["rat"], "name": "a crow", "keywords": ["crow"],
             "behaviours": ["scavenger"]},  # every 100 ticks, half the time
    "jay": {**ZONE["mobs"]["rat"], "name": "a jay", "keywords": ["jay"],
            "behaviours": [{"scavenger": {"every": 0, "chance": 100}}]},
    "runt": {**ZONE["mobs"]["rat"], "name": "a runt", "keywords": ["runt"], "wimpy": 3,
             "behaviours": []},
    "mouse": {**ZONE["mobs"]["rat"], "name": "a mouse", "keywords": ["mouse"], "wimpy": 1,
              "behaviours": []},
})


def new_world(seed: int = 3) -> World:
    content = build_content(
        ("world.yaml", {"name": "Testland", "start_room": "t:a"}),
        ("classes.yaml", npc_content.CLASSES),
        [("t.yaml", ZONE), ("u.yaml", npc_content.ZONE_U)],
        spells_doc=("spells.yaml", npc_content.SPELLS))
    return World(content, seed=seed)


player = npc_content.player


class Rolls(Random):
    """`randint` answers from a script, in order, and records the ranges asked."""

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


def bare_mob(**fields: Any) -> Character:
    """A mob made by hand, for the pure functions that read only its fields."""
    return Character(**{"id": 7, "name": "a mob", "kind": Kind.MOB, "cls": "", "room": "t:a",
                        "home": "t", **fields})


def watchers(world: World) -> None:
    """Someone in each room a wanderer of the hall and the yard may walk into."""
    for name, room in (("Watcher", "t:b"), ("Other", "t:a"), ("Third", "t:sanctum")):
        player(world, name, room=room)


def walks(world: World, ticks: int) -> list[int]:
    """How many `departed` events each of `ticks` ticks made (anyone, anywhere)."""
    out = []
    for _ in range(ticks):
        world.tick()
        out.append(sum(1 for d in world.drain() if d.event.name == "departed"))
    return out


# ---- config -------------------------------------------------------------------------------


def test_a_wanderer_of_every_1_walks_on_every_tick() -> None:
    world = new_world()
    watchers(world)
    world.spawn_mob("t:rat", "t:b")  # wander every 1, chance 100
    world.drain()
    # Between the hall, the yard and the sanctum: each walk is seen by the watcher of
    # the room it leaves.
    assert walks(world, 8) == [1] * 8


def test_a_wanderer_of_every_0_walks_on_every_tick_too() -> None:
    world = new_world()
    watchers(world)
    world.spawn_mob("t:pacer", "t:b")
    world.drain()
    assert walks(world, 8) == [1] * 8


def test_wanderers_and_scavengers_without_config_act_every_40_and_100_ticks() -> None:
    world = new_world()
    world.time = 1000
    walker = world.spawn_mob("t:walker", "t:a")
    crow = world.spawn_mob("t:crow", "t:a")
    # Spread over the period by id: the first tick after 1000 + id % every.
    assert world.npcs.wanderers.due == {walker.id: 1001 + walker.id % 40}
    assert world.npcs.scavengers.due == {crow.id: 1001 + crow.id % 100}
    assert (walker.id, crow.id) == (1, 2)
    assert world.npcs.wanderers.due == {1: 1002} and world.npcs.scavengers.due == {2: 1003}
    world.time = 1001
    world.tick()  # the walker's turn: planned again 40 ticks on
    assert world.npcs.wanderers.due == {1: 1042}
    world.tick()
    assert world.npcs.scavengers.due == {2: 1103}


def test_scavengers_of_every_1_and_0_pick_up_one_thing_a_tick() -> None:
    for proto in ("t:magpie", "t:jay"):
        world = new_world()
        room = world.rooms["t:b"]
        room.items += [world.make_item("t:coin") for _ in range(3)]
        bird = world.spawn_mob(proto, "t:b")
        got = []
        for _ in range(3):
            world.tick()
            got.append(len(bird.inventory))
        assert got == [1, 2, 3], proto


def test_a_scavenger_leaves_what_cannot_be_taken_for_the_best_it_can() -> None:
    world = new_world()
    room = world.rooms["t:b"]
    altar, gem, coin = (world.make_item(f"t:{p}") for p in ("altar", "gem", "coin"))
    room.items += [altar, coin, gem]
    magpie = world.spawn_mob("t:magpie", "t:b")
    world.tick()
    assert magpie.inventory == [gem]  # worth 50; the altar (900) is `no_take`
    world.tick()
    assert magpie.inventory == [gem, coin] and room.items == [altar]


def test_the_wimpy_threshold() -> None:
    def threshold(max_hp: int, wimpy: int = 0, **cfg: Any) -> int:
        mob = bare_mob(max_hp=max_hp, hp=max_hp, wimpy=wimpy, behaviours={"wimpy": cfg})
        return behaviours.wimpy_threshold(mob)

    assert threshold(50) == 10  # 20 % by default
    assert threshold(40, percent=50) == 20
    assert threshold(10, percent=33) == 3  # 3.3 hit points: below 3 runs, 3 stays
    assert threshold(199, percent=50) == 99
    assert threshold(200, percent=0) == 0  # never
    assert threshold(200, percent=-5) == 0  # no less than 0 percent
    assert threshold(50, percent=True) == 10  # not a number: the default
    assert threshold(50, percent="50") == 10
    assert threshold(50, percent=None) == 10
    assert threshold(50, wimpy=12, percent=10) == 12  # the content's own, if higher
    assert behaviours.wimpy_threshold(bare_mob(max_hp=50, wimpy=4)) == 4  # no behaviour


def test_kinds_an_assist_mob_helps() -> None:
    alpha = bare_mob(proto="t:alpha", behaviours={"assist": {"kinds": ["wolf", "u:fox"]}})
    assert behaviours.kinds(alpha) == frozenset({"t:alpha", "t:wolf", "u:fox"})
    assert behaviours.kinds(bare_mob(proto="t:wolf", behaviours={"assist": {}})) == {"t:wolf"}


# ---- the active sets ----------------------------------------------------------------------


def test_each_mob_is_filed_in_the_sets_its_behaviours_need_and_taken_out() -> None:
    world = new_world()
    world.time = 10
    rat = world.spawn_mob("t:rat", "t:a")  # id 1, wander every 1
    orc = world.spawn_mob("t:orc", "t:a")
    wolf = world.spawn_mob("t:wolf", "t:b")
    coward = world.spawn_mob("t:coward", "t:b")
    runt = world.spawn_mob("t:runt", "t:b")  # content wimpy 3, no behaviour
    priest = world.spawn_mob("t:priest", "t:sanctum")
    magpie = world.spawn_mob("t:magpie", "t:b")
    statue = world.spawn_mob("t:statue", "t:b")
    npcs = world.npcs
    assert npcs.wanderers.due == {rat.id: 11}
    assert npcs.scavengers.due == {magpie.id: 11}
    assert npcs.aggressive == {orc.id: orc}
    assert npcs.assisters == {wolf.id: wolf}
    assert npcs.wimpy == {coward.id: coward, runt.id: runt}
    assert npcs.healers == {priest.id: priest}
    for mob in (rat, orc, wolf, coward, runt, priest, magpie, statue):
        world.remove_mob(mob)
    assert (npcs.wanderers.due, npcs.scavengers.due, npcs.aggressive, npcs.assisters,
            npcs.assisted, npcs.wimpy, npcs.healers) == ({}, {}, {}, {}, {}, {}, {})


def test_a_mob_of_content_wimpy_1_is_filed_as_wimpy() -> None:
    world = new_world()
    mouse = world.spawn_mob("t:mouse", "t:b")
    world.spawn_mob("t:statue", "t:b")  # wimpy 0: not filed
    assert world.npcs.wimpy == {mouse.id: mouse}


def test_the_assisted_kinds_count_their_assisters() -> None:
    world = new_world()
    npcs = world.npcs
    wolves = [world.spawn_mob("t:wolf", "t:b") for _ in range(2)]
    assert npcs.assisted == {"t:wolf": 2}
    alpha = world.spawn_mob("t:alpha", "t:b")  # kinds: wolf, and its own
    assert npcs.assisted == {"t:wolf": 3, "t:alpha": 1}
    world.remove_mob(world.spawn_mob("t:statue", "t:b"))  # no assister: nothing changes
    assert npcs.assisted == {"t:wolf": 3, "t:alpha": 1}
    world.remove_mob(wolves[0])
    assert npcs.assisted == {"t:wolf": 2, "t:alpha": 1}
    world.remove_mob(alpha)
    assert npcs.assisted == {"t:wolf": 1}
    world.remove_mob(wolves[1])
    assert npcs.assisted == {}


def test_kin_still_come_to_help_after_one_of_them_is_gone() -> None:
    world = new_world()
    ann = player(world, room="t:b")
    first, second, third = (world.spawn_mob("t:wolf", "t:b") for _ in range(3))
    world.remove_mob(first)
    combat.engage(world, ann, second)
    world.time = behaviours.REACTION_PHASE - 1 + behaviours.REACTION_EVERY
    world.tick()
    assert third.fighting is ann


# ---- loot -----------------------------------------------------------------------------------


def test_loot_is_rolled_on_a_d100_and_a_sure_drop_takes_no_roll() -> None:
    world = new_world()
    # The looter's loot: a coin at 100 % (no roll), a gem at 1 % (a roll of 1 only).
    for roll, drops in ((1, ["t:coin", "t:gem"]), (2, ["t:coin"]), (100, ["t:coin"])):
        world.rng = rolls = Rolls(roll)
        looter = world.spawn_mob("t:looter", "t:a")
        assert [it.proto for it in looter.inventory] == drops
        assert rolls.asked == [(1, 100)] and rolls.answers == []


# ---- who attacks, who helps ---------------------------------------------------------------


def aggression(world: World) -> None:
    """Run the ticks up to and including the next look for prey."""
    for _ in range(behaviours.AGGRESSION_EVERY):
        world.tick()


def test_an_aggressive_mob_asleep_or_stunned_attacks_no_one() -> None:
    world = new_world()
    ann = player(world)
    orc = world.spawn_mob("t:orc", "t:a")
    orc.position = Position.SLEEPING
    aggression(world)
    assert orc.fighting is None
    orc.position = Position.STANDING
    orc.effects.append(Effect("daze", flags=frozenset({"stunned"})))
    aggression(world)
    assert orc.fighting is None
    orc.effects = [Effect("bless", mods={"hit": 1})]  # an effect that stuns no one
    aggression(world)
    assert orc.fighting is ann


def test_an_aggressive_mob_sees_a_player_under_a_harmless_effect() -> None:
    world = new_world()
    ann = player(world)
    ann.effects.append(Effect("bless", mods={"hit": 1}))
    orc = world.spawn_mob("t:orc", "t:a")
    aggression(world)
    assert orc.fighting is ann


def test_a_player_fighting_already_keeps_fighting_when_an_aggressive_mob_joins() -> None:
    world = new_world()
    ann = player(world)
    statue = world.spawn_mob("t:statue", "t:a")
    statue.hp = statue.max_hp = ann.hp = ann.max_hp = 10_000
    combat.engage(world, ann, statue)
    orc = world.spawn_mob("t:orc", "t:a")
    aggression(world)
    assert orc.fighting is ann
    assert ann.fighting is statue and ann.position is Position.FIGHTING


def test_a_plain_mob_does_not_help_its_kind_unless_it_assists() -> None:
    world = new_world()
    ann = player(world, room="t:b")
    one, two = (world.spawn_mob("t:statue", "t:b") for _ in range(2))
    assert not behaviours.helps(two, one, ann)
    wolf, kin = (world.spawn_mob("t:wolf", "t:b") for _ in range(2))
    assert behaviours.helps(kin, wolf, ann)
    kin.position = Position.SLEEPING
    assert not behaviours.helps(kin, wolf, ann)


def test_kin_do_not_chase_a_foe_who_is_elsewhere() -> None:
    world = new_world()
    ann = player(world, room="t:a")
    wolf = world.spawn_mob("t:wolf", "t:b")
    kin = world.spawn_mob("t:wolf", "t:b")
    wolf.fighting = ann  # Ann has gone (carried off by a spell, say)
    world.fighters[wolf.id] = wolf
    world.time = behaviours.REACTION_PHASE - 1 + behaviours.REACTION_EVERY
    world.tick()
    assert kin.fighting is None


def test_joiners_are_mobs_alive_in_the_room() -> None:
    world = new_world()
    ann = player(world, room="t:b")
    bob = player(world, "Bob", room="t:b")
    wolf = world.spawn_mob("t:wolf", "t:b")
    kin = world.spawn_mob("t:wolf", "t:b")
    ghost = world.spawn_mob("t:statue", "t:b")
    bob.fighting = ann  # a player fighting her is not on the wolf's side
    ghost.fighting = ann
    ghost.position = Position.DEAD  # nor is a dead one
    assert behaviours.joiners(world, ann, wolf) == [kin]
    assert behaviours.joiners(world, ann, bob) == []  # only for mob targets


def test_a_wanderer_looks_past_a_closed_door_for_an_open_way() -> None:
    world = new_world()
    watcher = player(world, "Watcher", room="t:gate")
    rat = world.spawn_mob("t:rat", "t:gate")
    world.drain()
    world.tick()
    assert rat.room == "t:b"
    assert events(world.drain(), "departed", "Watcher") == [
        {"actor": "a rat", "kind": "mob", "direction": "east"}]
    assert watcher.room == "t:gate"
