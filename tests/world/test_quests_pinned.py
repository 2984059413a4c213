"""Quest rules pinned: what givers offer, how far a character is, what a quest names and
where it is turned in, with the small world of tests/npc_content.py.

The rules are those of world/systems/quests.py's docstring. Written to kill the
mutants `make mutate` found surviving in quests.py (docs/testing.md).
"""

from __future__ import annotations

from npc_content import new_world, player

from world.prototypes import QuestModel
from world.systems import quests


def quest(kind: str, target: str, count: int = 1, to: str | None = None) -> QuestModel:
    return QuestModel(name="Q", description="A quest.", giver="t:elder", kind=kind,
                      target=target, count=count, to=to)


def test_offers_are_each_quest_of_each_giver_here_once_but_those_done() -> None:
    world = new_world()
    ann = player(world)  # in the room before the givers: people are not givers
    world.spawn_mob("t:statue", "t:a")
    world.spawn_mob("t:elder", "t:a")
    world.spawn_mob("t:elder", "t:a")  # a second of the same: the same offers, once
    ann.quests["t:pelts"] = {"state": "done"}
    offers = quests.offers(world, ann)
    assert [(o.n, o.quest_id) for o in offers] == [(1, "t:rats"), (2, "t:parcel"),
                                                   (3, "t:orcs")]
    assert all(o.giver.proto == "t:elder" for o in offers)


def test_progress_counts_kills_and_deliveries_from_the_record_and_items_from_the_pack() -> None:
    world = new_world()
    ann = player(world)
    assert quests.progress(world, ann, "t:rats") == 0  # not accepted: no record
    ann.quests["t:rats"] = {"state": "accepted"}
    assert quests.progress(world, ann, "t:rats") == 0  # no count yet
    ann.quests["t:rats"]["count"] = 1
    assert quests.progress(world, ann, "t:rats") == 1
    ann.quests["t:rats"]["count"] = "2"  # a damaged record counts nothing
    assert quests.progress(world, ann, "t:rats") == 0
    ann.quests["t:pelts"] = {"state": "accepted", "count": 2}
    assert quests.progress(world, ann, "t:pelts") == 0  # what is carried, not the record
    ann.inventory += [world.make_item("t:pelt") for _ in range(3)]
    assert quests.progress(world, ann, "t:pelts") == 2  # at most the count


def test_what_a_quest_needs_names_and_is_turned_in_to() -> None:
    world = new_world()
    deliver = quest("deliver", "t:parcel", count=3, to="t:smith")
    assert quests.needed(deliver) == 1  # a delivery is one, whatever its count
    assert quests.needed(quest("kill", "t:rat", count=2)) == 2
    assert quests.needed(quest("collect", "t:pelt", count=4)) == 4
    assert quests.turn_in_to(deliver) == "t:smith"
    assert quests.turn_in_to(quest("deliver", "t:parcel")) == "t:elder"  # no `to`
    assert quests.turn_in_to(quest("kill", "t:rat", to="t:smith")) == "t:elder"
    assert quests.target_name(world, quest("kill", "t:rat")) == "a rat"
    assert quests.target_name(world, quest("kill", "t:ghost")) == "t:ghost"
    assert quests.target_name(world, quest("collect", "t:pelt")) == "a rat pelt"
    assert quests.target_name(world, quest("deliver", "t:rat")) == "t:rat"  # not an item
    assert quests.target_name(world, quest("collect", "t:ghost")) == "t:ghost"
    assert quests.mob_name(world, "t:smith") == "the smith"
    assert quests.mob_name(world, "t:ghost") == "t:ghost"
    assert quests.mob_name(world, None) is None
