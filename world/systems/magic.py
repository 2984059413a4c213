"""Spells and skills: naming one, the checks, mana, cooldowns, proficiency, what each kind
does, and mobs that fight with their own spells.

Spells and skills are content (`content/spells.yaml`, `world.prototypes.SpellModel`);
a character knows the ids in `ch.skills` (id -> proficiency in percent). Everything
that casts goes through two steps:

- `prepare(world, actor, spell_id, target)` runs every check (known, level, passive,
  cooldown, mana, position, who or what the target is, whether it may be harmed) and
  raises `Refused` before anything changes;
- `perform(world, plan)` spends the mana, sets the cooldown, rolls the proficiency
  (a failure loses the concentration and half the mana) and does the spell's `kind`.

`use()` is the two at once. Potions and scrolls prepare with `via=item`: no mana, no
cooldown, no roll. The `mob_spells` system lets fighting mobs with spells (content
`MobModel.spells`) use one now and then, choosing with the world's RNG.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from world import rules
from world.context import find
from world.entities import Character, Item, Position, Slot
from world.errors import Code, Refused
from world.events import (
    Arrived,
    Departed,
    Healed,
    ItemIdentified,
    Rescued,
    SkillUsed,
    SpellCast,
    SpellFailed,
    SpellHit,
)
from world.prototypes import Content, SpellModel
from world.systems import combat, groups
from world.systems.effects import apply_effect
from world.systems.registry import system

if TYPE_CHECKING:
    from world.world import World

# What a command hands over as the target: a name typed by people, or the thing itself.
TargetArg = Character | Item | str | None

HOSTILE_KINDS = frozenset({"damage", "area", "debuff", "dot", "stun", "bash", "kick",
                           "backstab"})
# Kinds that need the caster on its feet (resting is fine for heals, buffs, recall...).
STANDING_KINDS = HOSTILE_KINDS | {"rescue"}
# Mobs with these behaviours are never caught in an area spell unless they fight you.
BYSTANDERS = frozenset({"shopkeeper", "trainer", "quest_giver", "healer"})
MOB_CAST_CHANCE = 35  # percent, each combat round, that a fighting mob with spells uses one
MOB_HEAL_BELOW = 40  # percent of max hp under which a mob heals itself first

# The targets each kind may take (checked by `check_content`).
KIND_TARGETS: dict[str, frozenset[str]] = {
    "damage": frozenset({"enemy"}),
    "area": frozenset({"room_enemies"}),
    "heal": frozenset({"self", "ally"}),
    "buff": frozenset({"self", "ally"}),
    "debuff": frozenset({"enemy"}),
    "dot": frozenset({"enemy"}),
    "stun": frozenset({"enemy"}),
    "recall": frozenset({"none", "self"}),
    "identify": frozenset({"item"}),
    "passive": frozenset({"none", "self"}),
    "bash": frozenset({"enemy"}),
    "kick": frozenset({"enemy"}),
    "backstab": frozenset({"enemy"}),
    "rescue": frozenset({"ally"}),
}
NEEDS_EFFECT = frozenset({"buff", "debuff", "dot", "stun"})
NEEDS_DICE = frozenset({"damage", "area", "heal"})


def check_content(content: Content) -> list[str]:
    """Problems in the spells of `content` that the schema alone cannot see: a kind
    with the wrong target, a buff without an effect, a potion naming no spell..."""
    problems: list[str] = []
    for sid, spell in content.spells.items():
        if spell.target not in KIND_TARGETS[spell.kind]:
            problems.append(f"spells.{sid}: a {spell.kind} spell takes target "
                            + " or ".join(sorted(KIND_TARGETS[spell.kind])))
        if spell.kind in NEEDS_EFFECT and spell.effect is None:
            problems.append(f"spells.{sid}: a {spell.kind} spell needs an effect")
        if spell.kind in NEEDS_DICE and spell.dice is None:
            problems.append(f"spells.{sid}: a {spell.kind} spell needs dice")
        if spell.kind == "dot" and spell.effect is not None and spell.effect.dot is None:
            problems.append(f"spells.{sid}: a dot spell's effect needs dot dice")
        if spell.kind == "stun" and spell.effect is not None \
                and "stunned" not in spell.effect.flags:
            problems.append(f"spells.{sid}: a stun spell's effect needs the flag stunned")
        if spell.effect is not None and spell.effect.duration <= 0:
            problems.append(f"spells.{sid}: an effect needs a duration")
    for iid, item in content.items.items():
        for sid in item.effects:
            if sid not in content.spells:
                problems.append(f"items.{iid}: effect '{sid}' is not a spell")
    return problems


def display(sid: str, spell: SpellModel | None = None) -> str:
    """The name people read for a spell id."""
    return spell.name if spell is not None else sid.replace("_", " ")


def spell_level(spell: SpellModel, cls: str) -> int | None:
    """The level at which class `cls` learns `spell` (None: never)."""
    return spell.classes.get(cls)


def learnable(content: Content, cls: str, level: int) -> list[str]:
    """The spell ids class `cls` has learned by `level`, in content order."""
    return [sid for sid, sp in content.spells.items()
            if sp.classes.get(cls) is not None and sp.classes[cls] <= level]


# ---- naming a spell ------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.lower().replace("_", " ").replace("'", " ").split()


def _matches(phrase: list[str], sid: str, spell: SpellModel) -> bool:
    for name in (_words(spell.name), _words(sid)):
        if len(phrase) <= len(name) and all(n.startswith(p) for p, n in zip(phrase, name,
                                                                               strict=False)):
            return True
    return False


def find_spell(world: World, actor: Character, spell: str, rest: str = "") -> tuple[str, str]:
    """The spell `actor` means by `spell` (a name, an id or a prefix of one), and the
    words left for the target. Unquoted names may run into `rest`:
    `cast magic missile goblin` is magic_missile at goblin.

    Raises:
        Refused: `unknown_spell`, or `bad_args` when a prefix fits several spells.
    """
    spells = world.content.spells
    words = _words(spell)
    tail = rest.split()
    if not words:
        raise Refused(Code.BAD_ARGS, "Cast what?")
    for extra in range(len(tail), -1, -1):
        phrase = words + [w.lower() for w in tail[:extra]]
        exact = [sid for sid, sp in spells.items()
                 if phrase in (_words(sp.name), _words(sid))]
        if exact:
            return exact[0], " ".join(tail[extra:])
        hits = [sid for sid, sp in spells.items() if _matches(phrase, sid, sp)]
        known = [sid for sid in hits if sid in actor.skills]
        pick = known or hits
        if len(pick) == 1:
            return pick[0], " ".join(tail[extra:])
        if len(pick) > 1 and extra == 0:
            names = ", ".join(display(s, spells[s]) for s in pick[:6])
            raise Refused(Code.BAD_ARGS, f"Which one: {names}?")
    raise Refused(Code.UNKNOWN_SPELL, f"There is no spell or skill called '{spell[:40]}'.")


# ---- checks and targets -----------------------------------------------------------


@dataclass(slots=True)
class Plan:
    """A checked spell, ready to happen."""

    actor: Character
    sid: str
    spell: SpellModel
    victims: list[Character] = field(default_factory=list)
    item: Item | None = None  # identify's target
    via: Item | None = None  # the potion or scroll it comes from


def _same_group(a: Character, b: Character) -> bool:
    if b.following is a:
        return True  # a follower (a charmed mob, a pet) is never an enemy
    leader = groups.leader_of(a)
    return leader is not None and leader is groups.leader_of(b)


def _character(world: World, actor: Character, word: str) -> Character:
    if word.lower() in ("me", "self"):
        return actor
    found = find(word, world.rooms[actor.room].characters)
    if found is None:
        raise Refused(Code.NOT_HERE, f"You see no '{word[:40]}' here.")
    return found


def _item(world: World, actor: Character, word: str) -> Item:
    places: list[Item] = [*actor.inventory, *actor.equipment.values(),
                          *world.rooms[actor.room].items]
    found = find(word, places)
    if found is None:
        raise Refused(Code.NOT_HERE, f"You have or see no '{word[:40]}'.")
    return found


def room_enemies(world: World, actor: Character) -> list[Character]:
    """Who an area spell of `actor` hits: everyone fighting it (or fought by it), and
    for a player every mob here outside its group (shopkeepers and the like spared)."""
    out: list[Character] = []
    for ch in world.rooms[actor.room].characters:
        if ch is actor or ch.position is Position.DEAD:
            continue
        fighting = ch.fighting is actor or actor.fighting is ch
        stranger = not actor.is_mob and ch.is_mob and not _same_group(actor, ch) \
            and not BYSTANDERS.intersection(ch.behaviours)
        if fighting or stranger:
            out.append(ch)
    return out


def check_caster(world: World, actor: Character, sid: str) -> SpellModel:
    """Whether `actor` may use spell `sid` now (known, level, cooldown, mana, position).

    Raises:
        Refused: unknown_spell, not_learned, level_too_low, bad_args (passive),
            cooldown, no_mana or position.
    """
    spell = world.content.spells.get(sid)
    if spell is None:
        raise Refused(Code.UNKNOWN_SPELL, f"There is no spell or skill called '{sid[:40]}'.")
    what = display(sid, spell)
    if sid not in actor.skills:
        raise Refused(Code.NOT_LEARNED, f"You don't know how to {what}."
                      if spell.skill else f"You don't know the spell {what}.")
    needed = spell_level(spell, actor.cls)
    if not actor.is_mob and needed is not None and actor.level < needed:
        raise Refused(Code.LEVEL_TOO_LOW, f"You need to be level {needed} to use {what}.")
    if spell.kind == "passive":
        raise Refused(Code.BAD_ARGS, f"{what.capitalize()} works by itself; there is nothing "
                                     "to cast.")
    ready = actor.cooldowns.get(sid, 0)
    if ready > world.time:
        secs = (ready - world.time + 9) // 10
        raise Refused(Code.COOLDOWN, f"You can use {what} again in {secs} s.")
    if actor.mana < spell.mana:
        raise Refused(Code.NO_MANA, f"You need {spell.mana} mana for {what}; you have "
                                    f"{actor.mana}.")
    if spell.kind in STANDING_KINDS and actor.position is Position.RESTING:
        raise Refused(Code.POSITION, "You need to stand up first.")
    return spell


def prepare(world: World, actor: Character, sid: str, target: TargetArg = None, *,
            via: Item | None = None, forced: Character | None = None) -> Plan:
    """Check everything about using `sid` on `target`; nothing changes yet.

    Args:
        world: the world.
        actor: who casts, uses the skill, drinks or reads.
        sid: the spell or skill id.
        target: a typed name, a character, an item, or None (your foe, or yourself).
        via: the potion or scroll it comes from (no mana, cooldown or roll).
        forced: the one target, whatever the spell says (a potion: the drinker).

    Raises:
        Refused: with a stable code, before anything changed.
    """
    if via is None:
        spell = check_caster(world, actor, sid)
    else:
        found = world.content.spells.get(sid)
        if found is None:
            raise Refused(Code.UNKNOWN_SPELL, f"There is no spell called '{sid[:40]}'.")
        spell = found
    plan = Plan(actor, sid, spell, via=via)
    what = display(sid, spell)
    if forced is not None:
        plan.victims = [forced]
        if spell.target == "item":
            raise Refused(Code.BAD_TARGET, f"{what.capitalize()} needs an item.")
        return plan
    kind, aim = spell.kind, spell.target
    if aim == "enemy":
        if isinstance(target, Character):
            victim = target
        elif isinstance(target, str) and target:
            victim = _character(world, actor, target)
        elif actor.fighting is not None and actor.fighting.room == actor.room:
            victim = actor.fighting
        else:
            raise Refused(Code.BAD_ARGS, f"Use {what} on whom?")
        combat.check_attack(world, actor, victim)
        if kind == "backstab":
            if actor.fighting is not None:
                raise Refused(Code.POSITION, "You are fighting already: too late to backstab.")
            if victim.fighting is not None:
                raise Refused(Code.BAD_TARGET, f"{victim.name} is fighting and too alert "
                                               "to backstab.")
            weapon = actor.equipment.get(Slot.WIELD)
            if weapon is None or weapon.damage is None:
                raise Refused(Code.NO_WEAPON, "You need to wield a weapon to backstab.")
        plan.victims = [victim]
    elif aim == "ally":
        if isinstance(target, Character):
            plan.victims = [target]
        elif isinstance(target, str) and target:
            plan.victims = [_character(world, actor, target)]
        elif kind == "rescue":
            raise Refused(Code.BAD_ARGS, "Rescue whom?")
        else:
            plan.victims = [actor]
        if kind == "rescue":
            ally = plan.victims[0]
            if ally is actor:
                raise Refused(Code.BAD_TARGET, "You can't rescue yourself.")
            foes = [c for c in world.rooms[actor.room].characters
                    if c.fighting is ally and c is not actor]
            if not foes:
                raise Refused(Code.BAD_TARGET, f"{ally.name} is not under attack.")
            if actor.fighting is ally:
                raise Refused(Code.BAD_TARGET, f"You are the one fighting {ally.name}!")
    elif aim == "self":
        plan.victims = [actor]
    elif aim == "room_enemies":
        if combat.SAFE in world.rooms[actor.room].flags:
            raise Refused(Code.SAFE_ROOM, "This is a place of peace: no fighting here.")
        plan.victims = room_enemies(world, actor)
        if not plan.victims:
            raise Refused(Code.BAD_TARGET, "There are no enemies here.")
    elif aim == "item":
        if isinstance(target, Item):
            plan.item = target
        elif isinstance(target, str) and target:
            plan.item = _item(world, actor, target)
        else:
            raise Refused(Code.BAD_ARGS, f"Use {what} on which item?")
    return plan


# ---- doing it -------------------------------------------------------------------------


def success_chance(actor: Character, sid: str, spell: SpellModel,
                   victim: Character | None = None) -> int:
    """Percent chance that a use succeeds: proficiency, the casting attribute (int or
    wis for spells, dex for skills) and, for skills, the level difference."""
    proficiency = actor.skills.get(sid, 0)
    if spell.skill:
        attr = rules.attribute(actor, "dex")
    else:
        attr = max(rules.attribute(actor, "int"), rules.attribute(actor, "wis"))
    chance = 50 + proficiency // 2 + 3 * (attr - 12)
    if victim is not None and spell.skill:
        chance += 3 * (actor.level - victim.level)
    return max(10, min(98, chance))


def amount(world: World, actor: Character, spell: SpellModel, level: int) -> int:
    """The spell's dice plus its per-level bonus (damage or healing)."""
    base = rules.roll(world.rng, rules.parse_dice(spell.dice)) if spell.dice else 0
    return max(1, base + int(spell.per_level * level))


