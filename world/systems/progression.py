"""Progression: XP from kills (scaled by the level difference, split in a group), the
level table, level-up gains per class, spells and skills learned, the XP penalties.

- A mob killed (the `Killed` signal) is worth its content `xp`, or
  `rules.mob_xp(level)`. Each member of the killer's group standing in the room
  gets a share in proportion to its level, scaled by the level difference between
  the mob and that member (`scale_percent`): up to double for a much tougher foe,
  down to 5 % for a trivial one. A group of several earns `GROUP_BONUS_PERCENT`
  more in all, per member beyond the first.
- `gain_xp` is the one way XP goes up (kills here, quests elsewhere). Crossing
  `rules.xp_for_level(level + 1)` gains a level: the class's `*_per_level` plus
  a constitution (hp) or intelligence/wisdom (mana) bonus, attribute points by
  the class `growth` (points per level, fractions add up over levels), and every
  spell or skill of `content.spells` whose `classes[cls]` is the new level (or
  below and not yet known), at `LEARN_PROFICIENCY`. Levels stop at
  `rules.LEVEL_CAP`; XP stops at what the cap needs.
- `lose_xp` is the one way XP goes down (death, flee): never below the start of
  the current level, so no one loses a level.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from world import rules
from world.entities import Character, Kind
from world.events import Entering, Killed, LevelGained, XpGained, XpLost
from world.systems import groups
from world.systems.registry import listens

if TYPE_CHECKING:
    from world.world import World

LEARN_PROFICIENCY = 50  # percent a newly learned spell or skill starts at (practice: 75)
GROUP_BONUS_PERCENT = 10  # extra XP per group member beyond the first, shared
DEATH_PENALTY_PERCENT = 10  # of the current level's span of XP
FLEE_PENALTY_PERCENT = 2  # of the current level's span of XP
MAX_SCALE_PERCENT = 200
MIN_SCALE_PERCENT = 5


def level_span(level: int) -> int:
    """The XP between the start of `level` and the next (the last span at the cap)."""
    level = max(1, min(level, rules.LEVEL_CAP - 1))
    return rules.xp_for_level(level + 1) - rules.xp_for_level(level)


def scale_percent(member_level: int, victim_level: int) -> int:
    """How much of a kill's worth a member gets for the level difference, in percent.

    +20 % per level the victim is above the member (at most 200 %), -20 % per level
    below (at least 5 %).
    """
    diff = victim_level - member_level
    if diff >= 0:
        return min(MAX_SCALE_PERCENT, 100 + 20 * diff)
    return max(MIN_SCALE_PERCENT, 100 + 20 * diff)


def kill_value(world: World, victim: Character) -> int:
    """What killing `victim` is worth before scaling: its content `xp`, or by its level."""
    proto = world.content.mobs.get(victim.proto or "")
    if proto is not None and proto.xp is not None:
        return proto.xp
    return rules.mob_xp(victim.level)


def kill_shares(world: World, killer: Character, victim: Character, room_id: str
                ) -> list[tuple[Character, int]]:
    """Who gets how much XP for `killer` killing `victim` in `room_id`."""
    if not victim.is_mob or killer.kind is Kind.MOB:
        return []
    people = [m for m in groups.members_in_room(world, killer, room_id) if not m.is_mob]
    if killer not in people:
        people.append(killer)
    total = kill_value(world, victim) * (100 + GROUP_BONUS_PERCENT * (len(people) - 1)) / 100
    levels = sum(max(1, m.level) for m in people)
    shares = []
    for m in people:
        share = total * max(1, m.level) / levels * scale_percent(m.level, victim.level) / 100
        shares.append((m, max(1, int(share))))
    return shares


def consider_xp(world: World, ch: Character, victim: Character) -> int:
    """What killing `victim` now would give `ch` (alone or with its group here)."""
    for member, amount in kill_shares(world, ch, victim, ch.room):
        if member is ch:
            return amount
    return 0


@listens(Killed)
def award_kill(world: World, event: Killed) -> None:
    """A mob died: its killer and the killer's group in the room share the XP."""
    killer = event.killer
    victim = event.victim
    if not isinstance(killer, Character) or not isinstance(victim, Character):
        return
    for member, amount in kill_shares(world, killer, victim, event.room):
        gain_xp(world, member, amount, "kill", victim.name)


