"""Spells, skills and the effects system, asserted on events (names and data), with fixed seeds.

The world is our own small one (built with `build_content` from dicts) with the real
content/spells.yaml, so the spells tested are the ones players get. Map of zone `lab`:

    yard (pvp)
     |
    hall -- temple (safe, recall)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import events, log_of, names

from world import rules
from world.commands.registry import Call
from world.entities import Character, Effect, Position, Slot
from world.events import Delivery
from world.prototypes import Content, EffectModel, build_content
from world.systems import combat, effects, magic
from world.systems.combat import ROUND_TICKS
from world.world import World

SEED = 11
SPELLS_FILE = Path(__file__).resolve().parents[2] / "content" / "spells.yaml"
ATTRS = {"str": 14, "dex": 14, "con": 14, "int": 18, "wis": 18}
CLASSES: dict[str, Any] = {"classes": {
    cls: {"name": cls.title(), "description": f"A {cls}.", "hp": 40, "mana": 100,
          "moves": 100, "hp_per_level": 8, "mana_per_level": 8, "attributes": dict(ATTRS)}
    for cls in ("warrior", "mage", "cleric", "rogue")}}


def _mob(name: str, level: int, **extra: Any) -> dict[str, Any]:
    return {"name": name, "keywords": [name.split()[-1]], "short": f"{name.capitalize()}.",
            "description": f"Just {name}.", "level": level, **extra}


def _item(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "keywords": [name.split()[-1]], "description": f"Just {name}.",
            **extra}


ZONE: dict[str, Any] = {
    "zone": {"id": "lab", "name": "Lab"},
    "rooms": {
        "hall": {"name": "Hall", "description": "A bare hall.",
                 "exits": {"north": "yard", "east": "temple"}},
        "yard": {"name": "Yard", "description": "A sandy yard.", "exits": {"south": "hall"},
                 "flags": ["pvp"]},
        "temple": {"name": "Temple", "description": "A quiet temple.",
                   "exits": {"west": "hall"}, "flags": ["safe", "recall"]},
    },
    "items": {
        "potion": _item("a golden potion", type="potion", effects=["cure_light", "bless"]),
        "elixir": _item("a grand elixir", type="potion", effects=["heal"], level=10),
        "scroll": _item("a scroll of flame", type="scroll", effects=["burning_hands"],
                        keywords=["scroll", "flame"]),
        "dagger": _item("a steel dagger", type="weapon", slot="wield", damage="2d4+1",
                        mods={"hit": 1}, value=30, weight=2),
        "rock": _item("a grey rock"),
    },
    "mobs": {
        "goblin": _mob("a goblin", 3, hp=200),
        "rat": _mob("a rat", 1, hp=5),
        "shopkeeper": _mob("a shopkeeper", 5, behaviours=["shopkeeper"]),
        "shaman": _mob("a goblin shaman", 5, hp=300, mana=500,
                       spells=["magic_missile", "cure_light", "armor"]),
    },
}


@cache
def lab_content() -> Content:
    spells = yaml.safe_load(SPELLS_FILE.read_text(encoding="utf-8"))
    return build_content(("world.yaml", {"name": "Lab", "start_room": "lab:hall"}),
                         ("classes.yaml", CLASSES), [("zones/lab.yaml", ZONE)], {},
                         ("spells.yaml", spells))


@dataclass
class Lab:
    """A lab world with shorthands to act and to read events."""

    world: World

    def enter(self, name: str, cls: str = "mage", level: int = 12,
              skills: dict[str, int] | None = None) -> Character:
        ch = self.world.enter(name, cls)
        ch.level = level
        ch.max_mana = ch.mana = 200
        ch.skills = dict(skills if skills is not None else
                         {sid: 100 for sid in magic.learnable(self.world.content, cls, level)})
        self.world.drain()
        return ch

    def mob(self, proto: str, room: str = "lab:hall") -> Character:
        mob = self.world.spawn_mob(f"lab:{proto}", room)
        self.world.drain()
        return mob

    def ok(self, who: Character, line: str) -> list[Delivery]:
        refusal = self.world.perform_line(who, line)
        assert refusal is None, (line, refusal.code, refusal.message)
        return self.world.drain()

    def refused(self, who: Character, line: str) -> str:
        mana = who.mana
        refusal = self.world.perform_line(who, line)
        assert refusal is not None, f"{line!r} was not refused"
        assert refusal.message
        assert self.world.drain() == []
        assert who.mana == mana
        return refusal.code

    def ticks(self, n: int) -> list[Delivery]:
        for _ in range(n):
            self.world.tick()
        return self.world.drain()

    def to_round(self) -> list[Delivery]:
        """Tick through one full combat round: every fighter has its (staggered) turn once."""
        return self.ticks(ROUND_TICKS)


def lab(seed: int = SEED) -> Lab:
    return Lab(World(lab_content(), seed=seed))


REAL_CHANCE = magic.success_chance


@pytest.fixture(autouse=True)
def _sure_hands(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spells and skills always succeed here (but where a test puts the real roll back),
    so each test checks its own rule, not the dice."""
    monkeypatch.setattr(magic, "success_chance", lambda *args: 100)