def _here(world: World, actor: Character, ch: Character) -> bool:
    return combat.present(world, actor, ch)


def use(world: World, actor: Character, sid: str, target: TargetArg = None) -> None:
    """Check, then cast the spell or use the skill `sid` (see `prepare`, `perform`)."""
    perform(world, prepare(world, actor, sid, target))


def perform(world: World, plan: Plan) -> None:
    """Make a prepared spell happen: pay, roll, then the effect of its kind."""
    actor, sid, spell = plan.actor, plan.sid, plan.spell
    room = world.rooms[actor.room]
    level = actor.level
    if plan.victims:
        target_name: str | None = plan.victims[0].name if spell.target != "room_enemies" \
            else None
    else:
        target_name = plan.item.name if plan.item is not None else None
    if not spell.skill and plan.via is None:
        world.emit_room(room, SpellCast(actor.name, str(actor.kind), sid, target_name))
    if plan.via is None:
        if spell.cooldown:
            actor.cooldowns[sid] = world.time + spell.cooldown
        first = plan.victims[0] if plan.victims else None
        if world.rng.randint(1, 100) > success_chance(actor, sid, spell, first):
            if spell.skill:
                _skill_missed(world, actor, sid, first)
            else:
                actor.mana -= spell.mana // 2
                world.touch(actor)
                world.emit_room(room, SpellFailed(actor.name, sid, "concentration"))
            return
        if spell.mana:
            actor.mana -= spell.mana
            world.touch(actor)
    _KINDS[spell.kind](world, plan, level)


