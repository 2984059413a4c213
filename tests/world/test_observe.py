"""world/observe.py: the snapshot and the admissible actions, in several situations.

Every situation is built by a function from a fresh seeded world, so that each
listed action can be tried on an identical copy: none may be refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from helpers import new_world

from world.commands.registry import Call, bind_call, parse_line
from world.entities import Character, Effect, Position
from world.observe import actions, observe, word_for
from world.systems import combat, groups
from world.world import World

Setup = Callable[[], tuple[World, Character]]


def _hero(cls: str = "warrior", room: str | None = None, seed: int = 5) -> tuple[World, Character]:
    world = new_world(seed)
    ch = world.enter("Ann", cls)
    if room is not None:
        world.move(ch, room)
    world.drain()
    return world, ch


def _lines(acts: list[dict[str, Any]], tool: str | None = None) -> list[str]:
    return [a["line"] for a in acts if tool is None or a["tool"] == tool]


def _mobs(world: World, room: str, proto: str) -> list[Character]:
    return [c for c in world.rooms[room].characters if c.proto == proto]


# ---- situations ---------------------------------------------------------------------------


def at_square() -> tuple[World, Character]:
    return _hero(room="haven:square")


def at_gate() -> tuple[World, Character]:
    """Gate Yard: a stray dog, and the town gate closed to the south."""
    return _hero(room="haven:gate_yard")


def in_stable_with_two_rats() -> tuple[World, Character]:
    return _hero(room="haven:stable")


def mage_in_stable() -> tuple[World, Character]:
    return _hero("mage", room="haven:stable")


def in_shop() -> tuple[World, Character]:
    world, ch = _hero(room="haven:shop")
    world.spawn_mob("haven:cellar_rat", "haven:shop")
    world.drain()
    return world, ch


def beside_a_corpse() -> tuple[World, Character]:
    world, ch = _hero(room="haven:stable")
    rat = _mobs(world, "haven:stable", "haven:cellar_rat")[0]
    rat.inventory.append(world.make_item("haven:dagger"))
    combat.die(world, rat, ch)
    world.drain()
    return world, ch


def fighting_a_rat() -> tuple[World, Character]:
    world, ch = _hero(room="haven:stable")
    rat = _mobs(world, "haven:stable", "haven:cellar_rat")[0]
    combat.engage(world, ch, rat)
    ch.hp = ch.max_hp // 2
    world.drain()
    return world, ch


def _pair(cls: str = "warrior") -> tuple[World, Character, Character]:
    """Ann (`cls`) leads a group with Bob, a warrior, in the stable with two rats."""
    world, ann = _hero(cls, room="haven:stable")
    bob = world.enter("Bob", "warrior")
    world.move(bob, "haven:stable")
    groups.follow(world, bob, ann)
    groups.add_member(world, ann, bob)
    world.drain()
    return world, ann, bob


def leading_a_follower() -> tuple[World, Character]:
    """Bob follows Ann, not yet in her group."""
    world, ann = _hero(room="haven:stable")
    bob = world.enter("Bob", "warrior")
    world.move(bob, "haven:stable")
    groups.follow(world, bob, ann)
    world.drain()
    return world, ann


def cleric_with_a_wounded_member() -> tuple[World, Character]:
    world, ann, bob = _pair("cleric")
    bob.hp = bob.max_hp // 3
    return world, ann


def member_fighting_a_rat() -> tuple[World, Character]:
    """Bob, Ann's group member, fights a rat; Ann stands by."""
    world, ann, bob = _pair("cleric")
    combat.engage(world, bob, _mobs(world, "haven:stable", "haven:cellar_rat")[0])
    bob.hp = bob.max_hp // 2
    world.drain()
    return world, ann


SITUATIONS: list[Setup] = [at_square, at_gate, in_stable_with_two_rats, mage_in_stable,
                           in_shop, beside_a_corpse, fighting_a_rat, leading_a_follower,
                           cleric_with_a_wounded_member, member_fighting_a_rat]


# ---- the actions in each situation -----------------------------------------------------


