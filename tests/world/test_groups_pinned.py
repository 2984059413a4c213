"""Following and groups pinned: who is told what when someone follows, stops following,
joins or leaves a group, and who counts as a member standing in the room.

The rules are those of world/systems/groups.py's docstring, in the small world of
tests/npc_content.py. Written to kill the mutants `make mutate` found surviving in
groups.py (docs/testing.md).
"""

from __future__ import annotations

from helpers import log_of
from npc_content import new_world, player

from world.entities import Character
from world.systems import groups
from world.world import World


def told(world: World) -> list[tuple[str, str, dict[str, object]]]:
    """The followed and group_changed events since the last drain: (to whom, name, data)."""
    return [e for e in log_of(world.drain()) if e[1] in ("followed", "group_changed")]


def trio(world: World) -> tuple[Character, Character, Character]:
    return player(world, "Ann"), player(world, "Bob"), player(world, "Cid")


def test_following_someone_else_leaves_the_one_followed_before() -> None:
    world = new_world()
    ann, bob, cid = trio(world)
    groups.follow(world, ann, bob)
    assert told(world) == [("Ann", "followed", {"actor": "Ann", "leader": "Bob", "previous": None}),
                           ("Bob", "followed", {"actor": "Ann", "leader": "Bob", "previous": None})]
    groups.follow(world, ann, cid)
    said = {"actor": "Ann", "leader": "Cid", "previous": "Bob"}
    assert told(world) == [("Ann", "followed", said), ("Cid", "followed", said),
                           ("Bob", "followed", said)]
    assert (ann.following, bob.followers, cid.followers) == (cid, [], [ann])


def test_a_member_who_follows_someone_else_leaves_the_group() -> None:
    world = new_world()
    ann, bob, cid = trio(world)
    groups.follow(world, ann, bob)
    groups.add_member(world, bob, ann)
    world.drain()
    groups.follow(world, ann, cid)
    left = {"leader": "Bob", "member": "Ann", "joined": False}
    said = {"actor": "Ann", "leader": "Cid", "previous": "Bob"}
    assert told(world) == [("Bob", "group_changed", left), ("Ann", "group_changed", left),
                           ("Ann", "followed", said), ("Cid", "followed", said),
                           ("Bob", "followed", said)]
    assert ann.grouped is False and bob.grouped is False  # Bob has no one left
    assert groups.members(bob) == [] and groups.leader_of(bob) is None


def test_a_member_who_stops_following_leaves_the_group_and_the_leader_keeps_the_rest() -> None:
    world = new_world()
    ann, bob, cid = trio(world)
    for member in (ann, cid):
        groups.follow(world, member, bob)
        groups.add_member(world, bob, member)
    world.drain()
    groups.unfollow(world, ann)
    left = {"leader": "Bob", "member": "Ann", "joined": False}
    stopped = {"actor": "Ann", "leader": None, "previous": "Bob"}
    assert told(world) == [("Bob", "group_changed", left), ("Ann", "group_changed", left),
                           ("Cid", "group_changed", left),
                           ("Ann", "followed", stopped), ("Bob", "followed", stopped)]
    assert ann.grouped is False and bob.grouped is True
    assert groups.members(bob) == [bob, cid]
    groups.unfollow(world, cid)
    assert cid.grouped is False and bob.grouped is False and groups.members(bob) == []


def test_disbanding_ungroups_everyone_who_keeps_following() -> None:
    world = new_world()
    ann, bob, cid = trio(world)
    for member in (ann, cid):
        groups.follow(world, member, bob)
        groups.add_member(world, bob, member)
    world.drain()
    groups.disband(world, bob)
    assert (bob.grouped, ann.grouped, cid.grouped) == (False, False, False)
    assert bob.followers == [ann, cid]


def test_a_grouped_mob_counts_as_a_member_here_while_it_is_in_the_world() -> None:
    world = new_world()
    ann = player(world)
    wolf = world.spawn_mob("t:wolf", "t:a")
    groups.follow(world, wolf, ann)
    groups.add_member(world, ann, wolf)
    assert groups.members_in_room(world, ann, "t:a") == [ann, wolf]
    world.remove_mob(wolf)
    assert groups.members_in_room(world, ann, "t:a") == [ann]


def test_leads_to_stops_at_a_loop() -> None:
    world = new_world()
    ann, bob, cid = trio(world)
    ann.following, bob.following = bob, ann  # a loop the `follow` command never makes
    assert groups.leads_to(ann, bob) and groups.leads_to(bob, ann)
    assert not groups.leads_to(ann, cid)


def test_a_group_member_as_the_group_list_shows_it() -> None:
    world = new_world()
    ann, bob, _ = trio(world)
    groups.follow(world, bob, ann)
    groups.add_member(world, ann, bob)
    world.move(bob, "t:b")
    rat = world.spawn_mob("t:rat", "t:b")
    bob.fighting = rat
    bob.hp, bob.mana, bob.moves = 21, 3, 77
    assert groups.member_row(ann, bob, False) == {  # a warrior of tests/npc_content.py
        "name": "Bob", "level": 1, "class": "warrior", "kind": "player",
        "hp": 21, "max_hp": 30, "mana": 3, "max_mana": 0, "moves": 77, "max_moves": 100,
        "position": "standing", "here": False, "leader": False, "room": "t:b",
        "fighting": "a rat"}
    assert groups.member_row(ann, ann, True) == {
        "name": "Ann", "level": 1, "class": "warrior", "kind": "player",
        "hp": 30, "max_hp": 30, "mana": 0, "max_mana": 0, "moves": 100, "max_moves": 100,
        "position": "standing", "here": True, "leader": True, "room": "t:a",
        "fighting": None}