def _skill_missed(world: World, actor: Character, sid: str, victim: Character | None) -> None:
    room = world.rooms[actor.room]
    if victim is None or not _here(world, actor, victim):
        world.emit_room(room, SpellFailed(actor.name, sid, "concentration"))
        return
    if sid == "rescue":
        world.emit_room(room, SkillUsed(actor.name, sid, victim.name, False, 0))
        return
    combat.engage(world, actor, victim)
    world.emit_room(room, SkillUsed(actor.name, sid, victim.name, False, 0))


def _after_effect(world: World, plan: Plan, victim: Character, level: int) -> None:
    """A spell's lasting effect on `victim`, when it has one and the victim lives."""
    if plan.spell.effect is not None and _here(world, plan.actor, victim):
        apply_effect(world, victim, plan.spell.effect, plan.actor, source=plan.sid,
                     level=level)


def _damage(world: World, plan: Plan, level: int) -> None:
    actor = plan.actor
    for victim in plan.victims:
        if not _here(world, actor, victim):
            continue
        if victim is not actor:
            combat.engage(world, actor, victim)
        hurt = amount(world, actor, plan.spell, level)
        world.emit_room(world.rooms[actor.room], SpellHit(
            actor.name, plan.sid, victim.name, hurt,
            rules.condition(victim.hp - max(0, hurt), victim.max_hp)))
        if not combat.damage(world, actor, victim, hurt, plan.sid):
            _after_effect(world, plan, victim, level)