def _reason(reason: str, source: str) -> tuple[str, str]:
    """`quest:haven:rats` is ("quest", "haven:rats") when no source is given."""
    if not source and ":" in reason:
        head, _, tail = reason.partition(":")
        return head, tail
    return reason, source


def gain_xp(world: World, ch: Character, amount: int, reason: str, source: str = "",
            title: str = "") -> int:
    """Give `ch` XP (players and agents only); levels follow. Returns what it got.

    `source` is what for (a mob's name, a quest's id); `title` names it for people
    (a quest's name), when `source` does not."""
    if ch.kind is Kind.MOB or amount <= 0:
        return 0
    amount = min(amount, max(0, rules.xp_for_level(rules.LEVEL_CAP) - ch.xp))
    if amount <= 0:
        return 0
    ch.xp += amount
    reason, source = _reason(reason, source)
    world.emit_to(ch, XpGained(amount, reason, source, ch.xp, rules.xp_next(ch), title))
    while ch.level < rules.LEVEL_CAP and ch.xp >= rules.xp_for_level(ch.level + 1):
        level_up(world, ch)
    world.mark_vitals(ch)
    return amount


def lose_xp(world: World, ch: Character, amount: int, reason: str) -> int:
    """Take XP from `ch`, never below the start of its level. Returns what it lost."""
    if ch.kind is Kind.MOB or amount <= 0:
        return 0
    amount = min(amount, max(0, ch.xp - rules.xp_for_level(ch.level)))
    if amount <= 0:
        return 0
    ch.xp -= amount
    world.emit_to(ch, XpLost(amount, reason, ch.xp, rules.xp_next(ch)))
    world.mark_vitals(ch)
    return amount


def death_penalty(ch: Character) -> int:
    """The XP a death costs `ch` (before the never-lose-a-level floor)."""
    return level_span(ch.level) * DEATH_PENALTY_PERCENT // 100


def flee_penalty(ch: Character) -> int:
    """The XP a successful flee costs `ch` (before the floor)."""
    return max(1, level_span(ch.level) * FLEE_PENALTY_PERCENT // 100)


def _grown(rate: float, level: int) -> int:
    """Attribute points a growth `rate` (points per level) gives on reaching `level`."""
    return math.floor(round(rate * level, 6)) - math.floor(round(rate * (level - 1), 6))


def level_up(world: World, ch: Character) -> LevelGained:
    """`ch` gains one level: bigger maximums, attributes, new spells; announced to it."""
    proto = world.content.classes.get(ch.cls)
    ch.level += 1
    grown: dict[str, int] = {}
    hp = mana = moves = 0
    if proto is not None:
        for attr, rate in proto.growth.items():
            n = _grown(rate, ch.level)
            base = ch.attributes.get(attr, 10)
            n = max(0, min(n, 25 - base))
            if n:
                ch.attributes[attr] = base + n
                grown[attr] = n
        hp = max(1, proto.hp_per_level + (rules.attribute(ch, "con") - 12) // 2)
        if proto.mana_per_level:
            mind = max(rules.attribute(ch, "int"), rules.attribute(ch, "wis"))
            mana = max(1, proto.mana_per_level + (mind - 12) // 2)
        moves = proto.moves_per_level
    ch.max_hp += hp
    ch.hp += hp
    ch.max_mana += mana
    ch.mana += mana
    ch.max_moves += moves
    ch.moves += moves
    learned = learn_due(world, ch)
    event = LevelGained(ch.level, hp, mana, moves, grown, learned)
    world.emit_to(ch, event)
    world.touch(ch)
    return event


def learn_due(world: World, ch: Character) -> list[dict[str, Any]]:
    """Teach `ch` every spell and skill of its class up to its level that it lacks."""
    learned: list[dict[str, Any]] = []
    for sid, spell in world.content.spells.items():
        at = spell.classes.get(ch.cls)
        if at is None or at > ch.level or sid in ch.skills:
            continue
        ch.skills[sid] = LEARN_PROFICIENCY
        learned.append({"id": sid, "name": spell.name, "skill": spell.skill})
    return learned


@listens(Entering)
def _entering(world: World, event: Entering) -> None:
    learn_due(world, event.character)  # its class's spells and skills up to its level
