"""Combat: who may fight whom, hits and misses, damage, fleeing, death. The shared core.

- `check_attack` (or `can_attack`) holds the rules on who may attack whom: not
  yourself, nobody in `safe` rooms, players only in `pvp` rooms, never a
  shopkeeper. Commands, spells and skills all ask it.
- `engage(world, a, b)` starts a fight (a resting or sleeping victim gets up and
  fights); `retarget` turns a fighter on another foe; `stop_fighting` takes one
  out of its fight, and whoever fought it turns to another foe or stands down.
- `damage(world, source, victim, amount, what)` is the one way hit points are
  lost (weapons, spells, poison alike) and handles death (`die`): a corpse with
  the victim's things and gold; then a mob is gone, and a player loses XP (never
  a level) and wakes at its recall point.
- `swing` is one melee attack. To hit: 50 % + 5 per level above the victim +
  the class's `hit` + `hit` mods + 2 per dexterity point over 10 - 2 per point of
  the victim's armour, kept within 5..95 %. A roll of 5 or less is a critical hit
  (double damage). Damage: the wielded weapon's dice (a mob's own dice, or fists
  1d3) + `damage` mods + (strength - 10) / 3. The passive `dodge` skill may avoid
  a hit.
- Rounds run over `world.fighters` only: everyone fighting someone in its room
  swings `attacks_per_round` times (warriors a second time from level 10,
  `hasted` one more; the `stunned` not at all) once every `ROUND_TICKS`. A
  player hurt below its `wimpy` tries to flee. The round is staggered: each
  fighter has its turn on the ticks where `world.time % ROUND_TICKS` equals its
  `id % ROUND_TICKS` (`due`), so every fighter keeps the 2-second
  cadence but the swings of many fights are spread over the ticks instead of
  all landing on one (the tick's p99 stays flat with hundreds fighting). The
  systems that act "once a round" for a fighter (mob spells, wimpy mobs
  fleeing) follow the same turns.
- `flee`: a chance from dexterity and the level difference; out by a random
  open exit; costs XP (progression.py). A mob flees only within its zones.
- `assess` is the arithmetic behind `consider`: expected damage each way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from world import rules
from world.entities import Character, Dice, Item, ItemType, Kind, Position, Slot
from world.errors import Code, Refused
from world.events import (
    Arrived,
    Decayed,
    Died,
    Displaced,
    Dodged,
    FightStarted,
    Fled,
    HitLanded,
    Killed,
    Leaving,
)
from world.systems import groups, progression
from world.systems.registry import listens, system

if TYPE_CHECKING:
    from world.world import World

ROUND_TICKS = 20  # a combat round every 2 s at 10 Hz
CORPSE_DECAY = 6000  # ticks a corpse lasts (10 minutes)
SAFE = "safe"  # room flag: no one may start a fight here
PVP = "pvp"  # room flag: players may fight players here
RECALL = "recall"  # room flag: where the dead wake (when they set no recall point)
NO_MOB = "no_mob"  # room flag: mobs never walk in (nor flee in)
FLEE_LAG = 10  # ticks after a failed flee before the next try
CRITICAL = 5  # a to-hit roll this low is a critical hit
EXTRA_ATTACK_LEVEL: dict[str, int] = {"warrior": 10}  # class -> level of the second attack
FISTS = Dice(1, 3, 0)
NEVER = 999  # rounds, when a side does no damage


# ---- who may fight whom ----------------------------------------------------------


def in_world(world: World, ch: Character) -> bool:
    """Whether `ch` is still in the world (not a dead, purged or departed one)."""
    if ch.kind is Kind.MOB:
        return world.mobs.get(ch.id) is ch
    return world.characters.get(ch.name.lower()) is ch


def present(world: World, ch: Character, other: Character) -> bool:
    """Whether `other` is alive, in the world and in `ch`'s room."""
    return (other.room == ch.room and other.position is not Position.DEAD
            and in_world(world, other))