def _heal(world: World, plan: Plan, level: int) -> None:
    actor = plan.actor
    for patient in plan.victims:
        if not _here(world, actor, patient):
            continue
        gain = min(amount(world, actor, plan.spell, level), max(0, patient.max_hp - patient.hp))
        patient.hp += gain
        world.touch(patient)
        world.emit_room(world.rooms[actor.room], Healed(actor.name, patient.name, gain,
                                                        plan.sid))
        _after_effect(world, plan, patient, level)


def _effect(world: World, plan: Plan, level: int) -> None:
    actor, spell = plan.actor, plan.spell
    assert spell.effect is not None  # check_content
    for victim in plan.victims:
        if not _here(world, actor, victim):
            continue
        if spell.kind in HOSTILE_KINDS and victim is not actor:
            combat.engage(world, actor, victim)
        if apply_effect(world, victim, spell.effect, actor, source=plan.sid,
                        level=level) is None:
            world.emit_room(world.rooms[actor.room], SpellFailed(actor.name, plan.sid,
                                                                 "no_effect"))


def _recall(world: World, plan: Plan, level: int) -> None:
    actor = plan.actor
    dest = combat.recall_point(world, actor)
    if actor.fighting is not None or actor.id in world.fighters:
        combat.stop_fighting(world, actor)
    old = world.rooms[actor.room]
    if old.id == dest:
        return
    world.emit_room(old, Departed(actor.name, str(actor.kind), None), exclude=actor)
    world.move(actor, dest)
    room = world.rooms[dest]
    world.emit_room(room, Arrived(actor.name, str(actor.kind), None, actor.level),
                    exclude=actor)
    world.emit_to(actor, world.room_view(room, actor))


