"""Golden text for eating and drinking, `consider all`'s short lines, and help pages made
plain for people (server/helptext.py: Markdown without its marks)."""

from __future__ import annotations

import pytest

from server import helptext
from server.gateway import render
from world import events as ev


def plain(event: ev.Event, viewer: str) -> str:
    return render.plain(render.render(event, viewer))


BREAD = ev.ItemConsumed("Ann", "a loaf of bread", "bread", "ate", 6, 0, 20, 0, True)
SKIN = ev.ItemConsumed("Ann", "a waterskin", "waterskin", "drank", 0, 0, 15, 3, False)


@pytest.mark.parametrize(("event", "viewer", "text"), [
    (BREAD, "Ann", "You eat a loaf of bread. (+6 hp, +20 moves)"),
    (BREAD, "Bob", "Ann eats a loaf of bread."),
    (SKIN, "Ann", "You drink from a waterskin. (+15 moves) 3 drinks left."),
    (SKIN, "Bob", "Ann drinks from a waterskin."),
    (ev.ItemConsumed("Ann", "a waterskin", "waterskin", "drank", 0, 0, 15, 0, False), "Ann",
     "You drink from a waterskin. (+15 moves) It is empty now."),
    (ev.ItemConsumed("Ann", "a pie", "pie", "ate", 5, 0, 0, 1, False), "Ann",
     "You eat some of a pie. (+5 hp) 1 bite left."),
    (ev.ItemConsumed("Ann", "some fresh water", "", "drank", 0, 0, 10, 0, True), "Ann",
     "You drink some fresh water. (+10 moves)"),
    (ev.ItemConsumed("Ann", "a mug of ale", "ale", "drank", 0, 5, 15, 0, True), "Ann",
     "You drink a mug of ale. (+5 mana, +15 moves)"),
    (ev.ItemFilled("Ann", "a waterskin", "waterskin", 5), "Ann",
     "You fill a waterskin with fresh water (5 drinks)."),
    (ev.ItemFilled("Ann", "a waterskin", "waterskin", 5), "Bob",
     "Ann fills a waterskin with water."),
    (ev.ItemExamined("a waterskin", "waterskin", "A skin.", {
        "type": "drink", "weight": 2, "nourish": {"moves": 15}, "portions": 3,
        "max_portions": 5, "refill": True}, [], 0), "Ann",
     "A waterskin\nA skin.\ndrink, weight 2; each drink: +15 moves, 3 of 5 left, refill at "
     "water (fill)"),
    (ev.ItemExamined("a loaf of bread", "bread", "A loaf.", {
        "type": "food", "weight": 1, "nourish": {"hp": 6, "moves": 20}, "portions": 1,
        "max_portions": 1, "refill": False}, [], 0), "Ann",
     "A loaf of bread\nA loaf.\nfood, weight 1; eat: +6 hp, +20 moves"),
    (ev.Considered("a cellar rat", "mob", "fair", 0, 1, 10, 10, 60, 2.0, 1.0, 5, 20, 120,
                   brief=True), "Ann",
     "A cellar rat (same level as you, worth about 120 XP): fair."),
    (ev.Considered("a wolf", "mob", "risky", 2, 3, 40, 40, 50, 2.0, 3.0, 20, 15, 300,
                   ("a young wolf",), brief=True), "Ann",
     "A wolf (2 levels above you, worth about 300 XP): risky, with 1 more."),
])
def test_golden_lines(event: ev.Event, viewer: str, text: str) -> None:
    assert plain(event, viewer) == text


def test_eating_reads_you_for_the_eater_and_a_name_for_the_others() -> None:
    assert render.is_personal(BREAD) and render.is_personal(
        ev.ItemFilled("Ann", "a waterskin", "waterskin", 5))


MARKDOWN = """# Death

Everyone dies now and then. In **Aegent Quest** death is
a *setback*, never the end.

When your hit points reach 0:

- You leave a **corpse**. Type `get all from corpse`
  to get your things back.
- See [the rules](https://example.org/rules) and `cast 'magic missile' rat`.

| level | total XP |
| --- | --- |
| 2 | 1,000 |
| 10 | 33,634 |

1. First.
2. Second.
"""

PLAIN = """Death

Everyone dies now and then. In Aegent Quest death is a setback, never the end.

When your hit points reach 0:

  - You leave a corpse. Type 'get all from corpse' to get your things back.
  - See the rules (https://example.org/rules) and "cast 'magic missile' rat".

level  total XP
2      1,000
10     33,634

  1. First.
  2. Second."""


def test_a_markdown_page_reads_as_plain_text() -> None:
    assert helptext.markdown_text(MARKDOWN) == PLAIN
    spans = helptext.markdown_spans(MARKDOWN)
    assert spans[0] == ("heading", "Death")  # bold where colour is on, a line of its own
    for mark in ("**", "`", "](", "| ---", "# "):
        assert mark not in helptext.markdown_text(MARKDOWN)


def test_inline_marks_leave_words_alone() -> None:
    assert helptext.inline("snake_case and 2 * 3 * 4 and no_mob") == \
        "snake_case and 2 * 3 * 4 and no_mob"
    assert helptext.inline("Usage: get <item> [from <container>]") == \
        "Usage: get <item> [from <container>]"
    assert helptext.inline("`look` and `say 'hi'`") == "'look' and \"say 'hi'\""


def test_a_help_page_event_is_shown_made_plain() -> None:
    page = ev.HelpShown("death", MARKDOWN, [], "markdown")
    assert plain(page, "Ann") == PLAIN
    untitled = ev.HelpShown("notes", "Some *notes*.", [], "markdown")
    assert plain(untitled, "Ann") == "Help: notes\nSome notes."
    command = ev.HelpShown("look", "Usage: look [target]\n\n`look` shows the room.", [])
    assert plain(command, "Ann") == "Help: look\nUsage: look [target]\n\n'look' shows the room."


def test_the_starter_help_pages_leave_no_markdown_behind() -> None:
    from helpers import starter_content
    for topic, body in starter_content().help.items():
        text = helptext.markdown_text(body)
        for mark in ("**", "`", "](", "\n#", "| ---"):
            assert mark not in text, (topic, mark)
        assert not text.startswith("#"), topic