def can_attack(world: World, attacker: Character, victim: Character) -> tuple[Code, str] | None:
    """Why `attacker` may not attack `victim` (a code and a sentence), or None if it may."""
    if victim is attacker:
        return Code.BAD_TARGET, "You can't attack yourself."
    if victim.position is Position.DEAD:
        return Code.BAD_TARGET, f"{victim.name} is already dead."
    room = world.rooms[attacker.room]
    if SAFE in room.flags:
        return Code.SAFE_ROOM, "This is a place of peace: no fighting here."
    if not attacker.is_mob and not victim.is_mob and PVP not in room.flags:
        return Code.NO_PVP, "You may fight other players only where the room allows it."
    if "shopkeeper" in victim.behaviours:
        return Code.BAD_TARGET, f"{victim.name[:1].upper()}{victim.name[1:]} is under the " \
                                "town's protection."
    return None


def check_attack(world: World, attacker: Character, victim: Character) -> None:
    """Raise `Refused` if `attacker` may not attack `victim`."""
    why = can_attack(world, attacker, victim)
    if why is not None:
        raise Refused(*why)


# ---- starting and stopping -------------------------------------------------------


def _fight(world: World, ch: Character, foe: Character) -> None:
    ch.fighting = foe
    ch.position = Position.FIGHTING  # a resting or sleeping one gets up to fight
    world.fighters[ch.id] = ch
    world.mark_vitals(ch)


def engage(world: World, attacker: Character, victim: Character) -> None:
    """Start (or join) a fight: both sides fight each other if not busy already."""
    started = attacker.fighting is None
    if attacker.fighting is None:
        _fight(world, attacker, victim)
    if victim.fighting is None:
        _fight(world, victim, attacker)
    world.fighters[attacker.id] = attacker
    world.fighters[victim.id] = victim
    if started:
        world.emit_room(world.rooms[attacker.room],
                        FightStarted(attacker.name, str(attacker.kind), victim.name,
                                     str(victim.kind)))


def retarget(world: World, ch: Character, foe: Character) -> None:
    """`ch`, already fighting, turns on `foe` instead (who fights back if free)."""
    if ch.fighting is None:
        engage(world, ch, foe)
        return
    if ch.fighting is foe:
        return
    _fight(world, ch, foe)
    if foe.fighting is None:
        _fight(world, foe, ch)
    world.emit_room(world.rooms[ch.room],
                    FightStarted(ch.name, str(ch.kind), foe.name, str(foe.kind)))


def _next_foe(world: World, ch: Character, exclude: Character | None) -> Character | None:
    """Someone else in `ch`'s room who is fighting `ch`."""
    room = world.rooms.get(ch.room)
    if room is None:
        return None
    for c in room.characters:
        if c.fighting is ch and c is not exclude and c.position is not Position.DEAD:
            return c
    return None


def _stand_down(world: World, ch: Character) -> None:
    ch.fighting = None
    if ch.position is Position.FIGHTING:
        ch.position = Position.STANDING
    world.fighters.pop(ch.id, None)
    world.mark_vitals(ch)


def stop_fighting(world: World, ch: Character) -> None:
    """`ch` stops fighting, and whoever fought `ch` turns to another foe or stops."""
    _stand_down(world, ch)
    for other in list(world.fighters.values()):
        if other.fighting is ch:
            foe = _next_foe(world, other, ch)
            if foe is None:
                _stand_down(world, other)
            else:
                other.fighting = foe
                world.mark_vitals(other)


# ---- damage and death ------------------------------------------------------------


def damage(world: World, source: Character | None, victim: Character, amount: int,
           what: str) -> bool:
    """Take `amount` hit points from `victim` (from `source`, by `what`); True if it died."""
    if victim.position is Position.DEAD:
        return False
    amount = max(0, amount)
    victim.hp -= amount
    world.touch(victim)
    if victim.hp <= 0:
        die(world, victim, source)
        return True
    return False


def recall_point(world: World, ch: Character) -> str:
    """Where `ch` recalls to: its own point, else a `recall` room (its zone's first), else
    the start room."""
    if ch.recall in world.rooms:
        return ch.recall
    here = world.rooms.get(ch.room)
    fallback = None
    for rid, room in world.rooms.items():
        if RECALL in room.flags:
            if here is not None and room.zone == here.zone:
                return rid
            fallback = fallback or rid
    return fallback or world.content.start_room


