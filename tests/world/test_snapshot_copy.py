"""`plain_copy` (world/world.py): a character's snapshot shares no container with it."""

from __future__ import annotations

from world.world import plain_copy


def test_a_plain_copy_shares_no_container_and_equals_the_original() -> None:
    quests = {"rats": {"stage": 2, "killed": [1, 2], "notes": {"seen": ["well"]}}}
    copied = plain_copy(quests)
    assert copied == quests
    copied["rats"]["killed"].append(3)
    copied["rats"]["notes"]["seen"].clear()
    assert quests == {"rats": {"stage": 2, "killed": [1, 2], "notes": {"seen": ["well"]}}}
    odd = {"set": {1, 2}, "tuple": ([1],)}  # not plain data: copied the thorough way
    again = plain_copy(odd)
    assert again == odd and again["set"] is not odd["set"]
    again["tuple"][0].append(2)
    assert odd["tuple"] == ([1],)
