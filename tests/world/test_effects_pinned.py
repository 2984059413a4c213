"""world/systems/effects.py pinned: the effect made from a model, the refresh rule field by
field, the time left told, and who gets the kill of a damage over time.

Expected values are written out by hand from the module's docstring; these were written
to kill the mutants `make mutate` found surviving there (docs/testing.md).
"""

from __future__ import annotations

from random import Random

import pytest
from arena import mob, new_world, player
from helpers import events

from world.entities import Effect
from world.prototypes import EffectModel
from world.systems import effects


class Dice(Random):
    def __init__(self, *answers: int) -> None:
        super().__init__(0)
        self.answers = list(answers)

    def randint(self, a: int, b: int) -> int:
        return self.answers.pop(0)


POISON = EffectModel(name="poison", duration=100, dot="1d4", period=10, mods={"str": -1},
                     flags=["sick"])


@pytest.mark.parametrize(("level", "roll", "dot"), [(1, 3, 3), (4, 3, 4), (7, 3, 4),
                                                    (8, 3, 5), (1, 1, 1)])
def test_an_effect_made_from_its_model(level: int, roll: int, dot: int) -> None:
    world = new_world()
    ann = player(world)
    world.time = 50
    world.rng = Dice(roll)
    made = effects.make_effect(world, POISON, source="poison", caster=ann, level=level)
    assert made == Effect(name="poison", source="poison", until=150, mods={"str": -1},
                          dot=dot, period=10, flags=frozenset({"sick"}), caster="Ann")


def test_the_defaults_of_a_made_effect() -> None:
    world = new_world()
    world.rng = Dice(1)
    made = effects.make_effect(world, EffectModel(name="curse", duration=1, dot="1d1-5"))
    assert (made.source, made.caster, made.until, made.dot) == ("", "", world.time + 1, 1)
    assert effects.make_effect(world, EffectModel(name="mark")).until is None  # no end
    assert effects.make_effect(world, EffectModel(name="mark")).dot == 0


def test_apply_a_model_passes_its_source_and_level() -> None:
    world = new_world()
    ann, rat = player(world), mob(world, "rat")
    world.rng = Dice(2)
    got = effects.apply_effect(world, rat, POISON, ann, source="spit", level=8)
    assert got is not None and (got.source, got.caster, got.dot) == ("spit", "Ann", 4)
    world.rng = Dice(2)
    plain = effects.apply_effect(world, ann, EffectModel(name="x", duration=5, dot="1d4"))
    assert plain is not None and (plain.source, plain.caster, plain.dot) == ("", "", 2)
    assert effects.apply_effect(world, ann, EffectModel(name="flash", duration=0)) is None
    with pytest.raises(ValueError, match="^unknown stacking rule 'pile'$"):
        effects.apply_effect(world, ann, Effect("x"), stacking="pile")


def test_a_refresh_renews_every_field_and_tells_the_time_left() -> None:
    world = new_world()
    ann, bob = player(world), player(world, "Bob")
    world.time = 10
    first = Effect("ward", source="a", until=40, mods={"armor": 1}, dot=1, period=5,
                   flags=frozenset({"x"}), caster="Ann")
    effects.apply_effect(world, ann, first)
    world.drain()
    world.time = 20
    second = Effect("ward", source="b", until=100, mods={"armor": 3}, dot=2, period=7,
                    flags=frozenset({"y"}), caster="Bob")
    assert effects.apply_effect(world, ann, second) is first
    assert first == Effect("ward", source="b", until=100, mods={"armor": 3}, dot=2, period=7,
                           flags=frozenset({"y"}), caster="Bob")
    [started] = events(world.drain(), "effect_started", "Ann")
    assert (started["duration"], started["refreshed"]) == (80, True)
    effects.apply_effect(world, bob, Effect("aura"))  # no end: a duration of 0 is told
    assert events(world.drain(), "effect_started", "Bob")[0]["duration"] == 0
    assert bob.id not in world.affected  # neither ends nor hurts


def test_stacks_renew_the_one_closest_to_its_end_and_never_the_endless() -> None:
    world = new_world()
    ann = player(world)
    endless = Effect("mark", until=None)
    soon = Effect("mark", until=30)
    late = Effect("mark", until=90)
    for e in (endless, soon, late):
        ann.effects.append(e)
    newest = Effect("mark", until=500, caster="Bob")
    assert effects.apply_effect(world, ann, newest, stacking="stack") is soon
    assert (soon.until, endless.until, late.until) == (500, None, 90)


def test_a_damage_over_time_kill_goes_to_its_caster_in_the_room_or_online() -> None:
    world = new_world()
    ann = player(world)
    bob = player(world, "Bob", room="arena:field")
    rat = mob(world, "rat")
    assert effects.caster_of(world, rat, "Ann") is ann  # here
    assert effects.caster_of(world, rat, "Bob") is bob  # elsewhere, but online
    assert effects.caster_of(world, rat, "") is None
    assert effects.caster_of(world, ann, "Ann") is ann  # oneself is found online only
    assert effects.caster_of(world, rat, "Nobody") is None
    goblin = mob(world, "goblin")  # mobs are never online: only the room finds them
    assert effects.caster_of(world, ann, "a goblin") is goblin
    assert effects.caster_of(world, goblin, "a goblin") is None


def test_an_effect_of_one_tick_is_not_instant() -> None:
    world = new_world()
    rat = mob(world, "rat")
    world.time = 40
    got = effects.apply_effect(world, rat, EffectModel(name="blink", duration=1))
    assert got is not None and got.until == 41 and rat.effects == [got]
    assert effects.apply_effect(world, rat, EffectModel(name="flash", duration=0)) is None
