"""Fighting, and fighting together: kill, flee, wimpy, consider, assist, follow, group, gtell.

The rules these commands lean on live in the systems: who may attack whom,
rounds, fleeing and judging a fight in world/systems/combat.py; following and
groups in world/systems/groups.py; XP in world/systems/progression.py.
"""

from __future__ import annotations

from typing import Annotated

from world.commands.registry import Target, Text, command
from world.commands.social import cut_notice, speech
from world.entities import Character, Position
from world.errors import Code, Refused
from world.events import Assisted, Considered, GroupListed, GroupTold, WimpySet
from world.systems import behaviours, combat, groups, progression
from world.world import Ctx


def _someone_here(ctx: Ctx, word: str) -> Character:
    ch = ctx.character_here(word)
    if ch is None:
        raise Refused(Code.NOT_HERE, f"You don't see '{word[:40]}' here.")
    return ch


@command("kill", aliases=("k", "attack"), category="combat",
         examples=("kill goblin", "kill 2.rat", "attack wolf"))
def kill(ctx: Ctx, target: Annotated[Target, "who to attack"]) -> None:
    """Attack someone in the room; the fight goes on in rounds until one of you falls or flees.

    You strike at once, then every combat round (2 seconds). Everyone fighting in
    the room swings each round, mobs too. Already fighting? `kill` turns you on
    another foe. Not in peaceful (safe) rooms; other players only in rooms
    flagged for player-versus-player; never a shopkeeper.
    """
    actor = ctx.actor
    world = ctx.world
    victim = _someone_here(ctx, target)
    if actor.fighting is victim:
        raise Refused(Code.ALREADY, f"You are already fighting {victim.name}!")
    combat.check_attack(world, actor, victim)
    if actor.fighting is not None:
        combat.retarget(world, actor, victim)
        return
    combat.engage(world, actor, victim)
    combat.swing(world, actor, victim)


@command("flee", category="combat", examples=("flee",))
def flee(ctx: Ctx) -> None:
    """Try to run from your fight, out by a random open exit.

    The odds grow with your dexterity and with your level over your foe's. Getting
    away costs a little XP (never a level); failing leaves you in the fight, and
    you need a moment before you can try again.
    """
    actor = ctx.actor
    world = ctx.world
    if actor.fighting is None:
        raise Refused(Code.NOT_FIGHTING, "You aren't fighting anyone.")
    ready = actor.cooldowns.get("flee", 0)
    if ready > world.time:
        raise Refused(Code.COOLDOWN, "You are still off balance; try again in a moment.")
    if not combat.flee(world, actor):
        actor.cooldowns["flee"] = world.time + combat.FLEE_LAG


@command("wimpy", category="combat", sleeping_ok=True, examples=("wimpy", "wimpy 20", "wimpy 0"))
def wimpy(ctx: Ctx, hp: Annotated[int | None, "flee when your hp fall below this; 0 never"]
          = None) -> None:
    """Show or set your wimpy: you try to flee on your own when your hit points fall below it.

    `wimpy` shows it, `wimpy 20` sets it, `wimpy 0` turns it off. At most half
    your maximum hit points.
    """
    actor = ctx.actor
    if hp is not None:
        if hp < 0 or hp > actor.max_hp // 2:
            raise Refused(Code.BAD_ARGS,
                          f"Wimpy goes from 0 to half your hit points ({actor.max_hp // 2}).")
        actor.wimpy = hp
    ctx.tell(WimpySet(actor.wimpy, actor.max_hp))


@command("consider", aliases=("con",), category="combat",
         examples=("consider goblin", "consider all"))
def consider(ctx: Ctx, target: Annotated[Target, "who to size up; `all` for everyone here"]
             ) -> None:
    """Size up a fight with someone here: a verdict (easy, fair, risky, deadly) and the numbers.

    It weighs levels, hit points (as they are now), hit chances and damage each
    way, and tells what the kill would be worth to you. Those who would join in
    (its pack, the aggressive, whoever fights you already) count too.
    `consider all` sizes up everyone here, one short line each.
    """
    actor = ctx.actor
    if target.lower() == "all":
        others = [ch for ch in ctx.room.characters if ch is not actor]
        if not others:
            raise Refused(Code.NOT_HERE, "There is no one here to consider.")
        for other in others:
            _consider(ctx, other, brief=True)
        return
    other = _someone_here(ctx, target)
    if other is actor:
        raise Refused(Code.BAD_TARGET, "Easy! Very easy indeed!")
    _consider(ctx, other, brief=False)


def _consider(ctx: Ctx, other: Character, brief: bool) -> None:
    actor = ctx.actor
    world = ctx.world
    a = combat.assess(world, actor, other, behaviours.joiners(world, actor, other))
    ctx.tell(Considered(
        target=other.name, target_kind=str(other.kind), verdict=a.verdict,
        level_diff=other.level - actor.level, target_level=other.level,
        target_hp=other.hp, target_max_hp=other.max_hp, hit_chance=a.hit_chance,
        damage_per_round=a.damage_per_round, damage_taken_per_round=a.damage_taken_per_round,
        rounds_to_win=a.rounds_to_win, rounds_to_lose=a.rounds_to_lose,
        xp=progression.consider_xp(world, actor, other), joined_by=a.joined_by, brief=brief,
    ))


