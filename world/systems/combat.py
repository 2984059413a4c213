"""Combat: who fights whom, damage, death. The shared core other systems call.

`engage(world, a, b)` starts a fight; `damage(world, source, victim, amount,
what)` is the one way hit points are lost (weapons, spells, poison alike) and
handles death. Rounds run on a fixed cadence over the set of fighters only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from world import rules
from world.entities import Character, Dice, Item, ItemType, Position, Slot
from world.events import Died, FightStarted, HitLanded, Killed
from world.systems.registry import system

if TYPE_CHECKING:
    from world.world import World

ROUND_TICKS = 20  # a combat round every 2 s at 10 Hz
CORPSE_DECAY = 6000  # ticks a corpse lasts (10 minutes)


def engage(world: World, attacker: Character, victim: Character) -> None:
    """Start (or join) a fight: both sides fight each other if not busy already."""
    started = attacker.fighting is None
    if attacker.fighting is None:
        attacker.fighting = victim
        attacker.position = Position.FIGHTING
        world.mark_vitals(attacker)
    if victim.fighting is None:
        victim.fighting = attacker
        victim.position = Position.FIGHTING
        world.mark_vitals(victim)
    world.fighters[attacker.id] = attacker
    world.fighters[victim.id] = victim
    if started:
        world.emit_room(world.rooms[attacker.room],
                        FightStarted(attacker.name, str(attacker.kind), victim.name,
                                     str(victim.kind)))


def stop_fighting(world: World, ch: Character) -> None:
    """`ch` stops fighting, and whoever fought `ch` turns to another foe or stops."""
    ch.fighting = None
    if ch.position is Position.FIGHTING:
        ch.position = Position.STANDING
    world.fighters.pop(ch.id, None)
    world.mark_vitals(ch)
    for other in list(world.fighters.values()):
        if other.fighting is ch:
            foe = next((c for c in world.rooms[other.room].characters
                        if c.fighting is other and c is not ch), None)
            other.fighting = foe
            if foe is None:
                if other.position is Position.FIGHTING:
                    other.position = Position.STANDING
                world.fighters.pop(other.id, None)
            world.mark_vitals(other)


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


def die(world: World, victim: Character, killer: Character | None) -> None:
    """Death: a corpse with the victim's things, then the mob is gone or the player recalls."""
    room = world.rooms[victim.room]
    victim.position = Position.DEAD
    world.emit_room(room, Died(victim.name, str(victim.kind),
                               killer.name if killer else None, room.id))
    stop_fighting(world, victim)
    corpse = Item(
        id=world.new_id(), proto="", name=f"the corpse of {victim.name}",
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
        world.remove_mob(victim)
        return
    victim.effects.clear()
    victim.hp = max(1, victim.max_hp // 10)
    victim.position = Position.RESTING
    recall = victim.recall if victim.recall in world.rooms else world.content.start_room
    world.move(victim, recall)
    world.emit_to(victim, world.room_view(world.rooms[recall], victim))
    world.touch(victim)


def swing(world: World, attacker: Character, victim: Character) -> None:
    """One attack: hit or miss from level, dexterity and armour; damage from the weapon."""
    weapon = attacker.equipment.get(Slot.WIELD)
    dice = weapon.damage if weapon is not None and weapon.damage else (
        attacker.damage_dice or Dice(1, 3, 0))
    to_hit = 50 + 5 * (attacker.level - victim.level) + rules.modifier(attacker, "hit") \
        + 2 * (rules.attribute(attacker, "dex") - 10) - 2 * rules.armor_class(victim)
    roll = world.rng.randint(1, 100)
    if roll > max(5, min(95, to_hit)):
        world.emit_room(world.rooms[attacker.room],
                        HitLanded(attacker.name, victim.name, 0, "miss", False))
        return
    amount = rules.roll(world.rng, dice) + rules.modifier(attacker, "damage") \
        + (rules.attribute(attacker, "str") - 10) // 3
    critical = roll <= 5
    if critical:
        amount *= 2
    amount = max(1, amount)
    world.emit_room(world.rooms[attacker.room],
                    HitLanded(attacker.name, victim.name, amount,
                              weapon.name if weapon else "hit", critical))
    damage(world, attacker, victim, amount, "melee")


@system("combat_rounds", every=ROUND_TICKS, order=20)
def combat_round(world: World) -> None:
    """Every fighter swings at its foe, if the foe is still here and alive."""
    for ch in list(world.fighters.values()):
        foe = ch.fighting
        if ch.position is Position.DEAD or foe is None:
            world.fighters.pop(ch.id, None)
            continue
        if foe.room != ch.room or foe.position is Position.DEAD:
            stop_fighting(world, ch)
            continue
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
                    break

