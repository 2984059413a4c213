"""Combat commands and rules in a small world of our own (tests/arena.py), asserted on events.

Seeded fights replay identically; `kill` is refused where it must be; several
fight on each side; death makes a corpse and recalls the player with an XP
penalty; flee, wimpy, consider, assist, follow, group and gtell do what they say.
"""

from __future__ import annotations

from typing import Any

import pytest
from arena import mob, new_world, player, rounds, ticks
from helpers import Log, events, log_of, names

from world import rules
from world.commands.registry import Call
from world.entities import Character, Effect, ItemType, Position, Slot
from world.errors import Code
from world.systems import combat, progression
from world.world import World


def ok(world: World, who: Character, line: str) -> Log:
    refusal = world.perform_line(who, line)
    assert refusal is None, (line, refusal.code, refusal.message)
    return log_of(world.drain())


def refused(world: World, who: Character, line: str) -> str:
    refusal = world.perform_line(who, line)
    assert refusal is not None, f"{line!r} was not refused"
    assert refusal.message
    assert world.drain() == []
    return refusal.code


def of(log: Log, name: str, recipient: str | None = None) -> list[dict[str, Any]]:
    return [data for who, n, data in log if n == name and (recipient is None or who == recipient)]


def fight_to_the_end(world: World, limit: int = 200) -> Log:
    out: Log = []
    for _ in range(limit):
        out += rounds(world)
        if not world.fighters:
            return out
    raise AssertionError("the fight never ended")


# ---- kill ----------------------------------------------------------------------------


def test_kill_starts_a_fight_with_a_first_swing_at_once() -> None:
    world = new_world()
    ann = player(world)
    rat = mob(world, "rat")
    log = ok(world, ann, "kill rat")
    assert [n for _, n, _ in log] == ["fight_started", "hit_landed"]
    assert of(log, "fight_started") == [{"actor": "Ann", "kind": "player", "target": "a rat",
                                         "target_kind": "mob"}]
    assert of(log, "hit_landed")[0]["actor"] == "Ann"
    assert ann.fighting is rat and rat.fighting is ann
    assert ann.position is Position.FIGHTING and rat.position is Position.FIGHTING
    assert set(world.fighters) == {ann.id, rat.id}


def test_attack_and_k_are_kill_and_a_call_does_the_same() -> None:
    for line in ("attack rat", "k rat"):
        world = new_world()
        ann = player(world)
        mob(world, "rat")
        assert "fight_started" in [n for _, n, _ in ok(world, ann, line)]
    world = new_world()
    ann = player(world)
    mob(world, "rat")
    assert world.perform(ann, Call("kill", {"target": "rat"})) is None
    assert "fight_started" in names(world.drain())


def script(seed: int) -> Log:
    world = new_world(seed)
    ann = player(world)
    bob = player(world, "Bob", "rogue")
    mob(world, "goblin")
    mob(world, "rat")
    out = ok(world, ann, "kill goblin") + ok(world, bob, "kill rat")
    out += fight_to_the_end(world)
    return out


def test_a_seeded_fight_replays_identically() -> None:
    first = script(11)
    assert first == script(11)
    assert "died" in [n for _, n, _ in first]
    assert script(11) != script(12)


def test_kill_is_refused_on_yourself_and_on_no_one() -> None:
    world = new_world()
    ann = player(world)
    assert refused(world, ann, "kill self") == Code.BAD_TARGET
    assert refused(world, ann, "kill Ann") == Code.BAD_TARGET
    assert refused(world, ann, "kill unicorn") == Code.NOT_HERE
    assert refused(world, ann, "kill") == Code.BAD_ARGS


def test_kill_is_refused_in_safe_rooms() -> None:
    world = new_world()
    ann = player(world, room="arena:temple")
    mob(world, "rat", "arena:temple")
    assert refused(world, ann, "kill rat") == Code.SAFE_ROOM
    assert ann.fighting is None and not world.fighters


def test_player_versus_player_only_in_pvp_rooms() -> None:
    world = new_world()
    ann = player(world)
    bob = player(world, "Bob")
    assert refused(world, ann, "kill bob") == Code.NO_PVP
    world.move(ann, "arena:pit")
    world.move(bob, "arena:pit")
    log = ok(world, ann, "kill bob")
    assert of(log, "fight_started", "Bob") == [{"actor": "Ann", "kind": "player", "target": "Bob",
                                                "target_kind": "player"}]


