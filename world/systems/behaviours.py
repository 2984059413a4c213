"""Mob behaviours: named in content, configured there, run by the tick over active sets only.

A mob prototype lists behaviours by name, each with an optional config map
(`MobModel.behaviours`; the names are `world.prototypes.BEHAVIOURS`):

- `wander` {every: 40, chance: 50}: every `every` ticks, with `chance` percent,
  walk out by a random open exit into a room of its home zone (never through a
  closed door, never into a room flagged `no_mob`). The room sees `departed` and
  `arrived`, as for players.
- `sentinel`: never wanders (wins over `wander`).
- `aggressive` {max_level: null}: attacks a player or agent it can see in its
  room (not in `safe` rooms; not the link-dead; nobody above `max_level`).
- `wimpy` {percent: 20}: tries to flee (`combat.flee`, a chance each combat
  round) when its hit points fall below `percent` of its maximum; a mob's content
  `wimpy` hit points do the same without the behaviour.
- `assist` {kinds: [mob ids]}: joins the fight of a mob of its own prototype (or
  of one of `kinds`) in its room, against that mob's foe.
- `scavenger` {every: 100, chance: 50, max_items: 10}: now and then picks up the
  most valuable item lying in its room (not corpses, not items flagged `no_take`).
- `healer` {amount: 10}: every few seconds, heals the wounded players in its room
  who are not fighting, by `amount` hit points (free: a temple's charity).
- `shopkeeper`, `trainer`, `quest_giver`: no tick work; the commands that serve
  players read them (shops, `practice`, `quest`).

A mob's `short` line is written for the place it lives; `room_line` (world/npcs.py)
shows it only in rooms like its home room (both flagged `indoors`, or both not), so a
snake that "slides through the grass" in the meadow is just "here" if it wanders into
the temple.

Nothing here scans every mob every tick. `World.spawn_mob` signals `MobSpawned`,
and `on_spawn` files the mob into the indexes of `NpcIndex` (world/npcs.py,
`world.npcs`); `World.remove_mob` signals `MobRemoved`, and `on_remove` takes it
out. Wanderers and scavengers sit in a
`Schedule`: buckets keyed by the tick they act next, each mob spread over its
period by its id, so a tick touches only the mobs due then. Aggression looks
only at the rooms where players are; assisting and fleeing look only at
`world.fighters`; healing only at the players. Mobs also roll their loot table
when they spawn: what they carry drops in their corpse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from world import rules
from world.entities import Character, Exit, Item, ItemType, Kind, Position
from world.events import Arrived, Departed, Healed, ItemMoved, MobRemoved, MobSpawned, Walked
from world.systems import combat
from world.systems.registry import listens, system

if TYPE_CHECKING:
    from world.world import World

WANDER_EVERY = 40  # default ticks between wander attempts (4 s at 10 Hz)
WANDER_CHANCE = 50  # default percent chance to move on each attempt
SCAVENGE_EVERY = 100
SCAVENGE_CHANCE = 50
SCAVENGE_MAX_ITEMS = 10
WIMPY_PERCENT = 20
HEAL_EVERY = 30  # ticks between a healer's rounds of its room
HEAL_AMOUNT = 10
AGGRESSION_EVERY = 5  # ticks between looks for prey in the rooms that have players
REACTION_EVERY = 5  # ticks between looks at fights for kin to assist
# The periodic looks run on ticks off each other's (tick % every == phase) and off the
# regeneration and zone-reset ticks (multiples of 10 and 30), so no tick carries them all.
HEAL_PHASE = 15
AGGRESSION_PHASE = 2
REACTION_PHASE = 3
NO_MOB = combat.NO_MOB  # room flag: wandering (and fleeing) mobs never walk in
SAFE = "safe"  # room flag: nobody is attacked here
HIDDEN = frozenset({"invisible", "hidden"})  # effect flags that hide a character from mobs


# ---- config ----------------------------------------------------------------------


def config(mob: Character, behaviour: str) -> dict[str, Any]:
    """The config map of one of `mob`'s behaviours ({} if it has none or lacks it)."""
    return mob.behaviours.get(behaviour) or {}