def item_details(item: Item) -> dict[str, Any]:
    """Everything about an item, as identify shows it."""
    return {
        "name": item.name,
        "keyword": item.keyword,
        "type": str(item.type),
        "weight": item.weight,
        "value": item.value,
        "level": item.level,
        "classes": list(item.classes),
        "slot": item.slot,
        "damage": str(item.damage) if item.damage is not None else None,
        "average_damage": item.damage.average if item.damage is not None else None,
        "two_handed": item.two_handed,
        "armor": item.armor,
        "mods": dict(item.mods),
        "effects": list(item.effects),
        "capacity": item.capacity,
        "flags": sorted(item.flags),
    }


def _identify(world: World, plan: Plan, level: int) -> None:
    if plan.item is not None:
        world.emit_to(plan.actor, ItemIdentified(plan.item.name, item_details(plan.item)))


def _strike(world: World, plan: Plan, level: int) -> None:
    """bash, kick and backstab: a hit of the skill's own, after the roll succeeded."""
    actor, spell = plan.actor, plan.spell
    victim = plan.victims[0]
    if not _here(world, actor, victim):
        return
    room = world.rooms[actor.room]
    combat.engage(world, actor, victim)
    strength = (rules.attribute(actor, "str") - 10) // 3
    if spell.kind == "backstab":
        weapon = actor.equipment.get(Slot.WIELD)
        dice = weapon.damage if weapon is not None and weapon.damage is not None \
            else actor.damage_dice
        base = rules.roll(world.rng, dice) if dice is not None else 1
        hurt = max(1, (base + rules.modifier(actor, "damage") + strength)
                   * (2 + level // 4))
    else:
        hurt = amount(world, actor, spell, level) + max(0, strength)
    world.emit_room(room, SkillUsed(actor.name, plan.sid, victim.name, True, hurt,
                                    rules.condition(victim.hp - max(0, hurt), victim.max_hp)))
    if not combat.damage(world, actor, victim, hurt, plan.sid):
        _after_effect(world, plan, victim, level)


def _rescue(world: World, plan: Plan, level: int) -> None:
    actor, ally = plan.actor, plan.victims[0]
    if not _here(world, actor, ally):
        return
    foes = [c for c in world.rooms[actor.room].characters
            if c.fighting is ally and c is not actor]
    if not foes:
        return
    for foe in foes:
        foe.fighting = actor
        world.mark_vitals(foe)
    if ally.fighting in foes:
        ally.fighting = None
        if ally.position is Position.FIGHTING:
            ally.position = Position.STANDING
        world.fighters.pop(ally.id, None)
        world.mark_vitals(ally)
    if actor.fighting is None or actor.fighting.room != actor.room:
        actor.fighting = foes[0]
    actor.position = Position.FIGHTING
    world.fighters[actor.id] = actor
    world.mark_vitals(actor)
    world.emit_room(world.rooms[actor.room], Rescued(actor.name, ally.name, foes[0].name))


def _passive(world: World, plan: Plan, level: int) -> None:
    """Passive skills do nothing when used (check_caster refuses them anyway)."""


_KINDS = {
    "damage": _damage,
    "area": _damage,
    "heal": _heal,
    "buff": _effect,
    "debuff": _effect,
    "dot": _effect,
    "stun": _effect,
    "recall": _recall,
    "identify": _identify,
    "passive": _passive,
    "bash": _strike,
    "kick": _strike,
    "backstab": _strike,
    "rescue": _rescue,
}


# ---- mobs fight with their spells ---------------------------------------------------


def _has_effect(ch: Character, spell: SpellModel) -> bool:
    return spell.effect is not None and any(e.name == spell.effect.name for e in ch.effects)


def mob_choice(world: World, mob: Character) -> tuple[str, Character] | None:
    """The spell a fighting mob would use now, and on whom (None: just fight)."""
    foe = mob.fighting
    if foe is None:
        return None
    heals: list[str] = []
    buffs: list[str] = []
    attacks: list[str] = []
    for sid in mob.skills:
        spell = world.content.spells.get(sid)
        if spell is None or spell.kind in ("passive", "recall", "identify", "rescue",
                                           "backstab"):
            continue
        ready = mob.cooldowns.get(sid, 0) <= world.time and mob.mana >= spell.mana
        if not ready:
            continue
        if spell.kind == "heal":
            heals.append(sid)
        elif spell.kind == "buff":
            if not _has_effect(mob, spell):
                buffs.append(sid)
        elif spell.kind in ("debuff", "dot", "stun"):
            if not _has_effect(foe, spell) or (spell.effect is not None
                                                and spell.effect.stacking == "stack"):
                attacks.append(sid)
        else:
            attacks.append(sid)
    if heals and mob.hp * 100 < mob.max_hp * MOB_HEAL_BELOW:
        return world.rng.choice(heals), mob
    if buffs:
        return world.rng.choice(buffs), mob
    if attacks:
        return world.rng.choice(attacks), foe
    return None


@system("mob_spells", every=1, order=25)
def mobs_cast(world: World) -> None:
    """Now and then, on its turn in the combat round, each fighting mob that knows spells
    or skills uses one."""
    if not world.fighters:
        return
    for mob in combat.due(world):
        if not mob.is_mob or not mob.skills or mob.fighting is None:
            continue
        if world.mobs.get(mob.id) is not mob or mob.position is Position.DEAD:
            continue
        if mob.effects and rules.has_flag(mob, "stunned"):
            continue
        if world.rng.randint(1, 100) > MOB_CAST_CHANCE:
            continue
        choice = mob_choice(world, mob)
        if choice is None:
            continue
        sid, target = choice
        try:
            use(world, mob, sid, target)
        except Refused:
            continue
