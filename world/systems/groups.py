"""Following and groups, Diku style: leader-based groups and followers who walk along.

`ch.following` is the character `ch` follows and `ch.followers` those following
`ch`. A group is a leader (who follows no one) and the followers it took in with
`group <who>`: `grouped` is set on each member and on the leader while it has
members. Members share the XP of kills made in their room (progression.py),
hear `gtell`, and may `assist` each other without naming a target.

When a character walks (`go` signals `Walked`), its followers standing in the
room it left walk the same way, through the same command, so they pay the same
moves and meet the same doors; their own followers come along in turn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from world.commands.registry import Call
from world.entities import Character, Kind, Position
from world.events import Event, Followed, GroupChanged, Message, Walked
from world.systems.registry import listens

if TYPE_CHECKING:
    from world.world import World


def leader_of(ch: Character) -> Character | None:
    """The leader of `ch`'s group (perhaps `ch` itself), or None when `ch` is in none."""
    if not ch.grouped:
        return None
    leader = ch.following
    if leader is not None and leader.grouped:
        return leader
    return ch if ch.following is None else None


def members(ch: Character) -> list[Character]:
    """Everyone in `ch`'s group, the leader first; [] when `ch` is in none."""
    leader = leader_of(ch)
    if leader is None:
        return []
    return [leader, *(f for f in leader.followers if f.grouped)]


def members_in_room(world: World, ch: Character, room_id: str) -> list[Character]:
    """The members of `ch`'s group (or `ch` alone) standing alive in `room_id`."""
    group = members(ch) or [ch]
    return [m for m in group
            if m.room == room_id and m.position is not Position.DEAD
            and _in_world(world, m)]


def member_row(viewer: Character, m: Character, leader: bool) -> dict[str, object]:
    """What `viewer` knows of a member of its group, as plain data (the `group` command's
    list and the `group` part of `observe`): who, how hurt, where, fighting whom."""
    return {
        "name": m.name, "level": m.level, "class": m.cls, "kind": str(m.kind),
        "hp": m.hp, "max_hp": m.max_hp, "mana": m.mana, "max_mana": m.max_mana,
        "moves": m.moves, "max_moves": m.max_moves, "position": str(m.position),
        "here": m.room == viewer.room, "leader": leader, "room": m.room,
        "fighting": m.fighting.name if m.fighting is not None else None,
    }


def _in_world(world: World, ch: Character) -> bool:
    if ch.kind is Kind.MOB:
        return world.mobs.get(ch.id) is ch
    return world.characters.get(ch.name.lower()) is ch


def _tell(world: World, people: list[Character], event: Event) -> None:
    seen: set[int] = set()
    for person in people:
        if person.id not in seen:
            seen.add(person.id)
            world.emit_to(person, event)


def leads_to(start: Character, target: Character) -> bool:
    """Whether following from `start` (start, its leader, that one's leader...) reaches `target`."""
    seen: set[int] = set()
    ch: Character | None = start
    while ch is not None and ch.id not in seen:
        if ch is target:
            return True
        seen.add(ch.id)
        ch = ch.following
    return False


def follow(world: World, ch: Character, leader: Character) -> None:
    """`ch` starts following `leader` (leaving any group it was in or led)."""
    previous = ch.following
    if previous is not None:
        _unlink(world, ch)
    disband(world, ch)
    ch.following = leader
    leader.followers.append(ch)
    event = Followed(ch.name, leader.name, previous.name if previous else None)
    _tell(world, [ch, leader, *([previous] if previous else [])], event)


def unfollow(world: World, ch: Character) -> None:
    """`ch` stops following whoever it follows (and so leaves that one's group)."""
    previous = ch.following
    if previous is None:
        return
    _unlink(world, ch)
    _tell(world, [ch, previous], Followed(ch.name, None, previous.name))


def _unlink(world: World, ch: Character) -> None:
    leader = ch.following
    assert leader is not None
    if ch.grouped:
        remove_member(world, leader, ch)
    if ch in leader.followers:
        leader.followers.remove(ch)
    ch.following = None


def add_member(world: World, leader: Character, member: Character) -> None:
    """Take `member` (who follows `leader`) into `leader`'s group."""
    leader.grouped = True
    member.grouped = True
    _tell(world, [*members(leader)], GroupChanged(leader.name, member.name, True))


def remove_member(world: World, leader: Character, member: Character) -> None:
    """Put `member` out of `leader`'s group; a leader left alone has no group any more."""
    _tell(world, [*members(leader), member], GroupChanged(leader.name, member.name, False))
    member.grouped = False
    if not any(f.grouped for f in leader.followers):
        leader.grouped = False


def disband(world: World, leader: Character) -> None:
    """`leader`'s group ends (its followers keep following, ungrouped)."""
    if leader.following is not None or not leader.grouped:
        return
    for member in [f for f in leader.followers if f.grouped]:
        remove_member(world, leader, member)
    leader.grouped = False


def release(world: World, ch: Character) -> None:
    """`ch` leaves the world: it stops following, and its followers stop following it."""
    if ch.following is not None:
        unfollow(world, ch)
    disband(world, ch)
    for follower in list(ch.followers):
        unfollow(world, follower)


@listens(Walked)
def _followers_follow(world: World, event: Walked) -> None:
    """The walker's followers still in the room it left, standing, walk after it."""
    leader: Character = event.actor
    if not leader.followers:
        return
    for follower in list(leader.followers):
        if follower.room != event.origin or follower.position is not Position.STANDING:
            continue
        if follower.following is not leader:
            continue
        world.emit_to(follower, Message(f"You follow {leader.name} {event.direction}."))
        refusal = world.perform(follower, Call("go", {"direction": event.direction}))
        if refusal is not None:
            world.emit_to(follower, Message(refusal.message, "warning"))