def test_shopkeepers_cannot_be_attacked() -> None:
    world = new_world()
    ann = player(world)
    mob(world, "merchant")
    assert refused(world, ann, "kill merchant") == Code.BAD_TARGET
    assert combat.can_attack(world, ann, ann) is not None


def test_kill_the_same_foe_again_is_refused_another_switches() -> None:
    world = new_world()
    ann = player(world)
    rat = mob(world, "dummy")
    other = mob(world, "dummy")
    ok(world, ann, "kill dummy")
    assert refused(world, ann, "kill dummy") == Code.ALREADY
    log = ok(world, ann, "kill 2.dummy")
    assert [n for _, n, _ in log] == ["fight_started"]  # no free swing when switching
    assert ann.fighting is other
    assert rat.fighting is ann  # the first one keeps at it
    assert other.fighting is ann


# ---- rounds ----------------------------------------------------------------------------


def test_everyone_fighting_swings_once_a_round() -> None:
    world = new_world()
    ann = player(world)
    bob = player(world, "Bob", "cleric")
    dummy = mob(world, "dummy")
    ok(world, ann, "kill dummy")
    ok(world, bob, "kill dummy")
    assert dummy.fighting is ann
    log = rounds(world)
    swings = [(d["actor"], d["target"]) for d in of(log, "hit_landed", "Ann")]
    dodged = of(log, "dodged", "Ann")
    assert sorted(swings) == sorted([("Ann", "a training dummy"), ("Bob", "a training dummy"),
                                     ("a training dummy", "Ann")])
    assert not dodged


def test_warriors_strike_twice_from_level_10_haste_adds_one_stun_stops() -> None:
    world = new_world()
    ann = player(world, level=10)
    bob = player(world, "Bob", "mage", level=10)
    assert combat.attacks_per_round(world, ann) == 2
    assert combat.attacks_per_round(world, bob) == 1
    bob.effects.append(Effect("haste", flags=frozenset({"hasted"})))
    assert combat.attacks_per_round(world, bob) == 2
    bob.effects.append(Effect("stun", flags=frozenset({"stunned"})))
    assert combat.attacks_per_round(world, bob) == 0
    mob(world, "dummy")
    ok(world, ann, "kill dummy")
    log = rounds(world)
    assert [d["actor"] for d in of(log, "hit_landed", "Ann")].count("Ann") == 2


def test_a_resting_or_sleeping_victim_gets_up_and_fights() -> None:
    for position in (Position.RESTING, Position.SLEEPING):
        world = new_world()
        ann = player(world)
        ann.position = position
        rat = mob(world, "rat")
        combat.engage(world, rat, ann)
        assert ann.position is Position.FIGHTING and ann.fighting is rat
        world.drain()
        log = rounds(world)
        assert "Ann" in [d["actor"] for d in of(log, "hit_landed", "Ann")]


def test_resting_and_sleeping_are_refused_while_fighting() -> None:
    world = new_world()
    ann = player(world)
    mob(world, "dummy")
    ok(world, ann, "kill dummy")
    assert refused(world, ann, "rest") == Code.POSITION
    assert refused(world, ann, "sleep") == Code.POSITION


def test_when_a_foe_is_gone_a_fighter_turns_to_another_or_stands_down() -> None:
    world = new_world()
    ann = player(world)
    bob = player(world, "Bob")
    d1 = mob(world, "dummy")
    d2 = mob(world, "dummy")
    ok(world, ann, "kill dummy")
    combat.engage(world, d2, ann)  # the second dummy fights Ann too
    world.remove_mob(d1)  # purged without a word
    rounds(world)
    assert ann.fighting is d2
    world.remove_mob(d2)
    rounds(world)
    assert ann.fighting is None and ann.position is Position.STANDING
    assert not world.fighters
    assert bob.fighting is None


def test_leaving_the_game_ends_the_fight() -> None:
    world = new_world()
    ann = player(world)
    rat = mob(world, "dummy")
    ok(world, ann, "kill dummy")
    world.leave(ann, "linkdead")
    assert rat.fighting is None and rat.position is Position.STANDING
    assert not world.fighters


# ---- death ---------------------------------------------------------------------------


