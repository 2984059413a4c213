"""Trainers: `practice` lists what a trainer here can teach you; `practice <skill>` improves it.

A trainer is a mob with the `trainer` behaviour. Its config (all optional):
`teaches` (spell and skill ids; all of the student's class if absent), `price`
(gold per practice and per level of the skill, default 10) and `max` (the
proficiency practice can reach, default 75; use does the rest).
"""

from __future__ import annotations

from typing import Annotated, Any

from world import rules
from world.commands.registry import Text, command
from world.entities import Character, Kind, Position
from world.errors import Code, Refused
from world.events import GoldChanged, Practiced, PracticeListed
from world.prototypes import SpellModel
from world.world import Ctx

PRICE = 10  # gold per practice, times the level the skill is learned at
MAX = 75  # the proficiency practice can reach


def _trainer(ctx: Ctx) -> Character:
    for ch in ctx.room.characters:
        if ch.kind is Kind.MOB and "trainer" in ch.behaviours:
            return ch
    raise Refused(Code.NO_TRAINER, "There is no one here to train you.")


def _config(trainer: Character) -> dict[str, Any]:
    return trainer.behaviours.get("trainer") or {}


def _number(cfg: dict[str, Any], key: str, default: int) -> int:
    value = cfg.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return max(0, int(value))


def teachable(ctx: Ctx, trainer: Character) -> list[tuple[str, SpellModel]]:
    """The spells and skills `trainer` teaches that the actor's class can learn."""
    spells = ctx.world.content.spells
    listed = _config(trainer).get("teaches")
    ids = [str(s) for s in listed] if isinstance(listed, list) else list(spells)
    cls = ctx.actor.cls
    return [(sid, spells[sid]) for sid in ids if sid in spells and cls in spells[sid].classes]


def _cost(trainer: Character, spell: SpellModel, cls: str) -> int:
    return _number(_config(trainer), "price", PRICE) * max(1, spell.classes.get(cls, 1))


def _gain(ch: Character, spell: SpellModel) -> int:
    """Points one practice adds: from strength or dexterity for skills, else int or wis."""
    keys = ("str", "dex") if spell.skill else ("int", "wis")
    best = max(rules.attribute(ch, k) for k in keys)
    return max(2, min(15, 5 + (best - 10) // 2))


def _match(word: str, candidates: list[tuple[str, SpellModel]]) -> tuple[str, SpellModel] | None:
    word = word.strip().strip("'\"").lower()
    if not word:
        return None
    for sid, spell in candidates:
        if word in (sid, spell.name.lower()):
            return sid, spell
    for sid, spell in candidates:
        if spell.name.lower().startswith(word) or sid.replace("_", " ").startswith(word):
            return sid, spell
    return None


@command("practice", aliases=("train",), category="training",
         examples=("practice", "practice 'magic missile'", "practice bash"))
def practice(ctx: Ctx,
             skill: Annotated[Text | None, "the spell or skill to practise; none to list"] = None
             ) -> None:
    """Practise your spells and skills with a trainer, for gold.

    `practice` alone lists what the trainer here can teach you, how good you are
    at each and what a lesson costs. `practice <skill>` pays for one lesson and
    raises your proficiency (more with a good mind for spells, a strong or quick
    body for skills), up to what a trainer can teach; using it does the rest.
    """
    ch = ctx.actor
    trainer = _trainer(ctx)
    cfg = _config(trainer)
    cap = min(100, _number(cfg, "max", MAX))
    options = teachable(ctx, trainer)
    if not skill:
        ctx.tell(PracticeListed(trainer.name, [
            {"id": sid, "title": spell.name, "kind": "skill" if spell.skill else "spell",
             "level": spell.classes[ch.cls], "proficiency": ch.skills.get(sid),
             "max": cap, "cost": _cost(trainer, spell, ch.cls),
             "can": spell.classes[ch.cls] <= ch.level and ch.skills.get(sid, 0) < cap}
            for sid, spell in options
        ], ch.gold))
        return
    if ch.position is Position.FIGHTING:
        raise Refused(Code.POSITION, "Not while you are fighting!")
    found = _match(skill, options)
    if found is None:
        if _match(skill, list(ctx.world.content.spells.items())) is not None:
            raise Refused(Code.NOT_TAUGHT,
                          f"{trainer.name[:1].upper()}{trainer.name[1:]} cannot teach you that.")
        raise Refused(Code.UNKNOWN_SPELL, f"There is no spell or skill '{skill[:40]}'.")
    sid, spell = found
    level = spell.classes[ch.cls]
    if ch.level < level:
        raise Refused(Code.LEVEL_TOO_LOW, f"You can learn {spell.name} at level {level}.")
    before = ch.skills.get(sid, 0)
    if before >= cap:
        raise Refused(Code.ALREADY, f"You have learned all you can of {spell.name} here; "
                                    "use it to get better.")
    cost = _cost(trainer, spell, ch.cls)
    if ch.gold < cost:
        raise Refused(Code.TOO_POOR, f"A lesson costs {cost} gold; you have {ch.gold}.")
    ch.gold -= cost
    ch.skills[sid] = min(cap, before + _gain(ch, spell))
    if cost:
        ctx.tell(GoldChanged(-cost, ch.gold, "practice"))
    ctx.tell(Practiced(trainer.name, sid, spell.name, ch.skills[sid], cap, cost, ch.gold))
