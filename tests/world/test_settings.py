"""Per-character settings: alias, color, prompt; they travel in the snapshot."""

from __future__ import annotations

from helpers import events, new_world

from world.commands.settings import DEFAULT_PROMPT, expand_alias, render_prompt


def test_alias_expands_the_first_word_once() -> None:
    world = new_world()
    ann = world.enter("Ann", "warrior")
    world.drain()
    assert world.perform_line(ann, "alias gn go north") is None
    assert world.perform_line(ann, "alias hi say hello, $* and welcome") is None
    world.drain()
    assert world.perform_line(ann, "gn") is None
    assert events(world.drain(), "room", "Ann")[0]["id"] == "haven:temple_steps"
    world.perform_line(ann, "hi Bob")
    assert events(world.drain(), "said", "Ann")[0]["text"] == "hello, Bob and welcome"
    # An alias is never expanded inside an alias.
    world.perform_line(ann, "alias loop loop")
    refusal = world.perform_line(ann, "loop")
    assert refusal is not None and refusal.code == "unknown_command"
    assert world.perform_line(ann, "unalias gn") is None
    refusal = world.perform_line(ann, "unalias gn")
    assert refusal is not None and refusal.code == "not_here"
    refusal = world.perform_line(ann, "alias alias look")
    assert refusal is not None and refusal.code == "bad_args"


def test_expand_alias_appends_the_rest_without_placeholder() -> None:
    assert expand_alias({"k": "kill"}, "k rat") == "kill rat"
    assert expand_alias({"k": "kill"}, "look") == "look"
    assert expand_alias({"x": "say [$*]"}, "x a b") == "say [a b]"


def test_color_and_prompt_settings() -> None:
    world = new_world()
    ann = world.enter("Ann", "mage")
    world.drain()
    world.perform_line(ann, "color off")
    assert events(world.drain(), "setting_changed") == [{"key": "color", "value": False}]
    world.perform_line(ann, "color")
    assert ann.settings["color"] is True
    assert world.perform_line(ann, "color purple") is not None
    world.perform_line(ann, "prompt %h/%Hhp>")
    assert ann.settings["prompt"] == "%h/%Hhp> "
    world.perform_line(ann, "prompt default")
    assert "prompt" not in ann.settings
    assert events(world.drain(), "setting_changed")[-1]["value"] == DEFAULT_PROMPT


def test_render_prompt_codes() -> None:
    values = {"hp": 5, "max_hp": 9, "mana": 1, "max_mana": 2, "moves": 3, "max_moves": 4,
              "xp": 7, "xp_next": 1000, "level": 2}
    assert render_prompt("%h/%H %m/%M %v/%V %x/%X L%l 100%% %z", values) == \
        "5/9 1/2 3/4 7/1000 L2 100% %z"
    assert render_prompt("trailing %", values) == "trailing %"


def test_settings_and_aliases_survive_a_snapshot() -> None:
    world = new_world()
    ann = world.enter("Ann", "cleric")
    world.perform_line(ann, "alias gn go north")
    world.perform_line(ann, "color off")
    world.perform_line(ann, "prompt %h>")
    snap = world.leave(ann, "quit")
    again = new_world().enter("Ann", "cleric", state=snap)
    assert again.aliases == {"gn": "go north"}
    assert again.settings == {"color": False, "prompt": "%h> "}


def test_width_setting() -> None:
    world = new_world()
    ann = world.enter("Ann", "rogue")
    world.drain()
    assert world.perform_line(ann, "width 40") is None
    assert ann.settings["width"] == 40
    refusal = world.perform_line(ann, "width 5")
    assert refusal is not None and refusal.code == "bad_args"
    world.perform_line(ann, "width off")
    assert ann.settings["width"] == 0  # off: not even the default width
    world.perform_line(ann, "width auto")
    assert "width" not in ann.settings  # the window's size, or the default