def test_a_dead_player_leaves_a_corpse_and_wakes_at_recall_with_a_penalty() -> None:
    world = new_world()
    ann = player(world, level=3)
    ann.xp += 1000
    ann.gold = 40
    bread = world.make_item("arena:bread")
    sword = world.make_item("arena:sword")
    ann.inventory.append(bread)
    ann.equipment[Slot.WIELD] = sword
    watcher = player(world, "Cid", room="arena:temple")
    ogre = mob(world, "ogre")
    ann.hp = 1
    xp_before = ann.xp
    combat.engage(world, ogre, ann)
    world.drain()
    log = fight_to_the_end(world)
    assert of(log, "died", "Ann") == [{"actor": "Ann", "kind": "player", "killer": "an ogre",
                                       "room": "arena:yard", "corpse": "the corpse of Ann"}]
    corpse = next(it for it in world.rooms["arena:yard"].items if it.type is ItemType.CORPSE)
    assert corpse.owner == "Ann" and bread in corpse.contents and corpse.gold == 40
    assert sword not in corpse.contents  # what a player wears stays on them
    assert ann.gold == 0 and ann.inventory == []
    # Recalled, resting, with 10 % of the level's span of XP lost, not a level.
    assert ann.room == "arena:temple" and ann.position is Position.RESTING
    assert 0 < ann.hp < ann.max_hp
    penalty = progression.death_penalty(ann)
    assert ann.xp == xp_before - penalty and ann.level == 3
    assert of(log, "xp_lost", "Ann") == [{"amount": penalty, "reason": "death", "xp": ann.xp,
                                          "xp_next": 5799}]
    assert [d["id"] for d in of(log, "room", "Ann")] == ["arena:temple"]
    assert of(log, "vitals", "Ann")[-1]["position"] == "resting"
    assert {"actor": "Ann", "kind": "player", "direction": None, "level": 3} in of(log, "arrived",
                                                                                 "Cid")
    assert ogre.fighting is None and not world.fighters
    assert watcher.room == "arena:temple"


def test_death_never_costs_a_level() -> None:
    world = new_world()
    ann = player(world, level=2)
    ann.xp += 5
    ogre = mob(world, "ogre")
    ann.hp = 1
    combat.engage(world, ogre, ann)
    fight_to_the_end(world)
    assert ann.level == 2 and ann.xp == rules.xp_for_level(2)


def test_a_dead_mob_leaves_its_things_and_gold_and_is_gone() -> None:
    world = new_world()
    ann = player(world, level=8)
    goblin = mob(world, "goblin")
    goblin.hp = 1
    log = ok(world, ann, "kill goblin") + fight_to_the_end(world)
    assert of(log, "died")[0]["actor"] == "a goblin"
    corpse = next(it for it in world.rooms["arena:yard"].items if it.type is ItemType.CORPSE)
    assert sorted(it.proto for it in corpse.contents) == ["arena:bread", "arena:sword"]
    assert corpse.gold == 2 and corpse.owner is None
    assert goblin.id not in world.mobs and goblin not in world.rooms["arena:yard"].characters
    assert of(log, "xp_gained", "Ann")


def test_corpses_decay() -> None:
    world = new_world()
    ann = player(world, level=8)
    rat = mob(world, "rat")
    rat.hp = 1
    ok(world, ann, "kill rat")
    fight_to_the_end(world)
    assert any(it.type is ItemType.CORPSE for it in world.rooms["arena:yard"].items)
    ticks(world, combat.CORPSE_DECAY + 60)
    assert not any(it.type is ItemType.CORPSE for it in world.rooms["arena:yard"].items)


# ---- flee and wimpy --------------------------------------------------------------------


def test_flee_needs_a_fight() -> None:
    world = new_world()
    ann = player(world)
    assert refused(world, ann, "flee") == Code.NOT_FIGHTING


def test_flee_gets_you_out_and_costs_xp() -> None:
    world = new_world()
    ann = player(world, level=2)
    ann.xp += 500
    mob(world, "dummy")
    watcher = player(world, "Bob")
    ok(world, ann, "kill dummy")
    log: Log = []
    for _ in range(50):
        world.time += combat.FLEE_LAG  # past any lag from a failed try
        log += ok(world, ann, "flee")
        if ann.room != "arena:yard":
            break
    fled = of(log, "fled", "Bob")
    assert fled[-1]["success"] is True and fled[-1]["direction"] in ("north", "east", "south")
    assert all(not f["success"] and f["direction"] is None for f in fled[:-1])
    cost = progression.flee_penalty(ann)
    assert fled[-1]["xp_lost"] == cost and ann.xp == rules.xp_for_level(2) + 500 - cost
    assert of(log, "xp_lost", "Ann")[-1]["reason"] == "flee"
    assert ann.fighting is None and ann.position is Position.STANDING
    assert of(log, "room", "Ann")[-1]["id"] == ann.room
    assert not world.fighters  # the dummy had no one else to fight
    assert watcher.room == "arena:yard"


