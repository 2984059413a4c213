"""Help for a newcomer: groups as topics, spells as topics, the death and level pages, and
"Did you mean ...?" for typos (of commands and of help topics). On the real content."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import events, new_world, starter_content

from world.commands.registry import REGISTRY, Call, allowed, closest, parse_line, tool_schema
from world.entities import Character, Role
from world.errors import Code, Refused
from world.world import World


def help_of(world: World, who: Character, line: str) -> dict[str, Any]:
    refusal = world.perform_line(who, line)
    assert refusal is None, (line, refusal.code, refusal.message)
    shown = events(world.drain(), "help_shown", who.name)
    assert len(shown) == 1
    page: dict[str, Any] = shown[0]
    return page


def refusal_of(world: World, who: Character, line: str) -> Refused:
    refusal = world.perform_line(who, line)
    assert refusal is not None, line
    assert world.drain() == []
    return refusal


@pytest.fixture
def ann() -> tuple[World, Character]:
    world = new_world(3)
    ann = world.enter("Ann", "warrior")
    world.drain()
    return world, ann


def test_every_group_the_index_lists_is_a_topic(ann: tuple[World, Character]) -> None:
    world, who = ann
    index = help_of(world, who, "help")
    groups = list(dict.fromkeys(c["category"] for c in index["commands"]))
    assert {"combat", "shops", "movement", "items"} <= set(groups)
    for group in groups:
        page = help_of(world, who, f"help {group}")
        if group in REGISTRY.words:  # also a command (`group`, `quests`): its page, then
            assert f"The {group} commands:" in page["body"]  # the group's list
            continue
        mine = [c for c in index["commands"] if c["category"] == group]
        assert page == {"topic": group, "commands": mine, "format": "text",
                        "body": page["body"]}
        for c in mine:  # each command with its one-line description
            assert f"{c['name']}  " in page["body"] and c["summary"] in page["body"]


def test_a_group_shows_only_what_the_role_may_use(ann: tuple[World, Character]) -> None:
    world, who = ann
    assert refusal_of(world, who, "help admin").code == Code.NO_HELP
    zed = world.enter("Zed", "mage", role=Role.ADMIN)
    world.drain()
    admin = help_of(world, zed, "help admin")["commands"]
    assert [c["name"] for c in admin] == [s.name for s in REGISTRY.specs.values()
                                          if s.category == "admin" and allowed(s, Role.ADMIN)]


@pytest.mark.parametrize("line", ["help magic missile", "help 'magic missile'",
                                  'help "magic missile"', "help magic_missile",
                                  "help magic miss", "help MAGIC   MISSILE"])
def test_a_spell_is_a_topic(ann: tuple[World, Character], line: str) -> None:
    world, who = ann
    page = help_of(world, who, line)
    spell = starter_content().spells["magic_missile"]
    assert page["topic"] == "magic missile"
    assert page["commands"] == [{"id": "magic_missile", "name": spell.name, "skill": False}]
    assert spell.description in page["body"]
    assert f"{spell.mana} mana" in page["body"] and "Mage at level 1" in page["body"]
    assert "cast 'magic missile' <target>" in page["body"]


def test_skills_and_groups_and_commands_do_not_hide_each_other(
        ann: tuple[World, Character]) -> None:
    world, who = ann
    assert help_of(world, who, "help magic")["commands"][0]["name"] == "cast"  # the group
    assert help_of(world, who, "help bash")["commands"] == [tool_schema(REGISTRY.specs["bash"])]
    dodge = help_of(world, who, "help dodge")
    assert dodge["topic"] == "dodge" and "works by itself" in dodge["body"]
    assert help_of(world, who, "help cure")["topic"] == "cure light"  # the start of a name
    assert help_of(world, who, "help c")["topic"] == "cast"  # `c` is cast


@pytest.mark.parametrize("topic", ["death", "level"])
def test_death_and_level_are_pages_for_newcomers(ann: tuple[World, Character],
                                                 topic: str) -> None:
    world, who = ann
    page = help_of(world, who, f"help {topic}")
    assert page == {"topic": topic, "body": starter_content().help[topic], "commands": [],
                    "format": "markdown"}


def test_the_death_page_tells_the_rules_as_they_are() -> None:
    from world.systems import combat, progression
    body = starter_content().help["death"]
    assert combat.CORPSE_DECAY == 10 * 60 * 10 and "10 minutes" in body
    assert progression.DEATH_PENALTY_PERCENT == 10 and "a tenth of what your level" in body
    assert "never lose a level" in body


def test_the_level_page_quotes_the_level_table() -> None:
    from world import rules
    body = starter_content().help["level"]
    for level in (2, 3, 4, 5, 10, rules.LEVEL_CAP):
        assert f"| {level} | {rules.xp_for_level(level):,}" in body


@pytest.mark.parametrize(("typed", "meant"), [
    ("lok", "'look'"), ("nroth", "'north'"), ("inventroy", "'inventory'"),
    ("scroe", "'score'"), ("eqipment", "'equipment'"),
])
def test_a_typo_gets_did_you_mean(ann: tuple[World, Character], typed: str,
                                  meant: str) -> None:
    world, who = ann
    refusal = refusal_of(world, who, f"{typed} something")
    assert refusal.code == Code.UNKNOWN_COMMAND
    assert f"Did you mean {meant}" in refusal.message
    with pytest.raises(Refused, match=f"Did you mean {meant}"):
        parse_line(typed)


def test_no_suggestion_for_nonsense_and_none_of_what_the_role_may_not_use(
        ann: tuple[World, Character]) -> None:
    world, who = ann
    assert refusal_of(world, who, "xyzzy").message == "Unknown command 'xyzzy'. Type 'help'."
    assert "shutdown" not in refusal_of(world, who, "shutdwn").message
    zed = world.enter("Zed", "mage", role=Role.ADMIN)
    world.drain()
    assert "'shutdown'" in refusal_of(world, zed, "shutdwn").message
    assert world.perform(who, Call("lok")) is not None  # a call names its tool exactly


def test_help_with_a_typo_suggests_a_topic(ann: tuple[World, Character]) -> None:
    world, who = ann
    refusal = refusal_of(world, who, "help inventroy")
    assert refusal.code == Code.NO_HELP and "Did you mean 'inventory'?" in refusal.message
    assert "'newbie'" in refusal_of(world, who, "help nebwie").message
    assert "'combat'" in refusal_of(world, who, "help combta").message
    assert "'magic missile'" in refusal_of(world, who, "help magic misile").message


def test_closest_keeps_only_the_nearly_best() -> None:
    assert closest("lok", ["look", "lock", "unlock", "l"]) == ["look", "lock"]
    assert closest("nroth", ["north", "south", "northeast"]) == ["north"]
    assert closest("xyzzy", ["look", "north"]) == []
