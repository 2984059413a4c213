"""The tool registry: each tool entry's scope and examples (both faces), and the list a
session gets for its role and an API key's categories (`tools_for`)."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from world.commands.registry import (
    REGISTRY,
    Call,
    Registry,
    Text,
    allowed,
    bind_call,
    command,
    example_call,
    parse_line,
    tool_schema,
    tools_for,
)
from world.entities import Role

SPECS = list(REGISTRY.specs.values())


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_tool_has_examples_as_lines_and_calls(spec: Any) -> None:
    tool = tool_schema(spec)
    assert tool["scope"] == spec.category
    assert [e["line"] for e in tool["examples"]] == list(spec.examples)
    assert tool["examples"], f"{spec.name} declares no examples"
    for example in tool["examples"]:
        assert "args" in example, example
        # The structured example does what the typed line does.
        assert bind_call(Call(spec.name, example["args"])) == parse_line(example["line"])


def test_tools_for_filters_by_role_and_categories() -> None:
    everything = [t["name"] for t in tools_for(REGISTRY, Role.ADMIN)]
    assert everything == list(REGISTRY.specs)
    players = [t["name"] for t in tools_for(REGISTRY, Role.PLAYER)]
    assert players == [s.name for s in SPECS if allowed(s, Role.PLAYER)]
    talk = tools_for(REGISTRY, Role.PLAYER, frozenset({"communication"}))
    assert talk and {t["category"] for t in talk} == {"communication"}
    assert tools_for(REGISTRY, Role.PLAYER, frozenset()) == []
    marked = tools_for(REGISTRY, Role.PLAYER, frozenset({"communication"}), every=True)
    assert [t["name"] for t in marked] == players
    assert [t["name"] for t in marked if t["allowed"]] == [t["name"] for t in talk]


def test_an_example_that_does_not_parse_keeps_only_its_line() -> None:
    reg = Registry()

    @command("shout", examples=("shout",), registry=reg)
    def shout(ctx: Any, text: Annotated[Text, "what to shout"]) -> None:
        """Shout."""

    spec = reg.specs["shout"]
    assert example_call(spec, "shout") == {"line": "shout"}
    assert example_call(spec, "shout hey") == {"line": "shout hey", "args": {"text": "hey"}}


def test_a_tool_schema_is_made_once_and_handed_out_as_a_new_map() -> None:
    spec = REGISTRY.specs["say"]
    first, again = tool_schema(spec), tool_schema(spec)
    assert first == again and first is not again
    assert first["parameters"] is again["parameters"]  # made once, the parts shared
    marked = tools_for(REGISTRY, Role.PLAYER, frozenset({"movement"}), every=True)
    assert any(t["name"] == "say" and t["allowed"] is False for t in marked)
    assert "allowed" not in tool_schema(spec)  # a caller's key stays in its own copy
