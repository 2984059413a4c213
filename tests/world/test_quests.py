"""Quests end to end in a small world of our own (tests/npc_content.py), asserted on events.

The elder (a quest giver) stands in t:a and offers: Rat Catcher (kill 2 rats),
Pelts for the Elder (collect 2 pelts), A Parcel (deliver a parcel to the smith)
and Orc Slayer (kill an orc, level 5 and up).
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import events
from npc_content import new_world, player

from world.entities import Character
from world.errors import Code
from world.events import Delivery
from world.systems import combat, groups
from world.world import World


def ok(world: World, who: Character, line: str) -> list[Delivery]:
    refusal = world.perform_line(who, line)
    assert refusal is None, (line, refusal.code, refusal.message)
    return world.drain()


def refused(world: World, who: Character, line: str) -> str:
    refusal = world.perform_line(who, line)
    assert refusal is not None, f"{line!r} was not refused"
    assert world.drain() == []
    return refusal.code


def kill(world: World, killer: Character, proto: str) -> list[Delivery]:
    """Spawn a mob of `proto` next to `killer` and kill it outright."""
    mob = world.spawn_mob(proto, killer.room)
    world.drain()
    combat.damage(world, killer, mob, 10_000, "test")
    return world.drain()


@pytest.fixture
def world() -> World:
    w = new_world()
    w.spawn_mob("t:elder", "t:a")
    w.drain()
    return w


def test_the_list_shows_what_the_giver_offers(world: World) -> None:
    ann = player(world)
    out = ok(world, ann, "quest")
    [listed] = events(out, "quest_listed", "Ann")
    rows = listed["quests"]
    assert [(r["n"], r["id"], r["state"]) for r in rows] == [
        (1, "t:rats", "available"), (2, "t:pelts", "available"),
        (3, "t:parcel", "available"), (4, "t:orcs", "too_low")]
    assert rows[0] | {"description": ""} == {
        "n": 1, "id": "t:rats", "title": "Rat Catcher", "description": "", "kind": "kill",
        "target": "a rat", "count": 2, "to": None, "level": 1, "giver": "the elder",
        "reward": {"xp": 100, "gold": 50, "items": ["a copper ring"]}, "state": "available"}
    assert rows[2]["to"] == "the smith" and rows[2]["count"] == 1


def test_a_kill_quest_end_to_end(world: World) -> None:
    ann = player(world)
    out = ok(world, ann, "quest accept 1")
    assert events(out, "quest_accepted", "Ann") == [{
        "quest": "t:rats", "title": "Rat Catcher", "description": "Kill two rats.",
        "kind": "kill", "target": "a rat", "count": 2, "giver": "the elder", "to": None,
        "given": None}]
    assert ann.quests == {"t:rats": {"state": "accepted", "count": 0}}
    assert refused(world, ann, "quest complete") == Code.NOT_READY
    assert events(kill(world, ann, "t:rat"), "quest_progressed", "Ann") == [
        {"quest": "t:rats", "title": "Rat Catcher", "count": 1, "needed": 2}]
    assert events(kill(world, ann, "t:statue"), "quest_progressed", "Ann") == []
    assert events(kill(world, ann, "t:rat"), "quest_progressed", "Ann") == [
        {"quest": "t:rats", "title": "Rat Catcher", "count": 2, "needed": 2}]
    assert events(kill(world, ann, "t:rat"), "quest_progressed", "Ann") == []  # capped
    xp, gold = ann.xp, ann.gold
    out = ok(world, ann, "quest complete")
    assert events(out, "quest_completed", "Ann") == [{
        "quest": "t:rats", "title": "Rat Catcher",
        "rewards": {"xp": 100, "gold": 50, "items": ["a copper ring"]}}]
    assert ann.gold == gold + 50
    assert ann.xp == xp + 100
    assert "t:ring" in [it.proto for it in ann.inventory]
    assert events(out, "gold_changed", "Ann") == [{"amount": 50, "total": ann.gold,
                                                    "reason": "reward"}]
    [gained] = events(out, "xp_gained", "Ann")  # the quest's id, and its name for people
    assert (gained["reason"], gained["source"], gained["title"]) == (
        "quest", "t:rats", "Rat Catcher")
    assert ann.quests == {"t:rats": {"state": "done"}}
    # Done for good: no longer offered, nor to be taken again.
    rows = events(ok(world, ann, "quest list"), "quest_listed", "Ann")[0]["quests"]
    assert "t:rats" not in [r["id"] for r in rows]
    assert refused(world, ann, "quest accept rat catcher") == Code.NO_QUEST


def test_group_members_in_the_room_share_kill_progress(world: World) -> None:
    ann = player(world)
    bob = player(world, "Bob")
    carl = player(world, "Carl")
    for ch in (ann, bob, carl):
        ok(world, ch, "quest accept rats")
    groups.follow(world, bob, ann)
    groups.add_member(world, ann, bob)
    world.move(carl, "t:b")  # ungrouped and elsewhere anyway
    world.drain()
    out = kill(world, ann, "t:rat")
    assert [e["count"] for e in events(out, "quest_progressed", "Ann")] == [1]
    assert [e["count"] for e in events(out, "quest_progressed", "Bob")] == [1]
    assert events(out, "quest_progressed", "Carl") == []


def test_a_collect_quest_end_to_end(world: World) -> None:
    ann = player(world)
    ok(world, ann, "quest accept pelts")
    room = world.rooms["t:a"]
    room.items += [world.make_item("t:pelt") for _ in range(3)]
    out = ok(world, ann, "get pelt")
    assert events(out, "quest_progressed", "Ann") == [
        {"quest": "t:pelts", "title": "Pelts for the Elder", "count": 1, "needed": 2}]
    assert refused(world, ann, "quest complete pelts") == Code.NOT_READY
    status = events(ok(world, ann, "quest status"), "quest_status_shown", "Ann")[0]
    assert status["quests"][0] | {"target": ""} == {
        "id": "t:pelts", "title": "Pelts for the Elder", "kind": "collect", "target": "",
        "count": 1, "needed": 2, "ready": False, "turn_in": "the elder"}
    ok(world, ann, "get all.pelt")
    out = ok(world, ann, "quest complete")
    assert [e["quest"] for e in events(out, "quest_completed", "Ann")] == ["t:pelts"]
    # Two pelts taken, the third kept.
    assert [it.proto for it in ann.inventory].count("t:pelt") == 1
    assert ann.gold == 20


def test_a_deliver_quest_by_giving(world: World) -> None:
    ann = player(world)
    out = ok(world, ann, "quest accept parcel")
    [accepted] = events(out, "quest_accepted", "Ann")
    assert accepted["given"] == "a sealed parcel" and accepted["to"] == "the smith"
    assert "t:parcel" in [it.proto for it in ann.inventory]
    assert refused(world, ann, "quest complete parcel") == Code.NO_QUEST_GIVER  # not here
    smith = world.spawn_mob("t:smith", "t:b")
    ok(world, ann, "east")
    out = ok(world, ann, "give parcel to smith")
    assert events(out, "quest_progressed", "Ann") == [
        {"quest": "t:parcel", "title": "A Parcel", "count": 1, "needed": 1}]
    assert "t:parcel" in [it.proto for it in smith.inventory]
    out = ok(world, ann, "quest complete")
    assert events(out, "quest_completed", "Ann") == [{
        "quest": "t:parcel", "title": "A Parcel", "rewards": {"xp": 50, "gold": 5,
                                                             "items": []}}]


def test_a_deliver_quest_by_completing_in_front_of_the_receiver(world: World) -> None:
    ann = player(world)
    ok(world, ann, "quest accept parcel")
    assert refused(world, ann, "quest complete") == Code.NO_QUEST_GIVER  # the elder waits not
    smith = world.spawn_mob("t:smith", "t:a")
    world.drain()
    out = ok(world, ann, "quest complete")
    assert [e["quest"] for e in events(out, "quest_completed", "Ann")] == ["t:parcel"]
    assert "t:parcel" not in [it.proto for it in ann.inventory]
    assert "t:parcel" in [it.proto for it in smith.inventory]


def test_the_wrong_giver_and_other_refusals(world: World) -> None:
    ann = player(world, room="t:b")
    world.spawn_mob("t:smith", "t:b")
    world.drain()
    assert refused(world, ann, "quest list") == Code.NO_QUEST_GIVER
    assert refused(world, ann, "quest accept 1") == Code.NO_QUEST_GIVER
    world.move(ann, "t:a")
    assert refused(world, ann, "quest accept 9") == Code.NO_QUEST
    assert refused(world, ann, "quest accept dragons") == Code.NO_QUEST
    assert refused(world, ann, "quest accept") == Code.BAD_ARGS
    assert refused(world, ann, "quest dance") == Code.BAD_ARGS
    assert refused(world, ann, "quest accept orc") == Code.LEVEL_TOO_LOW
    ok(world, ann, "quest accept rats")
    assert refused(world, ann, "quest accept rats") == Code.ALREADY
    assert refused(world, ann, "quest complete pelts") == Code.NO_QUEST
    assert refused(world, ann, "quest abandon pelts") == Code.NO_QUEST
    # The rats are done: but it is the elder, not the smith, who pays for them.
    kill(world, ann, "t:rat")
    kill(world, ann, "t:rat")
    world.move(ann, "t:b")
    assert refused(world, ann, "quest complete rats") == Code.NO_QUEST_GIVER
    assert refused(world, ann, "quest complete") == Code.NO_QUEST_GIVER


def test_abandon_and_take_again(world: World) -> None:
    ann = player(world)
    ok(world, ann, "quest accept parcel")
    out = ok(world, ann, "quest abandon parcel")
    assert events(out, "quest_abandoned", "Ann") == [{"quest": "t:parcel",
                                                      "title": "A Parcel"}]
    assert ann.quests == {}
    assert "t:parcel" not in [it.proto for it in ann.inventory]  # the giver took it back
    ok(world, ann, "quest accept rats")
    kill(world, ann, "t:rat")
    ok(world, ann, "quest abandon 1")
    out = ok(world, ann, "quest accept rats")
    assert ann.quests["t:rats"]["count"] == 0
    assert events(out, "quest_accepted", "Ann")


def test_progress_survives_a_restart(world: World) -> None:
    ann = player(world)
    ok(world, ann, "quest accept rats")
    ok(world, ann, "quest accept parcel")
    kill(world, ann, "t:rat")
    snap: dict[str, Any] = world.leave(ann, "quit")
    world.drain()
    again = world.enter("Ann", "warrior", state=snap)
    world.drain()
    assert again.quests == {"t:rats": {"state": "accepted", "count": 1},
                            "t:parcel": {"state": "accepted", "count": 0, "given": True}}
    status = events(ok(world, again, "quest status"), "quest_status_shown", "Ann")[0]
    assert [(r["id"], r["count"], r["ready"]) for r in status["quests"]] == [
        ("t:rats", 1, False), ("t:parcel", 0, True)]
    kill(world, again, "t:rat")
    out = ok(world, again, "quest complete rats")
    assert [e["quest"] for e in events(out, "quest_completed", "Ann")] == ["t:rats"]
    snap = world.leave(again, "quit")
    third = world.enter("Ann", "warrior", state=snap)
    status = events(ok(world, third, "quest status"), "quest_status_shown", "Ann")[0]
    assert status["done"] == ["Rat Catcher"]


def test_a_structured_call_does_the_same(world: World) -> None:
    from world.commands.registry import Call

    ann = player(world)
    assert world.perform(ann, Call("quest", {"action": "accept", "which": "2"})) is None
    out = world.drain()
    assert [e["quest"] for e in events(out, "quest_accepted", "Ann")] == ["t:pelts"]