def test_exits_are_walkable_and_closed_doors_are_opened_first() -> None:
    world, ch = at_gate()
    acts = actions(world, ch)
    room = world.rooms[ch.room]
    gate = room.exits[next(d for d in room.exits if d.value == "south")]
    assert gate.door is not None and gate.door.closed
    assert "open south" in _lines(acts, "open")
    assert "south" not in _lines(acts, "go")
    walkable = {d.value for d, ex in room.exits.items() if ex.door is None or not ex.door.closed}
    assert set(_lines(acts, "go")) == walkable
    for a in acts:
        if a["tool"] == "go":
            assert a["args"] == {"direction": a["line"]}
            assert a["why"].startswith("to ")

    gate.door.closed = False  # once open, the way is walkable and nothing is left to open
    acts = actions(world, ch)
    assert "south" in _lines(acts, "go") and not _lines(acts, "open")


def test_no_walking_while_resting_or_out_of_moves() -> None:
    world, ch = at_square()
    ch.position = Position.RESTING
    acts = actions(world, ch)
    assert not _lines(acts, "go")
    assert _lines(acts, "stand") == ["stand"]
    ch.position = Position.SLEEPING
    assert _lines(actions(world, ch)) == ["wake", "stand"]
    ch.position = Position.STANDING
    ch.moves = 0
    acts = actions(world, ch)
    assert not _lines(acts, "go") and _lines(acts, "rest") == ["rest"]
    assert _lines(acts, "sleep") == ["sleep"]


def test_attackable_mobs_are_listed_and_named_so_the_command_finds_them() -> None:
    world, ch = in_stable_with_two_rats()
    rats = _mobs(world, "haven:stable", "haven:cellar_rat")
    assert len(rats) == 2
    kills = [a for a in actions(world, ch) if a["tool"] == "kill"]
    assert [a["args"]["target"] for a in kills] == ["rat", "2.rat"]
    assert all(a["why"].split(":")[0] in ("easy", "fair", "risky", "deadly") for a in kills)
    room = world.rooms[ch.room]
    assert [word_for(r, room.characters) for r in rats] == ["rat", "2.rat"]
    snap = observe(world, ch)
    rows = [c for c in snap["characters"] if c["name"] == "a cellar rat"]
    assert [r["keyword"] for r in rows] == ["rat", "2.rat"]
    assert all(r["attackable"] and r["xp"] > 0 and "verdict" in r for r in rows)


def test_shopkeepers_and_safe_rooms_are_never_attack_targets() -> None:
    world, ch = in_shop()
    room = world.rooms[ch.room]
    assert combat.SAFE in room.flags
    acts = actions(world, ch)
    assert not _lines(acts, "kill")  # a safe room: nobody, not even the rat
    rows = {c["name"]: c for c in observe(world, ch)["characters"]}
    assert rows["Tobin the shopkeeper"]["roles"] == ["shopkeeper"]
    assert not any(r["attackable"] for r in rows.values())

    room.flags = frozenset()  # the same room without its peace: the rat, never Tobin
    kills = [a for a in actions(world, ch) if a["tool"] == "kill"]
    assert [a["args"]["target"] for a in kills] == ["rat"]


def test_other_players_only_in_pvp_rooms() -> None:
    world, ch = in_stable_with_two_rats()
    bob = world.enter("Bob", "warrior")
    world.move(bob, ch.room)
    assert "kill bob" not in _lines(actions(world, ch), "kill")
    room = world.rooms[ch.room]
    room.flags = frozenset({combat.PVP})
    assert "kill bob" in _lines(actions(world, ch), "kill")


def test_corpses_are_looted_but_not_other_players_corpses() -> None:
    world, ch = beside_a_corpse()
    loot = [a for a in actions(world, ch) if a["tool"] == "get" and "container" in a["args"]]
    assert len(loot) == 1
    assert loot[0]["args"] == {"item": "all", "container": "corpse"}
    assert "dagger" in loot[0]["why"]
    corpse = next(it for it in world.rooms[ch.room].items if it.type.value == "corpse")
    corpse.owner = "Bob"
    assert not [a for a in actions(world, ch) if "container" in a["args"]]
    corpse.owner = None
    corpse.contents.clear()
    corpse.gold = 0  # nothing left in it: nothing to loot
    assert not [a for a in actions(world, ch) if "container" in a["args"]]


