"""The one effects system: timed effects on characters, from spells, skills, items and mobs.

`apply_effect(world, target, effect, caster)` puts an effect on a character: an
`EffectModel` from content (a spell's `effect:`) or a ready `Effect`. Effects are
keyed by name and obey their stacking rule:

- `refresh` (the default): a second one renews the first (new duration, mods, damage);
- `stack`: a second one is added beside the first, up to `MAX_STACKS` of a name
  (beyond that the one closest to its end is renewed);
- `ignore`: a second one does nothing while the first lasts.

An effect's `mods` feed `rules.modifier` (hit, damage, armor, attributes...) while
it lasts; its `flags` are read with `rules.has_flag` (`stunned`: no commands and no
swings, `hasted`: an extra attack each round). The `effects` system runs every tick
over `world.affected` only (the characters with an effect that ends or hurts):
damage over time every `period` ticks goes through `combat.damage` (so poison can
kill and the caster gets the kill), and an effect whose time is up ends with an
`effect_ended` event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from world import rules
from world.entities import Character, Effect
from world.events import EffectEnded, EffectStarted, EffectTicked
from world.prototypes import EffectModel
from world.systems import combat
from world.systems.registry import system

if TYPE_CHECKING:
    from world.world import World

MAX_STACKS = 3  # the most effects of one name a `stack` rule allows on one character
STACKING = ("refresh", "stack", "ignore")


def make_effect(world: World, model: EffectModel, *, source: str = "",
                caster: Character | None = None, level: int = 1) -> Effect:
    """A fresh `Effect` from its content model (the damage over time is rolled now,
    plus a point for every 4 levels of the caster)."""
    dot = 0
    if model.dot:
        dot = max(1, rules.roll(world.rng, rules.parse_dice(model.dot)) + level // 4)
    return Effect(
        name=model.name,
        source=source,
        until=world.time + model.duration if model.duration > 0 else None,
        mods=dict(model.mods),
        dot=dot,
        period=model.period,
        flags=frozenset(model.flags),
        caster=caster.name if caster is not None else "",
    )


def apply_effect(world: World, target: Character, effect: EffectModel | Effect,
                 caster: Character | None = None, *, source: str = "",
                 stacking: str | None = None, level: int = 1) -> Effect | None:
    """Put `effect` on `target` by its stacking rule; returns the effect now in force,
    or None when nothing changed (`ignore` with one already there, or an instant model).

    Args:
        world: the world.
        target: who is affected.
        effect: a content `EffectModel` (a spell's effect) or a ready `Effect`.
        caster: who caused it (the killer, should a damage over time kill).
        source: what caused it (a spell id, an item prototype); models only.
        stacking: refresh, stack or ignore; models bring their own, `Effect`s default
            to refresh.
        level: the caster's level (makes damage over time stronger); models only.
    """
    if isinstance(effect, EffectModel):
        if effect.duration <= 0:
            return None  # an instant effect leaves nothing behind
        rule = stacking or effect.stacking
        new = make_effect(world, effect, source=source, caster=caster, level=level)
    else:
        rule = stacking or "refresh"
        new = effect
    if rule not in STACKING:
        raise ValueError(f"unknown stacking rule {rule!r}")
    same = [e for e in target.effects if e.name == new.name]
    refreshed: Effect | None = None
    if same:
        if rule == "ignore":
            return None
        if rule == "refresh" or len(same) >= MAX_STACKS:
            refreshed = min(same, key=_ends)
            refreshed.until = new.until
            refreshed.mods = dict(new.mods)
            refreshed.dot = new.dot
            refreshed.period = new.period
            refreshed.flags = new.flags
            refreshed.caster = new.caster
            refreshed.source = new.source
    in_force = refreshed or new
    if refreshed is None:
        target.effects.append(new)
    if in_force.until is not None or in_force.dot:
        world.affected[target.id] = target
    world.emit_room(world.rooms[target.room], EffectStarted(
        target.name, in_force.name,
        0 if in_force.until is None else in_force.until - world.time,
        dict(in_force.mods), sorted(in_force.flags), refreshed is not None))
    world.mark_vitals(target)
    return in_force


def _ends(effect: Effect) -> float:
    return float("inf") if effect.until is None else effect.until


def remove_effect(world: World, target: Character, effect: Effect) -> None:
    """Take `effect` off `target` now, telling the room."""
    if effect in target.effects:
        target.effects.remove(effect)
        world.emit_room(world.rooms[target.room], EffectEnded(target.name, effect.name))
        world.mark_vitals(target)


def remove_effects(world: World, target: Character, name: str) -> int:
    """Take every effect called `name` off `target`; returns how many went."""
    gone = [e for e in target.effects if e.name == name]
    for effect in gone:
        remove_effect(world, target, effect)
    return len(gone)


def caster_of(world: World, victim: Character, name: str) -> Character | None:
    """The character called `name`: in the victim's room first, then online."""
    if not name:
        return None
    room = world.rooms.get(victim.room)
    if room is not None:
        for ch in room.characters:
            if ch.name == name and ch is not victim:
                return ch
    return world.find_online(name)


@system("effects", every=1, order=30)
def tick_effects(world: World) -> None:
    """Damage over time and expiry, for the characters in `world.affected` only."""
    now = world.time
    for cid, ch in list(world.affected.items()):
        if not combat.in_world(world, ch):
            del world.affected[cid]
            continue
        for effect in list(ch.effects):
            if effect not in ch.effects:
                continue  # a death this tick took it already
            until = effect.until
            if effect.dot and (until is None or now < until) and \
                    ((until if until is not None else 0) - now) % effect.period == 0:
                world.emit_room(world.rooms[ch.room],
                                EffectTicked(ch.name, effect.name, effect.dot))
                room = ch.room
                died = combat.damage(world, caster_of(world, ch, effect.caster), ch,
                                     effect.dot, effect.name)
                if died or ch.room != room or not combat.in_world(world, ch):
                    break
            if until is not None and now >= until:
                remove_effect(world, ch, effect)
        if not any(e.until is not None or e.dot for e in ch.effects):
            world.affected.pop(cid, None)