# ---- content -----------------------------------------------------------------------


def test_spells_file_is_sound() -> None:
    content = lab_content()
    assert magic.check_content(content) == []
    spells = content.spells
    assert len(spells) >= 14
    for sid in ("magic_missile", "burning_hands", "fireball", "cure_light", "heal", "armor",
                "bless", "haste", "weaken", "poison", "hold", "recall", "identify", "bash",
                "kick", "backstab", "rescue", "dodge"):
        assert sid in spells, sid
    for cls in ("warrior", "mage", "cleric", "rogue"):
        assert magic.learnable(content, cls, 1), f"{cls} learns nothing at level 1"
        assert len(magic.learnable(content, cls, 20)) >= 3
    kinds = {sp.kind for sp in spells.values()}
    assert {"damage", "area", "heal", "buff", "debuff", "dot", "stun", "recall", "identify",
            "passive", "bash", "kick", "backstab", "rescue"} <= kinds
    assert SPELLS_FILE.read_text(encoding="utf-8").startswith("# TUTORIAL:")


def test_check_content_finds_mistakes() -> None:
    bad = {"spells": {
        "zap": {"name": "zap", "description": "x", "kind": "damage", "target": "self"},
        "glow": {"name": "glow", "description": "x", "kind": "buff", "target": "self"},
        "daze": {"name": "daze", "description": "x", "kind": "stun",
                 "effect": {"name": "daze", "duration": 5}},
    }}
    zone = {**ZONE, "items": {"potion": _item("a potion", type="potion", effects=["nope"])},
            "mobs": {}}
    content = build_content(("w", {"name": "L", "start_room": "lab:hall"}), ("c", CLASSES),
                            [("z", zone)], {}, ("s", bad))
    problems = magic.check_content(content)
    assert any("zap" in p and "target" in p for p in problems)
    assert any("zap" in p and "dice" in p for p in problems)
    assert any("glow" in p and "effect" in p for p in problems)
    assert any("daze" in p and "stunned" in p for p in problems)
    assert any("nope" in p for p in problems)


def test_the_real_content_names_only_known_spells() -> None:
    from helpers import starter_content

    content = starter_content()
    assert magic.check_content(content) == []
    for mid, mob in content.mobs.items():
        for sid in mob.spells:
            assert sid in content.spells, (mid, sid)


# ---- naming a spell --------------------------------------------------------------------


@pytest.mark.parametrize("line", [
    "cast 'magic missile' goblin",
    'cast "magic missile" goblin',
    "cast magic goblin",
    "cast magic missile goblin",
    "cast magic_missile goblin",
    "cast m goblin",
    "cast 'magic' gob",
])
def test_cast_names_a_spell_many_ways(line: str) -> None:
    lab_ = lab()
    ann = lab_.enter("Ann", level=1)
    lab_.mob("goblin")
    out = lab_.ok(ann, line)
    assert events(out, "spell_cast")[0] == {"actor": "Ann", "kind": "player",
                                            "spell": "magic_missile", "target": "a goblin"}


def test_a_line_and_a_call_cause_the_same_events() -> None:
    logs = []
    for how in ("line", "call"):
        lab_ = lab()
        ann = lab_.enter("Ann")
        lab_.mob("goblin")
        if how == "line":
            out = lab_.ok(ann, "cast 'burning hands' goblin")
        else:
            refusal = lab_.world.perform(ann, Call("cast", {"spell": "burning hands",
                                                            "target": "goblin"}))
            assert refusal is None
            out = lab_.world.drain()
        logs.append(log_of(out))
    assert logs[0] == logs[1]
    assert [name for _, name, _ in logs[0]][:3] == ["spell_cast", "fight_started", "spell_hit"]


def test_an_ambiguous_prefix_is_refused() -> None:
    lab_ = lab()
    cleric = lab_.enter("Cal", "cleric", level=12)
    lab_.mob("goblin")
    assert lab_.refused(cleric, "cast c goblin") == "bad_args"  # cure light or cause light
    assert events(lab_.ok(cleric, "cast cau goblin"), "spell_cast")[0]["spell"] == "cause_light"