def test_spells_ready_and_not_on_cooldown_or_without_mana() -> None:
    world, ch = mage_in_stable()
    casts = [a for a in actions(world, ch) if a["tool"] == "cast"]
    assert {a["args"]["target"] for a in casts} == {"rat", "2.rat"}
    assert casts[0]["line"] == "cast 'magic missile' rat"
    assert casts[0]["args"]["spell"] == "magic missile"
    ch.mana = 0
    assert not [a for a in actions(world, ch) if a["tool"] == "cast"]

    world, ch = in_stable_with_two_rats()  # a warrior's kick has a cooldown
    assert "kick rat" in _lines(actions(world, ch), "kick")
    ch.cooldowns["kick"] = world.time + 30
    assert not _lines(actions(world, ch), "kick")
    world.time += 30
    assert "kick rat" in _lines(actions(world, ch), "kick")


def test_fighting_offers_flee_potion_and_skills_at_the_foe_only() -> None:
    world, ch = fighting_a_rat()
    acts = actions(world, ch)
    tools = {a["tool"] for a in acts}
    assert "flee" in tools and "quaff" in tools
    assert not {"go", "kill", "get", "rest"} & tools
    assert _lines(acts, "kick") == ["kick rat"]  # the foe, not the other rat
    ch.cooldowns["flee"] = world.time + 10
    assert "flee" not in {a["tool"] for a in actions(world, ch)}


def test_better_gear_is_worn_and_worse_gear_is_not() -> None:
    world, ch = at_square()
    ch.inventory.append(world.make_item("haven:leather_boots"))  # a free place: better
    ch.inventory.append(world.make_item("haven:dagger"))  # worse than the short sword
    ch.inventory.append(world.make_item("haven:greatsword"))  # level 6: not yet
    acts = actions(world, ch)
    assert _lines(acts, "wear") == ["wear boots"]
    assert not _lines(acts, "wield")
    ch.inventory.append(world.make_item("haven:long_sword"))  # 1d8+2 beats 1d6+1, level 4
    assert not _lines(actions(world, ch), "wield")
    ch.level = 4
    assert _lines(actions(world, ch), "wield") == ["wield 2.sword"]  # the greatsword is 1.


def test_shop_sells_junk_and_buys_upgrades_you_can_afford() -> None:
    world, ch = _hero(room="haven:smithy")
    ch.inventory.append(world.make_item("haven:dagger"))
    acts = actions(world, ch)
    assert _lines(acts, "sell") == ["sell dagger"]
    assert not _lines(acts, "buy")  # no gold
    ch.gold = 1000
    buys = _lines(actions(world, ch), "buy")
    assert buys and all(line.startswith("buy ") for line in buys)
    assert "buy dagger" not in buys  # not an upgrade over the short sword


def test_selling_what_a_quest_needs_says_so() -> None:
    world, ch = _hero(room="greenwood:hermit_hut")
    ch.inventory += [world.make_item("greenwood:boar_tusk"), world.make_item("greenwood:wolf_pelt")]
    sells = {a["args"]["item"]: a["why"] for a in actions(world, ch) if a["tool"] == "sell"}
    assert {"tusk", "pelt"} <= set(sells) and "quest" not in sells["tusk"]
    ch.quests["haven:tusks_for_the_forge"] = {"state": "accepted", "count": 0}
    sells = {a["args"]["item"]: a["why"] for a in actions(world, ch) if a["tool"] == "sell"}
    assert sells["tusk"].endswith("(your quest 'Tusks for the Forge' needs it)")
    assert "quest" not in sells["pelt"]


def test_quests_on_offer_and_ready_to_complete() -> None:
    world, ch = _hero(room="haven:tavern")
    acts = [a for a in actions(world, ch) if a["tool"] == "quest"]
    assert [a["args"] for a in acts] == [{"action": "accept", "which": "haven:rats_in_the_cellar"}]
    assert world.perform(ch, Call("quest", acts[0]["args"])) is None
    assert not [a for a in actions(world, ch) if a["tool"] == "quest"]
    ch.quests["haven:rats_in_the_cellar"]["count"] = 4
    acts = [a for a in actions(world, ch) if a["tool"] == "quest"]
    assert [a["args"]["action"] for a in acts] == ["complete"]
    rows = observe(world, ch)["quests"]
    assert rows[0]["ready"] is True and rows[0]["turn_in"]