def _int(cfg: dict[str, Any], key: str, default: int, low: int = 0) -> int:
    """An integer from a config map: `default` if missing or not a number, at least `low`."""
    value = cfg.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return max(low, int(value))


def _wander_every(mob: Character) -> int:
    return _int(config(mob, "wander"), "every", WANDER_EVERY, low=1)


def _scavenge_every(mob: Character) -> int:
    return _int(config(mob, "scavenger"), "every", SCAVENGE_EVERY, low=1)


def kinds(mob: Character) -> frozenset[str]:
    """The prototypes whose fights an `assist` mob joins: its own, and its config `kinds`."""
    listed = config(mob, "assist").get("kinds") or []
    zone = mob.home
    out = {str(k) if ":" in str(k) else f"{zone}:{k}" for k in listed}
    if mob.proto is not None:
        out.add(mob.proto)
    return frozenset(out)


def wimpy_threshold(mob: Character) -> int:
    """Below how many hit points `mob` runs away (0: never)."""
    threshold = mob.wimpy
    if "wimpy" in mob.behaviours:
        percent = _int(config(mob, "wimpy"), "percent", WIMPY_PERCENT)
        threshold = max(threshold, mob.max_hp * percent // 100)
    return threshold


# ---- spawning and removal ----------------------------------------------------------


def on_spawn(world: World, mob: Character) -> None:
    """File a new mob into the active sets its behaviours need, and roll its loot."""
    index = world.npcs
    b = mob.behaviours
    if "wander" in b and "sentinel" not in b:
        every = _wander_every(mob)
        index.wanderers.put(mob, world.time + 1 + mob.id % every)
    if "scavenger" in b:
        every = _scavenge_every(mob)
        index.scavengers.put(mob, world.time + 1 + mob.id % every)
    if "aggressive" in b:
        index.aggressive[mob.id] = mob
    if "assist" in b:
        index.assisters[mob.id] = mob
        for kind in kinds(mob):
            index.assisted[kind] = index.assisted.get(kind, 0) + 1
    if "wimpy" in b or mob.wimpy > 0:
        index.wimpy[mob.id] = mob
    if "healer" in b:
        index.healers[mob.id] = mob
    if mob.proto is not None:
        for loot in world.content.mobs[mob.proto].loot:
            if loot.chance >= 100 or world.rng.randint(1, 100) <= loot.chance:
                mob.inventory.append(world.make_item(loot.item))


def on_remove(world: World, mob: Character) -> None:
    """Take a mob out of every active set."""
    index = world.npcs
    index.wanderers.drop(mob)
    index.scavengers.drop(mob)
    index.aggressive.pop(mob.id, None)
    if index.assisters.pop(mob.id, None) is not None:
        for kind in kinds(mob):
            left = index.assisted.get(kind, 0) - 1
            if left > 0:
                index.assisted[kind] = left
            else:
                index.assisted.pop(kind, None)
    index.wimpy.pop(mob.id, None)
    index.healers.pop(mob.id, None)


@listens(MobSpawned)
def _spawned(world: World, event: MobSpawned) -> None:
    on_spawn(world, event.mob)


@listens(MobRemoved)
def _removed(world: World, event: MobRemoved) -> None:
    on_remove(world, event.mob)


# ---- helpers -----------------------------------------------------------------------


def awake_and_free(mob: Character) -> bool:
    """Whether `mob` can act of its own accord: standing, not fighting, not stunned."""
    if mob.position is not Position.STANDING or mob.fighting is not None:
        return False
    return not any("stunned" in e.flags for e in mob.effects)


def can_see(world: World, viewer: Character, target: Character) -> bool:
    """Whether `viewer` notices `target` (hidden and invisible characters go unseen)."""
    return not any(e.flags & HIDDEN for e in target.effects)


def _open_ways(world: World, mob: Character, zones: set[str]) -> list[Exit]:
    """The exits `mob` may walk through: open, into one of `zones`, not into `no_mob` rooms."""
    ways = []
    for ex in world.rooms[mob.room].exits.values():
        if ex.door is not None and ex.door.closed:
            continue
        room = world.rooms.get(ex.to)
        if room is None or room.zone not in zones or NO_MOB in room.flags:
            continue
        ways.append(ex)
    return ways


def walk(world: World, mob: Character, ex: Exit) -> None:
    """Move `mob` out through `ex`: the rooms see `departed` and `arrived`, and its
    followers come along."""
    old = world.rooms[mob.room]
    world.emit_room(old, Departed(mob.name, str(mob.kind), ex.direction.value), exclude=mob)
    world.move(mob, ex.to)
    world.emit_room(world.rooms[ex.to],
                    Arrived(mob.name, str(mob.kind), ex.direction.opposite.value,
                            mob.level), exclude=mob)
    if mob.followers:  # whoever follows a mob walks after it (world/systems/groups.py)
        world.signal(Walked(mob, old.id, ex.to, ex.direction.value))


def attack(world: World, mob: Character, victim: Character) -> None:
    """`mob` starts a fight with `victim` (a sleeping or resting victim gets up to fight)."""
    if victim.position in (Position.SLEEPING, Position.RESTING):
        victim.position = Position.STANDING
    combat.engage(world, mob, victim)


# ---- systems -----------------------------------------------------------------------


@system("mob_wander", every=1, order=60)
def wander(world: World) -> None:
    """The wanderers due this tick may walk out of their room; each is planned again."""
    schedule = world.npcs.wanderers
    due = schedule.take(world.time)
    if not due:
        return
    rng = world.rng
    for mob in due:
        schedule.put(mob, world.time + _wander_every(mob))
        if not awake_and_free(mob):
            continue
        if rng.random() * 100 >= _int(config(mob, "wander"), "chance", WANDER_CHANCE):
            continue
        here = world.rooms[mob.room]
        zones = {mob.home} if here.zone == mob.home else {mob.home, here.zone}
        ways = _open_ways(world, mob, zones)
        if ways:
            walk(world, mob, ways[rng.randrange(len(ways))] if len(ways) > 1 else ways[0])


def _worth_taking(item: Item) -> bool:
    return item.type is not ItemType.CORPSE and "no_take" not in item.flags


@system("mob_scavenge", every=1, order=61)
def scavenge(world: World) -> None:
    """The scavengers due this tick may pick up the most valuable thing lying about."""
    schedule = world.npcs.scavengers
    due = schedule.take(world.time)
    for mob in due:
        schedule.put(mob, world.time + _scavenge_every(mob))
        if not awake_and_free(mob):
            continue
        cfg = config(mob, "scavenger")
        if len(mob.inventory) >= _int(cfg, "max_items", SCAVENGE_MAX_ITEMS):
            continue
        room = world.rooms[mob.room]
        items = [it for it in room.items if _worth_taking(it)]
        if not items or world.rng.randint(1, 100) > _int(cfg, "chance", SCAVENGE_CHANCE):
            continue
        item = max(items, key=lambda it: it.value)  # the first of the most valuable
        limit = rules.max_carry_weight(mob, rules.attribute(mob, "str"))
        if sum(it.weight for it in mob.inventory) + item.weight > limit:
            continue
        room.items.remove(item)
        mob.inventory.append(item)
        world.emit_room(room, ItemMoved(mob.name, item.name, item.keyword, "got"))


def _prey(world: World, mob: Character, players: list[Character]) -> list[Character]:
    limit = config(mob, "aggressive").get("max_level")
    return [p for p in players
            if p.position is not Position.DEAD and not p.linkdead
            and (not isinstance(limit, int) or p.level <= limit)
            and can_see(world, mob, p)]


def joiners(world: World, ch: Character, target: Character) -> list[Character]:
    """Who would fight `ch` alongside `target` if `ch` attacked it: the mobs here that
    fight `ch` already, the free `assist` mobs whose kin `target` is, and the free
    aggressive mobs that would go for `ch` (outside safe rooms). Only for mob
    targets; `combat.assess` counts them in."""
    if target.kind is not Kind.MOB:
        return []
    room = world.rooms[target.room]
    out: list[Character] = []
    for mob in room.characters:
        if mob is target or mob is ch or mob.kind is not Kind.MOB \
                or mob.position is Position.DEAD:
            continue
        hostile = "aggressive" in mob.behaviours and SAFE not in room.flags \
            and awake_and_free(mob) and bool(_prey(world, mob, [ch]))
        if mob.fighting is ch or hostile or helps(mob, target, ch):
            out.append(mob)
    return out


@system("mob_aggression", every=1, order=30)
def aggression(world: World) -> None:
    """In each room with players in it, aggressive mobs that are free attack one they see."""
    if world.time % AGGRESSION_EVERY != AGGRESSION_PHASE or not world.npcs.aggressive:
        return
    seen: set[str] = set()
    for ch in list(world.characters.values()):
        room_id = ch.room
        if room_id in seen:
            continue
        seen.add(room_id)
        room = world.rooms[room_id]
        if SAFE in room.flags:
            continue
        players = [c for c in room.characters if c.kind is not Kind.MOB]
        for mob in list(room.characters):
            if mob.kind is not Kind.MOB or "aggressive" not in mob.behaviours:
                continue
            if not awake_and_free(mob):
                continue
            prey = _prey(world, mob, players)
            if prey:
                attack(world, mob, prey[world.rng.randrange(len(prey))])


@system("mob_flight", every=1, order=21)
def flight(world: World) -> None:
    """Right after their turn in the combat round, wimpy mobs hurt below their threshold
    try to flee."""
    wimpy = world.npcs.wimpy
    if not wimpy or not world.fighters:
        return
    for ch in combat.due(world):
        if ch.id not in wimpy or ch.fighting is None or ch.position is Position.DEAD:
            continue
        if ch.hp < wimpy_threshold(ch):
            combat.flee(world, ch, wimpy=True)


@system("mob_assist", every=1, order=25)
def assist(world: World) -> None:
    """Free `assist` mobs join the fights of their kin in their room."""
    assisted = world.npcs.assisted
    if world.time % REACTION_EVERY != REACTION_PHASE or not assisted:
        return
    for ch in list(world.fighters.values()):
        if ch.proto in assisted and ch.fighting is not None \
                and ch.position is not Position.DEAD:
            _call_kin(world, ch)


def _call_kin(world: World, fighter: Character) -> None:
    """Free `assist` mobs in the room whose kin `fighter` is join in against its foe."""
    foe = fighter.fighting
    if foe is None or foe.room != fighter.room or foe.position is Position.DEAD:
        return
    for mob in list(world.rooms[fighter.room].characters):
        if mob is not fighter and mob is not foe and mob.kind is Kind.MOB \
                and helps(mob, fighter, foe):
            attack(world, mob, foe)


def helps(mob: Character, fighter: Character, foe: Character) -> bool:
    """Whether `mob` would join `fighter`'s fight against `foe`: a free `assist` mob
    whose kin `fighter` is (and `foe` is not)."""
    if "assist" not in mob.behaviours or not awake_and_free(mob):
        return False
    kin = kinds(mob)
    return fighter.proto in kin and foe.proto not in kin


@system("mob_healing", every=1, order=81)
def healing(world: World) -> None:
    """Healers tend the wounded players in their room who are not fighting."""
    if world.time % HEAL_EVERY != HEAL_PHASE or not world.npcs.healers:
        return
    for ch in list(world.characters.values()):
        if ch.hp >= ch.max_hp or ch.position in (Position.FIGHTING, Position.DEAD):
            continue
        room = world.rooms[ch.room]
        healer = next((m for m in room.characters if m.kind is Kind.MOB
                       and "healer" in m.behaviours and awake_and_free(m)), None)
        if healer is None:
            continue
        amount = min(ch.max_hp - ch.hp, _int(config(healer, "healer"), "amount", HEAL_AMOUNT,
                                             low=1))
        ch.hp += amount
        world.touch(ch)
        world.emit_room(room, Healed(healer.name, ch.name, amount, "healer"))