def test_a_failed_flee_stays_and_must_wait() -> None:
    world = new_world()
    ann = player(world, room="arena:cell")
    mob(world, "dummy", "arena:cell")
    ok(world, ann, "kill dummy")
    log = ok(world, ann, "flee")  # no way out of the cell: it always fails
    assert of(log, "fled") == [{"actor": "Ann", "kind": "player", "direction": None,
                                "success": False, "wimpy": False, "xp_lost": 0}]
    assert ann.room == "arena:cell" and ann.fighting is not None
    assert refused(world, ann, "flee") == Code.COOLDOWN
    world.time += combat.FLEE_LAG
    assert of(ok(world, ann, "flee"), "fled")


def test_flee_chance_grows_with_dex_and_level() -> None:
    world = new_world()
    ann = player(world)
    bob = player(world, "Bob", "rogue")
    ogre = mob(world, "ogre")
    rat = mob(world, "rat")
    ann.fighting = bob.fighting = rat
    assert combat.flee_chance(world, bob) > combat.flee_chance(world, ann)
    ann.fighting = ogre
    assert combat.flee_chance(world, ann) == 50 + 3 * 2 - 5 * 9
    ogre.level = 20
    assert combat.flee_chance(world, ann) == 10  # at least


def test_wimpy_sets_shows_and_is_bounded() -> None:
    world = new_world()
    ann = player(world)
    assert of(ok(world, ann, "wimpy 10"), "wimpy_set") == [{"hp": 10, "max_hp": 24}]
    assert ann.wimpy == 10
    assert of(ok(world, ann, "wimpy"), "wimpy_set") == [{"hp": 10, "max_hp": 24}]
    assert refused(world, ann, "wimpy 13") == Code.BAD_ARGS
    assert refused(world, ann, "wimpy -1") == Code.BAD_ARGS
    ok(world, ann, "wimpy 0")
    assert ann.wimpy == 0


def test_wimpy_makes_you_flee_when_hurt() -> None:
    world = new_world()
    ann = player(world)
    ogre = mob(world, "ogre")
    ann.hp = ann.max_hp = 10_000
    ok(world, ann, "wimpy 5000")
    combat.engage(world, ogre, ann)
    world.drain()
    ann.hp = 4000
    log: Log = []
    for _ in range(30):
        log += rounds(world)
        if ann.room != "arena:yard":
            break
    fled = of(log, "fled", "Ann")
    assert fled and all(f["wimpy"] for f in fled)
    assert fled[-1]["success"] and ann.fighting is None


# ---- consider -------------------------------------------------------------------------


def test_consider_gives_a_verdict_and_the_numbers() -> None:
    world = new_world()
    ann = player(world, level=5)
    mob(world, "rat")
    mob(world, "ogre")
    easy = of(ok(world, ann, "consider rat"), "considered")[0]
    assert easy["verdict"] == "easy" and easy["level_diff"] == -4
    assert easy["target_hp"] == 10 and easy["rounds_to_win"] < easy["rounds_to_lose"]
    assert easy["xp"] == 13  # a rat's 65 XP at 20 %: 4 levels below Ann
    deadly = of(ok(world, ann, "consider ogre"), "considered")[0]
    assert deadly["verdict"] == "deadly" and deadly["level_diff"] == 5
    assert deadly["damage_taken_per_round"] > deadly["damage_per_round"]
    assert set(deadly) == {"target", "target_kind", "verdict", "level_diff", "target_level",
                           "target_hp", "target_max_hp", "hit_chance", "damage_per_round",
                           "damage_taken_per_round", "rounds_to_win", "rounds_to_lose", "xp",
                           "joined_by", "brief"}
    assert not deadly["joined_by"]
    assert refused(world, ann, "consider self") == Code.BAD_TARGET
    assert refused(world, ann, "consider dragon") == Code.NOT_HERE


