"""The events carry what a client needs to follow the room without asking again.

A client that shows who and what is here (the web client's "Here" panel) keeps that
list from the `room` event up to date with the events that follow: arrivals carry the
level, a death names the corpse it leaves, a corpse that rots away says so, and every
blow tells how hurt its target is now (`rules.condition`, the words `look` uses).
Asserted on events, in the arena world (tests/arena.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from arena import mob, new_world, player, rounds, ticks
from helpers import Log, log_of

from world import rules
from world.entities import Character, ItemType
from world.world import World


def ok(world: World, who: Character, line: str) -> Log:
    refusal = world.perform_line(who, line)
    assert refusal is None, (line, refusal.code, refusal.message)
    return log_of(world.drain())


def of(log: Log, name: str, recipient: str | None = None) -> list[dict[str, Any]]:
    return [data for who, n, data in log if n == name and (recipient is None or who == recipient)]


@pytest.mark.parametrize(("hp", "word"), [
    (40, "excellent"), (39, "a few scratches"), (30, "a few scratches"), (29, "wounded"),
    (20, "wounded"), (19, "badly wounded"), (10, "badly wounded"), (9, "awful"), (1, "awful"),
    (0, "dead"), (-5, "dead")])
def test_condition_words(hp: int, word: str) -> None:
    assert rules.condition(hp, 40) == word
    assert word in rules.CONDITIONS


def test_every_blow_tells_how_hurt_its_target_is_now() -> None:
    world = new_world()
    ann = player(world)
    dummy = mob(world, "dummy")  # harmless, and 60 hit points for this test
    dummy.hp = dummy.max_hp = 60
    log = ok(world, ann, "kill dummy")
    seen: list[str] = []
    for _ in range(100):
        blows = of(log, "hit_landed", "Ann")
        blows = [d for d in blows if d["target"] == "a training dummy"]
        if blows:
            seen.append(blows[-1]["condition"])
        if not of(log, "died", "Ann") and blows:  # the last blow says how it is now
            assert blows[-1]["condition"] == rules.condition(dummy.hp, dummy.max_hp)
        if of(log, "died", "Ann"):
            break
        log = rounds(world)
    assert seen[-1] == "dead"
    assert len(set(seen)) >= 4  # it got worse, step by step
    assert all(word in rules.CONDITIONS for word in seen)


def test_a_missed_blow_tells_the_condition_too() -> None:
    world = new_world()
    ann = player(world)
    mob(world, "dummy")  # it misses a lot (hit -20)
    ok(world, ann, "kill dummy")
    log = rounds(world, 5)
    misses = [d for d in of(log, "hit_landed", "Ann") if d["actor"] == "a training dummy"
              and d["damage"] == 0]
    assert misses
    assert all(d["condition"] in rules.CONDITIONS for d in misses)


def test_a_spell_tells_how_hurt_its_target_is() -> None:
    world = new_world()
    ann = player(world, cls="mage")
    goblin = mob(world, "goblin")
    goblin.hp = goblin.max_hp = 100
    log = ok(world, ann, "cast 'magic missile' goblin")
    [hit] = of(log, "spell_hit", "Ann")
    assert hit["condition"] == rules.condition(100 - hit["damage"], 100) == "a few scratches"


def test_a_death_names_its_corpse_and_the_corpse_is_in_the_room() -> None:
    world = new_world()
    ann = player(world)
    rat = mob(world, "rat")
    rat.hp = 1
    log = ok(world, ann, "kill rat")
    for _ in range(20):
        if of(log, "died"):
            break
        log = rounds(world)
    [died] = of(log, "died", "Ann")
    assert died["corpse"] == "the corpse of a rat"
    [corpse] = [it for it in world.rooms["arena:yard"].items if it.type is ItemType.CORPSE]
    assert corpse.name == died["corpse"]
    # The room's list of items names it the same way.
    room = world.room_view(world.rooms["arena:yard"], ann).to_data()
    assert {"name": corpse.name, "keyword": corpse.keyword, "short": corpse.short} in room["items"]


def test_a_corpse_that_rots_away_tells_the_room() -> None:
    world = new_world()
    ann = player(world)
    rat = mob(world, "rat")
    rat.hp = 1
    ok(world, ann, "kill rat")
    for _ in range(20):
        rounds(world)
        if rat.hp <= 0:
            break
    [corpse] = world.rooms["arena:yard"].items
    corpse.decay_at = world.time + 1
    log = ticks(world, 60)
    assert of(log, "decayed", "Ann") == [{"item": "the corpse of a rat", "keyword": "corpse"}]
    assert world.rooms["arena:yard"].items == []


def test_arrivals_and_entries_carry_the_level() -> None:
    world = new_world()
    ann = player(world)
    bob = player(world, "Bob", room="arena:temple", level=4)
    log = ok(world, bob, "south")
    assert of(log, "arrived", "Ann") == [
        {"actor": "Bob", "kind": "player", "direction": "north", "level": 4}]
    world.enter("Cid", "mage")
    assert of(log_of(world.drain()), "entered_game", "Ann") == [
        {"actor": "Cid", "kind": "player", "reconnected": False, "level": 1}]
    world.spawn_mob("arena:goblin", "arena:yard")
    assert of(log_of(world.drain()), "arrived", "Ann") == [
        {"actor": "a goblin", "kind": "mob", "direction": None, "level": 3}]
    assert ann.room == "arena:yard"
