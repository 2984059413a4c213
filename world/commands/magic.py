"""Spells and skills as commands: cast, the combat skills, spells/skills lists, quaff, recite.

The rules live in `world/systems/magic.py` (checks, mana, cooldowns, what each kind
does) and `world/systems/effects.py` (lasting effects); these commands name things
the way people type them and hand over.
"""

from __future__ import annotations

from typing import Annotated, Any

from world.commands.registry import Target, Text, Word, command
from world.entities import Item, ItemType
from world.errors import Code, Refused
from world.events import ItemUsed, SpellsListed
from world.systems import magic
from world.world import Ctx


@command("cast", aliases=("c",), category="magic",
         examples=("cast 'magic missile' goblin", "cast magic goblin", "cast 'cure light'",
                   "cast armor Ann", "cast identify sword", "cast fireball"))
def cast(ctx: Ctx,
         spell: Annotated[Word, "the spell: its name or the start of it ('magic missile', "
                                "magic)"],
         target: Annotated[Text | None, "who or what to cast it at; your foe or yourself "
                                        "if empty"] = None) -> None:
    """Cast a spell you know, at someone, at something, or at no one.

    Quote a name of several words, or type the start of it:
    `cast 'magic missile' goblin`, `cast magic goblin`, `cast 'cure light' Ann`.
    Harmful spells go at your foe when you name no one and start a fight with anyone
    else; healing and protection go on yourself when you name no one. Casting spends
    mana; a spell that fails (you lose your concentration) costs half. Some spells
    need a while before they can be cast again. Type `spells` to see yours.
    `c` is short for `cast` (`c magic goblin`), as in most MUDs.
    """
    sid, rest = magic.find_spell(ctx.world, ctx.actor, spell, target or "")
    magic.use(ctx.world, ctx.actor, sid, rest or None)


@command("bash", category="combat", examples=("bash goblin", "bash"))
def bash(ctx: Ctx, target: Annotated[Target | None, "whom to bash; your foe if empty"] = None
         ) -> None:
    """Slam into a foe: some damage and a round stunned (warriors).

    Starts a fight when you are not in one. Needs a while before the next bash.
    """
    magic.use(ctx.world, ctx.actor, "bash", target or None)


@command("kick", category="combat", examples=("kick goblin", "kick"))
def kick(ctx: Ctx, target: Annotated[Target | None, "whom to kick; your foe if empty"] = None
         ) -> None:
    """Kick a foe for a little extra damage between your blows (warriors, rogues)."""
    magic.use(ctx.world, ctx.actor, "kick", target or None)


@command("backstab", aliases=("bs",), category="combat", examples=("backstab guard",))
def backstab(ctx: Ctx, target: Annotated[Target, "whom to stab in the back"]) -> None:
    """Open a fight with a blade in someone's back (rogues): big damage.

    Only to start a fight: not while you fight, not at someone already fighting.
    You need a wielded weapon; the damage is its roll, times two (and once more
    every four levels).
    """
    magic.use(ctx.world, ctx.actor, "backstab", target)


@command("rescue", category="combat", examples=("rescue Ann",))
def rescue(ctx: Ctx, target: Annotated[Target, "who to rescue"]) -> None:
    """Step in front of someone under attack: their foes fight you instead (warriors)."""
    magic.use(ctx.world, ctx.actor, "rescue", target)


def _listing(ctx: Ctx, skills: bool) -> list[dict[str, Any]]:
    ch = ctx.actor
    world = ctx.world
    rows: list[dict[str, Any]] = []
    for sid, spell in world.content.spells.items():
        if spell.skill != skills:
            continue
        level = magic.spell_level(spell, ch.cls)
        if sid not in ch.skills and level is None:
            continue
        rows.append({
            "id": sid,
            "name": spell.name,
            "kind": spell.kind,
            "target": spell.target,
            "level": level,
            "mana": spell.mana,
            "cooldown": spell.cooldown,
            "learned": sid in ch.skills,
            "proficiency": ch.skills.get(sid, 0),
            "ready_in": max(0, ch.cooldowns.get(sid, 0) - world.time),
        })
    rows.sort(key=lambda r: (not r["learned"], r["level"] or 0, r["id"]))
    return rows


@command("spells", category="information", sleeping_ok=True, examples=("spells",))
def spells(ctx: Ctx) -> None:
    """List your spells, with their level, mana and what is still to learn."""
    ctx.tell(SpellsListed(False, _listing(ctx, skills=False)))


@command("skills", category="information", sleeping_ok=True, examples=("skills",))
def skills(ctx: Ctx) -> None:
    """List your skills (bash, kick, backstab, rescue, dodge...), learned and to come."""
    ctx.tell(SpellsListed(True, _listing(ctx, skills=True)))


def _usable(ctx: Ctx, word: str, kind: ItemType, verb: str) -> Item:
    item = ctx.item_carried(word)
    if item is None:
        raise Refused(Code.NOT_CARRIED, f"You carry no '{word[:40]}'.")
    if item.type is not kind:
        raise Refused(Code.BAD_TARGET, f"You can't {verb} {item.name}.")
    if item.level > ctx.actor.level:
        raise Refused(Code.LEVEL_TOO_LOW, f"You need to be level {item.level} to {verb} "
                                          f"{item.name}.")
    return item


@command("quaff", category="magic", examples=("quaff potion",))
def quaff(ctx: Ctx, potion: Annotated[Target, "the potion you carry"]) -> None:
    """Drink a potion: its spells take effect on you, and it is gone."""
    item = _usable(ctx, potion, ItemType.POTION, "drink")
    plans = [magic.prepare(ctx.world, ctx.actor, sid, None, via=item, forced=ctx.actor)
             for sid in item.effects]
    ctx.actor.inventory.remove(item)
    ctx.tell_room(ItemUsed(ctx.actor.name, item.name, "quaffed"), include_actor=True)
    for plan in plans:
        magic.perform(ctx.world, plan)


@command("recite", category="magic", examples=("recite scroll", "recite scroll goblin"))
def recite(ctx: Ctx, scroll: Annotated[Target, "the scroll you carry"],
           target: Annotated[Text | None, "who or what its spell is for"] = None) -> None:
    """Read a scroll aloud: its spells are cast as if by you, and it crumbles.

    A harmful scroll goes at your foe when you name no one; others at yourself.
    """
    item = _usable(ctx, scroll, ItemType.SCROLL, "recite")
    plans = [magic.prepare(ctx.world, ctx.actor, sid, target or None, via=item)
             for sid in item.effects]
    ctx.actor.inventory.remove(item)
    ctx.tell_room(ItemUsed(ctx.actor.name, item.name, "recited"), include_actor=True)
    for plan in plans:
        magic.perform(ctx.world, plan)
