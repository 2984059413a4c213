"""Upkeep: regeneration of hp, mana and moves, faster resting and sleeping."""

from __future__ import annotations

from typing import TYPE_CHECKING

from world import rules
from world.systems.registry import system

if TYPE_CHECKING:
    from world.world import World


@system("regeneration", every=rules.REGEN_EVERY, order=80)
def regenerate(world: World) -> None:
    """Give back a share of each gauge to everyone below their maximum."""
    for cid, ch in list(world.recovering.items()):
        pos = ch.position
        before = (ch.hp, ch.mana, ch.moves)
        bonus_hp = rules.modifier(ch, "hp_regen")
        bonus_mana = rules.modifier(ch, "mana_regen")
        gain_hp = rules.regen_amount(ch.max_hp, pos)
        gain_mana = rules.regen_amount(ch.max_mana, pos)
        ch.hp = min(ch.max_hp, ch.hp + gain_hp + (bonus_hp if gain_hp else 0))
        ch.mana = min(ch.max_mana, ch.mana + gain_mana + (bonus_mana if gain_mana else 0))
        ch.moves = min(ch.max_moves, ch.moves + rules.regen_amount(ch.max_moves, pos))
        if (ch.hp, ch.mana, ch.moves) != before:
            world.mark_vitals(ch)
        if ch.hp >= ch.max_hp and ch.mana >= ch.max_mana and ch.moves >= ch.max_moves:
            del world.recovering[cid]