def test_snapshot_has_every_part() -> None:
    world, ch = at_square()
    snap = observe(world, ch)
    assert set(snap) == {"character", "room", "vitals", "inventory", "equipment", "effects",
                         "quests", "skills", "characters", "zones", "group", "actions"}
    assert snap["room"]["id"] == "haven:square" and snap["vitals"]["hp"] == ch.hp
    assert snap["character"]["name"] == "Ann"
    assert snap["equipment"]["wield"]["name"] == "a short sword"
    assert snap["zones"] == {"haven": {"name": "Haven", "levels": [1, 3]}}
    world.move(ch, "haven:forest_edge")  # a way into the Greenwood
    assert observe(world, ch)["zones"]["greenwood"]["levels"] == [2, 6]


def test_group_view_and_group_actions() -> None:
    world, ch = at_square()
    assert observe(world, ch)["group"] is None
    assert observe(world, ch)["character"]["following"] is None
    world, ann = leading_a_follower()
    assert observe(world, ann)["group"] is None  # following is not yet grouping
    assert _lines(actions(world, ann), "group") == ["group bob"]
    bob = world.characters["bob"]
    assert observe(world, bob)["character"]["following"] == "Ann"
    assert _lines(actions(world, bob), "group") == []  # only the leader takes people in
    world, ann = member_fighting_a_rat()
    view = observe(world, ann)["group"]
    assert view["leader"] == "Ann"
    assert [(m["name"], m["leader"], m["here"], m["room"], m["fighting"])
            for m in view["members"]] == [("Ann", True, True, "haven:stable", None),
                                          ("Bob", False, True, "haven:stable", "a cellar rat")]
    assert _lines(actions(world, ann), "assist") == ["assist bob"]
    heals = [a for a in actions(world, ann) if a["tool"] == "cast"
             and a["args"].get("spell") == "cure light"]
    assert [a["args"].get("target") for a in heals] == ["bob"]  # Ann is unhurt
    bob = world.characters["bob"]
    world.move(bob, "haven:square")  # a member elsewhere: nothing to do for him here
    assert _lines(actions(world, ann), "assist") == []
    assert observe(world, ann)["group"]["members"][1]["here"] is False
    world, ann = cleric_with_a_wounded_member()
    assert any(a["line"] == "cast 'cure light' bob" for a in actions(world, ann))


def test_nothing_while_stunned_or_dead() -> None:
    world, ch = in_stable_with_two_rats()
    assert actions(world, ch)
    ch.effects.append(Effect("held", until=world.time + 10, flags=frozenset({"stunned"})))
    assert actions(world, ch) == []
    ch.effects.clear()
    ch.position = Position.DEAD
    assert actions(world, ch) == []


# ---- every action listed is one the game takes --------------------------------------------


@pytest.mark.parametrize("setup", SITUATIONS, ids=lambda f: f.__name__)
def test_every_action_binds_parses_and_is_not_refused(setup: Setup) -> None:
    world, ch = setup()
    listed = actions(world, ch)
    assert listed
    for n, act in enumerate(listed):
        assert set(act) == {"tool", "args", "line", "why"}
        spec, _ = bind_call(Call(act["tool"], act["args"]), world.registry)
        line_spec, _ = parse_line(act["line"], world.registry)
        assert line_spec is spec, act
        fresh, hero = setup()  # an identical world: doing it there is not refused
        assert actions(fresh, hero)[n] == act
        refusal = fresh.perform(hero, Call(act["tool"], act["args"]))
        assert refusal is None, (act, refusal)
        typed, person = setup()  # and typing the line does the same
        assert typed.perform_line(person, act["line"]) is None, act
        assert [d.event.name for d in typed.drain()] == [d.event.name for d in fresh.drain()]