@pytest.mark.parametrize(("level", "verdicts"), [(1, {"fair", "easy"}), (2, {"easy"})])
def test_consider_a_level_mate(level: int, verdicts: set[str]) -> None:
    world = new_world()
    ann = player(world, level=level)
    mob(world, "rat")
    assert of(ok(world, ann, "consider rat"), "considered")[0]["verdict"] in verdicts


def test_consider_sees_hurt_as_it_is() -> None:
    world = new_world()
    ann = player(world)
    mob(world, "goblin")
    before = of(ok(world, ann, "consider goblin"), "considered")[0]
    ann.hp = 2
    after = of(ok(world, ann, "consider goblin"), "considered")[0]
    assert after["rounds_to_lose"] < before["rounds_to_lose"]
    assert after["verdict"] == "deadly"


# ---- assist ----------------------------------------------------------------------------


def test_assist_joins_a_named_fighter() -> None:
    world = new_world()
    ann = player(world)
    bob = player(world, "Bob", "cleric")
    dummy = mob(world, "dummy")
    assert refused(world, bob, "assist ann") == Code.NOT_FIGHTING
    ok(world, ann, "kill dummy")
    log = ok(world, bob, "assist ann")
    assert of(log, "assisted", "Ann") == [{"actor": "Bob", "kind": "player", "ally": "Ann",
                                           "target": "a training dummy"}]
    assert bob.fighting is dummy and dummy.fighting is ann
    assert refused(world, bob, "assist ann") == Code.ALREADY


def test_assist_alone_helps_a_fighting_group_member() -> None:
    world = new_world()
    ann = player(world)
    bob = player(world, "Bob", "cleric")
    dummy = mob(world, "dummy")
    assert refused(world, bob, "assist") == Code.NOT_FIGHTING
    ok(world, bob, "follow ann")
    ok(world, ann, "group bob")
    ok(world, ann, "kill dummy")
    ok(world, bob, "assist")
    assert bob.fighting is dummy


def test_assist_is_refused_against_yourself_and_in_safe_rooms() -> None:
    world = new_world()
    ann = player(world)
    bob = player(world, "Bob")
    rat = mob(world, "dummy")
    combat.engage(world, rat, ann)
    world.drain()
    assert refused(world, ann, "assist dummy") == Code.ALREADY
    assert refused(world, bob, "assist bob") == Code.BAD_TARGET
    world.move(ann, "arena:temple")
    world.move(bob, "arena:temple")
    world.move(rat, "arena:temple")
    assert refused(world, bob, "assist ann") == Code.SAFE_ROOM


# ---- follow, group, gtell ----------------------------------------------------------------


def test_followers_walk_after_their_leader() -> None:
    world = new_world()
    ann = player(world)
    bob = player(world, "Bob")
    cid = player(world, "Cid")
    log = ok(world, bob, "follow ann")
    assert of(log, "followed", "Ann") == [{"actor": "Bob", "leader": "Ann", "previous": None}]
    assert of(log, "followed", "Bob") == of(log, "followed", "Ann")
    ok(world, cid, "follow bob")
    log = ok(world, ann, "south")
    assert ann.room == bob.room == cid.room == "arena:field"
    assert [d["id"] for d in of(log, "room", "Cid")] == ["arena:field"]
    assert bob.moves == bob.max_moves - 1
    cid.position = Position.RESTING  # the resting stay behind
    ok(world, ann, "north")
    assert bob.room == "arena:yard" and cid.room == "arena:field"


def test_follow_self_stops_and_loops_are_refused() -> None:
    world = new_world()
    ann = player(world)
    bob = player(world, "Bob")
    assert refused(world, bob, "follow self") == Code.ALREADY
    ok(world, bob, "follow ann")
    assert refused(world, bob, "follow ann") == Code.ALREADY
    assert refused(world, ann, "follow bob") == Code.BAD_TARGET
    log = ok(world, bob, "follow self")
    assert of(log, "followed", "Ann") == [{"actor": "Bob", "leader": None, "previous": "Ann"}]
    assert bob.following is None and ann.followers == []