def test_the_same_run_replays_exactly() -> None:
    def run() -> list[Any]:
        lab_ = lab(5)
        ann = lab_.enter("Ann")
        lab_.mob("goblin")
        log = log_of(lab_.ok(ann, "cast poison goblin"))
        log += log_of(lab_.ticks(100))
        log += log_of(lab_.ok(ann, "cast fireball"))
        return log + log_of(lab_.ticks(60))

    assert run() == run()


# ---- refusals: nothing changes ---------------------------------------------------------


def test_refusals_have_codes_and_change_nothing() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann", level=1)
    lab_.mob("goblin")
    assert lab_.refused(ann, "cast frobnicate goblin") == "unknown_spell"
    assert lab_.refused(ann, "cast fireball") == "not_learned"  # level 8 for mages
    assert lab_.refused(ann, "cast 'cure light'") == "not_learned"  # a cleric spell
    assert lab_.refused(ann, "cast") == "bad_args"
    assert lab_.refused(ann, "cast magic") == "bad_args"  # at whom? (no fight)
    assert lab_.refused(ann, "cast magic ghost") == "not_here"
    assert lab_.refused(ann, "cast magic me") == "bad_target"
    ann.skills["fireball"] = 100  # known, but too early
    assert lab_.refused(ann, "cast fireball") == "level_too_low"
    ann.mana = 4
    assert lab_.refused(ann, "cast magic goblin") == "no_mana"


def test_cooldown_is_refused_until_it_runs_out() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    lab_.mob("goblin")
    lab_.ok(ann, "cast fireball")
    assert ann.cooldowns["fireball"] == lab_.world.time + 40
    assert lab_.refused(ann, "cast fireball") == "cooldown"
    lab_.ticks(40)
    assert names(lab_.ok(ann, "cast fireball"))[0] == "spell_cast"


def test_position_rules() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    lab_.mob("goblin")
    lab_.ok(ann, "rest")
    assert lab_.refused(ann, "cast magic goblin") == "position"  # stand up to fight
    assert names(lab_.ok(ann, "cast armor")) == ["spell_cast", "effect_started"]
    lab_.ok(ann, "sleep")
    assert lab_.refused(ann, "cast armor") == "position"


def test_no_harm_in_safe_rooms_nor_to_players_outside_pvp() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    bob = lab_.enter("Bob")
    lab_.mob("goblin", "lab:temple")
    lab_.world.move(ann, "lab:temple")
    assert lab_.refused(ann, "cast magic goblin") == "safe_room"
    assert lab_.refused(ann, "cast fireball") == "safe_room"
    lab_.world.move(ann, "lab:hall")
    assert lab_.refused(ann, "cast magic bob") == "no_pvp"
    lab_.world.move(ann, "lab:yard")
    lab_.world.move(bob, "lab:yard")
    out = lab_.ok(ann, "cast magic bob")
    assert events(out, "spell_hit")[0]["target"] == "Bob"


def test_passive_skills_cannot_be_used() -> None:
    lab_ = lab()
    rog = lab_.enter("Rog", "rogue")
    assert lab_.refused(rog, "cast dodge") == "bad_args"


# ---- damage ----------------------------------------------------------------------------


def test_a_damage_spell_hurts_spends_mana_and_starts_a_fight() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    goblin = lab_.mob("goblin")
    out = lab_.ok(ann, "cast 'burning hands' goblin")
    assert names(out, "Ann") == ["spell_cast", "fight_started", "spell_hit"]
    hit = events(out, "spell_hit")[0]
    assert hit["actor"] == "Ann" and hit["spell"] == "burning_hands"
    assert goblin.hp == goblin.max_hp - hit["damage"]
    assert 4 + 12 <= hit["damage"] <= 13 + 12  # 3d4+1 and 1 per level
    assert ann.mana == 200 - 10
    assert ann.fighting is goblin and goblin.fighting is ann
    assert {ann.id, goblin.id} <= set(lab_.world.fighters)
    # With a fight on, the foe is the default target.
    out = lab_.ok(ann, "cast magic")
    assert events(out, "spell_hit")[0]["target"] == "a goblin"


