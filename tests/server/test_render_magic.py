"""Golden text for the events of spells, skills and effects, as the caster, the target and
a bystander read them."""

from __future__ import annotations

from server.gateway import render
from world import events as ev


def plain(event: ev.Event, viewer: str) -> str:
    return render.plain(render.render(event, viewer))


def test_a_spell_cast_and_its_hit() -> None:
    cast = ev.SpellCast("Ann", "player", "magic_missile", "a goblin")
    assert plain(cast, "Ann") == "You utter the words, 'magic missile' at a goblin."
    assert plain(cast, "Bob") == "Ann utters the words, 'magic missile' at a goblin."
    hit = ev.SpellHit("Ann", "magic_missile", "Bob", 6)
    assert plain(hit, "Ann") == "Your magic missile hits Bob for 6 damage."
    assert plain(hit, "Bob") == "Ann's magic missile hits you for 6 damage."
    assert plain(hit, "Cid") == "Ann's magic missile hits Bob for 6 damage."
    assert plain(ev.SpellHit("a goblin shaman", "magic_missile", "Ann", 3), "Ann") == (
        "A goblin shaman's magic missile hits you for 3 damage.")
    assert plain(ev.SpellCast("Ann", "player", "fireball", None), "Bob") == (
        "Ann utters the words, 'fireball'.")
    assert "\x1b[35m" in render.ansi(render.render(cast, "Bob"))


def test_failures() -> None:
    lost = ev.SpellFailed("Ann", "fireball", "concentration")
    assert plain(lost, "Ann") == "You lose your concentration."
    assert plain(lost, "Bob") == "Ann's fireball fizzles."
    assert plain(ev.SpellFailed("Ann", "haste", "no_effect"), "Ann") == (
        "Nothing seems to happen.")


def test_healing() -> None:
    assert plain(ev.Healed("Cal", "Cal", 8, "cure_light"), "Cal") == "You feel better (+8 hp)."
    assert plain(ev.Healed("Cal", "Bob", 8, "cure_light"), "Bob") == "Cal heals you (+8 hp)."
    assert plain(ev.Healed("Cal", "Bob", 8, "cure_light"), "Cal") == "You heal Bob."
    assert plain(ev.Healed("Cal", "Cal", 8, "cure_light"), "Bob") == "Cal heals themselves."


def test_effects_start_tick_and_end() -> None:
    armor = ev.EffectStarted("Ann", "armor", 3000, {"armor": 4}, [], False)
    assert plain(armor, "Ann") == "You are affected by armor (300 s)."
    assert plain(armor, "Bob") == "Ann is affected by armor."
    renewed = ev.EffectStarted("Ann", "armor", 3000, {"armor": 4}, [], True)
    assert plain(renewed, "Ann") == "Your armor is renewed (300 s)."
    held = ev.EffectStarted("a goblin", "held", 40, {}, ["stunned"], False)
    assert plain(held, "Ann") == "A goblin is stunned!"
    assert plain(ev.EffectStarted("Ann", "held", 40, {}, ["stunned"], False), "Ann") == (
        "You are stunned! (4 s)")
    assert plain(ev.EffectTicked("Ann", "poison", 3), "Ann") == (
        "You suffer 3 damage from poison.")
    assert plain(ev.EffectTicked("a goblin", "poison", 3), "Ann") == (
        "A goblin suffers 3 damage from poison.")
    assert plain(ev.EffectEnded("Ann", "armor"), "Ann") == "Your armor wears off."
    assert plain(ev.EffectEnded("a goblin", "held"), "Ann") == "A goblin's held wears off."


def test_skills() -> None:
    bash = ev.SkillUsed("Wat", "bash", "a goblin", True, 5)
    assert plain(bash, "Wat") == "Your bash hits a goblin for 5 damage!"
    assert plain(bash, "Ann") == "Wat's bash hits a goblin for 5 damage!"
    assert plain(ev.SkillUsed("Wat", "kick", "Ann", False, 0), "Ann") == (
        "Wat's kick misses you.")
    rescue = ev.Rescued("Wat", "Ann", "a goblin")
    assert plain(rescue, "Wat") == "You rescue Ann from a goblin!"
    assert plain(rescue, "Ann") == "Wat rescues you from a goblin!"
    dodge = ev.Dodged("Rog", "a goblin")
    assert plain(dodge, "Rog") == "You dodge a goblin's attack."
    assert plain(dodge, "Ann") == "Rog dodges a goblin's attack."
    assert plain(ev.Dodged("a goblin", "Rog"), "Rog") == "A goblin dodges your attack."


def test_lists_items_and_identify() -> None:
    rows = [{"id": "magic_missile", "name": "magic missile", "kind": "damage", "target": "enemy",
             "level": 1, "mana": 5, "cooldown": 0, "learned": True, "proficiency": 75,
             "ready_in": 0},
            {"id": "fireball", "name": "fireball", "kind": "area", "target": "room_enemies",
             "level": 8, "mana": 25, "cooldown": 40, "learned": False, "proficiency": 0,
             "ready_in": 0}]
    assert plain(ev.SpellsListed(False, rows), "Ann") == (
        "Your spells:\n"
        "  magic missile    level  1  mana   5  75%\n"
        "  fireball         level  8  (not learned yet)")
    assert plain(ev.SpellsListed(True, []), "Ann") == "You know no skills."
    used = ev.ItemUsed("Ann", "a healing potion", "quaffed")
    assert plain(used, "Ann") == "You quaff a healing potion."
    assert plain(used, "Bob") == "Ann quaffs a healing potion."
    details = {"type": "weapon", "weight": 2, "value": 30, "level": 0, "classes": [],
               "slot": "wield", "damage": "2d4+1", "average_damage": 6.0, "two_handed": False,
               "armor": 0, "mods": {"hit": 1}, "effects": [], "capacity": 0}
    assert plain(ev.ItemIdentified("a steel dagger", details), "Ann") == (
        "A steel dagger\nType weapon, weight 2, value 30\nWorn: wield\n"
        "Damage 2d4+1 (average 6.0)\nAffects: hit +1")


def test_magic_events_are_personal() -> None:
    for event in (ev.SpellCast("Ann", "player", "armor", "Ann"),
                  ev.EffectStarted("Ann", "armor", 10, {}, [], False),
                  ev.Dodged("Ann", "a rat"), ev.SkillUsed("Ann", "kick", "a rat", True, 1)):
        assert render.is_personal(event)
