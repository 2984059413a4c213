"""`practice` with trainers, in a small world of our own (tests/npc_content.py).

The master teaches every spell and skill of the student's class (price 10 a
lesson per skill level, up to 75 %); the tutor teaches only bash (price 5, up to 20 %).
"""

from __future__ import annotations

from helpers import events
from npc_content import new_world, player

from world.entities import Character
from world.errors import Code
from world.events import Delivery
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


def test_no_trainer_no_lesson() -> None:
    world = new_world()
    ann = player(world)
    assert refused(world, ann, "practice") == Code.NO_TRAINER
    assert refused(world, ann, "practice bash") == Code.NO_TRAINER


def test_the_list_is_of_your_class() -> None:
    world = new_world()
    world.spawn_mob("t:master", "t:a")
    ann = player(world)
    ann.gold = 7
    ann.skills.pop("bash", None)
    [listed] = events(ok(world, ann, "practice"), "practice_listed", "Ann")
    assert listed == {"trainer": "the master", "gold": 7, "skills": [
        {"id": "bash", "title": "bash", "kind": "skill", "level": 1, "proficiency": None,
         "max": 75, "cost": 10, "can": True},
        {"id": "kick", "title": "kick", "kind": "skill", "level": 3, "proficiency": None,
         "max": 75, "cost": 30, "can": False}]}
    bob = player(world, "Bob", "mage")
    [listed] = events(ok(world, bob, "practice"), "practice_listed", "Bob")
    assert [s["id"] for s in listed["skills"]] == ["magic_missile"]


def test_a_lesson_costs_gold_and_raises_the_skill() -> None:
    world = new_world()
    world.spawn_mob("t:master", "t:a")
    ann = player(world)
    ann.gold = 25
    ann.skills.pop("bash", None)
    out = ok(world, ann, "practice bash")
    [done] = events(out, "practiced", "Ann")
    assert done["skill"] == "bash" and done["cost"] == 10 and done["gold"] == 15
    assert done["max"] == 75
    assert ann.skills["bash"] == done["proficiency"] > 0
    assert events(out, "gold_changed", "Ann") == [{"amount": -10, "total": 15,
                                                   "reason": "practice"}]
    before = ann.skills["bash"]
    ok(world, ann, "train bash")
    assert ann.skills["bash"] > before and ann.gold == 5
    assert refused(world, ann, "practice bash") == Code.TOO_POOR


def test_refusals() -> None:
    world = new_world()
    world.spawn_mob("t:master", "t:a")
    ann = player(world)
    ann.gold = 1000
    assert refused(world, ann, "practice 'magic missile'") == Code.NOT_TAUGHT  # a mage's
    assert refused(world, ann, "practice fireball") == Code.UNKNOWN_SPELL
    assert refused(world, ann, "practice kick") == Code.LEVEL_TOO_LOW
    ann.skills["bash"] = 75
    assert refused(world, ann, "practice bash") == Code.ALREADY


def test_a_trainer_with_a_curriculum() -> None:
    world = new_world()
    world.spawn_mob("t:tutor", "t:a")
    ann = player(world, level=5)
    ann.gold = 1000
    ann.skills.pop("bash", None)
    [listed] = events(ok(world, ann, "practice"), "practice_listed", "Ann")
    assert [(s["id"], s["cost"], s["max"]) for s in listed["skills"]] == [("bash", 5, 20)]
    assert refused(world, ann, "practice kick") == Code.NOT_TAUGHT
    while ann.skills.get("bash", 0) < 20:
        ok(world, ann, "practice bash")
    assert ann.skills["bash"] == 20
    assert refused(world, ann, "practice bash") == Code.ALREADY