def test_success_chance_grows_with_proficiency_and_the_casting_attribute() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann", skills={"burning_hands": 0})
    rog = lab_.enter("Rog", "rogue", level=4, skills={"kick": 75})
    goblin = lab_.mob("goblin")
    spells = lab_.world.content.spells
    assert REAL_CHANCE(ann, "burning_hands", spells["burning_hands"]) == 50 + 0 + 18
    ann.skills["burning_hands"] = 60
    assert REAL_CHANCE(ann, "burning_hands", spells["burning_hands"]) == 50 + 30 + 18
    ann.attributes = {**ann.attributes, "int": 3, "wis": 3}
    assert REAL_CHANCE(ann, "burning_hands", spells["burning_hands"]) == 50 + 30 - 27
    # skills: dexterity and the level difference to the victim (goblin: level 3)
    assert REAL_CHANCE(rog, "kick", spells["kick"], goblin) == 50 + 37 + 6 + 3
    assert REAL_CHANCE(rog, "kick", spells["kick"], None) == 50 + 37 + 6
    rog.skills["kick"] = 0
    rog.attributes = {**rog.attributes, "dex": 3}
    goblin.level = 20
    assert REAL_CHANCE(rog, "kick", spells["kick"], goblin) == 10  # never below
    ann.skills["burning_hands"] = 100
    ann.attributes = {**ann.attributes, "int": 25}
    assert REAL_CHANCE(ann, "burning_hands", spells["burning_hands"]) == 98  # nor above