def test_group_takes_in_followers_lists_them_and_puts_them_out() -> None:
    world = new_world()
    ann = player(world)
    bob = player(world, "Bob", "mage")
    cid = player(world, "Cid")
    assert refused(world, ann, "group") == Code.NOT_GROUPED
    assert refused(world, ann, "group bob") == Code.BAD_TARGET  # not following
    ok(world, bob, "follow ann")
    ok(world, cid, "follow ann")
    log = ok(world, ann, "group bob")
    change = {"leader": "Ann", "member": "Bob", "joined": True}
    assert of(log, "group_changed", "Ann") == [change] == of(log, "group_changed", "Bob")
    assert of(log, "group_changed", "Cid") == []
    assert refused(world, bob, "group cid") == Code.NOT_LEADER
    listed = of(ok(world, bob, "group"), "group_listed")[0]
    assert listed["leader"] == "Ann"
    assert [(m["name"], m["leader"], m["here"]) for m in listed["members"]] == [
        ("Ann", True, True), ("Bob", False, True)]
    assert listed["members"][1]["max_mana"] == bob.max_mana
    ok(world, ann, "group all")
    assert cid.grouped
    log = ok(world, ann, "group bob")
    assert of(log, "group_changed", "Bob") == [{"leader": "Ann", "member": "Bob",
                                                "joined": False}]
    assert not bob.grouped and bob.following is ann and ann.grouped


def test_gtell_reaches_the_group_wherever_it_is() -> None:
    world = new_world()
    ann = player(world)
    bob = player(world, "Bob")
    cid = player(world, "Cid")
    assert refused(world, ann, "gtell hello") == Code.NOT_GROUPED
    ok(world, bob, "follow ann")
    ok(world, ann, "group bob")
    world.move(bob, "arena:field")
    log = ok(world, ann, "gsay  come   back ")
    told = {"actor": "Ann", "kind": "player", "text": "come back"}
    assert of(log, "group_told", "Bob") == [told] == of(log, "group_told", "Ann")
    assert of(log, "group_told", "Cid") == []
    assert cid.room == "arena:yard"


def test_leaving_the_game_undoes_following_and_groups() -> None:
    world = new_world()
    ann = player(world)
    bob = player(world, "Bob")
    ok(world, bob, "follow ann")
    ok(world, ann, "group bob")
    world.leave(ann, "quit")
    out = world.drain()
    assert bob.following is None and not bob.grouped
    assert events(out, "followed", "Bob") == [{"actor": "Bob", "leader": None,
                                               "previous": "Ann"}]


def test_following_someone_else_disbands_your_group() -> None:
    world = new_world()
    ann = player(world)
    bob = player(world, "Bob")
    cid = player(world, "Cid")
    ok(world, bob, "follow ann")
    ok(world, ann, "group bob")
    log = ok(world, ann, "follow cid")
    assert of(log, "group_changed", "Bob") == [{"leader": "Ann", "member": "Bob",
                                                "joined": False}]
    assert not ann.grouped and not bob.grouped and bob.following is ann
    assert ann.following is cid


# ---- rendering ---------------------------------------------------------------------------


def test_every_new_event_has_a_text() -> None:
    from server.gateway import render
    from world import events as ev

    samples: list[ev.Event] = [
        ev.Fled("Ann", "player", "north", True, True, 20), ev.Fled("Ann", "player", None, False,
                                                                   False, 0),
        ev.Considered("a rat", "mob", "easy", -1, 1, 10, 10, 60, 3.5, 0.5, 3, 40, 52),
        ev.Assisted("Bob", "player", "Ann", "a rat"), ev.WimpySet(0, 24), ev.WimpySet(5, 24),
        ev.XpGained(10, "kill", "a rat", 10, 1000), ev.XpLost(5, "death", 5, 1000),
        ev.LevelGained(2, 10, 0, 5, {"str": 1},
                       [{"id": "kick", "name": "kick", "skill": True}]),
        ev.Followed("Bob", "Ann", None), ev.Followed("Bob", None, "Ann"),
        ev.GroupChanged("Ann", "Bob", True), ev.GroupTold("Ann", "player", "hi"),
        ev.GroupListed("Ann", [{"name": "Ann", "level": 1, "class": "warrior", "kind": "player",
                                "hp": 1, "max_hp": 2, "mana": 0, "max_mana": 0, "moves": 1,
                                "max_moves": 2, "position": "standing", "here": True,
                                "leader": True}]),
    ]
    for event in samples:
        for viewer in ("Ann", "Bob", "Cid"):
            text = render.plain(render.render(event, viewer))
            assert text and not text.startswith("["), (event, viewer, text)
    assert render.plain(render.render(samples[0], "Ann")).startswith("Your nerve breaks!")
    assert render.is_personal(ev.HitLanded("Ann", "a rat", 1, "hit", False))
