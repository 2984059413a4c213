"""Property tests: no input, typed or structured, makes the world raise.

A refusal is an answer, not a crash: `perform_line` and `perform` must return None
or a `Refused` with a known code for anything a client can send.
"""

from __future__ import annotations

from typing import Any

from helpers import new_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from world.commands.registry import REGISTRY, Call, parse_line, split_words
from world.context import split_ordinal
from world.directions import Direction
from world.errors import Code, Refused
from world.world import World

FUZZ = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
CODES = {str(c) for c in Code}

VERBS = sorted(REGISTRY.words)
PARAM_NAMES = sorted({p.name for s in REGISTRY.specs.values() for p in s.params})
# Words that mean something to the commands, to get past the first refusal more often.
MEANINGFUL = [
    "ann", "bob", "me", "self", "map", "key", "2.map", "0.key", "fountain", "board", "notice",
    "at", "in", "room", "here", "all", "door", "gate", "trapdoor", *[d.value for d in Direction],
    *[d.short for d in Direction], "'", '"', ":", ".",
]
# `2.sword` picks the second sword: any digits at all before the dot, even too many.
ordinals = st.builds(
    lambda head, tail: f"{head}.{tail}",
    st.text(st.characters(categories=("Nd", "No")), min_size=1, max_size=4)
    | st.just("1" * 5000),
    st.sampled_from(["map", "key", "bob", "fountain", ""]) | st.text(max_size=4),
)

words = st.one_of(st.sampled_from(MEANINGFUL), ordinals, st.text(max_size=12))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.sampled_from(MEANINGFUL),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=6,
)


def fresh() -> tuple[World, Any, Any]:
    world = new_world(3)
    ann = world.enter("Ann", "warrior")
    bob = world.enter("Bob", "mage")
    world.drain()
    return world, ann, bob


def check(refusal: Refused | None, world: World) -> None:
    assert refusal is None or refusal.code in CODES
    for d in world.drain():
        d.event.to_data()


@FUZZ
@given(st.text())
def test_perform_line_never_raises_on_any_text(line: str) -> None:
    world, ann, _ = fresh()
    check(world.perform_line(ann, line), world)


@FUZZ
@given(st.sampled_from(VERBS), st.lists(words, max_size=4), st.sampled_from([" ", "  ", "\t"]))
def test_perform_line_never_raises_on_real_verbs(verb: str, args: list[str], sep: str) -> None:
    world, ann, bob = fresh()
    line = sep.join([verb, *args])
    check(world.perform_line(ann, line), world)
    # Once more from another room (doors, a trapdoor, other items).
    world.move(bob, "haven:tavern")
    check(world.perform_line(bob, line), world)


@FUZZ
@given(
    st.one_of(st.sampled_from(sorted(REGISTRY.specs)), st.text(max_size=10)),
    st.dictionaries(st.one_of(st.sampled_from(PARAM_NAMES), st.text(max_size=8)),
                    json_values, max_size=4),
)
def test_perform_never_raises_on_any_call(tool: str, args: dict[str, Any]) -> None:
    world, ann, _ = fresh()
    check(world.perform(ann, Call(tool, args)), world)


@FUZZ
@given(st.sampled_from(sorted(REGISTRY.specs)),
       st.fixed_dictionaries({}, optional={n: st.one_of(words, json_values)
                                           for n in PARAM_NAMES}))
def test_perform_never_raises_on_known_argument_names(tool: str, args: dict[str, Any]) -> None:
    world, ann, _ = fresh()
    check(world.perform(ann, Call(tool, args)), world)


@FUZZ
@given(st.sampled_from(["look", "get", "drop", "open", "tell", "look at"]), ordinals)
def test_ordinals_never_crash(verb: str, target: str) -> None:
    world, ann, _ = fresh()
    world.perform_line(ann, "get map")
    check(world.perform_line(ann, f"{verb} {target}"), world)
    nth, word = split_ordinal(target)
    assert nth >= 1
    assert word


@FUZZ
@given(st.text())
def test_split_words_never_crashes_and_never_grows(text: str) -> None:
    word, rest = split_words(text)
    assert len(word) + len(rest) <= len(text)
    assert rest == rest.lstrip()


@FUZZ
@given(st.text())
def test_parse_line_answers_or_refuses(line: str) -> None:
    try:
        spec, args = parse_line(line)
    except Refused as refused:
        assert refused.code in (Code.UNKNOWN_COMMAND, Code.BAD_ARGS)
        return
    assert spec.name in REGISTRY.specs
    assert set(args) <= {p.name for p in spec.params}