@command("assist", category="combat", examples=("assist", "assist Ann"))
def assist(ctx: Ctx, who: Annotated[Target | None, "whom to help; a fighting group member "
                                                    "here if empty"] = None) -> None:
    """Join someone's fight against their foe: a group member here, or whoever you name."""
    actor = ctx.actor
    world = ctx.world
    if actor.fighting is not None:
        raise Refused(Code.ALREADY, "You are already fighting!")
    if who:
        ally = _someone_here(ctx, who)
        if ally is actor:
            raise Refused(Code.BAD_TARGET, "You can't assist yourself.")
        if ally.fighting is None:
            raise Refused(Code.NOT_FIGHTING, f"{ally.name} is not fighting anyone.")
    else:
        found = next((m for m in groups.members_in_room(world, actor, actor.room)
                      if m is not actor and m.fighting is not None), None)
        if found is None:
            raise Refused(Code.NOT_FIGHTING, "No one in your group here is fighting.")
        ally = found
    foe = ally.fighting
    assert foe is not None
    if foe is actor:
        raise Refused(Code.BAD_TARGET, f"{ally.name} is fighting you!")
    if not combat.present(world, actor, foe):
        raise Refused(Code.NOT_HERE, f"{ally.name}'s foe is not here.")
    combat.check_attack(world, actor, foe)
    ctx.tell_room(Assisted(actor.name, str(actor.kind), ally.name, foe.name),
                  include_actor=True)
    combat.engage(world, actor, foe)
    combat.swing(world, actor, foe)


@command("follow", category="group", examples=("follow Ann", "follow self"))
def follow(ctx: Ctx, who: Annotated[Target, "whom to follow; `self` to stop"]) -> None:
    """Follow someone here: when they walk away, you walk after them. `follow self` stops.

    Following is the way into a group: the leader takes you in with `group <you>`.
    Starting to follow someone ends any group you lead.
    """
    actor = ctx.actor
    world = ctx.world
    leader = _someone_here(ctx, who)
    if leader is actor:
        if actor.following is None:
            raise Refused(Code.ALREADY, "You already follow no one but yourself.")
        groups.unfollow(world, actor)
        return
    if actor.following is leader:
        raise Refused(Code.ALREADY, f"You already follow {leader.name}.")
    if groups.leads_to(leader, actor):
        raise Refused(Code.BAD_TARGET, f"{leader.name} already follows you, "
                                       "one way or another.")
    groups.follow(world, actor, leader)


@command("group", category="group", sleeping_ok=True,
         examples=("group", "group Bob", "group all"))
def group(ctx: Ctx, who: Annotated[Target | None, "a follower to take in or put out; "
                                                   "`all` for every follower here"] = None
          ) -> None:
    """List your group, or take a follower into it (again: put them out).

    Groups are led by one character, who follows no one; members follow the
    leader. Members in the room share the XP of kills, hear `gtell`, and can
    `assist` each other without naming the foe.
    """
    actor = ctx.actor
    world = ctx.world
    if not who:
        members = groups.members(actor)
        if not members:
            raise Refused(Code.NOT_GROUPED, "You are not in a group.")
        ctx.tell(GroupListed(members[0].name, [groups.member_row(actor, m, m is members[0])
                                              for m in members]))
        return
    if actor.following is not None:
        raise Refused(Code.NOT_LEADER, f"Only the leader takes people in; you follow "
                                       f"{actor.following.name}.")
    if actor.position is Position.SLEEPING:
        raise Refused(Code.POSITION, "In your dreams, or what? (wake first)")
    if who.lower() == "all":
        new = [f for f in actor.followers if f.room == actor.room and not f.grouped]
        if not new:
            raise Refused(Code.NOT_HERE, "No one here follows you who is not in your group.")
        for f in new:
            groups.add_member(world, actor, f)
        return
    member = _someone_here(ctx, who)
    if member is actor:
        raise Refused(Code.BAD_TARGET, "Take in a follower: `group <name>`.")
    if member.following is not actor:
        raise Refused(Code.BAD_TARGET, f"{member.name} is not following you.")
    if member.grouped:
        groups.remove_member(world, actor, member)
    else:
        groups.add_member(world, actor, member)


@command("gtell", aliases=("gsay", "gt"), category="group", sleeping_ok=True,
         examples=("gtell wait for me", "gsay heal please"))
def gtell(ctx: Ctx, text: Annotated[Text, "what to tell your group"]) -> None:
    """Tell your whole group something, wherever its members are."""
    members = groups.members(ctx.actor)
    if not members:
        raise Refused(Code.NOT_GROUPED, "You are not in a group.")
    words, cut = speech(text, "Tell your group what?")
    event = GroupTold(ctx.actor.name, str(ctx.actor.kind), words)
    for m in members:
        ctx.world.emit_to(m, event)
    cut_notice(ctx, cut)