def die(world: World, victim: Character, killer: Character | None) -> None:
    """Death: a corpse with the victim's things, then the mob is gone or the player recalls
    (losing `progression.death_penalty` XP, never a level)."""
    room = world.rooms[victim.room]
    victim.position = Position.DEAD
    corpse_name = f"the corpse of {victim.name}"
    world.emit_room(room, Died(victim.name, str(victim.kind),
                               killer.name if killer else None, room.id, corpse_name))
    stop_fighting(world, victim)
    corpse = Item(
        id=world.new_id(), proto="", name=corpse_name,
        keywords=("corpse", *victim.keywords, victim.name.lower()),
        description=f"The body of {victim.name} lies here, still and cold.",
        short=f"The corpse of {victim.name} lies here.", weight=100, type=ItemType.CORPSE,
        capacity=10_000, decay_at=world.time + CORPSE_DECAY,
        owner=None if victim.is_mob else victim.name,
    )
    corpse.contents.extend(victim.inventory)
    victim.inventory = []
    if victim.is_mob:
        corpse.contents.extend(victim.equipment.values())
        victim.equipment.clear()
    corpse.gold, victim.gold = victim.gold, 0
    room.items.append(corpse)
    world.decaying[corpse.id] = corpse
    world.signal(Killed(victim, killer, room.id))
    if victim.is_mob:
        if victim.followers or victim.following is not None:
            groups.release(world, victim)
        world.remove_mob(victim)
        return
    progression.lose_xp(world, victim, progression.death_penalty(victim), "death")
    victim.effects.clear()
    victim.hp = max(1, victim.max_hp // 10)
    victim.position = Position.RESTING
    recall = recall_point(world, victim)
    world.move(victim, recall)
    world.emit_room(world.rooms[recall],
                    Arrived(victim.name, str(victim.kind), None, victim.level), exclude=victim)
    world.emit_to(victim, world.room_view(world.rooms[recall], victim))
    world.touch(victim)


# ---- attacks ---------------------------------------------------------------------


def weapon_of(ch: Character) -> tuple[Dice, str]:
    """The dice `ch` hits with and what to call them (a weapon's name, or "hit")."""
    weapon = ch.equipment.get(Slot.WIELD)
    if weapon is not None and weapon.damage:
        return weapon.damage, weapon.name
    return ch.damage_dice or FISTS, "hit"


def hit_chance(world: World, attacker: Character, victim: Character) -> int:
    """Percent chance that a swing of `attacker` hits `victim` (5..95)."""
    proto = world.content.classes.get(attacker.cls) if not attacker.is_mob else None
    to_hit = 50 + 5 * (attacker.level - victim.level) + rules.modifier(attacker, "hit") \
        + (proto.hit if proto is not None else 0) \
        + 2 * (rules.attribute(attacker, "dex") - 10) - 2 * rules.armor_class(victim)
    return max(CRITICAL, min(95, to_hit))


def damage_bonus(ch: Character) -> int:
    """What `ch` adds to every hit: `damage` mods and strength."""
    return rules.modifier(ch, "damage") + (rules.attribute(ch, "str") - 10) // 3


def attacks_per_round(world: World, ch: Character) -> int:
    """Swings in a round: 1, a second for warriors from level 10, one more when hasted,
    none when stunned."""
    if ch.effects and rules.has_flag(ch, "stunned"):
        return 0
    n = 1
    extra_at = EXTRA_ATTACK_LEVEL.get(ch.cls)
    if not ch.is_mob and extra_at is not None and ch.level >= extra_at:
        n += 1
    if ch.effects and rules.has_flag(ch, "hasted"):
        n += 1
    return n


def swing(world: World, attacker: Character, victim: Character) -> None:
    """One attack: hit or miss from level, dexterity and armour; damage from the weapon."""
    dice, weapon = weapon_of(attacker)
    room = world.rooms[attacker.room]
    roll = world.rng.randint(1, 100)
    if roll > hit_chance(world, attacker, victim):
        world.emit_room(room, HitLanded(attacker.name, victim.name, 0, "miss", False,
                                        rules.condition(victim.hp, victim.max_hp)))
        return
    if victim.skills.get("dodge") and world.rng.randint(1, 100) <= rules.dodge_chance(victim):
        world.emit_room(room, Dodged(victim.name, attacker.name))
        return  # the passive dodge skill (magic)
    amount = rules.roll(world.rng, dice) + damage_bonus(attacker)
    critical = roll <= CRITICAL
    if critical:
        amount *= 2
    amount = max(1, amount)
    world.emit_room(room, HitLanded(attacker.name, victim.name, amount, weapon, critical,
                                    rules.condition(victim.hp - amount, victim.max_hp)))
    if not damage(world, attacker, victim, amount, "melee"):
        wimpy_check(world, victim)


# ---- fleeing ---------------------------------------------------------------------


def flee_chance(world: World, ch: Character) -> int:
    """Percent chance that `ch` gets away: 50 + 3 per dexterity point over 10 + 5 per
    level above its foe, kept within 10..95."""
    foe = ch.fighting
    diff = ch.level - foe.level if foe is not None else 0
    chance = 50 + 3 * (rules.attribute(ch, "dex") - 10) + 5 * diff
    return max(10, min(95, chance))


def _escape_routes(world: World, ch: Character) -> list[tuple[str, str]]:
    """(direction, room id) of the open exits `ch` may run through."""
    room = world.rooms[ch.room]
    out: list[tuple[str, str]] = []
    for direction, ex in room.exits.items():
        if ex.door is not None and ex.door.closed:
            continue
        to = world.rooms.get(ex.to)
        if to is None:
            continue
        if ch.is_mob and (NO_MOB in to.flags or to.zone not in (room.zone, ch.home)):
            continue
        out.append((direction.value, ex.to))
    return out


def flee(world: World, ch: Character, *, wimpy: bool = False) -> bool:
    """`ch` tries to run from its fight; True if it got away.

    The room sees `fled` either way. Getting away stops the fight, costs a player
    `progression.flee_penalty` XP and takes it out by a random open exit.
    """
    room = world.rooms[ch.room]
    routes = _escape_routes(world, ch)
    roll = world.rng.randint(1, 100)
    if not routes or roll > flee_chance(world, ch):
        world.emit_room(room, Fled(ch.name, str(ch.kind), None, False, wimpy, 0))
        return False
    direction, to = routes[world.rng.randrange(len(routes))] if len(routes) > 1 else routes[0]
    stop_fighting(world, ch)
    cost = 0 if ch.is_mob else min(progression.flee_penalty(ch),
                                   max(0, ch.xp - rules.xp_for_level(ch.level)))
    world.emit_room(room, Fled(ch.name, str(ch.kind), direction, True, wimpy, cost))
    progression.lose_xp(world, ch, cost, "flee")
    world.move(ch, to)
    back = next((d.value for d, ex in world.rooms[to].exits.items() if ex.to == room.id), None)
    world.emit_room(world.rooms[to], Arrived(ch.name, str(ch.kind), back, ch.level),
                    exclude=ch)
    world.emit_to(ch, world.room_view(world.rooms[to], ch))
    return True


def wimpy_check(world: World, ch: Character) -> bool:
    """A player (or agent) hurt below its wimpy, still fighting, tries to flee; True if
    it tried. (Mobs flee by their own `wimpy` through the behaviours system.)"""
    if ch.is_mob or ch.wimpy <= 0 or ch.hp >= ch.wimpy or ch.fighting is None:
        return False
    if ch.position is Position.DEAD:
        return False
    flee(world, ch, wimpy=True)
    return True


# ---- judging a fight -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assessment:
    """How a fight between two characters would go, in expected values."""

    verdict: str  # easy, fair, risky, deadly
    hit_chance: int
    damage_per_round: float
    damage_taken_per_round: float
    rounds_to_win: int
    rounds_to_lose: int
    joined_by: tuple[str, ...] = ()  # the others who would fight on the target's side


def expected_damage(world: World, attacker: Character, victim: Character) -> float:
    """What `attacker` does to `victim` in a round, on average."""
    dice, _ = weapon_of(attacker)
    per_hit = max(1.0, dice.average + damage_bonus(attacker))
    chance = hit_chance(world, attacker, victim) / 100
    dodge = rules.dodge_chance(victim) / 100 if victim.skills.get("dodge") else 0.0
    per_swing = (chance * per_hit + CRITICAL / 100 * per_hit) * (1 - dodge)
    return per_swing * attacks_per_round(world, attacker)


def _rounds(hp: int, per_round: float) -> int:
    if per_round <= 0:
        return NEVER
    return min(NEVER, max(1, math.ceil(hp / per_round)))


def assess(world: World, ch: Character, target: Character,
           joiners: Sequence[Character] = ()) -> Assessment:
    """`ch` sizes up `target`: rounds each side needs to win, as of now.

    `joiners` are the others who would fight `ch` alongside `target` (its pack, the
    aggressive, those already at `ch`'s throat: `behaviours.joiners`): `ch` takes
    all their blows and has to beat them all, so they count on both sides.
    The verdict compares them: `easy` if `ch` would last three times as long as it
    needs, `fair` if half again as long, `risky` if about as long, else `deadly`.
    """
    mine = expected_damage(world, ch, target)
    theirs = expected_damage(world, target, ch)
    win = _rounds(target.hp, mine)
    for other in joiners:
        theirs += expected_damage(world, other, ch)
        win = min(NEVER, win + _rounds(other.hp, expected_damage(world, ch, other)))
    lose = _rounds(ch.hp, theirs)
    ratio = lose / win
    verdict = ("easy" if ratio >= 3 else "fair" if ratio >= 1.5
               else "risky" if ratio >= 0.8 else "deadly")
    return Assessment(verdict, hit_chance(world, ch, target), round(mine, 1), round(theirs, 1),
                      win, lose, tuple(other.name for other in joiners))


# ---- the tick --------------------------------------------------------------------


def due(world: World) -> list[Character]:
    """The fighters whose turn in the round is this tick, in the order they joined."""
    phase = world.time % ROUND_TICKS
    return [ch for ch in world.fighters.values() if ch.id % ROUND_TICKS == phase]


@system("combat_rounds", every=1, order=20)
def combat_round(world: World) -> None:
    """The fighters whose turn it is swing at their foe (or at another who fights them, if
    their foe left): each fighter once every `ROUND_TICKS`, not all on the same tick."""
    if not world.fighters:
        return
    for ch in due(world):
        if world.fighters.get(ch.id) is not ch:
            continue  # out of the fight since the round began
        if ch.position is Position.DEAD or not in_world(world, ch):
            stop_fighting(world, ch)
            continue
        foe = ch.fighting
        if foe is None or not present(world, ch, foe):
            foe = _next_foe(world, ch, None)
            if foe is None:
                _stand_down(world, ch)
                continue
            ch.fighting = foe
            world.mark_vitals(ch)
        if wimpy_check(world, ch):
            continue
        for _ in range(attacks_per_round(world, ch)):
            foe = ch.fighting
            if foe is None or not present(world, ch, foe):
                break
            swing(world, ch, foe)


@system("decay", every=50, order=95)
def decay(world: World) -> None:
    """Corpses (and anything else with a decay time) crumble away."""
    for item_id, item in list(world.decaying.items()):
        if item.decay_at is not None and world.time >= item.decay_at:
            del world.decaying[item_id]
            for room in world.rooms.values():
                if item in room.items:
                    room.items.remove(item)  # and what was left in it goes with it
                    world.emit_room(room, Decayed(item.name, item.keyword))
                    break


def withdraw(world: World, ch: Character) -> None:
    """`ch` leaves the world: out of any fight; its following and its group undone."""
    if ch.fighting is not None or ch.id in world.fighters:
        stop_fighting(world, ch)
    groups.release(world, ch)


@listens(Leaving)
def _left(world: World, event: Leaving) -> None:
    withdraw(world, event.character)


@listens(Displaced)
def _displaced(world: World, event: Displaced) -> None:
    ch = event.character
    if ch.fighting is not None or ch.id in world.fighters:
        stop_fighting(world, ch)