def test_a_lost_concentration_costs_half_the_mana(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(magic, "success_chance", REAL_CHANCE)
    lab_ = lab(3)
    ann = lab_.enter("Ann", skills={"burning_hands": 0})
    ann.attributes = {**ann.attributes, "int": 3, "wis": 3}  # a 23 % chance
    goblin = lab_.mob("goblin")
    hurt = casts = 0
    while casts < 20:
        casts += 1
        out = lab_.ok(ann, "cast burn goblin")
        hurt += sum(e["damage"] for e in events(out, "spell_hit", "Ann"))
        if "spell_failed" in names(out):
            break
    assert events(out, "spell_failed")[0] == {"actor": "Ann", "spell": "burning_hands",
                                              "reason": "concentration"}
    assert names(out, "Ann")[-2:] == ["spell_cast", "spell_failed"]
    assert goblin.hp == goblin.max_hp - hurt
    assert ann.mana == 200 - 10 * (casts - 1) - 5


def test_an_area_spell_hits_every_enemy_but_spares_bystanders_and_the_group() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    bob = lab_.enter("Bob", "warrior")
    goblin = lab_.mob("goblin")
    rat = lab_.mob("rat")
    keeper = lab_.mob("shopkeeper")
    pet = lab_.mob("goblin")
    pet.following = ann
    out = lab_.ok(ann, "cast fireball")
    hits = {e["target"]: e["damage"] for e in events(out, "spell_hit")}
    assert set(hits) == {"a goblin", "a rat"}
    assert goblin.hp == goblin.max_hp - hits["a goblin"]
    assert pet.hp == pet.max_hp and keeper.hp == keeper.max_hp and bob.hp == bob.max_hp
    assert events(out, "died")[0]["actor"] == "a rat"
    assert rat.id not in lab_.world.mobs
    assert ann.xp > 0  # the kill was awarded through combat.damage


# ---- healing ---------------------------------------------------------------------------


def test_heals_give_back_hit_points_up_to_the_maximum() -> None:
    lab_ = lab()
    cal = lab_.enter("Cal", "cleric")
    bob = lab_.enter("Bob", "warrior")
    bob.hp = bob.max_hp - 3
    out = lab_.ok(cal, "cast 'cure light' bob")
    assert events(out, "healed", "Bob") == [{"actor": "Cal", "target": "Bob", "amount": 3,
                                      "spell": "cure_light"}]
    assert bob.hp == bob.max_hp
    cal.hp = 1
    out = lab_.ok(cal, "cast heal")  # no target: yourself
    amount = events(out, "healed", "Cal")[0]["amount"]
    assert 26 + 12 <= amount <= 68 + 12
    assert cal.hp == 1 + amount


# ---- effects: buffs, debuffs, stacking, expiry -----------------------------------------


def test_a_buff_changes_the_numbers_while_it_lasts_then_wears_off() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    before = rules.armor_class(ann)
    out = lab_.ok(ann, "cast armor")
    assert events(out, "effect_started") == [{
        "target": "Ann", "effect": "armor", "duration": 3000, "mods": {"armor": 4},
        "flags": [], "refreshed": False}]
    assert rules.armor_class(ann) == before + 4
    assert ann.id in lab_.world.affected
    out = lab_.ticks(2999)
    assert "effect_ended" not in names(out)
    out = lab_.ticks(1)
    assert events(out, "effect_ended") == [{"target": "Ann", "effect": "armor"}]
    assert rules.armor_class(ann) == before
    assert ann.effects == [] and ann.id not in lab_.world.affected


def test_refresh_renews_the_one_effect() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann", "cleric")
    lab_.ok(ann, "cast bless")
    lab_.ticks(1000)
    out = lab_.ok(ann, "cast bless")
    assert events(out, "effect_started")[0]["refreshed"] is True
    assert len(ann.effects) == 1 and ann.effects[0].until == lab_.world.time + 3000
    assert rules.modifier(ann, "hit") == 3


def test_stack_adds_up_to_the_limit_then_renews_the_oldest() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    goblin = lab_.mob("goblin")
    base = rules.attribute(goblin, "str")
    for n in range(1, effects.MAX_STACKS + 1):
        out = lab_.ok(ann, "cast weaken goblin")
        assert events(out, "effect_started")[0]["refreshed"] is False
        assert rules.attribute(goblin, "str") == base - 2 * n
        lab_.ticks(5)
    oldest = min(e.until or 0 for e in goblin.effects)
    out = lab_.ok(ann, "cast weaken goblin")
    assert events(out, "effect_started")[0]["refreshed"] is True
    assert len(goblin.effects) == effects.MAX_STACKS
    assert min(e.until or 0 for e in goblin.effects) > oldest


def test_ignore_leaves_the_first_one_alone() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    lab_.ok(ann, "cast haste")
    until = ann.effects[0].until
    lab_.ticks(60)
    out = lab_.ok(ann, "cast haste")
    assert names(out) == ["spell_cast", "spell_failed"]
    assert events(out, "spell_failed")[0]["reason"] == "no_effect"
    assert len(ann.effects) == 1 and ann.effects[0].until == until


def test_apply_effect_takes_models_and_ready_effects_alike() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    model = EffectModel(name="giant strength", duration=50, mods={"str": 3})
    assert effects.apply_effect(lab_.world, ann, model, None, source="lab:ring") is not None
    assert rules.attribute(ann, "str") == 17
    ward = Effect(name="ward", mods={"armor": 2})  # until removed
    assert effects.apply_effect(lab_.world, ann, ward) is ward
    assert effects.apply_effect(lab_.world, ann, EffectModel(name="x", duration=0)) is None
    out = lab_.ticks(50)
    assert events(out, "effect_ended") == [{"target": "Ann", "effect": "giant strength"}]
    assert ann.effects == [ward] and ann.id not in lab_.world.affected
    assert effects.remove_effects(lab_.world, ann, "ward") == 1
    assert events(lab_.world.drain(), "effect_ended") == [{"target": "Ann", "effect": "ward"}]


# ---- damage over time ------------------------------------------------------------------


def test_poison_hurts_every_period_and_ends() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    goblin = lab_.mob("goblin")
    out = lab_.ok(ann, "cast poison goblin")
    assert names(out) == ["spell_cast", "fight_started", "effect_started"]
    poison = goblin.effects[0]
    assert poison.dot >= 2 + 3 and poison.period == 20 and poison.caster == "Ann"
    combat.stop_fighting(lab_.world, ann)  # no swings: only the poison
    hp = goblin.hp
    out = lab_.ticks(200)
    ticks = [e for e in events(out, "effect_ticked") if e["target"] == "a goblin"]
    assert len(ticks) == 200 // 20 - 1
    assert all(t == {"target": "a goblin", "effect": "poison", "damage": poison.dot}
               for t in ticks)
    assert goblin.hp < hp
    assert events(out, "effect_ended") == [{"target": "a goblin", "effect": "poison"}]


def test_poison_can_kill_and_the_caster_gets_the_kill() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    goblin = lab_.mob("goblin")
    lab_.ok(ann, "cast poison goblin")
    combat.stop_fighting(lab_.world, ann)
    goblin.hp = 1
    out = lab_.ticks(60)
    assert events(out, "died") == [{"actor": "a goblin", "kind": "mob", "killer": "Ann",
                                    "room": "lab:hall", "corpse": "the corpse of a goblin"}]
    assert goblin.id not in lab_.world.mobs and goblin.id not in lab_.world.affected
    assert ann.xp > 0


# ---- stuns -----------------------------------------------------------------------------


def test_a_stunned_character_cannot_act_but_may_look() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    effects.apply_effect(lab_.world, ann, EffectModel(name="held", duration=40,
                                                      flags=["stunned"]))
    lab_.world.drain()
    assert lab_.refused(ann, "north") == "position"
    assert lab_.refused(ann, "cast armor") == "position"
    assert lab_.refused(ann, "say hello") == "position"
    assert names(lab_.ok(ann, "look")) == ["room"]
    assert names(lab_.ok(ann, "score")) == ["score_shown"]
    lab_.ticks(40)
    assert names(lab_.ok(ann, "cast armor"))[0] == "spell_cast"


def test_hold_stops_the_victims_swings() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    goblin = lab_.mob("goblin")
    out = lab_.ok(ann, "cast hold goblin")
    assert events(out, "effect_started")[0]["flags"] == ["stunned"]
    assert rules.has_flag(goblin, "stunned")
    out = lab_.to_round()
    assert [e for e in events(out, "hit_landed") if e["actor"] == "a goblin"] == []
    assert [e for e in events(out, "hit_landed") if e["actor"] == "Ann"] != []
    lab_.ticks(40)
    assert not rules.has_flag(goblin, "stunned")
    out = lab_.to_round()
    assert [e for e in events(out, "hit_landed") if e["actor"] == "a goblin"] != []


def test_bash_hurts_and_stuns_for_a_round() -> None:
    lab_ = lab()
    war = lab_.enter("Wat", "warrior")
    goblin = lab_.mob("goblin")
    out = lab_.ok(war, "bash goblin")
    assert names(out) == ["fight_started", "skill_used", "effect_started"]
    used = events(out, "skill_used")[0]
    assert used["success"] is True and used["skill"] == "bash" and used["damage"] >= 1
    assert goblin.hp == goblin.max_hp - used["damage"]
    assert events(out, "effect_started")[0]["effect"] == "bashed"
    assert war.cooldowns["bash"] == lab_.world.time + 60
    assert lab_.refused(war, "bash") == "cooldown"


def test_kick_hurts_the_foe() -> None:
    lab_ = lab()
    war = lab_.enter("Wat", "warrior", level=4)
    goblin = lab_.mob("goblin")
    lab_.ok(war, "kill goblin")
    hp = goblin.hp
    out = lab_.ok(war, "kick")
    assert names(out, "Wat") == ["skill_used"]
    used = events(out, "skill_used", "Wat")[0]
    assert used["target"] == "a goblin" and used["success"] is True
    assert 1 + 2 + 1 <= used["damage"] <= 6 + 2 + 1  # 1d6, half a point a level, strength
    assert goblin.hp == hp - used["damage"]


# ---- haste, dodge ----------------------------------------------------------------------


def _swings(out: list[Delivery], actor: str) -> int:
    return sum(1 for d in out if d.recipient.name == actor and
               ((d.event.name == "hit_landed" and d.event.to_data()["actor"] == actor) or
                (d.event.name == "dodged" and d.event.to_data()["attacker"] == actor)))


def test_haste_gives_an_extra_attack_each_round() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    lab_.mob("goblin")
    lab_.ok(ann, "kill goblin")
    assert _swings(lab_.to_round(), "Ann") == 1
    lab_.ok(ann, "cast haste")
    assert _swings(lab_.to_round(), "Ann") == 2


def test_dodge_avoids_some_melee_hits() -> None:
    lab_ = lab()
    rog = lab_.enter("Rog", "rogue", level=1)
    rog.hp = rog.max_hp = 10_000
    assert "dodge" not in rog.skills
    lab_.mob("goblin")
    lab_.ok(rog, "kill goblin")
    out = lab_.ticks(ROUND_TICKS * 20)
    assert events(out, "dodged") == []
    rog.skills["dodge"] = 100
    assert rules.dodge_chance(rog) > 0
    out = lab_.ticks(ROUND_TICKS * 30)
    dodged = events(out, "dodged", "Rog")
    assert dodged and all(e == {"actor": "Rog", "attacker": "a goblin"} for e in dodged)


# ---- backstab and rescue ---------------------------------------------------------------


def test_backstab_opens_a_fight_with_a_multiplied_hit() -> None:
    lab_ = lab()
    rog = lab_.enter("Rog", "rogue", level=8)
    goblin = lab_.mob("goblin")
    assert lab_.refused(rog, "backstab goblin") == "no_weapon"
    dagger = lab_.world.make_item("lab:dagger")
    rog.equipment[Slot.WIELD] = dagger
    out = lab_.ok(rog, "backstab goblin")
    assert names(out) == ["fight_started", "skill_used"]
    used = events(out, "skill_used")[0]
    assert used["success"] is True
    # (2d4+1 + str bonus 1) x (2 + 8 // 4): at least 4 x 4
    assert used["damage"] >= 16 and goblin.hp == goblin.max_hp - used["damage"]
    assert rog.fighting is goblin
    lab_.ticks(20)
    assert lab_.refused(rog, "backstab goblin") == "position"  # only to start a fight


def test_no_backstab_at_someone_already_fighting() -> None:
    lab_ = lab()
    rog = lab_.enter("Rog", "rogue")
    war = lab_.enter("Wat", "warrior")
    lab_.mob("goblin")
    rog.equipment[Slot.WIELD] = lab_.world.make_item("lab:dagger")
    lab_.ok(war, "kill goblin")
    assert lab_.refused(rog, "backstab goblin") == "bad_target"


def test_rescue_takes_over_the_fight() -> None:
    lab_ = lab()
    war = lab_.enter("Wat", "warrior")
    ann = lab_.enter("Ann")
    goblin = lab_.mob("goblin")
    assert lab_.refused(war, "rescue ann") == "bad_target"  # no one attacks her yet
    lab_.ok(ann, "kill goblin")
    assert lab_.refused(war, "rescue") == "bad_args"
    assert lab_.refused(war, "rescue wat") == "bad_target"
    out = lab_.ok(war, "rescue ann")
    assert events(out, "rescued", "Wat") == [{"actor": "Wat", "target": "Ann", "foe": "a goblin"}]
    assert goblin.fighting is war and war.fighting is goblin
    assert ann.fighting is None and ann.position is Position.STANDING
    out = lab_.to_round()
    assert all(e["target"] == "Wat" for e in events(out, "hit_landed")
               if e["actor"] == "a goblin")


# ---- potions, scrolls, identify, recall ------------------------------------------------


def test_quaff_casts_the_potions_spells_on_you_for_free() -> None:
    lab_ = lab()
    war = lab_.enter("Wat", "warrior", level=2)
    war.hp = 10
    mana = war.mana
    war.inventory.append(lab_.world.make_item("lab:potion"))
    out = lab_.ok(war, "quaff potion")
    assert names(out)[:3] == ["item_used", "healed", "effect_started"]
    assert events(out, "item_used")[0] == {"actor": "Wat", "item": "a golden potion",
                                           "action": "quaffed"}
    assert events(out, "effect_started")[0]["effect"] == "bless"
    assert war.hp > 10 and war.mana == mana and war.inventory == []
    elixir = lab_.world.make_item("lab:elixir")
    war.inventory.append(elixir)
    assert lab_.refused(war, "quaff elixir") == "level_too_low"
    war.inventory.append(lab_.world.make_item("lab:rock"))
    assert lab_.refused(war, "quaff rock") == "bad_target"
    assert lab_.refused(war, "quaff nothing") == "not_carried"


def test_recite_casts_the_scroll_at_a_target() -> None:
    lab_ = lab()
    war = lab_.enter("Wat", "warrior", level=1)
    goblin = lab_.mob("goblin")
    scroll = lab_.world.make_item("lab:scroll")
    war.inventory.append(scroll)
    assert lab_.refused(war, "recite scroll") == "bad_args"  # at whom?
    assert war.inventory == [scroll]
    out = lab_.ok(war, "recite scroll goblin")
    assert names(out) == ["item_used", "fight_started", "spell_hit"]
    assert goblin.hp == goblin.max_hp - events(out, "spell_hit")[0]["damage"]
    assert war.inventory == [] and war.fighting is goblin


def test_identify_shows_an_items_stats() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    ann.inventory.append(lab_.world.make_item("lab:dagger"))
    out = lab_.ok(ann, "cast identify dagger")
    assert names(out) == ["spell_cast", "item_identified"]
    details = events(out, "item_identified")[0]["details"]
    assert details["damage"] == "2d4+1" and details["average_damage"] == 6.0
    assert details["type"] == "weapon" and details["slot"] == "wield"
    assert details["mods"] == {"hit": 1} and details["value"] == 30
    assert lab_.refused(ann, "cast identify") == "bad_args"
    assert lab_.refused(ann, "cast identify shield") == "not_here"


def test_recall_takes_you_home_out_of_a_fight() -> None:
    lab_ = lab()
    cal = lab_.enter("Cal", "cleric")
    bob = lab_.enter("Bob", "warrior")
    lab_.mob("goblin")
    lab_.ok(cal, "kill goblin")
    out = lab_.ok(cal, "cast recall")
    assert cal.room == "lab:temple" and cal.fighting is None
    assert names(out, "Cal") == ["spell_cast", "room"]
    assert events(out, "departed", "Bob") == [{"actor": "Cal", "kind": "player",
                                               "direction": None}]
    cal.recall = "lab:yard"
    lab_.ticks(100)
    lab_.ok(cal, "cast recall")
    assert cal.room == "lab:yard" and bob.room == "lab:hall"


# ---- lists -----------------------------------------------------------------------------


def test_spells_and_skills_list_what_you_know_and_what_is_to_come() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann", level=3)
    out = lab_.ok(ann, "spells")
    listing = events(out, "spells_listed")[0]
    assert listing["skills"] is False
    rows = {r["id"]: r for r in listing["spells"]}
    assert rows["magic_missile"] == {
        "id": "magic_missile", "name": "magic missile", "kind": "damage", "target": "enemy",
        "level": 1, "mana": 5, "cooldown": 0, "learned": True, "proficiency": 100,
        "ready_in": 0}
    assert rows["fireball"]["learned"] is False and rows["fireball"]["level"] == 8
    assert "bash" not in rows and "cure_light" not in rows
    rog = lab_.enter("Rog", "rogue", level=2)
    rows = {r["id"]: r for r in events(lab_.ok(rog, "skills"), "spells_listed")[0]["spells"]}
    assert set(rows) == {"backstab", "dodge", "kick"}
    assert rows["kick"]["learned"] is False and rows["dodge"]["learned"] is True


# ---- mobs cast -------------------------------------------------------------------------


def test_fighting_mobs_use_their_spells() -> None:
    lab_ = lab()
    war = lab_.enter("Wat", "warrior")
    war.hp = war.max_hp = 5000
    shaman = lab_.mob("shaman")
    assert shaman.skills == {"magic_missile": 75, "cure_light": 75, "armor": 75}
    lab_.ok(war, "kill shaman")
    out = lab_.ticks(ROUND_TICKS * 20)
    cast = [e for e in events(out, "spell_cast", "Wat") if e["actor"] == "a goblin shaman"]
    spells = {e["spell"] for e in cast}
    assert "armor" in spells  # a buff first
    assert "magic_missile" in spells  # then at its foe
    assert any(e["target"] == "Wat" for e in cast if e["spell"] == "magic_missile")
    assert any(e.name == "armor" for e in shaman.effects)
    shaman.hp = 10
    out = lab_.ticks(ROUND_TICKS * 10)
    assert any(e["actor"] == "a goblin shaman" and e["target"] == "a goblin shaman"
               for e in events(out, "healed", "Wat"))


def test_mob_choice_prefers_a_heal_when_hurt() -> None:
    lab_ = lab()
    war = lab_.enter("Wat", "warrior")
    shaman = lab_.mob("shaman")
    assert magic.mob_choice(lab_.world, shaman) is None  # not fighting
    combat.engage(lab_.world, war, shaman)
    shaman.hp = 10
    assert magic.mob_choice(lab_.world, shaman) == ("cure_light", shaman)
    shaman.mana = 0
    assert magic.mob_choice(lab_.world, shaman) is None


# ---- persistence -----------------------------------------------------------------------


def test_an_effect_survives_a_restart_with_its_time_left() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    lab_.ok(ann, "cast armor")
    lab_.ticks(1000)
    ann.cooldowns["fireball"] = lab_.world.time + 30
    snap = lab_.world.leave(ann, "quit")
    assert snap["effects"][0]["name"] == "armor" and snap["effects"][0]["left"] == 2000

    later = lab(99)
    later.ticks(123)
    back = later.world.enter("Ann", "mage", state=snap)
    later.world.drain()
    assert back.skills == ann.skills
    assert back.cooldowns == {"fireball": later.world.time + 30}
    assert [e.name for e in back.effects] == ["armor"]
    assert back.effects[0].until == later.world.time + 2000
    assert back.id in later.world.affected
    assert rules.armor_class(back) == rules.armor_class(ann)
    out = later.ticks(1999)
    assert "effect_ended" not in names(out)
    out = later.ticks(1)
    assert events(out, "effect_ended") == [{"target": "Ann", "effect": "armor"}]


def test_a_restored_poison_keeps_ticking() -> None:
    lab_ = lab()
    ann = lab_.enter("Ann")
    state = lab_.world.snapshot(ann)
    state["effects"] = [{"name": "poison", "left": 100, "dot": 3, "period": 20,
                         "mods": {}, "flags": [], "caster": "", "source": "poison"}]
    lab_.world.leave(ann, "quit")
    back = lab_.world.enter("Ann", "mage", state=state)
    lab_.world.drain()
    assert back.id in lab_.world.affected
    out = lab_.ticks(100)
    assert events(out, "effect_ticked", "Ann") == [
        {"target": "Ann", "effect": "poison", "damage": 3}] * 4
    assert events(out, "effect_ended", "Ann") == [{"target": "Ann", "effect": "poison"}]
